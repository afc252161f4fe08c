"""Records: every bad row is reported with file, row, field and value; nothing is lost."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import incentive
from incentive.errors import RecordError

PLAN = """
plan "t"
currency CNY
period 2026-07-01 to 2026-09-30
participant fields: quota money, csat score 0..100, share percent
deal fields: deal_id id, owner participant, amount money, closed_on date, status text
measure revenue = sum of deal.amount where status = "won" and closed_on in period
component commission = revenue * 10%
"""

PEOPLE = [
    {"id": "R-1", "quota": "1000.00", "csat": "90", "share": "50%"},
    {"id": "R-2", "quota": "2000.00", "csat": "70", "share": "12.5%"},
]


def _plan() -> incentive.CompiledPlan:
    return incentive.load_plan(PLAN, filename="t.rules")


def _deal(n: int, **changes: Any) -> dict[str, Any]:
    row = {
        "deal_id": f"D-{n}",
        "owner": "R-1",
        "amount": "100.00",
        "closed_on": "2026-08-01",
        "status": "won",
    }
    row.update(changes)
    return row


@pytest.mark.parametrize(
    ("changes", "code", "field", "reason"),
    [
        pytest.param(
            {"amount": "12,34O.00"}, "R401", "amount", "is not a decimal number", id="ocr"
        ),
        pytest.param({"amount": "-5.00"}, "R406", "amount", "is negative", id="negative"),
        pytest.param({"amount": 0.1}, "R401", "amount", "floating-point", id="float"),
        pytest.param({"amount": "1e9"}, "R401", "amount", "is not a decimal number", id="exponent"),
        pytest.param({"amount": "NaN"}, "R401", "amount", "is not a decimal number", id="nan"),
        pytest.param({"closed_on": "2026-02-30"}, "R401", "closed_on", "is not a date", id="date"),
        pytest.param({"closed_on": "01/08/2026"}, "R401", "closed_on", "is not a date", id="us"),
        pytest.param({"owner": "R-9"}, "R404", "owner", "is not a participant", id="unknown"),
        pytest.param({"deal_id": ""}, "R402", "deal_id", "is empty", id="empty-id"),
    ],
)
def test_a_bad_value_is_reported_with_row_field_and_value(
    changes: dict[str, Any], code: str, field: str, reason: str
) -> None:
    with pytest.raises(RecordError) as info:
        incentive.evaluate(_plan(), PEOPLE, {"deal": [_deal(1), _deal(2, **changes)]})
    [problem] = info.value.problems
    assert (problem.code, problem.row, problem.field) == (code, 2, field)
    assert reason in problem.reason
    assert "nobody was paid" in str(info.value)


def test_a_row_in_memory_without_a_field_is_one_bad_row_whatever_its_place() -> None:
    # Rows in memory (and JSON objects) have their own keys, not a header: a row without
    # `amount` is that row's problem, skipped like any bad row, wherever it comes.
    row = _deal(1)
    del row["amount"]
    for deals in ([row, _deal(2)], [_deal(2), row]):
        with pytest.raises(RecordError) as info:
            incentive.evaluate(_plan(), PEOPLE, {"deal": deals})
        [problem] = info.value.problems
        assert (problem.code, problem.field, problem.reason) == ("R402", "amount", "is missing")
        assert not problem.whole_file
        result = incentive.evaluate(_plan(), PEOPLE, {"deal": deals}, skip_invalid=True)
        assert result.participant("R-1").total == Decimal("10.00")


@pytest.mark.parametrize("engine", ["auto", "straightforward"])
def test_a_column_missing_from_a_file_is_never_skipped(engine: str, tmp_path: Path) -> None:
    # Skipping its rows would pay everyone as if they had sold nothing.
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "deal_id,owner,ammount,closed_on,status\n"
        + "".join(f"D-{n},R-1,100.00,2026-08-01,won\n" for n in range(5)),
        encoding="utf-8",
    )
    with pytest.raises(RecordError) as info:
        incentive.evaluate(_plan(), PEOPLE, {"deal": deals}, skip_invalid=True, engine=engine)  # type: ignore[arg-type]
    [problem] = info.value.problems
    assert (problem.code, problem.field, problem.whole_file) == ("R402", "amount", True)
    assert "did you mean 'ammount'?" in problem.reason
    assert str(info.value).endswith("nobody was paid (fix the input and run again)")


def test_a_column_missing_from_the_participants_file_is_one_problem(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        "id,qouta,csat,share\nR-1,1000.00,90,50%\nR-2,2000.00,70,10%\n", encoding="utf-8"
    )
    deals = [_deal(1), _deal(2, owner="R-2")]
    with pytest.raises(RecordError) as info:
        incentive.evaluate(_plan(), people, {"deal": deals}, skip_invalid=True)
    assert [(p.code, p.field) for p in info.value.problems] == [("R402", "quota")]


def test_duplicate_record_ids_and_participants() -> None:
    people = [*PEOPLE, dict(PEOPLE[0])]
    with pytest.raises(RecordError) as info:
        incentive.evaluate(_plan(), people, {"deal": [_deal(1), _deal(1)]})
    assert sorted(p.code for p in info.value.problems) == ["R403", "R407"]


def test_participant_values_are_checked_against_their_types() -> None:
    people = [{"id": "R-1", "quota": "1000", "csat": "101", "share": "0.5"}]
    with pytest.raises(RecordError) as info:
        incentive.evaluate(_plan(), people, {"deal": []})
    reasons = {p.field: p.reason for p in info.value.problems}
    assert "outside the score range 0..100" in reasons["csat"]
    assert "% sign" in reasons["share"]


def test_csv_rows_are_numbered_as_lines(tmp_path: Path) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "deal_id,owner,amount,closed_on,status\n"
        "D-1,R-1,100.00,2026-08-01,won\n"
        "D-2,R-1,12,34O.00,2026-08-01,won\n",
        encoding="utf-8",
    )
    with pytest.raises(RecordError) as info:
        incentive.evaluate(_plan(), PEOPLE, {"deal": deals})
    assert info.value.problems[0].render().startswith(f"{deals}:3:")


def test_json_numbers_are_read_exactly(tmp_path: Path) -> None:
    deals = tmp_path / "deals.json"
    deals.write_text(json.dumps([_deal(1, amount=None)]).replace("null", "0.1"), "utf-8")
    result = incentive.evaluate(_plan(), PEOPLE, {"deal": deals})
    assert result.participant("R-1").total == Decimal("0.01")


def test_skip_invalid_pays_the_rest_and_lists_the_rejected() -> None:
    deals = [_deal(1), _deal(2, amount="x"), _deal(3, owner="nobody")]
    result = incentive.evaluate(_plan(), PEOPLE, {"deal": deals}, skip_invalid=True)
    assert result.participant("R-1").total == Decimal("10.00")
    assert [d.status for d in result.dispositions] == ["counted", "rejected", "rejected"]
    assert len(result.rejected) == 2


def test_ten_thousand_records_with_a_few_hundred_bad_reconcile_exactly() -> None:
    rng = random.Random(20260701)
    deals: list[dict[str, Any]] = []
    bad = 0
    for n in range(10_000):
        row = _deal(
            n,
            owner=rng.choice(["R-1", "R-2"]),
            amount=f"{rng.randint(100, 999_999) / 100:.2f}",
            closed_on=rng.choice(["2026-06-30", "2026-07-01", "2026-09-30", "2026-10-01"]),
            status=rng.choice(["won", "won", "lost"]),
        )
        if rng.random() < 0.03:
            bad += 1
            row[rng.choice(["amount", "closed_on", "owner"])] = rng.choice(["", "12,3O", "n/a"])
        deals.append(row)
    result = incentive.evaluate(_plan(), PEOPLE, {"deal": deals}, skip_invalid=True)
    summary = result.records
    assert 200 <= bad <= 400
    assert summary.read == 10_000
    assert summary.rejected == bad
    assert summary.read == summary.counted + summary.excluded + summary.rejected
    assert sum(summary.excluded_by_rule.values()) == summary.excluded
    assert sorted(d.record_id for d in result.dispositions) == sorted(r["deal_id"] for r in deals)
    counted = {d.record_id for d in result.dispositions if d.status == "counted"}
    for pid in ("R-1", "R-2"):
        revenue = sum(
            (Decimal(r["amount"]) for r in deals if r["deal_id"] in counted and r["owner"] == pid),
            Decimal(0),
        )
        expected = (revenue * Decimal("0.1")).quantize(Decimal("0.01"))
        assert result.participant(pid).total == expected


def test_percentages_need_their_sign_in_memory_too() -> None:
    people: list[dict[str, Any]] = [
        {**PEOPLE[0], "share": Decimal("0.5")},
        {**PEOPLE[1], "share": "NaN%"},
    ]
    with pytest.raises(RecordError) as info:
        incentive.evaluate(_plan(), people, {"deal": []})
    assert [(p.row, p.field) for p in info.value.problems] == [(1, "share"), (2, "share")]


def test_a_row_that_is_not_a_mapping_is_rejected_not_crashed() -> None:
    rows: list[Any] = [_deal(1), "oops", ["a"]]
    result = incentive.evaluate(_plan(), PEOPLE, {"deal": rows}, skip_invalid=True)
    assert [d.status for d in result.dispositions] == ["counted", "rejected", "rejected"]
    assert "is not a mapping" in result.rejected[0]


def test_values_that_are_not_single_values_are_refused() -> None:
    with pytest.raises(RecordError) as info:
        incentive.evaluate(_plan(), PEOPLE, {"deal": [_deal(1, status=["won"])]})
    assert info.value.problems[0].reason == "is not a single value"


def test_a_column_named_twice_is_refused(tmp_path: Path) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "deal_id,owner,amount,closed_on,status,amount\nD-1,R-1,1000.00,2026-08-01,won,5.00\n",
        encoding="utf-8",
    )
    with pytest.raises(RecordError, match="names the column 'amount' twice"):
        incentive.evaluate(_plan(), PEOPLE, {"deal": deals})


def test_a_json_key_given_twice_is_refused(tmp_path: Path) -> None:
    deals = tmp_path / "deals.json"
    deals.write_text(
        '[{"deal_id": "D-1", "owner": "R-1", "amount": "1000.00", "amount": "5.00",'
        ' "closed_on": "2026-08-01", "status": "won"}]',
        encoding="utf-8",
    )
    with pytest.raises(RecordError, match="names the field 'amount' twice"):
        incentive.evaluate(_plan(), PEOPLE, {"deal": deals})


def test_a_record_kind_without_input_is_refused_at_every_entry_point() -> None:
    plan = _plan()
    with pytest.raises(RecordError, match="no 'deal' records were given"):
        incentive.load_inputs(plan.checked, PEOPLE, {})
    with pytest.raises(RecordError, match="no 'deal' records were given"):
        incentive.evaluate(plan, PEOPLE, {})


def test_records_of_a_rejected_participant_say_so() -> None:
    people = [PEOPLE[0], {**PEOPLE[1], "quota": "lots"}]
    result = incentive.evaluate(
        _plan(), people, {"deal": [_deal(1, owner="R-2")]}, skip_invalid=True
    )
    assert "belongs to a participant whose row was rejected" in str(result.dispositions[0].reason)


def test_field_names_never_become_python_attributes() -> None:
    plan = incentive.load_plan(
        'plan "t"\ncurrency CNY\nperiod 2026-07-01 to 2026-09-30\n'
        "participant fields: model_config money, __class__ money, _x money\n"
        "component c = model_config + __class__ + _x",
        filename="t.rules",
    )
    row = {"id": "R-1", "model_config": "1.00", "__class__": "2.00", "_x": "3.00"}
    assert incentive.evaluate(plan, [row], {}).total == Decimal("6.00")


@pytest.mark.parametrize(
    "amount",
    [Decimal("1e-999999999"), Decimal("1e41"), "0." + "0" * 45 + "1", Decimal("Infinity")],
)
def test_magnitudes_no_payroll_has_are_refused(amount: object) -> None:
    with pytest.raises(RecordError) as info:
        incentive.evaluate(_plan(), PEOPLE, {"deal": [_deal(1, amount=amount)]})
    assert info.value.problems[0].field == "amount"


def test_csv_files_are_streamed_not_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV file is read a line at a time (a JSON one needs its whole text)."""
    plan = incentive.load_plan(
        'plan "t"\ncurrency CNY\nperiod 2026-07-01 to 2026-09-30\n'
        "deal fields: deal_id id, owner participant, amount money\n"
        "measure revenue = sum of deal.amount\ncomponent c = revenue * 1%\n",
        filename="t.rules",
    )
    people = tmp_path / "people.csv"
    people.write_text("id\nA\n", encoding="utf-8")
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "deal_id,owner,amount\n" + "".join(f"D{n},A,1.00\n" for n in range(1000)),
        encoding="utf-8",
    )

    def whole(self: Path) -> bytes:
        raise AssertionError(f"{self} was read whole")

    monkeypatch.setattr(Path, "read_bytes", whole)
    result = incentive.evaluate(plan, people, {"deal": deals})
    assert str(result.total) == "10.00"  # 1% of 1,000.00
