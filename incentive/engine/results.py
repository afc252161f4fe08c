"""Pydantic results of a run: payouts per participant, the plan facts statements need,
and the fate of every input record.  Imports engine.trace only.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypeVar, overload

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_serializer

from incentive.engine.trace import ParticipantTrace

T = TypeVar("T")


class Label(BaseModel):
    """A name as shown to people, in English and Chinese."""

    model_config = ConfigDict(frozen=True)

    en: str
    zh: str


class PlanInfo(BaseModel):
    """The facts about a plan that a statement shows, with the labels of its names."""

    model_config = ConfigDict(frozen=True)

    name: str
    filename: str
    currency: str
    period_start: dt.date
    period_end: dt.date
    rounding_mode: str
    quantum: Decimal
    labels: dict[str, Label] = Field(default_factory=dict)

    def label(self, name: str, lang: Literal["en", "zh"]) -> str:
        """The label of a field, measure or component, or its name when it has none."""
        label = self.labels.get(name)
        if label is None:
            return name
        return label.zh if lang == "zh" else label.en


class PartResult(BaseModel):
    """What a component paid for one sub-period (a month, an ISO week …)."""

    model_config = ConfigDict(frozen=True)

    #: "2026-07" for a month, "2026-W27" for an ISO week, "2026-Q3", "2026", or a
    #: schedule segment's first day
    key: str
    start: dt.date
    end: dt.date
    amount: Decimal


class ComponentResult(BaseModel):
    """One payout line: a component's rounded amount, and its parts when it pays per
    sub-period (they add up to the amount)."""

    model_config = ConfigDict(frozen=True)

    name: str
    label: Label
    amount: Decimal
    line: int
    parts: tuple[PartResult, ...] = ()


class ParticipantResult(BaseModel):
    """What one participant is paid, line by line, with the trace that explains it."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    participant_id: str
    name: str
    components: tuple[ComponentResult, ...]
    total: Decimal
    plan: PlanInfo = Field(repr=False)
    #: the trace, or how to work it out when first asked (the columnar engine's)
    _trace: ParticipantTrace | Callable[[], ParticipantTrace] | None = PrivateAttr(None)

    def __init__(self, *, trace: ParticipantTrace | None = None, **fields: Any) -> None:
        """Validated fields, and the trace (not a field: it is not serialized)."""
        super().__init__(**fields)
        self._trace = trace

    @property
    def trace(self) -> ParticipantTrace:
        """Everything the engine did for this participant: what a statement explains."""
        trace = self._trace
        if trace is None:
            raise ValueError(
                f"the result of {self.participant_id} has no trace (made without one, or "
                "read back from JSON): evaluate again to explain it"
            )
        if not isinstance(trace, ParticipantTrace):
            trace = self._trace = trace()
        return trace

    @classmethod
    def traced(
        cls,
        trace: ParticipantTrace | Callable[[], ParticipantTrace],
        *,
        participant_id: str,
        name: str,
        components: tuple[ComponentResult, ...],
        total: Decimal,
        plan: PlanInfo,
    ) -> ParticipantResult:
        """A result from values already checked, with its trace (or how to get it)."""
        result = cls.model_construct(
            participant_id=participant_id,
            name=name,
            components=components,
            total=total,
            plan=plan,
        )
        result._trace = trace
        return result

    def __eq__(self, other: object) -> bool:
        # The fields only: a trace still to be worked out is no difference.
        if not isinstance(other, ParticipantResult):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # fields hold dicts, as before

    def __getstate__(self) -> dict[Any, Any]:
        _ = self.trace if self._trace is not None else None  # a pickle carries the trace
        return super().__getstate__()

    def amount(self, component: str) -> Decimal:
        """The rounded amount of one component, by name."""
        for line in self.components:
            if line.name == component:
                return line.amount
        raise KeyError(component)


@dataclass(frozen=True, slots=True)
class RecordDisposition:
    """What became of one input record (a dataclass: a run may have millions)."""

    kind: str
    record_id: str
    participant_id: str | None
    status: Literal["counted", "excluded", "rejected"]
    reason: str | None = None


class RecordSummary(BaseModel):
    """The reconciliation: records read = counted + excluded + rejected."""

    model_config = ConfigDict(frozen=True)

    read: int
    counted: int
    excluded: int
    rejected: int
    excluded_by_rule: dict[str, int] = Field(default_factory=dict)


class Lazy(Sequence[T], ABC):
    """A sequence whose items are made when first read, from columns: equal to any
    sequence of the same items, sliced and pickled as a tuple of them."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def item(self, index: int) -> T:
        """The item at ``index``, 0 <= index < len(self)."""

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            return tuple(self.item(i) for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.item(index)

    def __add__(self, other: tuple[T, ...]) -> tuple[T, ...]:
        return tuple(self) + tuple(other)

    def __radd__(self, other: tuple[T, ...]) -> tuple[T, ...]:
        return tuple(other) + tuple(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (tuple, (tuple(self),))


class Participants(Lazy[ParticipantResult]):
    """Results made when first read, for a run computed as columns: a population's
    payouts cost nothing until someone looks at them (traces are pickled with them)."""

    @abstractmethod
    def position(self, participant_id: str) -> int:
        """Where ``participant_id`` is; `KeyError` when nowhere."""

    @abstractmethod
    def batches(self, size: int = 32) -> Iterator[list[tuple[int, ParticipantResult]]]:
        """Everyone's (position, result), each result with its trace, in groups of about
        ``size`` people traced together, and none of them kept: what explaining everyone
        reads, one group of traces in memory at a time."""


class RunResult(BaseModel):
    """A whole run: every participant's payout, the total, and every record's fate."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    plan: PlanInfo
    #: in the participants' order; the columnar engine makes each result when first read
    participants: Sequence[ParticipantResult]
    total: Decimal
    records: RecordSummary
    #: in the records' order (kind by kind, as read), then the rejected ones
    dispositions: Sequence[RecordDisposition] = Field(repr=False)

    @field_serializer("participants")
    def _all_participants(
        self, participants: Sequence[ParticipantResult]
    ) -> list[ParticipantResult]:
        return list(participants)

    @field_serializer("dispositions")
    def _all_dispositions(
        self, dispositions: Sequence[RecordDisposition]
    ) -> list[RecordDisposition]:
        return list(dispositions)

    rejected: tuple[str, ...] = ()
    #: participants left unpaid (only with skip_invalid), each with the reason
    unpaid: tuple[str, ...] = ()

    def participant(self, participant_id: str) -> ParticipantResult:
        """One participant's result, by id."""
        if isinstance(self.participants, Participants):
            return self.participants[self.participants.position(participant_id)]
        for result in self.participants:
            if result.participant_id == participant_id:
                return result
        raise KeyError(participant_id)


class PopulationResult(BaseModel):
    """A run of several plans over one population: each plan's run, and the totals."""

    model_config = ConfigDict(frozen=True)

    #: each plan's run, by the name the participants file gives the plan
    runs: dict[str, RunResult]
    total: Decimal
    #: the reconciliation over all plans: each record once
    records: RecordSummary
    dispositions: tuple[RecordDisposition, ...] = Field(repr=False)
    rejected: tuple[str, ...] = ()
    unpaid: tuple[str, ...] = ()

    def participant(self, participant_id: str) -> ParticipantResult:
        """One participant's result, whatever their plan."""
        for run in self.runs.values():
            for result in run.participants:
                if result.participant_id == participant_id:
                    return result
        raise KeyError(participant_id)

    def plan_of(self, participant_id: str) -> str:
        """The name of a participant's plan."""
        for name, run in self.runs.items():
            if any(p.participant_id == participant_id for p in run.participants):
                return name
        raise KeyError(participant_id)
