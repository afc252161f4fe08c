"""Input rows → validated participants and records, or every problem with its row.

Pydantic models are built from the plan's declarations; each field parses its value with
the rules in `money` (no floats, no guessing at ``12,34O.00``).  Problems are collected,
never raised one by one: a `Inputs` holds the good rows and every rejected one with file,
row, field, value and reason.  Imports errors, money and dsl.check.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import itertools
import json
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Final, TextIO

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

from incentive.dsl import ast
from incentive.dsl.check import CheckedPlan, RecordKindInfo
from incentive.engine.runtime import ROWS_PER_REPORT, Progress, paused_gc
from incentive.errors import RecordError, RecordProblem
from incentive.money import (
    MAX_DIGITS,
    MAX_EXPONENT,
    NumberLimitError,
    mul,
    parse_decimal,
    percent_value,
    shift,
    to_fraction,
)

RowSource = str | Path | Sequence[Mapping[str, Any]]

_NO_LINKS: Final[Mapping[str, str | None]] = {}

#: Longest text value accepted in any field.
MAX_TEXT: Final = 1000


@dataclass(frozen=True, slots=True)
class Participant:
    """A validated participant row: id, display name and declared field values."""

    id: str
    name: str
    values: Mapping[str, Any]
    source: str
    row: int
    #: the participant each link field names (a manager), None when empty
    links: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Conversion:
    """An amount converted into the plan's currency: what it was, and the rate used."""

    original: Decimal
    currency: str
    rate: Decimal
    #: the days the rate is in force, as the exchange rates table says
    start: dt.date
    end: dt.date
    line: int


@dataclass(frozen=True, slots=True)
class Record:
    """A validated record: its kind, id, the participant it credits and its values."""

    kind: str
    id: str
    participant_id: str
    values: Mapping[str, Any]
    source: str
    row: int
    #: amounts converted from another currency, by field
    conversions: Mapping[str, Conversion] | None = None


@dataclass(frozen=True, slots=True)
class CreditShare:
    """One row of credit for a record: who, what share, and whether on top (an overlay)."""

    participant_id: str
    share: Decimal
    overlay: bool
    #: the credit row's own id ("row 4"), and its kind
    row_id: str
    kind: str


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything read for a run: good rows, and every problem found in the others."""

    participants: tuple[Participant, ...]
    records: Mapping[str, tuple[Record, ...]]
    problems: tuple[RecordProblem, ...]
    rejected_records: tuple[tuple[str, str, str | None, str], ...]
    """(kind, record id or 'row N', participant id, reason) of each rejected record."""
    #: the rows of credit of each credited record, by (kind, record id)
    credits: Mapping[tuple[str, str], tuple[CreditShare, ...]] = field(default_factory=dict)


class _FieldProblem(ValueError):
    """A value that does not fit its field; ``code`` picks the R4xx code."""

    def __init__(self, reason: str, code: str = "R401") -> None:
        self.code = code
        super().__init__(reason)


# ---- value parsers, one per field kind ---------------------------------------------------
_FLOAT: Final = "is a floating-point number, which is not exact; pass numbers as text or Decimal"


def _as_text(value: Any) -> str:
    if type(value) is str:  # the common case, from every CSV cell
        text = value.strip()
        if len(text) > MAX_TEXT:
            raise _FieldProblem(f"is longer than {MAX_TEXT} characters")
        return text
    if isinstance(value, float):
        raise _FieldProblem(_FLOAT)
    if not isinstance(value, str | int | Decimal | dt.date) or isinstance(value, bool):
        raise _FieldProblem("is not a single value")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise _FieldProblem(f"is longer than {MAX_TEXT} characters")
    return text


def _as_decimal(value: Any) -> Decimal:
    if type(value) is str:
        try:
            number = parse_decimal(value)
        except ValueError:
            raise _FieldProblem("is not a decimal number") from None
        return _bounded(number)
    if isinstance(value, bool):
        raise _FieldProblem("is not a decimal number")
    if isinstance(value, float):
        raise _FieldProblem(_FLOAT)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite() or len(value.as_tuple().digits) > MAX_DIGITS:
            raise _FieldProblem("is not a finite decimal number")
        return _bounded(value)
    try:
        number = parse_decimal(_as_text(value))
    except ValueError:
        raise _FieldProblem("is not a decimal number") from None
    return _bounded(number)


def _bounded(value: Decimal) -> Decimal:
    """Refuse magnitudes no payroll has (1e-999999999 would make exact arithmetic crawl)."""
    if value and abs(value.adjusted()) > MAX_EXPONENT:
        raise _FieldProblem(f"is too large or too small (more than {MAX_EXPONENT} digits)")
    return value


def _money(value: Any) -> Decimal:
    amount = _as_decimal(value)
    if amount < 0:
        raise _FieldProblem(
            "is negative; declare the field as 'signed money' to allow it", code="R406"
        )
    return amount


def _percent(value: Any) -> Decimal:
    # Always written with a % sign, in files and in memory alike: 5 and 0.05 are ambiguous.
    text = _as_text(value)
    if not text.endswith("%"):
        raise _FieldProblem(
            "is not a percentage; write percentages with a % sign (5% rather than 0.05 or 5)"
        )
    try:
        return percent_value(text[:-1])
    except ValueError:
        raise _FieldProblem("is not a percentage") from None


def _count(value: Any) -> Decimal:
    number = _as_decimal(value)
    if number < 0 or number != number.to_integral_value():
        raise _FieldProblem("is not a whole number of zero or more")
    return number


def _date(value: Any) -> dt.date:
    if type(value) is str and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise _FieldProblem("is not a date written YYYY-MM-DD") from None
    if isinstance(value, dt.datetime):
        raise _FieldProblem("is a date and time; pass the date only")
    if isinstance(value, dt.date):
        return value
    text = _as_text(value)
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _FieldProblem("is not a date written YYYY-MM-DD") from None


def _optional_date(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _date(value)


_FLAGS: Final = {
    "yes": True, "y": True, "true": True, "1": True, "是": True,
    "no": False, "n": False, "false": False, "0": False, "否": False, "": False,
}  # fmt: skip


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _as_text(value).lower()
    if text not in _FLAGS:
        raise _FieldProblem("is not yes or no")
    return _FLAGS[text]


def _link(value: Any) -> str | None:
    """A participant field naming another participant (a manager); empty: none."""
    return _as_text(value) or None


def _required_text(value: Any) -> str:
    text = _as_text(value)
    if not text:
        raise _FieldProblem("is empty", code="R402")
    return text


def _positive(parse: Callable[[Any], Decimal]) -> Callable[[Any], Decimal]:
    def positive(value: Any) -> Decimal:
        number = parse(value)
        if number <= 0:
            raise _FieldProblem("is not greater than zero, as the field's declaration requires")
        return number

    return positive


_POSITIVE: Final[dict[str, Callable[[Any], Decimal]]] = {
    "positive_money": _positive(_as_decimal),
    "positive_number": _positive(_as_decimal),
    "positive_count": _positive(_count),
}


def _parser(decl: ast.FieldDecl) -> Callable[[Any], Any]:
    if decl.kind in _POSITIVE:
        return _POSITIVE[decl.kind]
    if decl.kind == "money":
        return _money
    if decl.kind in ("signed_money", "number"):
        return _as_decimal
    if decl.kind == "percent":
        return _percent
    if decl.kind == "count":
        return _count
    if decl.kind == "date":
        return _date
    if decl.kind == "optional_date":
        return _optional_date
    if decl.kind == "flag":
        return _flag
    if decl.kind in ("participant", "id", "credit"):
        return _required_text
    if decl.kind == "score":
        low, high = decl.low, decl.high

        def score(value: Any) -> Decimal:
            number = _as_decimal(value)
            if low is not None and high is not None and not low <= number <= high:
                raise _FieldProblem(f"is outside the score range {low}..{high}")
            return number

        return score
    return _as_text


@dataclass(frozen=True, slots=True)
class RowModel:
    """A pydantic model built from declared fields, and where each field's value lives.

    Plan names become aliases of internal attribute names (``f0``, ``f1``…), so a field
    a plan calls ``model_config`` or ``__class__`` is just data, never a Python attribute.
    """

    model: type[BaseModel]
    attributes: Mapping[str, str]
    #: (declared name, parser, required) of each field, in order
    fields: tuple[tuple[str, Callable[[Any], Any], bool], ...]

    def values(self, valid: BaseModel) -> dict[str, Any]:
        """The validated values, by the names the plan declared."""
        return {name: getattr(valid, attribute) for name, attribute in self.attributes.items()}

    def parse(self, row: Mapping[str, Any]) -> dict[str, Any] | None:
        """The row's values when every field is valid, by the same parsers the model runs;
        None otherwise, and the model then says what is wrong.  Most rows are valid, and
        this path costs a third of a full model validation."""
        out: dict[str, Any] = {}
        for name, parse, required in self.fields:
            if name in row:
                try:
                    out[name] = parse(row[name])
                except _FieldProblem:
                    return None
            elif required:
                return None
            else:
                out[name] = ""
        return out

    def required(self) -> list[str]:
        """The declared names a row must have."""
        return [
            name
            for name, attribute in self.attributes.items()
            if self.model.model_fields[attribute].is_required()
        ]


def _model(name: str, fields: Sequence[tuple[str, Callable[[Any], Any], bool]]) -> RowModel:
    definitions: dict[str, Any] = {}
    attributes: dict[str, str] = {}
    for number, (field_name, parse, required) in enumerate(fields):
        attribute = f"f{number}"
        attributes[field_name] = attribute
        default = ... if required else ""
        definitions[attribute] = (
            Annotated[Any, BeforeValidator(parse)],
            Field(default, alias=field_name),
        )
    config = ConfigDict(extra="ignore", frozen=True, populate_by_name=False)
    model = create_model(name, __config__=config, **definitions)
    return RowModel(model, attributes, tuple(fields))


def participant_model(plan: CheckedPlan) -> RowModel:
    """The model of a participant row: ``id`` (or the declared id field), ``name``, fields."""
    fields: list[tuple[str, Callable[[Any], Any], bool]] = []
    if plan.participant_id_field == "id":
        fields.append(("id", _required_text, True))
    fields.append(("name", _as_text, False))
    for d in plan.participant_fields.values():
        if d.kind == "participant":
            fields.append((d.name, _link, False))
        elif d.name in plan.group_fields:
            # Everyone the plan groups by a team must have one: an empty team is no team.
            fields.append((d.name, _required_text, True))
        else:
            fields.append((d.name, _parser(d), True))
    return _model("Participant", fields)


def record_model(kind: RecordKindInfo) -> RowModel:
    """The model of one record kind, built from its declaration."""
    return _model("Record", [(d.name, _parser(d), True) for d in kind.fields.values()])


# ---- reading rows ----------------------------------------------------------------------------
def _read_rows(source: RowSource, what: str) -> tuple[str, Iterator[tuple[int, Mapping[str, Any]]]]:
    """(name shown in messages, iterator of (row number, row)) for a file or rows in memory.
    A CSV file is read as a stream, a line at a time: a run never holds the whole file."""
    if isinstance(source, str | Path):
        path = Path(source)
        name = str(source)
        try:
            if has_header(path):
                stream = path.open(encoding="utf-8-sig", newline="")
                return name, _csv_rows(stream, name, path)
            data = path.read_bytes()
        except OSError as exc:
            raise RecordError(
                [
                    RecordProblem(
                        "R405", name, 0, None, None, f"cannot read the {what} file: {exc.strerror}"
                    )
                ]
            ) from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _not_utf8(name, data, exc) from None
        return name, _json_rows(text, name)
    return f"<{what}>", (
        (
            number,
            row if isinstance(row, Mapping) else {_SHAPE: "is not a mapping of field to value"},
        )
        for number, row in enumerate(source, 1)
    )


def _not_utf8(name: str, data: bytes, exc: UnicodeDecodeError) -> RecordError:
    line = data[: exc.start].count(b"\n") + 1
    return RecordError(
        [RecordProblem("R405", name, line, None, None, "the file is not valid UTF-8 text")]
    )


#: Key of the reason a CSV row has the wrong number of values (no header holds a NUL).
_SHAPE: Final = "\x00shape"


def well_shaped_csv_rows(
    path: Path, what: str
) -> Generator[tuple[int, Mapping[str, Any]], None, None]:
    """A CSV file's rows as the row reader reads them (Python's csv module, header names
    stripped, blank lines skipped), each with its line number; `RecordError` at the
    first row with more or fewer values than the header has columns, or when the file
    cannot be read."""
    name, rows = _read_rows(path, what)
    for number, row in rows:
        if _SHAPE in row:
            raise RecordError([RecordProblem("R401", name, number, None, None, row[_SHAPE])])
        yield number, row


def _csv_rows(
    stream: io.TextIOBase | TextIO, name: str, path: Path | None = None
) -> Iterator[tuple[int, Mapping[str, Any]]]:
    with stream:
        reader = csv.reader(stream, strict=True)
        try:
            fieldnames = next(reader, None)
            if not fieldnames:
                return
            names = [f.strip() for f in fieldnames]
            twice = sorted({f for f in names if names.count(f) > 1})
            if twice:
                reason = f"the header names the column '{twice[0]}' twice"
                raise RecordError([RecordProblem("R405", name, 1, None, None, reason)])
            columns = len(names)
            for row in reader:
                if not row:
                    continue  # a blank line, as DictReader skipped them
                values: dict[str, Any] = dict(zip(names, row, strict=False))  # checked below
                if len(row) != columns:
                    if len(row) < columns:
                        values.update(dict.fromkeys(names[len(row) :]))
                    values[_SHAPE] = (
                        f"the row has {len(row)} values but the header has {columns} columns "
                        "(put a value that holds a comma in double quotes)"
                    )
                yield reader.line_num, values
        except csv.Error as exc:
            raise RecordError(
                [RecordProblem("R405", name, reader.line_num, None, None, f"not valid CSV: {exc}")]
            ) from None
        except UnicodeDecodeError as exc:
            # Where in the file: read it again as bytes, only on this rare path.
            if path is None:
                raise
            data = path.read_bytes()
            raise _not_utf8(name, data, _first_bad(data, exc)) from None


def _first_bad(data: bytes, exc: UnicodeDecodeError) -> UnicodeDecodeError:
    """The decoding error of the whole file (a stream's error is relative to its chunk)."""
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as whole:
        return whole
    return exc


class _DuplicateKeyError(ValueError):
    """A JSON object with the same key twice (json keeps the last one silently)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise _DuplicateKeyError(key)
        data[key] = value
    return data


def _json_rows(text: str, name: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    try:
        data = json.loads(
            text, parse_float=Decimal, parse_int=Decimal, object_pairs_hook=_unique_keys
        )
    except _DuplicateKeyError as exc:
        reason = f"an object names the field '{exc.args[0]}' twice"
        raise RecordError([RecordProblem("R405", name, 0, None, None, reason)]) from None
    except (json.JSONDecodeError, RecursionError) as exc:
        line = getattr(exc, "lineno", 0)
        raise RecordError(
            [RecordProblem("R405", name, line, None, None, "not valid JSON")]
        ) from None
    if isinstance(data, dict) and len(data) == 1:
        data = next(iter(data.values()))
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise RecordError(
            [
                RecordProblem(
                    "R405", name, 0, None, None, "expected a JSON list of objects, one per row"
                )
            ]
        )
    return ((number, row) for number, row in enumerate(data, 1))


def validate_row(
    model: RowModel, source: str, number: int, row: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, list[RecordProblem]]:
    if _SHAPE in row:
        return None, [RecordProblem("R401", source, number, None, None, row[_SHAPE])]
    values = model.parse(row)
    if values is not None:
        return values, []
    try:
        return model.values(model.model.model_validate(row)), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field_name = str(error["loc"][0]) if error["loc"] else None
            raw = row.get(field_name) if field_name is not None else None
            cause = (error.get("ctx") or {}).get("error")
            if error["type"] == "missing":
                code, reason, shown = "R402", "is missing", None
            elif isinstance(cause, _FieldProblem):
                code, reason, shown = cause.code, str(cause), _show(raw)
            else:
                code, reason, shown = "R401", "is not valid", _show(raw)
            if code == "R402" and raw is not None and shown == "":
                shown = None
            problems.append(RecordProblem(code, source, number, field_name, shown, reason))
        return None, problems


def _show(value: Any) -> str:
    return "" if value is None else str(value)


def has_header(source: RowSource) -> bool:
    """Whether the rows come from a CSV file, whose header gives every row's columns (a
    JSON object or a row in memory has its own keys)."""
    return isinstance(source, str | Path) and Path(source).suffix.lower() != ".json"


def _with_columns(
    rows: Iterator[tuple[int, Mapping[str, Any]]],
    required: Sequence[str],
    source: str,
    header: bool,
) -> tuple[Iterator[tuple[int, Mapping[str, Any]]], list[RecordProblem]]:
    """Check a CSV file's columns once: a missing column is one problem of the whole file,
    not one per row.  Rows without a header are checked one by one."""
    if not header:
        return rows, []
    first = next(rows, None)
    if first is None:
        return iter(()), []
    columns = [c for c in first[1] if c != _SHAPE]
    problems = []
    for name in required:
        if name not in first[1]:
            close = difflib.get_close_matches(name, columns, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(
                RecordProblem(
                    "R402",
                    source,
                    first[0],
                    name,
                    None,
                    f"is not a column of this file{hint}; its columns are: " + ", ".join(columns),
                    whole_file=True,
                )
            )
    return itertools.chain([first], rows), problems


def load_inputs(
    plan: CheckedPlan,
    participants: RowSource,
    records: Mapping[str, RowSource],
    *,
    progress: Progress | None = None,
) -> Inputs:
    """Read and validate participants and records for ``plan``, collecting every problem.

    Args:
        plan: the checked plan whose declarations the rows must fit.
        participants: a CSV or JSON file, or rows in memory (mappings of field to value).
        records: for each record kind the plan declares, a file or rows in memory.
        progress: told how reading advances (see `incentive.engine.runtime.Progress`).

    Returns:
        The valid rows and every problem; nothing is dropped without a problem listed.

    Raises:
        RecordError: only when a file cannot be read at all, the participants file lacks a
            column the plan needs, or a record kind is unknown or not given.  A records
            file lacking a column is one problem, of the whole file (``whole_file``).
    """
    return load_population({"": plan}, participants, records, progress=progress)[""]


def load_population(
    plans: Mapping[str, CheckedPlan],
    participants: RowSource,
    records: Mapping[str, RowSource],
    *,
    plan_field: str = "plan",
    progress: Progress | None = None,
) -> dict[str, Inputs]:
    """Read one population for several plans: each participant row names its plan in the
    column ``plan_field`` (not needed with a single plan); each plan reads the record
    kinds it declares.  Links between participants (a manager field) are checked across
    the whole population: an unknown participant or a cycle rejects the rows involved.

    Returns:
        Each plan's inputs, by the names ``plans`` gives.

    Raises:
        RecordError: as `load_inputs`, and when the plans name participants by different
            id columns.
    """
    with paused_gc():
        return _load_population(plans, participants, records, plan_field, progress)


def _load_population(
    plans: Mapping[str, CheckedPlan],
    participants: RowSource,
    records: Mapping[str, RowSource],
    plan_field: str,
    progress: Progress | None,
) -> dict[str, Inputs]:
    declared = {kind for plan in plans.values() for kind in plan.record_kinds}
    unknown = sorted(set(records) - declared)
    if unknown:
        kinds = ", ".join(sorted(declared)) or "none"
        raise RecordError(
            [
                RecordProblem(
                    "R405",
                    f"<{unknown[0]}>",
                    0,
                    None,
                    None,
                    f"the plan declares no record kind '{unknown[0]}' (it declares: {kinds})",
                )
            ]
        )
    missing_kinds = sorted(declared - set(records))
    if missing_kinds:
        # A kind with no input would silently count as zero: say so instead.
        raise RecordError(
            [
                RecordProblem(
                    "R405",
                    f"<{kind}>",
                    0,
                    None,
                    None,
                    f"no '{kind}' records were given, but the plan reads them "
                    "(give a file, or an empty one if there are none)",
                )
                for kind in missing_kinds
            ]
        )
    id_fields = {plan.participant_id_field for plan in plans.values()}
    if len(id_fields) > 1:
        raise RecordError(
            [
                RecordProblem(
                    "R405",
                    "<participants>",
                    0,
                    None,
                    None,
                    "the plans name participants by different id fields: "
                    + ", ".join(sorted(id_fields)),
                )
            ]
        )
    id_field = id_fields.pop()
    source, rows = _read_rows(participants, "participants")
    all_rows = list(rows)
    problems: list[RecordProblem] = []
    assigned: dict[str, list[tuple[int, Mapping[str, Any]]]] = {name: [] for name in plans}
    rejected_ids: set[str] = set()
    links = sorted({link for plan in plans.values() for link in plan.links})
    ids = {_raw(row.get(id_field)) for _, row in all_rows} - {""}
    first_rows: dict[str, int] = {}
    for number, row in all_rows:
        pid = _raw(row.get(id_field))
        if len(plans) > 1 and pid in first_rows:
            # One person, one plan: within a plan its own reading says so (R407).
            problems.append(
                RecordProblem(
                    "R407",
                    source,
                    number,
                    id_field,
                    pid,
                    f"is already the id of the participant on row {first_rows[pid]}",
                )
            )
            continue
        first_rows.setdefault(pid, number)
        if len(plans) == 1:
            name = next(iter(plans))
        else:
            name = _raw(row.get(plan_field))
            if name not in plans:
                names = ", ".join(sorted(plans))
                reason = (
                    f"is empty; each participant needs one of the plans: {names}"
                    if name == ""
                    else f"is not one of the plans: {names}"
                )
                problems.append(
                    RecordProblem("R413", source, number, plan_field, name or None, reason)
                )
                rejected_ids.add(pid)
                continue
        bad_link = next(
            (
                (link, _raw(row.get(link)))
                for link in links
                if _raw(row.get(link)) and _raw(row.get(link)) not in ids
            ),
            None,
        )
        if bad_link is not None:
            problems.append(
                RecordProblem(
                    "R414",
                    source,
                    number,
                    bad_link[0],
                    bad_link[1],
                    "is not a participant in the participants file",
                )
            )
            rejected_ids.add(pid)
            continue
        assigned[name].append((number, row))
    for link in links:
        in_cycle: dict[str, str] = {}
        for cycle in _cycles(all_rows, id_field, link, rejected_ids):
            shown = cycle if len(cycle) <= 10 else [*cycle[:10], "…"]
            path = " → ".join([*shown, cycle[0]])
            if len(cycle) > 10:
                path += f" ({len(cycle)} people)"
            in_cycle.update(dict.fromkeys(cycle, path))
        for number, row in all_rows:
            pid = _raw(row.get(id_field))
            path = in_cycle.get(pid, "")
            if path:
                problems.append(
                    RecordProblem(
                        "R414",
                        source,
                        number,
                        link,
                        _raw(row.get(link)),
                        f"makes a cycle in the reporting tree: {path}",
                    )
                )
                rejected_ids.add(pid)
    for name in plans:
        assigned[name] = [
            (n, row) for n, row in assigned[name] if _raw(row.get(id_field)) not in rejected_ids
        ]
    known = ids - rejected_ids
    out = {}
    for name, plan in plans.items():
        given = {kind: records[kind] for kind in plan.record_kinds}
        out[name] = _load(
            plan,
            source,
            has_header(participants),
            assigned[name],
            given,
            known,
            rejected_ids,
            links,
            progress,
        )
    # A record one plan rejected is rejected for all: no plan pays on what another refused.
    refused = {
        (kind, label): (owner, reason)
        for inputs in out.values()
        for kind, label, owner, reason in inputs.rejected_records
    }
    if refused and len(out) > 1:
        # A record whose row of credit another plan refused is refused too: paying the
        # rows left would pay the wrong people, or its owner in full.
        for inputs in out.values():
            for (target, record_id), shares in inputs.credits.items():
                lost = [s for s in shares if (s.kind, s.row_id) in refused]
                if lost and (target, record_id) not in refused:
                    record = next(r for r in inputs.records[target] if r.id == record_id)
                    reason = (
                        f"{record.source}:{record.row}: error[R410]: {target} {record_id} is "
                        f"rejected: rows of its credit (for "
                        f"{', '.join(s.participant_id for s in lost)}) were rejected"
                    )
                    refused[(target, record_id)] = (record.participant_id, reason)
        for name, inputs in out.items():
            own = {(kind, label) for kind, label, _, _ in inputs.rejected_records}
            # What another plan refused, this one lists too (each plan reconciles every
            # row it read), and pays no share a refused row of credit gave.
            elsewhere = [
                (kind, label, owner, reason)
                for (kind, label), (owner, reason) in refused.items()
                if (kind, label) not in own and kind in inputs.records
            ]
            out[name] = Inputs(
                inputs.participants,
                {
                    kind: tuple(r for r in rows if (kind, r.id) not in refused)
                    for kind, rows in inputs.records.items()
                },
                inputs.problems,
                (*inputs.rejected_records, *elsewhere),
                {key: shares for key, shares in inputs.credits.items() if key not in refused},
            )
    if problems:
        first = next(iter(out))
        inputs = out[first]
        out[first] = Inputs(
            inputs.participants,
            inputs.records,
            (*problems, *inputs.problems),
            inputs.rejected_records,
            inputs.credits,
        )
    return out


def _raw(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _cycles(
    rows: Sequence[tuple[int, Mapping[str, Any]]], id_field: str, link: str, skip: set[str]
) -> list[list[str]]:
    """Every cycle the link field draws among the rows, each once, from its smallest id."""
    parent = {
        _raw(row.get(id_field)): _raw(row.get(link))
        for _, row in rows
        if _raw(row.get(id_field)) not in skip
    }
    cycles: list[list[str]] = []
    done: set[str] = set()
    for start in sorted(parent):
        path: list[str] = []
        on_path: set[str] = set()
        node = start
        while node and node in parent and node not in done and node not in on_path:
            path.append(node)
            on_path.add(node)
            node = parent[node]
        if node in on_path:
            cycle = path[path.index(node) :]
            turn = cycle.index(min(cycle))
            cycles.append(cycle[turn:] + cycle[:turn])
        done |= on_path
    return cycles


def _load(
    plan: CheckedPlan,
    source: str,
    header: bool,
    participant_rows: Sequence[tuple[int, Mapping[str, Any]]],
    records: Mapping[str, RowSource],
    known: set[str],
    rejected_people: set[str],
    links: Sequence[str] = (),
    progress: Progress | None = None,
) -> Inputs:
    problems: list[RecordProblem] = []
    rejected: list[tuple[str, str, str | None, str]] = []
    people: dict[str, Participant] = {}
    rejected_people = set(rejected_people)
    model = participant_model(plan)
    rows, missing = _with_columns(iter(participant_rows), model.required(), source, header)
    if missing:
        # Without a column the plan needs nobody can be paid: say so once, not for every
        # row and every record of theirs.
        raise RecordError(missing)
    for number, row in rows:
        valid, found = validate_row(model, source, number, row)
        problems += found
        if valid is None:
            raw_id = row.get(plan.participant_id_field)
            if raw_id not in (None, ""):
                rejected_people.add(str(raw_id).strip())
            continue
        row_values = valid
        pid = row_values[plan.participant_id_field]
        if pid in people:
            first = people[pid]
            problems.append(
                RecordProblem(
                    "R407",
                    source,
                    number,
                    plan.participant_id_field,
                    pid,
                    f"is already the id of the participant on row {first.row}",
                )
            )
            continue
        values = {name: row_values[name] for name in plan.participant_fields}
        late = _employment_problem(plan, values, source, number)
        if late is not None:
            problems.append(late)
            rejected_people.add(pid)
            continue
        # Every plan's link fields: the reporting tree spans the plans.
        drawn = {link: _raw(row.get(link)) or None for link in links} if links else _NO_LINKS
        people[pid] = Participant(pid, row_values["name"] or pid, values, source, number, drawn)
    known = known - rejected_people

    by_kind: dict[str, tuple[Record, ...]] = {}
    sources: dict[str, str] = {}
    credit_rows: dict[str, list[Record]] = {}
    #: rows of credit rejected above, by the id of the record they credit: its credit is
    #: then incomplete
    lost: dict[str, list[str]] = {}
    period = (plan.period_start, plan.period_end)
    for kind_name, kind in plan.record_kinds.items():
        kept: dict[str, Record] = {}
        within = [name for name, decl in kind.fields.items() if decl.within_period]
        converted = [
            (name, decl.conversion)
            for name, decl in kind.fields.items()
            if decl.conversion is not None
        ]
        dated = plan.dated.get(kind_name)
        credit_field = next((n for n, d in kind.fields.items() if d.kind == "credit"), None)
        model = record_model(kind)
        source_name, rows = _read_rows(records[kind_name], f"{kind_name} records")
        sources[kind_name] = source_name
        rows, missing = _with_columns(
            rows, model.required(), source_name, has_header(records[kind_name])
        )
        problems += missing
        for number, row in rows:
            if progress is not None and number % ROWS_PER_REPORT == 0:
                progress(f"reading {kind_name}", number, None)
            raw_id = row.get(kind.id_field) if kind.id_field else None
            label = str(raw_id) if raw_id not in (None, "") else f"row {number}"
            # Whom a row that cannot be read names, so their statement can list it.
            named = _raw(row.get(kind.participant_field)) or None
            if missing:
                rejected.append((kind_name, label, named, missing[0].render()))
                continue
            valid, found = validate_row(model, source_name, number, row)
            if valid is None:
                problems += found
                rejected.append((kind_name, label, named, found[0].render()))
                if credit_field is not None and _raw(row.get(credit_field)):
                    lost.setdefault(_raw(row.get(credit_field)), []).append(named or label)
                continue
            values = valid
            record_id = values[kind.id_field] if kind.id_field else label
            owner = values[kind.participant_field]
            problem = None
            conversions: dict[str, Conversion] | None = None
            if record_id in kept:
                problem = RecordProblem(
                    "R403",
                    source_name,
                    number,
                    kind.id_field,
                    record_id,
                    f"is already the id of the record on row {kept[record_id].row}",
                )
            elif dated is not None and (backwards := _backwards(values, *dated)) is not None:
                problem = RecordProblem(
                    "R408", source_name, number, dated[1], values[dated[1]].isoformat(), backwards
                )
            elif (outside := _outside(values, within, period)) is not None:
                problem = RecordProblem(
                    "R409",
                    source_name,
                    number,
                    outside,
                    values[outside].isoformat(),
                    f"is outside the plan period {period[0].isoformat()} to "
                    f"{period[1].isoformat()}, and the plan takes only records inside it",
                )
            elif owner not in known:
                reason = (
                    "belongs to a participant whose row was rejected"
                    if owner in rejected_people
                    else "is not a participant in the participants file"
                )
                problem = RecordProblem(
                    "R404", source_name, number, kind.participant_field, owner, reason
                )
            elif converted:
                conversions, problem = _convert(plan, values, converted, source_name, number)
            if problem is not None:
                problems.append(problem)
                rejected.append((kind_name, record_id, owner, problem.render()))
                if credit_field is not None:
                    lost.setdefault(values[credit_field], []).append(owner)
                continue
            kept[record_id] = Record(
                kind_name, record_id, owner, values, source_name, number, conversions
            )
        by_kind[kind_name] = tuple(kept.values())
        if kind_name in plan.credit_kinds:
            credit_rows[kind_name] = list(kept.values())
    credits = _credits(plan, by_kind, credit_rows, sources, problems, rejected, lost)
    return Inputs(tuple(people.values()), by_kind, tuple(problems), tuple(rejected), credits)


def _percent_text(share: Decimal | Fraction) -> str:
    """A share as a percentage, as a finance team writes it: 0.9 → 90%, 0.3333 → 33.33%
    (a sum of shares is exact: it ends within the places its shares have)."""
    if isinstance(share, Fraction):
        twos = fives = 0
        rest = share.denominator
        while rest % 2 == 0:
            rest, twos = rest // 2, twos + 1
        while rest % 5 == 0:
            rest, fives = rest // 5, fives + 1
        places = max(twos, fives)  # a sum of decimals: its denominator divides 10**places
        share = shift(Decimal(share.numerator * (10**places // share.denominator)), -places)
    text = f"{shift(share, 2):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + "%"


def _convert(
    plan: CheckedPlan,
    values: dict[str, Any],
    converted: Sequence[tuple[str, tuple[str, str] | None]],
    source: str,
    number: int,
) -> tuple[dict[str, Conversion] | None, RecordProblem | None]:
    """Amounts in another currency, converted exactly at the rate of their date."""
    table = plan.exchange
    assert table is not None  # checked: converted fields need a table
    out: dict[str, Conversion] = {}
    for name, conversion in converted:
        assert conversion is not None
        currency_field, day_field = conversion
        code = str(values[currency_field]).strip().upper()
        if code in ("", plan.currency):
            continue
        day: dt.date = values[day_field]
        row = next(
            (
                (r, rate)
                for r in table.rows
                for c, rate, _ in r.rates
                if c == code and r.start <= day <= r.end
            ),
            None,
        )
        if row is None:
            return None, RecordProblem(
                "R412",
                source,
                number,
                currency_field,
                values[currency_field],
                f"has no exchange rate on {day.isoformat()} ({day_field}) in the plan's "
                "exchange rates"
                + (
                    ""
                    if plan.period_start <= day <= plan.period_end
                    else "; the date is outside the plan period: give its rate, or leave "
                    "the record out of the file"
                ),
            )
        rate_row, rate = row
        original = values[name]
        try:
            values[name] = mul(original, rate)
        except NumberLimitError:
            reason = f"is too large to convert at {code} {rate}"
            return None, RecordProblem("R401", source, number, name, str(original), reason)
        out[name] = Conversion(
            original, code, rate, rate_row.start, rate_row.end, rate_row.span.line
        )
    return out or None, None


def _credits(
    plan: CheckedPlan,
    by_kind: dict[str, tuple[Record, ...]],
    credit_rows: Mapping[str, list[Record]],
    sources: Mapping[str, str],
    problems: list[RecordProblem],
    rejected: list[tuple[str, str, str | None, str]],
    lost: Mapping[str, list[str]],
) -> dict[tuple[str, str], tuple[CreditShare, ...]]:
    """Rows of credit, checked: each names a record that was read, and the shares of a
    record's rows that are not overlays add up to exactly 100%.  A record whose shares
    do not is rejected with its rows: paying it would pay the wrong people."""
    out: dict[tuple[str, str], tuple[CreditShare, ...]] = {}
    for credit_kind, rows in credit_rows.items():
        target = plan.credit_kinds[credit_kind]
        info = plan.record_kinds[credit_kind]
        fields = info.fields
        target_field = next(n for n, d in fields.items() if d.kind == "credit")
        share_field = next(n for n, d in fields.items() if d.kind == "percent")
        flag_field = next((n for n, d in fields.items() if d.kind == "flag"), None)
        records = {record.id: record for record in by_kind[target]}
        dropped: set[str] = set()

        def refuse(
            row: Record,
            field: str | None,
            value: str | None,
            reason: str,
            code: str = "R410",
            kind: str = credit_kind,
            dropped: set[str] = dropped,
        ) -> None:
            problem = RecordProblem(code, row.source, row.row, field, value, reason)
            problems.append(problem)
            rejected.append((kind, row.id, row.participant_id, problem.render()))
            dropped.add(row.id)

        refused = {label for kind, label, _, _ in rejected if kind == target}
        grouped: dict[str, list[Record]] = {}
        for row in rows:
            record_id = row.values[target_field]
            if record_id not in records:
                reason = (
                    f"names a {target} that was rejected (see {sources[target]})"
                    if record_id in refused
                    else f"is not a {target} in {sources[target]}"
                )
                refuse(row, target_field, record_id, reason, "R411")
                continue
            grouped.setdefault(record_id, []).append(row)
        # A record whose every row of credit was rejected is not credited to its owner
        # instead: the rows said it was to be shared.
        bad: dict[str, str] = {
            record_id: f"rows of its credit (for {', '.join(owners)}) were rejected"
            for record_id, owners in lost.items()
            if record_id in records
        }
        for record_id, group in grouped.items():
            if record_id in bad:
                # Its credit is incomplete: paying the rows that are left would pay the
                # wrong people, or the owner in full.
                for row in group:
                    refuse(row, None, None, f"credits {target} {record_id}, which is rejected")
                continue
            split = [r for r in group if not (flag_field and r.values[flag_field])]
            outside = [r for r in group if not 0 < r.values[share_field] <= 1]
            if outside:
                for row in group:
                    if row in outside:
                        share = _percent_text(row.values[share_field])
                        reason = "is not a share: a row credits more than 0% and at most 100%"
                        refuse(row, share_field, share, reason)
                    else:
                        refuse(row, None, None, f"credits {target} {record_id}, which is rejected")
                bad[record_id] = "a share of it is not between 0% and 100%"
                continue
            total = sum((to_fraction(r.values[share_field]) for r in split), Fraction(0))
            if split and total != 1:
                why = f"add up to {_percent_text(total)}, not 100%"
                for row in group:
                    share = _percent_text(row.values[share_field])
                    reason = (
                        f"is an overlay on {target} {record_id}, which is rejected"
                        if row not in split
                        else f"is one of the shares of {target} {record_id}, which {why}"
                    )
                    refuse(row, share_field, share, reason)
                bad[record_id] = "its credit shares do not add up to 100%"
                continue
            out[(target, record_id)] = tuple(
                CreditShare(
                    r.participant_id,
                    r.values[share_field],
                    bool(flag_field and r.values[flag_field]),
                    r.id,
                    credit_kind,
                )
                for r in group
            )
        if bad:
            for record_id in sorted(bad):
                record = records[record_id]
                problem = RecordProblem(
                    "R410",
                    sources[target],
                    record.row,
                    None,
                    None,
                    f"{target} {record_id} is rejected: {bad[record_id]}",
                )
                problems.append(problem)
                rejected.append((target, record_id, record.participant_id, problem.render()))
            by_kind[target] = tuple(r for r in by_kind[target] if r.id not in bad)
        if dropped:
            by_kind[credit_kind] = tuple(r for r in by_kind[credit_kind] if r.id not in dropped)
    return out


def _outside(
    values: Mapping[str, Any], fields: Sequence[str], period: tuple[dt.date, dt.date]
) -> str | None:
    """The first of ``fields`` whose date lies outside ``period``, if any."""
    for name in fields:
        if not period[0] <= values[name] <= period[1]:
            return name
    return None


def _backwards(
    values: Mapping[str, Any], first: str, last: str, day: str = "the row's first day"
) -> str | None:
    """Why a range's last day (empty: open) comes before its first, if it does."""
    if values[last] is None or values[last] >= values[first]:
        return None
    return f"is before {day} ({first} {values[first].isoformat()})"


def _employment_problem(
    plan: CheckedPlan, values: Mapping[str, Any], source: str, row: int
) -> RecordProblem | None:
    employment = plan.employment
    if employment is None or employment.end_field is None:
        return None
    first, last = employment.start_field, employment.end_field
    reason = _backwards(values, first, last, "the first day of employment")
    if reason is None:
        return None
    return RecordProblem("R408", source, row, last, values[last].isoformat(), reason)
