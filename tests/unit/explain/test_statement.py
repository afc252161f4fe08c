"""Statements: every formula line recomputes from the numbers it shows, to the cent."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import incentive
from incentive.errors import display_width
from incentive.explain import format as fmt
from incentive.explain.statement import _zh_number
from tests.helpers import CENT, EXAMPLES, evaluate_shown, formula_lines, shown_number

STATEMENTS = sorted(EXAMPLES.glob("*/expected/statements.*.txt"))


@pytest.mark.parametrize("path", STATEMENTS, ids=lambda p: f"{p.parent.parent.name}-{p.name}")
def test_every_formula_recomputes_from_the_numbers_shown(path: Path) -> None:
    checked = 0
    for left, right in formula_lines(path.read_text(encoding="utf-8")):
        computed = evaluate_shown(left)
        if computed is None:
            continue
        shown, unit = shown_number(right)
        if unit == "%":
            assert abs(computed - shown) <= Decimal("0.00000002"), (left, right)
        else:
            assert computed.quantize(CENT, ROUND_HALF_UP) == shown.quantize(CENT, ROUND_HALF_UP), (
                left,
                right,
            )
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("path", STATEMENTS, ids=lambda p: f"{p.parent.parent.name}-{p.name}")
def test_component_lines_add_up_to_each_total(path: Path) -> None:
    statements = re.split(r"\n(?=\S[^\n]* · )", path.read_text(encoding="utf-8"))
    assert len(statements) >= 3
    for statement in statements:
        lines = statement.strip().splitlines()
        amounts = [
            shown_number(m.group(1))[0]
            for line in lines
            if (m := re.match(r"^(?:\d+\.|[一二三四五六七八九十]+、).*?[:：]\s*(-?¥[\d,.]+)", line))
        ]
        total = shown_number(re.split(r"[:：]", lines[1])[-1].strip())[0]
        assert sum(amounts, Decimal(0)) == total


def test_money_is_formatted_for_people() -> None:
    assert fmt.money(Decimal("12345.6"), "CNY", CENT) == "¥12,345.60"
    assert fmt.money(Decimal("-0.5"), "USD", CENT) == "-$0.50"
    assert fmt.money(Decimal("7"), "CHF", CENT) == "CHF 7.00"


def test_chinese_ordinals() -> None:
    assert [_zh_number(n) for n in (1, 9, 10, 11, 20, 23)] == [
        "一",
        "九",
        "十",
        "十一",
        "二十",
        "二十三",
    ]


def test_percentages_get_the_places_a_large_amount_needs() -> None:
    plan = incentive.load_plan(
        'plan "x"\ncurrency CNY\nperiod 2026-07-01 to 2026-09-30\n'
        "participant fields: quota money, got money\n"
        "measure share = got / quota\ncomponent c = 3000000 * share",
        filename="x.rules",
    )
    row = {"id": "a", "quota": "2100000", "got": "1900000"}
    text = incentive.explain(incentive.evaluate(plan, [row], {}).participants[0])
    assert "× share 90.47619048% = ¥2,714,285.714286" in text
    for left, right in formula_lines(text):
        computed = evaluate_shown(left)
        if computed is not None and "%" not in right:
            shown = shown_number(right)[0]
            assert computed.quantize(CENT, ROUND_HALF_UP) == shown.quantize(CENT, ROUND_HALF_UP)


@given(st.text(max_size=30))
@example("底薪 Base ¥1,200.00 × 3 – ≥ …")
def test_a_line_is_as_wide_as_its_characters_say(text: str) -> None:
    # Wide (W) and full-width (F) characters take two columns, all others one: the
    # alignment of plan-line references in either language rests on it.
    expected = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    assert display_width(text) == expected
