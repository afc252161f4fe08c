"""Runs a `CompiledPlan` over a whole population → `RunResult` with a trace per participant.

Order: records are grouped by the participant they credit (once), then for every
participant the aggregates, the measures in dependency order, and the components, each
rounded once by the plan's rule.  Every record ends counted, excluded by a named filter
condition, or rejected with its reason.  Imports dsl.check, engine and money.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

from incentive.dsl import ast
from incentive.dsl.check import CheckedPlan
from incentive.engine import trace as tr
from incentive.engine.compile import (
    CompiledAggregate,
    CompiledComponent,
    CompiledPlan,
    EvaluationFailure,
    ParticipantEnv,
    round_amount,
)
from incentive.engine.records import Inputs, Record
from incentive.engine.results import (
    ComponentResult,
    Label,
    ParticipantResult,
    PlanInfo,
    RecordDisposition,
    RecordSummary,
    RunResult,
)
from incentive.errors import EvaluationError, EvaluationProblem, RecordError
from incentive.money import ZERO, Exact, NumberLimitError, add, div, mul
from incentive.money import total as money_total


def plan_info(checked: CheckedPlan) -> PlanInfo:
    """The plan facts and labels a statement needs."""
    labels: dict[str, Label] = {}

    def put(name: str, label: ast.Label | None) -> None:
        plain = name.rpartition(".")[2].replace("_", " ")
        en = (label.en or label.zh) if label is not None else None
        zh = (label.zh or label.en) if label is not None else None
        labels[name] = Label(en=en or plain, zh=zh or plain)

    for name, decl in checked.participant_fields.items():
        put(name, decl.label)
    for kind in checked.record_kinds.values():
        for name, decl in kind.fields.items():
            put(f"{kind.name}.{name}", decl.label)
    for name, measure in checked.measures.items():
        put(name, measure.label)
    for component in checked.components:
        put(component.name, component.label)
    return PlanInfo(
        name=checked.name,
        filename=checked.filename,
        currency=checked.currency,
        period_start=checked.period_start,
        period_end=checked.period_end,
        rounding_mode=checked.rounding_mode,
        quantum=checked.quantum,
        labels=labels,
    )


class _Ledger:
    """Which records were counted, and why each of the others was left out."""

    def __init__(self) -> None:
        self.counted: set[tuple[str, str]] = set()
        self.excluded: dict[tuple[str, str], str] = {}

    def count(self, kind: str, record_id: str) -> None:
        self.counted.add((kind, record_id))

    def exclude(self, kind: str, record_id: str, reason: str) -> None:
        self.excluded.setdefault((kind, record_id), reason)


def _aggregate(agg: CompiledAggregate, env: ParticipantEnv, ledger: _Ledger) -> tr.AggregateStep:
    records = env.records.get(agg.kind, ())
    counted_ids: list[str] = []
    values: list[Any] = []
    excluded: list[tr.Exclusion] = []
    field = agg.field
    for record in records:
        failed = None
        for number, condition in enumerate(agg.conditions):
            if not condition.test(env, record):
                failed = number
                break
        if failed is not None:
            condition = agg.conditions[failed]
            ledger.exclude(agg.kind, record.id, agg.names[failed])
            amount = record.values.get(field) if field is not None else None
            field_value = record.values.get(condition.field) if condition.field else None
            side: Literal["before", "after"] | None = None
            if condition.period_start is not None and field_value is not None:
                side = "before" if field_value < condition.period_start else "after"
            excluded.append(
                tr.Exclusion(
                    record.id,
                    amount if isinstance(amount, Decimal) else None,
                    condition.text,
                    condition.line,
                    condition.field,
                    field_value,
                    side,
                )
            )
            continue
        ledger.count(agg.kind, record.id)
        counted_ids.append(record.id)
        if field is not None:
            values.append(record.values[field])
    value, unit = _fold(agg, values, len(counted_ids))
    # Listed in id order, so the statement does not depend on the order of the input.
    excluded.sort(key=lambda e: _natural(e.record_id))
    counted_ids.sort(key=_natural)
    return tr.AggregateStep(
        value,
        unit,
        agg.function,
        agg.kind,
        field,
        len(counted_ids),
        tuple(counted_ids),
        tuple(excluded),
        agg.line,
    )


def _natural(text: str) -> tuple[tuple[tuple[int, str], ...], str]:
    """Sort key that puts D-2 before D-10 (and D-02 after D-2: ids are unique text)."""
    parts = tuple(
        (int(part), "") if part.isdigit() else (0, part) for part in re.split(r"(\d+)", text)
    )
    return parts, text


def _fold(agg: CompiledAggregate, values: list[Any], count: int) -> tuple[Exact, tr.Unit]:
    function = agg.function
    if function == "count":
        return Decimal(count), "count"
    if function == "count_distinct":
        return Decimal(len(set(values))), "count"
    unit: tr.Unit = "money"
    if function == "sum":
        total: Exact = ZERO
        for value in values:
            total = add(total, value)
        return total, unit
    if not values:
        return ZERO, unit
    if function == "minimum":
        return min(values), unit
    if function == "maximum":
        return max(values), unit
    total = ZERO
    for value in values:
        total = add(total, value)
    return div(total, Decimal(len(values))), unit


def _component(
    component: CompiledComponent, env: ParticipantEnv, checked: CheckedPlan
) -> tr.ComponentTrace:
    gates: list[tr.ModifierStep] = []
    for gate in component.gates:
        step = gate.fn(env)
        gates.append(tr.ModifierStep("gate", step, None, None, not step.value, gate.line))
        if not step.value:
            return tr.ComponentTrace(
                component.name,
                component.line,
                tuple(gates),
                None,
                (),
                ZERO,
                ZERO.quantize(checked.quantum),
                component.measures,
            )
    body = component.body(env)
    value = body.value
    assert not isinstance(value, bool | str)
    modifiers: list[tr.ModifierStep] = []
    for modifier in component.modifiers:
        step = modifier.fn(env)
        limit = step.value
        before: Exact = value  # type: ignore[assignment]  # a number, checked above
        assert not isinstance(limit, bool | str)
        if modifier.kind == "cap":
            bit = before > limit  # type: ignore[operator]
            after = limit if bit else before
        elif modifier.kind == "floor":
            bit = before < limit  # type: ignore[operator]
            after = limit if bit else before
        else:
            after = mul(before, limit)  # type: ignore[arg-type]
            bit = True
        modifiers.append(tr.ModifierStep(modifier.kind, step, before, after, bit, modifier.line))  # type: ignore[arg-type]
        value = after
    exact: Exact = value  # type: ignore[assignment]
    return tr.ComponentTrace(
        component.name,
        component.line,
        tuple(gates),
        body,
        tuple(modifiers),
        exact,
        round_amount(exact, checked),
        component.measures,
    )


def evaluate_inputs(
    compiled: CompiledPlan, inputs: Inputs, *, skip_invalid: bool = False
) -> RunResult:
    """Evaluate every participant of ``inputs`` under ``compiled``.

    Args:
        compiled: the compiled plan.
        inputs: validated participants and records, with any problems found reading them.
        skip_invalid: pay the valid rows and list the rejected ones, instead of stopping.

    Returns:
        Every participant's payout and trace, the total and every record's disposition.

    Raises:
        RecordError: when inputs have problems and ``skip_invalid`` is false.
        EvaluationError: listing every participant the plan cannot be evaluated for.
    """
    if inputs.problems and not skip_invalid:
        raise RecordError(inputs.problems)
    checked = compiled.checked
    info = plan_info(checked)
    grouped: dict[str, dict[str, list[Record]]] = defaultdict(lambda: defaultdict(list))
    for kind, records in inputs.records.items():
        for record in records:
            grouped[record.participant_id][kind].append(record)
    ledger = _Ledger()
    results: list[ParticipantResult] = []
    problems: list[EvaluationProblem] = []
    for participant in inputs.participants:
        env = ParticipantEnv(participant.id, participant.values, grouped.get(participant.id, {}))
        try:
            env.aggregates = [_aggregate(agg, env, ledger) for agg in compiled.aggregates]
            measures: dict[str, tr.MeasureTrace] = {}
            for name, line, fn in compiled.measures:
                step = fn(env)
                env.measures[name] = tr.MeasureStep(step.value, step.unit, name)
                measures[name] = tr.MeasureTrace(name, line, step)
            components = tuple(_component(c, env, checked) for c in compiled.components)
        except EvaluationFailure as failure:
            problems.append(
                EvaluationProblem(failure.code, participant.id, str(failure), failure.span)
            )
            continue
        except NumberLimitError:
            problems.append(
                EvaluationProblem(
                    "E602",
                    participant.id,
                    "a value grew beyond the limit on the size of numbers",
                )
            )
            continue
        total = money_total((c.amount for c in components), checked.quantum)
        lines = tuple(
            ComponentResult(name=c.name, label=info.labels[c.name], amount=c.amount, line=c.line)
            for c in components
        )
        results.append(
            ParticipantResult.model_construct(
                participant_id=participant.id,
                name=participant.name,
                components=lines,
                total=total,
                plan=info,
                trace=tr.ParticipantTrace(measures, components),
            )
        )
    if problems:
        raise EvaluationError(problems)
    dispositions = _dispositions(inputs, ledger)
    summary = _summary(dispositions)
    try:
        grand_total = money_total((r.total for r in results), checked.quantum)
    except NumberLimitError:
        message = "the total of all participants grows beyond the limit on the size of numbers"
        raise EvaluationError([EvaluationProblem("E602", "(all)", message)]) from None
    return RunResult.model_construct(
        plan=info,
        participants=tuple(results),
        total=grand_total,
        records=summary,
        dispositions=dispositions,
        rejected=tuple(p.render() for p in inputs.problems),
    )


def _dispositions(inputs: Inputs, ledger: _Ledger) -> tuple[RecordDisposition, ...]:
    out: list[RecordDisposition] = []
    for kind, records in inputs.records.items():
        for record in records:
            key = (kind, record.id)
            if key in ledger.counted:
                out.append(RecordDisposition(kind, record.id, record.participant_id, "counted"))
            else:
                reason = ledger.excluded.get(key, f"no measure reads '{kind}' records")
                out.append(
                    RecordDisposition(kind, record.id, record.participant_id, "excluded", reason)
                )
    for kind, record_id, participant_id, reason in inputs.rejected_records:
        out.append(RecordDisposition(kind, record_id, participant_id, "rejected", reason))
    return tuple(out)


def _summary(dispositions: Sequence[RecordDisposition]) -> RecordSummary:
    counted = excluded = rejected = 0
    by_rule: dict[str, int] = {}
    for d in dispositions:
        if d.status == "counted":
            counted += 1
        elif d.status == "excluded":
            excluded += 1
            reason = d.reason or ""
            by_rule[reason] = by_rule.get(reason, 0) + 1
        else:
            rejected += 1
    return RecordSummary(
        read=len(dispositions),
        counted=counted,
        excluded=excluded,
        rejected=rejected,
        excluded_by_rule=dict(sorted(by_rule.items())),
    )
