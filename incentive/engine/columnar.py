"""The columnar engine: a whole population at once, over arrays, exactly.

The straightforward engine (`incentive.engine.evaluate`) works participant by participant
and records every step as it goes.  This one computes the same numbers for all
participants together: records are read as columns (`incentive.engine.columns`), each
aggregate is one pass over its kind grouped by participant (and sub-period), and every
expression is evaluated once over arrays of exact rationals (`incentive.engine.rational`).
What it records is values and references: each participant's amounts, and which rows are
theirs.  A statement's trace is worked out when first asked for, by the straightforward
engine over the participant and the people their team values depend on, and its payouts
are checked against the ones computed here.

It takes the plans and data it can prove it computes identically; for anything else
(`plan_refusal`, or `UnsupportedError` raised while reading or evaluating: an irregular
value, a zero divisor whose quotient is used, a number that might outgrow int64) the
straightforward engine runs instead, and explains what is wrong, as it always has.

Imports numpy, pyarrow and the other engine modules; `api.evaluate` imports it only
when it may run, so a plan check never loads numpy or pyarrow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]  # pyarrow ships no type hints
import pyarrow.compute as pc  # type: ignore[import-untyped]

from incentive.dsl import ast
from incentive.dsl.check import CheckedPlan, period_count, walk
from incentive.engine.columns import (
    KindColumns,
    PeopleColumns,
    UnreadableError,
    read_kind,
    read_people,
)
from incentive.engine.compile import CompiledAggregate, CompiledPlan
from incentive.engine.evaluate import evaluate_inputs, plan_info
from incentive.engine.rational import (
    SAFE,
    Array,
    Int64OverflowError,
    Ratio,
    ZeroDivisorError,
    magnitude,
    round_units,
)
from incentive.engine.records import (
    Inputs,
    Participant,
    Record,
    RowModel,
    RowSource,
    participant_model,
    record_model,
    validate_row,
)
from incentive.engine.results import (
    ComponentResult,
    Lazy,
    ParticipantResult,
    Participants,
    PartResult,
    PlanInfo,
    RecordDisposition,
    RecordSummary,
    RunResult,
)
from incentive.engine.runtime import Progress
from incentive.engine.teams import EVERYONE
from incentive.engine.trace import ParticipantTrace
from incentive.errors import EngineMismatchError, UnsupportedError
from incentive.money import quanta
from incentive.sorting import natural_key

_PLAIN: Final = (
    ast.Number,
    ast.Percent,
    ast.Text,
    ast.DateLiteral,
    ast.Name,
    ast.QualifiedName,
    ast.Arithmetic,
    ast.Negate,
    ast.Compare,
    ast.InPeriod,
    ast.PeriodCount,
    ast.Days,
    ast.InList,
    ast.Logic,
    ast.Not,
    ast.Bound,
    ast.Call,
    ast.IfThenElse,
    ast.Aggregate,
    ast.Tiers,
    ast.GroupAggregate,
    ast.InTop,
)
_LITERALS: Final = (ast.Number, ast.Percent, ast.Text, ast.DateLiteral)
#: What the refusals call the expressions the columnar engine leaves to the other one.
_WHAT: Final = {
    "Scorecard": "a scorecard",
    "Prorated": "proration",
    "DayWeighted": "day-weighted values",
    "Pool": "a team pool",
    "Override": "a manager override",
}
_AGGREGATES: Final = ("sum", "count", "average", "minimum", "maximum")


def plan_refusal(compiled: CompiledPlan) -> str | None:
    """Why ``compiled`` takes the straightforward engine, or None when it need not."""
    checked = compiled.checked
    if checked.employment is not None:
        return "the plan pays for days employed"
    if checked.credit_kinds or checked.exchange is not None or compiled.dated:
        return "the plan splits credit, converts currencies or reads dated rows"
    if checked.schedules or checked.weights:
        return "the plan has schedules or weights"
    for kind in checked.record_kinds.values():
        for decl in kind.fields.values():
            if decl.conversion is not None or decl.within_period or decl.kind == "credit":
                return f"field '{decl.name}' is converted, bounded or credits another kind"
    for root, per in _roots(checked):
        for node in walk(root):
            if not isinstance(node, _PLAIN):
                return f"the plan uses {_WHAT.get(type(node).__name__, type(node).__name__)}"
            if isinstance(node, ast.Aggregate) and node.function not in _AGGREGATES:
                return f"the plan counts distinct values ({node.function})"
            if per and isinstance(node, ast.GroupAggregate | ast.InTop):
                return "a team value inside a sub-period"
    for agg in compiled.aggregates:
        for condition in agg.conditions:
            if _direct(condition.node, checked) is None:
                return f"a record filter of another form: {condition.info.text}"
    return None


def _roots(checked: CheckedPlan) -> Iterator[tuple[ast.Expr, bool]]:
    """Every expression of the plan's measures and components, and whether it is
    computed per sub-period."""
    for measure in checked.measures.values():
        yield measure.expr, measure.per is not None
    for component in checked.components:
        for root in (component.body, *(m.expr for m in component.modifiers)):
            yield root, component.per is not None


def _direct(node: ast.Expr, checked: CheckedPlan) -> str | None:
    """The record field a filter condition tests, when it has a form tested column-wise:
    a field against a literal, a date field in a (sub-)period, a field in a list."""
    if isinstance(node, ast.Compare) and _constant(node.right) is not None:
        return _record_field(node.left, checked)
    if isinstance(node, ast.InPeriod):
        return _record_field(node.operand, checked)
    if isinstance(node, ast.InList) and all(_constant(o) is not None for o in node.options):
        return _record_field(node.operand, checked)
    return None


def _constant(node: ast.Expr) -> Any:
    """The value of a literal (``-5`` is a negated literal), else None."""
    if isinstance(node, _LITERALS):
        return node.value
    if isinstance(node, ast.Negate) and isinstance(node.operand, ast.Number | ast.Percent):
        return -node.operand.value
    return None


def _record_field(node: ast.Expr, checked: CheckedPlan) -> str | None:
    ref = checked.references.get(node)
    return ref.name if ref is not None and ref.kind == "record_field" else None


# ---- values over participants --------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Dates:
    days: Array  # ordinals


@dataclass(frozen=True, slots=True)
class _Texts:
    values: Array  # object array of str


Value = Ratio | _Dates | _Texts | Array  # Array: bools


@dataclass
class _Scope:
    """What expressions read in the period, or in one sub-period."""

    bounds: dict[str, tuple[int, int]]
    measures: dict[str, Value]
    aggregates: dict[int, Ratio | _Dates]


class _Run:
    def __init__(
        self,
        compiled: CompiledPlan,
        people: PeopleColumns,
        kinds: Mapping[str, KindColumns],
    ) -> None:
        self.compiled = compiled
        self.checked = compiled.checked
        self.people = people
        self.size = len(people.ids)
        self.kinds = kinds
        self.fields: dict[str, Value] = {}
        self.aggregate_of = {agg.node: agg for agg in compiled.aggregates if agg.node}
        self.ranks: dict[str, Array] = {}
        self.groups: dict[str, Array] = {}
        self._tests: dict[tuple[str, ...], Array] = {}
        #: the participants whose value of the expression being evaluated is used (None:
        #: all); elsewhere a zero divisor is no error, as the straightforward engine never
        #: evaluates it there
        self.active: Array | None = None
        self._id_order: Array | None = None
        #: each kind's records: counted by some aggregate, and the first reasons to leave
        #: them out (excluded, and only for lying in another sub-period)
        self.reasons: list[str] = []
        self._reason_index: dict[str, int] = {}
        self.counted = {k: np.zeros(c.size, dtype=bool) for k, c in kinds.items()}
        self.excluded = {k: np.full(c.size, -1, dtype=np.int32) for k, c in kinds.items()}
        self.elsewhere = {k: np.full(c.size, -1, dtype=np.int32) for k, c in kinds.items()}

    # ---- participant fields -----------------------------------------------------------
    def field(self, name: str) -> Value:
        found = self.fields.get(name)
        if found is not None:
            return found
        columns = self.people.columns
        if name in ("id", "name"):
            found = _Texts(_objects(self.people.ids if name == "id" else self.people.names))
        elif name in columns.numbers:
            units, scale = columns.numbers[name]
            found = Ratio(units, 10**scale)
        elif name in columns.dates:  # int64, as all arithmetic is
            found = _Dates(columns.dates[name].astype(np.int64))
        else:
            found = _Texts(_objects(columns.raw[name].to_pylist()))
        self.fields[name] = found
        return found

    # ---- records ----------------------------------------------------------------------
    def reason(self, text: str) -> int:
        index = self._reason_index.get(text)
        if index is None:
            index = self._reason_index[text] = len(self.reasons)
            self.reasons.append(text)
        return index

    def _mask(self, node: ast.Expr, columns: KindColumns, bounds: tuple[int, int]) -> Array:
        name = _direct(node, self.checked)
        assert name is not None  # plan_refusal lets only these through
        if isinstance(node, ast.InPeriod):
            days = columns.dates[name]
            return np.asarray((days >= bounds[0]) & (days <= bounds[1]))
        if isinstance(node, ast.InList):
            found = np.zeros(columns.size, dtype=bool)
            for option in node.options:
                found |= self._test(name, "=", _constant(option), columns)
            return np.asarray(~found if node.negated else found)
        assert isinstance(node, ast.Compare)
        return self._test(name, node.op, _constant(node.right), columns)

    def _test(self, name: str, op: str, value: Any, columns: KindColumns) -> Array:
        """A field against a literal, over the whole column (once per run: the same
        test in the period and in every month is one pass)."""
        key = (columns.kind, name, op, type(value).__name__, str(value))
        found = self._tests.get(key)
        if found is None:
            found = self._tests[key] = self._column_test(name, op, value, columns)
        return found

    def _column_test(self, name: str, op: str, value: Any, columns: KindColumns) -> Array:
        if name in columns.numbers:
            units, scale = columns.numbers[name]
            if not isinstance(value, Decimal):
                return np.full(columns.size, op == "!=")
            num, den = value.as_integer_ratio()
            if magnitude(units) * den >= SAFE or abs(num) * 10**scale >= SAFE:
                raise UnsupportedError("a filter's number and its column might not fit int64")
            left, right = units * den, num * 10**scale
            return _compare(op, left, right)
        if name in columns.dates:
            if not isinstance(value, dt.date):
                return np.full(columns.size, op == "!=")
            return _compare(op, columns.dates[name], value.toordinal())
        if op not in ("=", "!="):
            raise UnsupportedError("a text compared by order")
        if not isinstance(value, str):
            return np.full(columns.size, op == "!=")
        if name == columns.owner_field:  # kept as positions among the participants
            where = self.people.ids.index(value) if value in self.people.ids else -1
            equal = columns.owner == where
        else:
            equal = pc.equal(columns.raw[name], value).to_numpy(zero_copy_only=False)
        return np.asarray(equal if op == "=" else ~equal)

    def aggregate(
        self, agg: CompiledAggregate, rows: Array | None, bounds: Mapping[str, Any]
    ) -> Ratio | _Dates:
        """One aggregate over ``rows`` (all of its kind when None), with the reasons of
        those it leaves out."""
        columns = self.kinds[agg.kind]  # every kind the plan declares was read
        kind = agg.kind
        keep = np.ones(columns.size, dtype=bool) if rows is None else rows.copy()
        for number, condition in enumerate(agg.conditions):
            node = condition.node
            window = node.window if isinstance(node, ast.InPeriod) else "period"
            mask = self._mask(node, columns, bounds[window])
            fails = keep & ~mask
            if fails.any():
                window_kind = condition.info.window
                code = self.reason(agg.names[number])
                target = (self.elsewhere if window_kind not in (None, "period") else self.excluded)[
                    kind
                ]
                target[fails & (target < 0)] = code
            keep &= mask
        self.counted[kind] |= keep
        return self._fold(agg, columns, keep)

    def _fold(self, agg: CompiledAggregate, columns: KindColumns, keep: Array) -> Ratio | _Dates:
        owners = columns.owner[keep]
        counts = np.bincount(owners, minlength=self.size).astype(np.int64)
        if agg.function == "count":
            return Ratio(counts, 1)
        assert agg.field is not None
        if agg.field in columns.dates:
            if agg.function not in ("minimum", "maximum"):
                raise UnsupportedError("a date summed")
            days = columns.dates[agg.field][keep]
            out = _extreme(agg.function, owners, days, self.size)
            return _Dates(np.where(counts > 0, out, self.checked.period_start.toordinal()))
        if agg.field not in columns.numbers:
            raise UnsupportedError(f"'{agg.field}' is not a number")
        units, scale = columns.numbers[agg.field]
        values = units[keep]
        if agg.function in ("minimum", "maximum"):
            out = _extreme(agg.function, owners, values, self.size)
            return Ratio(np.where(counts > 0, out, 0), 10**scale)
        sums = _sums(owners, values, self.size)
        total = Ratio(sums, 10**scale)
        if agg.function == "sum":
            return total
        safe = Ratio(np.maximum(counts, 1), 1)
        return (total / safe).where(counts > 0, Ratio(np.zeros(self.size, dtype=np.int64), 1))

    # ---- expressions ------------------------------------------------------------------
    def value(self, node: ast.Expr, scope: _Scope) -> Value:
        size = self.size
        if isinstance(node, ast.Number | ast.Percent):
            return Ratio.constant(node.value, size)
        if isinstance(node, ast.Text):
            return _Texts(np.full(size, node.value, dtype=object))
        if isinstance(node, ast.DateLiteral):
            return _Dates(np.full(size, node.value.toordinal(), dtype=np.int64))
        if isinstance(node, ast.Name | ast.QualifiedName):
            ref = self.checked.references[node]
            if ref.kind == "measure":
                return scope.measures[ref.name]
            if ref.kind == "participant_field":
                return self.field(ref.name)
            raise UnsupportedError(f"'{ref.name}' read as a {ref.kind}")
        if isinstance(node, ast.Arithmetic):
            a, b = self.number(node.left, scope), self.number(node.right, scope)
            if node.op == "+":
                return a + b
            if node.op == "-":
                return a - b
            if node.op == "*":
                return a * b
            zero = np.asarray(b.num == 0)
            if zero.any():
                if self.active is None or bool((zero & self.active).any()):
                    raise UnsupportedError("a division by zero")
                # Zero only where the value is never used (the other branch of an `if`,
                # a closed gate): divide by one there instead.
                b = Ratio(np.ones(size, dtype=np.int64), 1).where(zero, b)
            return a / b
        if isinstance(node, ast.Negate):
            return -self.number(node.operand, scope)
        if isinstance(node, ast.Compare):
            return self._compare_values(node, scope)
        if isinstance(node, ast.InPeriod):
            days = self.dates(node.operand, scope)
            start, end = scope.bounds[node.window]
            return np.asarray((days >= start) & (days <= end))
        if isinstance(node, ast.PeriodCount):
            period = (self.checked.period_start, self.checked.period_end)
            return Ratio.constant(period_count(node.unit, period), size)
        if isinstance(node, ast.Days):
            first, last = self.dates(node.start, scope), self.dates(node.end, scope)
            return Ratio(np.maximum(0, last - first + 1), 1)
        if isinstance(node, ast.InList):
            found = np.zeros(size, dtype=bool)
            for option in node.options:
                found |= self._equal(self.value(node.operand, scope), self.value(option, scope))
            return np.asarray(~found if node.negated else found)
        if isinstance(node, ast.Logic):
            left = self.truth(node.left, scope)
            # The right side matters only where the left does not decide (as the
            # straightforward engine reads it only there).
            with self.only(left if node.op == "and" else ~left):
                right = self.truth(node.right, scope)
            return np.asarray(left & right if node.op == "and" else left | right)
        if isinstance(node, ast.Not):
            return ~self.truth(node.operand, scope)
        if isinstance(node, ast.Bound):
            a, limit = self.number(node.operand, scope), self.number(node.limit, scope)
            beyond = limit.lt(a) if node.kind == "cap" else a.lt(limit)
            return limit.where(beyond, a)
        if isinstance(node, ast.Call):
            args = [self.number(arg, scope) for arg in node.args]
            best = args[0]
            for arg in args[1:]:
                better = arg.lt(best) if node.function == "min" else best.lt(arg)
                best = arg.where(better, best)
            return best
        if isinstance(node, ast.IfThenElse):
            condition = self.truth(node.condition, scope)
            with self.only(condition):
                then = self.value(node.then, scope)
            with self.only(~condition):
                otherwise = self.value(node.otherwise, scope)
            return _choose(condition, then, otherwise)
        if isinstance(node, ast.Aggregate):
            return scope.aggregates[self.aggregate_of[node].index]
        if isinstance(node, ast.Tiers):
            return self._tiers(node, scope)
        if isinstance(node, ast.GroupAggregate):
            return self._group_value(node, scope)
        if isinstance(node, ast.InTop):
            assert isinstance(node.operand, ast.Name)
            ranks = self._ranks(self.checked.rankings[node.operand.name], scope)
            return np.asarray((ranks > 0) & (ranks <= node.count))
        raise UnsupportedError(
            f"the plan uses {_WHAT.get(type(node).__name__, type(node).__name__)}"
        )

    @contextmanager
    def only(self, where: Array) -> Iterator[None]:
        """Evaluate for the participants ``where`` (and those already active) only."""
        saved = self.active
        self.active = where if saved is None else saved & where
        try:
            yield
        finally:
            self.active = saved

    def number(self, node: ast.Expr, scope: _Scope) -> Ratio:
        found = self.value(node, scope)
        if not isinstance(found, Ratio):
            raise UnsupportedError("a number expected")
        return found

    def truth(self, node: ast.Expr, scope: _Scope) -> Array:
        found = self.value(node, scope)
        if not isinstance(found, np.ndarray) or found.dtype != bool:
            raise UnsupportedError("a condition expected")
        return found

    def dates(self, node: ast.Expr, scope: _Scope) -> Array:
        found = self.value(node, scope)
        if not isinstance(found, _Dates):
            raise UnsupportedError("a date expected")
        return found.days

    def _equal(self, a: Value, b: Value) -> Array:
        if isinstance(a, Ratio) and isinstance(b, Ratio):
            return a.eq(b)
        if isinstance(a, _Dates) and isinstance(b, _Dates):
            return np.asarray(a.days == b.days)
        if isinstance(a, _Texts) and isinstance(b, _Texts):
            return np.asarray(a.values == b.values, dtype=bool)
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            return np.asarray(a == b)
        return np.zeros(self.size, dtype=bool)

    def _compare_values(self, node: ast.Compare, scope: _Scope) -> Array:
        a, b = self.value(node.left, scope), self.value(node.right, scope)
        op = node.op
        if op in ("=", "!="):
            equal = self._equal(a, b)
            return equal if op == "=" else ~equal
        if isinstance(a, Ratio) and isinstance(b, Ratio):
            if op == "<":
                return a.lt(b)
            if op == "<=":
                return a.le(b)
            if op == ">":
                return b.lt(a)
            return b.le(a)
        if isinstance(a, _Dates) and isinstance(b, _Dates):
            return _compare(op, a.days, b.days)
        raise UnsupportedError("an ordering of texts")

    def _tiers(self, node: ast.Tiers, scope: _Scope) -> Ratio:
        m = self.number(node.measure, scope)
        size = self.size
        zero = Ratio(np.zeros(size, dtype=np.int64), 1)
        scale = None if node.against is None else self.number(node.against, scope)
        if scale is not None and not bool(scale.positive().all()):
            unused = ~scale.positive()
            if self.active is None or bool((unused & self.active).any()):
                raise UnsupportedError("tiers against a value not above zero")
            scale = Ratio(np.ones(size, dtype=np.int64), 1).where(unused, scale)

        def times(bound: Decimal) -> Ratio:
            constant = Ratio.constant(bound, size)
            return constant if scale is None else scale * constant

        bounds = [(times(r.lower), None if r.upper is None else times(r.upper)) for r in node.rows]
        reached = np.full(size, -1, dtype=np.int64)
        for index, (lower, _upper) in enumerate(bounds):
            reached = np.where(lower.le(m), index, reached)
        total = zero
        for index, (row, (lower, upper)) in enumerate(zip(node.rows, bounds, strict=True)):
            rate = Ratio.constant(row.rate, size)
            if node.mode == "marginal":
                top = m if upper is None else upper.where(upper.lt(m), m)
                base = (top - lower).where(lower.lt(top), zero)
                pay = base * rate
            else:
                pay = (m * rate).where(reached == index, zero)
            total = total + pay
        return total

    def group_codes(self, group: str) -> Array:
        codes = self.groups.get(group)
        if codes is None:
            if group == EVERYONE and group not in self.checked.participant_fields:
                codes = np.zeros(self.size, dtype=np.int64)
            else:
                encoded = pc.dictionary_encode(self.people.columns.raw[group]).combine_chunks()
                codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            self.groups[group] = codes
        return codes

    def _member_value(self, name: str, scope: _Scope) -> Value:
        if name in scope.measures:
            return scope.measures[name]
        return self.field(name)

    def _group_value(self, node: ast.GroupAggregate, scope: _Scope) -> Value:
        codes = self.group_codes(node.group)
        groups = int(codes.max(initial=-1)) + 1
        value = self._member_value(node.measure, scope)
        if not isinstance(value, Ratio):  # the checker lets only numbers through
            raise UnsupportedError("a team value of other than numbers")
        try:
            value = value.common()
        except Int64OverflowError:
            return self._group_fractions(node, codes, groups, value)
        assert isinstance(value.den, int)
        if node.function in ("minimum", "maximum"):
            return Ratio(_extreme(node.function, codes, value.num, groups)[codes], value.den)
        sums = _sums(codes, value.num, groups)
        total = Ratio(sums[codes], value.den)
        if node.function == "sum":
            return total
        counts = np.bincount(codes, minlength=groups).astype(np.int64)
        return total / Ratio(counts[codes], 1)

    def _group_fractions(
        self, node: ast.GroupAggregate, codes: Array, groups: int, value: Ratio
    ) -> Ratio:
        """A team value of values whose common denominator outgrows int64, group by
        group in exact fractions (one per participant: few); each group's value must
        still fit."""
        members: list[list[Fraction]] = [[] for _ in range(groups)]
        for code, fraction in zip(codes.tolist(), value.fractions(), strict=True):
            members[code].append(fraction)
        results: list[Fraction] = []
        for values in members:
            if node.function == "minimum":
                results.append(min(values))
            elif node.function == "maximum":
                results.append(max(values))
            else:
                total = sum(values, Fraction(0))
                results.append(total if node.function == "sum" else total / len(values))
        return Ratio.of([results[code] for code in codes.tolist()])

    def _order_key(self, value: Value) -> Array:
        """Integers in the order (and with the equalities) of ``value``."""
        if isinstance(value, _Dates):
            return value.days
        if isinstance(value, Ratio):
            key = value.sort_key()
            if key is not None:
                return key
            fractions = value.fractions()
            distinct = sorted(set(fractions))
            where = {f: i for i, f in enumerate(distinct)}
            return np.array([where[f] for f in fractions], dtype=np.int64)
        raise UnsupportedError("a ranking by text")

    def _ids(self) -> Array:
        if self._id_order is None:
            ids = self.people.ids
            id_field = self.checked.participant_id_field
            column = self.people.columns.raw[id_field]
            if len(ids) and id_field in self.people.columns.integers:
                # integers without leading zeros: natural order is numeric order
                numbers = pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False)
                order = np.argsort(numbers, kind="stable").tolist()
            else:
                order = sorted(range(self.size), key=lambda i: natural_key(ids[i]))
            positions = np.empty(self.size, dtype=np.int64)
            positions[np.array(order, dtype=np.int64)] = np.arange(self.size)
            self._id_order = positions
        return self._id_order

    def _ranks(self, ranking: ast.Ranking, scope: _Scope) -> Array:
        """Each participant's rank in their group (0: not ranked).  Only values above
        zero rank; members the tie rules cannot tell apart share a rank (1, 2, 2, 4)."""
        found = self.ranks.get(ranking.name)
        if found is not None:
            return found
        value = self._member_value(ranking.measure, scope)
        if not isinstance(value, Ratio):  # the checker lets only numbers through
            raise UnsupportedError("a ranking by other than a number")
        ranked = value.positive()
        primary = self._order_key(value)
        keys = [-primary if ranking.order in ("highest", "latest") else primary]
        for tie in ranking.ties:
            if tie.order is None:
                keys.append(self._ids())
            else:
                key = self._order_key(self._member_value(tie.name, scope))
                keys.append(-key if tie.order in ("highest", "latest") else key)
        codes = self.group_codes(ranking.group)
        order = np.lexsort((self._ids(), *reversed(keys), codes))
        order = order[ranked[order]]
        groups = codes[order]
        count = len(order)
        ranks = np.zeros(self.size, dtype=np.int64)
        if count:
            positions = np.arange(count)
            new_group = np.ones(count, dtype=bool)
            new_group[1:] = groups[1:] != groups[:-1]
            starts = np.maximum.accumulate(np.where(new_group, positions, 0))
            same = ~new_group
            for key in keys:
                k = key[order]
                same[1:] &= k[1:] == k[:-1]
            leader = np.maximum.accumulate(np.where(same, 0, positions))
            ranks[order] = leader - starts + 1
        self.ranks[ranking.name] = ranks
        return ranks


def _objects(values: list[str]) -> Array:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _compare(op: str, a: Any, b: Any) -> Array:
    if op == "=":
        return np.asarray(a == b)
    if op == "!=":
        return np.asarray(a != b)
    if op == "<":
        return np.asarray(a < b)
    if op == "<=":
        return np.asarray(a <= b)
    if op == ">":
        return np.asarray(a > b)
    return np.asarray(a >= b)


def _choose(condition: Array, then: Value, otherwise: Value) -> Value:
    if isinstance(then, Ratio) and isinstance(otherwise, Ratio):
        return then.where(condition, otherwise)
    if isinstance(then, _Dates) and isinstance(otherwise, _Dates):
        return _Dates(np.where(condition, then.days, otherwise.days))
    if isinstance(then, _Texts) and isinstance(otherwise, _Texts):
        return _Texts(np.where(condition, then.values, otherwise.values))
    if isinstance(then, np.ndarray) and isinstance(otherwise, np.ndarray):
        return np.asarray(np.where(condition, then, otherwise))
    raise UnsupportedError("if … then … else of unlike values")


def _extreme(function: str, groups: Array, values: Array, size: int) -> Array:
    """The minimum (or maximum) of ``values`` by group; a group without any keeps the
    largest (smallest) int64, for the caller to replace."""
    smallest = function == "minimum"
    out = np.full(size, np.iinfo(np.int64).max if smallest else np.iinfo(np.int64).min)
    (np.minimum if smallest else np.maximum).at(out, groups, values)
    return out


def _sums(groups: Array, values: Array, size: int) -> Array:
    """Exact int64 sums of ``values`` by group: through doubles while every partial sum
    is an integer below 2**53 (so exact), else in int64 with a bound."""
    if values.size == 0:
        return np.zeros(size, dtype=np.int64)
    largest = max(abs(int(values.max())), abs(int(values.min())))
    if largest * values.size < 1 << 53:
        return np.bincount(groups, weights=values, minlength=size).astype(np.int64)
    if largest * values.size >= 1 << 62:
        raise UnsupportedError("sums that might not fit int64")
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, groups, values)
    return out


# ---- the run ----------------------------------------------------------------------------
def evaluate_columns(
    compiled: CompiledPlan,
    participants: RowSource,
    records: Mapping[str, RowSource],
    *,
    progress: Progress | None = None,
) -> RunResult:
    """Evaluate ``compiled`` over a whole population as columns.

    Raises:
        UnsupportedError: the plan or the inputs take the straightforward engine (which also
            says what is wrong with inputs that have problems).
    """
    refusal = plan_refusal(compiled)
    if refusal is not None:
        raise UnsupportedError(refusal)
    checked = compiled.checked
    if set(records) != set(checked.record_kinds):
        raise UnsupportedError("record kinds given other than the plan's")
    sources = [participants, *records.values()]
    if not all(isinstance(s, str | Path | list | tuple) for s in sources):
        # An iterator read here could not be read again by the straightforward engine.
        raise UnsupportedError("rows neither in a file nor in a list")
    try:
        people = read_people(checked, participants)
        kinds = {
            name: read_kind(kind, records[name], people.ids, progress)
            for name, kind in checked.record_kinds.items()
        }
    except UnreadableError as unreadable:
        raise UnsupportedError(unreadable.reason) from None
    run = _Run(compiled, people, kinds)
    try:
        lines = _evaluate(run)
    except Int64OverflowError:
        raise UnsupportedError("a value that might not fit int64") from None
    except ZeroDivisorError:
        raise UnsupportedError("a division by zero") from None
    if progress is not None:
        progress("evaluating", run.size, run.size)
    return _result(run, lines)


@dataclass
class _Line:
    """One component's quanta for every participant, and each sub-period's."""

    units: Array
    parts: list[Array] | None = None


def _evaluate(run: _Run) -> list[_Line]:
    return _pay(run, *_aggregate(run))


Windows = dict[Any, list[_Scope]]


def _aggregate(run: _Run) -> tuple[_Scope, Windows]:
    """Every aggregate: of the period, then of each sub-period (records are handed to
    a sub-period by the date its filter tests, as the straightforward engine does)."""
    compiled, checked = run.compiled, run.checked
    period = {"period": (checked.period_start.toordinal(), checked.period_end.toordinal())}
    scope = _Scope(dict(period), {}, {})
    for agg in compiled.aggregates:
        if agg.scope is None:
            scope.aggregates[agg.index] = run.aggregate(agg, None, scope.bounds)
    windows: Windows = {}
    for key, spans in compiled.windows.items():
        aggregates = [agg for agg in compiled.aggregates if agg.scope == key]
        starts = np.array([w.start.toordinal() for w in spans], dtype=np.int64)
        ends = np.array([w.end.toordinal() for w in spans], dtype=np.int64)
        buckets: dict[tuple[str, str], Array] = {}
        for agg in aggregates:
            if agg.window_field is None:
                continue
            pair = (agg.kind, agg.window_field)
            columns = run.kinds[agg.kind]
            if pair not in buckets:
                buckets[pair] = _buckets(columns.dates[agg.window_field], starts, ends)
            outside = np.asarray(buckets[pair] < 0)
            target = run.elsewhere[agg.kind]
            target[outside & (target < 0)] = run.reason(agg.names[0])
        for position, span in enumerate(spans):
            bounds = dict(period)
            bounds[span.kind] = (span.start.toordinal(), span.end.toordinal())
            inner = _Scope(bounds, {}, {})
            for agg in aggregates:
                rows = (
                    None
                    if agg.window_field is None
                    else np.asarray(buckets[(agg.kind, agg.window_field)] == position)
                )
                inner.aggregates[agg.index] = run.aggregate(agg, rows, bounds)
            windows.setdefault(key, []).append(inner)
    return scope, windows


def _buckets(days: Array, starts: Array, ends: Array) -> Array:
    """Each record's sub-period (-1: none), by its date; a slice at a time, so the
    temporaries stay small whatever the number of records."""
    out = np.empty(len(days), dtype=np.int32)
    for first in range(0, len(days), _SLICE):
        part = days[first : first + _SLICE]
        number = np.searchsorted(starts, part, side="right") - 1
        inside = (number >= 0) & (part <= ends[np.maximum(number, 0)])
        out[first : first + _SLICE] = np.where(inside, number, -1)
    return out


#: Records handled at a time where a step needs temporaries of several bytes each.
_SLICE: Final = 1 << 16


def _pay(run: _Run, scope: _Scope, windows: Windows) -> list[_Line]:
    """Measures and components, from the aggregates: arrays of participants."""
    compiled, checked = run.compiled, run.checked
    for measure in compiled.measures:
        if measure.scope is None:
            scope.measures[measure.name] = run.value(checked.measures[measure.name].expr, scope)
    for key, inners in windows.items():
        for inner in inners:
            inner.measures = dict(scope.measures)
            for measure in compiled.measures:
                if measure.scope == key:
                    expr = checked.measures[measure.name].expr
                    inner.measures[measure.name] = run.value(expr, inner)
    lines: list[_Line] = []
    for component, compiled_component in zip(checked.components, compiled.components, strict=True):
        scope_key = compiled_component.scope
        if scope_key is None:
            lines.append(_Line(_component(run, component, scope)))
            continue
        parts = [_component(run, component, inner) for inner in windows[scope_key]]
        units = np.zeros(run.size, dtype=np.int64)
        for part in parts:
            if magnitude(units) + magnitude(part) >= SAFE:
                raise Int64OverflowError
            units = units + part
        lines.append(_Line(units, parts))
    return lines


def _component(run: _Run, component: ast.Component, scope: _Scope) -> Array:
    checked = run.checked
    size = run.size
    zero = Ratio(np.zeros(size, dtype=np.int64), 1)
    open_ = np.ones(size, dtype=bool)
    for modifier in component.modifiers:
        if modifier.kind == "gate":  # read only where the gates before it let through
            with run.only(open_):
                open_ = open_ & run.truth(modifier.expr, scope)
    with run.only(open_):
        value = run.number(component.body, scope)
    for modifier in component.modifiers:
        if modifier.kind == "gate":
            continue
        with run.only(open_):
            limit = run.number(modifier.expr, scope)
        if modifier.kind == "cap":
            value = limit.where(limit.lt(value), value)
        elif modifier.kind == "floor":
            value = limit.where(value.lt(limit), value)
        else:
            value = value * limit
    return round_units(value.where(open_, zero), checked.quantum, checked.rounding_mode)


def _result(run: _Run, lines: list[_Line]) -> RunResult:
    checked = run.checked
    info = plan_info(checked)
    quantum = checked.quantum
    totals = [sum(values) for values in zip(*(line.units.tolist() for line in lines), strict=True)]
    if not lines:
        totals = [0] * run.size
    explainer = _Explainer(run)
    participants = explainer.results = _Results(run, lines, totals, info, explainer)
    dispositions = _Dispositions(run)
    return RunResult.model_construct(
        plan=info,
        participants=participants,
        total=quanta(sum(totals), quantum),
        records=dispositions.summary(),
        dispositions=dispositions,
        rejected=(),
        unpaid=(),
    )


class _Results(Participants):
    """Each participant's `ParticipantResult`, made from the columns when first read."""

    def __init__(
        self,
        run: _Run,
        lines: list[_Line],
        totals: list[int],
        info: PlanInfo,
        explainer: _Explainer,
    ) -> None:
        self._run = run
        self._lines = lines
        self._totals = totals
        self._info = info
        self._explainer = explainer
        self._made: dict[int, ParticipantResult] = {}
        self._where: dict[str, int] | None = None
        compiled = run.compiled
        self._windows = {key: spans for key, spans in compiled.windows.items()}
        self._names = [(c.name, c.line, c.scope) for c in compiled.components]

    def __len__(self) -> int:
        return self._run.size

    def item(self, index: int) -> ParticipantResult:
        made = self._made.get(index)
        if made is None:
            made = self._made[index] = self._make(index)
        return made

    def batches(self, size: int = 32) -> Iterator[list[tuple[int, ParticipantResult]]]:
        return self._explainer.batches(size)

    def fresh(self, index: int, trace: ParticipantTrace) -> ParticipantResult:
        """A result made again, with its trace, and kept by nobody."""
        made = self._make(index)
        made._trace = trace
        return made

    def position(self, participant_id: str) -> int:
        if self._where is None:
            self._where = {pid: i for i, pid in enumerate(self._run.people.ids)}
        return self._where[participant_id]

    def _make(self, index: int) -> ParticipantResult:
        quantum = self._run.checked.quantum
        labels = self._info.labels
        lines = []
        for (name, line_number, key), line in zip(self._names, self._lines, strict=True):
            parts: tuple[PartResult, ...] = ()
            if key is not None and line.parts is not None:
                parts = tuple(
                    PartResult.model_construct(
                        key=span.key,
                        start=span.start,
                        end=span.end,
                        amount=quanta(int(part[index]), quantum),
                    )
                    for span, part in zip(self._windows[key], line.parts, strict=True)
                )
            lines.append(
                ComponentResult.model_construct(
                    name=name,
                    label=labels[name],
                    amount=quanta(int(line.units[index]), quantum),
                    line=line_number,
                    parts=parts,
                )
            )
        people = self._run.people
        explainer = self._explainer
        return ParticipantResult.traced(
            lambda: explainer.trace(index),
            participant_id=people.ids[index],
            name=people.names[index],
            components=tuple(lines),
            total=quanta(self._totals[index], quantum),
            plan=self._info,
        )


_STATUS: Final = ("counted", "excluded")


class _Dispositions(Lazy[RecordDisposition]):
    """What became of each record, kept as columns and made one at a time when read."""

    def __init__(self, run: _Run) -> None:
        self._run = run
        self._parts: list[tuple[str, KindColumns, Array]] = []
        reasons = list(run.reasons)
        for kind, columns in run.kinds.items():
            none = len(reasons)
            reasons.append(f"no measure reads '{kind}' records")
            excluded, elsewhere = run.excluded[kind], run.elsewhere[kind]
            why = np.where(excluded >= 0, excluded, np.where(elsewhere >= 0, elsewhere, none))
            code = np.where(run.counted[kind], -1, why)
            self._parts.append((kind, columns, code))
        self._reasons = reasons
        self._size = sum(columns.size for columns in run.kinds.values())

    def summary(self) -> RecordSummary:
        counted = 0
        by_rule: dict[str, int] = {}
        for _, _, code in self._parts:
            counted += int((code < 0).sum())
            found = np.bincount(code[code >= 0], minlength=len(self._reasons))
            for reason, count in zip(self._reasons, found.tolist(), strict=True):
                if count:
                    by_rule[reason] = by_rule.get(reason, 0) + count
        return RecordSummary(
            read=self._size,
            counted=counted,
            excluded=self._size - counted,
            rejected=0,
            excluded_by_rule=dict(sorted(by_rule.items())),
        )

    def __len__(self) -> int:
        return self._size

    def item(self, index: int) -> RecordDisposition:
        for kind, columns, code in self._parts:
            if index < columns.size:
                return self._one(kind, columns, code, index)
            index -= columns.size
        raise IndexError(index)

    def _one(self, kind: str, columns: KindColumns, code: Array, row: int) -> RecordDisposition:
        info = self._run.checked.record_kinds[kind]
        record_id = columns.raw[info.id_field][row].as_py()
        owner = self._run.people.ids[int(columns.owner[row])]
        reason = int(code[row])
        if reason < 0:
            return RecordDisposition(kind, record_id, owner, "counted")
        return RecordDisposition(kind, record_id, owner, "excluded", self._reasons[reason])

    def __iter__(self) -> Iterator[RecordDisposition]:
        people = self._run.people.ids
        reasons = self._reasons
        for kind, columns, code in self._parts:
            info = self._run.checked.record_kinds[kind]
            ids = columns.raw[info.id_field].to_pylist()
            owners = columns.owner.tolist()
            for record_id, owner, reason in zip(ids, owners, code.tolist(), strict=True):
                if reason < 0:
                    yield RecordDisposition(kind, record_id, people[owner], "counted")
                else:
                    yield RecordDisposition(
                        kind, record_id, people[owner], "excluded", reasons[reason]
                    )


class _Explainer:
    """Traces for statements: the straightforward engine run over a participant and the
    people their team values depend on (each group once), its payouts checked against
    the columns'."""

    def __init__(self, run: _Run) -> None:
        self._run = run
        #: the columns' results, to check each trace's payouts against
        self.results: _Results | None = None
        self._runs: dict[tuple[int, ...], RunResult] = {}
        self._rows: dict[str, tuple[Array, Array]] = {}
        checked = run.checked
        groups: set[str] = set()
        for root, _ in _roots(checked):
            for node in walk(root):
                if isinstance(node, ast.GroupAggregate):
                    groups.add(node.group)
                elif isinstance(node, ast.InTop):
                    assert isinstance(node.operand, ast.Name)
                    groups.add(checked.rankings[node.operand.name].group)
        self._groups = sorted(groups)
        #: team values of team values: only the whole population says
        self._everyone = run.compiled.levels > 1
        #: the row reader's models, built once (each costs a pydantic model class)
        self._models: dict[str | None, RowModel] = {}

    def _model(self, kind: str | None) -> RowModel:
        """The row reader's model of a record kind, or of participants (None)."""
        model = self._models.get(kind)
        if model is None:
            checked = self._run.checked
            model = self._models[kind] = (
                participant_model(checked)
                if kind is None
                else record_model(checked.record_kinds[kind])
            )
        return model

    def _closure(self, index: int) -> tuple[int, ...]:
        run = self._run
        if self._everyone:
            return tuple(range(run.size))
        members = {index}
        for group in self._groups:
            codes = run.group_codes(group)
            members.update(np.flatnonzero(codes == codes[index]).tolist())
        return tuple(sorted(members))

    def trace(self, index: int) -> ParticipantTrace:
        members = self._closure(index)
        result = self._runs.get(members)
        if result is None:
            result = self._runs[members] = self._straightforward(members)
        mine = result.participants[members.index(index)]
        self._check(index, mine)
        return mine.trace

    def _check(
        self, index: int, mine: ParticipantResult, fast: ParticipantResult | None = None
    ) -> None:
        """Raise `EngineMismatchError` unless the straightforward engine paid ``index``
        what the columns did (``fast``, when already made)."""
        results = self.results
        if results is None:
            return
        if fast is None:
            fast = results.item(index)
        if [c.amount for c in fast.components] != [c.amount for c in mine.components]:
            raise EngineMismatchError(
                f"the engines disagree on {self._run.people.ids[index]}: "
                f"{[str(c.amount) for c in fast.components]} and "
                f"{[str(c.amount) for c in mine.components]}"
            )

    def _linked(self) -> Array:
        """For each participant, the smallest position of the people linked to them by
        sharing a group, directly or through others: who one straightforward run must
        hold for any of them to be traced as the columns paid them.

        Each group's members hook their roots to the group's smallest label, then every
        label jumps to its root, until nothing changes (labels only fall, and each stays
        a position in its own linked set): a few rounds even where groups chain through
        the whole population."""
        run = self._run
        if self._everyone:
            return np.zeros(run.size, dtype=np.int64)
        label = np.arange(run.size, dtype=np.int64)
        while True:
            changed = False
            for group in self._groups:
                codes = run.group_codes(group)
                lowest = np.full(int(codes.max(initial=-1)) + 1, run.size, dtype=np.int64)
                np.minimum.at(lowest, codes, label)
                hooked = label.copy()
                np.minimum.at(hooked, label, lowest[codes])
                changed = changed or not np.array_equal(hooked, label)
                label = hooked
                while True:
                    jumped = label[label]
                    if np.array_equal(jumped, label):
                        break
                    label = jumped
            if not changed:
                return label

    def batches(self, size: int) -> Iterator[list[tuple[int, ParticipantResult]]]:
        """Every participant's result with its trace, in groups of about ``size`` people
        traced by one straightforward run (people linked by their groups stay together),
        checked against the columns and kept by nobody: a statement for everyone costs
        one batch of traces at a time, not all of them at once."""
        results = self.results
        assert results is not None, "batches of a run without results"
        linked = self._linked()
        order = np.argsort(linked, kind="stable")
        bounds = np.flatnonzero(np.diff(linked[order])) + 1
        sets = np.split(order, bounds) if len(order) else []
        # Linked sets in the order of their first member, packed into batches.
        sets.sort(key=lambda members: int(members[0]))
        batch: list[int] = []
        for number, members in enumerate(sets, 1):
            batch.extend(members.tolist())
            if len(batch) < size and number < len(sets):
                continue
            batch.sort()
            result = self._straightforward(batch)
            out = []
            for index, mine in zip(batch, result.participants, strict=True):
                fresh = results.fresh(index, mine.trace)
                self._check(index, mine, fresh)
                out.append((index, fresh))
            yield out
            batch = []

    def _owned(self, kind: str, columns: KindColumns, members: Sequence[int]) -> Array:
        found = self._rows.get(kind)
        if found is None:
            order = np.argsort(columns.owner, kind="stable")
            starts = np.searchsorted(columns.owner[order], np.arange(self._run.size + 1))
            found = self._rows[kind] = (order, starts)
        order, starts = found
        rows = np.concatenate(
            [order[starts[m] : starts[m + 1]] for m in members] or [np.zeros(0, dtype=np.int64)]
        )
        return np.sort(rows)

    def _straightforward(self, members: Sequence[int]) -> RunResult:
        """The straightforward engine over ``members`` and their records, read from the
        columns kept (never the files again: they may have changed since) by the row
        reader's own validation."""
        run = self._run
        checked = run.checked
        records: dict[str, tuple[Record, ...]] = {}
        for kind, columns in run.kinds.items():
            info = checked.record_kinds[kind]
            rows = self._owned(kind, columns, members)
            records[kind] = tuple(
                Record(
                    kind,
                    values[info.id_field],
                    values[info.participant_field],
                    values,
                    columns.source,
                    number,
                )
                for number, values in _rows_again(columns, self._model(kind), rows)
            )
        table = run.people.columns
        rows = np.array(members, dtype=np.int64)
        people = tuple(
            Participant(
                values[checked.participant_id_field],
                values["name"] or values[checked.participant_id_field],
                {name: values[name] for name in checked.participant_fields},
                table.source,
                number,
            )
            for number, values in _rows_again(table, self._model(None), rows)
        )
        return evaluate_inputs(run.compiled, Inputs(people, records, (), ()))


def _rows_again(
    columns: KindColumns, model: RowModel, rows: Array
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of the columns validated by the row reader, with their row numbers."""
    for row, raw in zip(rows.tolist(), columns.rows(rows), strict=True):
        number = columns.first_row + row
        values, _ = validate_row(model, columns.source, number, raw)
        if values is None:
            raise EngineMismatchError(f"the readers disagree on {columns.source} row {number}")
        yield number, values
