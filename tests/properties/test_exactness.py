"""Components are computed exactly and rounded once, like Fraction arithmetic says.

The classic traps: a prorated base ``base_monthly × 3 × days ÷ 92`` and a bonus
``10000 × (revenue ÷ quota) × weight``.  Plans are built from text, inputs are random or
constructed so the exact amount is a half-cent tie, and each component must equal the
exact value rounded by the plan's rule (the oracle in `tests.strategies`).
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from math import gcd

from hypothesis import example, given
from hypothesis import strategies as st

import incentive
from incentive.money import RoundingMode
from tests.strategies import (
    CENT,
    Row,
    cents,
    cents_text,
    half_up_cents,
    money_texts,
    quotas,
    round_to,
    rounding_modes,
)

HEADER = """plan "Exactness"
currency CNY
period 2026-07-01 to 2026-09-30
"""


def _rounding(mode: RoundingMode | None) -> str:
    return "" if mode is None else f"rounding {mode} to 0.01 per component\n"


def _run(text: str, participants: list[Row], deals: list[Row] | None = None) -> incentive.RunResult:
    plan = incentive.load_plan(text, filename="exactness.rules")
    return incentive.evaluate(plan, participants, {} if deals is None else {"deal": deals})


def _expected(exact: Fraction, mode: RoundingMode | None) -> Fraction:
    """The amount the plan must pay: half-up unless the plan names another mode."""
    return half_up_cents(exact) if mode is None else round_to(exact, CENT, mode)


def _is_half_cent_tie(value: Fraction) -> bool:
    return (value / CENT - Fraction(1, 2)).denominator == 1


#: The plan's multiplication and division signs: ASCII or typographic.
OPS = st.sampled_from([("*", "/"), ("×", "÷")])


def _ops(draw: st.DrawFn) -> tuple[str, str]:
    """The plan's multiplication and division signs: ASCII or typographic."""
    return draw(OPS)


# ---- prorated base: base_monthly × months × days ÷ period days ----------------------
def _proration_plan(
    months: int, period_days: int, mode: RoundingMode | None, ops: tuple[str, str]
) -> str:
    times, over = ops
    return (
        HEADER
        + _rounding(mode)
        + "participant fields:\n    base_monthly money,\n    days count\n"
        + f'component prorated "Prorated base" = '
        f"base_monthly {times} {months} {times} days {over} {period_days}\n"
    )


@st.composite
def proration_cases(draw: st.DrawFn) -> tuple[str, list[Row], list[Fraction], RoundingMode | None]:
    """A proration plan, random participants, and each one's exact amount."""
    months = draw(st.integers(1, 12))
    period_days = draw(st.sampled_from([28, 30, 31, 90, 91, 92, 365, 366]))
    mode = draw(st.one_of(st.none(), rounding_modes()))
    text = _proration_plan(months, period_days, mode, _ops(draw))
    rows: list[Row] = []
    exact: list[Fraction] = []
    for index in range(draw(st.integers(1, 8))):
        base = draw(cents(0, 10**9))
        days = draw(st.integers(0, period_days))
        rows.append({"id": f"P-{index}", "base_monthly": cents_text(base), "days": str(days)})
        exact.append(Fraction(base, 100) * months * days / period_days)
    return text, rows, exact, mode


@given(proration_cases())
def test_proration_is_exact(
    case: tuple[str, list[Row], list[Fraction], RoundingMode | None],
) -> None:
    text, rows, exact, mode = case
    result = _run(text, rows)
    for row, value in zip(rows, exact, strict=True):
        paid = result.participant(row["id"])
        assert paid.amount("prorated") == _expected(value, mode)
        assert paid.total == paid.amount("prorated")


@st.composite
def proration_ties(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """(months, period days, days, base in cents) whose prorated pay ends in half a cent.

    The pay in cents is ``base·m·d / P``; it is k + ½ exactly when ``2·base·m·d = P·odd``.
    With g = gcd(2md, P) that holds for base = (P/g)·j, j odd, whenever 2md/g is odd.
    """
    months, period_days, days = draw(
        st.tuples(
            st.integers(1, 12), st.sampled_from([30, 60, 90, 92, 184, 360]), st.integers(1, 366)
        )
        .filter(lambda t: t[2] <= t[1])
        .filter(lambda t: (2 * t[0] * t[2] // gcd(2 * t[0] * t[2], t[1])) % 2 == 1)
    )
    g = gcd(2 * months * days, period_days)
    odd = 2 * draw(st.integers(0, 5 * 10**6)) + 1
    return months, period_days, days, period_days // g * odd


@given(tie=proration_ties(), mode=st.one_of(st.none(), rounding_modes()), ops=OPS)
@example(tie=(3, 92, 1, 46), mode=None, ops=("*", "/"))  # ¥0.46 × 3 × 1 ÷ 92 = ¥0.015
def test_proration_half_cent_ties(
    tie: tuple[int, int, int, int], mode: RoundingMode | None, ops: tuple[str, str]
) -> None:
    months, period_days, days, base = tie
    exact = Fraction(base, 100) * months * days / period_days
    assert _is_half_cent_tie(exact)  # the construction itself
    text = _proration_plan(months, period_days, mode, ops)
    row = {"id": "P-1", "base_monthly": cents_text(base), "days": str(days)}
    assert _run(text, [row]).participant("P-1").amount("prorated") == _expected(exact, mode)


#: Minor units of a few currencies, for plans that do not name a rounding quantum.
MINOR_UNITS: dict[str, Decimal] = {
    "CNY": Decimal("0.01"),
    "USD": Decimal("0.01"),
    "JPY": Decimal("1"),
    "KWD": Decimal("0.001"),
}


@given(
    currency=st.sampled_from(sorted(MINOR_UNITS)),
    rounding=st.one_of(
        st.none(),
        st.tuples(rounding_modes(), st.sampled_from(["0.001", "0.01", "0.1", "1", "10"])),
    ),
    base=cents(0, 10**9),
    days=st.integers(0, 92),
)
def test_rounding_line_and_currency_set_the_quantum(
    currency: str, rounding: tuple[RoundingMode, str] | None, base: int, days: int
) -> None:
    mode: RoundingMode = "half_up" if rounding is None else rounding[0]
    quantum = MINOR_UNITS[currency] if rounding is None else Decimal(rounding[1])
    line = "" if rounding is None else f"rounding {mode} to {rounding[1]} per component\n"
    text = (
        f'plan "Quantum"\ncurrency {currency}\nperiod 2026-07-01 to 2026-09-30\n{line}'
        "participant fields: base_monthly money, days count\n"
        "component prorated = base_monthly * 3 * days / 92\n"
    )
    row = {"id": "P-1", "base_monthly": cents_text(base), "days": str(days)}
    paid = _run(text, [row]).participant("P-1")
    exact = Fraction(base, 100) * 3 * days / 92
    assert paid.amount("prorated") == round_to(exact, Fraction(quantum), mode)
    # Amounts and totals are written to the quantum's places (¥12.30, JP¥1,234).
    exponent = quantum.as_tuple().exponent
    assert paid.amount("prorated").as_tuple().exponent == exponent
    assert paid.total.as_tuple().exponent == exponent


# ---- attainment bonus: 10000 × (revenue ÷ quota) × weight ---------------------------------
ATTAINMENT_PLAN = (
    HEADER
    + "{rounding}participant fields:\n    quota money,\n    revenue money,\n"
    + "    bonus_weight percent\n"
    + "component bonus = 10000 {times} (revenue {over} quota) {times} bonus_weight\n"
)


def _attainment_plan(mode: RoundingMode | None, ops: tuple[str, str]) -> str:
    return ATTAINMENT_PLAN.format(rounding=_rounding(mode), times=ops[0], over=ops[1])


def _percent_text(hundredths: int) -> str:
    """Hundredths of a percent as text: 3725 → '37.25%'."""
    return cents_text(hundredths) + "%"


@st.composite
def attainment_cases(
    draw: st.DrawFn,
) -> tuple[str, list[Row], list[Fraction], RoundingMode | None]:
    """An attainment-bonus plan with random participants and each one's exact bonus."""
    mode = draw(st.one_of(st.none(), rounding_modes()))
    text = _attainment_plan(mode, _ops(draw))
    rows: list[Row] = []
    exact: list[Fraction] = []
    for index in range(draw(st.integers(1, 8))):
        quota = draw(quotas(10**10))
        revenue = draw(money_texts(0, 10**10))
        weight = draw(st.integers(0, 10_000))
        rows.append(
            {
                "id": f"P-{index}",
                "quota": quota,
                "revenue": revenue,
                "bonus_weight": _percent_text(weight),
            }
        )
        exact.append(10000 * (Fraction(revenue) / Fraction(quota)) * Fraction(weight, 10_000))
    return text, rows, exact, mode


@given(attainment_cases())
def test_attainment_bonus_is_exact(
    case: tuple[str, list[Row], list[Fraction], RoundingMode | None],
) -> None:
    text, rows, exact, mode = case
    result = _run(text, rows)
    for row, value in zip(rows, exact, strict=True):
        assert result.participant(row["id"]).amount("bonus") == _expected(value, mode)


@st.composite
def attainment_ties(draw: st.DrawFn) -> tuple[int, int, int]:
    """(revenue cents r, quota cents q, weight in whole percent p) paying k + ½ cents.

    The bonus is ``100·r·p / q`` yuan.  With r = o₁·s and q = 20000·s·p / o₂ (o₁ odd, o₂ a
    divisor of 625 = the odd part of 20000) it is o₁·o₂ / 200 yuan: an odd number of
    half cents.
    """
    odd = 2 * draw(st.integers(0, 10**5)) + 1
    share = draw(st.integers(1, 10**6))
    percent = draw(st.integers(1, 200))
    divisor = draw(st.sampled_from([1, 5, 25, 125, 625]))
    return odd * share, 20000 * share * percent // divisor, percent


@given(tie=attainment_ties(), mode=st.one_of(st.none(), rounding_modes()))
@example(tie=(1, 20_000, 1), mode=None)  # 10000 × (¥0.01 ÷ ¥200) × 1% = ¥0.005
def test_attainment_bonus_half_cent_ties(
    tie: tuple[int, int, int], mode: RoundingMode | None
) -> None:
    revenue, quota, percent = tie
    exact = 10000 * Fraction(revenue, quota) * Fraction(percent, 100)
    assert _is_half_cent_tie(exact)
    row = {
        "id": "P-1",
        "quota": cents_text(quota),
        "revenue": cents_text(revenue),
        "bonus_weight": f"{percent}%",
    }
    result = _run(_attainment_plan(mode, ("*", "/")), [row])
    assert result.participant("P-1").amount("bonus") == _expected(exact, mode)


DEALS_PLAN = (
    HEADER
    + "participant fields: quota money\n"
    + "deal fields: deal_id id, owner participant, amount money\n"
    + "measure revenue = sum of deal.amount\n"
    + "measure attainment = revenue / quota\n"
    + "component bonus = 10000 * attainment * {weight}%\n"
)


@given(tie=attainment_ties(), data=st.data())
def test_bonus_from_summed_deals_half_cent_ties(
    tie: tuple[int, int, int], data: st.DataObject
) -> None:
    revenue, quota, percent = tie
    # Split the revenue into deals; the sum is exact, so the tie survives.
    cuts = sorted(data.draw(st.lists(st.integers(0, revenue), max_size=5), label="cuts"))
    bounds = [0, *cuts, revenue]
    deals = [
        {"deal_id": f"D-{n}", "owner": "P-1", "amount": cents_text(high - low)}
        for n, (low, high) in enumerate(pairwise(bounds))
    ]
    exact = 10000 * Fraction(revenue, quota) * Fraction(percent, 100)
    row = {"id": "P-1", "quota": cents_text(quota)}
    result = _run(DEALS_PLAN.format(weight=percent), [row], deals)
    assert result.participant("P-1").amount("bonus") == half_up_cents(exact)


@given(
    case=st.one_of(proration_cases(), attainment_cases()),
    precision=st.integers(1, 8),
)
def test_callers_decimal_context_changes_nothing(
    case: tuple[str, list[Row], list[Fraction], RoundingMode | None], precision: int
) -> None:
    text, rows, exact, mode = case
    # A caller's context with few digits and truncation must not reach the engine.
    context = decimal.Context(prec=precision, rounding=decimal.ROUND_DOWN)
    with decimal.localcontext(context):
        result = _run(text, rows)
    for row, value in zip(rows, exact, strict=True):
        paid = result.participant(row["id"])
        assert paid.amount(paid.components[0].name) == _expected(value, mode)
        assert paid.total == paid.components[0].amount
    assert result.total == sum((p.total for p in result.participants), Decimal(0))


# ---- size: exact up to the engine's limits, or refused with E602 -------------------------
@given(
    base=st.integers(10**20, 10**36),
    days=st.integers(1, 92),
)
@example(base=10**28 + 1, days=92)
def test_large_amounts_are_exact_or_refused(base: int, days: int) -> None:
    text = _proration_plan(3, 92, None, ("*", "/"))
    row = {"id": "P-1", "base_monthly": cents_text(base), "days": str(days)}
    exact = Fraction(base, 100) * 3 * days / 92
    refused: list[str] = []
    try:
        paid = _run(text, [row]).participant("P-1")
    except incentive.EvaluationError as error:
        refused = [p.code for p in error.problems]
    if refused:
        # Refusing is fine, with the code that says a number outgrew the limits.
        assert refused == ["E602"]
        return
    assert paid.amount("prorated") == half_up_cents(exact)
    assert paid.total == paid.amount("prorated")
