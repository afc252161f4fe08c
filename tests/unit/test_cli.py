"""The command line: exit codes, messages with positions, and no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from incentive.cli import main
from tests.helpers import EXAMPLES

AE = EXAMPLES / "account_executive"


def test_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(AE / "plan.rules")]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_check_reports_every_error_with_a_caret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "bad.rules"
    text = (AE / "plan.rules").read_text(encoding="utf-8")
    plan.write_text(text.replace("revenue / quota", "revnue / quota").replace("60%,", "50%,"))
    assert main(["check", str(plan)]) == 1
    err = capsys.readouterr().err
    assert f"{plan}:23:" in err
    assert "did you mean 'revenue'?" in err
    assert "error[P304]" in err
    assert "^" in err
    assert "2 errors" in err


def test_check_json_for_editors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "bad.rules"
    plan.write_text('plan "x"\ncurrency cny\n', encoding="utf-8")
    assert main(["check", str(plan), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert [d["code"] for d in report["diagnostics"]][:1] == ["P206"]
    assert all({"line", "column", "hint", "message"} <= set(d) for d in report["diagnostics"])


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_run_formats(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(AE), "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        data = json.loads(out)
        assert data["total"] == "181880.05"
        assert data["records"]["read"] == 13
    elif fmt == "csv":
        assert out.splitlines()[0] == "participant_id,name,base,commission,bonus,total"
        assert "R-104,Wang Fang,36000.00,10884.04,9536.01,56420.05" in out
    else:
        assert "¥56,420.05" in out
        assert "13 read = 8 counted + 5 excluded" in out


def test_json_lists_what_each_sub_period_paid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(AE.parent / "monthly_stages"), "--format", "json"]) == 0
    people = {p["id"]: p for p in json.loads(capsys.readouterr().out)["participants"]}
    parts = people["F-301"]["parts"]
    assert parts["monthly_stage"] == {"2026-07": "1000.00", "2026-08": "1000.00", "2026-09": "0.00"}
    assert len(parts["weekly_stage"]) == 13
    assert sum(Decimal(v) for v in parts["weekly_stage"].values()) == Decimal(
        people["F-301"]["components"]["weekly_stage"]
    )
    assert "parts" not in people["F-301"]["components"]


def test_explain_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(AE), "--participant", "R-104", "--lang", "zh"]) == 0
    assert "应发合计：¥56,420.05" in capsys.readouterr().out


def test_explicit_files_and_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", str(AE / "plan.rules"), "--participants", str(AE / "participants.csv")]
    assert main([*args, "--records", f"deal={AE / 'deals.csv'}", "--format", "csv"]) == 0
    assert main([*args, "--records", f"meeting={AE / 'deals.csv'}"]) == 2
    assert "no record kind 'meeting'" in capsys.readouterr().err


def test_bad_records_exit_1_with_row_field_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deals = tmp_path / "deals.csv"
    text = (AE / "deals.csv").read_text(encoding="utf-8")
    deals.write_text(text.replace("88000.00", "88OOO.00", 1), encoding="utf-8")
    args = ["run", str(AE / "plan.rules"), "--participants", str(AE / "participants.csv")]
    assert main([*args, "--records", str(deals)]) == 1
    err = capsys.readouterr().err
    assert f"{deals}:2: error[R401]: field 'amount': '88OOO.00' is not a decimal number" in err
    assert main([*args, "--records", str(deals), "--skip-invalid"]) == 0
    captured = capsys.readouterr()
    assert "1 rejected row (participants and records not paid on)" in captured.err
    assert "R-104" in captured.out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(AE), "--participant", "R-999"]) == 2
    assert "no participant 'R-999'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["run"])
    assert info.value.code == 2


def test_missing_plan_file_is_a_user_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "does/not/exist.rules"]) == 1
    assert "cannot read the plan" in capsys.readouterr().err


def test_the_installed_command_never_shows_a_traceback(tmp_path: Path) -> None:
    plan = tmp_path / "bad.rules"
    plan.write_bytes(b'plan "x"\n\xff\xfe')
    done = subprocess.run(
        [sys.executable, "-m", "incentive.cli", "check", str(plan)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "not valid UTF-8" in done.stderr


def test_check_shows_warnings_and_strict_fails_on_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "warn.rules"
    plan.write_text(
        'plan "w"\ncurrency CNY\nperiod 2026-07-01 to 2026-09-30\n'
        "participant fields: base money, region text\ncomponent c = base * 3\n",
        encoding="utf-8",
    )
    assert main(["check", str(plan)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("ok with 1 warning")
    assert "warning[W506]" in captured.err
    assert main(["check", str(plan), "--strict"]) == 1
    assert main(["check", str(plan), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert [d["code"] for d in report["diagnostics"]] == ["W506"]


def test_explain_one_participant_while_another_cannot_be_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.rules"
    plan.write_text(
        'plan "z"\ncurrency CNY\nperiod 2026-07-01 to 2026-09-30\n'
        "participant fields: quota money, base money\n"
        "measure share = base / quota\ncomponent c = base * share\n",
        encoding="utf-8",
    )
    people = tmp_path / "participants.csv"
    people.write_text("id,quota,base\nA,0,10\nB,40,20\n", encoding="utf-8")
    assert main(["run", str(plan), "--participants", str(people)]) == 1
    assert "error[E601]: participant 'A'" in capsys.readouterr().err
    args = ["explain", str(plan), "--participants", str(people)]
    assert main([*args, "--participant", "B"]) == 0
    captured = capsys.readouterr()
    assert "Total payout: ¥10.00" in captured.out
    assert "1 participant not paid" in captured.err
    assert main([*args, "--participant", "A"]) == 1


def test_run_names_the_plans_warnings_and_strict_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.rules"
    plan.write_text(
        (AE / "plan.rules")
        .read_text(encoding="utf-8")
        .replace("capped at 12000", "capped at 90000"),
        encoding="utf-8",
    )
    args = ["run", str(plan), "--participants", str(AE / "participants.csv")]
    args += ["--records", str(AE / "deals.csv")]
    assert main(args) == 0
    assert "1 warning (W504); 'incentive check" in capsys.readouterr().err
    assert main([*args, "--strict"]) == 1
    err = capsys.readouterr().err
    assert "warning[W504]" in err
    assert "(--strict)" in err


def test_the_payout_table_speaks_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(AE), "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:2] == ["参与人", "姓名"]
    assert "4 名参与人，合计 ¥181,880.05" in out
    assert "记录：读取 13 笔 = 计入 8 + 按规则排除 5 + 拒收 0" in out


# ---- statements for everyone --------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_run_writes_every_statement_as_explain_shows_it(
    lang: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "out" / "statements"  # made, parents too
    assert main(["run", str(AE), "--statements", str(folder), "--lang", lang]) == 0
    run = capsys.readouterr()
    assert "R-104" in run.out  # the payouts are printed as ever
    assert "4 statements written to" in run.err
    assert sorted(p.name for p in folder.iterdir()) == [
        "R-104.txt",
        "R-105.txt",
        "R-106.txt",
        "R-107.txt",
    ]
    for file in folder.iterdir():
        assert main(["explain", str(AE), "--participant", file.stem, "--lang", lang]) == 0
        assert file.read_text(encoding="utf-8") == capsys.readouterr().out


def test_run_writes_the_statements_of_every_plan_of_a_population(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = EXAMPLES / "manager_override"
    folder = tmp_path / "statements"
    assert main(["run", str(plans), "--statements", str(folder), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    people = [p["id"] for run in report["plans"].values() for p in run["participants"]]
    assert sorted(p.stem for p in folder.iterdir()) == sorted(people)
    for pid in people:
        assert main(["explain", str(plans), "--participant", pid]) == 0
        assert (folder / f"{pid}.txt").read_text(encoding="utf-8") == capsys.readouterr().out


def test_a_statements_folder_with_anything_in_it_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "statements"
    folder.mkdir()
    (folder / "R-104.txt").write_text("last quarter's", encoding="utf-8")
    assert main(["run", str(AE), "--statements", str(folder)]) == 2
    captured = capsys.readouterr()
    assert "the folder is not empty" in captured.err
    assert captured.out == ""  # refused before anything was paid
    assert (folder / "R-104.txt").read_text(encoding="utf-8") == "last quarter's"
    file = tmp_path / "a-file"
    file.write_text("", encoding="utf-8")
    assert main(["run", str(AE), "--statements", str(file)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def _plan_with_people(tmp_path: Path, ids: list[str]) -> Path:
    folder = tmp_path / "plan"
    folder.mkdir()
    (folder / "plan.rules").write_text(
        'plan "p"\ncurrency CNY\nperiod 2026-07-01 to 2026-09-30\n'
        "rounding half_up to 0.01 per component\n"
        "participant fields: base money\n"
        "component base = base\n",
        encoding="utf-8",
    )
    rows = "".join(f'"{pid}",{pid},100\n' for pid in ids)
    (folder / "participants.csv").write_text("id,name,base\n" + rows, encoding="utf-8")
    return folder


def test_statement_files_are_named_by_id_and_never_leave_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = _plan_with_people(tmp_path, ["王芳", "../up", "a b", "50%"])
    folder = tmp_path / "statements"
    assert main(["run", str(plan), "--statements", str(folder)]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["王芳.txt", "%2E.%2Fup.txt", "a%20b.txt", "50%25.txt"]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan", "statements"]
    assert "../up (../up)" in (folder / "%2E.%2Fup.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "ids",
    [["R-1", "r-1"], ["\ud55c", "\u1112\u1161\u11ab"]],
    ids=["case", "composed and decomposed"],
)
def test_ids_some_file_systems_would_give_one_file_are_refused_before_the_payouts(
    ids: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = _plan_with_people(tmp_path, ids)
    assert main(["run", str(plan), "--statements", str(tmp_path / "s")]) == 1
    captured = capsys.readouterr()
    assert f"'{ids[0]}' and '{ids[1]}' would share a file" in captured.err
    forms = "(they are the same letters, encoded in two Unicode forms)" in captured.err
    assert forms == (ids[0].lower() != ids[1].lower())
    assert captured.out == ""
    assert list((tmp_path / "s").iterdir()) == []


def test_a_folder_holding_only_what_a_desktop_leaves_there_is_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "statements"
    folder.mkdir()
    (folder / ".DS_Store").write_bytes(b"\0")
    assert main(["run", str(AE), "--statements", str(folder), "--quiet"]) == 0
    assert len(list(folder.glob("*.txt"))) == 4
    capsys.readouterr()


def test_a_statements_folder_that_cannot_be_made_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    assert main(["run", str(AE), "--statements", str(tmp_path / "a-file" / "inside")]) == 2
    assert "--statements" in capsys.readouterr().err


def test_an_id_too_long_for_a_file_name_is_refused_before_any_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = _plan_with_people(tmp_path, ["R-1", "R" * 300])
    assert main(["run", str(plan), "--statements", str(tmp_path / "s")]) == 1
    assert "is too long for a file name" in capsys.readouterr().err
    assert list((tmp_path / "s").iterdir()) == []


def test_the_chinese_payout_table_names_plan_lines_in_chinese(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", str(AE), "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert '  按规则排除（第22行：status = "won"）：3' in out.splitlines()
    assert "line 22" not in out
