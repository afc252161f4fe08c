"""Teams: pools, credit splits, rankings and exchange rates across a population.

A team pool is rounded once and shared in whole quanta by largest remainder; split and
overlay credits add up exactly; a ranking depends on the values and the declared tie
rules only, never on the order of the input rows; converting each record and then
summing is summing the converted records.  Each property is checked against an oracle
written with `Fraction` and `int` only, on random teams, weights, deals and rates.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Final, Literal

from hypothesis import given
from hypothesis import strategies as st

import incentive
from incentive.engine.trace import PoolStep, RankStep, Step
from incentive.money import RoundingMode
from tests.strategies import (
    PERIOD_END,
    PERIOD_START,
    Row,
    cents,
    cents_text,
    decimal_of,
    half_up_cents,
    round_to,
    rounding_modes,
)

HEADER: Final = (
    'plan "Teams"\ncurrency CNY\nperiod 2026-07-01 to 2026-09-30\n'
    "rounding half_up to 0.01 per component\n\n"
)
#: Participant ids, some in a different order as text than by number (R-9, R-10).
IDS: Final = ("R-9", "R-10", "R-2", "A-7", "Z-1", "R-1", "B-30", "B-4")
TEAMS: Final = ("North", "South", "East")
#: A member's tie keys in the oracle: numbers, and the id in the order ids compare.
TieKey = tuple[int | tuple[str, int], ...]


def _id_order(pid: str) -> tuple[str, int]:
    """Ids in the order "the smaller id first" means: by number, R-9 before R-10."""
    prefix, _, number = pid.partition("-")
    return prefix, int(number)


def _exact(value: object) -> Fraction:
    """An engine value as a Fraction (a Decimal, or a Fraction after a division)."""
    assert isinstance(value, Decimal | Fraction), value
    return Fraction(value)


def _body(result: incentive.ParticipantResult, component: str) -> Step:
    trace = next(c for c in result.trace.components if c.name == component)
    assert trace.body is not None
    return trace.body


# ---- 1. team pools ------------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    """A participant of the pool plan; money and weights in hundredths."""

    pid: str
    team: str
    pot: int
    weight: int
    seniority: int

    def row(self) -> Row:
        return {
            "id": self.pid,
            "name": f"Rep {self.pid}",
            "team": self.team,
            "pot": cents_text(self.pot),
            "weight": cents_text(self.weight),
            "seniority": str(self.seniority),
        }


#: The tie clauses a pool may declare, with the oracle's key for each member.
POOL_TIES: Final[dict[str, Callable[[Member], TieKey]]] = {
    "": lambda m: (),
    " ties by id": lambda m: (),
    " ties by seniority highest first": lambda m: (-m.seniority,),
    " ties by seniority lowest first then id": lambda m: (m.seniority,),
}


@dataclass(frozen=True)
class PoolCase:
    members: list[Member]
    rate: int
    """Hundredths of a percent: the pool is rate × the team's pot."""
    quantum: str
    mode: RoundingMode
    equally: bool
    ties: str

    def plan(self) -> str:
        share = "equally" if self.equally else "by weight"
        return (
            'plan "Pool"\ncurrency CNY\nperiod 2026-07-01 to 2026-09-30\n'
            f"rounding {self.mode} to {self.quantum} per component\n\n"
            "participant fields: team text, pot money, weight number, seniority number\n\n"
            "measure team_pot = sum of pot within team\n"
            f"component share = pool of {cents_text(self.rate)}% * team_pot within team\n"
            f"    shared {share}{self.ties}\n"
        )


@st.composite
def pool_cases(draw: st.DrawFn) -> PoolCase:
    """Members of up to three teams.  Weights are all zero, small whole numbers (so that
    remainders are often equal), or any hundredths; seniority takes few values so that
    it too ties."""
    ids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=len(IDS), unique=True))
    weight_kind = draw(st.sampled_from(["zero", "small", "any"]))
    weights = {
        "zero": st.just(0),
        "small": st.integers(0, 3).map(lambda n: n * 100),
        "any": cents(0, 10**8),
    }[weight_kind]
    members = [
        Member(
            pid,
            draw(st.sampled_from(TEAMS)),
            draw(cents(0, 10**9)),
            draw(weights),
            draw(st.integers(0, 2)),
        )
        for pid in ids
    ]
    return PoolCase(
        members,
        draw(st.integers(1, 10_000)),
        draw(st.sampled_from(["0.01", "0.1", "1"])),
        draw(rounding_modes()),
        draw(st.booleans()),
        draw(st.sampled_from(list(POOL_TIES))),
    )


def _exact_shares(amount: Fraction, weights: Sequence[Fraction]) -> list[Fraction]:
    """``amount`` in proportion to ``weights``; equally when they are all zero."""
    total = sum(weights, Fraction(0))
    if total == 0:
        return [amount / len(weights)] * len(weights)
    return [amount * weight / total for weight in weights]


def _largest_remainder(
    units: int, weights: Sequence[Fraction], keys: Sequence[TieKey]
) -> list[int]:
    """``units`` shared in proportion to ``weights``: each takes the floor of its exact
    share, and the units left over go one each to the largest remainders, ties by
    ``keys`` (which end with the id)."""
    exact = _exact_shares(Fraction(units), weights)
    whole = [math.floor(share) for share in exact]
    order = sorted(range(len(exact)), key=lambda i: (whole[i] - exact[i], keys[i]))
    for index in order[: units - sum(whole)]:
        whole[index] += 1
    return whole


@given(pool_cases())
def test_pool_parts_add_up_to_the_rounded_pool_by_largest_remainder(case: PoolCase) -> None:
    """Each team's pool (rate × its members' pots, rounded by the plan's rule) is paid out
    exactly: whole quanta adding up to the pool, each part within one quantum of its exact
    share, the leftover units to the largest remainders, ties by the declared keys and
    then the id; all weights zero share the pool equally."""
    plan = incentive.load_plan(case.plan(), filename="pool.rules")
    result = incentive.evaluate(plan, [m.row() for m in case.members], {})
    quantum = Fraction(case.quantum)
    tie_key = POOL_TIES[case.ties]
    for team in {m.team for m in case.members}:
        members = [m for m in case.members if m.team == team]
        pool_exact = Fraction(case.rate, 10_000) * sum(Fraction(m.pot, 100) for m in members)
        pool = round_to(pool_exact, quantum, case.mode)
        weights = [Fraction(1) if case.equally else Fraction(m.weight, 100) for m in members]
        keys = [(*tie_key(m), _id_order(m.pid)) for m in members]
        units = _largest_remainder(int(pool / quantum), weights, keys)

        parts = [Fraction(result.participant(m.pid).amount("share")) for m in members]
        assert parts == [share * quantum for share in units]
        assert sum(parts) == pool
        for part, exact in zip(parts, _exact_shares(pool, weights), strict=True):
            assert abs(part - exact) < quantum
        for member in members:
            step = _body(result.participant(member.pid), "share")
            assert isinstance(step, PoolStep)
            assert Fraction(step.pool) == pool
            assert step.equal_fallback == (not case.equally and not any(weights))


# ---- 2. credit splits and overlays --------------------------------------------------------
SPLIT_PLAN: Final = (
    HEADER
    + "deal fields: deal_id id, owner participant, amount money\n"
    + "credit fields: deal_id credit for deal, rep participant, share percent, "
    + "overlay yes or no\n\n"
    + "measure revenue = sum of deal.amount\n"
    + "component commission = revenue * 4%\n"
)
REPS: Final = ("R-1", "R-2", "R-3", "R-4")
#: A share is drawn in millionths (0.0001%): 1_000_000 is 100%.
WHOLE: Final = 1_000_000


@dataclass(frozen=True)
class Credit:
    deal: str
    rep: str
    share: int
    """Millionths."""
    overlay: bool

    def row(self, flag: str) -> Row:
        return {
            "deal_id": self.deal,
            "rep": self.rep,
            "share": f"{decimal_of(self.share, 4):f}%",
            "overlay": flag,
        }


@dataclass(frozen=True)
class SplitCase:
    deals: list[tuple[str, str, int]]
    """(deal id, owner, amount in cents)."""
    credits: list[Credit]
    flags: list[str]
    """How each credit row writes its overlay flag."""


@st.composite
def _split(draw: st.DrawFn, total: int) -> list[int]:
    """``total`` cut into 1 to 5 positive parts."""
    count = draw(st.integers(1, min(5, total)))
    cuts = draw(
        st.lists(st.integers(1, total - 1), min_size=count - 1, max_size=count - 1, unique=True)
    )
    bounds = [0, *sorted(cuts), total]
    return [b - a for a, b in itertools.pairwise(bounds)]


@st.composite
def split_cases(draw: st.DrawFn) -> SplitCase:
    """Deals split between 1 to 5 reps (a rep may appear twice), some credited whole to
    their owner, some with overlays on top."""
    deals = [
        (f"D-{n}", draw(st.sampled_from(REPS)), draw(cents(0, 10**9)))
        for n in range(draw(st.integers(1, 6)))
    ]
    credits: list[Credit] = []
    for deal_id, _, _ in deals:
        if draw(st.booleans()):
            continue  # no rows: the owner is credited the whole deal
        for part in draw(_split(WHOLE)):
            credits.append(Credit(deal_id, draw(st.sampled_from(REPS)), part, False))
        # Overlays come only with a split here: a deal with overlay rows alone loses its
        # owner's credit (see the xfail test in tests/unit/engine/test_teams.py).
        for _ in range(draw(st.integers(0, 2))):
            share = draw(st.one_of(st.just(WHOLE), st.integers(1, WHOLE)))
            credits.append(Credit(deal_id, draw(st.sampled_from(REPS)), share, True))
    credits = draw(st.permutations(credits))
    flags = [
        draw(st.sampled_from(["yes", "Y", "true"] if c.overlay else ["no", "n", ""]))
        for c in credits
    ]
    return SplitCase(deals, credits, flags)


@given(split_cases())
def test_split_credits_add_up_to_the_deals_and_their_overlays(case: SplitCase) -> None:
    """Σ credited revenue = Σ deal amounts + Σ overlay amounts, exactly; each rep's
    revenue is Σ amount × share over their rows (their own deals whole when a deal has no
    rows); every deal and every row of credit is counted."""
    plan = incentive.load_plan(SPLIT_PLAN, filename="split.rules")
    people = [{"id": rep, "name": rep} for rep in REPS]
    deal_rows = [
        {"deal_id": d, "owner": owner, "amount": cents_text(amount)}
        for d, owner, amount in case.deals
    ]
    credit_rows = [c.row(flag) for c, flag in zip(case.credits, case.flags, strict=True)]
    result = incentive.evaluate(plan, people, {"deal": deal_rows, "credit": credit_rows})

    expected = dict.fromkeys(REPS, Fraction(0))
    overlays = Fraction(0)
    for deal_id, owner, amount_cents in case.deals:
        amount = Fraction(amount_cents, 100)
        rows = [c for c in case.credits if c.deal == deal_id]
        if not any(not c.overlay for c in rows):
            expected[owner] += amount
        for credit in rows:
            credited = amount * Fraction(credit.share, WHOLE)
            expected[credit.rep] += credited
            if credit.overlay:
                overlays += credited
    revenue = {
        rep: _exact(result.participant(rep).trace.measures["revenue"].step.value) for rep in REPS
    }
    assert sum(revenue.values()) == sum(Fraction(a, 100) for _, _, a in case.deals) + overlays
    assert revenue == expected
    for rep in REPS:
        assert result.participant(rep).amount("commission") == half_up_cents(
            expected[rep] * Fraction(4, 100)
        )
    statuses = [(d.kind, d.status) for d in result.dispositions]
    assert sorted(statuses) == sorted(
        [("deal", "counted")] * len(case.deals) + [("credit", "counted")] * len(case.credits)
    )
    assert result.records.read == len(case.deals) + len(case.credits)


# ---- 3. rankings ------------------------------------------------------------------------
DAYS: Final = (dt.date(2026, 7, 1), dt.date(2026, 8, 14), dt.date(2026, 9, 30))


@dataclass(frozen=True)
class Seller:
    """A participant of the ranking plan and the deals they own."""

    pid: str
    team: str
    deals: tuple[tuple[int, dt.date], ...]
    """(amount in cents, closing day)."""

    @property
    def revenue(self) -> Fraction:
        return sum((Fraction(a, 100) for a, _ in self.deals), Fraction(0))

    @property
    def last_win(self) -> dt.date:
        # Of no deals the latest day is the period's first (the README's rule).
        return max((day for _, day in self.deals), default=PERIOD_START)


#: The tie clauses a ranking may declare, with the oracle's key for each member (the id
#: is a key only when declared: otherwise equal values share a rank).
RANK_TIES: Final[dict[str, Callable[[Seller], TieKey]]] = {
    "": lambda rep: (),
    ", ties by id": lambda rep: (_id_order(rep.pid),),
    ", ties by last_win earliest first": lambda rep: (rep.last_win.toordinal(),),
    ", ties by last_win latest first then id": lambda rep: (
        -rep.last_win.toordinal(),
        _id_order(rep.pid),
    ),
}


@dataclass(frozen=True)
class RankCase:
    sellers: list[Seller]
    order: Literal["highest", "lowest"]
    ties: str
    public: bool
    top: int

    def plan(self) -> str:
        public = ", public" if self.public else ""
        return (
            HEADER
            + "participant fields: team text\n"
            + "deal fields: deal_id id, owner participant, amount money, closed_on date\n\n"
            + "measure revenue = sum of deal.amount\n"
            + "measure last_win = maximum of deal.closed_on\n"
            + f"ranking top = revenue {self.order} first within team{self.ties}{public}\n"
            + f"component honor = 100 only when top in top {self.top}\n"
        )

    def people(self) -> list[Row]:
        return [{"id": s.pid, "name": s.pid, "team": s.team} for s in self.sellers]

    def deals(self) -> list[Row]:
        rows: list[Row] = []
        for seller in self.sellers:
            for amount, day in seller.deals:
                rows.append(
                    {
                        "deal_id": f"D-{len(rows)}",
                        "owner": seller.pid,
                        "amount": cents_text(amount),
                        "closed_on": day.isoformat(),
                    }
                )
        return rows


@st.composite
def rank_cases(draw: st.DrawFn) -> RankCase:
    """Sellers of two teams with few distinct amounts and days, so that values
    and tie keys often agree; some sellers have no deals or deals of zero."""
    ids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=len(IDS), unique=True))
    deal = st.tuples(st.sampled_from([0, 10_000, 20_000]), st.sampled_from(DAYS))
    sellers = [
        Seller(pid, draw(st.sampled_from(TEAMS[:2])), tuple(draw(st.lists(deal, max_size=2))))
        for pid in ids
    ]
    return RankCase(
        sellers,
        draw(st.sampled_from(["highest", "lowest"])),
        draw(st.sampled_from(list(RANK_TIES))),
        draw(st.booleans()),
        draw(st.integers(1, 4)),
    )


@dataclass(frozen=True)
class Place:
    rank: int | None
    ranked: int
    above: tuple[int, str] | None
    below: tuple[int, str] | None
    """The neighbours in display order: (rank, id)."""


def _places(case: RankCase) -> dict[str, Place]:
    """Competition ranking (1, 2, 2, 4) of the sellers above zero within each team, by
    the value and then the declared tie keys; the display order breaks what is left by id."""
    out: dict[str, Place] = {}
    sign = -1 if case.order == "highest" else 1
    for team in {s.team for s in case.sellers}:
        members = [s for s in case.sellers if s.team == team]
        ranked = [s for s in members if s.revenue > 0]
        key = {s.pid: (sign * s.revenue, *RANK_TIES[case.ties](s)) for s in ranked}
        rank = {p: 1 + sum(1 for other in key.values() if other < k) for p, k in key.items()}
        shown = sorted(ranked, key=lambda s: (key[s.pid], _id_order(s.pid)))
        for index, seller in enumerate(shown):
            above = shown[index - 1].pid if index > 0 else None
            below = shown[index + 1].pid if index + 1 < len(shown) else None
            out[seller.pid] = Place(
                rank[seller.pid],
                len(ranked),
                None if above is None else (rank[above], above),
                None if below is None else (rank[below], below),
            )
        for seller in members:
            out.setdefault(seller.pid, Place(None, len(ranked), None, None))
    return out


def _rank_step(result: incentive.ParticipantResult) -> RankStep:
    honor = next(c for c in result.trace.components if c.name == "honor")
    step = honor.gates[0].expr
    assert isinstance(step, RankStep)
    return step


@given(rank_cases(), st.data())
def test_rankings_follow_the_values_and_tie_rules_not_the_order_of_rows(
    case: RankCase, data: st.DataObject
) -> None:
    """Ranks, neighbours, honor payouts and statements are the same whatever the order
    of the participant and deal rows, and agree with the oracle: revenue above zero only,
    competition ranks, the top N paid (all who share rank N too)."""
    plan = incentive.load_plan(case.plan(), filename="ranking.rules")
    people, deals = case.people(), case.deals()
    first = incentive.evaluate(plan, people, {"deal": deals})
    shuffled = incentive.evaluate(
        plan,
        data.draw(st.permutations(people)),
        {"deal": data.draw(st.permutations(deals))},
    )
    for pid, place in _places(case).items():
        paid = first.participant(pid)
        step = _rank_step(paid)
        assert (step.rank, step.ranked) == (place.rank, place.ranked)
        assert paid.amount("honor") == (
            100 if place.rank is not None and place.rank <= case.top else 0
        )
        neighbours = [
            None if n is None else (n.rank, n.participant_id) for n in (step.above, step.below)
        ]
        if case.public:
            assert neighbours == [place.above, place.below]
        else:
            assert neighbours == [
                None if n is None else (n[0], None) for n in (place.above, place.below)
            ]
        again = shuffled.participant(pid)
        assert _rank_step(again) == step
        assert again.components == paid.components
        for lang in ("en", "zh"):
            assert incentive.explain(again, lang=lang) == incentive.explain(paid, lang=lang)


# ---- 4. exchange rates ------------------------------------------------------------------
CURRENCIES: Final = ("USD", "EUR")


@dataclass(frozen=True)
class RateRow:
    first: dt.date
    last: dt.date
    rates: dict[str, int]
    """Ten-thousandths of a yuan per unit of each currency."""


@dataclass(frozen=True)
class Sale:
    owner: str
    amount: int
    """Cents."""
    currency: str
    day: dt.date


def _exchange_plan(rows: Sequence[RateRow]) -> str:
    table = "".join(
        f"    from {row.first.isoformat()} to {row.last.isoformat()}: "
        + ", ".join(f"{code} {decimal_of(rate, 4)}" for code, rate in row.rates.items())
        + "\n"
        for row in rows
    )
    return (
        HEADER
        + "deal fields: deal_id id, owner participant,\n"
        + "    amount money converted from currency on closed_on, currency text, "
        + "closed_on date\n\n"
        + "exchange rates:\n"
        + table
        + "\nmeasure revenue = sum of deal.amount\n"
        + "component pay = revenue\n"
    )


def _sale_rows(sales: Sequence[Sale]) -> list[Row]:
    return [
        {
            "deal_id": f"D-{index}",
            "owner": sale.owner,
            "amount": cents_text(sale.amount),
            "currency": sale.currency,
            "closed_on": sale.day.isoformat(),
        }
        for index, sale in enumerate(sales)
    ]


@st.composite
def rate_tables(draw: st.DrawFn) -> list[RateRow]:
    """Rows covering the period, cut at random days, each with a rate per currency."""
    length = (PERIOD_END - PERIOD_START).days + 1
    cuts = sorted(draw(st.lists(st.integers(1, length - 1), unique=True, max_size=4)))
    firsts = [PERIOD_START + dt.timedelta(days=cut) for cut in (0, *cuts)]
    lasts = [day - dt.timedelta(days=1) for day in firsts[1:]] + [PERIOD_END]
    rate = st.integers(1, 200_000)
    return [
        RateRow(first, last, {code: draw(rate) for code in CURRENCIES})
        for first, last in zip(firsts, lasts, strict=True)
    ]


def _rate_on(table: Sequence[RateRow], code: str, day: dt.date) -> Fraction:
    [row] = [row for row in table if row.first <= day <= row.last]
    return Fraction(row.rates[code], 10_000)


@given(rate_tables(), st.data())
def test_converting_then_summing_is_summing_the_converted_records(
    table: list[RateRow], data: st.DataObject
) -> None:
    """Revenue is Σ amount × the rate of the row covering each deal's day, exactly;
    deals in yuan or with no currency are not converted; the pay rounds that once."""
    sales = data.draw(
        st.lists(
            st.builds(
                Sale,
                st.sampled_from(REPS[:2]),
                cents(0, 10**9),
                st.sampled_from(["USD", "EUR", "CNY", ""]),
                st.dates(PERIOD_START, PERIOD_END),
            ),
            max_size=12,
        )
    )
    plan = incentive.load_plan(_exchange_plan(table), filename="exchange.rules")
    people = [{"id": rep, "name": rep} for rep in REPS[:2]]
    result = incentive.evaluate(plan, people, {"deal": _sale_rows(sales)})
    for rep in REPS[:2]:
        converted = sum(
            (
                Fraction(s.amount, 100)
                * (_rate_on(table, s.currency, s.day) if s.currency in CURRENCIES else 1)
                for s in sales
                if s.owner == rep
            ),
            Fraction(0),
        )
        paid = result.participant(rep)
        assert _exact(paid.trace.measures["revenue"].step.value) == converted
        assert paid.amount("pay") == half_up_cents(converted)
    assert [d.status for d in result.dispositions] == ["counted"] * len(sales)


@given(
    st.integers(1, 200_000),
    st.lists(st.tuples(cents(0, 10**9), st.dates(PERIOD_START, PERIOD_END)), max_size=12),
)
def test_one_rate_times_the_sum_is_the_sum_of_the_converted_amounts(
    rate: int, deals: list[tuple[int, dt.date]]
) -> None:
    """With one rate for the whole period, rate × Σ originals = Σ (amount × rate)."""
    table = [RateRow(PERIOD_START, PERIOD_END, {"USD": rate, "EUR": 1})]
    sales = [Sale("R-1", amount, "USD", day) for amount, day in deals]
    plan = incentive.load_plan(_exchange_plan(table), filename="exchange.rules")
    result = incentive.evaluate(plan, [{"id": "R-1", "name": "R-1"}], {"deal": _sale_rows(sales)})
    revenue = _exact(result.participant("R-1").trace.measures["revenue"].step.value)
    originals = sum((Fraction(amount, 100) for amount, _ in deals), Fraction(0))
    assert revenue == Fraction(rate, 10_000) * originals
