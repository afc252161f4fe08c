"""Every plan in rules_examples/ checks without warnings, runs, and explains itself.

Payouts and both languages' statements are compared byte for byte with the golden files
in each example's expected/ folder (rewrite them with ``pytest --update-golden``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import incentive
from incentive.cli import main
from tests.helpers import EXAMPLES, check_golden

CASES = sorted(p.parent for p in EXAMPLES.glob("*/plan.rules"))


def _run(folder: Path) -> incentive.RunResult:
    plan = incentive.load_plan(folder / "plan.rules")
    records = {}
    for kind in plan.checked.record_kinds:
        stems = [kind[:-1] + "ies" if kind.endswith("y") else kind + "s", kind]
        records[kind] = next(folder / f"{s}.csv" for s in stems if (folder / f"{s}.csv").exists())
    return incentive.evaluate(plan, folder / "participants.csv", records)


def _payouts_csv(result: incentive.RunResult) -> str:
    names = [c.name for c in result.participants[0].components]
    lines = [",".join(["participant_id", *names, "total"])]
    for p in result.participants:
        lines.append(
            ",".join([p.participant_id, *(str(c.amount) for c in p.components), str(p.total)])
        )
    return "\n".join(lines) + "\n"


def test_there_are_at_least_three_examples() -> None:
    assert len(CASES) >= 3


@pytest.mark.parametrize("folder", CASES, ids=[c.name for c in CASES])
def test_example_checks_without_warnings(folder: Path) -> None:
    plan = incentive.load_plan(folder / "plan.rules")
    assert plan.checked.warnings == ()
    assert (folder / "README.md").exists()


@pytest.mark.parametrize("folder", CASES, ids=[c.name for c in CASES])
def test_example_payouts(folder: Path, update_golden: bool) -> None:
    result = _run(folder)
    check_golden(folder / "expected" / "payouts.csv", _payouts_csv(result), update_golden)
    assert result.total == sum((p.total for p in result.participants), Decimal(0))


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("folder", CASES, ids=[c.name for c in CASES])
def test_example_statements(folder: Path, lang: str, update_golden: bool) -> None:
    result = _run(folder)
    text = "\n".join(incentive.explain(p, lang=lang) for p in result.participants)  # type: ignore[arg-type]
    check_golden(folder / "expected" / f"statements.{lang}.txt", text, update_golden)


@pytest.mark.parametrize("folder", CASES, ids=[c.name for c in CASES])
def test_example_runs_from_the_command_line(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(folder)]) == 0
    out = capsys.readouterr().out
    result = _run(folder)
    for participant in result.participants:
        assert participant.participant_id in out
    assert "records:" in out
