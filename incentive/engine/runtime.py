"""Process-level settings for a run.  Imports nothing from the package."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator

#: Told how a long run advances: (what is being done, how many done, how many in all or
#: None when not known yet), e.g. ("reading deal", 65536, None), ("evaluating", 300, 1000).
#: Called every few thousand rows or participants, never per row.
Progress = Callable[[str, int, "int | None"], None]

#: Rows read between two progress reports.
ROWS_PER_REPORT = 1 << 16
#: Participants evaluated between two progress reports.
PARTICIPANTS_PER_REPORT = 1 << 8


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cycle collector while a run allocates its many small objects.

    A run creates one object per record and per step and frees none of them until it
    ends; the collector would scan them again and again (a third of evaluation time on
    100,000 records) and find no cycles.  Reference counting still frees everything.
    The previous state is restored, also on error.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
