"""Records read as columns (pyarrow), for the columnar engine.

A file is read block by block by pyarrow's CSV reader (streamed, never whole), every
column as text.  Each block's declared fields are checked at once against the forms the
straightforward reader accepts without a doubt (``12345.67``, ``2026-07-01``, text without
surrounding spaces …) and converted: amounts to int64 counts of ``10**-scale``, dates to
day ordinals, participants to their positions; then the block's text is let go, except
ids and texts.  Anything else (a value that needs the row-by-row reader to say what is
wrong with it, or to read it at all) raises `UnreadableError`, and the run is read by the
straightforward reader, which names the file, row, field and value.  A statement's
records are written back from the columns (`KindColumns.rows`) and read by the row
reader's own validation, so they hold exactly what the other reader would.
Imports pyarrow and numpy, and from the package only the checked plan's
declarations, `records` (limits) and `runtime`.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from queue import Empty, Queue
from typing import Any, Final

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]  # pyarrow ships no type hints
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pa_csv  # type: ignore[import-untyped]

from incentive.dsl import ast
from incentive.dsl.check import CheckedPlan, RecordKindInfo
from incentive.engine.rational import Array
from incentive.engine.records import MAX_TEXT, has_header, well_shaped_csv_rows
from incentive.engine.runtime import Progress
from incentive.errors import RecordError

#: Bytes pyarrow reads at a time: memory stays bounded whatever the file's size.  One
#: thread parses (`_ahead`) while the previous block is checked: on the 2-core machine
#: this measured faster, and leaner, than pyarrow's own threads.
BLOCK_BYTES: Final = 1 << 20
#: Blocks read between two returns of freed memory to the system.
_RELEASE_EVERY: Final = 2

#: Amount and number forms read as columns: at most 15 digits (exact through a double),
#: and at most this many decimals.
_SCALES: Final = (2, 6)

#: Characters `str.strip` removes (those `str.isspace` calls space), for RE2.
_SPACE: Final = "".join(f"\\x{{{code:x}}}" for code in range(0x3001) if chr(code).isspace())
_PADDED: Final = f"^[{_SPACE}]|[{_SPACE}]$"

#: Days from 0001-01-01 (ordinal 1) to 1970-01-01, where pyarrow counts from.
_EPOCH: Final = dt.date(1970, 1, 1).toordinal()

#: Distinct values checked one by one rather than with a pattern over the column.
_FEW: Final = 4096
#: Ids written as integers without leading zeros: equal as numbers when equal as text.
_INTEGER: Final = "^[1-9][0-9]{0,17}$"

_NUMERIC: Final = {
    "money": False,
    "positive_money": False,
    "signed_money": True,
    "number": True,
    "positive_number": True,
    "count": False,
    "positive_count": False,
    "score": True,
}
_TEXT: Final = ("id", "participant", "text")


class UnreadableError(Exception):
    """The columns cannot be read as columns; the straightforward reader reads them."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class KindColumns:
    """One record kind's rows as columns, in file order (row ``i`` is line ``i + 2``)."""

    kind: str
    source: str
    size: int
    #: the index of each record's participant in the participants' order (int32)
    owner: Array
    #: each numeric field as int64 counts of 10**-scale, with its scale
    numbers: dict[str, tuple[Array, int]] = field(default_factory=dict)
    #: each date field as day ordinals (`datetime.date.toordinal`), int32
    dates: dict[str, Array] = field(default_factory=dict)
    #: the text of the other columns (ids, participants, texts), as read
    raw: dict[str, pa.ChunkedArray] = field(default_factory=dict)
    #: the first row number (a file's first row after its header is row 2)
    first_row: int = 2
    #: the text columns whose every value is an integer without leading zeros
    integers: set[str] = field(default_factory=set)
    #: the field naming each record's participant, and the participants' ids
    owner_field: str | None = None
    people: Sequence[str] = ()

    def rows(self, rows: Array) -> list[dict[str, Any]]:
        """Rows as the row reader would take them: ids and texts as read; numbers, dates
        and participants made again from the columns, as `Decimal`, `datetime.date` and
        text (``1.5`` as ``1.50``, ``007`` as ``7``: the same values, which is all the
        row reader keeps of them)."""
        out: list[dict[str, Any]] = pa.table(self.raw).take(pa.array(rows)).to_pylist()
        if not out:
            return out
        for name, (units, scale) in self.numbers.items():
            for row, value in zip(out, units[rows].tolist(), strict=True):
                row[name] = Decimal(value).scaleb(-scale)
        fromordinal = dt.date.fromordinal
        for name, days in self.dates.items():
            for row, value in zip(out, days[rows].tolist(), strict=True):
                row[name] = fromordinal(value)
        if self.owner_field is not None:
            for row, value in zip(out, self.owner[rows].tolist(), strict=True):
                row[self.owner_field] = self.people[value]
        return out


def read_kind(
    kind: RecordKindInfo,
    source: str | Path | Sequence[Mapping[str, Any]],
    people: Sequence[str],
    progress: Progress | None = None,
) -> KindColumns:
    """A record kind's file (or rows in memory) as checked columns; `UnreadableError` when
    some row needs the straightforward reader.  ``people`` are the participants' ids."""
    if kind.id_field is None:
        raise UnreadableError("records without an id field")
    fields: dict[str, ast.FieldDecl | None] = dict(kind.fields)
    columns = _columns(kind.name, fields, source, f"{kind.name} records", progress, people=people)
    _unique(columns.raw[kind.id_field], kind.id_field in columns.integers)
    return columns


@dataclass
class PeopleColumns:
    """The participants as columns: their ids and names, and each declared field."""

    ids: list[str]
    names: list[str]
    columns: KindColumns


def read_people(
    plan: CheckedPlan, source: str | Path | Sequence[Mapping[str, Any]]
) -> PeopleColumns:
    """The participants' file (or rows) as checked columns; `UnreadableError` as `read_kind`."""
    fields: dict[str, ast.FieldDecl | None] = dict(plan.participant_fields)
    id_field = plan.participant_id_field
    if id_field not in fields:
        fields[id_field] = None
    for decl in fields.values():
        if decl is not None and decl.kind == "participant":
            raise UnreadableError("participants link to one another")
    # Everyone the plan groups by a team must have one, as the row reader requires.
    columns = _columns(
        "participants", fields, source, "participants", None, "name", required=plan.group_fields
    )
    ids = columns.raw[id_field]
    _unique(ids, id_field in columns.integers)
    id_list = ids.to_pylist()
    if "name" in columns.raw:
        names = [n or pid for n, pid in zip(columns.raw["name"].to_pylist(), id_list, strict=True)]
    else:
        names = id_list
    return PeopleColumns(id_list, names, columns)


def _columns(
    label: str,
    fields: Mapping[str, ast.FieldDecl | None],
    source: str | Path | Sequence[Mapping[str, Any]],
    what: str,
    progress: Progress | None,
    optional: str | None = None,
    people: Sequence[str] = (),
    required: Collection[str] = (),
) -> KindColumns:
    """Read block by block: each block's amounts, dates and participants are checked and
    converted at once and their text let go, so a run holds the compact columns and
    one block of text, not the whole file's."""
    names = list(fields)
    if not isinstance(source, str | Path):
        batches = iter(_from_rows(source, names, optional).to_batches())
        return _checked(
            label, fields, batches, f"<{what}>", 1, progress, optional, people, required
        )
    path = Path(source)
    if not has_header(path):
        raise UnreadableError("a JSON file")
    try:
        batches = _read_csv(path, names, optional)
        return _checked(
            label, fields, batches, str(source), 2, progress, optional, people, required
        )
    except UnreadableError:
        if not _quoted(path):
            raise
    # Quoted values (a name with a comma in it): parsed by the row reader's own CSV rules,
    # then checked as columns like rows in memory.
    batches = _csv_by_rows(path, names, optional, what)
    return _checked(label, fields, batches, str(source), 2, progress, optional, people, required)


def _quoted(path: Path) -> bool:
    """Whether the file holds a double quote anywhere (read in blocks, never whole)."""
    try:
        with path.open("rb") as file:
            while block := file.read(BLOCK_BYTES):
                if b'"' in block:
                    return True
    except OSError:  # the row reader says what is wrong with the file
        return False
    return False


#: Rows of a quoted CSV file turned into columns at a time.
_ROWS_PER_BLOCK: Final = 1 << 15


def _csv_by_rows(
    path: Path, names: list[str], optional: str | None, what: str
) -> Iterator[pa.RecordBatch]:
    """A CSV file as the row reader parses it, a block of rows at a time, as text
    columns; `UnreadableError` where the rows' numbers would not be their lines (a
    blank line, a value over several lines) or the row reader refuses the file."""
    rows = well_shaped_csv_rows(path, what)
    expected = 2
    try:
        while True:
            block = []
            for number, row in itertools.islice(rows, _ROWS_PER_BLOCK):
                if number != expected:
                    raise UnreadableError("rows that are not one line each")
                expected += 1
                block.append(row)
            if not block:
                return
            yield from _from_rows(block, names, optional).to_batches()
    except RecordError:
        raise UnreadableError("a file the row reader refuses") from None
    finally:
        rows.close()  # the file, at once, when the reading stops early


def _checked(
    label: str,
    fields: Mapping[str, ast.FieldDecl | None],
    batches: Iterator[pa.RecordBatch],
    name: str,
    first_row: int,
    progress: Progress | None,
    optional: str | None,
    people: Sequence[str],
    required: Collection[str],
) -> KindColumns:
    """The blocks' columns, checked and converted as they come."""
    names = list(fields)
    for field_name, decl in fields.items():
        if decl is None:
            continue
        if decl.conversion is not None or decl.within_period:
            raise UnreadableError(f"field '{field_name}' is converted or bounded to the period")
        if decl.kind not in _NUMERIC and decl.kind not in _TEXT and decl.kind != "date":
            raise UnreadableError(f"field '{field_name}' is of a kind read row by row")
    numbers: dict[str, list[tuple[Array, int]]] = {}
    dates: dict[str, list[Array]] = {}
    owners: list[Array] = []
    texts: dict[str, list[pa.Array]] = {}
    owner_field = None
    whole: dict[str, bool] = {}
    people_set = pa.array(list(people), type=pa.string())
    size = 0
    pool = _pool()
    try:
        for number, batch in enumerate(batches):
            size += batch.num_rows
            if progress is not None:
                progress(f"reading {label}", size, None)
            if pool is not None and number % _RELEASE_EVERY == 0:
                pool.release_unused()  # the blocks done with: back to the system
            for column_name in batch.schema.names:
                column = batch.column(column_name)
                decl = fields.get(column_name)
                if decl is None:  # an id the plan does not declare, or the name
                    integer = _check_text(column, required=column_name != optional)
                    whole[column_name] = whole.get(column_name, True) and integer
                elif decl.kind in _NUMERIC:
                    part = _numbers(column, decl.kind, decl.low, decl.high)
                    numbers.setdefault(column_name, []).append(part)
                    continue
                elif decl.kind == "date":
                    dates.setdefault(column_name, []).append(_dates(column))
                    continue
                elif decl.kind == "participant":
                    owner_field = column_name
                    owners.append(_owners(column, people_set))
                    continue
                else:
                    needed = decl.kind in ("id", "participant") or column_name in required
                    integer = _check_text(column, required=needed)
                    whole[column_name] = whole.get(column_name, True) and integer
                texts.setdefault(column_name, []).append(column)
    finally:  # a refusal mid-file ends the reading thread and closes the file now
        close = getattr(batches, "close", None)
        if close is not None:
            close()
    # Joined one field at a time, each field's blocks let go as it is: the peak is the
    # columns and one field twice, not all of them twice.
    if pool is not None:
        pool.release_unused()
    columns = KindColumns(label, name, size, _joined(owners, np.int32))
    del owners
    columns.first_row = first_row
    columns.owner_field = owner_field
    columns.people = people
    columns.integers = {name for name, integer in whole.items() if integer}
    present = set(texts) | set(numbers) | set(dates) | ({owner_field} - {None})
    for column_name in names:
        if size == 0 and column_name not in present:
            texts[column_name] = []
    columns.raw = {n: pa.chunked_array(parts, type=pa.string()) for n, parts in texts.items()}
    for field_name in list(numbers):
        columns.numbers[field_name] = _rescaled(numbers.pop(field_name))
    for field_name in list(dates):
        columns.dates[field_name] = _joined(dates.pop(field_name), np.int32)
    if size == 0:  # a header alone: empty columns of every kind
        for field_name, decl in fields.items():
            if decl is not None and decl.kind in _NUMERIC:
                columns.numbers[field_name] = (np.zeros(0, dtype=np.int64), 0)
                columns.raw.pop(field_name, None)
            elif decl is not None and decl.kind == "date":
                columns.dates[field_name] = np.zeros(0, dtype=np.int32)
                columns.raw.pop(field_name, None)
            elif decl is not None and decl.kind == "participant":
                columns.owner_field = field_name
                columns.raw.pop(field_name, None)
    return columns


def _joined(parts: list[Array], dtype: Any) -> Array:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _rescaled(parts: list[tuple[Array, int]]) -> tuple[Array, int]:
    """Blocks read with different numbers of decimals, over the largest."""
    scale = max(s for _, s in parts)
    out = []
    for units, own in parts:
        if own != scale:
            factor = 10 ** (scale - own)
            if units.size and max(abs(int(units.max())), abs(int(units.min()))) * factor >= 1 << 62:
                raise UnreadableError("a number too long for its column's decimals")
            units = units * factor
        out.append(units)
    return np.concatenate(out), scale


def _owners(column: pa.Array, people: pa.Array) -> Array:
    """Each record's participant, by position; `UnreadableError` if one names nobody."""
    encoded = pc.dictionary_encode(column, memory_pool=_pool())
    where = pc.index_in(encoded.dictionary, value_set=people, memory_pool=_pool())
    if where.null_count:
        raise UnreadableError("a record names no participant of the file")
    positions = where.to_numpy(zero_copy_only=False).astype(np.int32)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    found: Array = positions[indices]
    return found


def _unique(ids: pa.ChunkedArray, integers: bool) -> None:
    """No id twice (the straightforward reader rejects the second); ``integers``: every
    id is an integer without leading zeros (equal as numbers when equal as text)."""
    size = len(ids)
    if size < 2:
        return
    if integers:
        numbers = pc.cast(ids, pa.int64(), memory_pool=_pool()).to_numpy(zero_copy_only=False)
        low, high = int(numbers.min()), int(numbers.max())
        if high - low < 4 * size:
            twice = int(np.bincount(numbers - low).max()) > 1
        else:
            ordered = np.sort(numbers)
            twice = bool((ordered[1:] == ordered[:-1]).any())
    else:
        twice = len(pc.unique(ids)) != size
    if twice:
        raise UnreadableError("two rows share an id")


def _read_csv(path: Path, names: list[str], optional: str | None) -> Iterator[pa.RecordBatch]:
    """A plain CSV file's blocks: a header of plain names, and no quotes anywhere (a
    quoted value, or a quote inside one, goes to the row reader, whose CSV rules are
    stricter than pyarrow's)."""
    try:
        with path.open("rb") as file:
            header = file.readline()
    except OSError as exc:
        raise UnreadableError(f"cannot open: {exc}") from None
    try:
        text = header.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise UnreadableError("header not UTF-8") from None
    columns = text.split(",")
    plain = all(c == c.strip() and c for c in columns) and '"' not in text
    if not plain or text.startswith("\ufeff") or len(set(columns)) != len(columns):
        raise UnreadableError("a header of other than plain, distinct names")
    if not set(names) <= set(columns):
        raise UnreadableError("a declared column missing")
    if optional is not None and optional in columns:
        names = [*names, optional]
    options = pa_csv.ReadOptions(block_size=BLOCK_BYTES, use_threads=False)
    parse = pa_csv.ParseOptions(
        quote_char=False, newlines_in_values=False, ignore_empty_lines=False
    )
    convert = pa_csv.ConvertOptions(
        column_types={c: pa.string() for c in columns},
        strings_can_be_null=False,
        include_columns=names,
    )
    return _ahead(_stream(path, options, parse, convert))


def _ahead(batches: Iterator[pa.RecordBatch], depth: int = 2) -> Iterator[pa.RecordBatch]:
    """The next blocks parsed in a thread while this one is checked (pyarrow lets go of
    the interpreter as it parses): at most ``depth`` blocks wait, so memory stays
    bounded.  An error of the reader reaches the caller as it would have."""
    queue: Queue[tuple[str, Any]] = Queue(maxsize=depth)
    stop = threading.Event()

    def read() -> None:
        try:
            for batch in batches:
                if stop.is_set():
                    return
                queue.put(("batch", batch))
            queue.put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put(("error", exc))

    worker = threading.Thread(target=read, name="incentive-csv", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a reader waiting on a full queue
            try:
                queue.get_nowait()
            except Empty:
                worker.join(0.01)


@functools.cache
def _pool() -> Any:
    """The memory pool the columnar reader allocates from: arrow's jemalloc pool when this
    pyarrow has one, whose freed blocks `_columns` hands back to the system now and then
    (`release_unused`), so blocks read one after another do not pile up as retained
    memory.  No process-wide setting is changed."""
    try:
        return pa.jemalloc_memory_pool()
    except (NotImplementedError, pa.ArrowNotImplementedError):
        return None


def _stream(path: Path, options: Any, parse: Any, convert: Any) -> Iterator[pa.RecordBatch]:
    try:
        with pa_csv.open_csv(
            path,
            read_options=options,
            parse_options=parse,
            convert_options=convert,
            memory_pool=_pool(),
        ) as reader:
            yield from reader
    except (pa.ArrowInvalid, OSError) as exc:
        raise UnreadableError(f"not plain CSV: {exc}") from None


def _from_rows(
    rows: Sequence[Mapping[str, Any]], names: list[str], optional: str | None
) -> pa.Table:
    """Rows in memory as text columns: every value a `str` (anything else, and a row
    that is not a mapping, is read by the row reader, which says what is wrong)."""
    data = {}
    if optional is not None and rows:
        having = sum(1 for row in rows if isinstance(row, Mapping) and optional in row)
        if having == len(rows):
            names = [*names, optional]
        elif having:
            raise UnreadableError(f"'{optional}' on some rows only")
    for name in names:
        try:
            values = [row[name] for row in rows]
        except (KeyError, TypeError):
            raise UnreadableError(f"a row without '{name}'") from None
        if set(map(type, values)) - {str}:
            raise UnreadableError(f"'{name}' holds values other than text")
        data[name] = pa.array(values, type=pa.string())
    return pa.table(data) if data else pa.table({})


def _all(mask: Any) -> bool:
    return bool(pc.all(mask).as_py() is not False)


def _check_text(column: pa.ChunkedArray, *, required: bool) -> bool:
    """No value with spaces around it (the other reader strips them), too long, or
    empty where required: checked on the distinct values when they are few (a status,
    a team), and on the pattern of integers first for ids.  True when every value is
    an integer written without leading zeros."""
    if len(column) == 0:
        return False
    if bool(pc.any(pc.match_substring(column, '"', memory_pool=_pool())).as_py()):
        raise UnreadableError("a quote in a text")
    if not required:
        distinct = pc.unique(column, memory_pool=_pool())
        if len(distinct) <= _FEW:
            for text in distinct.to_pylist():
                if text != text.strip() or len(text) > MAX_TEXT:
                    raise UnreadableError("a text with spaces around it, or too long")
            return False
    if _all(pc.match_substring_regex(column, _INTEGER, memory_pool=_pool())):
        return True
    lengths = pc.utf8_length(column, memory_pool=_pool())
    if pc.max(lengths).as_py() > MAX_TEXT or (required and pc.min(lengths).as_py() == 0):
        raise UnreadableError("a text too long, or empty where required")
    if not _all(pc.invert(pc.match_substring_regex(column, _PADDED, memory_pool=_pool()))):
        raise UnreadableError("a text with spaces around it")
    return False


def _numbers(column: pa.ChunkedArray, kind: str, low: Any, high: Any) -> tuple[Array, int]:
    signed = _NUMERIC[kind]
    sign = "-?" if signed else ""
    scales = (0,) if kind in ("count", "positive_count") else _SCALES
    for scale in scales:
        pattern = f"^{sign}[0-9]{{1,{15 - scale}}}" + (
            f"(\\.[0-9]{{1,{scale}}})?$" if scale else "$"
        )
        if _all(pc.match_substring_regex(column, pattern, memory_pool=_pool())):
            break
    else:
        raise UnreadableError("a number in a form read row by row")
    floats = pc.cast(column, pa.float64(), memory_pool=_pool()).to_numpy(zero_copy_only=False)
    units: Array = np.rint(floats * 10.0**scale).astype(np.int64)
    if kind.startswith("positive") and units.size and int(units.min()) <= 0:
        raise UnreadableError("a value not above zero")
    if kind == "score" and units.size:
        if low is not None and Fraction(int(units.min()), 10**scale) < low:
            raise UnreadableError("a score below its range")
        if high is not None and Fraction(int(units.max()), 10**scale) > high:
            raise UnreadableError("a score above its range")
    return units, scale


def _dates(column: pa.ChunkedArray) -> Array:
    # pyarrow reads exactly YYYY-MM-DD (no other form, no spaces, no impossible day),
    # which the other reader reads as the same date.
    try:
        days = pc.cast(column, pa.date32(), memory_pool=_pool())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise UnreadableError("a date not written YYYY-MM-DD, or no such day") from None
    ordinals: Array = days.cast(pa.int32()).to_numpy(zero_copy_only=False) + np.int32(_EPOCH)
    if ordinals.size and int(ordinals.min()) < 1:
        raise UnreadableError("a date before year 1")
    return ordinals
