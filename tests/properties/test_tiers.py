"""Tier tables: marginal pay is continuous and never falls; retroactive pays the reached rate.

Tables are written as plan text (attainment tiers ``against quota`` and amount tiers with
money bounds); each payout is compared with a Fraction oracle of the tier arithmetic.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Literal

from hypothesis import given
from hypothesis import strategies as st

import incentive
from tests.strategies import Row, cents, cents_text, half_up_cents

Mode = Literal["marginal", "retroactive"]
#: (lower bound, upper bound or None for the open tier, rate): bounds are shares of quota
#: for attainment tiers and amounts for amount tiers.
Table = list[tuple[Fraction, Fraction | None, Fraction]]

ATTAINMENT_TABLE: Table = [
    (Fraction(0), Fraction(1, 2), Fraction(2, 100)),
    (Fraction(1, 2), Fraction(1), Fraction(5, 100)),
    (Fraction(1), Fraction(3, 2), Fraction(8, 100)),
    (Fraction(3, 2), None, Fraction(12, 100)),
]
AMOUNT_TABLE: Table = [
    (Fraction(0), Fraction(100_000), Fraction(2, 100)),
    (Fraction(100_000), Fraction(250_000), Fraction(5, 100)),
    (Fraction(250_000), Fraction(500_000), Fraction(8, 100)),
    (Fraction(500_000), None, Fraction(12, 100)),
]
MAX_RATE = Decimal("0.12")
HEADER = """plan "Tiers"
currency CNY
period 2026-07-01 to 2026-09-30
participant fields:
    quota money,
    revenue money
"""


def _number(value: Fraction) -> str:
    return f"{Decimal(value.numerator) / Decimal(value.denominator):f}"


def _plan(mode: Mode, table: Table, *, against: bool) -> str:
    """Plan text for ``table``; percentages when measured against quota, else amounts."""

    def bound(value: Fraction) -> str:
        return _number(value * 100) + "%" if against else _number(value)

    rows = []
    for lower, upper, rate in table:
        pays = _number(rate * 100) + "%"
        if upper is None:
            rows.append(f"    {bound(lower)} and above pays {pays}")
        else:
            rows.append(f"    {bound(lower)} up to {bound(upper)} pays {pays}")
    target = " against quota" if against else ""
    return (
        HEADER
        + f"component commission = {mode} tiers of revenue{target}:\n"
        + "\n".join(rows)
        + "\n"
    )


def _oracle(mode: Mode, table: Table, revenue: Fraction, scale: Fraction) -> Fraction:
    """Exact tier pay; ``scale`` is the quota for attainment tiers and 1 for amounts."""
    if mode == "marginal":
        total = Fraction(0)
        for lower, upper, rate in table:
            top = revenue if upper is None else min(revenue, upper * scale)
            total += rate * max(Fraction(0), top - lower * scale)
        return total
    # A tier runs from its lower bound (included) up to its upper bound (excluded).
    reached = [rate for lower, _, rate in table if revenue >= lower * scale]
    return reached[-1] * revenue


def _pay(text: str, quota: str, revenues: list[int]) -> list[Decimal]:
    """Each revenue's commission, all in one run (one participant per revenue)."""
    rows: list[Row] = [
        {"id": f"R-{n}", "quota": quota, "revenue": cents_text(r)} for n, r in enumerate(revenues)
    ]
    result = incentive.evaluate(incentive.load_plan(text, filename="tiers.rules"), rows, {})
    return [result.participant(row["id"]).amount("commission") for row in rows]


@st.composite
def revenues_near_bounds(draw: st.DrawFn, quota_cents: int, table: Table, against: bool) -> int:
    """Revenue in cents, often a few cents from a tier boundary (or exactly on it)."""
    scale = Fraction(quota_cents) if against else Fraction(100)
    bounds = [round(lower * scale) for lower, _, _ in table]
    near = st.builds(lambda b, d: max(0, b + d), st.sampled_from(bounds), st.integers(-300, 300))
    top = int(max(bounds) * 2 + 10_000)
    return draw(st.one_of(near, st.integers(0, top), cents(0, 10**11)))


@st.composite
def tier_setups(draw: st.DrawFn) -> tuple[bool, int, Table]:
    """(against quota?, quota in cents, table) for the two fixed tables."""
    against = draw(st.booleans())
    quota = draw(cents(1, 10**10))
    return against, quota, ATTAINMENT_TABLE if against else AMOUNT_TABLE


# ---- marginal -------------------------------------------------------------------------
@given(setup=tier_setups(), data=st.data())
def test_marginal_pay_matches_oracle_and_is_continuous(
    setup: tuple[bool, int, Table], data: st.DataObject
) -> None:
    against, quota, table = setup
    revenue = data.draw(revenues_near_bounds(quota, table, against), label="revenue")
    text = _plan("marginal", table, against=against)
    low, high = _pay(text, cents_text(quota), [revenue, revenue + 1])
    scale = Fraction(quota, 100) if against else Fraction(1)
    assert low == half_up_cents(_oracle("marginal", table, Fraction(revenue, 100), scale))
    # One more cent of revenue earns at most one cent × the top rate, plus rounding.
    assert Decimal(0) <= high - low <= Decimal("0.01") * MAX_RATE + Decimal("0.01")


@given(setup=tier_setups(), data=st.data())
def test_marginal_pay_never_decreases(setup: tuple[bool, int, Table], data: st.DataObject) -> None:
    against, quota, table = setup
    revenues = sorted(
        data.draw(
            st.lists(revenues_near_bounds(quota, table, against), min_size=2, max_size=12),
            label="revenues",
        )
    )
    pays = _pay(_plan("marginal", table, against=against), cents_text(quota), revenues)
    assert pays == sorted(pays)


def test_marginal_pay_never_decreases_cent_by_cent() -> None:
    # A ¥1 quota puts all three attainment boundaries within ¥0–¥2: sweep every cent.
    pays = _pay(_plan("marginal", ATTAINMENT_TABLE, against=True), "1.00", list(range(201)))
    steps = [b - a for a, b in pairwise(pays)]
    assert min(steps) >= 0
    assert max(steps) <= Decimal("0.01") * MAX_RATE + Decimal("0.01")


# ---- retroactive ----------------------------------------------------------------------
@given(setup=tier_setups(), data=st.data())
def test_retroactive_pays_reached_rate_on_everything(
    setup: tuple[bool, int, Table], data: st.DataObject
) -> None:
    against, quota, table = setup
    revenues = data.draw(
        st.lists(revenues_near_bounds(quota, table, against), min_size=1, max_size=8),
        label="revenues",
    )
    pays = _pay(_plan("retroactive", table, against=against), cents_text(quota), revenues)
    scale = Fraction(quota, 100) if against else Fraction(1)
    for revenue, pay in zip(revenues, pays, strict=True):
        assert pay == half_up_cents(_oracle("retroactive", table, Fraction(revenue, 100), scale))
    # With rates that only rise, more revenue never pays less.
    ordered = [p for _, p in sorted(zip(revenues, pays, strict=True))]
    assert ordered == sorted(ordered)


# ---- random tables --------------------------------------------------------------------
@st.composite
def tables(draw: st.DrawFn, against: bool) -> Table:
    """A valid table: contiguous bounds from 0, the last open; any rates in 0..30%."""
    count = draw(st.integers(1, 5))
    # Steps of whole percents of quota, or of cents.
    widths = st.integers(1, 80) if against else cents(1, 10**8)
    steps = draw(st.lists(widths, min_size=count - 1, max_size=count - 1))
    bounds = [Fraction(0)]
    for step in steps:
        bounds.append(bounds[-1] + Fraction(step, 100))
    rates = draw(st.lists(st.integers(0, 3000), min_size=count, max_size=count))
    return [
        (
            bounds[i],
            bounds[i + 1] if i + 1 < count else None,
            Fraction(rates[i], 10_000),
        )
        for i in range(count)
    ]


@given(
    mode=st.sampled_from(["marginal", "retroactive"]),
    against=st.booleans(),
    quota=cents(1, 10**9),
    data=st.data(),
)
def test_random_tables_match_oracle(
    mode: Mode, against: bool, quota: int, data: st.DataObject
) -> None:
    table = data.draw(tables(against), label="table")
    revenues = data.draw(
        st.lists(revenues_near_bounds(quota, table, against), min_size=1, max_size=8),
        label="revenues",
    )
    pays = _pay(_plan(mode, table, against=against), cents_text(quota), revenues)
    scale = Fraction(quota, 100) if against else Fraction(1)
    for revenue, pay in zip(revenues, pays, strict=True):
        assert pay == half_up_cents(_oracle(mode, table, Fraction(revenue, 100), scale))
    if mode == "marginal":  # non-negative rates: marginal pay never falls
        ordered = [p for _, p in sorted(zip(revenues, pays, strict=True))]
        assert ordered == sorted(ordered)
