"""Time: calendar sub-periods, day-weighted values, proration, per-period rules, schedules.

`calendar.windows` must tile a period with its months, quarters and years, and pick exactly
the ISO weeks whose Thursday lies in it.  Plans that weight dated rows by days, prorate by
employment, compute per month (week, quarter, year) or per segment of a schedule must agree
with an oracle written with `datetime` and `Fraction` only, on random periods and rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Final, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import incentive
from incentive import calendar
from tests.strategies import Row, cents, cents_text, half_up_cents

ONE_DAY: Final = dt.timedelta(days=1)
FIRST_START: Final = dt.date(2020, 1, 1)
LAST_START: Final = dt.date(2030, 12, 31)
Period = tuple[dt.date, dt.date]
CalendarKind = Literal["month", "quarter", "year"]


# ---- the oracle: days, calendar units and ISO weeks from datetime alone -------------------
def _days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Every day from ``start`` to ``end``, both included."""
    day = start
    while day <= end:
        yield day
        day += ONE_DAY


def _shared_days(first: dt.date, last: dt.date | None, start: dt.date, end: dt.date) -> int:
    """Days that ``first``…``last`` (open when ``last`` is None) shares with the period."""
    return max(0, (min(end, last or end) - max(first, start)).days + 1)


def _unit_key(kind: CalendarKind, day: dt.date) -> str:
    """The month, quarter or year holding ``day``: '2026-07', '2026-Q3', '2026'."""
    if kind == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if kind == "quarter":
        return f"{day.year:04d}-Q{(day.month + 2) // 3}"
    return f"{day.year:04d}"


def _units(kind: CalendarKind, start: dt.date, end: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """The period's days grouped, in order, by the unit holding them: (key, first, last)."""
    out: list[tuple[str, dt.date, dt.date]] = []
    for day in _days(start, end):
        key = _unit_key(kind, day)
        if out and out[-1][0] == key:
            out[-1] = (key, out[-1][1], day)
        else:
            out.append((key, day, day))
    return out


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _week_key(monday: dt.date) -> str:
    """An ISO week's name from its Thursday: the Thursday's year, and the week counted from
    the year's first Thursday (day-of-year 1 to 7 is week 1)."""
    thursday = monday + dt.timedelta(days=3)
    ordinal = (thursday - dt.date(thursday.year, 1, 1)).days
    return f"{thursday.year:04d}-W{ordinal // 7 + 1:02d}"


def _thursdays(start: dt.date, end: dt.date) -> list[dt.date]:
    return [day for day in _days(start, end) if day.weekday() == 3]


# ---- periods ------------------------------------------------------------------------------
@st.composite
def periods(draw: st.DrawFn, max_days: int = 800) -> Period:
    """A period starting within 2020–2030, of 1 to ``max_days`` days."""
    start = draw(st.dates(FIRST_START, LAST_START))
    return start, start + dt.timedelta(days=draw(st.integers(1, max_days)) - 1)


@st.composite
def month_periods(draw: st.DrawFn, max_months: int = 24) -> Period:
    """A period of whole calendar months; a third of them are whole calendar years."""
    year = draw(st.integers(FIRST_START.year, LAST_START.year))
    if draw(st.integers(0, 2)) == 0:
        return dt.date(year, 1, 1), dt.date(year + draw(st.integers(0, 1)), 12, 31)
    first = year * 12 + draw(st.integers(0, 11))
    last = first + draw(st.integers(0, max_months - 1)) + 1  # the month after the last one
    after = dt.date(last // 12, last % 12 + 1, 1)
    return dt.date(first // 12, first % 12 + 1, 1), after - ONE_DAY


def _period_line(period: Period) -> str:
    return f"period {period[0].isoformat()} to {period[1].isoformat()}\n"


# ---- 1. the calendar ----------------------------------------------------------------------
@given(
    period=st.one_of(periods(), month_periods()), kind=st.sampled_from(["month", "quarter", "year"])
)
def test_months_quarters_and_years_tile_the_period(period: Period, kind: CalendarKind) -> None:
    """Contiguous, in order, no gap or overlap, first starts at the start and last ends at
    the end; each window is the period's days in one calendar unit, named after it."""
    start, end = period
    found = calendar.windows(kind, start, end)
    assert found[0].start == start
    assert found[-1].end == end
    for before, after in pairwise(found):
        assert after.start == before.end + ONE_DAY
    assert all(window.start <= window.end and window.kind == kind for window in found)
    assert [(w.key, w.start, w.end) for w in found] == _units(kind, start, end)
    assert sum(window.days for window in found) == (end - start).days + 1


@given(periods())
def test_iso_weeks_are_the_weeks_whose_thursday_is_in_the_period(period: Period) -> None:
    """Each week runs Monday to Sunday with its Thursday in the period; none is missing."""
    start, end = period
    found = calendar.windows("week", start, end)
    for window in found:
        assert window.start.weekday() == 0
        assert window.end == window.start + dt.timedelta(days=6)
        assert start <= window.start + dt.timedelta(days=3) <= end
        assert window.key == _week_key(window.start)
        assert window.days == 7
    assert [window.start for window in found] == [_monday(t) for t in _thursdays(start, end)]


@given(st.integers(1990, 2100))
def test_the_quarters_of_a_year_share_its_iso_weeks(year: int) -> None:
    """Each quarter has the ISO weeks of its Thursdays: 13 or 14 in a quarter of 92 days,
    13 in one of 91, and 12 or 13 in a first quarter of 90 days (2027 Q1 has 12).  The four
    quarters hold the year's 52 or 53 weeks, W01 to the last, each once and in order."""
    quarters = calendar.windows("quarter", dt.date(year, 1, 1), dt.date(year, 12, 31))
    assert [q.key for q in quarters] == [f"{year:04d}-Q{n}" for n in range(1, 5)]
    weeks = [calendar.windows("week", q.start, q.end) for q in quarters]
    allowed = {90: {12, 13}, 91: {13}, 92: {13, 14}}
    for quarter, held in zip(quarters, weeks, strict=True):
        assert len(held) in allowed[(quarter.end - quarter.start).days + 1]
        assert len(held) == len(_thursdays(quarter.start, quarter.end))
    in_year = len(_thursdays(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    assert in_year in (52, 53)
    assert sum(len(held) for held in weeks) == in_year
    keys = [window.key for held in weeks for window in held]
    assert keys == [f"{year:04d}-W{n:02d}" for n in range(1, in_year + 1)]


# ---- dated rows: a quota's changes, a schedule's rates ------------------------------------
@dataclass(frozen=True)
class Dated:
    """A value in force from ``first`` to ``last`` (None: still in force)."""

    first: dt.date
    last: dt.date | None
    value: int
    """Cents for a quota, hundredths of a percent for a rate."""


@st.composite
def covering_rows(
    draw: st.DrawFn,
    period: Period,
    values: st.SearchStrategy[int],
    *,
    open_end: bool,
    min_cuts: int = 0,
) -> list[Dated]:
    """Rows that cover the period without overlap, cut at random days, in random order.

    The first may start before the period and the last end after it (or, with
    ``open_end``, not at all); a row wholly before or after the period may come along.
    Half the time every row inside the period carries the same value.  The period is cut
    in at least ``min_cuts`` places when it has enough days.
    """
    start, end = period
    length = (end - start).days + 1
    cuts = draw(
        st.lists(
            st.integers(1, max(1, length - 1)),
            unique=True,
            min_size=min(min_cuts, length - 1),
            max_size=5,
        )
    )
    firsts = [start - dt.timedelta(days=draw(st.integers(0, 60)))]
    firsts += [start + dt.timedelta(days=cut) for cut in sorted(cuts) if cut < length]
    lasts: list[dt.date | None] = [first - ONE_DAY for first in firsts[1:]]
    if open_end and draw(st.booleans()):
        lasts.append(None)
    else:
        lasts.append(end + dt.timedelta(days=draw(st.integers(0, 60))))
    same = draw(values) if draw(st.booleans()) else None
    rows = [
        Dated(first, last, draw(values) if same is None else same)
        for first, last in zip(firsts, lasts, strict=True)
    ]
    if draw(st.booleans()):
        before = firsts[0] - ONE_DAY
        first = before - dt.timedelta(days=draw(st.integers(0, 90)))
        rows.insert(0, Dated(first, before, draw(values)))
    final = rows[-1].last
    if final is not None and draw(st.booleans()):
        last = final + dt.timedelta(days=draw(st.integers(1, 90)))
        rows.append(Dated(final + ONE_DAY, last, draw(values)))
    return draw(st.permutations(rows))


def _exact(step_value: object) -> Fraction:
    """A measure's exact value from the trace: a Decimal, or a Fraction after a division."""
    assert isinstance(step_value, Decimal | Fraction), step_value
    return Fraction(step_value)


# ---- 2. a quota weighted by the days each row was in force --------------------------------
def _quota_plan(period: Period) -> str:
    return (
        'plan "Quota changes"\ncurrency CNY\n'
        + _period_line(period)
        + "rounding half_up to 0.01 per component\n\n"
        + "quota_change fields:\n"
        + "    change_id id,\n    rep participant,\n    starts date,\n"
        + "    ends optional date,\n    quota positive money\n\n"
        + "measure quota_in_force = quota_change.quota weighted by days from starts to ends\n"
        + "component pay = quota_in_force\n"
    )


def _run_quota(period: Period, rows: list[Dated]) -> incentive.RunResult:
    """Evaluate the quota plan for R-1 with ``rows`` as its quota changes Q-0, Q-1, …"""
    quota_rows: list[Row] = [
        {
            "change_id": f"Q-{index}",
            "rep": "R-1",
            "starts": row.first.isoformat(),
            "ends": "" if row.last is None else row.last.isoformat(),
            "quota": cents_text(row.value),
        }
        for index, row in enumerate(rows)
    ]
    plan = incentive.load_plan(_quota_plan(period), filename="quota.rules")
    return incentive.evaluate(plan, [{"id": "R-1", "name": "Rep"}], {"quota_change": quota_rows})


@st.composite
def quota_cases(draw: st.DrawFn) -> tuple[Period, list[Dated]]:
    period = draw(periods())
    return period, draw(covering_rows(period, cents(1, 10**10), open_end=True))


@given(quota_cases())
def test_day_weighted_quota_lies_between_the_quotas_in_force(
    case: tuple[Period, list[Dated]],
) -> None:
    """min ≤ quota ≤ max over the rows in force, the value itself when they agree, and
    exactly Σ quota × days in force ÷ days of the period; rows outside count for nothing."""
    period, rows = case
    start, end = period
    result = _run_quota(period, rows)
    paid = result.participant("R-1")
    quota = _exact(paid.trace.measures["quota_in_force"].step.value)

    shared = [_shared_days(row.first, row.last, start, end) for row in rows]
    in_force = [Fraction(row.value, 100) for row, days in zip(rows, shared, strict=True) if days]
    weighted = sum(
        (Fraction(row.value, 100) * days for row, days in zip(rows, shared, strict=True)),
        Fraction(0),
    ) / ((end - start).days + 1)
    assert min(in_force) <= quota <= max(in_force)
    if len(set(in_force)) == 1:
        assert quota == in_force[0]
    assert quota == weighted
    assert paid.amount("pay") == half_up_cents(weighted)
    status = {d.record_id: d.status for d in result.dispositions}
    for index, days in enumerate(shared):
        assert status[f"Q-{index}"] == ("counted" if days else "excluded")


def _days_text(first: dt.date, last: dt.date) -> str:
    """'2026-07-31', or '2026-08-16 to 2026-08-19 (4 days)', as messages name days."""
    if first == last:
        return first.isoformat()
    return f"{first.isoformat()} to {last.isoformat()} ({(last - first).days + 1} days)"


@given(quota_cases(), st.data())
def test_quota_rows_with_a_hole_or_an_overlap_are_refused(
    case: tuple[Period, list[Dated]], data: st.DataObject
) -> None:
    """Without a row in force, its days inside the period have no quota (E603 names them);
    a row stretched into the next one makes both cover the same days (E603 names the two
    rows and those days)."""
    period, rows = case
    start, end = period
    ordered = sorted(rows, key=lambda row: row.first)
    in_force = [row for row in ordered if _shared_days(row.first, row.last, start, end)]
    stretchable = [index for index, row in enumerate(ordered[:-1]) if row.last is not None]
    if len(stretchable) > 0 and data.draw(st.booleans()):
        index = data.draw(st.sampled_from(stretchable))
        row, following = ordered[index], ordered[index + 1]
        reach = following.last or following.first + dt.timedelta(days=400)
        last = data.draw(st.dates(following.first, reach))
        stretched = Dated(row.first, last, row.value)
        changed = data.draw(st.permutations([*ordered[:index], stretched, *ordered[index + 1 :]]))
        ids = sorted(changed.index(r) for r in (stretched, following))
        start_text = f"'quota_change' records Q-{ids[0]} ("
        end_text = f"both cover {_days_text(following.first, last)}"
        named = [f"Q-{ids[1]} ("]
    else:
        dropped = data.draw(st.sampled_from(in_force))
        changed = data.draw(st.permutations([row for row in ordered if row is not dropped]))
        hole = (max(dropped.first, start), min(dropped.last or end, end))
        start_text = "no 'quota_change' record"
        end_text = f" covers {_days_text(*hole)}"
        named = []
    with pytest.raises(incentive.EvaluationError) as caught:
        _run_quota(period, changed)
    [problem] = caught.value.problems
    assert (problem.code, problem.participant_id) == ("E603", "R-1")
    assert problem.message.startswith(start_text)
    assert problem.message.endswith(end_text)
    assert all(text in problem.message for text in named)


# ---- 3. proration by days employed -------------------------------------------------------
def _proration_plan(period: Period) -> str:
    return (
        'plan "Proration"\ncurrency CNY\n'
        + _period_line(period)
        + "rounding half_up to 0.01 per component\n"
        + "employment from hired_on to left_on\n\n"
        + "participant fields:\n"
        + "    hired_on date,\n    left_on optional date,\n    base money\n\n"
        + "measure share = base / 7\n"
        + "measure share_prorated = share prorated\n"
        + "measure base_prorated = base prorated\n"
        + "component pay = base prorated\n"
    )


def _employee(index: int, hired: dt.date, left: dt.date | None, base: int) -> Row:
    return {
        "id": f"R-{index}",
        "name": f"Rep {index}",
        "hired_on": hired.isoformat(),
        "left_on": "" if left is None else left.isoformat(),
        "base": cents_text(base),
    }


@st.composite
def whole_period_staff(draw: st.DrawFn) -> tuple[Period, list[Row]]:
    """Participants hired on or before the first day who stay at least to the last."""
    start, end = period = draw(periods())
    rows = []
    for index in range(draw(st.integers(1, 5))):
        hired = start - dt.timedelta(days=draw(st.integers(0, 3000)))
        left = None
        if draw(st.booleans()):
            left = end + dt.timedelta(days=draw(st.integers(0, 3000)))
        rows.append(_employee(index, hired, left, draw(cents(0, 10**10))))
    return period, rows


@given(whole_period_staff())
def test_proration_over_the_whole_period_changes_nothing(case: tuple[Period, list[Row]]) -> None:
    """Employed every day of the period: ``x prorated`` is x exactly, not x × n ÷ n rounded."""
    period, rows = case
    plan = incentive.load_plan(_proration_plan(period), filename="proration.rules")
    result = incentive.evaluate(plan, rows, {})
    period_days = (period[1] - period[0]).days + 1
    for row in rows:
        paid = result.participant(row["id"])
        assert paid.amount("pay") == Decimal(row["base"])
        measures = paid.trace.measures
        assert _exact(measures["share_prorated"].step.value) == Fraction(row["base"]) / 7
        assert _exact(measures["share"].step.value) == Fraction(row["base"]) / 7
        assert _exact(measures["base_prorated"].step.value) == Fraction(row["base"])
        assert paid.trace.employed_days == paid.trace.period_days == period_days


@st.composite
def joiners(draw: st.DrawFn) -> tuple[Period, list[Row]]:
    """Participants hired on a day of the period, some leaving on or after it."""
    start, end = period = draw(periods())
    rows = []
    for index in range(draw(st.integers(1, 5))):
        hired = draw(st.one_of(st.sampled_from([start, end]), st.dates(start, end)))
        left = None
        if draw(st.booleans()):
            left = draw(st.dates(hired, end + dt.timedelta(days=60)))
        rows.append(_employee(index, hired, left, draw(cents(0, 10**10))))
    return period, rows


@given(joiners())
def test_proration_pays_the_share_of_days_employed(case: tuple[Period, list[Row]]) -> None:
    """``x prorated`` = x × days employed ÷ days of the period, exactly; rounded half-up."""
    period, rows = case
    start, end = period
    plan = incentive.load_plan(_proration_plan(period), filename="proration.rules")
    result = incentive.evaluate(plan, rows, {})
    period_days = (end - start).days + 1
    for row in rows:
        left = dt.date.fromisoformat(row["left_on"]) if row["left_on"] else None
        days = _shared_days(dt.date.fromisoformat(row["hired_on"]), left, start, end)
        share = Fraction(days, period_days)
        paid = result.participant(row["id"])
        assert paid.amount("pay") == half_up_cents(Fraction(row["base"]) * share)
        measures = paid.trace.measures
        assert _exact(measures["share_prorated"].step.value) == Fraction(row["base"]) / 7 * share
        assert _exact(measures["base_prorated"].step.value) == Fraction(row["base"]) * share
        assert (paid.trace.employed_days, paid.trace.period_days) == (days, period_days)


# ---- 4. sub-period measures add up to the period's ---------------------------------------
DEAL_FIELDS: Final = (
    "deal fields:\n"
    "    deal_id id,\n    owner participant,\n    amount money,\n    closed_on date\n\n"
)
PEOPLE: Final[list[Row]] = [{"id": "R-1", "name": "Rep 1"}, {"id": "R-2", "name": "Rep 2"}]


def _windows_plan(period: Period) -> str:
    text = (
        'plan "Sub-periods"\ncurrency CNY\n'
        + _period_line(period)
        + "rounding half_up to 0.01 per component\n\n"
        + DEAL_FIELDS
        + "measure revenue = sum of deal.amount where closed_on in period\n"
        + "component whole = revenue\n"
    )
    for kind in ("week", "month", "quarter", "year"):
        text += (
            f"measure {kind}_revenue per {kind} = "
            f"sum of deal.amount where closed_on in {kind}\n"
            f"component {kind} per {kind} = {kind}_revenue\n"
        )
    return text


@dataclass(frozen=True)
class Sale:
    owner: str
    amount: int
    """Cents."""
    day: dt.date


@st.composite
def sales(draw: st.DrawFn, period: Period, min_size: int = 1, max_size: int = 25) -> list[Sale]:
    """Deals owned by R-1 or R-2, dated in the period or up to 40 days around it."""
    start, end = period
    margin = dt.timedelta(days=40)
    days = st.one_of(st.sampled_from([start, end]), st.dates(start - margin, end + margin))
    return draw(
        st.lists(
            st.builds(Sale, st.sampled_from(["R-1", "R-2"]), cents(0, 10**9), days),
            min_size=min_size,
            max_size=max_size,
        )
    )


def _deal_rows(deals: list[Sale]) -> list[Row]:
    return [
        {
            "deal_id": f"D-{index}",
            "owner": sale.owner,
            "amount": cents_text(sale.amount),
            "closed_on": sale.day.isoformat(),
        }
        for index, sale in enumerate(deals)
    ]


def _total(deals: list[Sale], owner: str, first: dt.date, last: dt.date) -> Fraction:
    """The owner's deals dated from ``first`` to ``last``, in yuan."""
    return sum(
        (Fraction(s.amount, 100) for s in deals if s.owner == owner and first <= s.day <= last),
        Fraction(0),
    )


@st.composite
def window_cases(draw: st.DrawFn) -> tuple[Period, list[Sale]]:
    """A period holding at least one Thursday (a shorter one: the test after the next)."""
    period = draw(st.one_of(month_periods(), periods(400).filter(lambda p: _thursdays(*p))))
    return period, draw(sales(period))


@given(window_cases())
def test_sub_period_measures_add_up_to_the_period(case: tuple[Period, list[Sale]]) -> None:
    """Each month's (quarter's, year's) revenue is its own deals', and together they are the
    period's; the weeks hold the deals of the days of the weeks whose Thursday is in it."""
    period, deals = case
    start, end = period
    plan = incentive.load_plan(_windows_plan(period), filename="windows.rules")
    result = incentive.evaluate(plan, PEOPLE, {"deal": _deal_rows(deals)})
    kinds: tuple[CalendarKind, ...] = ("month", "quarter", "year")
    for owner in ("R-1", "R-2"):
        paid = result.participant(owner)
        revenue = _total(deals, owner, start, end)
        assert paid.amount("whole") == revenue
        lines = {line.name: line for line in paid.components}
        for kind in kinds:
            parts = [(p.key, p.start, p.end, Fraction(p.amount)) for p in lines[kind].parts]
            expected = [
                (key, first, last, _total(deals, owner, first, last))
                for key, first, last in _units(kind, start, end)
            ]
            assert parts == expected
            assert lines[kind].amount == revenue
        mondays = [_monday(thursday) for thursday in _thursdays(start, end)]
        weeks = [(p.key, p.start, p.end, Fraction(p.amount)) for p in lines["week"].parts]
        assert weeks == [
            (_week_key(m), m, m + dt.timedelta(days=6), _total(deals, owner, m, m + 6 * ONE_DAY))
            for m in mondays
        ]
        # The union of those weeks' days, written as a test of each deal's own week.
        in_weeks = sum(
            (
                Fraction(s.amount, 100)
                for s in deals
                if s.owner == owner and start <= _monday(s.day) + 3 * ONE_DAY <= end
            ),
            Fraction(0),
        )
        assert lines["week"].amount == in_weeks


@given(periods(max_days=6))
def test_a_period_without_an_iso_week_has_no_rule_per_week(period: Period) -> None:
    """A short period with no Thursday holds no ISO week: the check refuses every rule
    computed per week (P211, at its ``per week``) instead of the run stopping; a short
    period with a Thursday has exactly that week."""
    text = _windows_plan(period)
    if _thursdays(*period):
        plan = incentive.load_plan(text, filename="windows.rules")
        paid = incentive.evaluate(plan, PEOPLE, {"deal": []}).participant("R-1")
        [week] = next(line for line in paid.components if line.name == "week").parts
        assert week.key == _week_key(_monday(_thursdays(*period)[0]))
        return
    with pytest.raises(incentive.PlanCheckError) as caught:
        incentive.load_plan(text, filename="windows.rules")
    lines = text.splitlines()
    per_week = [number for number, line in enumerate(lines, 1) if " per week " in line]
    assert len(per_week) == 2
    found = caught.value.diagnostics
    assert [(d.code, d.span.line) for d in found] == [("P211", n) for n in per_week]
    for diagnostic in found:
        line = lines[diagnostic.span.line - 1]
        assert line[diagnostic.span.column - 1 :].startswith("per week")
        assert "no week" in diagnostic.message


# ---- 5. a rate schedule, paid per segment ------------------------------------------------
def _rate_text(hundredths: int) -> str:
    """Hundredths of a percent as plan text: 525 → '5.25%'."""
    return cents_text(hundredths) + "%"


def _schedule_plan(period: Period, rows: list[Dated]) -> str:
    schedule = "".join(
        f"    from {row.first.isoformat()} to {row.last.isoformat()}: {_rate_text(row.value)}\n"
        for row in rows
        if row.last is not None
    )
    return (
        'plan "Schedule"\ncurrency CNY\n'
        + _period_line(period)
        + "rounding half_up to 0.01 per component\n\n"
        + DEAL_FIELDS
        + "schedule rate:\n"
        + schedule
        + "\nmeasure rate_in_force = rate\n"
        + "measure segment_revenue per segment of rate =\n"
        + "    sum of deal.amount where closed_on in segment\n"
        + "component commission per segment of rate = segment_revenue * rate\n"
    )


@st.composite
def schedule_cases(draw: st.DrawFn) -> tuple[Period, list[Dated], list[Sale]]:
    period = draw(st.one_of(month_periods(), periods(400)))
    rows = draw(covering_rows(period, st.integers(0, 2000), open_end=False, min_cuts=1))
    return period, rows, draw(sales(period, min_size=8))


@given(schedule_cases())
def test_commission_per_segment_follows_the_rate_in_force(
    case: tuple[Period, list[Dated], list[Sale]],
) -> None:
    """Each segment pays Σ amount × the rate in force on the deal's day, rounded once per
    segment; read over the period, the schedule is its day-weighted average rate."""
    period, rows, deals = case
    start, end = period
    plan = incentive.load_plan(_schedule_plan(period, rows), filename="schedule.rules")
    result = incentive.evaluate(plan, PEOPLE, {"deal": _deal_rows(deals)})
    segments = sorted(
        (max(row.first, start), min(row.last or end, end), Fraction(row.value, 10_000))
        for row in rows
        if _shared_days(row.first, row.last, start, end)
    )
    average = sum(
        (rate * ((last - first).days + 1) for first, last, rate in segments), Fraction(0)
    ) / ((end - start).days + 1)
    for owner in ("R-1", "R-2"):
        exact = {first: Fraction(0) for first, _, _ in segments}
        for sale in deals:
            if sale.owner != owner or not start <= sale.day <= end:
                continue
            for first, last, rate in segments:
                if first <= sale.day <= last:
                    exact[first] += Fraction(sale.amount, 100) * rate
        paid = result.participant(owner)
        line = paid.components[0]
        assert [(p.key, p.start, p.end) for p in line.parts] == [
            (first.isoformat(), first, last) for first, last, _ in segments
        ]
        assert [p.amount for p in line.parts] == [half_up_cents(exact[f]) for f, _, _ in segments]
        assert line.amount == sum((half_up_cents(value) for value in exact.values()), Fraction(0))
        assert _exact(paid.trace.measures["rate_in_force"].step.value) == average
