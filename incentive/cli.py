"""The ``incentive`` command: check, run and explain plans.  The only module that prints.

Exit codes: 0 ok, 1 a problem in the user's plan or data (shown with its position),
2 a usage error, 3 an internal error (a bug: reported in one line, traceback with --debug).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import re
import sys
import time
import traceback
import unicodedata
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, TextIO

from incentive import api
from incentive.engine.compile import CompiledPlan
from incentive.engine.records import RowSource
from incentive.engine.results import PopulationResult, RecordSummary, RunResult
from incentive.errors import (
    CODES,
    EvaluationError,
    IncentiveError,
    PlanError,
    display_width,
    render_diagnostic,
)
from incentive.explain import format as fmt
from incentive.explain.statement import Lang

EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class _UsageError(Exception):
    """A command line that cannot be carried out as written."""


class _ProgressBar:
    """A one-line progress report on stderr for runs long enough to need one: nothing for
    the first half second, then at most ten updates a second; the line is wiped at the
    end so that what the run prints stays clean."""

    WIDTH: Final = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.last = 0.0
        self.shown = False

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.started < 0.5 or (now - self.last < 0.1 and done != total):
            return
        self.last = now
        if total:
            filled = self.WIDTH * done // total
            bar = "#" * filled + "." * (self.WIDTH - filled)
            text = f"{stage} [{bar}] {100 * done // total:3d}% {done:,}/{total:,}"
        else:
            text = f"{stage}: {done:,} rows"
        self.stream.write("\r" + text.ljust(72))
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 72 + "\r")
            self.stream.flush()


@contextlib.contextmanager
def _progress(args: argparse.Namespace) -> Iterator[_ProgressBar | None]:
    """A progress bar on stderr when it is a terminal and --quiet was not given."""
    if args.quiet or not sys.stderr.isatty():
        yield None
        return
    bar = _ProgressBar(sys.stderr)
    try:
        yield bar
    finally:
        bar.close()


class _Refused(Exception):
    """A run refused for a problem the user has been shown (exit 1)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incentive",
        description="Sales compensation plans as readable rule files: check, pay, explain.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # --debug is accepted after the command too (incentive run … --debug).
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )

    check = commands.add_parser(
        "check", help="check a plan and report every problem", parents=[debug]
    )
    check.add_argument("plan", help="a .rules file (or a folder holding plan.rules)")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--strict", action="store_true", help="treat warnings as errors")

    def inputs(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "plan",
            help="a .rules file; a folder with plan.rules and its data; or a folder of "
            "several plans (ae.rules, manager.rules …) whose participants name their plan",
        )
        sub.add_argument("--participants", help="participants file (CSV or JSON)")
        sub.add_argument(
            "--records",
            action="append",
            default=[],
            metavar="[KIND=]FILE",
            help="records file (CSV or JSON); repeat once per record kind",
        )
        sub.add_argument(
            "--skip-invalid",
            action="store_true",
            help="pay the valid rows and list the rejected ones instead of stopping",
        )
        sub.add_argument("--strict", action="store_true", help="refuse to run a plan with warnings")
        sub.add_argument(
            "--quiet", action="store_true", help="no progress bar (there is none off a terminal)"
        )

    run = commands.add_parser("run", help="evaluate a plan and print every payout", parents=[debug])
    inputs(run)
    run.add_argument("--format", choices=("table", "json", "csv"), default="table")
    run.add_argument("--explain", metavar="ID", help="also explain this participant's payout")
    run.add_argument(
        "--statements",
        metavar="DIR",
        type=Path,
        help="also write every paid participant's statement to DIR/<id>.txt (DIR must be "
        "new or empty)",
    )
    run.add_argument("--lang", choices=("en", "zh"), default="en")

    explain = commands.add_parser(
        "explain", help="explain one participant's payout", parents=[debug]
    )
    inputs(explain)
    explain.add_argument("--participant", required=True, metavar="ID")
    explain.add_argument("--lang", choices=("en", "zh"), default="en")
    return parser


def _plan_path(argument: str) -> Path:
    path = Path(argument)
    if path.is_dir():
        path = path / "plan.rules"
    return path


def _find(folder: Path, stems: Sequence[str]) -> Path | None:
    for stem in stems:
        for suffix in (".csv", ".json"):
            candidate = folder / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def _sources(
    args: argparse.Namespace, kinds: Sequence[str]
) -> tuple[RowSource, dict[str, RowSource]]:
    """The participants and records a run reads: given on the command line, else found in
    the plan's folder by name."""
    folder = Path(args.plan) if Path(args.plan).is_dir() else None
    participants: RowSource | None = args.participants
    if participants is None and folder is not None:
        participants = _find(folder, ["participants"])
    if participants is None:
        raise _UsageError("say where the participants are: --participants FILE")
    if folder is None and not args.records and kinds:
        raise _UsageError(
            "say where the records are: --records FILE (one per record kind: "
            + ", ".join(kinds)
            + ")"
        )
    records: dict[str, RowSource] = {}
    for item in args.records:
        kind, sep, file = item.partition("=")
        if not sep:
            file, kind = item, _kind_of(item, kinds)
        if kind not in kinds:
            raise _UsageError(
                f"the plan has no record kind '{kind}' (it has: {', '.join(kinds) or 'none'})"
            )
        records[kind] = file
    if folder is not None:
        for kind in kinds:
            if kind not in records:
                found = _find(folder, _stems(kind))
                if found is None:
                    looked = ", ".join(f"{stem}.csv" for stem in _stems(kind)[:2])
                    raise _UsageError(
                        f"no file for '{kind}' records in {folder} (looked for {looked}); "
                        f"give one with --records {kind}=FILE"
                    )
                records[kind] = found
    return participants, records


def _stems(kind: str) -> list[str]:
    """File names that hold a record kind: deal → deals, opportunity → opportunities."""
    consonant_y = kind.endswith("y") and kind[-2:-1] not in ("a", "e", "i", "o", "u")
    plural = kind[:-1] + "ies" if consonant_y else kind + "s"
    return [plural, kind, kind + "es"]


def _kind_of(file: str, kinds: Sequence[str]) -> str:
    if len(kinds) == 1:
        return kinds[0]
    stem = Path(file).stem
    for kind in kinds:
        if stem in _stems(kind):
            return kind
    raise _UsageError(
        f"cannot tell which record kind '{file}' holds; write --records KIND={file} "
        f"(kinds: {', '.join(kinds)})"
    )


def _plan_files(argument: str) -> list[Path] | None:
    """The plans of a folder that holds several (``ae.rules``, ``manager.rules`` …) and no
    ``plan.rules``; None for a single plan."""
    path = Path(argument)
    if not path.is_dir() or (path / "plan.rules").exists():
        return None
    files = sorted(path.glob("*.rules"))
    return files or None


def _check(args: argparse.Namespace) -> int:
    files = _plan_files(args.plan)
    if files is None:
        return _check_one(_plan_path(args.plan), args)
    if args.format == "text":
        return max(_check_one(file, args) for file in files)
    # JSON: one report per plan, by plan name.
    reports: dict[str, Any] = {}
    worst = EXIT_OK
    for file in files:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            worst = max(worst, _check_one(file, args))
        reports[file.stem] = json.loads(out.getvalue())
    print(json.dumps({"plans": reports, "ok": worst == EXIT_OK}, ensure_ascii=False, indent=2))
    return worst


def _check_one(path: Path, args: argparse.Namespace) -> int:
    try:
        plan = api.load_plan(path)
    except PlanError as error:
        if args.format == "json":
            print(json.dumps(_diagnostics_json(error), ensure_ascii=False, indent=2))
        else:
            print(error.render(), file=sys.stderr)
            count = len(error.errors)
            print(f"\n{count} error{'s' if count != 1 else ''} in {path}", file=sys.stderr)
        return EXIT_USER
    warnings = plan.checked.warnings
    failed = bool(args.strict and warnings)
    if args.format == "json":
        report = _diagnostics_json(PlanError(warnings, plan.checked.source))
        report["ok"] = not failed
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return EXIT_USER if failed else EXIT_OK
    for warning in warnings:
        print(render_diagnostic(warning, plan.checked.source) + "\n", file=sys.stderr)
    checked = plan.checked
    if failed:
        print(f"{_count(len(warnings), 'warning')} in {path} (--strict)", file=sys.stderr)
        return EXIT_USER
    noted = f" with {_count(len(warnings), 'warning')}" if warnings else ""
    print(
        f"ok{noted}: {path}: plan '{checked.name}', "
        f"{_count(len(checked.components), 'component')}, "
        f"{_count(len(checked.measures), 'measure')}, "
        f"{_count(len(checked.record_kinds), 'record kind')}"
    )
    return EXIT_OK


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _diagnostics_json(error: PlanError) -> dict[str, Any]:
    return {
        "ok": not error.errors,
        "diagnostics": [
            {
                "code": d.code,
                "severity": d.severity,
                "message": d.message,
                "hint": d.hint,
                "file": d.span.file,
                "line": d.span.line,
                "column": d.span.column,
                "end_line": d.span.end_line,
                "end_column": d.span.end_column,
                "summary": CODES.get(d.code, ""),
            }
            for d in error.diagnostics
        ],
    }


def _announce_warnings(plan: CompiledPlan, path: str, *, strict: bool) -> None:
    """Refuse a plan with warnings under --strict; otherwise say it has them, on stderr,
    where the payouts are printed (a plan with warnings still runs)."""
    warnings = plan.checked.warnings
    if warnings and strict:
        for warning in warnings:
            print(render_diagnostic(warning, plan.checked.source) + "\n", file=sys.stderr)
        raise _Refused(f"{_count(len(warnings), 'warning')} in {path} (--strict)")
    if warnings:
        codes = ", ".join(sorted({w.code for w in warnings}))
        print(
            f"{path}: {_count(len(warnings), 'warning')} ({codes}); "
            f"'incentive check {path}' shows them",
            file=sys.stderr,
        )


def _evaluate(
    args: argparse.Namespace, *, only: str | None = None
) -> tuple[CompiledPlan, RunResult]:
    plan = api.load_plan(_plan_path(args.plan))
    _announce_warnings(plan, args.plan, strict=args.strict)
    participants, records = _sources(args, list(plan.checked.record_kinds))
    try:
        with _progress(args) as bar:
            result = api.evaluate(
                plan, participants, records, skip_invalid=args.skip_invalid, progress=bar
            )
    except EvaluationError as error:
        # Explaining one participant need not wait for the others' data to be fixed: the
        # inputs were valid (else a RecordError came first), so skipping changes nothing
        # but leaving the failing participants unpaid, which is listed below.
        if only is None or any(p.participant_id == only for p in error.problems):
            raise
        result = api.evaluate(plan, participants, records, skip_invalid=True)
    _report_problems(result.rejected, result.unpaid)
    return plan, result


def _population(args: argparse.Namespace, files: list[Path]) -> PopulationResult:
    plans = {file.stem: api.load_plan(file) for file in files}
    for file, plan in zip(files, plans.values(), strict=True):
        _announce_warnings(plan, str(file), strict=args.strict)
    kinds = sorted({kind for plan in plans.values() for kind in plan.checked.record_kinds})
    participants, records = _sources(args, kinds)
    with _progress(args) as bar:
        result = api.evaluate_population(
            plans, participants, records, skip_invalid=args.skip_invalid, progress=bar
        )
    _report_problems(result.rejected, result.unpaid)
    return result


def _report_problems(rejected: Sequence[str], unpaid: Sequence[str]) -> None:
    if rejected:
        print(
            f"{_count(len(rejected), 'rejected row')} (participants and records not paid on):",
            file=sys.stderr,
        )
        for line in rejected:
            print(f"  {line}", file=sys.stderr)
    if unpaid:
        print(f"{_count(len(unpaid), 'participant')} not paid:", file=sys.stderr)
        for line in unpaid:
            print(f"  {line}", file=sys.stderr)


def _run_population(args: argparse.Namespace, files: list[Path]) -> int:
    result = _population(args, files)
    statements = _statement_files(args, result)
    if args.format == "json":
        report = {
            "plans": {name: _result_json(run) for name, run in result.runs.items()},
            "total": str(result.total),
            "records": result.records.model_dump(),
            "rejected": list(result.rejected),
            "unpaid": list(result.unpaid),
        }
        if args.explain:
            chosen = _participant(result, args.explain)
            report["explanation"] = api.explain(chosen, lang=args.lang)
        print(json.dumps(report, ensure_ascii=False, indent=2))
    elif args.format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["participant_id", "name", "plan", "component", "amount"])
        for name, run in result.runs.items():
            for p in run.participants:
                for c in p.components:
                    writer.writerow([p.participant_id, p.name, name, c.name, str(c.amount)])
                writer.writerow([p.participant_id, p.name, name, "total", str(p.total)])
        print(out.getvalue(), end="")
    else:
        words = _TABLE_WORDS[args.lang]
        for name, run in result.runs.items():
            print(f"== {name} ==")
            print(_result_table(run, args.lang, records=False))
            print()
        people = sum(len(run.participants) for run in result.runs.values())
        print(
            words["all_plans"].format(
                plans=len(result.runs),
                people=people,
                total=_money(result.total, next(iter(result.runs.values()))),
            )
        )
        print(_records_lines(result.records, args.lang))
    if args.explain and args.format != "json":
        print()
        print(api.explain(_participant(result, args.explain), lang=args.lang), end="")
    sys.stdout.flush()
    _write_statements(args, result, statements)
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    if args.statements is not None:
        _statements_folder(args.statements)
    files = _plan_files(args.plan)
    if files is not None:
        return _run_population(args, files)
    _, result = _evaluate(args)
    statements = _statement_files(args, result)
    if args.format == "json":
        report = _result_json(result)
        if args.explain:
            # One JSON document: the statement goes inside it.
            chosen = _participant(result, args.explain)
            report["explanation"] = api.explain(chosen, lang=args.lang)
        print(json.dumps(report, ensure_ascii=False, indent=2))
    elif args.format == "csv":
        print(_result_csv(result), end="")
    else:
        print(_result_table(result, args.lang))
    if args.explain and args.format != "json":
        print()
        print(api.explain(_participant(result, args.explain), lang=args.lang), end="")
    sys.stdout.flush()
    _write_statements(args, result, statements)
    return EXIT_OK


def _statements_folder(folder: Path) -> None:
    """Refuse a statements folder that is a file, holds anything, or cannot be made:
    statements of an earlier run must not pass for this one's."""
    try:
        if folder.exists() and not folder.is_dir():
            raise _UsageError(f"--statements {folder}: is a file, not a folder")
        # Files a desktop leaves (.DS_Store) are no statements: statement files never
        # start with a dot.
        if folder.is_dir() and any(not p.name.startswith(".") for p in folder.iterdir()):
            raise _UsageError(
                f"--statements {folder}: the folder is not empty; choose a new folder or "
                "empty this one (statements of an earlier run must not pass for this run's)"
            )
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _UsageError(f"--statements {folder}: {error.strerror}") from None


#: Names Windows keeps for devices, whatever follows them.
_DEVICES: Final = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{port}{n}" for port in ("COM", "LPT") for n in range(1, 10)]
)


def _file_name(participant_id: str) -> str:
    """A participant's statement file: their id, with every character other than a
    letter, a digit, ``-``, ``_`` or ``.`` written as ``%XX`` (its UTF-8 bytes), so that
    no id reaches outside the folder and distinct ids name distinct files; an id that
    Windows reads as a device (``CON``, ``LPT1`` …) has its first letter written so too.

    >>> _file_name("R-104"), _file_name("王芳"), _file_name("a/b c"), _file_name("con")
    ('R-104.txt', '王芳.txt', 'a%2Fb%20c.txt', '%63on.txt')
    >>> _file_name("..")
    '%2E..txt'
    """
    kept = "".join(
        ch if ch.isalnum() or ch in "-_." else "".join(f"%{b:02X}" for b in ch.encode())
        for ch in participant_id
    )
    if kept.partition(".")[0].upper() in _DEVICES or kept.startswith("."):
        kept = f"%{ord(kept[0]):02X}" + kept[1:]  # no device, and no hidden file
    return kept + ".txt"


def _statement_files(args: argparse.Namespace, result: RunResult | PopulationResult) -> int:
    """How many statements ``--statements`` will write; refuses ids that cannot each have
    a file of their own, before anything is printed or written."""
    if args.statements is None:
        return 0
    runs = result.runs.values() if isinstance(result, PopulationResult) else (result,)
    names: dict[str, str] = {}
    for participant_id in (p.participant_id for run in runs for p in run.participants):
        name = _file_name(participant_id)
        if len(name.encode()) > 255:  # the most any common file system allows
            shown = participant_id if len(participant_id) <= 40 else participant_id[:40] + "…"
            raise _Refused(f"--statements: the id '{shown}' is too long for a file name")
        # File systems that ignore case, or do not tell a composed letter from the same
        # letter decomposed, would give both one file.
        other = names.setdefault(unicodedata.normalize("NFC", name).casefold(), participant_id)
        if other != participant_id:
            forms = unicodedata.normalize("NFC", other) == unicodedata.normalize(
                "NFC", participant_id
            )
            raise _Refused(
                f"--statements: participants '{other}' and '{participant_id}' would share a "
                "file on systems whose file names ignore case or Unicode forms"
                + (" (they are the same letters, encoded in two Unicode forms)" if forms else "")
            )
    return len(names)


def _write_statements(
    args: argparse.Namespace, result: RunResult | PopulationResult, count: int
) -> None:
    """Every paid participant's statement, one file each, in ``args.statements``."""
    folder: Path | None = args.statements
    if folder is None:
        return
    with _progress(args) as bar:
        explained = api.explain_all(result, lang=args.lang, in_order=False)
        for done, (participant_id, text) in enumerate(explained, 1):
            try:
                (folder / _file_name(participant_id)).write_text(text, encoding="utf-8")
            except OSError as error:
                raise _Refused(
                    f"--statements: cannot write the statement of '{participant_id}' in "
                    f"{folder}: {error.strerror}"
                ) from None
            if bar is not None:
                bar("statements", done, count)
    print(f"{_count(count, 'statement')} written to {folder}", file=sys.stderr)


def _participant(result: RunResult | PopulationResult, participant_id: str) -> Any:
    try:
        return result.participant(participant_id)
    except KeyError:
        for line in result.unpaid:
            if f"participant '{participant_id}'" in line:
                raise _Refused(f"'{participant_id}' was not paid: {line}") from None
        people = (
            result.participants
            if isinstance(result, RunResult)
            else tuple(p for run in result.runs.values() for p in run.participants)
        )
        known = ", ".join(p.participant_id for p in people[:10])
        raise _UsageError(
            f"no participant '{participant_id}' in this run (participants: {known})"
        ) from None


def _explain(args: argparse.Namespace) -> int:
    files = _plan_files(args.plan)
    if files is not None:
        population = _population(args, files)
        print(api.explain(_participant(population, args.participant), lang=args.lang), end="")
        return EXIT_OK
    _, result = _evaluate(args, only=args.participant)
    print(api.explain(_participant(result, args.participant), lang=args.lang), end="")
    return EXIT_OK


def _money(value: Decimal, result: RunResult) -> str:
    return fmt.money(value, result.plan.currency, result.plan.quantum)


def _result_table(result: RunResult, lang: Lang, *, records: bool = True) -> str:
    names = [c.name for c in result.participants[0].components] if result.participants else []
    labels = [result.plan.label(n, lang) for n in names]
    words = _TABLE_WORDS[lang]
    header = [words["participant"], words["name"], *labels, words["total"]]
    rows = [
        [
            p.participant_id,
            p.name,
            *(_money(c.amount, result) for c in p.components),
            _money(p.total, result),
        ]
        for p in result.participants
    ]
    widths = [
        max(display_width(str(row[i])) for row in [header, *rows]) for i in range(len(header))
    ]
    lines = []
    for row in [header, *rows]:
        cells = [
            _pad(str(cell), width, left=i < 2)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    summary = result.records
    lines.append("")
    people = (
        _count(len(result.participants), "participant")
        if lang == "en"
        else f"{len(result.participants)} 名参与人"
    )
    lines.append(
        words["summary"].format(
            plan=result.plan.name, people=people, total=_money(result.total, result)
        )
    )
    if records:
        lines.append(_records_lines(summary, lang))
    return "\n".join(lines)


def _records_lines(summary: RecordSummary, lang: Lang) -> str:
    words = _TABLE_WORDS[lang]
    lines = [words["records"].format(**summary.model_dump())]
    for rule, count in summary.excluded_by_rule.items():
        if lang == "zh":  # "line 22: status = "won"" names the plan line in Chinese too
            rule = re.sub(r"^line (\d+): ", r"第\1行：", rule)
            for english, chinese in _RULE_WORDS_ZH:
                rule = rule.replace(english, chinese)
        lines.append(words["rule"].format(rule=rule, count=count))
    return "\n".join(lines)


#: The engine's words in the reasons records are left out, as the Chinese table says them.
_RULE_WORDS_ZH: Final = (
    (" (not employed on that day)", "（当日不在职）"),
    ("its days lie outside the days employed", "其日期不在在职期间内"),
    ("its days lie outside the period", "其日期不在本期内"),
)

#: The payout table's own words; component labels come from the plan.
_TABLE_WORDS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "participant": "participant",
        "name": "name",
        "total": "total",
        "summary": "{plan}: {people}, total {total}",
        "records": "records: {read} read = {counted} counted + {excluded} excluded by rule"
        " + {rejected} rejected",
        "rule": "  excluded by {rule}: {count}",
        "all_plans": "all {plans} plans: {people} participants, total {total}",
    },
    "zh": {
        "participant": "参与人",
        "name": "姓名",
        "total": "合计",
        "summary": "{plan}：{people}，合计 {total}",
        "records": "记录：读取 {read} 笔 = 计入 {counted} + 按规则排除 {excluded}"
        " + 拒收 {rejected}",
        "rule": "  按规则排除（{rule}）：{count}",
        "all_plans": "全部 {plans} 个方案：{people} 名参与人，合计 {total}",
    },
}


def _pad(text: str, width: int, *, left: bool) -> str:
    space = " " * (width - display_width(text))
    return text + space if left else space + text


def _result_json(result: RunResult) -> dict[str, Any]:
    return {
        "plan": result.plan.name,
        "currency": result.plan.currency,
        "period": [result.plan.period_start.isoformat(), result.plan.period_end.isoformat()],
        "total": str(result.total),
        "participants": [
            {
                "id": p.participant_id,
                "name": p.name,
                "components": {c.name: str(c.amount) for c in p.components},
                "total": str(p.total),
                # What each component paid per sub-period, when it pays per sub-period.
                **(
                    {
                        "parts": {
                            c.name: {part.key: str(part.amount) for part in c.parts}
                            for c in p.components
                            if c.parts
                        }
                    }
                    if any(c.parts for c in p.components)
                    else {}
                ),
            }
            for p in result.participants
        ],
        "records": result.records.model_dump(),
        "rejected": list(result.rejected),
        "unpaid": list(result.unpaid),
    }


def _result_csv(result: RunResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = [c.name for c in result.participants[0].components] if result.participants else []
    writer.writerow(["participant_id", "name", *names, "total"])
    for p in result.participants:
        writer.writerow(
            [p.participant_id, p.name, *(str(c.amount) for c in p.components), str(p.total)]
        )
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    handlers = {"check": _check, "run": _run, "explain": _explain}
    try:
        return handlers[args.command](args)
    except _UsageError as error:
        print(f"incentive: {error}", file=sys.stderr)
        return EXIT_USAGE
    except IncentiveError as error:
        print(str(error), file=sys.stderr)
        return EXIT_USER
    except _Refused as error:
        print(str(error), file=sys.stderr)
        return EXIT_USER
    except BrokenPipeError:
        return EXIT_OK
    except Exception:
        if args.debug:
            traceback.print_exc()
        print(
            "incentive: internal error, please report (run with --debug for details)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
