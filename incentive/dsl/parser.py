"""Plan text → `Plan` (syntax only): the cached LALR parser and its error messages.

Every lark error becomes a `PlanSyntaxError` with a position, the expected words in plain
language and, for common slips, a hint.  Limits on size and nesting are enforced here,
before anything recursive runs.  Imports errors and dsl.ast/build; never the engine.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Final

import lark
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from incentive.dsl import ast
from incentive.dsl.build import BuildProblems, build_plan
from incentive.dsl.suggest import suggest
from incentive.errors import Diagnostic, PlanSyntaxError, Span

#: A plan larger than this is refused before parsing (real plans are a few kilobytes).
MAX_PLAN_BYTES: Final = 256 * 1024
#: Deepest nesting of an expression (parentheses, operators) a plan may use.
MAX_DEPTH: Final = 100
#: Longest number or text literal, in characters.
MAX_LITERAL: Final = 200

# Terminal names as an analyst would say them.
_WORDS: Final[dict[str, str]] = {
    "NAME": "a name",
    "WINDOW": "'month', 'week', 'quarter' or 'year'",
    "NUMBER": "a number",
    "PERCENT": "a percentage",
    "STRING": "a quoted text",
    "DATE": "a date",
    "COMPARE": "a comparison",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "COLON": "':'",
    "EQUAL": "'='",
    "DOT": "'.'",
    "SLASH": "'/'",
    "STAR": "'*'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "MARGINAL": "'marginal'",
    "RETROACTIVE": "'retroactive'",
    "SUM": "'sum'",
    "MINIMUM": "'minimum'",
    "MAXIMUM": "'maximum'",
    "AVERAGE": "'average'",
    "MIN": "'min'",
    "MAX": "'max'",
    "$END": "the end of the plan",
}


@functools.cache
def _parser() -> Lark:
    grammar = resources.files("incentive.dsl").joinpath("grammar.lark").read_text("utf-8")
    # Lark keeps its analysis of the grammar in a cache file, checked against the grammar
    # and lark's version, so a new process starts in milliseconds rather than a quarter
    # of a second.  The file is unpickled: it lives in the user's own cache folder, never
    # in a shared temporary one; without such a folder there is no cache.
    cache = _cache_file()
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        cache=str(cache) if cache is not None else False,
    )


def _cache_file() -> Path | None:
    """A file for lark's cache in a folder only this user can write, or None."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "incentive"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = folder.stat()
    except OSError:
        return None
    getuid = getattr(os, "getuid", None)  # POSIX; elsewhere the profile folder is private
    if getuid is not None and (status.st_uid != getuid() or status.st_mode & 0o022):
        return None  # someone else could plant a file there
    return folder / f"grammar-lark-{lark.__version__}.cache"


#: Keywords that can begin an expression: a field or measure with one of these names could
#: be declared but never used, since the keyword would be read wherever it stands.
EXPRESSION_KEYWORDS: Final = frozenset(
    {
        "if",
        "not",
        "sum",
        "count",
        "minimum",
        "maximum",
        "average",
        "min",
        "max",
        "scorecard",
        "pool",
        "override",
    }
)
#: Keywords that begin a statement: a record kind cannot be named with one.
STATEMENT_KEYWORDS: Final = frozenset(
    {
        "plan",
        "currency",
        "period",
        "rounding",
        "participant",
        "measure",
        "component",
        "schedule",
        "weights",
        "employment",
        "exchange",
        "ranking",
    }
)


def _word(terminal: str) -> str:
    if terminal in _WORDS:
        return _WORDS[terminal]
    pattern = _parser().get_terminal(terminal).pattern
    return f"'{pattern.value}'" if pattern.type == "str" else terminal.lower()


def _expected(names: set[str]) -> str:
    words = sorted({_word(n) for n in names if not n.startswith("__")})
    if not words:
        return "something else"
    if len(words) > 8:
        if {"MONEY", "TEXT", "ID"} <= names:
            return "a kind of field (money, number, percent, count, date, text …)"
        return "a statement or an expression" if "COMPONENT" in names else "an expression"
    return ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1]


_KEYWORDS: Final = (
    "marginal", "retroactive", "scorecard", "measure", "component", "participant",
    "currency", "period", "rounding", "minimum", "maximum", "average", "distinct",
    "schedule", "weights", "employment", "prorated", "quarter", "segment", "weighted",
    "month", "week", "year", "ranking", "exchange", "highest", "lowest", "earliest",
    "latest", "override", "equally", "converted",
)  # fmt: skip

_MODIFIERS: Final = {
    "capped": "capped at",
    "floored": "floored at",
    "multiplied": "multiplied by",
    "only": "only when",
}


_STATEMENT_WORDS: Final = frozenset({"measure", "component", "participant", "plan"})


def _statement_name(expected: set[str]) -> bool:
    """True after a name the parser took as the start of ``KIND ["label"] fields:``."""
    return "FIELDS" in expected and expected <= {"FIELDS", "STRING"}


def _end_span(text: str, filename: str) -> Span:
    """Just after the last character of ``text`` that is not blank or a comment."""
    lines = text.split("\n")
    number = len(lines)
    while number > 1 and not lines[number - 1].split("#", 1)[0].strip():
        number -= 1
    content = lines[number - 1].split("#", 1)[0].rstrip()
    return _line_span(filename, number, len(content) + 1)


def _line_span(filename: str, line: int, column: int, length: int = 1) -> Span:
    return Span(filename, line, column, line, column + max(1, length))


#: Full-width punctuation a Chinese input method types, and the plan language's own.
_FULL_WIDTH: Final = {
    "，": ",", "：": ":", "（": "(", "）": ")", "；": ";", "％": "%",
    "＝": "=", "＋": "+", "－": "-", "＊": "*", "／": "/", "＞": ">", "＜": "<",
}  # fmt: skip


_TRAILING_COMMA: Final = "this statement ends with a comma, so the next one was read as part of it"


def _unfinished(source: str, filename: str, expected: set[str]) -> Diagnostic:
    """The plan ends in the middle of its last statement."""
    span = _end_span(source, filename)
    end = _code(source.split("\n")[span.line - 1]).rstrip()
    hint = (
        "the last statement ends with a comma: remove it, or write what should follow it"
        if end.endswith(",")
        else f"finish the statement; expected {_expected(expected)}"
    )
    return Diagnostic(
        "P102", "error", "the plan ends in the middle of a statement", span, hint=hint
    )


def _syntax_diagnostic(error: UnexpectedInput, source: str, filename: str) -> Diagnostic:
    if isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream or 0
        char = source[position] if position < len(source) else ""
        span = _line_span(filename, error.line, error.column)
        hint: str | None = "remove it, or put it inside a quoted text"
        if char == "'":
            hint = 'write texts in double quotes, e.g. "won"'
        elif char in "¥$€£":
            hint = "write amounts as plain numbers (10000); the plan's currency applies"
        elif char == ",":
            hint = "write numbers without thousands separators (10000 or 10_000)"
        elif char in "“”":
            hint = f"""write '"' instead: '{char}' is a typographic quote"""
        elif char in _FULL_WIDTH:
            hint = (
                f"write '{_FULL_WIDTH[char]}' instead: '{char}' is its full-width form, as a "
                "Chinese input method types it"
            )
        if char == "'":
            shown = '"\'"'  # ''' would not read as a quoted quote
        elif char.isprintable():
            shown = f"'{char}'"
        else:  # a no-break space or a control code: invisible, so name it by code point
            shown = f"U+{ord(char):04X}"
        return Diagnostic("P103", "error", f"unexpected character {shown}", span, hint=hint)
    if isinstance(error, UnexpectedEOF):
        return _unfinished(source, filename, set(error.expected))
    token: Token = error.token  # type: ignore[attr-defined]  # UnexpectedToken has it
    expected: set[str] = set(getattr(error, "expected", set()) or getattr(error, "accepts", set()))
    line, column = token.line or 1, token.column or 1
    if token.type == "$END":
        return _unfinished(source, filename, expected)
    span = _line_span(filename, line, column, len(str(token)))
    found = f"'{token}'"
    comma = _trailing_comma(source, filename, line)
    if comma is not None:
        # `base money,` then `deal fields: …`: the list read the next statement's first
        # word as one more item, and stumbled after it.
        return Diagnostic(
            "P101",
            "error",
            _TRAILING_COMMA,
            comma,
            hint="remove the comma, or write what should follow it",
        )
    missing_comma = _missing_comma(source, filename, line, column, expected)
    if missing_comma is not None:
        name, name_span = missing_comma
        rates = source.split("\n")[line - 1].lstrip().startswith("from ")
        return Diagnostic(
            "P104",
            "error",
            f"a comma is missing before {'the rate of' if rates else 'field'} '{name}'",
            name_span,
            hint="separate the rates of a row with commas: USD 7.1450, EUR 7.8120"
            if rates
            else "separate the fields of a list with commas",
        )
    if _statement_name(expected):
        # A name where a statement should start was taken as `KIND fields:`.
        before = _text_before(source, line, column)
        words = list(re.finditer(r"[^\W\d]\w*", before))
        previous = words[-1].group(0) if words else ""
        offset = words[-1].start() if words else len(before)
        keyword = next(
            (w for w in words[-2:] if w.group(0) in _STATEMENT_WORDS and w.start() > 0), None
        )
        if keyword is not None:
            # `component` was read as a name: the statement before it is unfinished.
            return Diagnostic(
                "P102",
                "error",
                "this statement is unfinished",
                _end_span(before[: keyword.start()], filename),
                hint="finish the statement before the next one starts",
            )
        word_line = before.count("\n", 0, offset) + 1
        word_column = offset - (before.rfind("\n", 0, offset) + 1) + 1
        start = Span(filename, word_line, word_column, word_line, word_column + len(previous))
        typos = [
            (w.group(0), k)
            for w in words[-2:]
            if (k := suggest(w.group(0), _KEYWORDS)) is not None and k != w.group(0)
        ]
        if previous in _MODIFIERS:
            hint = f"put a comma before '{_MODIFIERS[previous]}': each modifier follows a comma"
        elif typos:
            hint = f"did you mean '{typos[0][1]}' instead of '{typos[0][0]}'?"
        else:
            hint = (
                "start each statement with plan, currency, period, rounding, employment, "
                "participant fields, KIND fields, schedule, weights, exchange rates, ranking, "
                "measure or component"
            )
        return Diagnostic(
            "P101",
            "error",
            f"unexpected '{previous} {token}'; expected a statement",
            start,
            hint=hint,
        )
    hint = None
    before = _text_before(source, line, column)
    keywords = {_word(n).strip("'") for n in expected if _word(n).startswith("'")}
    if column == 1 and before.rstrip().endswith(","):
        hint = "the statement before ends with a comma: remove it, or write what should follow it"
    elif token.type == "NAME" and (close := suggest(str(token), keywords)) is not None:
        hint = f"did you mean '{close}'?"
    elif str(token) in _MODIFIERS:
        hint = f"put a comma before '{_MODIFIERS[str(token)]}': each modifier follows a comma"
    elif str(token) == "=" and before.endswith("="):
        hint = "compare with a single '='"
    elif token.type == "NUMBER" and re.search(r"\d,$", before):
        hint = "write numbers without thousands separators (10000 or 10_000)"
    elif before.endswith(",") and keywords >= {"capped", "only"}:
        hint = (
            "after a comma comes a modifier (capped at, floored at, multiplied by, only "
            "when): if none is meant, remove the comma"
        )
    elif token.type == "NUMBER" and "PERCENT" in expected and "NUMBER" not in expected:
        before = _text_before(source, line, column).rstrip()
        what = "an override's rates" if before.endswith("pays") else "scorecard weights"
        hint = f"{what} are percentages: write {token}%"
    return Diagnostic(
        "P101", "error", f"unexpected {found}; expected {_expected(expected)}", span, hint=hint
    )


def _code(line: str) -> str:
    """A line without its comment (a ``#`` outside quotes starts one)."""
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return line[:index]
    return line


def _trailing_comma(source: str, filename: str, line: int) -> Span | None:
    """Where the statement before line ``line`` ends with a comma, when that line begins
    a statement (so a list swallowed its first word); None otherwise."""
    lines = source.split("\n")
    starts = _starts(lines)
    if not 1 < line <= len(lines) or not starts(lines[line - 1]):
        return None
    number = line - 1
    while number > 0 and not _code(lines[number - 1]).strip():
        number -= 1
    if number == 0:
        return None
    code = _code(lines[number - 1]).rstrip()
    if not code.endswith(","):
        return None
    # Blame the comma only if, without it, the statement of line ``line`` reads through:
    # a field named `currency` in a list may look like a statement and not be one.
    mended = [*lines[: number - 1], code[:-1] + " " + lines[number - 1][len(code) :]]
    mended += lines[number:]
    following = next((n for n in range(line + 1, len(lines) + 1) if starts(lines[n - 1])), None)
    try:
        _parser().parse("\n".join(mended))
    except UnexpectedInput as exc:
        token = getattr(exc, "token", None)
        at_end = isinstance(exc, UnexpectedEOF) or (token is not None and token.type == "$END")
        where = len(lines) + 1 if at_end else (exc.line or 0)
        if following is None or where < following:
            return None  # the statement still does not read: the comma is not the fault
    return _line_span(filename, number, len(code))


def _text_before(source: str, line: int, column: int) -> str:
    lines = source.splitlines()
    return "\n".join([*lines[: line - 1], lines[line - 1][: column - 1]]).rstrip()


_FIELD_END: Final = re.compile(
    r"(\b(money|percent|number|count|date|text|participant|id)|\d|\")\s+([^\W\d]\w*)$"
)


def _missing_comma(
    source: str, filename: str, line: int, column: int, expected: set[str]
) -> tuple[str, Span] | None:
    """``quota money base money``: the second name was read as a new statement."""
    if not _statement_name(expected):
        return None
    before = _text_before(source, line, column)
    statements = re.findall(r"\b(fields|measure|component)\b", before)
    if not statements or statements[-1] != "fields":
        return None
    match = _FIELD_END.search(before)
    if match is None:
        return None
    name = match.group(3)
    offset = match.start(3)
    name_line = before.count("\n", 0, offset) + 1
    name_column = offset - (before.rfind("\n", 0, offset) + 1) + 1
    span = Span(filename, name_line, name_column, name_line, name_column + len(name))
    return name, span


_LONG_NUMBER: Final = re.compile(f"\\d{{{MAX_LITERAL},}}")


def _check_nesting(source: str, filename: str) -> None:
    """Refuse parentheses nested deeper than `MAX_DEPTH` (outside texts and comments)."""
    line, column, depth = 1, 0, 0
    in_text = in_comment = False
    for char in source:
        column += 1
        if char == "\n":
            line, column, in_text, in_comment = line + 1, 0, False, False
        elif in_comment:
            continue
        elif char == '"':
            in_text = not in_text
        elif in_text:
            continue
        elif char == "#":
            in_comment = True
        elif char == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise PlanSyntaxError(
                    [
                        Diagnostic(
                            "P105",
                            "error",
                            f"parentheses nested more than {MAX_DEPTH} levels deep",
                            _line_span(filename, line, column),
                            hint="split the expression into named measures",
                        )
                    ],
                    source,
                )
        elif char == ")":
            depth = max(0, depth - 1)


def _check_limits(source: str, filename: str) -> None:
    """Refuse text no parser should have to see: NULs, huge files, huge literals."""
    if len(source.encode("utf-8", "surrogatepass")) > MAX_PLAN_BYTES:
        raise PlanSyntaxError(
            [
                Diagnostic(
                    "P105",
                    "error",
                    f"the plan is larger than {MAX_PLAN_BYTES // 1024} KiB",
                    _line_span(filename, 1, 1),
                    hint="split the plan, or remove what is not used",
                )
            ],
            source,
        )
    for number, text in enumerate(source.splitlines(), 1):
        surrogate = re.search("[\ud800-\udfff]", text)
        if surrogate:
            raise PlanSyntaxError(
                [
                    Diagnostic(
                        "P100",
                        "error",
                        "the plan contains a character that is not valid Unicode",
                        _line_span(filename, number, surrogate.start() + 1),
                        hint="save the plan as plain UTF-8 text",
                    )
                ],
                source.encode("utf-8", "replace").decode("utf-8"),
            )
        nul = text.find("\x00")
        if nul >= 0:
            raise PlanSyntaxError(
                [
                    Diagnostic(
                        "P100",
                        "error",
                        "the plan contains a NUL character",
                        _line_span(filename, number, nul + 1),
                        hint="save the plan as plain UTF-8 text",
                    )
                ],
                source,
            )
        match = _LONG_NUMBER.search(text)
        if match:
            raise PlanSyntaxError(
                [
                    Diagnostic(
                        "P105",
                        "error",
                        f"a number or text longer than {MAX_LITERAL} characters",
                        _line_span(filename, number, match.start() + 1, 20),
                        hint="shorten the number or text",
                    )
                ],
                source,
            )


def _check_depth(tree: Tree[Token], source: str, filename: str) -> None:
    """Refuse expressions nested deeper than `MAX_DEPTH` and over-long texts, iteratively."""
    stack: list[tuple[Tree[Token], int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            meta = node.meta
            raise PlanSyntaxError(
                [
                    Diagnostic(
                        "P105",
                        "error",
                        f"an expression nested more than {MAX_DEPTH} levels deep",
                        _line_span(filename, meta.line, meta.column),
                        hint="split it into named measures",
                    )
                ],
                source,
            )
        for child in node.children:
            if isinstance(child, Tree):
                stack.append((child, depth + 1))
            elif child.type == "STRING" and len(child) > MAX_LITERAL + 2:
                raise PlanSyntaxError(
                    [
                        Diagnostic(
                            "P105",
                            "error",
                            f"a number or text longer than {MAX_LITERAL} characters",
                            _line_span(filename, child.line or 1, child.column or 1, 20),
                            hint="shorten the number or text",
                        )
                    ],
                    source,
                )


def decode_plan(data: bytes, filename: str) -> str:
    """Plan bytes → text; invalid UTF-8 is a P100 diagnostic at the first bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("utf-8", "replace")
        line = prefix.count("\n") + 1
        column = len(prefix) - (prefix.rfind("\n") + 1) + 1
        shown = prefix + "\ufffd"
        raise PlanSyntaxError(
            [
                Diagnostic(
                    "P100",
                    "error",
                    f"the plan is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                    _line_span(filename, line, column),
                    hint="save the plan as UTF-8 text",
                )
            ],
            shown,
        ) from None
    return text.removeprefix("\ufeff")


#: Syntax errors reported from one plan before giving up on the rest.
MAX_SYNTAX_ERRORS: Final = 20

#: A line that begins a statement, for setting a statement aside after a syntax error.
#: Statements begin at the start of a line (the examples' convention): an indented line
#: continues one, even where it starts with a word such as `currency` (a field's name).
_STATEMENT_START: Final = re.compile(
    r"(plan|currency|period|rounding|participant|employment|schedule|weights|exchange|ranking"
    r'|measure|component|[^\W\d]\w*(\s+"[^"\n]*"(\s*/\s*"[^"\n]*")?)?\s+fields)\b'
)


def _parse_all(text: str, filename: str) -> Tree[Token]:
    """Parse, and on a syntax error set the statement aside and read on, so that one run
    reports the errors of every statement (up to `MAX_SYNTAX_ERRORS`)."""
    diagnostics: list[Diagnostic] = []
    current = text
    while True:
        try:
            tree = _parser().parse(current)
        except UnexpectedInput as exc:
            diagnostic = _syntax_diagnostic(exc, current, filename)
            if diagnostic in diagnostics:
                break
            diagnostics.append(diagnostic)
            line = diagnostic.span.line
            lines = current.split("\n")
            if diagnostic.message == _TRAILING_COMMA and len(diagnostics) < MAX_SYNTAX_ERRORS:
                # Read on as if the comma were not there: both statements keep their checks.
                text_line = lines[line - 1]
                column = diagnostic.span.column
                lines[line - 1] = text_line[: column - 1] + " " + text_line[column:]
                current = "\n".join(lines)
                continue
            if line > 1 and diagnostic.span.column == 1 and _starts(lines)(lines[line - 1]):
                line -= 1  # a statement met where one was unfinished: set that one aside
            blanked = _blank_statement(current, line)
            if blanked is None or len(diagnostics) >= MAX_SYNTAX_ERRORS:
                break
            current = blanked
            continue
        if not diagnostics:
            return tree
        break
    raise PlanSyntaxError(diagnostics, text)


def _starts(lines: list[str]) -> Callable[[str], bool]:
    """How to tell a line that begins a statement: at the start of the line, or, in a
    plan whose statements are all indented, after its indentation."""
    if any(_STATEMENT_START.match(line) for line in lines):
        return lambda line: _STATEMENT_START.match(line) is not None
    return lambda line: _STATEMENT_START.match(line.lstrip()) is not None


def _blank_statement(text: str, line: int) -> str | None:
    """``text`` with the statement holding ``line`` replaced by empty lines (so every
    position after it stays where it was), or None when there is nothing left to skip."""
    lines = text.split("\n")
    looks = _starts(lines)
    # After a comma a list goes on, whatever its next line looks like (a field may be
    # named `currency`): a statement never begins there.
    codes = [_code(line).rstrip() for line in lines]
    after_comma = [False] * len(lines)
    last = ""
    for number, code in enumerate(codes):
        after_comma[number] = last.endswith(",")
        if code.strip():
            last = code

    def starts(number: int) -> bool:
        return looks(lines[number]) and not after_comma[number]

    index = min(max(line - 1, 0), len(lines) - 1)
    start = index
    while start > 0 and not starts(start):
        start -= 1
    end = index + 1
    while end < len(lines) and not starts(end):
        end += 1
    if not any(lines[start:end]):
        return None
    return "\n".join(lines[:start] + [""] * (end - start) + lines[end:])


def parse_plan(text: str, *, filename: str = "<plan>") -> ast.Plan:
    """Parse plan text into a `Plan`.

    Args:
        text: the plan, as text.
        filename: the name diagnostics show.

    Returns:
        The plan's syntax, with spans; names are not resolved yet.

    Raises:
        PlanSyntaxError: on any syntax problem or exceeded limit.
    """
    _check_limits(text, filename)
    _check_nesting(text, filename)
    tree = _parse_all(text, filename)
    _check_depth(tree, text, filename)
    try:
        return build_plan(tree, source=text, filename=filename)
    except VisitError as exc:
        if isinstance(exc.orig_exc, BuildProblems):
            raise PlanSyntaxError([exc.orig_exc.diagnostic], text) from None
        raise
    except BuildProblems as exc:
        raise PlanSyntaxError([exc.diagnostic], text) from None
