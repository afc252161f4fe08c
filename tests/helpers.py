"""Helpers shared by the tests: paths and golden-file comparison."""

from __future__ import annotations

import itertools
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "rules_examples"
CENT = Decimal("0.01")


def check_golden(path: Path, actual: str, update: bool) -> None:
    """Compare ``actual`` with the golden file byte for byte, or rewrite it."""
    if update or not path.exists():
        if not update:
            pytest.fail(f"golden file {path} is missing; run pytest --update-golden")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"output differs from {path.relative_to(ROOT)}"


# ---- recomputing a statement's formula lines from the numbers they show ------------------
_TERM = re.compile(r"(-?[¥$€£]?-?[\d,]+(?:\.\d+)?%?)|([×÷+−])")


def shown_number(text: str) -> tuple[Decimal, str]:
    unit = "%" if text.endswith("%") else ("money" if "¥" in text else "number")
    value = Decimal(re.sub(r"[¥$€£,%]", "", text))
    return (value / 100 if unit == "%" else value), unit


def evaluate_shown(left: str) -> Decimal | None:
    """Evaluate 'Label ¥1.00 × 3% + …' from the numbers shown, × ÷ before + −."""
    if re.search(r"[()]|capped at|floored at|封顶|保底", left):
        return None  # grouping and caps are not worked out here
    tokens = [m.group(0) for m in _TERM.finditer(left)]
    if (
        not tokens
        or tokens[0] in "×÷+−"
        or any(a not in "×÷+−" and b not in "×÷+−" for a, b in itertools.pairwise(tokens))
    ):
        return None
    terms: list[Decimal] = []
    signs: list[int] = [1]
    current = shown_number(tokens[0])[0]
    for op, operand in zip(tokens[1::2], tokens[2::2], strict=True):
        value = shown_number(operand)[0]
        if op == "×":
            current *= value
        elif op == "÷":
            current /= value
        else:
            terms.append(current)
            signs.append(1 if op == "+" else -1)
            current = value
    terms.append(current)
    return sum((s * t for s, t in zip(signs, terms, strict=True)), Decimal(0))


def formula_lines(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        body = re.sub(r"\s+[（(](?:plan line|规则第)\s*\d+\s*行?[)）]$", "", line.strip())
        if body.count(" = ") != 1 or not re.search(r"[×÷]|\+", body):
            continue
        left, right = body.split(" = ")
        left = left.split("：")[-1].split(": ")[-1]
        right = right.split("；")[0].split(";")[0].rstrip("。.")
        if re.fullmatch(r"-?¥?[\d,]+(\.\d+)?%?", right):
            out.append((left, right))
    return out


def unrecomputable(text: str) -> list[tuple[str, str]]:
    """The formula lines of a statement whose shown result does not follow, to the cent
    (or to the last shown place of a percentage), from the numbers they show."""
    wrong = []
    for left, right in formula_lines(text):
        computed = evaluate_shown(left)
        if computed is None:
            continue
        shown, unit = shown_number(right)
        if unit == "%":
            places = len(right.rstrip("%").partition(".")[2])
            ok = abs(computed - shown) <= Decimal(2) / 10 ** (places + 2)
        else:
            ok = computed.quantize(CENT, ROUND_HALF_UP) == shown.quantize(CENT, ROUND_HALF_UP)
        if not ok:
            wrong.append((left, right))
    return wrong
