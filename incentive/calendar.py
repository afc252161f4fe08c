"""Calendar arithmetic for plans: sub-periods, day counts and day-weighted values.

Every range is inclusive at both ends and counted in whole calendar days: 2026-07-01 to
2026-09-30 is 92 days.  Nothing here adds months to a date, so no rule ever has to guess
what "one month after 31 January" means.  Sub-periods are calendar months, calendar
quarters, calendar years and ISO weeks; an ISO week belongs to the period that holds its
Thursday: a quarter of 91 or 92 days has 13 or 14 of them, a first quarter of 90 days
12 or 13.  Imports only the standard library.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Literal

WindowKind = Literal["month", "week", "quarter", "year", "segment"]
#: Sub-periods a plan can name, from the shortest.
CALENDAR_KINDS: Final[tuple[WindowKind, ...]] = ("week", "month", "quarter", "year")

ONE_DAY: Final = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Window:
    """One sub-period: its kind, its first and last day, and the key it is known by.

    ``key`` is "2026-07" for a month, "2026-W27" for an ISO week, "2026-Q3" for a quarter,
    "2026" for a year, and the first day for a schedule's segment.
    """

    kind: WindowKind
    key: str
    start: dt.date
    end: dt.date
    #: the whole calendar month (quarter, year) when the period cuts it; else None
    whole: tuple[dt.date, dt.date] | None = None

    @property
    def days(self) -> int:
        return days_between(self.start, self.end)

    @property
    def whole_days(self) -> int:
        """Days of the whole calendar sub-period, even where the period cuts it."""
        return days_between(*(self.whole or (self.start, self.end)))


def days_between(start: dt.date, end: dt.date) -> int:
    """Days from ``start`` to ``end``, both counted; 0 when ``end`` is before ``start``."""
    return max(0, (end - start).days + 1)


def describe(start: dt.date, end: dt.date) -> str:
    """'2026-07-31', or '2026-09-16 to 2026-09-30 (15 days)' for messages."""
    if start == end:
        return start.isoformat()
    return f"{start.isoformat()} to {end.isoformat()} ({days_between(start, end)} days)"


def overlap(
    start: dt.date, end: dt.date, other_start: dt.date, other_end: dt.date
) -> tuple[dt.date, dt.date] | None:
    """The days two inclusive ranges share, or None."""
    first, last = max(start, other_start), min(end, other_end)
    return (first, last) if first <= last else None


def month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - ONE_DAY


def quarter_of(day: dt.date) -> int:
    return (day.month - 1) // 3 + 1


def _months(start: dt.date, end: dt.date) -> Iterator[Window]:
    year, month = start.year, start.month
    while dt.date(year, month, 1) <= end:
        first, last = dt.date(year, month, 1), month_end(year, month)
        yield _cut("month", f"{year:04d}-{month:02d}", first, last, start, end)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _quarters(start: dt.date, end: dt.date) -> Iterator[Window]:
    year, quarter = start.year, quarter_of(start)
    while dt.date(year, 3 * quarter - 2, 1) <= end:
        first = dt.date(year, 3 * quarter - 2, 1)
        last = month_end(year, 3 * quarter)
        yield _cut("quarter", f"{year:04d}-Q{quarter}", first, last, start, end)
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def _years(start: dt.date, end: dt.date) -> Iterator[Window]:
    for year in range(start.year, end.year + 1):
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        yield _cut("year", f"{year:04d}", first, last, start, end)


def _cut(
    kind: WindowKind, key: str, first: dt.date, last: dt.date, start: dt.date, end: dt.date
) -> Window:
    cut = (max(first, start), min(last, end))
    return Window(kind, key, cut[0], cut[1], None if cut == (first, last) else (first, last))


def iso_week(day: dt.date) -> Window:
    """The ISO week holding ``day``: Monday to Sunday, named by its ISO year and number."""
    year, week, weekday = day.isocalendar()
    monday = day - dt.timedelta(days=weekday - 1)
    return Window("week", f"{year:04d}-W{week:02d}", monday, monday + dt.timedelta(days=6))


def thursday(window: Window) -> dt.date:
    """The Thursday of an ISO week: the day that decides its year, quarter and month."""
    return window.start + dt.timedelta(days=3)


def _weeks(start: dt.date, end: dt.date) -> Iterator[Window]:
    # The weeks whose Thursday lies in [start, end]; each is a whole Monday-to-Sunday week,
    # so the first and the last may begin before the period or end after it.
    week = iso_week(start)
    if thursday(week) < start:
        week = iso_week(week.start + dt.timedelta(days=7))
    while thursday(week) <= end:
        yield week
        week = iso_week(week.start + dt.timedelta(days=7))


def windows(kind: WindowKind, start: dt.date, end: dt.date) -> tuple[Window, ...]:
    """The sub-periods of ``kind`` in the period ``start``…``end``, in order.

    Months, quarters and years are cut to the period at its ends (a plan from 15 July
    has a July of 17 days); ISO weeks are whole weeks whose Thursday is in the period.
    """
    if kind == "month":
        return tuple(_months(start, end))
    if kind == "quarter":
        return tuple(_quarters(start, end))
    if kind == "year":
        return tuple(_years(start, end))
    if kind == "week":
        return tuple(_weeks(start, end))
    raise ValueError(f"a {kind} is not a calendar sub-period")


@dataclass(frozen=True, slots=True)
class Piece:
    """Part of a range where one value is in force: its days and the value."""

    start: dt.date
    end: dt.date
    value: object

    @property
    def days(self) -> int:
        return days_between(self.start, self.end)


def pieces(
    rows: Sequence[tuple[dt.date, dt.date, object]], start: dt.date, end: dt.date
) -> tuple[Piece, ...]:
    """The parts of ``start``…``end`` each row covers, in date order (rows may be unsorted;
    the caller has made sure they do not overlap)."""
    out = []
    for first, last, value in sorted(rows, key=lambda row: row[0]):
        shared = overlap(first, last, start, end)
        if shared is not None:
            out.append(Piece(shared[0], shared[1], value))
    return tuple(out)


def holes(
    rows: Sequence[tuple[dt.date, dt.date]], start: dt.date, end: dt.date
) -> list[tuple[dt.date, dt.date]]:
    """The days of ``start``…``end`` that no row covers, as ranges."""
    out = []
    cursor = start
    for first, last in sorted(rows):
        if last < cursor:
            continue
        if first > cursor:
            out.append((cursor, min(end, first - ONE_DAY)))
        if last >= end:
            return [(a, b) for a, b in out if a <= b]
        cursor = max(cursor, last + ONE_DAY)
    if cursor <= end:
        out.append((cursor, end))
    return [(a, b) for a, b in out if a <= b]


def overlaps(
    rows: Sequence[tuple[dt.date, dt.date]],
) -> list[tuple[int, int]]:
    """Pairs of row indexes whose ranges share a day, each pair once, in row order."""
    order = sorted(range(len(rows)), key=lambda i: rows[i])
    found = []
    for position, index in enumerate(order):
        for other in order[position + 1 :]:
            if rows[other][0] > rows[index][1]:
                break
            found.append((min(index, other), max(index, other)))
    return sorted(found)


#: How many weights each basis takes.
WEIGHT_COUNTS: Final = {"quarter": 4, "month": 12, "month of quarter": 3}


def _unit_of(basis: str, day: dt.date) -> tuple[int, str]:
    """(index into the weights, name of the unit) of the day under ``basis``."""
    if basis == "quarter":
        quarter = quarter_of(day)
        return quarter - 1, f"{day.year:04d}-Q{quarter}"
    if basis == "month":
        return day.month - 1, f"{day.year:04d}-{day.month:02d}"
    position = (day.month - 1) % 3
    return position, f"{day.year:04d}-{day.month:02d}"


def _units(basis: str, start: dt.date, end: dt.date) -> tuple[Window, ...]:
    return windows("quarter" if basis == "quarter" else "month", start, end)


def weight_parts(
    basis: str, start: dt.date, end: dt.date, *, week: bool = False
) -> tuple[tuple[int, str], ...] | None:
    """The weights that make up the share of ``start``…``end``: (index, unit name) each.

    A range inside one quarter (or month) takes that unit's weight; a range of whole units
    takes their sum; an ISO week takes the unit that holds its Thursday.  Any other range
    has no share (None): a weight cannot be split by days without saying so.
    """
    if week:
        day = start + dt.timedelta(days=3)
        return (_unit_of(basis, day),)
    first = _unit_of(basis, start)
    if _units(basis, start, end)[0].key == _units(basis, end, end)[0].key:
        return (first,)
    if basis == "month of quarter":
        return None  # more than one month: the share of a quarter's months is not defined
    parts = []
    for unit in _units(basis, start, end):
        full = windows(unit.kind, *_full(unit))[0]
        if (unit.start, unit.end) != (full.start, full.end):
            return None
        parts.append(_unit_of(basis, unit.start))
    return tuple(parts)


def _full(unit: Window) -> tuple[dt.date, dt.date]:
    if unit.kind == "quarter":
        quarter = quarter_of(unit.start)
        return dt.date(unit.start.year, 3 * quarter - 2, 1), month_end(unit.start.year, 3 * quarter)
    return dt.date(unit.start.year, unit.start.month, 1), month_end(
        unit.start.year, unit.start.month
    )
