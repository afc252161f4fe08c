"""Type aliases shared by every stage.  Imports nothing from the package."""

from __future__ import annotations

from typing import Literal

#: The kind of value an expression has, inferred by the checker and kept in the trace:
#: an amount of the plan's currency, a share (ratio, shown as a percentage), a plain
#: number, a count, a score, a date, a text, a condition, a participant or a record id.
Unit = Literal[
    "money",
    "ratio",
    "number",
    "count",
    "score",
    "date",
    "text",
    "bool",
    "participant",
    "id",
    "unknown",  # only while checking: an expression already reported as wrong
]
