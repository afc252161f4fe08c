"""Hypothesis strategies shared by the property tests.

Money is drawn as whole cents and written as text with two decimals, the way input rows
carry it; exact values are `Decimal` or `Fraction`; rows fit the account-executive plan.
Also the Fraction oracle of the rounding rule, written independently of `incentive.money`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Final

from hypothesis import strategies as st

from incentive.money import RoundingMode

ROUNDING_MODES: Final[tuple[RoundingMode, ...]] = (
    "half_up",
    "half_even",
    "half_down",
    "up",
    "down",
    "ceiling",
    "floor",
)
#: The account-executive example's period.
PERIOD_START: Final = dt.date(2026, 7, 1)
PERIOD_END: Final = dt.date(2026, 9, 30)
CENT: Final = Fraction(1, 100)
STATUSES: Final = ("won", "lost", "cancelled", "open", "Won")

Row = dict[str, str]


# ---- the oracle -----------------------------------------------------------------------
def round_to(value: Fraction, quantum: Fraction, mode: RoundingMode) -> Fraction:
    """``value`` rounded to a multiple of ``quantum``: the reference for `money.quantize`.

    Works on the magnitude and puts the sign back, so that "up"/"down"/"half_*" read as in
    their definitions (away from / toward zero), while ceiling and floor use the signed value.
    """
    steps = value / quantum
    if mode == "ceiling":
        return math.ceil(steps) * quantum
    if mode == "floor":
        return math.floor(steps) * quantum
    sign = -1 if steps < 0 else 1
    magnitude = abs(steps)
    below = math.floor(magnitude)
    rest = magnitude - below
    half = Fraction(1, 2)
    if rest == 0 or mode == "down":
        whole = below
    elif mode == "up" or rest > half:
        whole = below + 1
    elif rest < half or mode == "half_down":
        whole = below
    elif mode == "half_up":
        whole = below + 1
    else:  # half_even: a tie goes to the even neighbour
        whole = below if below % 2 == 0 else below + 1
    return sign * whole * quantum


def half_up_cents(value: Fraction) -> Fraction:
    """The payroll rule: half-up to the cent."""
    return round_to(value, CENT, "half_up")


def terminates(value: Fraction) -> bool:
    """True when ``value`` has a finite decimal expansion."""
    den = value.denominator
    for prime in (2, 5):
        while den % prime == 0:
            den //= prime
    return den == 1


def cents_text(cents: int) -> str:
    """Whole cents as a decimal string with two places: 1205 → '12.05'."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def money_value(text: str) -> Fraction:
    """The exact value of a money string."""
    return Fraction(Decimal(text))


def decimal_of(numerator: int, places: int) -> Decimal:
    """``numerator × 10^-places`` as an exact Decimal (no context rounding)."""
    return Decimal(f"{numerator}E-{places}")


# ---- numbers --------------------------------------------------------------------------
def cents(min_cents: int = 0, max_cents: int = 10**11) -> st.SearchStrategy[int]:
    """Whole cents, biased toward small amounts but reaching large ones."""
    return st.one_of(
        st.integers(min_cents, min(max_cents, max(min_cents, 10_000))),
        st.integers(min_cents, max_cents),
    )


def money_texts(min_cents: int = 0, max_cents: int = 10**11) -> st.SearchStrategy[str]:
    """Money as input rows carry it: a string with exactly two decimals."""
    return cents(min_cents, max_cents).map(cents_text)


def quotas(max_cents: int = 10**11) -> st.SearchStrategy[str]:
    """A quota: money strictly above zero."""
    return money_texts(1, max_cents)


def scores(low: int, high: int, places: int = 1) -> st.SearchStrategy[str]:
    """A score within ``low..high``, written with up to ``places`` decimals."""
    scale = 10**places
    return st.integers(low * scale, high * scale).map(
        lambda n: f"{decimal_of(n, places).normalize():f}"
    )


def quanta() -> st.SearchStrategy[Decimal]:
    """Rounding quanta a plan may name: powers of ten."""
    return st.sampled_from(
        [Decimal(q) for q in ("0.0001", "0.001", "0.01", "0.1", "1", "10", "1E+2")]
    )


def rounding_modes() -> st.SearchStrategy[RoundingMode]:
    """Every rounding mode the language knows."""
    return st.sampled_from(ROUNDING_MODES)


def exact_decimals(max_abs: int = 10**40, max_places: int = 12) -> st.SearchStrategy[Decimal]:
    """Signed decimals, from tiny ones to about 50 significant digits (the limit is 60)."""
    return st.builds(decimal_of, st.integers(-max_abs, max_abs), st.integers(0, max_places))


@st.composite
def exact_fractions(draw: st.DrawFn, max_abs: int = 10**30) -> Fraction:
    """Signed fractions whose denominators mix powers of 2 and 5 with 3, 7, 11 and 23.

    Some terminate (a pure 2ᵃ·5ᵇ denominator, even a long one) and some do not, as a
    division such as ``revenue / quota`` or ``× days / 92`` produces.
    """
    numerator = draw(st.integers(-max_abs, max_abs))
    twos = draw(st.integers(0, 80))
    fives = draw(st.integers(0, 30))
    others = draw(st.sampled_from([1, 1, 3, 7, 11, 23, 92, 3 * 7 * 11]))
    return Fraction(numerator, 2**twos * 5**fives * others)


def exact_values() -> st.SearchStrategy[Decimal | Fraction]:
    """What the engine computes with: a Decimal, or a Fraction after a division."""
    return st.one_of(exact_decimals(), exact_fractions())


@st.composite
def half_ties(draw: st.DrawFn, quantum: Decimal) -> Fraction:
    """A signed value exactly halfway between two multiples of ``quantum``."""
    steps = draw(st.integers(-(10**15), 10**15))
    return (steps + Fraction(1, 2)) * Fraction(quantum)


# ---- dates and statuses -----------------------------------------------------------------
def dates_in_period() -> st.SearchStrategy[dt.date]:
    """Days inside the example period, its first and last days included."""
    return st.one_of(
        st.sampled_from([PERIOD_START, PERIOD_END]),
        st.dates(PERIOD_START, PERIOD_END),
    )


def dates_outside_period() -> st.SearchStrategy[dt.date]:
    """Days outside the period, with the days just before and after it."""
    before = PERIOD_START - dt.timedelta(days=1)
    after = PERIOD_END + dt.timedelta(days=1)
    return st.one_of(
        st.sampled_from([before, after]),
        st.dates(dt.date(2025, 1, 1), before),
        st.dates(after, dt.date(2027, 12, 31)),
    )


def statuses() -> st.SearchStrategy[str]:
    """Deal statuses; only the exact text "won" counts."""
    return st.sampled_from(STATUSES)


# ---- rows for the account-executive plan ------------------------------------------------
@dataclass(frozen=True)
class Deal:
    """A deal row and what the engine should make of it."""

    row: Row
    valid: bool
    """False when the loader should reject the row: a bad value, an unknown or rejected
    owner, or the id of a row it kept before."""


@dataclass(frozen=True)
class Population:
    """Participants and deals for one run of the account-executive plan."""

    participants: list[Row]
    deals: list[Deal]
    rejected: frozenset[str] = frozenset()
    """Ids of participants whose rows are built to be rejected."""
    unpaid: frozenset[str] = frozenset()
    """Ids of valid participants the plan cannot evaluate (a zero quota)."""

    @property
    def deal_rows(self) -> list[Row]:
        """The deal rows as passed to `evaluate`."""
        return [deal.row for deal in self.deals]


@st.composite
def participant_rows(draw: st.DrawFn, ids: list[str]) -> list[Row]:
    """One valid participant row per id for the account-executive plan."""
    return [
        {
            "id": pid,
            "name": f"Rep {pid}",
            "quota": draw(quotas(10**10)),
            "base_monthly": draw(money_texts(0, 10**8)),
            "csat": draw(scores(0, 100)),
            "collaboration": draw(scores(0, 5)),
        }
        for pid in ids
    ]


_BAD_VALUES: Final = (
    ("amount", "12,5O"),
    ("amount", "-5.00"),
    ("amount", "1e5"),
    ("closed_on", "2026-13-01"),
    ("closed_on", "30/09/2026"),
    ("owner", "R-999"),
)


_BAD_PARTICIPANT_VALUES: Final = (
    ("csat", "101"),
    ("collaboration", "5.1"),
    ("quota", "-1.00"),
    ("quota", "abc"),
    ("base_monthly", "1,000.00"),
)
_DealSpec = tuple[str, Row, tuple[str, str] | None, int | None]


@st.composite
def _deal_specs(draw: st.DrawFn, owners: list[str], invalid: bool) -> _DealSpec:
    """(id, fields, a bad value or None, which earlier row's id to reuse or None)."""
    # D-7, D-07 and D-007 are different ids whose numbers are equal, so nothing may order
    # records by their number alone.
    deal_id = f"D-{'0' * draw(st.integers(0, 2))}{draw(st.integers(1, 12))}"
    fields = {
        "owner": draw(st.sampled_from(owners)),
        "amount": draw(money_texts(0, 10**9)),
        "closed_on": draw(st.one_of(dates_in_period(), dates_outside_period())).isoformat(),
        "status": draw(statuses()),
    }
    bad = copy = None
    if invalid and draw(st.integers(0, 5)) == 0:
        bad = draw(st.sampled_from(_BAD_VALUES))
    if invalid and draw(st.integers(0, 7)) == 0:
        copy = draw(st.integers(0, 100))
    return deal_id, fields, bad, copy


@st.composite
def deals(
    draw: st.DrawFn, owners: list[str], invalid: bool, max_size: int, rejected: frozenset[str]
) -> list[Deal]:
    """Up to ``max_size`` deals owned by ``owners``, in the period or not.

    Ids are unique unless ``invalid``; then some rows carry a bad value, an unknown owner or
    the id of an earlier row, and ``Deal.valid`` says whether the loader should keep each.
    A deal owned by one of the ``rejected`` participants has no owner to credit.
    """
    specs = draw(
        st.lists(_deal_specs(owners, invalid), max_size=max_size, unique_by=lambda s: s[0])
    )
    out: list[Deal] = []
    kept: set[str] = set()
    for deal_id, fields, bad, copy in specs:
        row = {"deal_id": deal_id, **fields}
        if copy is not None and out:
            row["deal_id"] = out[copy % len(out)].row["deal_id"]
        if bad is not None:
            row[bad[0]] = bad[1]
        # The first valid row with an id is kept; a later valid one is a duplicate.
        valid = bad is None and row["owner"] not in rejected and row["deal_id"] not in kept
        if valid:
            kept.add(row["deal_id"])
        out.append(Deal(row, valid))
    return out


def credited_revenue(deals: list[Deal], participant_id: str) -> Fraction:
    """What the example plan's revenue measure should sum for one participant."""
    return sum(
        (
            Fraction(deal.row["amount"])
            for deal in deals
            if deal.valid
            and deal.row["owner"] == participant_id
            and deal.row["status"] == "won"
            and PERIOD_START <= dt.date.fromisoformat(deal.row["closed_on"]) <= PERIOD_END
        ),
        Fraction(0),
    )


#: Attainments where the example plan changes behaviour: tier bounds and the bonus gate.
BOUNDARIES: Final = (Fraction(1, 2), Fraction(4, 5), Fraction(1), Fraction(3, 2))


@st.composite
def populations(
    draw: st.DrawFn, max_participants: int = 6, max_deals: int = 16, invalid: bool = False
) -> Population:
    """Participants R-1…R-n and deals credited to them, in the period or not.

    With ``invalid``, some participant and deal rows are built to be rejected (see `deals`),
    among them participants with a zero quota, which the plan declares positive.

    Some quotas are set after the deals so that attainment lands exactly on a tier bound
    or on the bonus gate (when that quota is a whole number of cents).
    """
    count = draw(st.integers(1, max_participants))
    ids = [f"R-{n}" for n in range(1, count + 1)]
    people = draw(participant_rows(ids))
    rejected: set[str] = set()
    unpaid: set[str] = set()
    for person in people:
        if invalid and draw(st.integers(0, 5)) == 0:
            field, value = draw(st.sampled_from(_BAD_PARTICIPANT_VALUES))
            person[field] = value
            rejected.add(person["id"])
        elif invalid and draw(st.integers(0, 7)) == 0:
            # The plan declares quota 'positive money', so a zero quota is a rejected row.
            person["quota"] = "0.00"
            rejected.add(person["id"])
    records = draw(deals(ids, invalid, max_deals, frozenset(rejected)))
    for person in people:
        if person["id"] in rejected | unpaid or not draw(st.booleans()):
            continue
        quota = credited_revenue(records, person["id"]) / draw(st.sampled_from(BOUNDARIES))
        if quota > 0 and (quota * 100).denominator == 1:
            person["quota"] = cents_text(int(quota * 100))
    return Population(people, records, frozenset(rejected), frozenset(unpaid))
