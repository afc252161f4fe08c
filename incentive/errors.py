"""Errors and diagnostics: the one exception tree every stage raises, and its renderer.

Every problem a user can cause becomes an `IncentiveError`. Plan problems carry
`Diagnostic`s with a `Span` and render as ``file:line:col``, the source line and a caret;
record problems carry file, row, field and value. Imports nothing from the package.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

Severity = Literal["error", "warning"]

#: Every diagnostic code the library emits, with a one-line summary.  Codes are stable
#: and never reused; docs/errors.md documents each one with a bad and a fixed example.
CODES: Final[dict[str, str]] = {
    "P100": "the plan text is not valid (bad characters or encoding)",
    "P101": "unexpected word or symbol",
    "P102": "unexpected end of the plan",
    "P103": "a character that is not part of the language",
    "P104": "a field list is missing a comma between two fields",
    "P105": "a plan exceeds a size or nesting limit",
    "P201": "unknown name",
    "P202": "a name is defined twice",
    "P203": "an unknown record kind or record field",
    "P204": "a value of the wrong kind where another is needed",
    "P205": "definitions that depend on each other in a cycle",
    "P206": "a header line is missing or given twice, or the plan has no component",
    "P207": "an invalid header value (currency, period, rounding)",
    "P208": "a record kind without exactly one id field and one participant field",
    "P209": "a keyword of the language used as a name",
    "P210": "a name with look-alike letters of several scripts or full-width characters",
    "P211": "a value read outside the sub-period it is computed for",
    "P301": "a tier table with a gap, an overlap or boundaries out of order",
    "P302": "a tier table that does not start at zero or has no open last tier",
    "P304": "scorecard or seasonality weights do not add up to exactly 100%",
    "P305": "a cap below a floor",
    "P306": "an invalid score range",
    "P307": "a schedule or weights table that does not fit the calendar",
    "W501": "tier rates that fall as the measure rises, not declared 'decelerating'",
    "W502": "a retroactive tier boundary where pay jumps for one more unit (a cliff)",
    "W503": "a condition that declared ranges make impossible (a gate that never opens)",
    "W504": "a cap that can never bind",
    "W505": "a division by a field or measure that can be zero, with no rule for that case",
    "W506": "a declared field or a measure that nothing uses",
    "W507": "a record field that hides a participant field or measure of the same name",
    "W508": "a per-sub-period measure that adds up records of the whole period",
    "W509": "days of the plan period with no exchange rate for a currency",
    "R401": "a value does not fit its declared field",
    "R402": "a required field is missing",
    "R403": "two records share an id",
    "R404": "a record names an unknown participant",
    "R405": "a records file cannot be read",
    "R406": "a negative amount where the field does not allow it",
    "R407": "two participants share an id",
    "R408": "a range of dates that ends before it starts (employment, or a dated row)",
    "R409": "a record dated outside the plan period where the plan requires a date in it",
    "R410": "the credit shares of a record do not add up to 100%",
    "R411": "a row of credit names a record that was not read",
    "R412": "an amount in a currency with no exchange rate on its date",
    "R413": "a participant with no plan, or a plan that is not in the run",
    "R414": "a manager who is not a participant, or a cycle in the reporting tree",
    "E601": "a division by zero, such as attainment for a participant whose quota is zero",
    "E602": "a value grew beyond the limit on the size of numbers",
    "E603": "a participant's dated records overlap or leave days uncovered",
    "E604": "a team value that cannot be worked out (a member could not be evaluated, or a "
    "pool's share is negative)",
    "E605": "a manager override on a report who could not be evaluated, or whose plan "
    "lacks the measure",
    "E606": "plans in one run that do not agree: currency, period, or the rows that credit "
    "a record",
}


@dataclass(frozen=True, slots=True)
class Span:
    """A 1-based position range in a plan file; ``end_column`` is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a plan, with where it is and what to do about it."""

    code: str
    severity: Severity
    message: str
    span: Span
    hint: str | None = None
    notes: tuple[str, ...] = ()


_MAX_SHOWN: Final = 120


def render_diagnostic(diagnostic: Diagnostic, source: str) -> str:
    """Render a diagnostic with its source line and a caret under the offending text.

    Args:
        diagnostic: the problem to show.
        source: the full plan text the span points into.

    Returns:
        Several lines, without a trailing newline.
    """
    span = diagnostic.span
    head = (
        f"{span.file}:{span.line}:{span.column}: "
        f"{diagnostic.severity}[{diagnostic.code}]: {diagnostic.message}"
    )
    lines = source.splitlines()
    out = [head]
    if 1 <= span.line <= len(lines):
        text = lines[span.line - 1].expandtabs(1)
        if len(text) > _MAX_SHOWN:
            # Show a window around the column, so a huge line stays readable.
            start = max(0, span.column - 1 - _MAX_SHOWN // 2)
            text = text[start : start + _MAX_SHOWN]
            span = Span(
                span.file,
                span.line,
                span.column - start,
                span.end_line,
                min(span.end_column - start, _MAX_SHOWN + 1),
            )
        gutter = " " * len(str(span.line))
        end = span.end_column if span.end_line == span.line else len(text) + 1
        width = max(1, end - span.column)
        pad = display_width(text[: span.column - 1])
        caret = "^" * max(1, display_width(text[span.column - 1 : span.column - 1 + width]))
        out += [f"{gutter} |", f"{span.line} | {text}", f"{gutter} | {' ' * pad}{caret}"]
        prefix = f"{gutter} = "
    else:
        prefix = "  = "
    out += [f"{prefix}note: {note}" for note in diagnostic.notes]
    if diagnostic.hint:
        out.append(f"{prefix}hint: {diagnostic.hint}")
    return "\n".join(out)


#: The first character of the Unicode database this Python has that may be wide: every one
#: before it is narrow, so a line of Latin text is measured by its length alone.
_FIRST_WIDE: Final = next(
    c for c in range(0x110000) if unicodedata.east_asian_width(chr(c)) in "WF"
)
_MAYBE_WIDE: Final = re.compile(f"[{re.escape(chr(_FIRST_WIDE))}-\U0010ffff]")


def display_width(text: str) -> int:
    """Columns a terminal uses for ``text``: wide (CJK) characters take two.

    >>> display_width("底薪 Base")
    9
    """
    return len(text) + sum(
        1 for ch in _MAYBE_WIDE.findall(text) if unicodedata.east_asian_width(ch) in "WF"
    )


class IncentiveError(Exception):
    """Base of every error the library raises on purpose."""


class PlanError(IncentiveError):
    """A plan that cannot be used; carries every diagnostic found, sorted by position."""

    def __init__(self, diagnostics: Sequence[Diagnostic], source: str) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(
            sorted(diagnostics, key=lambda d: (d.span.line, d.span.column, d.code))
        )
        self.source = source
        super().__init__(self.render())

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The diagnostics of severity ``error``."""
        return tuple(d for d in self.diagnostics if d.severity == "error")

    def render(self) -> str:
        """All diagnostics, rendered and separated by blank lines."""
        return "\n\n".join(render_diagnostic(d, self.source) for d in self.diagnostics)


class PlanSyntaxError(PlanError):
    """The plan text does not follow the grammar (codes P1xx)."""


class PlanCheckError(PlanError):
    """The plan parses but says something that cannot be right (codes P2xx, P3xx)."""


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """One bad input row: where it is, which field, what value and why."""

    code: str
    file: str
    row: int
    field: str | None
    value: str | None
    reason: str
    record_id: str | None = None
    #: a problem of the whole file (a column it lacks): no row of it can be read, so
    #: skipping rows cannot help
    whole_file: bool = False

    def render(self) -> str:
        """``file:row: field 'f': 'value' reason`` in one line."""
        # Row 0 means the whole file (it cannot be read): there is no row to point at.
        where = f"{self.file}:{self.row}" if self.row > 0 else self.file
        if self.field is None:
            return f"{where}: error[{self.code}]: {self.reason}"
        shown = "" if self.value is None else f"{_quote(self.value)} "
        return f"{where}: error[{self.code}]: field '{self.field}': {shown}{self.reason}"


def _quote(value: str) -> str:
    shown = value if len(value) <= 60 else value[:57] + "..."
    return "'" + shown.replace("'", "\\'") + "'"


class RecordError(IncentiveError):
    """Input rows that do not fit the plan's declarations (codes R4xx), all of them."""

    def __init__(self, problems: Iterable[RecordProblem]) -> None:
        self.problems: tuple[RecordProblem, ...] = tuple(problems)
        count = len(self.problems)
        lines = [p.render() for p in self.problems]
        if any(p.code == "R405" or p.whole_file for p in self.problems):
            # An unreadable input, or one without a column the plan needs, stops the run:
            # skipping rows cannot help.
            lines.append("nobody was paid (fix the input and run again)")
        else:
            lines.append(
                f"{count} bad record{'s' if count != 1 else ''}; nobody was paid "
                "(fix the rows, or skip them: --skip-invalid, or skip_invalid=True in Python)"
            )
        super().__init__("\n".join(lines))


@dataclass(frozen=True, slots=True)
class EvaluationProblem:
    """A checked plan that still cannot be evaluated for one participant (participant id
    empty: for the whole run)."""

    code: str
    participant_id: str
    message: str
    span: Span | None = None

    def render(self) -> str:
        """One line naming the participant, the problem and the plan line."""
        where = "" if self.span is None else f"{self.span.file}:{self.span.line}: "
        who = f"participant '{self.participant_id}': " if self.participant_id else ""
        return f"{where}error[{self.code}]: {who}{self.message}"


class EvaluationError(IncentiveError):
    """A checked plan that fails on some participants' data (codes E6xx)."""

    def __init__(self, problems: Iterable[EvaluationProblem]) -> None:
        self.problems: tuple[EvaluationProblem, ...] = tuple(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


class UnsupportedError(IncentiveError):
    """This plan or these inputs take the straightforward engine; ``reason`` says why.
    Raised only to a caller who asked for the columnar engine by name."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EngineMismatchError(IncentiveError):
    """The two engines disagree on a payout: a defect of incentive, never of a plan.
    Its message says so, and how to run regardless (``engine="straightforward"``)."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"internal error, please report it: {what}; evaluating with "
            'engine="straightforward" (the Python API) avoids it meanwhile'
        )
