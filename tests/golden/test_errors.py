"""Golden tests for every diagnostic code: each bad plan or input gives its exact message.

Plan cases are ``errors/<CODE>_<slug>.rules`` beside ``<CODE>_<slug>.expected.txt``; input
cases are folders ``errors/<CODE>_<slug>/`` with plan.rules, participants.csv, one
``<kind>s.csv`` per record kind and expected.txt; a case of several plans has one
``<name>.rules`` per plan instead of plan.rules, and participants.csv a ``plan`` column.
Each case runs from its own folder with relative paths, so the file names in the messages
do not depend on the machine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

import incentive
from incentive.errors import CODES, Diagnostic, render_diagnostic
from tests.helpers import ROOT, check_golden

ERRORS = Path(__file__).resolve().parent / "errors"
DOC = ROOT / "docs" / "errors.md"

PLAN_CASES = sorted(ERRORS.glob("*.rules"))
INPUT_CASES = sorted(path for path in ERRORS.iterdir() if path.is_dir())


def _code(case: Path) -> str:
    """``P201`` from ``P201_unknown_name.rules`` or ``R403_duplicate_deal_id/``."""
    return case.name.partition("_")[0]


def _plan_error_class(code: str) -> type[incentive.PlanError]:
    return incentive.PlanSyntaxError if code.startswith("P1") else incentive.PlanCheckError


def _doc_sections() -> dict[str, str]:
    """Each ``## CODE`` heading of docs/errors.md with the text under it."""
    parts = re.split(r"^## (.*)$", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {heading.strip(): body for heading, body in zip(parts[1::2], parts[2::2], strict=True)}


def _render(diagnostics: tuple[Diagnostic, ...], source: str) -> str:
    return "\n\n".join(render_diagnostic(d, source) for d in diagnostics) + "\n"


@pytest.mark.parametrize("case", PLAN_CASES, ids=[path.stem for path in PLAN_CASES])
def test_plan_error(case: Path, update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    code = _code(case)
    monkeypatch.chdir(ERRORS)
    if code.startswith("W"):
        # A warning does not stop the plan: it is on the checked plan.
        plan = incentive.load_plan(Path(case.name))
        shown = tuple(d for d in plan.checked.warnings if d.code == code)
        source = plan.checked.source
    else:
        with pytest.raises(incentive.PlanError) as caught:
            incentive.load_plan(Path(case.name))
        error = caught.value
        assert type(error) is _plan_error_class(code)
        # The case's own errors; warnings about the same plan are tested in their cases.
        shown, source = error.errors, error.source
    assert shown, f"{case.name} gave no {code}"
    first = shown[0]
    assert first.code == code
    assert first.span.file == case.name
    assert 1 <= first.span.line <= max(1, len(source.splitlines()))
    assert first.span.column >= 1
    check_golden(case.with_name(f"{case.stem}.expected.txt"), _render(shown, source), update_golden)


def _input_run(case: Path) -> Callable[[], object]:
    """The run of an input case, from its folder: one plan.rules with ``evaluate``, or
    several ``.rules`` files (the ``plan`` column of participants.csv names each
    participant's) with ``evaluate_population``; each record kind read from ``<kind>s.csv``."""
    if (case / "plan.rules").exists():
        plan = incentive.load_plan(Path("plan.rules"))
        records = {kind: f"{kind}s.csv" for kind in plan.checked.record_kinds}
        return lambda: incentive.evaluate(plan, "participants.csv", records)
    plans = incentive.load_plans(".")
    assert len(plans) > 1, f"{case.name} has neither plan.rules nor several .rules files"
    kinds = sorted({kind for plan in plans.values() for kind in plan.checked.record_kinds})
    records = {kind: f"{kind}s.csv" for kind in kinds}
    return lambda: incentive.evaluate_population(plans, "participants.csv", records)


@pytest.mark.parametrize("case", INPUT_CASES, ids=[path.name for path in INPUT_CASES])
def test_input_error(case: Path, update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    code = _code(case)
    monkeypatch.chdir(case)
    run = _input_run(case)
    error: incentive.RecordError | incentive.EvaluationError
    if code.startswith("R"):
        with pytest.raises(incentive.RecordError) as record_error:
            run()
        error = record_error.value
        first_code = error.problems[0].code
    else:
        with pytest.raises(incentive.EvaluationError) as evaluation_error:
            run()
        error = evaluation_error.value
        first_code = error.problems[0].code
    assert first_code == code
    check_golden(case / "expected.txt", str(error) + "\n", update_golden)


def test_every_code_has_a_golden_case() -> None:
    covered = {_code(path) for path in [*PLAN_CASES, *INPUT_CASES]}
    assert sorted(set(CODES) - covered) == []
    assert sorted(covered - set(CODES)) == [], "a golden case is named after an unknown code"


def test_every_code_is_documented() -> None:
    sections = _doc_sections()
    assert sorted(set(CODES) - set(sections)) == [], "codes without a section in docs/errors.md"
    assert sorted(set(sections) - set(CODES)) == [], "'## ' headings that are not codes"
    assert list(sections) == list(CODES), "sections are not in the order of CODES"


@pytest.mark.parametrize("code", list(CODES))
def test_doc_quotes_a_golden_message(code: str) -> None:
    """The message shown for each code is the output of one of its golden cases, verbatim."""
    section = _doc_sections().get(code, "")
    expected = [
        path.read_text(encoding="utf-8").rstrip("\n")
        for path in [
            *ERRORS.glob(f"{code}_*.expected.txt"),
            *ERRORS.glob(f"{code}_*/expected.txt"),
        ]
    ]
    assert expected, f"no golden output for {code}"
    assert any(text in section for text in expected), (
        f"docs/errors.md '## {code}' quotes none of the golden messages for {code}; "
        "paste the current one from tests/golden/errors/"
    )
