"""The evaluation trace: small frozen steps the engine records and explain/ formats.

A step holds the values that decided it and the names and plan lines it came from; it
formats nothing.  Values are exact (`Decimal`, or `Fraction` after a division that does not
terminate).  Imports only money and errors-free standard types; never dsl.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from incentive._types import Unit

Value = Decimal | Fraction | bool | str | dt.date


@dataclass(frozen=True, slots=True)
class Step:
    """Base: every step has the value it produced and that value's unit."""

    value: Value
    unit: Unit


@dataclass(frozen=True, slots=True)
class LiteralStep(Step):
    text: str


@dataclass(frozen=True, slots=True)
class FieldStep(Step):
    """A participant's field, e.g. quota."""

    name: str


@dataclass(frozen=True, slots=True)
class MeasureStep(Step):
    """A reference to a named measure; its derivation is in `ParticipantTrace.measures`."""

    name: str


@dataclass(frozen=True, slots=True)
class ArithmeticStep(Step):
    op: Literal["+", "-", "*", "/"]
    left: Step
    right: Step


@dataclass(frozen=True, slots=True)
class NegateStep(Step):
    operand: Step


@dataclass(frozen=True, slots=True)
class CompareStep(Step):
    op: str
    left: Step
    right: Step


@dataclass(frozen=True, slots=True)
class InPeriodStep(Step):
    operand: Step
    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class DayPiece:
    """Days during which one value was in force: a schedule row, or a record's dates."""

    start: dt.date
    end: dt.date
    days: int
    value: Decimal
    #: the record the value came from, for values weighted from records
    record_id: str | None = None


@dataclass(frozen=True, slots=True)
class ScheduleStep(Step):
    """A schedule's value over the days of the (sub-)period: one piece when it did not
    change, else the day-weighted average of the pieces."""

    name: str
    pieces: tuple[DayPiece, ...]
    days: int
    line: int


@dataclass(frozen=True, slots=True)
class DayWeightedStep(Step):
    """``kind.field weighted by days``: a participant's dated records averaged by days."""

    kind: str
    field: str
    pieces: tuple[DayPiece, ...]
    days: int
    line: int


@dataclass(frozen=True, slots=True)
class WeightStep(Step):
    """A seasonality weight: the share of the (sub-)period, from its quarters or months."""

    name: str
    #: (quarter or month, e.g. "2026-Q3", and its weight) making up the share
    parts: tuple[tuple[str, Decimal], ...]
    basis: str


@dataclass(frozen=True, slots=True)
class ProratedStep(Step):
    """``x prorated``: x × days employed ÷ days of the (sub-)period."""

    operand: Step
    days: int
    of_days: int


@dataclass(frozen=True, slots=True)
class PeriodCountStep(Step):
    """``number of weeks in period``: a count the plan period fixes."""

    #: "days", "weeks", "months", "quarters" or "years"
    counts: str


@dataclass(frozen=True, slots=True)
class DaysStep(Step):
    """``days from a to b``, both days counted."""

    start: Step
    end: Step


@dataclass(frozen=True, slots=True)
class InListStep(Step):
    operand: Step
    options: tuple[Step, ...]
    negated: bool


@dataclass(frozen=True, slots=True)
class LogicStep(Step):
    op: Literal["and", "or", "not"]
    operands: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class BoundStep(Step):
    """``x capped at c`` / ``x floored at f``; ``bit`` says whether the limit applied."""

    kind: Literal["cap", "floor"]
    operand: Step
    limit: Step
    bit: bool


@dataclass(frozen=True, slots=True)
class CallStep(Step):
    function: Literal["min", "max"]
    args: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class IfStep(Step):
    condition: Step
    chosen: Step
    took_then: bool


@dataclass(frozen=True, slots=True)
class FilterCondition:
    """One ``and``-separated condition of a filter, as the statement names it."""

    text: str
    line: int
    #: the record field the condition reads, if it reads one
    field: str | None
    #: the period's first day, when the condition is ``<date field> in period``
    period_start: dt.date | None
    #: "period", or the sub-period (month, week …) the condition tests
    window: str | None = None


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A record an aggregate did not count, and the condition that left it out.

    Holds references only; the figures a statement shows are read when asked.
    """

    record_id: str
    values: Mapping[str, Value]
    amount_field: str | None
    why: FilterCondition
    #: the days the record's date had to fall in, when the condition is on dates
    bounds: tuple[dt.date, dt.date] | None = None

    @property
    def condition(self) -> str:
        return self.why.text

    @property
    def field(self) -> str | None:
        return self.why.field

    @property
    def amount(self) -> Decimal | None:
        value = self.values.get(self.amount_field) if self.amount_field else None
        return value if isinstance(value, Decimal) else None

    @property
    def field_value(self) -> Value | None:
        return self.values.get(self.why.field) if self.why.field else None

    @property
    def in_period(self) -> Literal["before", "after"] | None:
        start, value = self.why.period_start, self.field_value
        if self.bounds is not None:
            start = self.bounds[0]
        if start is None or not isinstance(value, dt.date):
            return None
        return "before" if value < start else "after"


@dataclass(frozen=True, slots=True)
class Credited:
    """A counted record whose value is not simply its own: converted from another
    currency, or credited in part (a split) or on top (an overlay)."""

    record_id: str
    #: the amount as given and its currency, the rate and the days it is in force
    original: Decimal | None
    currency: str | None
    rate: Decimal | None
    rate_days: tuple[dt.date, dt.date] | None
    #: the record's value in the plan's currency, and the share credited
    full: Decimal | Fraction
    share: Decimal
    overlay: bool
    value: Decimal | Fraction


@dataclass(frozen=True, slots=True)
class AggregateStep(Step):
    """``sum of deal.amount where …`` over one participant's credited records."""

    function: str
    kind: str
    field: str | None
    counted: int
    counted_ids: tuple[str, ...]
    excluded: tuple[Exclusion, ...]
    line: int
    #: counted records converted or credited in part, as the statement lists them
    credited: tuple[Credited, ...] = ()


@dataclass(frozen=True, slots=True)
class ScorecardLine:
    item: Step
    weight: Decimal
    contribution: Decimal | Fraction


@dataclass(frozen=True, slots=True)
class ScorecardStep(Step):
    items: tuple[ScorecardLine, ...]


@dataclass(frozen=True, slots=True)
class TierSlice:
    """One tier row as it applied: boundaries as written and as amounts, rate and pay."""

    lower_text: str
    upper_text: str | None
    lower: Decimal | Fraction
    upper: Decimal | Fraction | None
    rate: Decimal
    rate_text: str
    base: Decimal | Fraction
    pay: Decimal | Fraction
    reached: bool
    line: int


@dataclass(frozen=True, slots=True)
class TierStep(Step):
    mode: Literal["marginal", "retroactive"]
    measure: Step
    against: Step | None
    slices: tuple[TierSlice, ...]
    #: index of the slice the measure ends in (retroactive: the one that pays); -1 below all
    reached: int
    #: amount of the measure still needed to reach the next tier, if there is one
    to_next: Decimal | Fraction | None


# ---- teams -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GroupStep(Step):
    """``sum of revenue within team``: a value over the members of the participant's group."""

    function: str
    name: str
    group: str
    #: the participant's group (its field value), and how many members it has
    group_value: str
    members: int


@dataclass(frozen=True, slots=True)
class Neighbour:
    """The participant ranked next above or below: a value, and an id when public."""

    rank: int
    value: Value
    participant_id: str | None
    #: when a tie rule placed them: their value and the participant's under that rule
    tie_value: Value | None = None
    own_tie_value: Value | None = None
    tie_unit: Unit | None = None


@dataclass(frozen=True, slots=True)
class RankStep(Step):
    """``top in top 3``: the participant's rank within their group."""

    ranking: str
    measure: str
    order: str
    group: str
    group_value: str
    #: members of the group, and how many of them were ranked (value above zero)
    members: int
    ranked: int
    rank: int | None
    own: Value
    top: int
    above: Neighbour | None
    below: Neighbour | None
    #: the tie rules (name, order; order None for id), and which decided against the
    #: neighbour, if one did
    ties: tuple[tuple[str, str | None], ...]
    tie_above: tuple[str, str | None] | None
    tie_below: tuple[str, str | None] | None
    public: bool
    line: int
    #: the unit of the ranked values (an amount, a count …)
    unit_of_value: Unit = "number"


@dataclass(frozen=True, slots=True)
class PoolStep(Step):
    """A member's share of a team pool, to the minor unit, by largest remainder."""

    amount: Step
    pool: Decimal
    group: str
    group_value: str
    members: int
    #: the share's name (None: equally), the member's weight and the group's total
    share: str | None
    weight: Decimal | Fraction
    total_weight: Decimal | Fraction
    #: the exact share, the whole minor units it holds, and whether a remainder unit came
    exact: Fraction
    base: Decimal
    extra: bool
    #: minor units left over after every member took their whole units, and their amount
    leftover: int
    ties: tuple[tuple[str, str | None], ...]
    #: every weight was zero, so the pool was shared equally
    equal_fallback: bool
    line: int
    weight_unit: Unit = "number"
    left: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class OverrideLine:
    participant_id: str
    name: str
    level: int
    value: Decimal | Fraction
    rate: Decimal
    rate_text: str
    pay: Decimal | Fraction


@dataclass(frozen=True, slots=True)
class OverrideStep(Step):
    """A manager's override: a rate on the measure of each person below them."""

    measure: str
    through: str
    lines: tuple[OverrideLine, ...]
    #: levels the plan pays and how many people each had
    levels: tuple[tuple[int, str, int], ...]
    line: int


@dataclass(frozen=True, slots=True)
class ModifierStep:
    """A component modifier as applied: a gate, a cap, a floor or a multiplier."""

    kind: Literal["gate", "cap", "floor", "multiplier"]
    expr: Step
    before: Decimal | Fraction | None
    after: Decimal | Fraction | None
    bit: bool
    line: int


@dataclass(frozen=True, slots=True)
class ComponentTrace:
    """How one component's amount came about, from its body to its rounded amount."""

    name: str
    line: int
    gates: tuple[ModifierStep, ...]
    body: Step | None
    modifiers: tuple[ModifierStep, ...]
    exact: Decimal | Fraction
    amount: Decimal
    measures: tuple[str, ...]
    #: for a component paid per sub-period: each sub-period's own trace, in order
    parts: tuple[PartTrace, ...] = ()
    #: "month", "week", "quarter", "year" or "segment" for a component paid per sub-period
    per: str | None = None
    #: the schedule whose segments a component paid per segment follows
    schedule: str | None = None
    #: the participant was employed on no day of the (sub-)period, so it pays nothing
    not_employed: bool = False


@dataclass(frozen=True, slots=True)
class PartTrace:
    """One sub-period of a component paid per sub-period."""

    key: str
    start: dt.date
    end: dt.date
    #: the days of the sub-period the participant was employed, when fewer than all
    active: tuple[dt.date, dt.date] | None
    component: ComponentTrace
    #: the per-sub-period measures, computed for this sub-period
    measures: dict[str, MeasureTrace]


@dataclass(frozen=True, slots=True)
class MeasureTrace:
    name: str
    line: int
    step: Step


@dataclass(frozen=True, slots=True)
class ParticipantTrace:
    """Everything the engine did for one participant, in evaluation order."""

    measures: dict[str, MeasureTrace]
    components: tuple[ComponentTrace, ...]
    #: the days the participant was employed in the period, when an employment line says
    employed: tuple[dt.date, dt.date] | None = None
    #: days employed in the period, and the period's days, when an employment line says
    employed_days: int | None = None
    period_days: int | None = None
    #: the first and last day employed (None: still employed), when an employment line says
    employment: tuple[dt.date, dt.date | None] | None = None
    #: records naming the participant that were rejected before evaluation, with why:
    #: (kind, record id, reason)
    rejected: tuple[tuple[str, str, str], ...] = ()
