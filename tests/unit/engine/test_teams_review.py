"""Teams and crediting where a user's trial found them wanting: a member who cannot be
evaluated, credit rows that are lost, rejected records on statements, a gate on the edge
of its threshold, and the command line on several plans."""

from __future__ import annotations

import json
import re
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
    result = incentive.evaluate(plan, people, {"deal": deals, "credit": credits}, skip_invalid=True)
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
    assert any(
        "deal D-1 is rejected: rows of its credit (for X-9) were rejected" in m for m in messages
    )


def test_a_deal_with_a_rejected_row_of_credit_is_rejected_whole() -> None:
    plan = incentive.load_plan(CREDIT, filename="t.rules")
    people = [{"id": "A-1"}, {"id": "A-2"}, {"id": "M"}]
    deals = [{"deal_id": "D-1", "owner": "A-1", "amount": "100.00"}]
    cases = [
        # a share to someone who is not a participant: the other half alone would pay A-1
        [("A-1", "50%", "no"), ("X-9", "50%", "no")],
        # a split that is lost but an overlay that is not: the owner must not get it all
        [("X-9", "100%", "no"), ("M", "50%", "yes")],
        # a row that cannot be read at all
        [("A-2", "5O%", "no"), ("A-1", "50%", "no")],
    ]
    for rows in cases:
        credits = [
            {"deal_id": "D-1", "rep": rep, "share": share, "overlay": overlay}
            for rep, share, overlay in rows
        ]
        result = incentive.evaluate(
            plan, people, {"deal": deals, "credit": credits}, skip_invalid=True
        )
        assert result.total == 0, rows
        statuses = {d.status for d in result.dispositions}
        assert statuses == {"rejected"}, rows
        deal = next(d for d in result.dispositions if d.kind == "deal")
        assert "deal D-1 is rejected: rows of its credit" in (deal.reason or "")


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


def test_records_of_several_kinds_for_a_folder_of_plans(
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = EXAMPLES / "manager_override"
    args = ["run", str(folder), "--records", f"deal={folder / 'deals.csv'}"]
    assert main([*args, "--records", f"credit={folder / 'credit.csv'}", "--format", "csv"]) == 0
    assert "V-1,Gao Ming,manager,override,11500.00" in capsys.readouterr().out


# ---- found in review ----------------------------------------------------------------------
def test_a_share_outside_zero_to_one_hundred_percent_is_refused() -> None:
    plan = incentive.load_plan(CREDIT, filename="t.rules")
    people = [{"id": "A-1"}, {"id": "A-2"}]
    deals = [{"deal_id": "D-1", "owner": "A-1", "amount": "100.00"}]
    credits = [
        {"deal_id": "D-1", "rep": "A-1", "share": "250%", "overlay": "no"},
        {"deal_id": "D-1", "rep": "A-2", "share": "-150%", "overlay": "no"},
    ]
    with pytest.raises(RecordError) as caught:
        incentive.evaluate(plan, people, {"deal": deals, "credit": credits})
    text = str(caught.value)
    assert "'250%' is not a share: a row credits more than 0% and at most 100%" in text
    assert "'-150%' is not a share" in text
    assert "deal D-1 is rejected: a share of it is not between 0% and 100%" in text


def test_shares_are_added_exactly() -> None:
    plan = incentive.load_plan(CREDIT, filename="t.rules")
    people = [{"id": "A-1"}, {"id": "A-2"}]
    deals = [{"deal_id": "D-1", "owner": "A-1", "amount": "100.00"}]
    credits = [  # 100.00000000000000000000000000004%: not 100%, however many digits it takes
        {"deal_id": "D-1", "rep": "A-1", "share": "50.00000000000000000000000000004%"},
        {"deal_id": "D-1", "rep": "A-2", "share": "50%"},
    ]
    for row in credits:
        row["overlay"] = "no"
    with pytest.raises(
        RecordError, match=re.escape("add up to 100.00000000000000000000000000004%")
    ):
        incentive.evaluate(plan, people, {"deal": deals, "credit": credits})


def _population(plans: dict[str, str], people: list[dict[str, str]], **records: object) -> object:
    compiled = {
        name: incentive.load_plan(text, filename=f"{name}.rules") for name, text in plans.items()
    }
    return incentive.evaluate_population(compiled, people, records)  # type: ignore[arg-type]


AE = HEADER + "deal fields: deal_id id, owner participant, amount money\n"
MANAGER = (
    HEADER
    + "participant fields: boss participant\n"
    + "deal fields: deal_id id, owner participant, amount money\n"
    + "measure revenue = sum of deal.amount\n"
    + "component override = override of revenue through boss:\n    level 1 pays 3%\n"
)


def test_an_override_on_a_measure_that_is_not_an_amount_is_refused() -> None:
    ae = AE + "measure revenue = count of deal\ncomponent c = 10 only when revenue > 0\n"
    people = [{"id": "M", "plan": "manager", "boss": ""}, {"id": "A", "plan": "ae", "boss": "M"}]
    deals = [{"deal_id": "D", "owner": "A", "amount": "100.00"}]
    with pytest.raises(EvaluationError) as caught:
        _population({"ae": ae, "manager": MANAGER}, people, deal=deals)
    [problem] = caught.value.problems
    assert (problem.code, problem.participant_id) == ("E605", "M")
    assert "'revenue' in their plan 'ae' is not an amount" in problem.message


def test_plans_for_different_periods_do_not_run_together() -> None:
    q4 = MANAGER.replace("2026-07-01 to 2026-09-30", "2026-10-01 to 2026-12-31")
    ae = AE + "measure revenue = sum of deal.amount\ncomponent c = revenue * 1%\n"
    people = [{"id": "M", "plan": "manager", "boss": ""}, {"id": "A", "plan": "ae", "boss": "M"}]
    with pytest.raises(
        EvaluationError, match=re.escape("cover different periods: ae.rules 2026-07-01")
    ):
        _population({"ae": ae, "manager": q4}, people, deal=[])


def test_plans_must_all_read_the_rows_that_credit_a_shared_kind() -> None:
    ae = AE + "measure revenue = sum of deal.amount\ncomponent c = revenue * 1%\n"
    se = CREDIT.replace("revenue * 10%", "revenue * 1%")
    people = [{"id": "A", "plan": "ae"}, {"id": "S", "plan": "se"}]
    with pytest.raises(
        EvaluationError, match=re.escape("ae.rules reads 'deal' records but not the 'credit'")
    ):
        _population({"ae": ae, "se": se}, people, deal=[], credit=[])


def test_a_record_one_plan_rejects_is_rejected_for_every_plan() -> None:
    # The manager plan declares the amount as positive; the ae plan would take a zero.
    ae = AE + "measure revenue = sum of deal.amount\ncomponent c = revenue * 1% + 5\n"
    strict = MANAGER.replace("amount money", "amount positive money")
    people = [{"id": "M", "plan": "manager", "boss": ""}, {"id": "A", "plan": "ae", "boss": "M"}]
    deals = [{"deal_id": "D", "owner": "A", "amount": "0"}]
    compiled = {
        "ae": incentive.load_plan(ae, filename="ae.rules"),
        "manager": incentive.load_plan(strict, filename="manager.rules"),
    }
    result = incentive.evaluate_population(compiled, people, {"deal": deals}, skip_invalid=True)
    assert [d.status for d in result.dispositions] == ["rejected"]
    assert str(result.participant("A").total) == "5.00"  # 0 of revenue counted


def test_a_text_tie_cannot_be_ordered_highest_first() -> None:
    with pytest.raises(
        incentive.PlanCheckError, match="orders numbers or dates; 'region' is a text"
    ):
        incentive.load_plan(
            HEADER
            + "participant fields: team text, region text\n"
            + "deal fields: deal_id id, owner participant, amount money\n"
            + "measure revenue = sum of deal.amount\n"
            + "ranking top = revenue highest first within team, ties by region highest first\n"
            + "component c = 1 only when top in top 1\n",
            filename="t.rules",
        )


def test_ids_with_digits_of_other_scripts_sort_without_error() -> None:
    plan = incentive.load_plan(
        HEADER
        + "participant fields: team text\n"
        + "deal fields: deal_id id, owner participant, amount money\n"
        + "measure revenue = sum of deal.amount\n"
        + "ranking top = revenue highest first within team, ties by id\n"
        + "component c = 1 only when top in top 1\n",
        filename="t.rules",
    )
    people = [{"id": "R-1²", "team": "x"}, {"id": "R-1", "team": "x"}]
    deals = [
        {"deal_id": "D-1", "owner": "R-1²", "amount": "5.00"},
        {"deal_id": "D-2", "owner": "R-1", "amount": "5.00"},
    ]
    result = incentive.evaluate(plan, people, {"deal": deals})
    # R-1 before R-1² (a shorter text with the same number first).
    assert [str(p.total) for p in result.participants] == ["0.00", "1.00"]


def test_a_pool_of_many_digits_is_shared_exactly() -> None:
    plan = incentive.load_plan(
        HEADER
        + "participant fields: team text\n"
        + "component share = pool of 1000000000000000000000000000000000.03 within team "
        + "shared equally\n",
        filename="t.rules",
    )
    people = [{"id": f"A-{n}", "team": "x"} for n in (1, 2, 3)]
    result = incentive.evaluate(plan, people, {})
    parts = [str(p.total) for p in result.participants]
    # 10^33 + 0.03 in cents is 3 × 333…333.34 + 1: the first (by id) takes the extra cent.
    assert parts == [
        "333333333333333333333333333333333.35",
        "333333333333333333333333333333333.34",
        "333333333333333333333333333333333.34",
    ]
    assert str(result.total) == "1000000000000000000000000000000000.03"


def test_a_long_cycle_is_named_briefly() -> None:
    plan = incentive.load_plan(
        HEADER + "participant fields: boss participant\ncomponent c = 1\n", filename="t.rules"
    )
    people = [{"id": f"P{n}", "boss": f"P{(n + 1) % 40}"} for n in range(40)]
    with pytest.raises(RecordError) as caught:
        incentive.evaluate(plan, people, {})
    first = caught.value.problems[0].render()
    assert "(40 people)" in first
    assert "…" in first
    assert len(first) < 300


def test_an_empty_team_is_a_missing_value() -> None:
    plan = incentive.load_plan(
        HEADER
        + "participant fields: team text\n"
        + "component share = pool of 10 within team shared equally\n",
        filename="t.rules",
    )
    with pytest.raises(RecordError, match="field 'team': is empty"):
        incentive.evaluate(plan, [{"id": "A", "team": ""}], {})


def test_a_population_needs_a_plan() -> None:
    with pytest.raises(ValueError, match="at least one plan"):
        incentive.evaluate_population({}, [], {})


def _syntax_errors(text: str) -> list[incentive.Diagnostic]:
    with pytest.raises(incentive.PlanSyntaxError) as caught:
        incentive.load_plan(text, filename="t.rules")
    return list(caught.value.errors)


EXAMPLE = (EXAMPLES / "team_honor" / "plan.rules").read_text(encoding="utf-8")


def test_a_missing_comma_in_a_rates_row_is_one_error_about_rates() -> None:
    text = EXAMPLE.replace("USD 7.1450\n", "USD 7.1450 EUR 7.8120\n")
    [error] = _syntax_errors(text)
    assert (error.code, error.span.line) == ("P104", 23)
    assert error.message == "a comma is missing before the rate of 'EUR'"


def test_a_trailing_comma_after_a_ranking_is_one_error_with_a_hint() -> None:
    text = EXAMPLE.replace("then id\n", "then id,\n")
    [error] = _syntax_errors(text)
    lines = text.split("\n")
    number = next(n for n, line in enumerate(lines, 1) if line.endswith("then id,"))
    assert (error.span.line, error.span.column) == (number, len(lines[number - 1]))  # the comma
    assert error.hint == "remove the comma, or write what should follow it"


# ---- found in the second review -----------------------------------------------------------
def test_a_failure_inside_a_level_does_not_depend_on_the_order_of_participants() -> None:
    plan = incentive.load_plan(
        HEADER
        + "participant fields: quota money, team text\n"
        + "deal fields: deal_id id, owner participant, amount money\n"
        + "measure revenue = sum of deal.amount\n"
        + "measure team_revenue = sum of revenue within team\n"
        + "measure ratio = team_revenue / quota\n"
        + "measure team_quota = sum of quota within team\n"
        + "component c = team_quota * 1% + 0 * ratio\n",
        filename="t.rules",
    )
    people = [{"id": "A", "team": "x", "quota": "100.00"}, {"id": "B", "team": "x", "quota": "0"}]
    deals = [{"deal_id": "D", "owner": "A", "amount": "10.00"}]
    paid = []
    for order in (people, people[::-1]):
        result = incentive.evaluate(plan, order, {"deal": deals}, skip_invalid=True)
        paid.append({p.participant_id: str(p.total) for p in result.participants})
    # B fails at the level of `ratio` (a zero quota); team_quota, of the same level, was
    # worked out from values below it, whatever the order: A is paid 1% of 100.00.
    assert paid == [{"A": "1.00"}, {"A": "1.00"}]


def test_a_row_that_cannot_be_read_is_listed_on_its_owners_statement() -> None:
    plan = incentive.load_plan(
        HEADER
        + "deal fields: deal_id id, owner participant, amount money\n"
        + "measure revenue = sum of deal.amount\ncomponent c = revenue * 1%\n",
        filename="t.rules",
    )
    deals = [{"deal_id": "D-1", "owner": "A", "amount": "12,5O"}]
    result = incentive.evaluate(plan, [{"id": "A"}], {"deal": deals}, skip_invalid=True)
    text = incentive.explain(result.participant("A"))
    assert "Records naming you that were rejected before the payout" in text
    assert "D-1" in text


def test_a_credit_row_another_plan_refused_rejects_its_deal_everywhere() -> None:
    ae = CREDIT.replace(
        "overlay yes or no\n", "overlay yes or no, batch number\n"
    )  # ae also reads a batch number, which the overlay row lacks
    se = CREDIT.replace("revenue * 10%", "revenue * 1%")
    people = [{"id": "A", "plan": "ae"}, {"id": "S", "plan": "se"}]
    deals = [{"deal_id": "D-1", "owner": "A", "amount": "100.00"}]
    credits = [
        {"deal_id": "D-1", "rep": "A", "share": "100%", "overlay": "no", "batch": "1"},
        {"deal_id": "D-1", "rep": "S", "share": "100%", "overlay": "yes", "batch": "x"},
    ]
    plans = {
        "ae": incentive.load_plan(ae, filename="ae.rules"),
        "se": incentive.load_plan(se, filename="se.rules"),
    }
    result = incentive.evaluate_population(
        plans, people, {"deal": deals, "credit": credits}, skip_invalid=True
    )
    assert result.total == 0  # nobody is paid on a deal whose credit is incomplete
    deal = next(d for d in result.dispositions if d.kind == "deal")
    assert deal.status == "rejected"
    for run in result.runs.values():  # each plan reconciles every row it read
        assert run.records.read == 3


def test_a_tiny_percentage_is_exact() -> None:
    from incentive.money import percent_value

    assert str(percent_value("0.0000001")) == "1E-9"
    assert str(percent_value("50.00000000000000000000000000004")) == (
        "0.5000000000000000000000000000004"
    )


def test_recovery_in_a_plan_whose_statements_are_all_indented() -> None:
    text = "\n".join("    " + line for line in EXAMPLE.splitlines())
    text = text.replace("revenue * 3%", "revenue * * 3%").replace("5000 *", "5000 * *")
    errors = _syntax_errors(text)
    assert len(errors) == 2  # both statements' errors, not only the first
