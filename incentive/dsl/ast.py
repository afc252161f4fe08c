"""The plan as typed syntax: frozen dataclasses built by build.py, read by check.py.

Shape only, no meaning: names are not resolved and nothing is validated here.  Every node
carries the `Span` of the text it came from.  Imports only `incentive.errors`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from incentive.errors import Span

FieldKind = Literal[
    "money",
    "signed_money",
    "positive_money",
    "percent",
    "number",
    "positive_number",
    "count",
    "positive_count",
    "date",
    "optional_date",
    "text",
    "score",
    "participant",
    "id",
    "credit",
    "flag",
]
AggregateFunction = Literal["sum", "minimum", "maximum", "average", "count", "count_distinct"]
CompareOp = Literal["=", "!=", "<", "<=", ">", ">="]
ArithmeticOp = Literal["+", "-", "*", "/"]
TierMode = Literal["marginal", "retroactive"]
#: The sub-period a measure or component is computed for; "period" is the whole period.
WindowName = Literal["period", "month", "week", "quarter", "year", "segment"]


@dataclass(frozen=True, slots=True)
class Label:
    """A display name in English and Chinese; either may fall back on the other."""

    en: str | None
    zh: str | None
    span: Span


# ---- expressions ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Expr:
    """Base of every expression node."""

    span: Span


@dataclass(frozen=True, slots=True)
class Number(Expr):
    value: Decimal
    text: str


@dataclass(frozen=True, slots=True)
class Percent(Expr):
    """``5%``: the rate 0.05, never the number 5."""

    value: Decimal
    text: str


@dataclass(frozen=True, slots=True)
class Text(Expr):
    value: str


@dataclass(frozen=True, slots=True)
class DateLiteral(Expr):
    value: dt.date


@dataclass(frozen=True, slots=True)
class Name(Expr):
    name: str


@dataclass(frozen=True, slots=True)
class QualifiedName(Expr):
    """``deal.amount``: a field of a record kind."""

    kind: str
    field: str


@dataclass(frozen=True, slots=True)
class Arithmetic(Expr):
    op: ArithmeticOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Negate(Expr):
    operand: Expr


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    op: CompareOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class InPeriod(Expr):
    """``closed_on in period``, or ``in month`` (week, quarter, year, segment): the current
    sub-period of a ``per month`` measure or component."""

    operand: Expr
    window: WindowName = "period"


@dataclass(frozen=True, slots=True)
class Prorated(Expr):
    """``x prorated``: x × days employed in the (sub-)period ÷ its days."""

    operand: Expr


@dataclass(frozen=True, slots=True)
class Days(Expr):
    """``days from a to b``: the days from date a to date b, both counted (0 if b < a)."""

    start: Expr
    end: Expr


@dataclass(frozen=True, slots=True)
class PeriodCount(Expr):
    """``number of weeks in period``: how many days, ISO weeks, months, quarters or years
    the plan period holds (by the rules of `incentive.calendar`)."""

    unit: Literal["days", "weeks", "months", "quarters", "years"]


@dataclass(frozen=True, slots=True)
class DayWeighted(Expr):
    """``quota_plan.quota weighted by days from starts to ends``: the participant's
    records as a schedule, averaged over the days of the (sub-)period."""

    kind: str
    field: str
    start_field: str
    end_field: str


@dataclass(frozen=True, slots=True)
class InList(Expr):
    operand: Expr
    options: tuple[Expr, ...]
    negated: bool


@dataclass(frozen=True, slots=True)
class Logic(Expr):
    op: Literal["and", "or"]
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True, slots=True)
class Bound(Expr):
    """``x capped at c`` (kind ``cap``) or ``x floored at f`` (kind ``floor``)."""

    kind: Literal["cap", "floor"]
    operand: Expr
    limit: Expr


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """``min(a, b, …)`` or ``max(a, b, …)``."""

    function: Literal["min", "max"]
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class IfThenElse(Expr):
    condition: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True, slots=True)
class Aggregate(Expr):
    """``sum of deal.amount where …``; ``field`` is None for ``count of deal``."""

    function: AggregateFunction
    kind: str
    field: str | None
    where: Expr | None


@dataclass(frozen=True, slots=True)
class ScorecardItem:
    measure: Expr
    weight: Decimal
    weight_text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Scorecard(Expr):
    items: tuple[ScorecardItem, ...]


@dataclass(frozen=True, slots=True)
class GroupAggregate(Expr):
    """``sum of revenue within team``: a measure (or participant field) over the members of
    the participant's group; ``group`` is a participant field, or ``everyone``."""

    function: Literal["sum", "minimum", "maximum", "average"]
    measure: str
    group: str
    measure_span: Span
    group_span: Span


@dataclass(frozen=True, slots=True)
class InTop(Expr):
    """``top_sellers in top 3``: whether the participant's rank is 1 to ``count``."""

    operand: Expr
    count: int
    count_span: Span


@dataclass(frozen=True, slots=True)
class TieKey:
    """One tie rule: a measure (or field) in an order, or ``id``."""

    name: str
    order: Literal["highest", "lowest", "earliest", "latest"] | None
    span: Span


@dataclass(frozen=True, slots=True)
class Pool(Expr):
    """``pool of 5% * x within team shared by revenue, ties by id``: computed once for each
    group and shared among its members by largest remainder; ``share`` None: equally."""

    amount: Expr
    group: str
    share: str | None
    ties: tuple[TieKey, ...]
    group_span: Span
    share_span: Span | None


@dataclass(frozen=True, slots=True)
class OverrideLevel:
    level: int
    rate: Decimal
    rate_text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Override(Expr):
    """``override of revenue through manager: level 1 pays 3%``: a rate on the measure of
    each participant ``level`` steps below in the tree the ``through`` field draws."""

    measure: str
    through: str
    levels: tuple[OverrideLevel, ...]
    measure_span: Span
    through_span: Span


# ---- components ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Tier:
    """One row: from ``lower`` (included) up to ``upper`` (excluded; None = and above)."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal
    lower_text: str
    upper_text: str | None
    rate_text: str
    rate_is_percent: bool
    bounds_are_percent: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Tiers(Expr):
    mode: TierMode
    measure: Expr
    against: Expr | None
    rows: tuple[Tier, ...]
    #: rates declared to fall as the measure rises
    decelerating: bool = False
    #: a retroactive table whose jumps at the boundaries are declared as meant
    accepting_cliffs: bool = False


@dataclass(frozen=True, slots=True)
class Modifier:
    """A component modifier, applied in the order written after the gate."""

    kind: Literal["gate", "cap", "floor", "multiplier"]
    expr: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Per:
    """``per month`` (week, quarter, year) or ``per segment of rate``."""

    window: WindowName
    schedule: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    label: Label | None
    body: Expr
    modifiers: tuple[Modifier, ...]
    span: Span
    per: Per | None = None


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    label: Label | None
    expr: Expr
    span: Span
    per: Per | None = None


# ---- calendar tables -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScheduleRow:
    start: dt.date
    end: dt.date
    value: Decimal
    text: str
    is_percent: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Schedule:
    """A plan value that changes on dates: ``schedule rate: from … to …: 5%``."""

    name: str
    label: Label | None
    money: bool
    rows: tuple[ScheduleRow, ...]
    span: Span
    #: declared `number`: plain numbers, neither rates nor amounts
    number: bool = False


@dataclass(frozen=True, slots=True)
class Weights:
    """Seasonality: ``weights s by quarter: 20%, 25%, 25%, 30%``.

    ``basis`` is "quarter" (4 weights), "month" (12) or "month of quarter" (3).
    """

    name: str
    label: Label | None
    basis: str
    values: tuple[Decimal, ...]
    texts: tuple[str, ...]
    span: Span
    basis_span: Span


@dataclass(frozen=True, slots=True)
class RateRow:
    start: dt.date
    end: dt.date
    #: (currency code, units of the plan's currency per unit of it, as written)
    rates: tuple[tuple[str, Decimal, str], ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ExchangeRates:
    """``exchange rates: from D to D: USD 7.1450, …``: into the plan's currency."""

    label: Label | None
    rows: tuple[RateRow, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Ranking:
    """``ranking top = revenue highest first within team, ties by …``."""

    name: str
    label: Label | None
    measure: str
    order: Literal["highest", "lowest", "earliest", "latest"]
    group: str
    ties: tuple[TieKey, ...]
    public: bool
    span: Span
    measure_span: Span
    group_span: Span


@dataclass(frozen=True, slots=True)
class Employment:
    """``employment from hired_on to left_on``: participant date fields."""

    start_field: str
    end_field: str | None
    span: Span


# ---- declarations --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FieldDecl:
    name: str
    kind: FieldKind
    label: Label | None
    span: Span
    low: Decimal | None = None
    high: Decimal | None = None
    #: a record is rejected unless this date lies in the plan period
    within_period: bool = False
    #: ``credit for deal``: the record kind whose ids this field holds
    credit_for: str | None = None
    #: ``converted from currency on closed_on``: (currency field, date field)
    conversion: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class RecordKind:
    name: str
    fields: tuple[FieldDecl, ...]
    span: Span
    #: what one record is called on statements, e.g. "Deals" / "订单"
    label: Label | None = None


@dataclass(frozen=True, slots=True)
class Header:
    """One header line: ``plan``, ``currency``, ``period`` or ``rounding``."""

    key: Literal["plan", "currency", "period", "rounding"]
    values: tuple[str, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a plan file says, in the order it says it."""

    source: str
    filename: str
    headers: tuple[Header, ...]
    participant_fields: tuple[tuple[FieldDecl, ...], ...]
    record_kinds: tuple[RecordKind, ...]
    measures: tuple[Measure, ...]
    components: tuple[Component, ...]
    schedules: tuple[Schedule, ...] = ()
    weights: tuple[Weights, ...] = ()
    employment: tuple[Employment, ...] = ()
    rankings: tuple[Ranking, ...] = ()
    exchange: tuple[ExchangeRates, ...] = ()
