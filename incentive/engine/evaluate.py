"""Runs a `CompiledPlan` over a whole population → `RunResult` with a trace per participant.

Order: records are credited to participants and grouped (once); then, for the whole
population, every participant's aggregates and measures (in dependency order), for the
period and then for each sub-period the plan computes per (each in an environment of its
own, its days cut to the days employed); then every participant's components, each
rounded once by the plan's rule (a component paid per sub-period: each part once).
Measures come first for everyone so that values across participants (rankings, team
pools) can sit between.  Every record ends counted, excluded by a named filter condition,
or rejected with its reason.  Imports dsl.check, engine and money.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Literal

from incentive import calendar
from incentive._types import Unit
from incentive.dsl import ast
from incentive.dsl.check import FIELD_UNITS, CheckedPlan, WindowKey
from incentive.engine import trace as tr
from incentive.engine.compile import (
    CompiledAggregate,
    CompiledComponent,
    CompiledPlan,
    EvaluationFailure,
    ParticipantEnv,
    number_of,
    round_amount,
)
from incentive.engine.credit import FULL, Credit, credits_of
from incentive.engine.records import Conversion, Inputs, Participant
from incentive.engine.results import (
    ComponentResult,
    Label,
    ParticipantResult,
    PartResult,
    PlanInfo,
    PopulationResult,
    RecordDisposition,
    RecordSummary,
    RunResult,
)
from incentive.engine.runtime import PARTICIPANTS_PER_REPORT, Progress, paused_gc
from incentive.engine.teams import Directory, Member, Population
from incentive.errors import EvaluationError, EvaluationProblem, RecordError
from incentive.money import ZERO, Exact, NumberLimitError, add, div, mul
from incentive.money import total as money_total


def plan_info(checked: CheckedPlan) -> PlanInfo:
    """The plan facts and labels a statement needs."""
    labels: dict[str, Label] = {}

    def put(name: str, label: ast.Label | None) -> None:
        plain = name.rpartition(":")[2].rpartition(".")[2].replace("_", " ")
        en = (label.en or label.zh) if label is not None else None
        zh = (label.zh or label.en) if label is not None else None
        labels[name] = Label(en=en or plain, zh=zh or plain)

    for name, decl in checked.participant_fields.items():
        put(name, decl.label)
    for kind in checked.record_kinds.values():
        put(f"records:{kind.name}", checked.plan_kinds[kind.name].label)
        for name, decl in kind.fields.items():
            put(f"{kind.name}.{name}", decl.label)
    for name, measure in checked.measures.items():
        put(name, measure.label)
    for component in checked.components:
        put(component.name, component.label)
    tables: list[ast.Schedule | ast.Weights] = [
        *checked.schedules.values(),
        *checked.weights.values(),
    ]
    for table in tables:
        put(table.name, table.label)
    for ranking in checked.rankings.values():
        put(ranking.name, ranking.label)
    if checked.exchange is not None:
        put("exchange rates", checked.exchange.label)
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
        #: the ids of the records counted, by kind (no tuple made for each record)
        self.counted: dict[str, set[str]] = {}
        self.excluded: dict[tuple[str, str], str] = {}
        #: records left out of a sub-period only for being dated in another one: their
        #: reason stands only if nothing says more (they count, or fail elsewhere)
        self.elsewhere: dict[tuple[str, str], str] = {}

    def count(self, kind: str, record_id: str) -> None:
        self.counted_of(kind).add(record_id)

    def counted_of(self, kind: str) -> set[str]:
        found = self.counted.get(kind)
        if found is None:
            found = self.counted[kind] = set()
        return found

    def exclude(self, kind: str, record_id: str, reason: str, *, elsewhere: bool = False) -> None:
        (self.elsewhere if elsewhere else self.excluded).setdefault((kind, record_id), reason)

    def reason(self, key: tuple[str, str]) -> str | None:
        return self.excluded.get(key) or self.elsewhere.get(key)

    def merge(self, other: _Ledger) -> None:
        for kind, ids in other.counted.items():
            self.counted_of(kind).update(ids)
        for key, reason in other.excluded.items():
            self.excluded.setdefault(key, reason)
        for key, reason in other.elsewhere.items():
            self.elsewhere.setdefault(key, reason)


def _aggregate(agg: CompiledAggregate, env: ParticipantEnv, ledger: _Ledger) -> tr.AggregateStep:
    bucket = env.buckets.get((agg.kind, agg.window_field)) if agg.window_field else None
    credits = env.records.get(agg.kind, ()) if bucket is None else bucket
    counted_ids: list[str] = []
    values: list[Any] = []
    credited: list[tr.Credited] = []
    excluded: list[tr.Exclusion] = []
    field = agg.field
    tests = [condition.test for condition in agg.conditions]
    counted_add = ledger.counted_of(agg.kind).add
    for credit in credits:
        record = credit.record
        failed = None
        for number, test in enumerate(tests):
            if not test(env, credit):
                failed = number
                break
        if failed is not None:
            info = agg.conditions[failed].info
            bounds = env.bounds.get(info.window) if info.window is not None else None
            reason, elsewhere = _reason(agg.names[failed], info, env, record)
            ledger.exclude(agg.kind, record.id, reason, elsewhere=elsewhere)
            if not elsewhere:  # a record of another sub-period is explained in its own
                excluded.append(tr.Exclusion(record.id, record.values, field, info, bounds))
            continue
        counted_add(record.id)
        counted_ids.append(record.id)
        if field is not None:
            value = record.values[field]
            full = value
            if credit.share != FULL and agg.function == "sum":
                value = mul(value, credit.share)
            values.append(value)
            conversion = record.conversions.get(field) if record.conversions else None
            if conversion is not None or credit.row is not None:
                credited.append(_credited(credit, conversion, full, value))
    value, unit = _fold(agg, values, len(counted_ids), env)
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
        tuple(credited),
    )


def _credited(credit: Credit, conversion: Conversion | None, full: Any, value: Any) -> tr.Credited:
    row = credit.row
    return tr.Credited(
        credit.record.id,
        None if conversion is None else conversion.original,
        None if conversion is None else conversion.currency,
        None if conversion is None else conversion.rate,
        None if conversion is None else (conversion.start, conversion.end),
        full,
        credit.share,
        row is not None and row.overlay,
        value,
    )


def _reason(
    name: str, info: tr.FilterCondition, env: ParticipantEnv, record: Any
) -> tuple[str, bool]:
    """Why a record was left out, and whether only for being dated in another sub-period.
    A date inside the (sub-)period that failed its condition was a day not employed."""
    if info.window is None or info.field is None:
        return name, False
    value = record.values.get(info.field)
    first, last = (env.period_start, env.period_end) if info.window == "period" else env.full
    if isinstance(value, dt.date) and first <= value <= last:
        return f"{name} (not employed on that day)", False
    return name, info.window != "period"


def _fold(
    agg: CompiledAggregate, values: list[Any], count: int, env: ParticipantEnv
) -> tuple[Exact, Unit]:
    """Combine the counted values.  Of no records: a sum and a count are 0, and so (by
    this rule, stated in the README) are a minimum, a maximum and an average."""
    function = agg.function
    if function == "count":
        return Decimal(count), "count"
    if function == "count_distinct":
        return Decimal(len(set(values))), "count"
    unit = agg.unit
    if function in ("sum", "average"):
        total: Exact = ZERO
        for value in values:
            total = add(total, value)
        if function == "sum" or not values:
            return total, unit
        return div(total, Decimal(len(values))), unit
    if not values:
        # Of no records an earliest or latest date is the period's first day (stated in
        # the README); every other value is 0.
        return (env.period_start if unit == "date" else ZERO), unit  # type: ignore[return-value]
    return (min(values) if function == "minimum" else max(values)), unit


def _component(
    component: CompiledComponent, env: ParticipantEnv, checked: CheckedPlan
) -> tr.ComponentTrace:
    if env.employment is not None and env.active is None:
        # Pay is for days employed: none in this (sub-)period, so nothing to pay for.
        nothing = ZERO.quantize(checked.quantum)
        return tr.ComponentTrace(
            component.name,
            component.line,
            (),
            None,
            (),
            ZERO,
            nothing,
            component.measures,
            not_employed=True,
        )
    gates: list[tr.ModifierStep] = []
    for gate in component.gates:
        step = gate.fn(env)
        gates.append(tr.ModifierStep("gate", step, None, None, not step.value, gate.line))
        if not step.value:
            nothing = ZERO.quantize(checked.quantum)
            return tr.ComponentTrace(
                component.name,
                component.line,
                tuple(gates),
                None,
                (),
                ZERO,
                nothing,
                component.measures,
            )
    body = component.body(env)
    value = number_of(body)
    modifiers: list[tr.ModifierStep] = []
    for modifier in component.modifiers:
        step = modifier.fn(env)
        limit = number_of(step)
        before = value
        if modifier.kind == "cap":
            bit = before > limit
            value = limit if bit else before
        elif modifier.kind == "floor":
            bit = before < limit
            value = limit if bit else before
        else:
            value = mul(before, limit)
            bit = True
        kind: Literal["cap", "floor", "multiplier"] = modifier.kind  # type: ignore[assignment]  # gates are split off at compile time
        modifiers.append(tr.ModifierStep(kind, step, before, value, bit, modifier.line))
    return tr.ComponentTrace(
        component.name,
        component.line,
        tuple(gates),
        body,
        tuple(modifiers),
        value,
        round_amount(value, checked),
        component.measures,
    )


def _measures(
    compiled: CompiledPlan,
    env: ParticipantEnv,
    ledger: _Ledger,
    scope: WindowKey | None,
    level: int | None = None,
) -> dict[str, tr.MeasureTrace]:
    """The aggregates and measures of one (sub-)period, in dependency order; for the
    period, those of one level (aggregates are all of level 0)."""
    if not level:
        for agg in compiled.aggregates:
            if agg.scope == scope:
                env.aggregates[agg.index] = _aggregate(agg, env, ledger)
    measures: dict[str, tr.MeasureTrace] = {}
    for measure in compiled.measures:
        if measure.scope != scope or (level is not None and measure.level != level):
            continue
        step = measure.fn(env)
        env.measures[measure.name] = tr.MeasureStep(step.value, step.unit, measure.name)
        measures[measure.name] = tr.MeasureTrace(measure.name, measure.line, step)
    return measures


#: A range of days no date falls in: the bounds of a period nobody was employed in.
_NEVER: Final = (dt.date.max, dt.date.min)


def _raw_employment(
    checked: CheckedPlan, participant: Participant
) -> tuple[dt.date, dt.date | None] | None:
    """The first and last day employed as given (None: still employed), if the plan says."""
    employment = checked.employment
    if employment is None:
        return None
    last = participant.values[employment.end_field] if employment.end_field else None
    return participant.values[employment.start_field], last


def _employment(checked: CheckedPlan, participant: Participant) -> tuple[dt.date, dt.date] | None:
    """The days employed as a range: still employed means to the end of the calendar."""
    raw = _raw_employment(checked, participant)
    return None if raw is None else (raw[0], raw[1] or dt.date.max)


def _period_env(checked: CheckedPlan, participant: Participant, records: Any) -> ParticipantEnv:
    full = (checked.period_start, checked.period_end)
    employment = _employment(checked, participant)
    active = full if employment is None else calendar.overlap(*full, *employment)
    return ParticipantEnv(
        participant.id,
        participant.name,
        participant.values,
        records,
        checked.period_start,
        checked.period_end,
        context="period",
        full=full,
        active=active,
        bounds={"period": active or _NEVER},
        employment=employment,
        inside=full,
        within=active,
        whole_days=calendar.days_between(*full),
    )


def _window_env(parent: ParticipantEnv, window: calendar.Window) -> ParticipantEnv:
    full = (window.start, window.end)
    employment = parent.employment
    active = full if employment is None else calendar.overlap(*full, *employment)
    inside = calendar.overlap(*full, *parent.inside)
    assert inside is not None  # every sub-period has a day in the period (a week its Thursday)
    within = inside if employment is None else calendar.overlap(*inside, *employment)
    return ParticipantEnv(
        parent.participant_id,
        parent.name,
        parent.fields,
        parent.records,
        parent.period_start,
        parent.period_end,
        measures=dict(parent.measures),
        context=window.kind,
        full=full,
        active=active,
        bounds={"period": parent.bounds["period"], window.kind: active or _NEVER},
        employment=employment,
        inside=inside,
        within=within,
        whole_days=window.whole_days,
        population=parent.population,
    )


_Part = tuple[calendar.Window, ParticipantEnv, dict[str, tr.MeasureTrace]]


def _windows(
    compiled: CompiledPlan, env: ParticipantEnv, ledger: _Ledger
) -> dict[WindowKey, list[_Part]]:
    """Every sub-period's environment and measures, for each kind the plan computes per."""
    parts: dict[WindowKey, list[_Part]] = {}
    for key, windows in compiled.windows.items():
        buckets = _buckets(compiled, key, windows, env, ledger)
        for number, window in enumerate(windows):
            window_env = _window_env(env, window)
            window_env.buckets = {pair: lists[number] for pair, lists in buckets.items()}
            measures = _measures(compiled, window_env, ledger, key)
            parts.setdefault(key, []).append((window, window_env, measures))
    return parts


def _buckets(
    compiled: CompiledPlan,
    key: WindowKey,
    windows: Sequence[calendar.Window],
    env: ParticipantEnv,
    ledger: _Ledger,
) -> dict[tuple[str, str], list[list[Any]]]:
    """Each sub-period's records, by the date its aggregates test (`closed_on in month`):
    one pass over the records instead of one for every sub-period.  A record dated in no
    sub-period is left out by that condition, as each sub-period would have said."""
    starts = [window.start for window in windows]
    out: dict[tuple[str, str], list[list[Any]]] = {}
    outside: dict[tuple[str, str], list[Any]] = {}
    for agg in compiled.aggregates:
        if agg.scope != key or agg.window_field is None:
            continue
        pair = (agg.kind, agg.window_field)
        if pair not in out:
            lists: list[list[Any]] = [[] for _ in windows]
            none: list[Any] = []
            for credit in env.records.get(agg.kind, ()):
                day = credit.record.values[agg.window_field]
                number = bisect.bisect_right(starts, day) - 1
                if number >= 0 and day <= windows[number].end:
                    lists[number].append(credit)
                else:
                    none.append(credit)
            out[pair], outside[pair] = lists, none
        for credit in outside[pair]:
            ledger.exclude(agg.kind, credit.record.id, agg.names[0], elsewhere=True)
    return out


def _dated_rows(compiled: CompiledPlan, env: ParticipantEnv, ledger: _Ledger) -> None:
    """Rows read as a schedule count when their days meet the period, and are left out,
    with the reason, when they do not."""
    for kind, (first, last, line) in compiled.dated.items():
        for credit in env.records.get(kind, ()):
            values = credit.record.values
            days = (values[first], values[last] or dt.date.max)
            if env.within is not None and calendar.overlap(*days, *env.within):
                ledger.count(kind, credit.record.id)
            elif calendar.overlap(*days, *env.inside):
                reason = f"line {line}: its days lie outside the days employed"
                ledger.exclude(kind, credit.record.id, reason)
            else:
                reason = f"line {line}: its days lie outside the period"
                ledger.exclude(kind, credit.record.id, reason)


def _per_component(
    component: CompiledComponent, parts: list[_Part], checked: CheckedPlan
) -> tr.ComponentTrace:
    """A component paid per sub-period: each part rounded by the plan's rule, then added."""
    traces = []
    for window, window_env, measures in parts:
        trace = _component(component, window_env, checked)
        active = window_env.active if window_env.active != window_env.full else None
        own = {name: measures[name] for name in component.measures if name in measures}
        traces.append(tr.PartTrace(window.key, window.start, window.end, active, trace, own))
    amount = money_total((t.component.amount for t in traces), checked.quantum)
    window_measures = {name for _, _, measures in parts for name in measures}
    return tr.ComponentTrace(
        component.name,
        component.line,
        (),
        None,
        (),
        amount,
        amount,
        tuple(name for name in component.measures if name not in window_measures),
        tuple(traces),
        component.scope[0] if component.scope else None,
        component.scope[1] if component.scope else None,
    )


def _problem(participant_id: str, error: Exception) -> EvaluationProblem:
    if isinstance(error, EvaluationFailure):
        return EvaluationProblem(error.code, participant_id, str(error), error.span)
    message = "a value grew beyond the limit on the size of numbers"
    return EvaluationProblem("E602", participant_id, message)


def evaluate_inputs(
    compiled: CompiledPlan,
    inputs: Inputs,
    *,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> RunResult:
    """Evaluate every participant of ``inputs`` under ``compiled``.

    Args:
        compiled: the compiled plan.
        inputs: validated participants and records, with any problems found reading them.
        skip_invalid: pay the valid rows and list the rejected ones, and leave unpaid (and
            list) the participants the plan cannot be evaluated for, instead of stopping.
        progress: told how the evaluation advances (`incentive.engine.runtime.Progress`).

    Returns:
        Every participant's payout and trace, the total and every record's disposition.

    Raises:
        RecordError: when inputs have problems and ``skip_invalid`` is false.
        EvaluationError: listing every participant the plan cannot be evaluated for,
            when ``skip_invalid`` is false.
    """
    runs = {"": (compiled, inputs)}
    return evaluate_plans(runs, skip_invalid=skip_invalid, progress=progress)[""]


def evaluate_plans(
    runs: Mapping[str, tuple[CompiledPlan, Inputs]],
    *,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> dict[str, RunResult]:
    """Evaluate several plans over one population, each for its own participants.

    Every plan's measures come first, so that a manager's override on one plan can read
    the measures of the people below them on another.  Raises as `evaluate_inputs`.
    """
    check_plans_agree([compiled.checked for compiled, _ in runs.values()])
    # A record every plan reading its kind rejected for the same reason is one problem.
    problems = list(dict.fromkeys(p for _, inputs in runs.values() for p in inputs.problems))
    if problems and (not skip_invalid or any(p.whole_file for p in problems)):
        raise RecordError(problems)  # a column missing from a file is never skipped
    with paused_gc():
        directory = Directory()
        # Each participant is met twice: for their measures, then for their components.
        ticker = _Ticker(progress, 2 * sum(len(i.participants) for _, i in runs.values()))
        plans = [
            _PlanRun(name, compiled, inputs, directory, ticker)
            for name, (compiled, inputs) in runs.items()
        ]
        for run in plans:
            run.measures()
        results = {run.name: run.components() for run in plans}
    failures = [p for run in plans for p in run.problems]
    if failures and not skip_invalid:
        raise EvaluationError(failures)
    return results


def check_plans_agree(plans: Sequence[CheckedPlan]) -> None:
    """Plans paid in one run pay in one currency, for one period, and read the same rows
    of credit for a kind of record they share (E606): otherwise one total, or one deal,
    would mean different things to different plans."""
    problems: list[str] = []
    if len({plan.currency for plan in plans}) > 1:
        each = ", ".join(f"{plan.filename} pays in {plan.currency}" for plan in plans)
        problems.append(f"the plans of this run pay in different currencies: {each}")
    periods = {(plan.period_start, plan.period_end) for plan in plans}
    if len(periods) > 1:
        each = ", ".join(
            f"{plan.filename} {plan.period_start.isoformat()} to {plan.period_end.isoformat()}"
            for plan in plans
        )
        problems.append(f"the plans of this run cover different periods: {each}")
    credited = {target: kind for plan in plans for kind, target in plan.credit_kinds.items()}
    for plan in plans:
        for target, kind in credited.items():
            if target in plan.record_kinds and plan.credit_kinds.get(kind) != target:
                problems.append(
                    f"{plan.filename} reads '{target}' records but not the '{kind}' rows "
                    f"that credit them; declare '{kind} fields' in it as in the other plans"
                )
    if problems:
        hint = "; run plans that differ separately"
        raise EvaluationError([EvaluationProblem("E606", "", p + hint) for p in problems])


class _Ticker:
    """Counts participants done and tells `progress` every few hundred."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0

    def tick(self) -> None:
        self.done += 1
        if self.progress is not None and (
            self.done % PARTICIPANTS_PER_REPORT == 0 or self.done == self.total
        ):
            self.progress("evaluating", self.done, self.total)


@dataclass
class _Evaluated:
    participant: Participant
    env: ParticipantEnv
    measures: dict[str, tr.MeasureTrace]
    ledger: _Ledger
    parts: dict[WindowKey, list[_Part]] = field(default_factory=dict)


class _PlanRun:
    """One plan's evaluation, in the two phases `evaluate_plans` interleaves."""

    def __init__(
        self,
        name: str,
        compiled: CompiledPlan,
        inputs: Inputs,
        directory: Directory,
        ticker: _Ticker | None = None,
    ) -> None:
        self.ticker = ticker or _Ticker(None, 0)
        self.name = name
        self.compiled = compiled
        self.inputs = inputs
        self.directory = directory
        units = {n: FIELD_UNITS[d.kind] for n, d in compiled.checked.participant_fields.items()}
        self.population = Population(name, directory, units)
        self.problems: list[EvaluationProblem] = []
        self.unpaid: dict[str, str] = {}
        self.evaluated: list[_Evaluated] = []
        #: failures of the level being worked out, told to the others when it ends
        self.pending: dict[str, EvaluationProblem] = {}

    def _fail(self, participant: Participant, error: Exception, *, measuring: bool = True) -> None:
        self.problems.append(_problem(participant.id, error))
        self.unpaid[participant.id] = self.problems[-1].render()
        if measuring:
            # Without all their values, the team values over them cannot be worked out;
            # the others learn it when the level ends, so that no value depends on order.
            self.pending[participant.id] = self.problems[-1]

    def measures(self) -> None:
        """Phase 1: aggregates and measures for the whole population, level by level (a
        team value waits for its members' own values), then each sub-period's."""
        compiled, checked = self.compiled, self.compiled.checked
        credits = credits_of(self.inputs)
        for participant in self.inputs.participants:
            self.ticker.tick()
            env = _period_env(checked, participant, credits.get(participant.id, {}))
            env.population = self.population
            self.population.members.append(env)
            member = Member(participant.id, participant.name, self.name, env, participant.links)
            self.directory.add(member)
            own = _Ledger()
            try:
                measures = _measures(compiled, env, own, None, level=0)
            except (EvaluationFailure, NumberLimitError) as error:
                self._fail(participant, error)
                continue
            item = _Evaluated(participant, env, measures, own)
            # Without team values, a participant's sub-periods follow at once, while their
            # records are still at hand; otherwise after every level.
            if compiled.levels == 0 and not self._windows(item):
                continue
            self.evaluated.append(item)
        self._level_ends()
        if compiled.levels > 0:
            for level in range(1, compiled.levels + 1):
                self.evaluated = [item for item in self.evaluated if self._level(item, level)]
                self._level_ends()
            self.evaluated = [item for item in self.evaluated if self._windows(item)]
            self._level_ends()

    def _level_ends(self) -> None:
        self.directory.failed.update(self.pending)
        self.pending.clear()

    def _level(self, item: _Evaluated, level: int) -> bool:
        try:
            item.measures.update(_measures(self.compiled, item.env, item.ledger, None, level))
        except (EvaluationFailure, NumberLimitError) as error:
            self._fail(item.participant, error)
            return False
        return True

    def _windows(self, item: _Evaluated) -> bool:
        try:
            item.parts = _windows(self.compiled, item.env, item.ledger)
            _dated_rows(self.compiled, item.env, item.ledger)
        except (EvaluationFailure, NumberLimitError) as error:
            self._fail(item.participant, error)
            return False
        return True

    def components(self) -> RunResult:
        """Phase 2: components, from the measures; then the run's result."""
        compiled, checked = self.compiled, self.compiled.checked
        info = plan_info(checked)
        ledger = _Ledger()
        results: list[ParticipantResult] = []
        refused: dict[str, list[tuple[str, str, str]]] = {}
        for kind, record_id, participant_id, reason in self.inputs.rejected_records:
            if participant_id is not None:
                refused.setdefault(participant_id, []).append((kind, record_id, reason))
        self.ticker.done += len(self.inputs.participants) - len(self.evaluated)  # failed ones
        for item in self.evaluated:
            self.ticker.tick()
            participant, env, measures, parts = (
                item.participant,
                item.env,
                item.measures,
                item.parts,
            )
            try:
                components = tuple(
                    _component(c, env, checked)
                    if c.scope is None
                    else _per_component(c, parts[c.scope], checked)
                    for c in compiled.components
                )
                total = money_total((c.amount for c in components), checked.quantum)
            except (EvaluationFailure, NumberLimitError) as error:
                self._fail(participant, error, measuring=False)
                continue
            ledger.merge(item.ledger)
            rejected = tuple(refused.get(participant.id, ()))
            results.append(
                _result(participant, env, measures, components, total, info, checked, rejected)
            )
        dispositions = _dispositions(self.inputs, ledger, self.unpaid, checked, results)
        try:
            grand_total = money_total((r.total for r in results), checked.quantum)
        except NumberLimitError:
            message = "the total of all participants grows beyond the limit on the size of numbers"
            raise EvaluationError([EvaluationProblem("E602", "", message)]) from None
        return RunResult.model_construct(
            plan=info,
            participants=tuple(results),
            total=grand_total,
            records=_summary(dispositions),
            dispositions=dispositions,
            rejected=tuple(p.render() for p in self.inputs.problems),
            unpaid=tuple(p.render() for p in self.problems),
        )


def _result(
    participant: Participant,
    env: ParticipantEnv,
    measures: dict[str, tr.MeasureTrace],
    components: tuple[tr.ComponentTrace, ...],
    total: Decimal,
    info: PlanInfo,
    checked: CheckedPlan,
    rejected: tuple[tuple[str, str, str], ...] = (),
) -> ParticipantResult:
    lines = tuple(
        ComponentResult(
            name=c.name,
            label=info.labels[c.name],
            amount=c.amount,
            line=c.line,
            parts=tuple(
                PartResult(key=p.key, start=p.start, end=p.end, amount=p.component.amount)
                for p in c.parts
            ),
        )
        for c in components
    )
    employed = env.active if checked.employment is not None else None
    period_days = calendar.days_between(*env.full)
    return ParticipantResult.traced(
        participant_id=participant.id,
        name=participant.name,
        components=lines,
        total=total,
        plan=info,
        trace=tr.ParticipantTrace(
            measures,
            components,
            employed,
            None
            if checked.employment is None
            else (0 if employed is None else calendar.days_between(*employed)),
            period_days if checked.employment is not None else None,
            _raw_employment(checked, participant),
            rejected,
        ),
    )


def _dispositions(
    inputs: Inputs,
    ledger: _Ledger,
    unpaid: dict[str, str],
    checked: CheckedPlan,
    results: Sequence[ParticipantResult],
) -> tuple[RecordDisposition, ...]:
    out: list[RecordDisposition] = []
    paid = {result.participant_id for result in results} | set(unpaid)
    for kind, records in inputs.records.items():
        counted = ledger.counted.get(kind, set())
        if kind in checked.credit_kinds:
            # A row of credit is applied to its record; the record says what counted.
            out += [RecordDisposition(kind, r.id, r.participant_id, "counted") for r in records]
            continue
        for record in records:
            owner = record.participant_id
            if record.id in counted:
                out.append(RecordDisposition(kind, record.id, owner, "counted"))
                continue
            key = (kind, record.id)
            shares = inputs.credits.get(key)
            credited = [owner] if shares is None else [s.participant_id for s in shares]
            failed = next((p for p in credited if p in unpaid), None)
            if failed is not None:
                reason = f"its participant was not paid: {unpaid[failed]}"
                out.append(RecordDisposition(kind, record.id, owner, "rejected", reason))
            elif not any(p in paid for p in credited):
                out.append(RecordDisposition(kind, record.id, owner, "excluded", _ELSEWHERE))
            else:
                reason = ledger.reason(key) or f"no measure reads '{kind}' records"
                out.append(RecordDisposition(kind, record.id, owner, "excluded", reason))
    for kind, record_id, participant_id, reason in inputs.rejected_records:
        out.append(RecordDisposition(kind, record_id, participant_id, "rejected", reason))
    return tuple(out)


_PRECEDENCE: Final = {"rejected": 0, "counted": 1, "excluded": 2}
_ELSEWHERE: Final = "credited to participants of another plan"


def population_result(runs: Mapping[str, RunResult]) -> PopulationResult:
    """Several plans' runs as one: each record once (rejected by any plan, else counted by
    any, else excluded for the reason of a plan that credits someone with it)."""
    merged: dict[tuple[str, str], RecordDisposition] = {}
    for run in runs.values():
        for item in run.dispositions:
            key = (item.kind, item.record_id)
            known = merged.get(key)
            if known is None or _rank(item) < _rank(known):
                merged[key] = item
    quantum = min((run.plan.quantum for run in runs.values()), default=Decimal("0.01"))
    dispositions = tuple(merged.values())
    return PopulationResult.model_construct(
        runs=dict(runs),
        total=money_total((run.total for run in runs.values()), quantum),
        records=_summary(dispositions),
        dispositions=dispositions,
        rejected=tuple(dict.fromkeys(r for run in runs.values() for r in run.rejected)),
        unpaid=tuple(dict.fromkeys(u for run in runs.values() for u in run.unpaid)),
    )


def _rank(item: RecordDisposition) -> tuple[int, int]:
    return (_PRECEDENCE[item.status], 1 if item.reason == _ELSEWHERE else 0)


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
