"""Evaluation: each language construct pays what its definition says, exactly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import incentive
from incentive.engine.trace import AggregateStep
from incentive.errors import EvaluationError

HEADER = """
plan "t"
currency CNY
period 2026-07-01 to 2026-09-30
participant fields: quota money, base money, csat score 0..100
deal fields: deal_id id, owner participant, amount money, closed_on date, status text, region text
measure revenue = sum of deal.amount where status = "won" and closed_on in period
measure attainment = revenue / quota
"""


def _pay(
    components: str, deals: list[tuple[str, str, str, str]], **person: str
) -> incentive.ParticipantResult:
    plan = incentive.load_plan(HEADER + components, filename="t.rules")
    people = [{"id": "R-1", "quota": "1000.00", "base": "100.00", "csat": "80", **person}]
    rows: list[dict[str, Any]] = [
        {
            "deal_id": f"D-{n}",
            "owner": "R-1",
            "amount": amount,
            "closed_on": day,
            "status": status,
            "region": region,
        }
        for n, (amount, day, status, region) in enumerate(deals)
    ]
    return incentive.evaluate(plan, people, {"deal": rows}).participant("R-1")


WON = ("600.00", "2026-08-01", "won", "east")


def test_marginal_tiers_pay_each_slice_at_its_rate() -> None:
    result = _pay(
        "component c = marginal tiers of revenue against quota:\n"
        "  0% up to 50% pays 2%\n  50% up to 100% pays 5%\n  100% and above pays 10%",
        [WON, ("600.00", "2026-08-02", "won", "east")],
    )
    # 500 × 2% + 500 × 5% + 200 × 10%
    assert result.amount("c") == Decimal("55.00")


def test_retroactive_tiers_pay_everything_at_the_reached_rate() -> None:
    result = _pay(
        "component c = retroactive tiers of revenue against quota:\n"
        "  0% up to 100% pays 2%\n  100% and above pays 10%",
        [("1000.00", "2026-08-01", "won", "east")],
    )
    assert result.amount("c") == Decimal("100.00")  # exactly 100% reaches the upper tier


def test_amount_tiers_without_a_target() -> None:
    result = _pay(
        "component c = marginal tiers of revenue:\n  0 up to 500 pays 1%\n  500 and above pays 3%",
        [WON],
    )
    assert result.amount("c") == Decimal("8.00")


def test_a_failed_gate_pays_nothing_and_skips_the_body() -> None:
    result = _pay("component c = 1000 / 0 only when attainment >= 80%", [WON])
    assert result.amount("c") == Decimal("0.00")
    assert result.trace.components[0].body is None


def test_modifiers_apply_in_the_order_written() -> None:
    first = _pay("component c = revenue, capped at 500, multiplied by 2", [WON])
    second = _pay("component c = revenue, multiplied by 2, capped at 500", [WON])
    assert (first.amount("c"), second.amount("c")) == (Decimal("1000.00"), Decimal("500.00"))


def test_floor_raises_a_small_amount() -> None:
    result = _pay("component c = revenue * 1%, floored at 50", [WON])
    assert result.amount("c") == Decimal("50.00")


def test_scorecard_weights_each_item() -> None:
    result = _pay(
        "component c = 1000 * scorecard(attainment capped at 50% weight 50%,"
        " csat / 100 weight 50%)",
        [WON],
    )
    assert result.amount("c") == Decimal("650.00")  # 1000 × (50% × 50% + 80% × 50%)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('(count of deal where region in ("east", "west")) * 1', "3.00"),
        ('(count of deal where region not in ("east")) * 1', "1.00"),
        ("count distinct deal.region * 1", "2.00"),
        ('(maximum of deal.amount where status = "won")', "600.00"),
        ("(minimum of deal.amount)", "100.00"),
        ("(average of deal.amount)", "400.00"),
        ("if revenue > 500 then 1 else 2", "1.00"),
        ("max(revenue, 1000) - min(quota, 10)", "1090.00"),
        ("-revenue + 1200", "100.00"),
    ],
)
def test_aggregates_and_expressions(expression: str, expected: str) -> None:
    deals = [WON, ("100.00", "2026-08-01", "lost", "west"), ("500.00", "2026-08-01", "won", "east")]
    result = _pay(f"component c = {expression}", deals)
    assert result.amount("c") == Decimal(expected)


def test_division_by_a_zero_quota_names_the_participant() -> None:
    with pytest.raises(EvaluationError) as info:
        _pay("component c = attainment * 100", [WON], quota="0")
    [problem] = info.value.problems
    assert (problem.code, problem.participant_id) == ("E601", "R-1")
    assert "quota" in problem.message
    assert problem.span is not None
    assert problem.span.line == 8


def test_tiers_against_a_zero_quota_are_an_error_not_the_top_rate() -> None:
    with pytest.raises(EvaluationError) as info:
        _pay(
            "component c = marginal tiers of revenue against quota:\n"
            "  0% up to 100% pays 1%\n  100% and above pays 9%",
            [WON],
            quota="0",
        )
    assert info.value.problems[0].code == "E601"


def test_records_outside_filters_are_excluded_with_the_condition() -> None:
    result = _pay(
        "component c = revenue * 1%",
        [WON, ("50.00", "2026-10-01", "won", "east"), ("70.00", "2026-08-01", "lost", "east")],
    )
    step = result.trace.measures["revenue"].step
    assert isinstance(step, AggregateStep)
    reasons = {e.record_id: (e.condition, e.in_period) for e in step.excluded}
    assert reasons == {"D-1": ("closed_on in period", "after"), "D-2": ('status = "won"', None)}


def test_skip_invalid_leaves_a_participant_the_plan_cannot_evaluate_unpaid() -> None:
    plan = incentive.load_plan(HEADER + "component c = attainment * 100", filename="t.rules")
    people = [
        {"id": "R-1", "quota": "0", "base": "1", "csat": "1"},
        {"id": "R-2", "quota": "100", "base": "1", "csat": "1"},
    ]
    deals = [
        {"deal_id": "D-1", "owner": "R-1", "amount": "5", "closed_on": "2026-08-01",
         "status": "won", "region": "east"},
        {"deal_id": "D-2", "owner": "R-2", "amount": "50", "closed_on": "2026-08-01",
         "status": "won", "region": "east"},
    ]  # fmt: skip
    result = incentive.evaluate(plan, people, {"deal": deals}, skip_invalid=True)
    assert [p.participant_id for p in result.participants] == ["R-2"]
    assert len(result.unpaid) == 1
    assert "participant 'R-1'" in result.unpaid[0]
    assert "error[E601]" in result.unpaid[0]
    assert [(d.record_id, d.status) for d in result.dispositions] == [
        ("D-1", "rejected"),
        ("D-2", "counted"),
    ]
