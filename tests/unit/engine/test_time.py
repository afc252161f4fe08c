"""Time in plans: sub-periods, schedules, weights, employment and proration, at the
boundary dates where a rule that is off by one day would pay the wrong amount."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

import incentive
from incentive import calendar
from incentive.engine.trace import ScheduleStep
from incentive.errors import EvaluationError, PlanCheckError, RecordError


def _plan(body: str, period: str = "2026-07-01 to 2026-09-30") -> incentive.CompiledPlan:
    text = f"""
plan "t"
currency CNY
period {period}
{body}
"""
    return incentive.load_plan(text, filename="t.rules")


DEALS = (
    "deal fields: deal_id id, owner participant, amount money, closed_on date\n"
    "measure revenue = sum of deal.amount where closed_on in period\n"
)


def _deals(*rows: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {"deal_id": f"D-{n}", "owner": "R-1", "amount": amount, "closed_on": day}
        for n, (amount, day) in enumerate(rows, 1)
    ]


def _run(
    plan: incentive.CompiledPlan, person: dict[str, str] | None = None, **records: Any
) -> incentive.ParticipantResult:
    people = [{"id": "R-1", **(person or {})}]
    return incentive.evaluate(plan, people, records).participant("R-1")


# ---- sub-periods ------------------------------------------------------------------------
MONTHLY = (
    DEALS
    + "measure monthly per month = sum of deal.amount where closed_on in month\n"
    + "component stage per month = 100 only when monthly >= 1000\n"
)


def test_a_component_per_month_pays_each_month_that_reaches_its_target() -> None:
    result = _run(
        _plan(MONTHLY),
        deal=_deals(("1000.00", "2026-07-01"), ("999.99", "2026-08-31"), ("1000", "2026-09-30")),
    )
    parts = result.components[0].parts
    assert [(p.key, p.amount) for p in parts] == [
        ("2026-07", Decimal("100.00")),
        ("2026-08", Decimal("0.00")),
        ("2026-09", Decimal("100.00")),
    ]
    assert result.amount("stage") == Decimal("200.00")


def test_first_and_last_day_of_the_period_count_and_the_days_around_do_not() -> None:
    plan = _plan(DEALS + "component c = revenue * 10%")
    deals = _deals(
        ("1.00", "2026-06-30"),
        ("10.00", "2026-07-01"),
        ("100.00", "2026-09-30"),
        ("1000", "2026-10-01"),
    )
    assert _run(plan, deal=deals).amount("c") == Decimal("11.00")


def test_months_of_a_period_that_starts_mid_month_are_cut_to_the_period() -> None:
    plan = _plan(MONTHLY, period="2026-07-15 to 2026-09-14")
    result = _run(plan, deal=_deals(("5000", "2026-07-10"), ("5000", "2026-07-15")))
    parts = result.components[0].parts
    assert [(p.start, p.end) for p in parts] == [
        (dt.date(2026, 7, 15), dt.date(2026, 7, 31)),
        (dt.date(2026, 8, 1), dt.date(2026, 8, 31)),
        (dt.date(2026, 9, 1), dt.date(2026, 9, 14)),
    ]
    assert parts[0].amount == Decimal("100.00")  # the deal of 10 July is before the period


WEEKLY = (
    DEALS
    + "measure weekly per week = sum of deal.amount where closed_on in week\n"
    + "component stage per week = 10 only when weekly > 0\n"
)


def test_a_quarter_with_iso_week_53_has_fourteen_weeks() -> None:
    # 2026 begins on a Thursday, so it has 53 ISO weeks; week 53 (28 Dec to 3 Jan) holds
    # Thursday 31 December and belongs to the fourth quarter of 2026.
    result = _run(
        _plan(WEEKLY, period="2026-10-01 to 2026-12-31"),
        deal=_deals(("1", "2027-01-03"), ("1", "2026-09-28")),
    )
    parts = result.components[0].parts
    assert len(parts) == 14
    assert (parts[0].key, parts[0].start) == ("2026-W40", dt.date(2026, 9, 28))
    assert (parts[-1].key, parts[-1].end) == ("2026-W53", dt.date(2027, 1, 3))
    # A deal of Sunday 3 January 2027 is in week 53 of 2026, so in this quarter's weeks;
    # one of Monday 28 September starts week 40, the first of the quarter.
    assert parts[-1].amount == parts[0].amount == Decimal("10.00")


def test_week_1_belongs_to_the_year_that_holds_its_thursday() -> None:
    # 2027-W01 runs from Monday 4 January 2027; 1 to 3 January are in 2026-W53.  The 90
    # days of 2027 Q1 hold only 12 Thursdays: week 13 (29 March to 4 April, Thursday
    # 1 April) belongs to the second quarter.
    result = _run(_plan(WEEKLY, period="2027-01-01 to 2027-03-31"), deal=_deals())
    parts = result.components[0].parts
    assert (parts[0].key, parts[0].start) == ("2027-W01", dt.date(2027, 1, 4))
    assert (len(parts), parts[-1].key) == (12, "2027-W12")
    assert calendar.iso_week(dt.date(2027, 1, 3)).key == "2026-W53"
    assert calendar.windows("week", dt.date(2027, 4, 1), dt.date(2027, 6, 30))[0].key == (
        "2027-W13"
    )


def test_a_quarter_measure_per_quarter_in_a_year_long_plan() -> None:
    plan = _plan(
        DEALS
        + "measure q per quarter = sum of deal.amount where closed_on in quarter\n"
        + "component c per quarter = q * 1%",
        period="2026-01-01 to 2026-12-31",
    )
    result = _run(plan, deal=_deals(("100", "2026-03-31"), ("200", "2026-04-01")))
    assert [p.amount for p in result.components[0].parts] == [
        Decimal("1.00"),
        Decimal("2.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        # a monthly value read for the whole period
        (MONTHLY + "component total = monthly", "P211"),
        # `in week` in a rule computed per month
        (DEALS + "measure m per month = sum of deal.amount where closed_on in week\n"
         "component c per month = m", "P211"),
        (DEALS + "component c per segment of nothing = revenue", "P201"),
        (DEALS + "measure m per month = sum of deal.amount\ncomponent c per month = m", "W508"),
    ],
)  # fmt: skip
def test_sub_period_mistakes_have_their_code(body: str, code: str) -> None:
    if code.startswith("W"):
        assert code in [w.code for w in _plan(body).checked.warnings]
        return
    with pytest.raises(PlanCheckError) as caught:
        _plan(body)
    assert [e.code for e in caught.value.errors] == [code]


# ---- schedules ------------------------------------------------------------------------
RATE = """
schedule rate "Rate":
    from 2026-07-01 to 2026-07-31: 5%
    from 2026-08-01 to 2026-09-30: 6%
"""


def test_a_deal_on_the_day_a_rate_changes_takes_the_new_rate() -> None:
    plan = _plan(
        DEALS
        + RATE
        + "measure seg per segment of rate = sum of deal.amount where closed_on in segment\n"
        + "component c per segment of rate = seg * rate"
    )
    result = _run(plan, deal=_deals(("1000", "2026-07-31"), ("1000", "2026-08-01")))
    assert [p.amount for p in result.components[0].parts] == [Decimal("50.00"), Decimal("60.00")]


def test_a_schedule_read_over_the_period_is_weighted_by_days() -> None:
    plan = _plan(DEALS + RATE + "component c = 9200 * rate")
    result = _run(plan, deal=_deals())
    step = result.trace.components[0].body
    assert step is not None
    # 31 days at 5% and 61 at 6%: 9200 × (31 × 5% + 61 × 6%) / 92 = 521
    assert result.amount("c") == Decimal("521.00")
    rate = step.right  # type: ignore[attr-defined]
    assert isinstance(rate, ScheduleStep)
    assert [(p.days, p.value) for p in rate.pieces] == [
        (31, Decimal("0.05")),
        (61, Decimal("0.06")),
    ]


@pytest.mark.parametrize(
    "rows",
    [
        "from 2026-07-01 to 2026-08-01: 5%\n    from 2026-08-01 to 2026-09-30: 6%",  # overlap
        "from 2026-07-01 to 2026-07-30: 5%\n    from 2026-08-01 to 2026-09-30: 6%",  # hole
        "from 2026-07-02 to 2026-09-30: 5%",  # the first day uncovered
        "from 2026-07-01 to 2026-09-29: 5%",  # the last day uncovered
        "from 2026-09-30 to 2026-07-01: 5%",  # backwards
    ],
)
def test_a_schedule_must_cover_the_period_without_overlap(rows: str) -> None:
    with pytest.raises(PlanCheckError) as caught:
        _plan(DEALS + f"schedule rate:\n    {rows}\ncomponent c = revenue * rate")
    assert {e.code for e in caught.value.errors} == {"P307"}


def test_a_schedule_may_extend_beyond_the_period() -> None:
    plan = _plan(DEALS + "schedule rate:\n    from 2026-01-01 to 2026-12-31: 5%\n"
                 "component c = revenue * rate")  # fmt: skip
    assert _run(plan, deal=_deals(("100", "2026-07-01"))).amount("c") == Decimal("5.00")


def test_a_schedule_mixing_rates_and_numbers_is_refused() -> None:
    with pytest.raises(PlanCheckError) as caught:
        _plan(
            DEALS + "schedule rate:\n  from 2026-07-01 to 2026-07-31: 5%\n"
            "  from 2026-08-01 to 2026-09-30: 6\ncomponent c = revenue * rate"
        )
    assert [e.code for e in caught.value.errors] == ["P204"]


def test_a_money_schedule_is_an_amount() -> None:
    plan = _plan(DEALS + "schedule target money:\n  from 2026-07-01 to 2026-09-30: 500\n"
                 "component c = 10 only when revenue >= target")  # fmt: skip
    assert _run(plan, deal=_deals(("500", "2026-07-01"))).amount("c") == Decimal("10.00")


# ---- weights --------------------------------------------------------------------------
SEASONAL = """
participant fields: annual money
weights season by quarter: 20%, 25%, 25%, 30%
weights split by month of quarter: 30%, 30%, 40%
measure quarter_target = annual * season
measure month_target per month = quarter_target * split
component c per month = month_target * 1%
"""


def test_seasonality_splits_the_year_then_the_quarter() -> None:
    result = _run(_plan(SEASONAL), {"annual": "1000000"})
    # Q3 is 25% of 1,000,000; its months 30/30/40% of that; the component pays 1%.
    assert [p.amount for p in result.components[0].parts] == [
        Decimal("750.00"),
        Decimal("750.00"),
        Decimal("1000.00"),
    ]


def test_seasonality_of_a_year_long_period_is_the_whole_year() -> None:
    plan = _plan(
        "participant fields: annual money\n"
        "weights season by quarter: 20%, 25%, 25%, 30%\n"
        "component c = annual * season",
        period="2026-01-01 to 2026-12-31",
    )
    assert _run(plan, {"annual": "100"}).amount("c") == Decimal("100.00")


@pytest.mark.parametrize(
    ("body", "period", "code"),
    [
        ("weights s by quarter: 20%, 25%, 25%, 25%\ncomponent c = 100 * s", None, "P304"),
        ("weights s by quarter: 50%, 50%\ncomponent c = 100 * s", None, "P307"),
        ("weights s by week: 100%\ncomponent c = 100 * s", None, "P307"),
        # a quarter's month weights read for a whole quarter: which month?
        ("weights s by month of quarter: 30%, 30%, 40%\ncomponent c = 100 * s", None, "P211"),
        # quarter weights read over part of two quarters
        ("weights s by quarter: 25%, 25%, 25%, 25%\ncomponent c = 100 * s",
         "2026-08-01 to 2026-10-31", "P211"),
    ],
)  # fmt: skip
def test_weights_mistakes_have_their_code(body: str, period: str | None, code: str) -> None:
    with pytest.raises(PlanCheckError) as caught:
        _plan(body, period or "2026-07-01 to 2026-09-30")
    assert [e.code for e in caught.value.errors] == [code]


# ---- employment and proration ---------------------------------------------------------
EMPLOYED = """
employment from hired_on to left_on
participant fields: hired_on date, left_on optional date, base money
deal fields: deal_id id, owner participant, amount money, closed_on date
measure revenue = sum of deal.amount where closed_on in period
component base = base prorated
component c = revenue * 10%
"""


@pytest.mark.parametrize(
    ("hired", "left", "base"),
    [
        ("2020-01-01", "", "920.00"),  # the whole period
        ("2026-07-01", "", "920.00"),  # hired on the first day
        ("2026-08-16", "", "460.00"),  # 46 of 92 days
        ("2026-09-30", "", "10.00"),  # hired on the last day: 1 day
        ("2020-01-01", "2026-09-30", "920.00"),  # left on the last day
        ("2020-01-01", "2026-07-01", "10.00"),  # left on the first day
        ("2026-08-10", "2026-08-10", "10.00"),  # one day in all
        ("2026-10-01", "", "0.00"),  # hired after the period
        ("2020-01-01", "2026-06-30", "0.00"),  # left before it
    ],
)
def test_base_pay_is_prorated_by_days_employed_both_ends_counted(
    hired: str, left: str, base: str
) -> None:
    result = _run(_plan(EMPLOYED), {"hired_on": hired, "left_on": left, "base": "920"}, deal=[])
    assert result.amount("base") == Decimal(base)


def test_records_outside_the_days_employed_do_not_count_and_say_why() -> None:
    result = _run(
        _plan(EMPLOYED),
        {"hired_on": "2026-08-16", "left_on": "2026-09-15", "base": "0"},
        deal=_deals(
            ("1", "2026-08-15"), ("10", "2026-08-16"), ("100", "2026-09-15"), ("1000", "2026-09-16")
        ),
    )
    assert result.amount("c") == Decimal("11.00")
    text = incentive.explain(result)
    assert "D-1 ¥1.00 (closed on 2026-08-15, before the first day employed)" in text
    assert "D-4 ¥1,000.00 (closed on 2026-09-16, after the last day employed)" in text
    assert "Employed 2026-08-16 to 2026-09-15: 31 days of the period's 92 days." in text


def test_leaving_before_being_hired_is_a_record_error() -> None:
    with pytest.raises(RecordError) as caught:
        _run(
            _plan(EMPLOYED),
            {"hired_on": "2026-08-16", "left_on": "2026-08-15", "base": "0"},
            deal=[],
        )
    problem = caught.value.problems[0]
    assert (problem.code, problem.field, problem.value) == ("R408", "left_on", "2026-08-15")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("participant fields: base money\ncomponent c = base prorated", "P206"),
        ("employment from hired_on\nparticipant fields: hired_on text, base money\n"
         "component c = base", "P204"),
        ("employment from start\nparticipant fields: base money\ncomponent c = base", "P201"),
        ("participant fields: left optional date, base money\n"
         "component c = base only when left >= 2026-07-01", "P204"),
    ],
)  # fmt: skip
def test_employment_mistakes_have_their_code(body: str, code: str) -> None:
    with pytest.raises(PlanCheckError) as caught:
        _plan(body)
    assert code in [e.code for e in caught.value.errors]


# ---- records dated within the period, and dated rows ------------------------------------
def test_a_record_required_within_the_period_is_rejected_outside_it() -> None:
    plan = _plan(
        "deal fields: deal_id id, owner participant, amount money, closed_on date within period\n"
        "component c = sum of deal.amount"
    )
    with pytest.raises(RecordError) as caught:
        _run(plan, deal=_deals(("1", "2026-09-30"), ("1", "2026-10-01")))
    problem = caught.value.problems[0]
    assert (problem.code, problem.row, problem.value) == ("R409", 2, "2026-10-01")


QUOTAS = """
participant fields: base money
quota_change fields: change_id id, rep participant, starts date, ends optional date, q money
measure quota = quota_change.q weighted by days from starts to ends
component c = quota * 1%
"""


def _quotas(*rows: tuple[str, str, str]) -> list[dict[str, str]]:
    return [
        {"change_id": f"Q-{n}", "rep": "R-1", "starts": a, "ends": b, "q": q}
        for n, (a, b, q) in enumerate(rows, 1)
    ]


def test_a_quota_change_mid_period_weights_each_quota_by_its_days() -> None:
    result = _run(
        _plan(QUOTAS),
        {"base": "0"},
        quota_change=_quotas(("2026-01-01", "2026-08-15", "100000"), ("2026-08-16", "", "120000")),
    )
    assert result.amount("c") == Decimal("1100.00")


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        ((("2026-07-01", "2026-08-15", "1"), ("2026-08-15", "", "2")), "both cover 2026-08-15"),
        ((("2026-07-01", "2026-08-14", "1"), ("2026-08-16", "", "2")), "covers 2026-08-15"),
        ((("2026-07-02", "", "1"),), "covers 2026-07-01"),
        ((), "covers 2026-07-01 to 2026-09-30 (92 days)"),
    ],
)
def test_dated_rows_that_overlap_or_leave_a_hole_are_an_error(
    rows: tuple[tuple[str, str, str], ...], fragment: str
) -> None:
    with pytest.raises(EvaluationError) as caught:
        _run(_plan(QUOTAS), {"base": "0"}, quota_change=_quotas(*rows))
    problem = caught.value.problems[0]
    assert problem.code == "E603"
    assert fragment in problem.message


@pytest.mark.parametrize(
    ("hired", "days"),
    [("2026-07-01", "92"), ("2026-09-30", "1"), ("2026-10-01", "0"), ("2026-08-16", "46")],
)
def test_days_from_counts_both_ends(hired: str, days: str) -> None:
    plan = _plan(
        "participant fields: hired_on date\n"
        "measure n = days from hired_on to 2026-09-30\n"
        "component c = 10 * n"
    )
    assert _run(plan, {"hired_on": hired}).amount("c") == Decimal(days) * 10


def test_days_from_needs_dates() -> None:
    with pytest.raises(PlanCheckError) as caught:
        _plan("participant fields: n money\ncomponent c = 10 * days from n to 2026-09-30")
    assert [e.code for e in caught.value.errors] == ["P204"]


def test_a_schedule_read_per_week_is_read_over_the_weeks_days_inside_the_period() -> None:
    # Week 27 begins on 29 June, before the period and the schedule: the rate in force is
    # the schedule's on the days it covers, not an average with nothing for 29 and 30 June.
    plan = _plan(
        "schedule rate: from 2026-07-01 to 2026-09-30: 5%\ncomponent c per week = 100 * rate"
    )
    result = _run(plan)
    assert [p.amount for p in result.components[0].parts] == [Decimal("5.00")] * 13


def test_dated_rows_are_not_needed_for_sub_periods_before_the_hire_date() -> None:
    plan = _plan(
        "employment from hired_on\nparticipant fields: hired_on date\n"
        + QUOTAS.replace("participant fields: base money\n", "")
        .replace("measure quota =", "measure quota per month =")
        .replace("component c =", "component c per month =")
    )
    result = _run(
        plan, {"hired_on": "2026-08-16"}, quota_change=_quotas(("2026-08-16", "", "1000"))
    )
    assert [p.amount for p in result.components[0].parts] == [
        Decimal("0.00"),
        Decimal("10.00"),
        Decimal("10.00"),
    ]
    assert "Not employed on any of these days, so c pays nothing here." in incentive.explain(result)


def test_days_stays_free_to_name_a_field() -> None:
    plan = _plan("participant fields: days count\ncomponent c = 10 * days")
    assert _run(plan, {"days": "3"}).amount("c") == Decimal("30.00")
    with pytest.raises(incentive.PlanSyntaxError) as caught:
        _plan("participant fields: d date\ncomponent c = 10 * dayz from d to 2026-09-30")
    assert "days from DATE to DATE" in str(caught.value)


STAGE_BY_QUOTA = (
    "employment from hired_on to left_on\n"
    "participant fields: hired_on date, left_on optional date\n"
    + QUOTAS.replace("participant fields: base money\n", "")
    .replace("measure quota =", "measure quota per month =")
    .replace("component c = quota * 1%", "")
    + "deal fields: deal_id id, owner participant, amount money, closed_on date\n"
    "measure monthly per month = sum of deal.amount where closed_on in month\n"
    "component stage per month = 100 only when monthly >= quota\n"
)


@pytest.mark.parametrize(
    ("hired", "left", "paid"),
    [("2020-01-01", "2026-06-15", "0.00"), ("2026-08-16", "", "0.00")],
)
def test_nobody_is_paid_for_a_sub_period_without_a_day_employed(
    hired: str, left: str, paid: str
) -> None:
    # With no day employed in July, no quota was in force and no deal counts: 0 >= 0 must
    # not pay a stage reward.
    result = _run(
        _plan(STAGE_BY_QUOTA),
        {"hired_on": hired, "left_on": left},
        quota_change=_quotas(("2026-08-16", "", "1000")) if left == "" else [],
        deal=[],
    )
    assert result.components[0].parts[0].amount == Decimal(paid)


def test_prorated_in_a_month_the_period_cuts_divides_by_the_whole_month() -> None:
    plan = _plan(
        "employment from hired_on\nparticipant fields: hired_on date, base money\n"
        "component b per month = base prorated",
        period="2026-07-15 to 2026-08-14",
    )
    result = _run(plan, {"hired_on": "2020-01-01", "base": "3100"})
    # 17 of July's 31 days and 14 of August's 31: 1,700 + 1,400
    assert [p.amount for p in result.components[0].parts] == [
        Decimal("1700.00"),
        Decimal("1400.00"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        # an aggregate of the whole period inside a component paid per month
        DEALS + "component c per month = (sum of deal.amount where closed_on in period) * 10%",
        # a whole-period measure averaging a schedule that changes, read per segment
        DEALS
        + RATE
        + "measure r = rate\n"
        + "measure seg per segment of rate = sum of deal.amount where closed_on in segment\n"
        + "component c per segment of rate = seg * r",
    ],
)
def test_reading_the_whole_period_in_a_sub_period_rule_warns(body: str) -> None:
    assert "W508" in [w.code for w in _plan(body).checked.warnings]


@pytest.mark.parametrize(
    ("body", "period", "code"),
    [
        # an optional date may be empty: no filter can compare it
        ("deal fields: deal_id id, owner participant, amount money, paid_on optional date\n"
         "component c = sum of deal.amount where paid_on in period", None, "P204"),
        ("deal fields: deal_id id, owner participant, amount money\n"
         "component c = sum of deal.amount where (amount prorated) > 50", None, "P204"),
        ("component c per week = 100", "2026-07-01 to 2026-07-01", "P211"),
        ("component c per week = 100", "1000-01-01 to 2998-12-31", "P207"),
        ("component c per week = 100", "1900-01-01 to 2999-12-31", "P105"),
        ("employment from hired_on to hired_on\nparticipant fields: hired_on date\n"
         "component c = 100 prorated", None, "P204"),
    ],
)  # fmt: skip
def test_time_mistakes_are_refused_before_running(body: str, period: str | None, code: str) -> None:
    with pytest.raises(PlanCheckError) as caught:
        _plan(body, period or "2026-07-01 to 2026-09-30")
    assert code in [e.code for e in caught.value.errors]


def test_the_last_year_a_period_may_reach_computes_per_month_and_week() -> None:
    plan = _plan(
        "component m per month = 1\ncomponent w per week = 1", period="2999-10-01 to 2999-12-31"
    )
    result = _run(plan)
    assert (result.amount("m"), len(result.components[1].parts)) == (Decimal("3.00"), 13)


def test_a_deal_after_someone_left_before_the_period_says_after_the_last_day() -> None:
    result = _run(
        _plan(EMPLOYED),
        {"hired_on": "2020-01-01", "left_on": "2026-06-15", "base": "920"},
        deal=_deals(("5", "2026-07-10")),
    )
    text = incentive.explain(result)
    assert "(closed on 2026-07-10, after the last day employed)" in text
    assert "Not employed on any day of the period." in text
    assert result.total == Decimal("0.00")


def test_a_dated_row_that_ends_before_it_starts_is_a_record_error() -> None:
    with pytest.raises(RecordError) as caught:
        _run(
            _plan(QUOTAS),
            {"base": "0"},
            quota_change=_quotas(
                ("2026-07-01", "2026-08-15", "1"), ("2026-09-30", "2026-08-16", "2")
            ),
        )
    problem = caught.value.problems[0]
    assert (problem.code, problem.row, problem.field) == ("R408", 2, "ends")


def test_one_day_is_a_day() -> None:
    person = {"hired_on": "2026-09-30", "left_on": "", "base": "920"}
    text = incentive.explain(_run(_plan(EMPLOYED), person, deal=[]))
    assert "× 1 day employed ÷ 92 days" in text
    assert "1 days" not in text


def test_a_whole_period_total_read_by_a_monthly_component_warns() -> None:
    plan = _plan(DEALS + "component c per month = revenue * 2%")
    warnings = [w for w in plan.checked.warnings if w.code == "W508"]
    assert len(warnings) == 1
    assert "every month reads the same total" in warnings[0].message


def test_a_schedule_of_plain_numbers_must_say_what_they_are() -> None:
    plain = "schedule rate:\n  from 2026-07-01 to 2026-09-30: 4\ncomponent c = revenue * rate"
    with pytest.raises(PlanCheckError) as caught:
        _plan(DEALS + plain)
    assert [e.code for e in caught.value.errors] == ["P204"]
    assert "4%" in (caught.value.errors[0].hint or "")
    numbers = _plan(DEALS + plain.replace("schedule rate:", "schedule rate number:"))
    assert _run(numbers, deal=_deals(("10", "2026-07-01"))).amount("c") == Decimal("40.00")


def test_in_week_in_a_monthly_measure_is_told_to_say_in_month() -> None:
    with pytest.raises(PlanCheckError) as caught:
        _plan(
            DEALS + "measure m per month = sum of deal.amount where closed_on in week\n"
            "component c per month = m"
        )
    assert "write 'in month'" in (caught.value.errors[0].hint or "")


@pytest.mark.parametrize(
    ("period", "unit", "count"),
    [
        ("2026-10-01 to 2026-12-31", "weeks", 14),
        ("2027-01-01 to 2027-03-31", "weeks", 12),
        ("2026-07-01 to 2026-09-30", "days", 92),
        ("2026-07-15 to 2026-09-14", "months", 3),
        ("2026-01-01 to 2027-12-31", "quarters", 8),
        ("2026-07-01 to 2027-06-30", "years", 2),
    ],
)
def test_number_of_parts_in_the_period(period: str, unit: str, count: int) -> None:
    plan = _plan(f"component c = 10 * number of {unit} in period", period=period)
    assert _run(plan).amount("c") == Decimal(count) * 10


def test_number_stays_free_to_name_a_field_and_plurals_are_checked() -> None:
    plan = _plan("participant fields: number count\ncomponent c = 10 * number")
    assert _run(plan, {"number": "2"}).amount("c") == Decimal("20.00")
    with pytest.raises(incentive.PlanSyntaxError) as caught:
        _plan("component c = 10 * number of week in period")
    assert "number of days (weeks" in str(caught.value)
