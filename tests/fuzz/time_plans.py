"""Random plans that live on a calendar, the rows they are run on, and an oracle for them.

A `TimeCase` is a plan using sub-periods (`per month|week|quarter|year|segment of`), a rate
schedule and a money schedule, seasonality weights, employment with `prorated`, quotas
weighted by days, `days from` and `within period`, with participants and records dated
around the edges where a rule off by one day would pay the wrong amount.  The oracle
recomputes every component, measure and record's fate with `datetime` and `Fraction`; it
imports nothing from the package.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, Literal

from hypothesis import strategies as st

from tests.strategies import cents_text, half_up_cents

ONE_DAY: Final = dt.timedelta(days=1)
Span = tuple[dt.date, dt.date]
WindowKind = Literal["month", "week", "quarter", "year", "segment"]
Shape = Literal["stage", "rate", "scheduled", "tiers", "count", "prorated", "quota", "allowance"]
Status = Literal["counted", "excluded", "rejected"]

#: The plan periods drawn from, each for a calendar quirk it has.
PERIODS: Final[tuple[Span, ...]] = (
    # 2026 Q3: ISO weeks 27 to 39; week 27 begins on 29 June, and week 40 (from
    # 28 September) belongs to Q4.
    (dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
    # 2027 Q1: 90 days and only 12 ISO weeks (1 January 2027 is the Friday of 2026-W53).
    (dt.date(2027, 1, 1), dt.date(2027, 3, 31)),
    # 2026 Q4: 14 ISO weeks, the last one 2026-W53 ending on 3 January 2027.
    (dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
    # Cut mid-month: a July of 17 days.
    (dt.date(2026, 7, 15), dt.date(2026, 9, 30)),
    # Cut mid-month at both ends, across a quarter end.
    (dt.date(2026, 8, 17), dt.date(2026, 11, 13)),
    # Across a year end: two quarters and two years, each cut.
    (dt.date(2026, 11, 16), dt.date(2027, 2, 14)),
)
WINDOW_KINDS: Final[tuple[WindowKind, ...]] = ("month", "week", "quarter", "year", "segment")
#: Rules that read no record: their windows need no measure of revenue or of deals won.
NO_RECORDS: Final[frozenset[Shape]] = frozenset({"prorated", "allowance"})
#: Fixed amounts of the whole-period rules, in yuan.
BONUS_BASE: Final = 5000
LOYALTY_PAY: Final = 500


# ---- the calendar, from datetime alone --------------------------------------------------
def days_of(span: Span | None) -> int:
    """Days of an inclusive range, both ends counted; 0 for None or an empty range."""
    return 0 if span is None else max(0, (span[1] - span[0]).days + 1)


def meet(a: Span | None, b: Span | None) -> Span | None:
    """The days two inclusive ranges share, or None."""
    if a is None or b is None:
        return None
    first, last = max(a[0], b[0]), min(a[1], b[1])
    return (first, last) if first <= last else None


def each_day(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start
    while day <= end:
        yield day
        day += ONE_DAY


def _unit(kind: WindowKind, day: dt.date) -> str:
    if kind == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if kind == "quarter":
        return f"{day.year:04d}-Q{(day.month + 2) // 3}"
    return f"{day.year:04d}"


@dataclass(frozen=True)
class Window:
    """A sub-period as the oracle sees it: its key, its days, the day that decides which
    weights it takes (a week's Thursday, else its first day), and how many days `prorated`
    divides by (a whole calendar month, quarter or year even where the period cuts it)."""

    key: str
    start: dt.date
    end: dt.date
    decider: dt.date
    whole_days: int

    @property
    def span(self) -> Span:
        return self.start, self.end


# ---- what a case is made of -------------------------------------------------------------
@dataclass(frozen=True)
class Rate:
    """A schedule row from ``first`` to ``last``: a rate in hundredths of a percent, or an
    amount in cents."""

    first: dt.date
    last: dt.date
    value: int


@dataclass(frozen=True)
class Person:
    id: str
    hired: dt.date
    left: dt.date | None
    base: int
    """Cents."""
    target: int
    """Annual target, cents."""


@dataclass(frozen=True)
class Sale:
    id: str
    owner: str
    amount: int
    """Cents."""
    day: dt.date
    won: bool


@dataclass(frozen=True)
class QuotaRow:
    id: str
    owner: str
    first: dt.date
    last: dt.date | None
    amount: int
    """Cents, above zero."""


@dataclass(frozen=True)
class Rule:
    """A component paid per ``window``; which fields matter depends on ``shape``.

    - stage: ``amount`` only when the window's revenue reaches its target (a share of the
      annual target by seasonality and month split, or by the weights of its months when
      ``by_month``), then ``floor``;
    - rate: revenue × ``rate``, only when ``minimum`` deals are won (if set), then ``cap``
      and ``floor``;
    - scheduled: revenue × the rate schedule read over the window;
    - tiers: marginal tiers of revenue, ``rates[0]`` below ``bound`` and ``rates[1]`` from
      it, then ``cap``;
    - count: won deals × ``amount``, only when at least ``minimum`` are won;
    - prorated: base pay prorated by the days employed in the window;
    - quota: ``amount`` only when revenue reaches ``rate`` of the quota weighted by days
      over the window;
    - allowance: the money schedule read over the window, then ``prorated`` if set.
    """

    name: str
    window: WindowKind
    shape: Shape
    amount: int = 0
    rate: int = 0
    rates: tuple[int, int] = (0, 0)
    bound: int = 0
    minimum: int = 0
    cap: int | None = None
    floor: int | None = None
    prorated: bool = False
    by_month: bool = False


@dataclass(frozen=True)
class TimePlan:
    period: Span
    employment: bool
    within: bool
    schedule: tuple[Rate, ...]
    allowance: tuple[Rate, ...]
    """A money schedule: values in cents."""
    quarter_weights: tuple[int, ...]
    """Four shares in hundredths of a percent, adding up to 10,000."""
    month_weights: tuple[int, ...]
    """Three shares in hundredths of a percent, adding up to 10,000."""
    monthly_weights: tuple[int, ...]
    """Twelve shares in hundredths of a percent, adding up to 10,000."""
    rules: tuple[Rule, ...]
    average: bool
    """Pay revenue × the schedule read over the whole period."""
    quota: Literal["none", "plain", "prorated"]
    """A bonus on attainment of the quota weighted by days (prorated or not)."""
    tenure: int | None
    """Pay a loyalty reward from this many days between hire and the period's end."""
    late: tuple[int, int] | None
    """Pay a rate (hundredths of a percent) on deals won in the last so many days."""
    period_stage: tuple[int, bool] | None
    """Pay this many cents when the period's revenue reaches its share of the annual
    target: by seasonality (for a period inside one quarter), or by the weights of its
    months when the flag is set (for a period of whole months)."""

    @property
    def uses_targets(self) -> bool:
        return self.period_stage is not None or any(r.shape == "stage" for r in self.rules)

    @property
    def quota_rows(self) -> bool:
        return self.quota != "none" or any(rule.shape == "quota" for rule in self.rules)

    @property
    def text(self) -> str:
        return plan_text(self)

    def reads_records(self, kind: WindowKind) -> bool:
        """True when a measure computed per ``kind`` sums or counts deals."""
        return any(r.window == kind and r.shape not in NO_RECORDS for r in self.rules)

    def windows(self, kind: WindowKind) -> list[Window]:
        """Months, quarters and years cut to the period; the schedule's rows cut to it; whole
        ISO weeks whose Thursday is in the period, named by the Thursday's year and its
        week counted from that year's first Thursday."""
        start, end = self.period
        if kind == "segment":
            return sorted(
                (
                    Window(span[0].isoformat(), span[0], span[1], span[0], days_of(span))
                    for r in self.schedule
                    if (span := meet(self.period, (r.first, r.last))) is not None
                ),
                key=lambda w: w.start,
            )
        if kind == "week":
            out = []
            for day in each_day(start, end):
                if day.weekday() == 3:
                    monday = day - 3 * ONE_DAY
                    number = (day - dt.date(day.year, 1, 1)).days // 7 + 1
                    key = f"{day.year:04d}-W{number:02d}"
                    out.append(Window(key, monday, monday + 6 * ONE_DAY, day, 7))
            return out
        grouped: list[Window] = []
        for day in each_day(start, end):
            key = _unit(kind, day)
            if grouped and grouped[-1].key == key:
                last = grouped[-1]
                grouped[-1] = Window(key, last.start, day, last.decider, last.whole_days)
            else:
                whole = sum(
                    1
                    for d in each_day(day - 366 * ONE_DAY, day + 366 * ONE_DAY)
                    if _unit(kind, d) == key
                )
                grouped.append(Window(key, day, day, day, whole))
        return grouped


@dataclass(frozen=True)
class TimeCase:
    plan: TimePlan
    people: tuple[Person, ...]
    sales: tuple[Sale, ...]
    quotas: tuple[QuotaRow, ...]
    broken: str | None
    """A participant whose quota rows leave a day employed uncovered (E603)."""
    dropped: str | None
    """A participant whose last day employed comes before the first (R408)."""

    def employed(self, person: Person) -> Span:
        """The days ``person`` counts as employed (every day without ``employment``)."""
        if not self.plan.employment:
            return dt.date.min, dt.date.max
        return person.hired, person.left or dt.date.max

    def refused(self) -> set[str]:
        """Deals a `within period` plan refuses (R409)."""
        if not self.plan.within:
            return set()
        start, end = self.plan.period
        return {s.id for s in self.sales if not start <= s.day <= end}


# ---- plan text ----------------------------------------------------------------------------
def _percent(hundredths: int) -> str:
    return cents_text(hundredths) + "%"


def _per(kind: WindowKind) -> str:
    return "per segment of rate" if kind == "segment" else f"per {kind}"


#: Each window's target: a share of the annual target, from the weights where they give one.
TARGETS: Final[dict[WindowKind, str]] = {
    "month": "annual_target * seasonality * month_split",
    "week": "annual_target * seasonality * month_split / 4",
    "quarter": "annual_target * seasonality",
    "year": "annual_target / 4",
    "segment": "annual_target / 4",
}


def _target_name(rule: Rule) -> str:
    return f"{rule.window}_{'monthly_' if rule.by_month else ''}target"


def _rule_body(rule: Rule) -> str:
    kind = rule.window
    if rule.shape == "stage":
        body = f"{cents_text(rule.amount)} only when {kind}_revenue >= {_target_name(rule)}"
    elif rule.shape == "rate":
        body = f"{kind}_revenue * {_percent(rule.rate)}"
        if rule.minimum:
            body += f" only when {kind}_count >= {rule.minimum}"
    elif rule.shape == "scheduled":
        body = f"{kind}_revenue * rate"
    elif rule.shape == "tiers":
        bound = cents_text(rule.bound)
        body = (
            f"marginal tiers of {kind}_revenue:\n"
            f"    0 up to {bound} pays {_percent(rule.rates[0])}\n"
            f"    {bound} and above pays {_percent(rule.rates[1])}\n"
        )
    elif rule.shape == "count":
        body = f"{kind}_count * {cents_text(rule.amount)} only when {kind}_count >= {rule.minimum}"
    elif rule.shape == "allowance":
        body = "allowance prorated" if rule.prorated else "allowance"
    elif rule.shape == "quota":
        body = (
            f"{cents_text(rule.amount)} only when "
            f"{kind}_revenue >= {kind}_quota * {_percent(rule.rate)}"
        )
    else:
        body = "base prorated"
    if rule.cap is not None:
        body += f", capped at {cents_text(rule.cap)}"
    if rule.floor is not None:
        body += f", floored at {cents_text(rule.floor)}"
    return body


def _window_measures(plan: TimePlan, kind: WindowKind) -> list[str]:
    rules = [r for r in plan.rules if r.window == kind]
    shapes = {r.shape for r in rules}
    per, out = _per(kind), []
    if shapes - {"count", *NO_RECORDS}:
        out.append(
            f"measure {kind}_revenue {per} =\n"
            f'    sum of deal.amount where status = "won" and closed_on in {kind}'
        )
    if "count" in shapes or any(r.minimum for r in rules):
        out.append(
            f"measure {kind}_count {per} =\n"
            f'    count of deal where status = "won" and closed_on in {kind}'
        )
    if any(r.shape == "stage" and not r.by_month for r in rules):
        out.append(f"measure {kind}_target {per} = {TARGETS[kind]}")
    if any(r.shape == "stage" and r.by_month for r in rules):
        scale = " / 4" if kind == "week" else ""
        out.append(f"measure {kind}_monthly_target {per} = annual_target * monthly_split{scale}")
    if "quota" in shapes:
        out.append(
            f"measure {kind}_quota {per} =\n"
            "    quota_change.quarterly_quota weighted by days from starts to ends"
        )
    return out


def plan_text(plan: TimePlan) -> str:
    """The plan, declaring exactly the fields, tables and measures its components read, so
    that it checks without a warning."""
    start, end = plan.period
    stage_kinds: set[str] = {r.window for r in plan.rules if r.shape == "stage" and not r.by_month}
    by_month = any(r.by_month for r in plan.rules)
    if plan.period_stage is not None:
        by_month = by_month or plan.period_stage[1]
        if not plan.period_stage[1]:
            stage_kinds.add("period")
    lines = [
        'plan "Time fuzz"',
        "currency CNY",
        f"period {start.isoformat()} to {end.isoformat()}",
        "rounding half_up to 0.01 per component",
    ]
    if plan.employment:
        lines.append("employment from hired_on to left_on")
    fields = ["base money"]
    if plan.uses_targets:
        fields.append("annual_target positive money")
    if plan.employment or plan.tenure is not None:
        fields.append("hired_on date")
    if plan.employment:
        fields.append("left_on optional date")
    lines.append("participant fields: " + ", ".join(fields))
    within = " within period" if plan.within else ""
    lines.append(
        "deal fields: deal_id id, owner participant, amount money, "
        f"closed_on date{within}, status text"
    )
    if plan.quota_rows:
        lines.append(
            "quota_change fields: change_id id, rep participant, starts date, "
            "ends optional date, quarterly_quota positive money"
        )
    lines.append("schedule rate:")
    lines += [
        f"    from {r.first.isoformat()} to {r.last.isoformat()}: {_percent(r.value)}"
        for r in plan.schedule
    ]
    if any(r.shape == "allowance" for r in plan.rules):
        lines.append("schedule allowance money:")
        lines += [
            f"    from {r.first.isoformat()} to {r.last.isoformat()}: {cents_text(r.value)}"
            for r in plan.allowance
        ]
    if stage_kinds & {"period", "month", "week", "quarter"}:
        shares = ", ".join(map(_percent, plan.quarter_weights))
        lines.append(f"weights seasonality by quarter: {shares}")
    if stage_kinds & {"month", "week"}:
        shares = ", ".join(map(_percent, plan.month_weights))
        lines.append(f"weights month_split by month of quarter: {shares}")
    if by_month:
        shares = ", ".join(map(_percent, plan.monthly_weights))
        lines.append(f"weights monthly_split by month: {shares}")
    if plan.average or plan.quota != "none" or plan.period_stage is not None:
        lines.append(
            'measure revenue = sum of deal.amount where status = "won" and closed_on in period'
        )
    if plan.late is not None:
        lines.append(
            'measure late_revenue = sum of deal.amount where status = "won" and closed_on in '
            f"period and days from closed_on to {end.isoformat()} <= {plan.late[0]}"
        )
    lines.append(
        "measure rate_revenue per segment of rate =\n"
        '    sum of deal.amount where status = "won" and closed_on in segment'
    )
    for kind in WINDOW_KINDS:
        lines += _window_measures(plan, kind)
    if plan.quota != "none":
        lines.append(
            "measure quota_in_force =\n"
            "    quota_change.quarterly_quota weighted by days from starts to ends"
        )
        quota = "quota_in_force"
        if plan.quota == "prorated":
            lines.append("measure quota = quota_in_force prorated")
            quota = "quota"
        lines.append(f"measure attainment = if {quota} > 0 then revenue / {quota} else 0%")
    if plan.tenure is not None:
        lines.append(f"measure tenure = days from hired_on to {end.isoformat()}")
    lines.append("component base_pay = base" + (" prorated" if plan.employment else ""))
    lines.append("component commission per segment of rate = rate_revenue * rate")
    if plan.average:
        lines.append("component average_commission = revenue * rate")
    if plan.late is not None:
        lines.append(f"component late_bonus = late_revenue * {_percent(plan.late[1])}")
    if plan.quota != "none":
        lines.append(
            f"component bonus = {BONUS_BASE} * (attainment capped at 150%)"
            " only when attainment >= 80%"
        )
    if plan.period_stage is not None:
        amount, monthly = plan.period_stage
        weights = "monthly_split" if monthly else "seasonality"
        lines.append(
            f"component period_stage = {cents_text(amount)}"
            f" only when revenue >= annual_target * {weights}"
        )
    if plan.tenure is not None:
        lines.append(f"component loyalty = {LOYALTY_PAY} only when tenure >= {plan.tenure}")
    lines += [f"component {r.name} {_per(r.window)} = {_rule_body(r)}" for r in plan.rules]
    return "\n".join(lines) + "\n"


# ---- rows as the engine reads them --------------------------------------------------------
Row = dict[str, str]


def participant_rows(case: TimeCase) -> list[Row]:
    rows = []
    for person in case.people:
        row = {"id": person.id, "name": f"Rep {person.id}", "base": cents_text(person.base)}
        if case.plan.uses_targets:
            row["annual_target"] = cents_text(person.target)
        if case.plan.employment or case.plan.tenure is not None:
            row["hired_on"] = person.hired.isoformat()
        if case.plan.employment:
            row["left_on"] = "" if person.left is None else person.left.isoformat()
        rows.append(row)
    return rows


def record_rows(case: TimeCase) -> dict[str, list[Row]]:
    out = {
        "deal": [
            {
                "deal_id": s.id,
                "owner": s.owner,
                "amount": cents_text(s.amount),
                "closed_on": s.day.isoformat(),
                "status": "won" if s.won else "lost",
            }
            for s in case.sales
        ]
    }
    if case.plan.quota_rows:
        out["quota_change"] = [
            {
                "change_id": q.id,
                "rep": q.owner,
                "starts": q.first.isoformat(),
                "ends": "" if q.last is None else q.last.isoformat(),
                "quarterly_quota": cents_text(q.amount),
            }
            for q in case.quotas
        ]
    return out


# ---- strategies ---------------------------------------------------------------------------
def _split(draw: st.DrawFn, parts: int) -> tuple[int, ...]:
    """``parts`` shares in hundredths of a percent adding up to exactly 100%."""
    cuts = sorted(draw(st.lists(st.integers(0, 10_000), min_size=parts - 1, max_size=parts - 1)))
    bounds = [0, *cuts, 10_000]
    return tuple(b - a for a, b in itertools.pairwise(bounds))


def _near(days: Sequence[dt.date]) -> list[dt.date]:
    """Each day with the day before and the day after."""
    return sorted({d + k * ONE_DAY for d in days for k in (-1, 0, 1)})


def _calendar_edges(plan: TimePlan) -> list[dt.date]:
    """The period's ends, the first and last days of its months and schedule segments, and
    of its first and last ISO weeks (which may lie outside it), each with its neighbours."""
    start, end = plan.period
    edges = [start, end]
    edges += [d for d in each_day(start - 7 * ONE_DAY, end + 7 * ONE_DAY) if d.day == 1]
    weeks = plan.windows("week")
    edges += [weeks[0].start, weeks[0].end, weeks[-1].start, weeks[-1].end]
    edges += [r.first for r in plan.schedule]
    return _near(edges)


@st.composite
def schedules(draw: st.DrawFn, period: Span, values: st.SearchStrategy[int]) -> tuple[Rate, ...]:
    """Schedule rows covering the period without overlap, split at random days (often month
    starts and Mondays); the first may begin before the period and the last end after."""
    start, end = period
    inside = list(each_day(start + ONE_DAY, end))
    favoured = [d for d in inside if d.day == 1 or d.weekday() == 0]
    splits = draw(st.lists(st.sampled_from(favoured) | st.sampled_from(inside), max_size=4))
    firsts = [start - draw(st.sampled_from([0, 0, 1, 45])) * ONE_DAY, *sorted(set(splits))]
    lasts = [f - ONE_DAY for f in firsts[1:]]
    lasts.append(end + draw(st.sampled_from([0, 0, 1, 45])) * ONE_DAY)
    return tuple(Rate(f, last, draw(values)) for f, last in zip(firsts, lasts, strict=True))


@st.composite
def rules(draw: st.DrawFn, period: Span, employment: bool, index: int) -> Rule:
    kind = draw(st.sampled_from(WINDOW_KINDS))
    shapes: list[Shape] = ["stage", "rate", "scheduled", "tiers", "count", "quota", "allowance"]
    if employment:
        shapes.append("prorated")
    shape = draw(st.sampled_from(shapes))
    name = f"{kind}_{shape}_{index}"
    money = st.integers(1, 500_000)
    if shape == "stage":
        # Weights by month give a share of a month or week, or of whole months only.
        by_month = kind in ("month", "week") or (kind != "segment" and _whole_months(period))
        by_month = by_month and draw(st.booleans())
        floor = draw(st.none() | money)
        return Rule(name, kind, shape, amount=draw(money), floor=floor, by_month=by_month)
    if shape == "rate":
        cap = draw(st.none() | money)
        floor = draw(st.none() | st.integers(0, cap or 10_000))
        minimum = draw(st.sampled_from([0, 0, 1, 2, 3]))
        rate = draw(st.integers(1, 2000))
        return Rule(name, kind, shape, rate=rate, minimum=minimum, cap=cap, floor=floor)
    if shape == "tiers":
        low = draw(st.integers(0, 1000))
        high = draw(st.integers(max(low, 1), 2000))
        cap = draw(st.none() | money)
        return Rule(name, kind, shape, rates=(low, high), bound=draw(money), cap=cap)
    if shape == "count":
        return Rule(name, kind, shape, amount=draw(money), minimum=draw(st.integers(1, 3)))
    if shape == "quota":
        return Rule(name, kind, shape, amount=draw(money), rate=draw(st.integers(1, 5000)))
    if shape == "allowance":
        return Rule(name, kind, shape, prorated=employment and draw(st.booleans()))
    return Rule(name, kind, shape)


@st.composite
def time_plans(draw: st.DrawFn) -> TimePlan:
    period = draw(st.sampled_from(PERIODS))
    employment = draw(st.booleans())
    quotas: list[Literal["none", "plain", "prorated"]] = ["none", "plain"]
    if employment:
        quotas.append("prorated")
    in_one_quarter = (period[0].month - 1) // 3 == (period[1].month - 1) // 3
    bases: list[bool] = [False] if in_one_quarter else []
    if _whole_months(period):
        bases.append(True)
    period_stage: tuple[int, bool] | None = None
    if bases != [] and draw(st.booleans()):
        monthly = bases[draw(st.integers(0, len(bases) - 1))]
        period_stage = (draw(st.integers(1, 500_000)), monthly)
    return TimePlan(
        period=period,
        employment=employment,
        within=draw(st.booleans()),
        schedule=draw(schedules(period, st.integers(1, 1500))),
        allowance=draw(schedules(period, st.integers(0, 2_000_000))),
        quarter_weights=_split(draw, 4),
        month_weights=_split(draw, 3),
        monthly_weights=_split(draw, 12),
        rules=tuple(draw(rules(period, employment, i)) for i in range(draw(st.integers(1, 4)))),
        average=draw(st.booleans()),
        quota=draw(st.sampled_from(quotas)),
        tenure=draw(st.none() | st.integers(1, 200)),
        late=draw(st.none() | st.tuples(st.integers(0, 20), st.integers(1, 1000))),
        period_stage=period_stage,
    )


@st.composite
def _people(draw: st.DrawFn, period: Span, employment: bool) -> tuple[Person, ...]:
    """Hires and last days at and beyond the period's ends, a day either side, and inside;
    some employed on no day of the period at all."""
    start, end = period
    ends = _near([start, end])
    hires = st.sampled_from(ends) | st.dates(start - 400 * ONE_DAY, end + 5 * ONE_DAY)
    targets = st.integers(1, 10**7) | st.integers(1, 10**9)
    people = []
    for index in range(draw(st.integers(1, 3))):
        hired = draw(hires)
        left = None
        if employment and draw(st.booleans()):
            later = [d for d in _near([start, end, hired]) if d >= hired]
            left = draw(st.sampled_from(later) | st.dates(hired, end + 30 * ONE_DAY))
        base = draw(st.integers(0, 5_000_000))
        people.append(Person(f"P-{index}", hired, left, base, draw(targets)))
    return tuple(people)


@st.composite
def _sales(
    draw: st.DrawFn, plan: TimePlan, people: tuple[Person, ...], in_period_only: bool
) -> tuple[Sale, ...]:
    """Deals dated on calendar edges, hire and leave days and their neighbours, or anywhere
    from ten days before the period to ten days after (or inside it, when asked)."""
    start, end = plan.period
    edges = _calendar_edges(plan)
    edges += _near([p.hired for p in people] + [p.left for p in people if p.left is not None])
    if in_period_only:
        edges = [d for d in edges if start <= d <= end]
        days = st.sampled_from(edges) | st.dates(start, end)
    else:
        days = st.sampled_from(edges) | st.dates(start - 10 * ONE_DAY, end + 10 * ONE_DAY)
    amounts = st.integers(0, 1_000_000) | st.integers(0, 100_000_000)
    out = []
    for index in range(draw(st.integers(1, 12) | st.integers(6, 12))):
        owner = draw(st.sampled_from(people)).id
        won = draw(st.integers(0, 3)) > 0
        out.append(Sale(f"D-{index}", owner, draw(amounts), draw(days), won))
    return tuple(out)


@st.composite
def _quota_rows(
    draw: st.DrawFn, plan: TimePlan, person: Person, first_id: int, broken: bool
) -> list[QuotaRow]:
    """Rows of one participant that do not overlap and cover the days employed in the
    period, cut at random days, in random order; the first may begin earlier and the last
    end later or never.  ``broken`` leaves out one row holding some of those days."""
    start, end = plan.period
    employed = (person.hired, person.left or dt.date.max) if plan.employment else None
    span = meet((start, end), employed) if employed else (start, end)
    amounts = st.integers(1, 10**9)
    if span is None:  # no value needs to be in force; a stray row may still come along
        if not draw(st.booleans()):
            return []
        first = draw(st.dates(start - 60 * ONE_DAY, end + 60 * ONE_DAY))
        last = draw(st.none() | st.dates(first, first + 100 * ONE_DAY))
        return [QuotaRow(f"Q-{first_id}", person.id, first, last, draw(amounts))]
    inside = list(each_day(span[0] + ONE_DAY, span[1]))
    cuts = sorted(set(draw(st.lists(st.sampled_from(inside), max_size=3)))) if inside else []
    firsts = [span[0] - draw(st.sampled_from([0, 0, 1, 30])) * ONE_DAY, *cuts]
    lasts: list[dt.date | None] = [f - ONE_DAY for f in firsts[1:]]
    lasts.append(span[1] + draw(st.sampled_from([0, 0, 1, 30])) * ONE_DAY)
    if draw(st.booleans()):
        lasts[-1] = None  # still in force
    if draw(st.booleans()):  # an earlier value, no longer in force
        firsts.insert(0, firsts[0] - 90 * ONE_DAY)
        lasts.insert(0, firsts[1] - ONE_DAY)
    rows = list(zip(firsts, lasts, strict=True))
    if broken:
        holding = [r for r in rows if meet(span, (r[0], r[1] or dt.date.max))]
        rows.remove(draw(st.sampled_from(holding)))
    rows = draw(st.permutations(rows))
    return [
        QuotaRow(f"Q-{first_id + n}", person.id, first, last, draw(amounts))
        for n, (first, last) in enumerate(rows)
    ]


@st.composite
def time_cases(draw: st.DrawFn) -> TimeCase:
    plan = draw(time_plans())
    people = draw(_people(plan.period, plan.employment))
    dropped = None
    if plan.employment and len(people) > 1 and draw(st.integers(0, 9)) == 0:
        index = draw(st.integers(0, len(people) - 1))
        person = people[index]
        dropped = person.id
        swapped = Person(person.id, person.hired, person.hired - ONE_DAY, person.base, 1)
        people = (*people[:index], swapped, *people[index + 1 :])
    in_period_only = plan.within and draw(st.booleans())
    sales = draw(_sales(plan, people, in_period_only))
    broken = None
    if plan.quota != "none" and draw(st.integers(0, 9)) == 0:
        candidates = [p.id for p in people if _employed_in_period(plan, p) and p.id != dropped]
        broken = draw(st.sampled_from(candidates)) if candidates else None
    quotas: list[QuotaRow] = []
    if plan.quota_rows:
        for person in people:
            quotas += draw(_quota_rows(plan, person, len(quotas), person.id == broken))
    return TimeCase(plan, people, sales, tuple(quotas), broken, dropped)


def _whole_months(period: Span) -> bool:
    """True when the period begins on a month's first day and ends on a month's last."""
    return period[0].day == 1 and (period[1] + ONE_DAY).day == 1


def _employed_in_period(plan: TimePlan, person: Person) -> bool:
    return not plan.employment or bool(
        meet(plan.period, (person.hired, person.left or dt.date.max))
    )


# ---- the oracle ---------------------------------------------------------------------------
Parts = list[tuple[str, dt.date, dt.date, Fraction]]


@dataclass(frozen=True)
class Expected:
    """What the oracle pays a participant, exactly: each component paid for the whole
    period before rounding, each part of one paid per sub-period before rounding (and the
    sum of the rounded parts), and each measure computed for the whole period."""

    exact: dict[str, Fraction]
    parts: dict[str, Parts]
    measures: dict[str, Fraction]


def _deals(case: TimeCase, person: Person, span: Span | None) -> list[Sale]:
    """Won deals of ``person`` dated in ``span`` and not refused."""
    refused = case.refused()
    return [
        s
        for s in case.sales
        if s.owner == person.id
        and s.won
        and s.id not in refused
        and span is not None
        and span[0] <= s.day <= span[1]
    ]


def _revenue(case: TimeCase, person: Person, span: Span | None) -> Fraction:
    return sum((Fraction(s.amount, 100) for s in _deals(case, person, span)), Fraction(0))


def _schedule_over(plan: TimePlan, span: Span) -> Fraction:
    """The rate read over ``span``: each row's rate weighted by its days in it."""
    return _over(plan.schedule, span) / 10_000


def _over(rows: Sequence[Rate], span: Span) -> Fraction:
    """Σ value × its days in ``span`` ÷ the days of ``span``."""
    total = sum((r.value * days_of(meet(span, (r.first, r.last))) for r in rows), 0)
    return Fraction(total, days_of(span))


def _quota_over(case: TimeCase, person: Person, span: Span | None) -> Fraction:
    """Σ quota × its days in ``span`` ÷ the days of ``span``; 0 for no day."""
    if span is None:
        return Fraction(0)
    total = sum(
        (
            Fraction(q.amount, 100) * days_of(meet(span, (q.first, q.last or dt.date.max)))
            for q in case.quotas
            if q.owner == person.id
        ),
        Fraction(0),
    )
    return total / days_of(span)


def _monthly_share(plan: TimePlan, span: Span) -> Fraction:
    """The weights by month of the months ``span`` touches, added up."""
    months = {day.month for day in each_day(*span)}
    return Fraction(sum(plan.monthly_weights[m - 1] for m in months), 10_000)


def _share(plan: TimePlan, window: Window, kind: WindowKind, by_month: bool) -> Fraction:
    """The share of the annual target a window's target is (see `TARGETS`): a week takes
    the weights of the month holding its Thursday."""
    if by_month:
        scale = Fraction(1, 4) if kind == "week" else Fraction(1)
        days = (window.decider, window.decider) if kind == "week" else window.span
        return _monthly_share(plan, days) * scale
    month = window.decider.month
    season = Fraction(plan.quarter_weights[(month - 1) // 3], 10_000)
    split = Fraction(plan.month_weights[(month - 1) % 3], 10_000)
    if kind == "month":
        return season * split
    if kind == "week":
        return season * split / 4
    if kind == "quarter":
        return season
    return Fraction(1, 4)


def rule_part(case: TimeCase, person: Person, rule: Rule, window: Window) -> Fraction:
    """What ``rule`` pays in one window, before rounding.

    A window without a day employed pays nothing.  Records count on the window's days the
    participant was employed; a week's days run Monday to Sunday even outside the period.
    The schedule and the quota are read over the window's days inside the period that the
    participant was employed (the schedule over all its days inside the period when none
    of those was).  `prorated` divides by the days of the whole calendar unit.
    """
    plan = case.plan
    active = meet(window.span, case.employed(person))
    within = meet(meet(window.span, plan.period), case.employed(person))
    if active is None:  # a (sub-)period without a day employed pays nothing
        return Fraction(0)
    revenue = _revenue(case, person, active)
    won = len(_deals(case, person, active))
    value: Fraction
    if rule.shape in ("stage", "quota"):
        if rule.shape == "stage":
            share = _share(plan, window, rule.window, rule.by_month)
            target = Fraction(person.target, 100) * share
        else:
            target = _quota_over(case, person, within) * Fraction(rule.rate, 10_000)
        if revenue < target:
            return Fraction(0)
        value = Fraction(rule.amount, 100)
    elif rule.shape == "count":
        return Fraction(won * rule.amount, 100) if won >= rule.minimum else Fraction(0)
    elif rule.shape == "rate":
        if won < rule.minimum:  # a gate that fails pays nothing, floor or not
            return Fraction(0)
        value = revenue * Fraction(rule.rate, 10_000)
    elif rule.shape == "scheduled":
        inside = meet(window.span, plan.period)
        assert inside is not None
        value = revenue * _schedule_over(plan, within or inside)
    elif rule.shape == "allowance":
        inside = meet(window.span, plan.period)
        assert inside is not None
        value = _over(plan.allowance, within or inside) / 100
        if rule.prorated:
            value = value * days_of(active) / window.whole_days
    elif rule.shape == "tiers":
        bound = Fraction(rule.bound, 100)
        low, high = (Fraction(r, 10_000) for r in rule.rates)
        value = min(revenue, bound) * low + max(revenue - bound, Fraction(0)) * high
    else:
        value = Fraction(person.base, 100) * days_of(active) / window.whole_days
    if rule.cap is not None:
        value = min(value, Fraction(rule.cap, 100))
    if rule.floor is not None:
        value = max(value, Fraction(rule.floor, 100))
    return value


def window_measures(
    case: TimeCase, person: Person, kind: WindowKind, window: Window
) -> dict[str, Fraction]:
    """The exact values of the measures computed per ``kind`` in ``window`` (and, for a
    segment of the rate schedule, of the commission's revenue)."""
    active = meet(window.span, case.employed(person))
    within = meet(meet(window.span, case.plan.period), case.employed(person))
    return {
        "rate_revenue": _revenue(case, person, active),
        f"{kind}_revenue": _revenue(case, person, active),
        f"{kind}_count": Fraction(len(_deals(case, person, active))),
        f"{kind}_target": Fraction(person.target, 100) * _share(case.plan, window, kind, False),
        f"{kind}_monthly_target": Fraction(person.target, 100)
        * _share(case.plan, window, kind, True),
        f"{kind}_quota": _quota_over(case, person, within),
    }


def expected(case: TimeCase, person: Person) -> Expected:
    """Every component's exact value for ``person`` (and each part's), and the exact value
    of every measure computed for the whole period."""
    plan = case.plan
    period = plan.period
    active = meet(period, case.employed(person))
    exact: dict[str, Fraction] = {}
    parts: dict[str, Parts] = {}
    measures: dict[str, Fraction] = {}
    exact["base_pay"] = Fraction(person.base, 100) * days_of(active) / days_of(period)
    parts["commission"] = [
        (
            w.key,
            w.start,
            w.end,
            _revenue(case, person, meet(w.span, active)) * _schedule_over(plan, w.span),
        )
        for w in plan.windows("segment")
    ]
    revenue = _revenue(case, person, active)
    if plan.average or plan.quota != "none" or plan.period_stage is not None:
        measures["revenue"] = revenue
    if plan.average:
        exact["average_commission"] = revenue * _schedule_over(plan, active or period)
    if plan.late is not None:
        last_days, late_rate = plan.late
        late = measures["late_revenue"] = sum(
            (
                Fraction(s.amount, 100)
                for s in _deals(case, person, active)
                if days_of((s.day, period[1])) <= last_days
            ),
            Fraction(0),
        )
        exact["late_bonus"] = late * Fraction(late_rate, 10_000)
    if plan.quota != "none":
        quota = measures["quota_in_force"] = _quota_over(case, person, active)
        if plan.quota == "prorated":
            quota = measures["quota"] = quota * days_of(active) / days_of(period)
        attainment = measures["attainment"] = revenue / quota if quota > 0 else Fraction(0)
        bonus = BONUS_BASE * min(attainment, Fraction(3, 2))
        exact["bonus"] = bonus if attainment >= Fraction(4, 5) else Fraction(0)
    if plan.period_stage is not None:
        amount, monthly = plan.period_stage
        season = Fraction(plan.quarter_weights[(period[0].month - 1) // 3], 10_000)
        share = _monthly_share(plan, period) if monthly else season
        reached = revenue >= Fraction(person.target, 100) * share
        exact["period_stage"] = Fraction(amount if reached else 0, 100)
    if plan.tenure is not None:
        tenure = measures["tenure"] = Fraction(days_of((person.hired, period[1])))
        exact["loyalty"] = Fraction(LOYALTY_PAY if tenure >= plan.tenure else 0)
    if active is None:  # a period without a day employed pays nothing
        exact = dict.fromkeys(exact, Fraction(0))
    for rule in plan.rules:
        parts[rule.name] = [
            (w.key, w.start, w.end, rule_part(case, person, rule, w))
            for w in plan.windows(rule.window)
        ]
    for name, found in parts.items():
        exact[name] = sum((half_up_cents(value) for *_, value in found), Fraction(0))
    return Expected(exact, parts, measures)


def fates(case: TimeCase) -> dict[tuple[str, str], Status]:
    """What becomes of each record: refused (R409), its participant refused (R404 after
    R408) or unpaid (E603), then counted when a measure reads it on a day employed (a won
    deal in the period or, with a measure per week, in one of its weeks; a quota row
    meeting the days employed in the period), else excluded."""
    plan = case.plan
    people = {p.id: p for p in case.people}
    refused = case.refused()
    weeks = [w.span for w in plan.windows("week")] if plan.reads_records("week") else []
    out: dict[tuple[str, str], Status] = {}
    for sale in case.sales:
        person = people[sale.owner]
        day = (sale.day, sale.day)
        read = any(meet(day, span) for span in [plan.period, *weeks])
        if sale.id in refused or sale.owner in (case.broken, case.dropped):
            out["deal", sale.id] = "rejected"
        elif sale.won and read and meet(day, case.employed(person)):
            out["deal", sale.id] = "counted"
        else:
            out["deal", sale.id] = "excluded"
    for row in case.quotas:
        person = people[row.owner]
        active = meet(plan.period, case.employed(person))
        if row.owner in (case.broken, case.dropped):
            out["quota_change", row.id] = "rejected"
        elif meet(active, (row.first, row.last or dt.date.max)):
            out["quota_change", row.id] = "counted"
        else:
            out["quota_change", row.id] = "excluded"
    return out
