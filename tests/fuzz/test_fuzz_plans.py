"""Fuzzing: random and mutated plan text gives the library's own errors, never others.

Every failure is an `IncentiveError`; every plan diagnostic points inside the file. The
default profile keeps this bounded; ``HYPOTHESIS_PROFILE=nightly`` runs it much longer.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import incentive
from incentive.errors import IncentiveError, PlanError
from tests.helpers import EXAMPLES

PLANS = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*/plan.rules"))]
TOKENS = [
    "plan", "currency", "period", "rounding", "participant", "fields", ":", ",", "measure",
    "component", "=", "sum", "of", "count", "where", "and", "or", "not", "in", "(", ")",
    "capped", "at", "floored", "only", "when", "marginal", "retroactive", "tiers", "against",
    "up", "to", "pays", "and above", "scorecard", "weight", "if", "then", "else", "min",
    "max", "%", "5%", "0", "100", "1.5", "-", "+", "*", "/", '"won"', "2026-07-01", "deal",
    "deal.amount", "quota", "revenue", "\n", "  ", "#", "money", "score 0..100", "date",
    "text", "id", "participant", "..", "/ 0", "1e9", "¥", "，", "\u00a0", "\x00", "\ud800",
]  # fmt: skip


def _check_error(error: IncentiveError, text: str) -> None:
    if isinstance(error, PlanError):
        assert error.diagnostics, "a plan error without a diagnostic"
        lines = text.splitlines() or [""]
        for diagnostic in error.diagnostics:
            span = diagnostic.span
            assert 1 <= span.line <= len(lines) + 1, (span, len(lines))
            assert span.column >= 1
            assert diagnostic.code in incentive.errors.CODES
        assert str(error)


def _load(text: str) -> None:
    try:
        incentive.load_plan(text, filename="fuzz.rules")
    except IncentiveError as error:
        _check_error(error, text)


@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    _load(text)


@given(st.lists(st.sampled_from(TOKENS), max_size=60).map(" ".join))
def test_random_token_soup(text: str) -> None:
    _load('plan "f"\ncurrency CNY\nperiod 2026-07-01 to 2026-09-30\n' + text)


@st.composite
def _mutations(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(PLANS))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        size = draw(st.integers(1, 12))
        if kind == "delete":
            text = text[:where] + text[where + size :]
        elif kind == "insert":
            text = text[:where] + draw(st.sampled_from(TOKENS)) + text[where:]
        elif kind == "replace":
            text = text[:where] + draw(st.sampled_from(TOKENS)) + text[where + size :]
        else:
            text = text[:where] + text[where : where + size] * 2 + text[where + size :]
    return text


@given(_mutations())
def test_mutated_example_plans(text: str) -> None:
    _load(text)


def test_every_example_plan_is_still_valid() -> None:
    for text in PLANS:
        incentive.load_plan(text, filename="example.rules")


def test_example_paths_exist() -> None:
    assert all(Path(p).exists() for p in sorted(EXAMPLES.glob("*/plan.rules")))
