"""Crediting: which participant each record counts for, and with what share.

A step of its own between records and measures.  A record credits the participant its
``participant`` field names, with share 1, unless rows of credit give it: then each row
credits its participant with its share (the shares that are not overlays add up to 100%,
as reading the inputs checked), and an overlay row credits on top.  Shares stay exact:
a component rounds once, at its end.  Imports engine.records only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from incentive.engine.records import CreditShare, Inputs, Record

FULL: Final = Decimal(1)


@dataclass(frozen=True, slots=True)
class Credit:
    """One record counted for one participant, with the share of its values credited."""

    record: Record
    participant_id: str
    share: Decimal = FULL
    #: the row of credit that gave it, when one did
    row: CreditShare | None = None

    @property
    def id(self) -> str:
        """The credited record's id."""
        return self.record.id


def credit_records(
    records: Mapping[str, Sequence[Record]],
    credits: Mapping[tuple[str, str], Sequence[CreditShare]] | None = None,
) -> dict[str, dict[str, list[Credit]]]:
    """Credits grouped by participant, then by record kind, in input order."""
    grouped: dict[str, dict[str, list[Credit]]] = defaultdict(lambda: defaultdict(list))
    for kind, rows in records.items():
        for record in rows:
            shares = credits.get((kind, record.id)) if credits else None
            if shares is None:
                grouped[record.participant_id][kind].append(Credit(record, record.participant_id))
                continue
            if all(share.overlay for share in shares):
                # Only overlays: the record still credits its own participant in full.
                grouped[record.participant_id][kind].append(Credit(record, record.participant_id))
            for share in shares:
                credit = Credit(record, share.participant_id, share.share, share)
                grouped[share.participant_id][kind].append(credit)
    return grouped


def credits_of(inputs: Inputs) -> dict[str, dict[str, list[Credit]]]:
    """The credits of a run's inputs, by participant and record kind."""
    return credit_records(inputs.records, inputs.credits)
