"""lark Tree → `Plan`: one Transformer method per grammar rule, of the same name.

Shape only: numbers become `Decimal` from the token text (``5%`` becomes 0.05), every node
gets its `Span`.  Names are resolved later, in check.py.  Imports errors and dsl.ast.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, cast

from lark import Token, Tree
from lark.tree import Meta
from lark.visitors import Transformer_NonRecursive, v_args

from incentive.dsl import ast
from incentive.errors import Diagnostic, Span
from incentive.money import percent_value


class BuildProblems(Exception):
    """Raised inside the transformer for a literal that parses but cannot be a value."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.message)


def _number_text(token: Token) -> str:
    return str(token).replace("_", "")


@v_args(inline=True, meta=True)
class PlanBuilder(Transformer_NonRecursive[Token, Any]):
    """Builds AST nodes bottom-up; lark calls the method named after each rule."""

    def __init__(self, filename: str) -> None:
        super().__init__()
        self.filename = filename

    # ---- helpers --------------------------------------------------------------------
    def _span(self, meta: Meta) -> Span:
        return Span(self.filename, meta.line, meta.column, meta.end_line, meta.end_column)

    def _token_span(self, token: Token) -> Span:
        line = token.line or 1
        column = token.column or 1
        return Span(self.filename, line, column, token.end_line or line, token.end_column or column)

    # ---- header ---------------------------------------------------------------------
    def plan_name(self, meta: Meta, name: Token) -> ast.Header:
        return ast.Header("plan", (str(name)[1:-1],), self._span(meta))

    def currency(self, meta: Meta, code: Token) -> ast.Header:
        return ast.Header("currency", (str(code),), self._span(meta))

    def period(self, meta: Meta, start: Token, end: Token) -> ast.Header:
        for token in (start, end):
            parse_date(str(token), self._token_span(token))
        return ast.Header("period", (str(start), str(end)), self._span(meta))

    def rounding(self, meta: Meta, mode: Token, quantum: Token, *scope: str) -> ast.Header:
        return ast.Header("rounding", (str(mode), _number_text(quantum), *scope), self._span(meta))

    def rounding_scope(self, meta: Meta, scope: Token) -> str:
        return str(scope)

    def employment(self, meta: Meta, start: Token, end: Token | None = None) -> ast.Employment:
        return ast.Employment(str(start), None if end is None else str(end), self._span(meta))

    # ---- calendar tables ------------------------------------------------------------
    def schedule(self, meta: Meta, name: Token, *rest: Any) -> ast.Schedule:
        label = rest[0] if rest and isinstance(rest[0], ast.Label) else None
        money = any(item is _MONEY for item in rest)
        number = any(item is _NUMBER for item in rest)
        rows = tuple(r for r in rest if isinstance(r, ast.ScheduleRow))
        return ast.Schedule(str(name), label, money, rows, self._span(meta), number=number)

    def schedule_money(self, meta: Meta) -> object:
        return _MONEY

    def schedule_number(self, meta: Meta) -> object:
        return _NUMBER

    def schedule_row(
        self, meta: Meta, start: Token, end: Token, value: ast.Expr
    ) -> ast.ScheduleRow:
        assert isinstance(value, ast.Number | ast.Percent)
        return ast.ScheduleRow(
            parse_date(str(start), self._token_span(start)),
            parse_date(str(end), self._token_span(end)),
            value.value,
            value.text,
            isinstance(value, ast.Percent),
            self._span(meta),
        )

    def weights(self, meta: Meta, name: Token, *rest: Any) -> ast.Weights:
        items = list(rest)
        label = items.pop(0) if isinstance(items[0], ast.Label) else None
        words = [t for t in items if isinstance(t, Token) and t.type == "WINDOW"]
        values = [t for t in items if isinstance(t, Token) and t.type == "PERCENT"]
        basis_span = self._token_span(words[0])
        if len(words) == 2:
            last = self._token_span(words[1])
            basis_span = Span(
                basis_span.file, basis_span.line, basis_span.column, last.end_line, last.end_column
            )
        return ast.Weights(
            str(name),
            label,
            " of ".join(str(w) for w in words),
            tuple(percent_value(_number_text(v)[:-1]) for v in values),
            tuple(str(v) for v in values),
            self._span(meta),
            basis_span,
        )

    def exchange(self, meta: Meta, *rest: Any) -> ast.ExchangeRates:
        label = rest[0] if rest and isinstance(rest[0], ast.Label) else None
        rows = tuple(r for r in rest if isinstance(r, ast.RateRow))
        return ast.ExchangeRates(label, rows, self._span(meta))

    def rate_row(
        self, meta: Meta, start: Token, end: Token, *rates: tuple[str, Decimal, str]
    ) -> ast.RateRow:
        return ast.RateRow(
            parse_date(str(start), self._token_span(start)),
            parse_date(str(end), self._token_span(end)),
            rates,
            self._span(meta),
        )

    def currency_rate(self, meta: Meta, code: Token, rate: Token) -> tuple[str, Decimal, str]:
        return (str(code), Decimal(_number_text(rate)), str(rate))

    # ---- teams ----------------------------------------------------------------------
    def ranking(self, meta: Meta, name: Token, *rest: Any) -> ast.Ranking:
        items = list(rest)
        label = items.pop(0) if isinstance(items[0], ast.Label) else None
        measure, order, group = items[0], items[1], items[2]
        ties = next((i for i in items[3:] if isinstance(i, tuple)), ())
        return ast.Ranking(
            str(name),
            label,
            str(measure),
            order,
            str(group),
            ties,
            any(i is _PUBLIC for i in items[3:]),
            self._span(meta),
            self._token_span(measure),
            self._token_span(group),
        )

    def order(self, meta: Meta, word: Token) -> str:
        return str(word)

    def ties(self, meta: Meta, *keys: ast.TieKey) -> tuple[ast.TieKey, ...]:
        return keys

    pool_ties = ties

    def tie_key(self, meta: Meta, name: Token, order: str | None = None) -> ast.TieKey:
        return ast.TieKey(str(name), cast(Any, order), self._span(meta))

    def public(self, meta: Meta) -> object:
        return _PUBLIC

    def pool(self, meta: Meta, amount: ast.Expr, group: Token, share: Any, *rest: Any) -> ast.Pool:
        ties = rest[0] if rest else ()
        name, share_span = share
        return ast.Pool(
            self._span(meta), amount, str(group), name, ties, self._token_span(group), share_span
        )

    def share_by(self, meta: Meta, name: Token) -> tuple[str, Span]:
        return (str(name), self._token_span(name))

    def share_equally(self, meta: Meta) -> tuple[None, None]:
        return (None, None)

    def override(
        self, meta: Meta, measure: Token, through: Token, *levels: ast.OverrideLevel
    ) -> ast.Override:
        return ast.Override(
            self._span(meta),
            str(measure),
            str(through),
            levels,
            self._token_span(measure),
            self._token_span(through),
        )

    def override_row(self, meta: Meta, level: Token, rate: Token) -> ast.OverrideLevel:
        text = _number_text(level)
        if "." in text or int(text) < 1 or int(text) > 20:
            raise BuildProblems(
                Diagnostic(
                    "P101",
                    "error",
                    f"'{level}' is not a level of the reporting tree",
                    self._token_span(level),
                    hint="levels are whole numbers from 1 (direct reports) to 20",
                )
            )
        return ast.OverrideLevel(
            int(text), percent_value(_number_text(rate)[:-1]), str(rate), self._span(meta)
        )

    def per_calendar(self, meta: Meta, window: Token) -> ast.Per:
        return ast.Per(cast(ast.WindowName, str(window)), None, self._span(meta))

    def per_segment(self, meta: Meta, schedule: Token) -> ast.Per:
        return ast.Per("segment", str(schedule), self._span(meta))

    # ---- declarations ---------------------------------------------------------------
    def participant_fields(self, meta: Meta, *fields: ast.FieldDecl) -> tuple[ast.FieldDecl, ...]:
        return fields

    def record_fields(self, meta: Meta, kind: Token, *rest: Any) -> ast.RecordKind:
        label = rest[0] if rest and isinstance(rest[0], ast.Label) else None
        fields = tuple(f for f in rest if isinstance(f, ast.FieldDecl))
        return ast.RecordKind(str(kind), fields, self._span(meta), label)

    def field_decl(
        self,
        meta: Meta,
        name: Token,
        kind: tuple[Any, ...],
        *rest: Any,
    ) -> ast.FieldDecl:
        label = next((r for r in rest if isinstance(r, ast.Label)), None)
        within = next((r for r in rest if r is _WITHIN), None)
        conversion = next((r for r in rest if isinstance(r, _Conversion)), None)
        field_kind, low, high = kind[:3]
        return ast.FieldDecl(
            str(name),
            cast(ast.FieldKind, field_kind),
            label,
            self._span(meta),
            low,
            high,
            within_period=within is _WITHIN,
            credit_for=kind[3] if len(kind) > 3 else None,
            conversion=None if conversion is None else (conversion.currency, conversion.day),
        )

    def within(self, meta: Meta) -> object:
        return _WITHIN

    def conversion(self, meta: Meta, currency: Token, day: Token) -> _Conversion:
        return _Conversion(str(currency), str(day))

    def credit_type(self, meta: Meta, kind: Token) -> tuple[str, None, None, str]:
        return ("credit", None, None, str(kind))

    def _simple(kind: str) -> Any:  # type: ignore[misc]  # a method factory, used below
        def method(self: PlanBuilder, meta: Meta) -> tuple[str, None, None]:
            return (kind, None, None)

        return method

    money_type = _simple("money")
    signed_money_type = _simple("signed_money")
    positive_money_type = _simple("positive_money")
    positive_number_type = _simple("positive_number")
    positive_count_type = _simple("positive_count")
    percent_type = _simple("percent")
    number_type = _simple("number")
    count_type = _simple("count")
    date_type = _simple("date")
    optional_date_type = _simple("optional_date")
    text_type = _simple("text")
    participant_type = _simple("participant")
    id_type = _simple("id")
    flag_type = _simple("flag")

    def score_type(self, meta: Meta, low: Decimal, high: Decimal) -> tuple[str, Decimal, Decimal]:
        return ("score", low, high)

    def positive_bound(self, meta: Meta, token: Token) -> Decimal:
        return Decimal(_number_text(token))

    def negative_bound(self, meta: Meta, token: Token) -> Decimal:
        return -Decimal(_number_text(token))

    def label(self, meta: Meta, first: Token, second: Token | None = None) -> ast.Label:
        texts = [str(first)[1:-1]] + ([str(second)[1:-1]] if second is not None else [])
        zh = next((t for t in texts if _has_cjk(t)), None)
        en = next((t for t in texts if t is not zh), None)
        return ast.Label(en, zh, self._span(meta))

    # ---- measures and components ----------------------------------------------------
    def measure(self, meta: Meta, name: Token, *rest: Any) -> ast.Measure:
        items = list(rest)
        label = items.pop(0) if isinstance(items[0], ast.Label) else None
        per = items.pop(0) if isinstance(items[0], ast.Per) else None
        return ast.Measure(str(name), label, items[0], self._span(meta), per)

    def component(self, meta: Meta, name: Token, *rest: Any) -> ast.Component:
        items = list(rest)
        label = items.pop(0) if isinstance(items[0], ast.Label) else None
        per = items.pop(0) if isinstance(items[0], ast.Per) else None
        body = items.pop(0)
        return ast.Component(str(name), label, body, tuple(items), self._span(meta), per)

    def gate(self, meta: Meta, expr: ast.Expr) -> ast.Modifier:
        return ast.Modifier("gate", expr, self._span(meta))

    def gate_modifier(self, meta: Meta, expr: ast.Expr) -> ast.Modifier:
        return ast.Modifier("gate", expr, self._span(meta))

    def cap_modifier(self, meta: Meta, expr: ast.Expr) -> ast.Modifier:
        return ast.Modifier("cap", expr, self._span(meta))

    def floor_modifier(self, meta: Meta, expr: ast.Expr) -> ast.Modifier:
        return ast.Modifier("floor", expr, self._span(meta))

    def multiplier_modifier(self, meta: Meta, expr: ast.Expr) -> ast.Modifier:
        return ast.Modifier("multiplier", expr, self._span(meta))

    def tiers(self, meta: Meta, mode: Token, *rest: Any) -> ast.Tiers:
        items = list(rest)
        decelerating = isinstance(items[0], Token) and items[0].type == "DECELERATING"
        if decelerating:
            items.pop(0)
        measure = items.pop(0)
        against = items.pop(0) if items and isinstance(items[0], _Against) else None
        cliffs = bool(items) and items[0] is _CLIFFS
        if cliffs:
            items.pop(0)
        return ast.Tiers(
            self._span(meta),
            cast(ast.TierMode, str(mode)),
            measure,
            None if against is None else against.expr,
            tuple(items),
            decelerating=decelerating,
            accepting_cliffs=cliffs,
        )

    def cliffs(self, meta: Meta) -> object:
        return _CLIFFS

    def against(self, meta: Meta, expr: ast.Expr) -> _Against:
        return _Against(expr)

    def bounded_tier(
        self, meta: Meta, lower: ast.Expr, upper: ast.Expr, rate: ast.Expr
    ) -> ast.Tier:
        return self._tier(meta, lower, upper, rate)

    def open_tier(self, meta: Meta, lower: ast.Expr, rate: ast.Expr) -> ast.Tier:
        return self._tier(meta, lower, None, rate)

    def _tier(
        self, meta: Meta, lower: ast.Expr, upper: ast.Expr | None, rate: ast.Expr
    ) -> ast.Tier:
        assert isinstance(lower, ast.Number | ast.Percent)
        assert isinstance(rate, ast.Number | ast.Percent)
        assert upper is None or isinstance(upper, ast.Number | ast.Percent)
        return ast.Tier(
            lower=lower.value,
            upper=None if upper is None else upper.value,
            rate=rate.value,
            lower_text=lower.text,
            upper_text=None if upper is None else upper.text,
            rate_text=rate.text,
            rate_is_percent=isinstance(rate, ast.Percent),
            bounds_are_percent=isinstance(lower, ast.Percent),
            span=self._span(meta),
        )

    # ---- expressions ----------------------------------------------------------------
    def number(self, meta: Meta, token: Token) -> ast.Number:
        return ast.Number(self._token_span(token), Decimal(_number_text(token)), str(token))

    def percent(self, meta: Meta, token: Token) -> ast.Percent:
        value = percent_value(_number_text(token)[:-1])
        return ast.Percent(self._token_span(token), value, str(token))

    def text(self, meta: Meta, token: Token) -> ast.Text:
        return ast.Text(self._token_span(token), str(token)[1:-1])

    def date(self, meta: Meta, token: Token) -> ast.DateLiteral:
        span = self._token_span(token)
        return ast.DateLiteral(span, parse_date(str(token), span))

    def name(self, meta: Meta, token: Token) -> ast.Name:
        return ast.Name(self._token_span(token), str(token))

    def qualified_name(self, meta: Meta, kind: Token, field: Token) -> ast.QualifiedName:
        return ast.QualifiedName(self._span(meta), str(kind), str(field))

    def add(self, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Arithmetic:
        return ast.Arithmetic(self._span(meta), "+", left, right)

    def subtract(self, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Arithmetic:
        return ast.Arithmetic(self._span(meta), "-", left, right)

    def multiply(self, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Arithmetic:
        return ast.Arithmetic(self._span(meta), "*", left, right)

    def divide(self, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Arithmetic:
        return ast.Arithmetic(self._span(meta), "/", left, right)

    def negate(self, meta: Meta, operand: ast.Expr) -> ast.Negate:
        return ast.Negate(self._span(meta), operand)

    def compare(self, meta: Meta, left: ast.Expr, op: Token, right: ast.Expr) -> ast.Compare:
        symbol = {"≥": ">=", "≤": "<=", "≠": "!="}.get(str(op), str(op))
        return ast.Compare(self._span(meta), cast(ast.CompareOp, symbol), left, right)

    def equals(self, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Compare:
        return ast.Compare(self._span(meta), "=", left, right)

    def in_period(self, meta: Meta, operand: ast.Expr) -> ast.InPeriod:
        return ast.InPeriod(self._span(meta), operand)

    def in_window(self, meta: Meta, operand: ast.Expr, window: Token) -> ast.InPeriod:
        return ast.InPeriod(self._span(meta), operand, cast(ast.WindowName, str(window)))

    def prorated(self, meta: Meta, operand: ast.Expr) -> ast.Prorated:
        return ast.Prorated(self._span(meta), operand)

    def days_between(self, meta: Meta, word: Token, start: ast.Expr, end: ast.Expr) -> ast.Days:
        if str(word) != "days":
            raise BuildProblems(
                Diagnostic(
                    "P101",
                    "error",
                    f"unexpected 'from' after '{word}'",
                    self._token_span(word),
                    hint="count days with: days from DATE to DATE",
                )
            )
        return ast.Days(self._span(meta), start, end)

    def period_count(self, meta: Meta, word: Token, unit: Token) -> ast.PeriodCount:
        units = ("days", "weeks", "months", "quarters", "years")
        if str(word) != "number" or str(unit) not in units:
            raise BuildProblems(
                Diagnostic(
                    "P101",
                    "error",
                    f"unexpected '{word} of {unit} in period'",
                    self._span(meta),
                    hint="count the period's parts with: number of days (weeks, months, "
                    "quarters, years) in period",
                )
            )
        return ast.PeriodCount(self._span(meta), cast(Any, str(unit)))

    def day_weighted(
        self, meta: Meta, kind: Token, field: Token, start: Token, end: Token
    ) -> ast.DayWeighted:
        return ast.DayWeighted(self._span(meta), str(kind), str(field), str(start), str(end))

    def in_top(self, meta: Meta, operand: ast.Expr, count: Token) -> ast.InTop:
        text = _number_text(count)
        if "." in text or not 1 <= int(text) <= 10_000:
            raise BuildProblems(
                Diagnostic(
                    "P101",
                    "error",
                    f"'in top {count}' needs a whole number of places from 1 to 10000",
                    self._token_span(count),
                    hint="write e.g. in top 3",
                )
            )
        return ast.InTop(self._span(meta), operand, int(text), self._token_span(count))

    def in_list(self, meta: Meta, operand: ast.Expr, options: tuple[ast.Expr, ...]) -> ast.InList:
        return ast.InList(self._span(meta), operand, options, negated=False)

    def not_in_list(
        self, meta: Meta, operand: ast.Expr, options: tuple[ast.Expr, ...]
    ) -> ast.InList:
        return ast.InList(self._span(meta), operand, options, negated=True)

    def expr_list(self, meta: Meta, *items: ast.Expr) -> tuple[ast.Expr, ...]:
        return items

    def or_op(self, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Logic:
        return ast.Logic(self._span(meta), "or", left, right)

    def and_op(self, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Logic:
        return ast.Logic(self._span(meta), "and", left, right)

    def not_op(self, meta: Meta, operand: ast.Expr) -> ast.Not:
        return ast.Not(self._span(meta), operand)

    def capped(self, meta: Meta, operand: ast.Expr, limit: ast.Expr) -> ast.Bound:
        return ast.Bound(self._span(meta), "cap", operand, limit)

    def floored(self, meta: Meta, operand: ast.Expr, limit: ast.Expr) -> ast.Bound:
        return ast.Bound(self._span(meta), "floor", operand, limit)

    def call(self, meta: Meta, function: Token, args: tuple[ast.Expr, ...]) -> ast.Call:
        return ast.Call(self._span(meta), "min" if str(function) == "min" else "max", args)

    def if_then_else(
        self, meta: Meta, condition: ast.Expr, then: ast.Expr, otherwise: ast.Expr
    ) -> ast.IfThenElse:
        return ast.IfThenElse(self._span(meta), condition, then, otherwise)

    def field_aggregate(
        self, meta: Meta, function: Token, kind: Token, field: Token
    ) -> ast.Aggregate:
        name = cast(ast.AggregateFunction, str(function))
        return ast.Aggregate(self._span(meta), name, str(kind), str(field), None)

    def group_aggregate(
        self, meta: Meta, function: Token, measure: Token, group: Token
    ) -> ast.GroupAggregate:
        return ast.GroupAggregate(
            self._span(meta),
            cast(Any, str(function)),
            str(measure),
            str(group),
            self._token_span(measure),
            self._token_span(group),
        )

    def count_aggregate(self, meta: Meta, kind: Token) -> ast.Aggregate:
        return ast.Aggregate(self._span(meta), "count", str(kind), None, None)

    def distinct_aggregate(self, meta: Meta, kind: Token, field: Token) -> ast.Aggregate:
        return ast.Aggregate(self._span(meta), "count_distinct", str(kind), str(field), None)

    def filtered(self, meta: Meta, aggregate: Any, where: ast.Expr) -> ast.Aggregate:
        if isinstance(aggregate, ast.GroupAggregate):
            raise BuildProblems(
                Diagnostic(
                    "P101",
                    "error",
                    "a value within a group cannot take 'where'",
                    self._span(meta),
                    hint="filter the records in the measure it reads",
                )
            )
        return ast.Aggregate(
            self._span(meta), aggregate.function, aggregate.kind, aggregate.field, where
        )

    def scorecard(self, meta: Meta, *items: ast.ScorecardItem) -> ast.Scorecard:
        return ast.Scorecard(self._span(meta), items)

    def scorecard_item(self, meta: Meta, measure: ast.Expr, weight: Token) -> ast.ScorecardItem:
        value = percent_value(_number_text(weight)[:-1])
        return ast.ScorecardItem(measure, value, str(weight), self._span(meta))

    def start(self, meta: Meta, *statements: Any) -> list[Any]:
        return list(statements)


@dataclass(frozen=True, slots=True)
class _Against:
    """The target of ``against``, marked so the tiers method can tell it from the rows."""

    expr: ast.Expr


@dataclass(frozen=True, slots=True)
class _Conversion:
    currency: str
    day: str


_CLIFFS: Final = object()
_PUBLIC: Final = object()
_MONEY: Final = object()
_NUMBER: Final = object()
_WITHIN: Final = object()


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def parse_date(text: str, span: Span) -> dt.date:
    """An ISO date, or a `BuildProblems` naming the impossible date."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BuildProblems(
            Diagnostic(
                "P101",
                "error",
                f"'{text}' is not a calendar date",
                span,
                hint="write dates as YYYY-MM-DD with a real month and day",
            )
        ) from None


def build_plan(tree: Tree[Token], *, source: str, filename: str) -> ast.Plan:
    """Turn a parse tree into a `Plan`, keeping statements in file order."""
    statements: list[Any] = PlanBuilder(filename).transform(tree)
    headers = tuple(s for s in statements if isinstance(s, ast.Header))
    participant_fields = tuple(s for s in statements if isinstance(s, tuple))
    return ast.Plan(
        source=source,
        filename=filename,
        headers=headers,
        participant_fields=participant_fields,
        record_kinds=tuple(s for s in statements if isinstance(s, ast.RecordKind)),
        measures=tuple(s for s in statements if isinstance(s, ast.Measure)),
        components=tuple(s for s in statements if isinstance(s, ast.Component)),
        schedules=tuple(s for s in statements if isinstance(s, ast.Schedule)),
        weights=tuple(s for s in statements if isinstance(s, ast.Weights)),
        employment=tuple(s for s in statements if isinstance(s, ast.Employment)),
        rankings=tuple(s for s in statements if isinstance(s, ast.Ranking)),
        exchange=tuple(s for s in statements if isinstance(s, ast.ExchangeRates)),
    )
