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


# ---- examples with several plans: one population, each participant on their plan ----------
POPULATIONS = sorted(
    p for p in EXAMPLES.iterdir() if p.is_dir() and not (p / "plan.rules").exists()
)


def _run_population(folder: Path) -> incentive.PopulationResult:
    plans = incentive.load_plans(folder)
    kinds = {kind for plan in plans.values() for kind in plan.checked.record_kinds}
    records = {kind: next(folder.glob(f"{kind}*.csv")) for kind in kinds}
    return incentive.evaluate_population(plans, folder / "participants.csv", records)


def test_there_is_an_example_with_several_plans() -> None:
    assert POPULATIONS


@pytest.mark.parametrize("folder", POPULATIONS, ids=[c.name for c in POPULATIONS])
def test_population_example_plans_check_without_warnings(folder: Path) -> None:
    plans = incentive.load_plans(folder)
    assert len(plans) >= 2
    assert all(plan.checked.warnings == () for plan in plans.values())
    assert (folder / "README.md").exists()


@pytest.mark.parametrize("folder", POPULATIONS, ids=[c.name for c in POPULATIONS])
def test_population_example_payouts(folder: Path, update_golden: bool) -> None:
    result = _run_population(folder)
    lines = ["plan,participant_id,component,amount"]
    for name, run in result.runs.items():
        for p in run.participants:
            lines += [f"{name},{p.participant_id},{c.name},{c.amount}" for c in p.components]
            lines.append(f"{name},{p.participant_id},total,{p.total}")
    check_golden(folder / "expected" / "payouts.csv", "\n".join(lines) + "\n", update_golden)
    totals = [run.total for run in result.runs.values()]
    assert result.total == sum(totals, Decimal(0))
    assert result.records.read == result.records.counted + result.records.excluded + (
        result.records.rejected
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("folder", POPULATIONS, ids=[c.name for c in POPULATIONS])
def test_population_example_statements(folder: Path, lang: str, update_golden: bool) -> None:
    result = _run_population(folder)
    text = "\n".join(
        incentive.explain(p, lang=lang)  # type: ignore[arg-type]
        for run in result.runs.values()
        for p in run.participants
    )
    check_golden(folder / "expected" / f"statements.{lang}.txt", text, update_golden)


@pytest.mark.parametrize("folder", POPULATIONS, ids=[c.name for c in POPULATIONS])
def test_population_example_runs_from_the_command_line(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(folder)]) == 0
    out = capsys.readouterr().out
    for run in _run_population(folder).runs.values():
        for participant in run.participants:
            assert participant.participant_id in out
    assert "all " in out
