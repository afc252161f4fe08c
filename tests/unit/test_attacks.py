"""Rule files are data: the attacks an untrusted plan author might try are all refused.

Each case is refused by the library's own error with a position; none reaches Python
internals, a file or the network, or runs without bound.  (How long each takes is
measured by `pytest --durations`, not asserted here.)
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from pathlib import Path

import pytest

import incentive
from incentive.errors import EvaluationError, PlanError

HEADER = 'plan "t"\ncurrency CNY\nperiod 2026-07-01 to 2026-09-30\n'
FIELDS = (
    "participant fields: quota money\ndeal fields: deal_id id, owner participant, amount money\n"
)

ATTACKS = {
    "import": "component c = __import__('os').system('id')",
    "eval": 'component c = eval("1")',
    "exec": 'component c = exec("import os")',
    "open-file": 'component c = open("/etc/passwd")',
    "subclasses": "component c = ().__class__.__bases__[0].__subclasses__()",
    "dunder-field": "component c = (sum of deal.__class__)",
    "dunder-name": "component c = __builtins__",
    "attribute-chain": "component c = quota.real.imag",
    "lambda": "component c = lambda: 1",
    "comprehension": "component c = [x for x in quota]",
    "f-string": 'component c = f"{quota}"',
    "power": "component c = 10 ** 100000",
    "exponent-literal": "component c = 1e999999999",
    "hex-literal": "component c = 0x10",
    "huge-literal": "component c = " + "9" * 5000,
    "huge-text": 'component c "' + "x" * 300 + '" = 1',
    "multi-megabyte-comment": "component c = 1 # " + "x" * 3_000_000,
    "multi-megabyte-text": 'component c "' + "x" * 2_000_000 + '" = 1',
    "multi-megabyte-number": "component c = " + "1" * 2_000_000,
    "deep-parentheses": "component c = " + "(" * 10_000 + "1" + ")" * 10_000,
    "deep-negation": "component c = " + "-" * 10_000 + "1",
    "long-chain": "component c = " + "+".join(["1"] * 20_000),
    "nul-byte": "component c = 1\x00",
    "semicolon": "component c = 1; import os",
    "backslash-escape": 'component c = "\\x41"',
    "url": "component c = https://example.invalid/x",
    "lookalike-name": "component c = quotа * 1%",
    "fullwidth-name": "component c = ｑｕｏｔａ * 1%",
}


@pytest.mark.parametrize("text", list(ATTACKS.values()), ids=list(ATTACKS))
def test_attack_is_refused_with_a_position(text: str) -> None:
    with pytest.raises(PlanError) as info:
        incentive.load_plan(HEADER + FIELDS + text, filename="attack.rules")
    diagnostic = info.value.diagnostics[0]
    assert diagnostic.code in incentive.errors.CODES
    assert diagnostic.span.file == "attack.rules"
    assert diagnostic.span.line >= 1


def test_invalid_utf8_bytes_are_refused(tmp_path: Path) -> None:
    plan = tmp_path / "bad.rules"
    plan.write_bytes(HEADER.encode() + b"component c = \xff\xfe 1\n")
    with pytest.raises(PlanError) as info:
        incentive.load_plan(plan)
    assert info.value.diagnostics[0].code == "P100"


def test_numbers_cannot_grow_without_bound() -> None:
    squares = "\n".join(f"measure m{i} = m{i - 1} * m{i - 1}" for i in range(1, 40))
    plan = incentive.load_plan(
        HEADER
        + FIELDS
        + "measure m0 = quota / quota / 3\n"
        + squares
        + "\ncomponent c = quota * m39",
        filename="attack.rules",
    )
    with pytest.raises(EvaluationError) as info:
        incentive.evaluate(plan, [{"id": "R-1", "quota": "7.00"}], {"deal": []})
    assert info.value.problems[0].code == "E602"


def test_the_callers_decimal_context_changes_nothing() -> None:
    plan = incentive.load_plan(
        HEADER + FIELDS + "component c = quota * 12.345%", filename="attack.rules"
    )
    with decimal.localcontext(decimal.Context(prec=3)):
        result = incentive.evaluate(plan, [{"id": "R-1", "quota": "1000000"}], {"deal": []})
    assert result.total == Decimal("123450.00")
