"""Warnings: what declared ranges and guards prove, without false alarms or misses."""

from __future__ import annotations

import pytest

import incentive
from incentive.errors import PlanCheckError

HEADER = """plan "t"
currency CNY
period 2026-07-01 to 2026-09-30
participant fields: quota money, target positive money, base money, csat score 0..100
deal fields: deal_id id, owner participant, amount money, pamount positive money
survey fields: survey_id id, rep participant, rating score 1..5, delta score -10..10
measure revenue = sum of deal.amount + sum of deal.pamount
"""


def _warnings(body: str) -> list[str]:
    plan = incentive.load_plan(HEADER + body, filename="t.rules")
    return [d.code for d in plan.checked.warnings if d.code != "W506"]


@pytest.mark.parametrize(
    "body",
    [
        "measure a = if quota > 0 then revenue / quota else 0%",
        "measure a = if quota = 0 then 0% else revenue / quota",
        "measure a = if 0 < quota then revenue / quota else 0%",
        "measure a = if quota >= 1 then revenue / quota else 0%",
        "measure a = if not (quota = 0) then revenue / quota else 0%",
        "measure a = revenue / max(quota, 1)",
        "measure a = revenue / target",
    ],
)
def test_guarded_or_positive_divisors_are_not_flagged(body: str) -> None:
    assert _warnings(body + "\ncomponent c = base * a") == []


@pytest.mark.parametrize(
    "body",
    [
        "measure a = if quota > 0 then 0% else revenue / quota",
        "measure a = (if quota > 0 then 0% else 0%) + revenue / quota",
        "measure a = if quota > 0 or base > 0 then revenue / quota else 0%",
        "measure a = revenue / 0 / base",
        "measure prev = sum of deal.pamount\nmeasure a = revenue / prev",
    ],
)
def test_divisors_that_can_be_zero_are_flagged(body: str) -> None:
    assert "W505" in _warnings(body + "\ncomponent c = base * a")


@pytest.mark.parametrize(
    "body",
    [
        "measure worst = minimum of survey.rating\ncomponent c = 1000 only when worst < 1",
        "measure total = sum of survey.delta\ncomponent c = 1000 only when total < -10",
        "measure fees = sum of deal.pamount\ncomponent c = 1000 only when fees <= 0",
        "component c = 8000, capped at base",
        "component c = 1000 only when csat >= 90",
    ],
)
def test_ranges_hold_for_empty_aggregates_and_formula_caps(body: str) -> None:
    assert [w for w in _warnings(body) if w in ("W503", "W504")] == []


def test_an_impossible_gate_and_a_dead_cap_are_flagged() -> None:
    codes = _warnings("component c = 1000 only when csat > 120\ncomponent d = 500, capped at 600")
    assert codes.count("W503") == 1
    assert codes.count("W504") == 1


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("component c = revenue * csat", "cannot multiply an amount by a score"),
        ("component c = 5000 only when csat >= 80%", "a score and a percentage"),
        ("component c = if csat > 50 then base else csat", "one branch gives an amount"),
        ("component c = base, multiplied by csat", "needs a factor, not a score"),
        ("component c = min(base, 5%)", "cannot choose between an amount"),
        ("component c = base capped at csat", "sets an amount against a score"),
        ("component c = 1000 * scorecard(csat weight 100%)", "must be a share, not a score"),
        ("measure a = revenue / target\ncomponent c = 1000 * min(a, 150)", "plain number 150"),
    ],
)
def test_scores_and_shares_mixed_into_pay_are_errors(body: str, fragment: str) -> None:
    with pytest.raises(PlanCheckError) as info:
        incentive.load_plan(HEADER + body, filename="t.rules")
    assert fragment in str(info.value)


def test_a_score_scaled_back_is_an_amount() -> None:
    assert "P204" not in _warnings("component c = revenue * csat / 100")


def test_a_decimal_share_gets_the_percentage_it_means() -> None:
    with pytest.raises(PlanCheckError) as info:
        incentive.load_plan(
            HEADER + "measure a = revenue / target\ncomponent c = 1 only when a >= 0.8",
            filename="t.rules",
        )
    assert info.value.errors[0].hint == "write 80% (the plain number 0.8 is 80%)"


def test_count_distinct_may_say_of() -> None:
    plan = incentive.load_plan(
        HEADER + "component c = (count distinct of survey.rating) * 10", filename="t.rules"
    )
    assert plan.checked.components


RATES = """plan "t"
currency CNY
period 2026-07-01 to 2026-09-30
participant fields: quota money
deal fields: deal_id id, owner participant, amount money{converted}, currency text, day date
exchange rates:
{rows}
measure revenue = sum of deal.amount
component pay = revenue * 1%
"""
FULL = "    from 2026-07-01 to 2026-09-30: USD 7.1\n"


def _rate_messages(rows: str, *, converted: bool = True) -> list[str]:
    text = RATES.format(
        rows=rows.rstrip("\n"),
        converted=" converted from currency on day" if converted else "",
    )
    plan = incentive.load_plan(text, filename="t.rules")
    return [d.message for d in plan.checked.warnings if d.code == "W509"]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param(FULL, [], id="covered"),
        pytest.param("    from 2026-01-01 to 2026-12-31: USD 7.1\n", [], id="beyond the period"),
        pytest.param(
            "    from 2026-06-01 to 2026-07-31: USD 7.0\n"
            "    from 2026-08-01 to 2026-10-31: USD 7.1\n",
            [],
            id="rows back to back",
        ),
        pytest.param(
            "    from 2026-07-01 to 2026-07-31: USD 7.1\n"
            "    from 2026-09-01 to 2026-09-30: USD 7.1\n",
            ["no USD rate for 2026-08-01 to 2026-08-31 (31 days), inside the plan period"],
            id="a month without",
        ),
        pytest.param(
            "    from 2026-07-01 to 2026-09-30: USD 7.1\n"
            "    from 2026-09-01 to 2026-09-30: EUR 7.8\n",
            ["no EUR rate for 2026-07-01 to 2026-08-31 (62 days), inside the plan period"],
            id="a currency in some rows only",
        ),
    ],
)
def test_days_of_the_period_without_a_rate_are_warned_of(rows: str, expected: list[str]) -> None:
    assert _rate_messages(rows) == expected


def test_no_rate_warning_when_nothing_is_converted_or_the_rows_have_errors() -> None:
    gap = "    from 2026-07-01 to 2026-07-31: USD 7.1\n"
    assert _rate_messages(gap, converted=False) == []
    with pytest.raises(PlanCheckError) as info:
        _rate_messages(gap + "    from 2026-09-30 to 2026-09-01: USD 7.2\n")
    assert "W509" not in {d.code for d in info.value.diagnostics}
    with pytest.raises(PlanCheckError) as info:
        incentive.load_plan(
            RATES.replace("period 2026-07-01 to 2026-09-30\n", "").format(
                rows=gap, converted=" converted from currency on day"
            ),
            filename="t.rules",
        )
    assert "W509" not in {d.code for d in info.value.diagnostics}
