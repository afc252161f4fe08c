"""`CheckedPlan` → `CompiledPlan`: closures over precomputed tables, built once per plan.

Each expression becomes a closure that takes a participant's environment and returns a
trace `Step` holding its exact value; record filters become predicates split into their
``and`` conditions, so an excluded record names the condition that left it out.  Nothing
here walks the syntax tree at evaluation time, and nothing reaches Python attributes,
files or the network: a plan can only read the fields it declared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from incentive import calendar
from incentive._types import Unit
from incentive.dsl import ast
from incentive.dsl.check import (
    CheckedPlan,
    WindowKey,
    context_windows,
    period_count,
    walk,
    window_key,
)
from incentive.engine import trace as tr
from incentive.engine.credit import Credit
from incentive.engine.teams import Population, TeamFailure
from incentive.errors import Span
from incentive.money import (
    MAX_DIGITS,
    ZERO,
    Exact,
    NumberLimitError,
    add,
    div,
    mul,
    neg,
    quantize,
    sub,
)


class EvaluationFailure(Exception):
    """A checked plan that cannot be evaluated for one participant (E6xx)."""

    def __init__(self, code: str, message: str, span: Span | None) -> None:
        self.code = code
        self.span = span
        super().__init__(message)


@dataclass(slots=True)
class ParticipantEnv:
    """One participant's values while the engine works on them."""

    participant_id: str
    name: str
    fields: Mapping[str, Any]
    records: Mapping[str, Sequence[Credit]]
    #: the period the run covers
    period_start: dt.date
    period_end: dt.date
    aggregates: dict[int, tr.AggregateStep] = field(default_factory=dict)
    measures: dict[str, tr.Step] = field(default_factory=dict)
    #: "period", or the kind of sub-period this environment computes (month, week …)
    context: str = "period"
    #: the days of that period or sub-period
    full: tuple[dt.date, dt.date] = (dt.date.min, dt.date.max)
    #: those of its days the participant was employed; None when none
    active: tuple[dt.date, dt.date] | None = (dt.date.min, dt.date.max)
    #: the days a record's date must fall in for `in period`, `in month` …
    bounds: dict[str, tuple[dt.date, dt.date]] = field(default_factory=dict)
    #: the participant's employment: first and last day (date.max while employed)
    employment: tuple[dt.date, dt.date] | None = None
    #: the days of the (sub-)period inside the plan period (an ISO week may reach past it),
    #: and those of them the participant was employed (None: none).  Values in force
    #: (schedules, dated rows) are read over these days: the plan period is what they cover.
    inside: tuple[dt.date, dt.date] = (dt.date.min, dt.date.max)
    within: tuple[dt.date, dt.date] | None = (dt.date.min, dt.date.max)
    #: days of the whole calendar sub-period (a month the period cuts counts all its days):
    #: what `prorated` divides by
    whole_days: int = 1
    #: a sub-period's own records, by (kind, date field): those dated in it
    buckets: dict[tuple[str, str], Sequence[Credit]] = field(default_factory=dict)
    #: the plan's participants, for values across them (team sums, ranks, pools)
    population: Population | None = None


StepFn = Callable[[ParticipantEnv], tr.Step]
ValueFn = Callable[[ParticipantEnv, Credit | None], Any]


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``and``-separated condition of a record filter, and how to test it."""

    test: ValueFn
    info: tr.FilterCondition
    #: the condition as written, for engines that test whole columns at once
    node: ast.Expr


@dataclass(frozen=True, slots=True)
class CompiledAggregate:
    index: int
    #: the sub-period it is computed for; None for the whole period
    scope: WindowKey | None
    function: str
    kind: str
    field: str | None
    conditions: tuple[Condition, ...]
    line: int
    #: label of the filter for the record reconciliation: "line 10: status = \"won\""
    names: tuple[str, ...]
    unit: Unit
    #: the record date field its first condition tests against its sub-period
    #: (`closed_on in month`): records are handed to each sub-period by that date
    window_field: str | None = None
    #: the aggregate as written
    node: ast.Aggregate | None = None


@dataclass(frozen=True, slots=True)
class CompiledModifier:
    kind: str
    fn: StepFn
    line: int


@dataclass(frozen=True, slots=True)
class CompiledComponent:
    name: str
    line: int
    gates: tuple[CompiledModifier, ...]
    body: StepFn
    modifiers: tuple[CompiledModifier, ...]
    measures: tuple[str, ...]
    #: the sub-period it pays for; None for the whole period
    scope: WindowKey | None = None


@dataclass(frozen=True)
class CompiledPlan:
    """A plan ready to evaluate: closures, tables and the checked plan they came from."""

    checked: CheckedPlan
    aggregates: tuple[CompiledAggregate, ...]
    measures: tuple[CompiledMeasure, ...]
    components: tuple[CompiledComponent, ...]
    #: the sub-periods of each kind the plan computes per, within its period
    windows: Mapping[WindowKey, tuple[calendar.Window, ...]] = field(default_factory=dict)
    #: record kinds read as dated rows: kind → (first-day field, last-day field, line)
    dated: Mapping[str, tuple[str, str, int]] = field(default_factory=dict)
    #: the highest measure level (see `CompiledMeasure.level`)
    levels: int = 0


@dataclass(frozen=True, slots=True)
class CompiledMeasure:
    name: str
    line: int
    fn: StepFn
    scope: WindowKey | None
    #: 0 for a participant's own values; one more than the highest level a team value
    #: it reads (a team sum, a rank) needs from the other members
    level: int = 0


_FLIP: Final = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


class _Compiler:
    def __init__(self, checked: CheckedPlan) -> None:
        self.checked = checked
        self.lines = checked.source.splitlines()
        self.aggregates: list[CompiledAggregate] = []
        self.aggregate_index: dict[ast.Aggregate, int] = {}
        #: the sub-period of the measure or component being compiled
        self.scope: WindowKey | None = None
        #: record kinds read as dated rows: (kind, first-day field, last-day field, line)
        self.dated: dict[str, tuple[str, str, int]] = {}
        #: the component being compiled (a pool is kept by its name)
        self.component_name = ""

    def unit(self, node: ast.Expr) -> Unit:
        return self.checked.units.get(node, "number")

    def text(self, span: Span) -> str:
        lines = self.lines
        if span.line == span.end_line:
            return lines[span.line - 1][span.column - 1 : span.end_column - 1]
        parts = [lines[span.line - 1][span.column - 1 :]]
        parts += lines[span.line : span.end_line - 1]
        parts.append(lines[span.end_line - 1][: span.end_column - 1])
        return " ".join(p.strip() for p in parts)

    # ---- traced expressions ---------------------------------------------------------
    def step(self, node: ast.Expr) -> StepFn:
        unit = self.unit(node)
        if isinstance(node, ast.Number | ast.Percent):
            literal = tr.LiteralStep(node.value, unit, node.text)
            return lambda env: literal
        if isinstance(node, ast.Text):
            text_step = tr.LiteralStep(node.value, unit, f'"{node.value}"')
            return lambda env: text_step
        if isinstance(node, ast.DateLiteral):
            date_step = tr.LiteralStep(node.value, unit, node.value.isoformat())
            return lambda env: date_step
        if isinstance(node, ast.Name | ast.QualifiedName):
            return self._reference(node, unit)
        if isinstance(node, ast.Arithmetic):
            return self._arithmetic(node, unit)
        if isinstance(node, ast.Negate):
            operand = self.step(node.operand)

            def negate(env: ParticipantEnv) -> tr.Step:
                inner = operand(env)
                return tr.NegateStep(neg(number_of(inner)), unit, inner)

            return negate
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.InPeriod):
            operand = self.step(node.operand)
            window = node.window

            def in_period(env: ParticipantEnv) -> tr.Step:
                inner = operand(env)
                start, end = env.bounds[window]
                inside = start <= inner.value <= end  # type: ignore[operator]  # checked: a date
                return tr.InPeriodStep(inside, "bool", inner, start, end)

            return in_period
        if isinstance(node, ast.Prorated):
            return self._prorated(node, unit)
        if isinstance(node, ast.DayWeighted):
            return self._day_weighted(node, unit)
        if isinstance(node, ast.PeriodCount):
            period = (self.checked.period_start, self.checked.period_end)
            count_step = tr.PeriodCountStep(
                Decimal(period_count(node.unit, period)), "count", node.unit
            )
            return lambda env: count_step
        if isinstance(node, ast.Days):
            first, last = self.step(node.start), self.step(node.end)

            def days(env: ParticipantEnv) -> tr.Step:
                a, b = first(env), last(env)
                count = calendar.days_between(a.value, b.value)  # type: ignore[arg-type]  # checked: dates
                return tr.DaysStep(Decimal(count), "count", a, b)

            return days
        if isinstance(node, ast.InList):
            operand = self.step(node.operand)
            options = [self.step(o) for o in node.options]
            negated = node.negated

            def in_list(env: ParticipantEnv) -> tr.Step:
                inner = operand(env)
                steps = tuple(o(env) for o in options)
                found = any(inner.value == s.value for s in steps)
                return tr.InListStep(found != negated, "bool", inner, steps, negated)

            return in_list
        if isinstance(node, ast.Logic):
            return self._logic(node)
        if isinstance(node, ast.Not):
            operand = self.step(node.operand)

            def negation(env: ParticipantEnv) -> tr.Step:
                inner = operand(env)
                return tr.LogicStep(not inner.value, "bool", "not", (inner,))

            return negation
        if isinstance(node, ast.Bound):
            return self._bound(node, unit)
        if isinstance(node, ast.Call):
            args = [self.step(a) for a in node.args]
            pick = min if node.function == "min" else max
            function = node.function

            def call(env: ParticipantEnv) -> tr.Step:
                steps = tuple(a(env) for a in args)
                return tr.CallStep(pick(number_of(s) for s in steps), unit, function, steps)

            return call
        if isinstance(node, ast.IfThenElse):
            condition, then, otherwise = (
                self.step(node.condition),
                self.step(node.then),
                self.step(node.otherwise),
            )

            def if_then_else(env: ParticipantEnv) -> tr.Step:
                cond = condition(env)
                chosen = then(env) if cond.value else otherwise(env)
                return tr.IfStep(chosen.value, unit, cond, chosen, bool(cond.value))

            return if_then_else
        if isinstance(node, ast.Aggregate):
            index = self._aggregate(node)
            return lambda env: env.aggregates[index]
        if isinstance(node, ast.Scorecard):
            return self._scorecard(node)
        if isinstance(node, ast.Tiers):
            return self._tiers(node, unit)
        if isinstance(node, ast.GroupAggregate | ast.InTop | ast.Pool | ast.Override):
            return self._team(node, unit)
        raise AssertionError(f"unhandled node {type(node).__name__}")

    # ---- teams ----------------------------------------------------------------------
    def _team(
        self, node: ast.GroupAggregate | ast.InTop | ast.Pool | ast.Override, unit: Unit
    ) -> StepFn:
        span = node.span

        def ask(env: ParticipantEnv, question: Callable[[Population], tr.Step]) -> tr.Step:
            assert env.population is not None  # every period environment has one
            try:
                return question(env.population)
            except TeamFailure as failure:
                raise EvaluationFailure(failure.code, str(failure), span) from None

        if isinstance(node, ast.GroupAggregate):
            group = node
            return lambda env: ask(env, lambda p: p.aggregate(group, env, unit))
        if isinstance(node, ast.InTop):
            assert isinstance(node.operand, ast.Name)  # checked: a ranking's name
            ranking = self.checked.rankings[node.operand.name]
            top = node.count
            return lambda env: ask(env, lambda p: p.rank(ranking, env, top))
        if isinstance(node, ast.Pool):
            pool, amount, name = node, self.step(node.amount), self.component_name
            checked = self.checked

            def rounded(value: Exact) -> Decimal:
                return round_amount(value, checked)

            return lambda env: ask(
                env, lambda p: p.pool(name, pool, env, amount, rounded, checked.quantum)
            )
        override = node
        return lambda env: ask(env, lambda p: p.override(override, env, unit))

    def _reference(self, node: ast.Name | ast.QualifiedName, unit: Unit) -> StepFn:
        ref = self.checked.references[node]
        name = ref.name
        if ref.kind == "measure":
            return lambda env: env.measures[name]
        if ref.kind == "schedule":
            return self._schedule(self.checked.schedules[name], unit)
        if ref.kind == "weights":
            return self._weights(self.checked.weights[name])
        if ref.kind == "participant_field":

            def participant_field(env: ParticipantEnv) -> tr.Step:
                return tr.FieldStep(_field(env, name), unit, name)

            return participant_field
        raise AssertionError("record fields are only read by filters")

    def _arithmetic(self, node: ast.Arithmetic, unit: Unit) -> StepFn:
        left, right = self.step(node.left), self.step(node.right)
        op = node.op
        operation = {"+": add, "-": sub, "*": mul, "/": div}[op]
        divisor_text = self.text(node.right.span)
        span = node.span
        expression = self.text(node.span)

        def arithmetic(env: ParticipantEnv) -> tr.Step:
            a, b = left(env), right(env)
            try:
                value = operation(number_of(a), number_of(b))
            except ZeroDivisionError:
                raise EvaluationFailure(
                    "E601",
                    f"'{expression}' divides by '{divisor_text}', "
                    "which is zero for this participant",
                    span,
                ) from None
            except NumberLimitError:
                raise EvaluationFailure(
                    "E602",
                    f"'{expression}' grows beyond {MAX_DIGITS} digits for this participant",
                    span,
                ) from None
            return tr.ArithmeticStep(value, unit, op, a, b)

        return arithmetic

    def _compare(self, node: ast.Compare) -> StepFn:
        left, right = self.step(node.left), self.step(node.right)
        op = node.op
        test = _COMPARISONS[op]

        def compare(env: ParticipantEnv) -> tr.Step:
            a, b = left(env), right(env)
            return tr.CompareStep(test(a.value, b.value), "bool", op, a, b)

        return compare

    def _logic(self, node: ast.Logic) -> StepFn:
        left, right = self.step(node.left), self.step(node.right)
        is_and = node.op == "and"
        op = node.op

        def logic(env: ParticipantEnv) -> tr.Step:
            a = left(env)
            if bool(a.value) != is_and:  # decided by the left side alone
                return tr.LogicStep(a.value, "bool", op, (a,))
            b = right(env)
            return tr.LogicStep(b.value, "bool", op, (a, b))

        return logic

    def _bound(self, node: ast.Bound, unit: Unit) -> StepFn:
        operand, limit = self.step(node.operand), self.step(node.limit)
        kind = node.kind
        is_cap = kind == "cap"

        def bound(env: ParticipantEnv) -> tr.Step:
            a, b = operand(env), limit(env)
            value, lim = number_of(a), number_of(b)
            bit = value > lim if is_cap else value < lim
            return tr.BoundStep(lim if bit else value, unit, kind, a, b, bit)

        return bound

    # ---- time -----------------------------------------------------------------------
    def _prorated(self, node: ast.Prorated, unit: Unit) -> StepFn:
        operand = self.step(node.operand)

        def prorated(env: ParticipantEnv) -> tr.Step:
            inner = operand(env)
            days = 0 if env.active is None else calendar.days_between(*env.active)
            of_days = env.whole_days
            value = number_of(inner)
            if days != of_days:
                value = div(mul(value, Decimal(days)), Decimal(of_days))
            return tr.ProratedStep(value, unit, inner, days, of_days)

        return prorated

    def _schedule(self, table: ast.Schedule, unit: Unit) -> StepFn:
        rows = [(row.start, row.end, row.value) for row in table.rows]
        name, line = table.name, table.span.line

        # The step depends on the days alone, not on who is paid: worked out once for each
        # range of days (steps are frozen, so participants share them).
        known: dict[tuple[dt.date, dt.date], tr.Step] = {}

        def schedule(env: ParticipantEnv) -> tr.Step:
            # A rate is in force whether or not this participant was employed.
            days_range = env.within or env.inside
            step = known.get(days_range)
            if step is None:
                start, end = days_range
                pieces = tuple(
                    tr.DayPiece(p.start, p.end, p.days, p.value)  # type: ignore[arg-type]  # a Decimal
                    for p in calendar.pieces(rows, start, end)
                )
                days = calendar.days_between(start, end)
                weighted = _weighted(pieces, days)
                step = known[days_range] = tr.ScheduleStep(weighted, unit, name, pieces, days, line)
            return step

        return schedule

    def _weights(self, table: ast.Weights) -> StepFn:
        values, basis, name = table.values, table.basis, table.name
        # Like a schedule's, a share depends on the (sub-)period alone: once for each.
        known: dict[tuple[dt.date, dt.date, bool], tr.Step] = {}

        def weights(env: ParticipantEnv) -> tr.Step:
            key = (*env.full, env.context == "week")
            step = known.get(key)
            if step is None:
                parts = calendar.weight_parts(basis, key[0], key[1], week=key[2])
                assert parts is not None  # check_windows made sure every sub-period has a share
                shares = tuple((unit_name, values[index]) for index, unit_name in parts)
                total: Exact = ZERO
                for _, share in shares:
                    total = add(total, share)
                step = known[key] = tr.WeightStep(total, "ratio", name, shares, basis)
            return step

        return weights

    def _day_weighted(self, node: ast.DayWeighted, unit: Unit) -> StepFn:
        kind, value_field = node.kind, node.field
        first, last = node.start_field, node.end_field
        line, span = node.span.line, node.span
        self.dated.setdefault(kind, (first, last, line))

        def day_weighted(env: ParticipantEnv) -> tr.Step:
            if env.within is None:  # not employed on any day of it: no value was in force
                return tr.DayWeightedStep(ZERO, unit, kind, value_field, (), 0, line)
            start, end = env.within
            credits = env.records.get(kind, ())
            rows = []
            for credit in credits:
                values = credit.record.values
                rows.append((values[first], values[last] or dt.date.max, credit.record))
            _check_rows(rows, start, end, kind, span)
            pieces = tuple(
                tr.DayPiece(p.start, p.end, p.days, p.value.values[value_field], p.value.id)  # type: ignore[attr-defined]  # a Record
                for p in calendar.pieces(rows, start, end)
            )
            days = calendar.days_between(start, end)
            return tr.DayWeightedStep(
                _weighted(pieces, days), unit, kind, value_field, pieces, days, line
            )

        return day_weighted

    def _scorecard(self, node: ast.Scorecard) -> StepFn:
        items = [(self.step(item.measure), item.weight) for item in node.items]

        def scorecard(env: ParticipantEnv) -> tr.Step:
            lines = []
            total: Exact = ZERO
            for fn, weight in items:
                item = fn(env)
                contribution = mul(number_of(item), weight)
                total = add(total, contribution)
                lines.append(tr.ScorecardLine(item, weight, contribution))
            return tr.ScorecardStep(total, "ratio", tuple(lines))

        return scorecard

    def _tiers(self, node: ast.Tiers, unit: Unit) -> StepFn:
        measure = self.step(node.measure)
        against = None if node.against is None else self.step(node.against)
        rows = node.rows
        marginal = node.mode == "marginal"
        mode = node.mode
        against_text = None if node.against is None else self.text(node.against.span)
        span = node.span

        def tiers(env: ParticipantEnv) -> tr.Step:
            m_step = measure(env)
            m = number_of(m_step)
            q_step = None if against is None else against(env)
            scale: Exact | None = None
            if q_step is not None:
                scale = number_of(q_step)
                if scale <= 0:
                    raise EvaluationFailure(
                        "E601",
                        f"tiers are measured against {against_text}, which is "
                        f"{'zero' if scale == 0 else 'negative'} for this participant",
                        span,
                    )
            bounds = [
                (
                    row.lower if scale is None else mul(scale, row.lower),
                    None
                    if row.upper is None
                    else (row.upper if scale is None else mul(scale, row.upper)),
                )
                for row in rows
            ]
            # The tier the measure stands in: the last whose lower bound it reaches (a tier
            # includes its lower bound).  -1 when it is below the first tier: nothing pays.
            reached = -1
            for index, (lower, _upper) in enumerate(bounds):
                if m >= lower:
                    reached = index
            slices = []
            total: Exact = ZERO
            for index, (row, (lower, upper)) in enumerate(zip(rows, bounds, strict=True)):
                if marginal:
                    top = m if upper is None else min(m, upper)
                    base = sub(top, lower) if top > lower else ZERO
                    pay = mul(base, row.rate)
                    hit = index <= reached
                else:
                    hit = index == reached
                    base = m if hit else ZERO
                    pay = mul(m, row.rate) if hit else ZERO
                total = add(total, pay)
                slices.append(
                    tr.TierSlice(
                        row.lower_text,
                        row.upper_text,
                        lower,
                        upper,
                        row.rate,
                        row.rate_text,
                        base,
                        pay,
                        hit,
                        row.span.line,
                    )
                )
            to_next = None
            if reached + 1 < len(bounds):
                to_next = sub(bounds[reached + 1][0], m)
            return tr.TierStep(
                total,
                "money" if unit == "money" else unit,
                mode,
                m_step,
                q_step,
                tuple(slices),
                reached,
                to_next,
            )

        return tiers

    # ---- aggregates and filters -----------------------------------------------------
    def _aggregate(self, node: ast.Aggregate) -> int:
        if node in self.aggregate_index:
            return self.aggregate_index[node]
        index = len(self.aggregates)
        conditions = tuple(self._conditions(node.where)) if node.where is not None else ()
        names = tuple(f"line {c.info.line}: {c.info.text}" for c in conditions)
        window_field = None
        if node.where is not None:
            first = next(
                (
                    part
                    for part in _and_parts(node.where)
                    if isinstance(part, ast.InPeriod) and part.window != "period"
                ),
                None,
            )
            if first is not None:
                window_field = self._record_field(first.operand)
        self.aggregates.append(
            CompiledAggregate(
                index,
                self.scope,
                node.function,
                node.kind,
                node.field,
                conditions,
                node.span.line,
                names,
                self.unit(node),
                window_field,
                node,
            )
        )
        self.aggregate_index[node] = index
        return index

    def _conditions(self, node: ast.Expr) -> list[Condition]:
        conditions = self._split(node)
        # Test the sub-period first: a record of another month is left out for that
        # reason alone, and the statement of this month need not list it.
        return sorted(conditions, key=lambda c: c.info.window in (None, "period"))

    def _split(self, where: ast.Expr) -> list[Condition]:
        return [self._condition(node) for node in _and_parts(where)]

    def _condition(self, node: ast.Expr) -> Condition:
        fields = [
            self.checked.references[n].name
            for n in walk(node)
            if isinstance(n, ast.Name | ast.QualifiedName)
            and n in self.checked.references
            and self.checked.references[n].kind == "record_field"
        ]
        return Condition(
            self._direct_test(node) or self.value(node),
            tr.FilterCondition(
                self.text(node.span),
                node.span.line,
                fields[0] if fields else None,
                self.checked.period_start if isinstance(node, ast.InPeriod) else None,
                node.window if isinstance(node, ast.InPeriod) else None,
            ),
            node,
        )

    def _record_field(self, node: ast.Expr) -> str | None:
        ref = self.checked.references.get(node)
        return ref.name if ref is not None and ref.kind == "record_field" else None

    def _direct_test(self, node: ast.Expr) -> ValueFn | None:
        """A one-step test for the common conditions (a record field against fixed
        values, or in the period); the same meaning as `value`, with fewer calls per record,
        since a filter runs once for every record."""
        literal = (ast.Number, ast.Percent, ast.Text, ast.DateLiteral)
        if isinstance(node, ast.Compare):
            name = self._record_field(node.left)
            if name is not None and isinstance(node.right, literal):
                return _field_compare(name, node.op, node.right.value)
        if isinstance(node, ast.InPeriod):
            name = self._record_field(node.operand)
            if name is not None:
                return _field_in_window(name, node.window)
        if isinstance(node, ast.InList):
            name = self._record_field(node.operand)
            options = [o.value for o in node.options if isinstance(o, literal)]
            if name is not None and len(options) == len(node.options):
                return _field_in(name, frozenset(options), node.negated)
        return None

    def value(self, node: ast.Expr) -> ValueFn:
        """An untraced closure for record filters: ``(env, record) → value``."""
        if isinstance(node, ast.Number | ast.Percent | ast.Text | ast.DateLiteral):
            constant = node.value
            return lambda env, record: constant
        if isinstance(node, ast.Name | ast.QualifiedName):
            ref = self.checked.references[node]
            name = ref.name
            if ref.kind == "record_field":
                return lambda env, record: record.record.values[name]  # type: ignore[union-attr]
            if ref.kind == "participant_field":
                return lambda env, record: _field(env, name)
            raise AssertionError("filters cannot read measures")
        if isinstance(node, ast.Arithmetic):
            left, right = self.value(node.left), self.value(node.right)
            operation = {"+": add, "-": sub, "*": mul, "/": div}[node.op]
            span = node.span

            def arithmetic(env: ParticipantEnv, record: Credit | None) -> Any:
                try:
                    return operation(left(env, record), right(env, record))
                except ZeroDivisionError:
                    raise EvaluationFailure("E601", "a filter divides by zero", span) from None
                except NumberLimitError:
                    raise EvaluationFailure(
                        "E602", f"a filter grows beyond {MAX_DIGITS} digits", span
                    ) from None

            return arithmetic
        if isinstance(node, ast.Negate):
            operand = self.value(node.operand)
            return lambda env, record: neg(operand(env, record))
        if isinstance(node, ast.Compare):
            left, right = self.value(node.left), self.value(node.right)
            test = _COMPARISONS[node.op]
            return lambda env, record: test(left(env, record), right(env, record))
        if isinstance(node, ast.InPeriod):
            operand = self.value(node.operand)
            window = node.window

            def in_window(env: ParticipantEnv, record: Credit | None) -> bool:
                start, end = env.bounds[window]
                return bool(start <= operand(env, record) <= end)

            return in_window
        if isinstance(node, ast.InList):
            operand = self.value(node.operand)
            options = [self.value(o) for o in node.options]
            negated = node.negated

            def in_list(env: ParticipantEnv, record: Credit | None) -> bool:
                value = operand(env, record)
                return any(value == o(env, record) for o in options) != negated

            return in_list
        if isinstance(node, ast.Logic):
            left, right = self.value(node.left), self.value(node.right)
            if node.op == "and":
                return lambda env, record: left(env, record) and right(env, record)
            return lambda env, record: left(env, record) or right(env, record)
        if isinstance(node, ast.Not):
            operand = self.value(node.operand)
            return lambda env, record: not operand(env, record)
        if isinstance(node, ast.Bound):
            operand, limit = self.value(node.operand), self.value(node.limit)
            pick = min if node.kind == "cap" else max
            return lambda env, record: pick(operand(env, record), limit(env, record))
        if isinstance(node, ast.PeriodCount):
            period = (self.checked.period_start, self.checked.period_end)
            count = Decimal(period_count(node.unit, period))
            return lambda env, record: count
        if isinstance(node, ast.Days):
            first, last = self.value(node.start), self.value(node.end)
            return lambda env, record: Decimal(
                calendar.days_between(first(env, record), last(env, record))
            )
        if isinstance(node, ast.Call):
            args = [self.value(a) for a in node.args]
            pick = min if node.function == "min" else max
            return lambda env, record: pick(a(env, record) for a in args)
        if isinstance(node, ast.IfThenElse):
            c, t, o = self.value(node.condition), self.value(node.then), self.value(node.otherwise)
            return lambda env, record: t(env, record) if c(env, record) else o(env, record)
        raise AssertionError(f"{type(node).__name__} cannot stand in a record filter")


def _and_parts(node: ast.Expr) -> list[ast.Expr]:
    if isinstance(node, ast.Logic) and node.op == "and":
        return _and_parts(node.left) + _and_parts(node.right)
    return [node]


def _field_compare(name: str, op: str, constant: Any) -> ValueFn:
    if op == "=":
        return lambda env, credit: credit.record.values[name] == constant  # type: ignore[union-attr]  # filters always get a credit
    test = _COMPARISONS[op]
    return lambda env, credit: test(credit.record.values[name], constant)  # type: ignore[union-attr]  # filters always get a credit


def _field_in_window(name: str, window: str) -> ValueFn:
    def in_window(env: ParticipantEnv, credit: Credit | None) -> bool:
        assert credit is not None
        start, end = env.bounds[window]
        return bool(start <= credit.record.values[name] <= end)

    return in_window


def _weighted(pieces: Sequence[tr.DayPiece], days: int) -> Exact:
    """Σ value × days ÷ all days: exact, so 100,000 for 46 days and 120,000 for 46 days
    give 110,000; a single piece gives its value untouched."""
    if len(pieces) == 1 and pieces[0].days == days:
        return pieces[0].value
    total: Exact = ZERO
    for piece in pieces:
        total = add(total, mul(piece.value, Decimal(piece.days)))
    return div(total, Decimal(days)) if days else ZERO


def _check_rows(
    rows: Sequence[tuple[dt.date, dt.date, Any]],
    start: dt.date,
    end: dt.date,
    kind: str,
    span: Span,
) -> None:
    """A participant's dated rows must not overlap, and must cover ``start``…``end``."""

    def where(record: Any) -> str:
        return f"{record.source} row {record.row}"

    for first, second in calendar.overlaps([(a, b) for a, b, _ in rows]):
        a, b = rows[first], rows[second]
        shared = calendar.overlap(a[0], a[1], b[0], b[1])
        assert shared is not None
        raise EvaluationFailure(
            "E603",
            f"'{kind}' records {a[2].id} ({where(a[2])}) and {b[2].id} ({where(b[2])}) "
            f"both cover {calendar.describe(*shared)}",
            span,
        )
    gaps = calendar.holes([(a, b) for a, b, _ in rows], start, end)
    if gaps:
        where_from = f" in {rows[0][2].source}" if rows else ""
        raise EvaluationFailure(
            "E603",
            f"no '{kind}' record{where_from} covers {calendar.describe(*gaps[0])}",
            span,
        )


def _field_in(name: str, options: frozenset[Any], negated: bool) -> ValueFn:
    return lambda env, credit: (credit.record.values[name] in options) != negated  # type: ignore[union-attr]  # filters always get a credit


def _field(env: ParticipantEnv, name: str) -> Any:
    """A participant's field; ``id`` and ``name`` are always there."""
    if name == "id":
        return env.participant_id
    if name == "name":
        return env.name
    return env.fields[name]


def number_of(step: tr.Step) -> Exact:
    """The numeric value of a step the checker typed as a number."""
    value = step.value
    assert isinstance(value, Decimal | Fraction), value
    return value


def _equal(a: Any, b: Any) -> bool:
    return bool(a == b)


_COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "=": _equal,
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}


def compile_plan(checked: CheckedPlan) -> CompiledPlan:
    """Build the closures and tables that evaluate ``checked`` for any participant.

    Args:
        checked: a plan that passed every check.

    Returns:
        The compiled plan; compiling again gives an equal one.
    """
    compiler = _Compiler(checked)
    measures = []
    levels: dict[str, int] = {}
    for name in checked.measure_order:
        measure = checked.measures[name]
        compiler.scope = window_key(measure.per)
        step = compiler.step(measure.expr)
        levels[name] = _level(measure.expr, checked, levels)
        measures.append(
            CompiledMeasure(name, measure.span.line, step, compiler.scope, levels[name])
        )
    components = []
    for component in checked.components:
        compiler.scope = window_key(component.per)
        compiler.component_name = component.name
        gates = tuple(
            CompiledModifier("gate", compiler.step(m.expr), m.span.line)
            for m in component.modifiers
            if m.kind == "gate"
        )
        others = tuple(
            CompiledModifier(m.kind, compiler.step(m.expr), m.span.line)
            for m in component.modifiers
            if m.kind != "gate"
        )
        used = _measures_used(component, checked)
        components.append(
            CompiledComponent(
                component.name,
                component.span.line,
                gates,
                compiler.step(component.body),
                others,
                used,
                compiler.scope,
            )
        )
    keys = {m.scope for m in measures} | {c.scope for c in components}
    windows = {
        key: context_windows(key, (checked.period_start, checked.period_end), checked.schedules)
        for key in keys
        if key is not None
    }
    return CompiledPlan(
        checked,
        tuple(compiler.aggregates),
        tuple(measures),
        tuple(components),
        windows,
        compiler.dated,
        max(levels.values(), default=0),
    )


def _level(expr: ast.Expr, checked: CheckedPlan, levels: Mapping[str, int]) -> int:
    """A measure's level: the other members' values it waits for (see CompiledMeasure)."""
    level = 0
    for node in walk(expr):
        if isinstance(node, ast.GroupAggregate):
            level = max(level, levels.get(node.measure, 0) + 1)
        elif isinstance(node, ast.InTop):
            assert isinstance(node.operand, ast.Name)
            ranking = checked.rankings[node.operand.name]
            names = (ranking.measure, *(key.name for key in ranking.ties))
            level = max(level, 1 + max(levels.get(n, 0) for n in names))
        else:
            ref = checked.references.get(node)
            if ref is not None and ref.kind == "measure":
                level = max(level, levels.get(ref.name, 0))
    return level


def _measures_used(component: ast.Component, checked: CheckedPlan) -> tuple[str, ...]:
    """Measures a component reads, directly or through other measures, in plan order."""
    direct: list[str] = []
    roots = [component.body, *(m.expr for m in component.modifiers)]
    for root in roots:
        for node in walk(root):
            if isinstance(node, ast.Override):
                continue  # the measure of the people below, not the manager's own
            ref = checked.references.get(node)
            if ref is not None and ref.kind == "measure":
                direct.append(ref.name)
            elif ref is not None and ref.kind == "ranking":
                direct.append(checked.rankings[ref.name].measure)
            if isinstance(node, ast.Pool) and node.share is not None:
                direct.append(node.share)
    seen: set[str] = set()
    stack = list(direct)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(checked.measure_dependencies.get(name, ()))
    return tuple(name for name in checked.measure_order if name in seen)


def round_amount(value: Exact, checked: CheckedPlan) -> Decimal:
    """A component's exact amount rounded by the plan's rule."""
    return quantize(value, checked.quantum, checked.rounding_mode)
