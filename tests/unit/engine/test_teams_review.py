"""Teams and crediting where a user's trial found them wanting: a member who cannot be
evaluated, credit rows that are lost, rejected records on statements, a gate on the edge
of its threshold, and the command line on several plans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import incentive
from incentive.cli import main
from incentive.errors import EvaluationError, RecordError
from tests.helpers import EXAMPLES

HEADER = """plan "t"
currency CNY
period 2026-07-01 to 2026-09-30
rounding half_up to 0.01 per component
"""
TEAM = (
    HEADER
    + "participant fields: quota money, team text\n"
    + "deal fields: deal_id id, owner participant, amount money\n"
    + "measure revenue = sum of deal.amount\n"
    + "measure attainment = revenue / quota\n"
    + "measure team_revenue = sum of revenue within team\n"
    + "component commission = 1% * revenue only when attainment >= 50%\n"
    + "component share = pool of 10% * team_revenue within team shared equally\n"
)
PEOPLE = [
    {"id": "B-1", "team": "Beta", "quota": "100.00"},
    {"id": "B-2", "team": "Beta", "quota": "0"},  # attainment divides by zero: E601
    {"id": "C-1", "team": "Gamma", "quota": "100.00"},
]
DEALS = [
    {"deal_id": "D-1", "owner": "B-1", "amount": "100.00"},
    {"deal_id": "D-2", "owner": "B-2", "amount": "50.00"},
    {"deal_id": "D-3", "owner": "C-1", "amount": "30.00"},
]


def test_a_member_who_cannot_be_evaluated_stops_their_team_not_the_others() -> None:
    plan = incentive.load_plan(TEAM, filename="t.rules")
    with pytest.raises(EvaluationError) as caught:
        incentive.evaluate(plan, PEOPLE, {"deal": DEALS})
    codes = [(p.code, p.participant_id) for p in caught.value.problems]
    assert codes == [("E601", "B-2"), ("E604", "B-1")]
    assert "B-2 could not be evaluated (E601" in caught.value.problems[1].message
    # Paying the others: Gamma's pool is 10% × 30.00 = 3.00; Beta is left unpaid, not
    # shared among fewer members as if B-2 had never sold anything.
    result = incentive.evaluate(plan, PEOPLE, {"deal": DEALS}, skip_invalid=True)
    assert [p.participant_id for p in result.participants] == ["C-1"]
    assert str(result.participant("C-1").amount("share")) == "3.00"
    assert len(result.unpaid) == 2


CREDIT = (
    HEADER
    + "deal fields: deal_id id, owner participant, amount money\n"
    + "credit fields: deal_id credit for deal, rep participant, share percent, overlay yes or no\n"
    + "measure revenue = sum of deal.amount\n"
    + "component commission = revenue * 10%\n"
)


def test_overlay_rows_of_a_rejected_deal_are_rejected_with_it() -> None:
    plan = incentive.load_plan(CREDIT, filename="t.rules")
    people = [{"id": p} for p in ("A-1", "A-2", "S-1")]
    deals = [{"deal_id": "D-1", "owner": "A-1", "amount": "100.00"}]
    credits = [
        {"deal_id": "D-1", "rep": "A-1", "share": "60%", "overlay": "no"},
        {"deal_id": "D-1", "rep": "A-2", "share": "30%", "overlay": "no"},
        {"deal_id": "D-1", "rep": "S-1", "share": "100%", "overlay": "yes"},
    ]
    result = incentive.evaluate(
        plan, people, {"deal": deals, "credit": credits}, skip_invalid=True
    )
    statuses = {(d.kind, d.record_id): d.status for d in result.dispositions}
    assert set(statuses.values()) == {"rejected"}
    assert len(statuses) == 4  # the deal and its three rows
    assert result.total == 0
    # Each rep is told which of their records were refused, and why.
    text = incentive.explain(result.participant("S-1"))
    assert "is an overlay on deal D-1, which is rejected" in text


def test_a_deal_whose_credit_rows_were_all_rejected_is_not_paid_to_its_owner() -> None:
    plan = incentive.load_plan(CREDIT, filename="t.rules")
    people = [{"id": "A-1"}]
    deals = [{"deal_id": "D-1", "owner": "A-1", "amount": "100.00"}]
    credits = [{"deal_id": "D-1", "rep": "X-9", "share": "100%", "overlay": "no"}]
    with pytest.raises(RecordError) as caught:
        incentive.evaluate(plan, people, {"deal": deals, "credit": credits})
    messages = [p.render() for p in caught.value.problems]
    assert any("R404" in m for m in messages)
    assert any("deal D-1 is rejected: its rows of credit (for X-9) were rejected" in m for m in messages)


def test_shares_short_of_a_rejected_row_say_so() -> None:
    plan = incentive.load_plan(CREDIT, filename="t.rules")
    people = [{"id": "A-1"}, {"id": "A-2"}]
    deals = [{"deal_id": "D-1", "owner": "A-1", "amount": "100.00"}]
    credits = [
        {"deal_id": "D-1", "rep": "A-1", "share": "50%", "overlay": "no"},
        {"deal_id": "D-1", "rep": "X-9", "share": "50%", "overlay": "no"},
    ]
    with pytest.raises(RecordError) as caught:
        incentive.evaluate(plan, people, {"deal": deals, "credit": credits})
    text = str(caught.value)
    assert "add up to 50% without the rows of credit rejected above (for X-9)" in text


def test_a_gate_on_the_edge_shows_the_places_that_decide_it() -> None:
    plan = incentive.load_plan(
        HEADER
        + "participant fields: quota positive money\n"
        + "deal fields: deal_id id, owner participant, amount money\n"
        + "measure revenue = sum of deal.amount\n"
        + "measure attainment = revenue / quota\n"
        + "component bonus = 100 only when attainment >= 90%\n",
        filename="t.rules",
    )
    # 2,699,999.99 ÷ 3,000,000.00 = 89.99999967%: shown to 6 places it would read 90.000000%.
    result = incentive.evaluate(
        plan,
        [{"id": "A", "quota": "3000000.00"}],
        {"deal": [{"deal_id": "D", "owner": "A", "amount": "2699999.99"}]},
    )
    text = incentive.explain(result.participant("A"))
    assert "Gate: attainment 89.9999997% ≥ 90% does not hold" in text


def test_a_pool_may_read_a_total_of_the_whole_plan() -> None:
    plan = incentive.load_plan(
        HEADER
        + "participant fields: team text\n"
        + "deal fields: deal_id id, owner participant, amount money\n"
        + "measure revenue = sum of deal.amount\n"
        + "measure all_revenue = sum of revenue within everyone\n"
        + "component share = pool of 1% * all_revenue within team shared equally\n",
        filename="t.rules",
    )
    people = [{"id": "A", "team": "x"}, {"id": "B", "team": "x"}, {"id": "C", "team": "y"}]
    deals = [{"deal_id": "D", "owner": "C", "amount": "300.00"}]
    result = incentive.evaluate(plan, people, {"deal": deals})
    # 1% × 300.00 = 3.00 for each team: 1.50 each in x, 3.00 for C alone in y.
    assert [str(p.total) for p in result.participants] == ["1.50", "1.50", "3.00"]


def test_json_output_stays_json_with_an_explanation(capsys: pytest.CaptureFixture[str]) -> None:
    folder = EXAMPLES / "team_honor"
    assert main(["run", str(folder), "--format", "json", "--explain", "N-4"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["explanation"].startswith("Li Na (N-4)")
    assert report["unpaid"] == []


def test_check_json_on_a_folder_of_plans(capsys: pytest.CaptureFixture[str]) -> None:
    folder: Path = EXAMPLES / "manager_override"
    assert main(["check", str(folder), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(report["plans"]) == ["ae", "manager", "se"]
    assert report["ok"] is True


def test_records_take_several_files_after_one_flag(capsys: pytest.CaptureFixture[str]) -> None:
    folder = EXAMPLES / "manager_override"
    args = ["run", str(folder), "--records", f"deal={folder / 'deals.csv'}"]
    assert main([*args, f"credit={folder / 'credit.csv'}", "--format", "csv"]) == 0
    assert "V-1,Gao Ming,manager,override,11500.00" in capsys.readouterr().out
