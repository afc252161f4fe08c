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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

from incentive.dsl import ast
from incentive.dsl.check import CheckedPlan, RecordKindInfo
from incentive.engine.runtime import paused_gc
from incentive.errors import RecordError, RecordProblem
from incentive.money import MAX_DIGITS, MAX_EXPONENT, parse_decimal, percent_value

RowSource = str | Path | Sequence[Mapping[str, Any]]

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


@dataclass(frozen=True, slots=True)
class Record:
    """A validated record: its kind, id, the participant it credits and its values."""

    kind: str
    id: str
    participant_id: str
    values: Mapping[str, Any]
    source: str
    row: int


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything read for a run: good rows, and every problem found in the others."""

    participants: tuple[Participant, ...]
    records: Mapping[str, tuple[Record, ...]]
    problems: tuple[RecordProblem, ...]
    rejected_records: tuple[tuple[str, str, str | None, str], ...]
    """(kind, record id or 'row N', participant id, reason) of each rejected record."""


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
    if decl.kind in ("participant", "id"):
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
    fields += [(d.name, _parser(d), True) for d in plan.participant_fields.values()]
    return _model("Participant", fields)


def record_model(kind: RecordKindInfo) -> RowModel:
    """The model of one record kind, built from its declaration."""
    return _model("Record", [(d.name, _parser(d), True) for d in kind.fields.values()])


# ---- reading rows ----------------------------------------------------------------------------
def _read_rows(source: RowSource, what: str) -> tuple[str, Iterator[tuple[int, Mapping[str, Any]]]]:
    """(name shown in messages, iterator of (row number, row)) for a file or rows in memory."""
    if isinstance(source, str | Path):
        path = Path(source)
        name = str(source)
        try:
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
            line = data[: exc.start].count(b"\n") + 1
            raise RecordError(
                [RecordProblem("R405", name, line, None, None, "the file is not valid UTF-8 text")]
            ) from None
        if path.suffix.lower() == ".json":
            return name, _json_rows(text, name)
        return name, _csv_rows(text, name)
    return f"<{what}>", (
        (
            number,
            row if isinstance(row, Mapping) else {_SHAPE: "is not a mapping of field to value"},
        )
        for number, row in enumerate(source, 1)
    )


#: Key of the reason a CSV row has the wrong number of values (no header holds a NUL).
_SHAPE: Final = "\x00shape"


def _csv_rows(text: str, name: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        fieldnames = reader.fieldnames
        if not fieldnames:
            return
        names = [f.strip() for f in fieldnames]
        twice = sorted({f for f in names if names.count(f) > 1})
        if twice:
            reason = f"the header names the column '{twice[0]}' twice"
            raise RecordError([RecordProblem("R405", name, 1, None, None, reason)])
        columns = len(fieldnames)
        for row in reader:
            extra = row.pop(None, None)  # DictReader keeps extra values under None
            values = {k.strip(): v for k, v in row.items()}
            missing = sum(1 for v in values.values() if v is None)
            if extra or missing:
                count = columns + len(extra or ()) - missing
                values[_SHAPE] = (
                    f"the row has {count} values but the header has {columns} columns "
                    "(put a value that holds a comma in double quotes)"
                )
            yield reader.line_num, values
    except csv.Error as exc:
        raise RecordError(
            [RecordProblem("R405", name, reader.line_num, None, None, f"not valid CSV: {exc}")]
        ) from None


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


def _validate(
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


def _with_columns(
    rows: Iterator[tuple[int, Mapping[str, Any]]], required: Sequence[str], source: str
) -> tuple[Iterator[tuple[int, Mapping[str, Any]]], list[RecordProblem]]:
    """Check the first row's columns once: a missing column is one problem, not one per row."""
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
                )
            )
    return itertools.chain([first], rows), problems


def load_inputs(
    plan: CheckedPlan,
    participants: RowSource,
    records: Mapping[str, RowSource],
) -> Inputs:
    """Read and validate participants and records for ``plan``, collecting every problem.

    Args:
        plan: the checked plan whose declarations the rows must fit.
        participants: a CSV or JSON file, or rows in memory (mappings of field to value).
        records: for each record kind the plan declares, a file or rows in memory.

    Returns:
        The valid rows and every problem; nothing is dropped without a problem listed.

    Raises:
        RecordError: only when a file cannot be read at all, or a record kind is unknown
            or not given.
    """
    with paused_gc():
        return _load(plan, participants, records)


def _load(plan: CheckedPlan, participants: RowSource, records: Mapping[str, RowSource]) -> Inputs:
    problems: list[RecordProblem] = []
    rejected: list[tuple[str, str, str | None, str]] = []
    unknown = sorted(set(records) - set(plan.record_kinds))
    if unknown:
        kinds = ", ".join(sorted(plan.record_kinds)) or "none"
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
    missing_kinds = [kind for kind in plan.record_kinds if kind not in records]
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
    people: dict[str, Participant] = {}
    rejected_people: set[str] = set()
    model = participant_model(plan)
    source, rows = _read_rows(participants, "participants")
    rows, missing = _with_columns(rows, model.required(), source)
    problems += missing
    for number, row in rows:
        valid, found = _validate(model, source, number, row)
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
        people[pid] = Participant(pid, row_values["name"] or pid, values, source, number)

    by_kind: dict[str, tuple[Record, ...]] = {}
    period = (plan.period_start, plan.period_end)
    for kind_name, kind in plan.record_kinds.items():
        kept: dict[str, Record] = {}
        within = [name for name, decl in kind.fields.items() if decl.within_period]
        dated = plan.dated.get(kind_name)
        model = record_model(kind)
        source, rows = _read_rows(records[kind_name], f"{kind_name} records")
        rows, missing = _with_columns(rows, model.required(), source)
        problems += missing
        for number, row in rows:
            raw_id = row.get(kind.id_field)
            label = str(raw_id) if raw_id not in (None, "") else f"row {number}"
            if missing:
                rejected.append((kind_name, label, None, missing[0].render()))
                continue
            valid, found = _validate(model, source, number, row)
            if valid is None:
                problems += found
                rejected.append((kind_name, label, None, found[0].render()))
                continue
            values = valid
            record_id = values[kind.id_field]
            owner = values[kind.participant_field]
            problem = None
            if record_id in kept:
                problem = RecordProblem(
                    "R403",
                    source,
                    number,
                    kind.id_field,
                    record_id,
                    f"is already the id of the record on row {kept[record_id].row}",
                )
            elif dated is not None and (backwards := _backwards(values, *dated)) is not None:
                problem = RecordProblem(
                    "R408", source, number, dated[1], values[dated[1]].isoformat(), backwards
                )
            elif (outside := _outside(values, within, period)) is not None:
                problem = RecordProblem(
                    "R409",
                    source,
                    number,
                    outside,
                    values[outside].isoformat(),
                    f"is outside the plan period {period[0].isoformat()} to "
                    f"{period[1].isoformat()}, and the plan takes only records inside it",
                )
            elif owner not in people:
                reason = (
                    "belongs to a participant whose row was rejected"
                    if owner in rejected_people
                    else "is not a participant in the participants file"
                )
                problem = RecordProblem(
                    "R404", source, number, kind.participant_field, owner, reason
                )
            if problem is not None:
                problems.append(problem)
                rejected.append((kind_name, record_id, owner, problem.render()))
                continue
            kept[record_id] = Record(kind_name, record_id, owner, values, source, number)
        by_kind[kind_name] = tuple(kept.values())
    return Inputs(tuple(people.values()), by_kind, tuple(problems), tuple(rejected))


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
