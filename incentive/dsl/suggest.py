"""'Did you mean' suggestions for unknown names.  Imports nothing from the package."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The closest known name to ``name``, or None when nothing is close.

    >>> suggest("revnue", ["revenue", "quota"])
    'revenue'
    >>> suggest("xyz", ["revenue"]) is None
    True
    """
    pool = sorted(set(candidates))
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    folded = {c.casefold(): c for c in pool}
    return folded.get(name.casefold())


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint sentence for an unknown name, or None.

    >>> did_you_mean("Quota", ["quota"])
    "did you mean 'quota'?"
    """
    match = suggest(name, candidates)
    return None if match is None else f"did you mean '{match}'?"
