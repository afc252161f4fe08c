"""Progress on long runs: the engine reports it now and then, the CLI draws it on a
terminal only, and never where the output is read by a program."""

from __future__ import annotations

import io

import pytest

import incentive
from incentive import cli
from incentive.engine import runtime
from tests.helpers import EXAMPLES

PLAN = """plan "t"
currency CNY
period 2026-07-01 to 2026-09-30
deal fields: deal_id id, owner participant, amount money
measure revenue = sum of deal.amount
component commission = revenue * 1%
"""


def test_the_engine_reports_reading_and_evaluating(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("incentive.engine.records.ROWS_PER_REPORT", 4)
    monkeypatch.setattr("incentive.engine.evaluate.PARTICIPANTS_PER_REPORT", 2)
    plan = incentive.load_plan(PLAN, filename="t.rules")
    people = [{"id": f"P{n}"} for n in range(5)]
    deals = [{"deal_id": f"D{n}", "owner": f"P{n % 5}", "amount": "1.00"} for n in range(10)]
    seen: list[tuple[str, int, int | None]] = []
    result = incentive.evaluate(
        plan,
        people,
        {"deal": deals},
        progress=lambda *report: seen.append(report),
        engine="straightforward",
    )
    assert result.total == sum(p.total for p in result.participants)
    reading = [r for r in seen if r[0] == "reading deal"]
    assert reading == [("reading deal", 4, None), ("reading deal", 8, None)]
    evaluating = [r for r in seen if r[0] == "evaluating"]
    # Each participant is met twice (measures, then components): 10 steps in all.
    assert evaluating == [("evaluating", n, 10) for n in (2, 4, 6, 8, 10)]
    assert runtime.PARTICIPANTS_PER_REPORT > 1  # the real setting reports rarely


def test_the_columnar_engine_reports_its_blocks_and_the_end() -> None:
    plan = incentive.load_plan(PLAN, filename="t.rules")
    people = [{"id": f"P{n}"} for n in range(5)]
    deals = [{"deal_id": f"D{n}", "owner": f"P{n % 5}", "amount": "1.00"} for n in range(10)]
    seen: list[tuple[str, int, int | None]] = []
    incentive.evaluate(
        plan,
        people,
        {"deal": deals},
        progress=lambda *report: seen.append(report),
        engine="columnar",
    )
    assert seen[-1] == ("evaluating", 5, 5)


def test_the_bar_waits_then_draws_then_wipes(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("incentive.cli.time.monotonic", lambda: now[0])
    out = io.StringIO()
    bar = cli._ProgressBar(out)
    bar("evaluating", 10, 100)
    assert out.getvalue() == ""  # a short run shows no bar
    now[0] += 1.0
    bar("evaluating", 50, 100)
    assert "evaluating [###############...............]  50% 50/100" in out.getvalue()
    now[0] += 0.01
    bar("evaluating", 60, 100)
    assert " 60%" not in out.getvalue()  # at most ten updates a second
    bar("evaluating", 100, 100)
    assert "100% 100/100" in out.getvalue()  # the last one always
    bar.close()
    assert out.getvalue().endswith("\r" + " " * 72 + "\r")


def test_no_bar_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", str(EXAMPLES / "account_executive")]) == 0
    captured = capsys.readouterr()
    assert "evaluating" not in captured.err
    assert cli.main(["run", str(EXAMPLES / "account_executive"), "--quiet"]) == 0
