"""The public API: one function per stage, and `load_plan` for all of them at once.

``load_plan`` parses, checks and compiles (cached by plan text and library version);
``evaluate`` reads and validates inputs and runs the population; ``explain`` renders one
participant's statement, ``explain_all`` everyone's.  The CLI calls only these.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

from incentive.dsl.check import CheckedPlan, check_plan
from incentive.dsl.parser import decode_plan, parse_plan
from incentive.engine.compile import CompiledPlan, compile_plan
from incentive.engine.evaluate import (
    check_plans_agree,
    evaluate_inputs,
    evaluate_plans,
    population_result,
)
from incentive.engine.records import Inputs, RowSource, load_inputs, load_population
from incentive.engine.results import (
    ParticipantResult,
    Participants,
    PopulationResult,
    RunResult,
)
from incentive.engine.runtime import Progress
from incentive.errors import (
    Diagnostic,
    PlanSyntaxError,
    RecordError,
    RecordProblem,
    Span,
    UnsupportedError,
)
from incentive.explain.statement import Statement, build_statement

Lang = Literal["en", "zh"]
Engine = Literal["auto", "columnar", "straightforward"]
ENGINES: tuple[Engine, ...] = ("auto", "columnar", "straightforward")

__all__ = [
    "check_plan",
    "compile_plan",
    "evaluate",
    "evaluate_inputs",
    "evaluate_population",
    "explain",
    "explain_all",
    "load_inputs",
    "load_plan",
    "load_plans",
    "parse_plan",
    "statement",
]


@functools.lru_cache(maxsize=64)
def _compile_text(text: str, filename: str) -> CompiledPlan:
    # Keyed by the text itself: the library version cannot change within a process.
    return compile_plan(check_plan(parse_plan(text, filename=filename)))


def read_plan_text(path: str | Path) -> tuple[str, str]:
    """(text, filename) of a plan file; invalid UTF-8 is a `PlanSyntaxError`."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PlanSyntaxError(
            [
                Diagnostic(
                    "P100",
                    "error",
                    f"cannot read the plan: {exc.strerror}",
                    Span(name, 1, 1, 1, 2),
                    hint="check the path",
                )
            ],
            "",
        ) from None
    return decode_plan(data, name), name


def load_plan(source: str | Path, *, filename: str | None = None) -> CompiledPlan:
    """Parse, check and compile a plan.

    Args:
        source: a path to a ``.rules`` file (or a folder holding ``plan.rules``), or the
            plan text itself (text that contains a line break, or any `str` passed with
            ``filename``).
        filename: the name diagnostics show for plan text.

    Returns:
        The compiled plan; ``.checked`` holds the checked plan and its warnings.

    Raises:
        PlanSyntaxError: the text does not follow the grammar.
        PlanCheckError: the plan says something that cannot be right (all problems at once).
    """
    if isinstance(source, Path) or (filename is None and "\n" not in source):
        path = Path(source)
        text, name = read_plan_text(path / "plan.rules" if path.is_dir() else path)
    else:
        text, name = source, filename or "<plan>"
    return _compile_text(text, name)


def evaluate(
    plan: CompiledPlan,
    participants: RowSource | Inputs,
    records: Mapping[str, RowSource] | RowSource | None = None,
    *,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    engine: Engine = "auto",
) -> RunResult:
    """Evaluate a plan for a whole population.

    Args:
        plan: from `load_plan`.
        participants: a CSV/JSON file, rows in memory, or `Inputs` from `load_inputs`.
        records: for each record kind, a file or rows; a single source when the plan
            declares exactly one record kind.
        skip_invalid: pay the valid rows and list the rejected ones instead of stopping.
        progress: called now and then with (stage, done, total or None) on long runs,
            e.g. to draw a progress bar.
        engine: "auto" evaluates as columns when the plan and the inputs allow it
            (`incentive.engine.columnar`) and participant by participant otherwise;
            "columnar" raises `UnsupportedError` instead of falling back; "straightforward"
            always goes participant by participant.  Results are the same either way.

    Returns:
        Payouts, traces, and the disposition of every record.

    Raises:
        RecordError: bad input rows (unless ``skip_invalid``), or an unreadable file.
        EvaluationError: participants the plan cannot be evaluated for (zero quota…).
        UnsupportedError: only with ``engine="columnar"``.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if isinstance(participants, Inputs):
        if engine == "columnar":
            raise UnsupportedError("inputs already read row by row")
        inputs = participants
    else:
        by_kind = _by_kind(plan.checked, records)
        if engine != "straightforward":
            # Imported here: numpy and pyarrow load only for a run that may use them.
            from incentive.engine.columnar import evaluate_columns

            try:
                return evaluate_columns(plan, participants, by_kind, progress=progress)
            except UnsupportedError:
                if engine == "columnar":
                    raise
        inputs = load_inputs(plan.checked, participants, by_kind, progress=progress)
    return evaluate_inputs(plan, inputs, skip_invalid=skip_invalid, progress=progress)


def load_plans(folder: str | Path) -> dict[str, CompiledPlan]:
    """Every ``.rules`` file of a folder, compiled, by file name without ``.rules``
    (``ae.rules`` is the plan ``ae``): the names a participants file assigns.

    Raises:
        PlanError: for the first plan that does not check.
    """
    paths = sorted(Path(folder).glob("*.rules"))
    return {path.stem: load_plan(path) for path in paths}


def evaluate_population(
    plans: Mapping[str, CompiledPlan],
    participants: RowSource,
    records: Mapping[str, RowSource],
    *,
    plan_field: str = "plan",
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> PopulationResult:
    """Evaluate a population in which each participant has their plan.

    Args:
        plans: compiled plans by name (see `load_plans`).
        participants: one file or list of rows for everyone; the column ``plan_field``
            names each participant's plan.
        records: a file or rows for each record kind any plan declares; each plan reads
            the kinds it declares, and counts the records credited to its participants.
        plan_field: the participants' column naming their plan.
        skip_invalid: as for `evaluate`.
        progress: as for `evaluate`.

    Returns:
        Each plan's run, the total over all plans, and every record's disposition once.

    Raises:
        RecordError: a participant with no plan or an unknown one (R413), a manager who
            is not a participant or a cycle of managers (R414), and every `evaluate` error.
        EvaluationError: as `evaluate`; E606 when the plans pay in different currencies,
            cover different periods, or do not all read the rows that credit a record.
        ValueError: no plans.
    """
    if not plans:
        raise ValueError("evaluate_population needs at least one plan")
    checked = {name: plan.checked for name, plan in plans.items()}
    check_plans_agree(list(checked.values()))
    inputs = load_population(
        checked, participants, records, plan_field=plan_field, progress=progress
    )
    runs = evaluate_plans(
        {name: (plans[name], inputs[name]) for name in plans},
        skip_invalid=skip_invalid,
        progress=progress,
    )
    return population_result(runs)


def _by_kind(
    checked: CheckedPlan, records: Mapping[str, RowSource] | RowSource | None
) -> Mapping[str, RowSource]:
    if records is None:
        return {}
    if isinstance(records, Mapping):
        return records
    kinds = list(checked.record_kinds)
    if len(kinds) != 1:
        raise RecordError(
            [
                RecordProblem(
                    "R405",
                    str(records) if isinstance(records, str | Path) else "<records>",
                    0,
                    None,
                    None,
                    f"the plan declares {len(kinds)} record kinds; pass records by kind",
                )
            ]
        )
    return {kinds[0]: records}


def statement(result: ParticipantResult, *, lang: Lang = "en") -> Statement:
    """One participant's statement as structured lines."""
    return build_statement(result, lang=lang)


def explain(result: ParticipantResult, lang: Lang = "en") -> str:
    """One participant's payout explained line by line, as text.

    Args:
        result: a participant's result from `evaluate`.
        lang: ``"en"`` for English, ``"zh"`` for Simplified Chinese.

    Returns:
        The statement text, ending with a newline.
    """
    return build_statement(result, lang=lang).to_text()


def explain_all(
    result: RunResult | PopulationResult, *, lang: Lang = "en", in_order: bool = True
) -> Iterator[tuple[str, str]]:
    """Every paid participant's statement as text, for a payroll run that sends each rep
    theirs.

    Args:
        result: from `evaluate` or `evaluate_population`.
        lang: ``"en"`` for English, ``"zh"`` for Simplified Chinese.
        in_order: yield in the result's order (plan by plan for a population); with
            False, in the order they are traced, which holds less in memory.

    Yields:
        ``(participant id, statement text)``, each participant once; each text is what
        `explain` returns for that participant.

    A run by the columnar engine traces its participants a batch at a time: people who
    share a team (or any group the plan reads) together, everyone at once when the plan
    reads values over everyone.  It keeps neither the traces nor the results it made.
    In order, the texts of people traced before their turn wait in memory: when teams
    are scattered through the participants file, that is most of them.
    """
    runs = result.runs.values() if isinstance(result, PopulationResult) else (result,)
    for run in runs:
        participants = run.participants
        if not isinstance(participants, Participants):
            for one in participants:
                yield one.participant_id, explain(one, lang)
            continue
        waiting: dict[int, tuple[str, str]] = {}
        turn = 0
        for batch in participants.batches():
            for index, one in batch:
                text = (one.participant_id, explain(one, lang))
                if in_order:
                    waiting[index] = text
                else:
                    yield text
            while turn in waiting:
                yield waiting.pop(turn)
                turn += 1
