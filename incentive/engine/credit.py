"""Crediting: which participant each record counts for, and with what share.

A step of its own between records and measures.  Today every record credits the one
participant its ``participant`` field names, with share 1; credit splits and overlays
change only this module.  Imports engine.records only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from incentive.engine.records import Record

FULL: Final = Decimal(1)


@dataclass(frozen=True, slots=True)
class Credit:
    """One record counted for one participant, with the share of its values credited."""

    record: Record
    participant_id: str
    share: Decimal = FULL

    @property
    def id(self) -> str:
        """The credited record's id."""
        return self.record.id


def credit_records(
    records: Mapping[str, Sequence[Record]],
) -> dict[str, dict[str, list[Credit]]]:
    """Credits grouped by participant, then by record kind, in input order."""
    grouped: dict[str, dict[str, list[Credit]]] = defaultdict(lambda: defaultdict(list))
    for kind, rows in records.items():
        for record in rows:
            grouped[record.participant_id][kind].append(Credit(record, record.participant_id))
    return grouped
