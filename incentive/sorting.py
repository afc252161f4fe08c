"""Natural order for ids: D-2 before D-10.  Imports nothing from the package."""

from __future__ import annotations

import re
from typing import Final

_DIGITS: Final = re.compile(r"([0-9]+)")


def natural_key(text: str) -> tuple[tuple[tuple[int, int, str], ...], str]:
    """Sort key that puts D-2 before D-10 and R-9 before R-10; ids that differ only in
    leading zeros (D-02, D-2) then sort by their text, so the order is total.  Only ASCII
    digits count as numbers: other characters compare as text."""
    pieces = _DIGITS.split(text)
    parts = tuple(
        (0, int(piece), "") if index % 2 else (1, 0, piece)
        for index, piece in enumerate(pieces)
        if piece
    )
    return parts, text
