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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, create_model

from incentive.dsl import ast
from incentive.dsl.check import CheckedPlan, RecordKindInfo
from incentive.errors import RecordError, RecordProblem
from incentive.money import MAX_DIGITS, parse_decimal, percent_value

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

    def raise_for_problems(self) -> None:
        """Raise a `RecordError` listing every problem, if there is any."""
        if self.problems:
            raise RecordError(self.problems)


class _FieldProblem(ValueError):
    """A value that does not fit its field; ``code`` picks the R4xx code."""

    def __init__(self, reason: str, code: str = "R401") -> None:
        self.code = code
        super().__init__(reason)


# ---- value parsers, one per field kind ---------------------------------------------------
def _as_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        raise _FieldProblem("is not a text")
    if isinstance(value, float):
        raise _FieldProblem("is a floating-point number; pass it as text")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise _FieldProblem(f"is longer than {MAX_TEXT} characters")
    return text


def _as_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _FieldProblem("is not a decimal number")
    if isinstance(value, float):
        raise _FieldProblem(
            "is a floating-point number, which is not exact; pass amounts as text or Decimal"
        )
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite() or len(value.as_tuple().digits) > MAX_DIGITS:
            raise _FieldProblem("is not a finite decimal number")
        return value
    try:
        return parse_decimal(_as_text(value))
    except ValueError:
        raise _FieldProblem("is not a decimal number") from None


def _money(value: Any) -> Decimal:
    amount = _as_decimal(value)
    if amount < 0:
        raise _FieldProblem(
            "is negative; declare the field as 'signed money' to allow it", code="R406"
        )
    return amount


def _percent(value: Any) -> Decimal:
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value)
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


def _required_text(value: Any) -> str:
    text = _as_text(value)
    if not text:
        raise _FieldProblem("is empty", code="R402")
    return text


def _parser(decl: ast.FieldDecl) -> Callable[[Any], Any]:
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


def _model(name: str, fields: Iterable[ast.FieldDecl], extra: Mapping[str, Any]) -> type[BaseModel]:
    definitions: dict[str, Any] = dict(extra)
    for decl in fields:
        definitions[decl.name] = (Annotated[Any, BeforeValidator(_parser(decl))], ...)
    config = ConfigDict(extra="ignore", frozen=True, arbitrary_types_allowed=True)
    return create_model(name, __config__=config, **definitions)


def participant_model(plan: CheckedPlan) -> type[BaseModel]:
    """The pydantic model of a participant row, built from ``participant fields``."""
    extra: dict[str, Any] = {"name": (Annotated[str, BeforeValidator(_as_text)], "")}
    if plan.participant_id_field == "id":
        extra["id"] = (Annotated[str, BeforeValidator(_required_text)], ...)
    return _model("Participant", plan.participant_fields.values(), extra)


def record_model(kind: RecordKindInfo) -> type[BaseModel]:
    """The pydantic model of one record kind, built from its declaration."""
    return _model(kind.name.title(), kind.fields.values(), {})


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
    return f"<{what}>", ((number, row) for number, row in enumerate(source, 1))


#: Key of the reason a CSV row has the wrong number of values (no header holds a NUL).
_SHAPE: Final = "\x00shape"


def _csv_rows(text: str, name: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        fieldnames = reader.fieldnames
        if not fieldnames:
            return
        columns = len(fieldnames)
        for row in reader:
            extra = row.pop(None, None)  # DictReader keeps extra values under None
            values = {k.strip(): v for k, v in row.items()}
            missing = sum(1 for v in values.values() if v is None)
            if extra or missing:
                count = columns + len(extra or ()) - missing
                values[_SHAPE] = f"the row has {count} values but the header has {columns} columns"
            yield reader.line_num, values
    except csv.Error as exc:
        raise RecordError(
            [RecordProblem("R405", name, reader.line_num, None, None, f"not valid CSV: {exc}")]
        ) from None


def _json_rows(text: str, name: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    try:
        data = json.loads(text, parse_float=Decimal, parse_int=Decimal)
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
    model: type[BaseModel], source: str, number: int, row: Mapping[str, Any]
) -> tuple[BaseModel | None, list[RecordProblem]]:
    if _SHAPE in row:
        return None, [RecordProblem("R401", source, number, None, None, row[_SHAPE])]
    try:
        return model.model_validate(row), []
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


def _required(model: type[BaseModel]) -> list[str]:
    return [name for name, info in model.model_fields.items() if info.is_required()]


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
        RecordError: only when a file cannot be read at all, or a record kind is unknown.
    """
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
    people: dict[str, Participant] = {}
    rejected_people: set[str] = set()
    model = participant_model(plan)
    source, rows = _read_rows(participants, "participants")
    rows, missing = _with_columns(rows, _required(model), source)
    problems += missing
    for number, row in rows:
        valid, found = _validate(model, source, number, row)
        problems += found
        if valid is None:
            raw_id = row.get(plan.participant_id_field)
            if raw_id not in (None, ""):
                rejected_people.add(str(raw_id).strip())
            continue
        pid = getattr(valid, plan.participant_id_field)
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
        values = {name: getattr(valid, name) for name in plan.participant_fields}
        people[pid] = Participant(pid, valid.name or pid, values, source, number)  # type: ignore[attr-defined]

    by_kind: dict[str, tuple[Record, ...]] = {}
    for kind_name, kind in plan.record_kinds.items():
        kept: dict[str, Record] = {}
        if kind_name not in records:
            by_kind[kind_name] = ()
            continue
        model = record_model(kind)
        source, rows = _read_rows(records[kind_name], f"{kind_name} records")
        rows, missing = _with_columns(rows, _required(model), source)
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
            record_id = getattr(valid, kind.id_field)
            owner = getattr(valid, kind.participant_field)
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
            elif owner in rejected_people:
                problem = RecordProblem(
                    "R404",
                    source,
                    number,
                    kind.participant_field,
                    owner,
                    "belongs to a participant whose row was rejected",
                )
            elif owner not in people:
                problem = RecordProblem(
                    "R404",
                    source,
                    number,
                    kind.participant_field,
                    owner,
                    "is not a participant in the participants file",
                )
            if problem is not None:
                problems.append(problem)
                rejected.append((kind_name, record_id, owner, problem.render()))
                continue
            values = {name: getattr(valid, name) for name in kind.fields}
            kept[record_id] = Record(kind_name, record_id, owner, values, source, number)
        by_kind[kind_name] = tuple(kept.values())
    return Inputs(tuple(people.values()), by_kind, tuple(problems), tuple(rejected))
