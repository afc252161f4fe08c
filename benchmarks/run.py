"""Benchmark: incentive against the hand-written Decimal baseline, interleaved in one run.

    python benchmarks/run.py [--reps 1000] [--deals 100000] [--rounds 5] [--shared ../shared]

Generates the reference data with the shared generator (needs numpy), then runs, in
alternating rounds and each in a fresh process, the baseline
(shared/bench/baselines/handwritten_decimal.py) and incentive on benchmarks/ae_q3.rules
(CSV files → per-participant results, explanation trace recorded).  Prints medians, the
ratio, participants per second, peak memory, and checks incentive's commission and bonus
against the baseline's, rep by rep, to the cent.  Never imported by tests.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Final, cast

HERE = Path(__file__).resolve().parent
PLAN = HERE / "ae_q3.rules"
#: The components compared with the baseline's, rep by rep.
COMPARED = ("base", "commission", "bonus", "stage", "honor")


def _incentive_once(
    data: Path,
    dump: Path | None,
    in_memory: bool = False,
    engine: str = "columnar",
    explain: str | None = None,
) -> dict[str, object]:
    """Run inside a child process: time incentive from CSV files (or, with ``in_memory``,
    from rows already in memory, as an HR system would pass them) to results; then time
    the columnar engine's phases once more, one by one."""
    import resource

    import incentive
    from incentive.engine import columnar, columns

    reps: Path | list[dict[str, str]] = data / "reps.csv"
    deals: Path | list[dict[str, str]] = data / "deals.csv"
    if in_memory:  # read before the clock starts: the rows are the caller's
        with (data / "reps.csv").open(newline="") as f:
            reps = list(csv.DictReader(f))
        with (data / "deals.csv").open(newline="") as f:
            deals = list(csv.DictReader(f))
    t0 = time.perf_counter()
    plan = incentive.load_plan(PLAN)
    t1 = time.perf_counter()
    result = incentive.evaluate(plan, reps, {"deal": deals}, engine=engine)  # type: ignore[arg-type]
    t2 = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    phases: dict[str, float] = {}
    if engine != "straightforward":
        # The same run in its phases: reading, aggregating, then paying (measures,
        # components, results): "evaluation after aggregation".
        p0 = time.perf_counter()
        people = columns.read_people(plan.checked, reps)
        kinds = {"deal": columns.read_kind(plan.checked.record_kinds["deal"], deals, people.ids)}
        p1 = time.perf_counter()
        run = columnar._Run(plan, people, kinds)
        scopes = columnar._aggregate(run)
        p2 = time.perf_counter()
        columnar._result(run, columnar._pay(run, *scopes))
        p3 = time.perf_counter()
        phases = {"read_s": p1 - p0, "aggregate_s": p2 - p1, "pay_s": p3 - p2}
    t3 = time.perf_counter()
    if dump is not None:
        with dump.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["rep_id", *(c.name for c in plan.checked.components), "total"])
            for p in result.participants:
                writer.writerow([p.participant_id, *(c.amount for c in p.components), p.total])
    t4 = time.perf_counter()
    statements: dict[str, float] = {}
    if explain:
        # What a payroll run that sends every rep their statement does.
        lang = "zh" if explain == "zh" else "en"
        texts = [text for _, text in incentive.explain_all(result, lang=lang, in_order=False)]
        statements = {
            "statements_s": time.perf_counter() - t4,
            "statements_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "statements_mchars": sum(map(len, texts)) / 1e6,
            "statement_lines": sum(text.count("\n") for text in texts),
            **_floor(texts),
        }
    participants = max(1, len(result.participants))
    return {
        "impl": "incentive",
        "setup_s": t1 - t0,
        "run_s": t2 - t1,
        "total_s": t2 - t0,
        "models_s": t4 - t3 if dump is not None else None,
        "pay_us_per_participant": phases.get("pay_s", t2 - t1) / participants * 1e6,
        "participants": len(result.participants),
        "peak_mb": peak_kib / 1024,
        "sum_total": str(result.total),
        **phases,
        **statements,
    }


#: A number as a statement writes it: grouped (12,253.96), with decimals (51.412548), or
#: digits alone (an id, a date's parts, a count).
_NUMBER: Final = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+")


def _floor(texts: list[str]) -> dict[str, float]:
    """What writing these exact texts costs with no logic at all: each statement one
    `str.format` of a template made from its own text, with every amount and percentage
    formatted from integers and every other number copied as text.  No statement writer
    can take less, since it formats the same numbers and writes the same characters."""
    pairs = []
    copies = []  # the same, every number given as its text: writing characters alone
    numbers = 0
    for text in texts:
        parts: list[str] = []
        values: list[object] = []
        last = 0
        for match in _NUMBER.finditer(text):
            parts.append(text[last : match.start()].replace("{", "{{").replace("}", "}}"))
            whole, dot, decimals = match.group().partition(".")
            if "," in whole or dot:
                parts.append("{:,}" if "," in whole else "{}")
                values.append(int(whole.replace(",", "")))
                numbers += 1
                if dot:
                    parts.append(f".{{:0{len(decimals)}d}}")
                    values.append(int(decimals))
            else:
                parts.append("{}")
                values.append(match.group())
            last = match.end()
        parts.append(text[last:].replace("{", "{{").replace("}", "}}"))
        pairs.append(("".join(parts), values))
        copies.append(
            (_NUMBER.sub("{}", text.replace("{", "{{").replace("}", "}}")), _NUMBER.findall(text))
        )

    def best(templates: list[tuple[str, list[object]]]) -> float:
        fastest = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            written = [template.format(*values) for template, values in templates]
            fastest = min(fastest, time.perf_counter() - start)
        assert written == texts, "a template does not give back its statement"
        return fastest

    return {"floor_s": best(pairs), "text_floor_s": best(copies), "floor_numbers": float(numbers)}


def _child(args: list[str]) -> dict[str, object]:
    """Run a Python child process; merge the JSON objects it prints, one per line."""
    out = subprocess.run([sys.executable, *args], check=True, capture_output=True, text=True).stdout
    record: dict[str, object] = {}
    for line in out.splitlines():
        if line.startswith("{"):
            record |= json.loads(line)
    return record


def _baseline(shared: Path, data: Path, dump: Path | None = None) -> dict[str, object]:
    script = shared / "bench" / "baselines" / "handwritten_decimal.py"
    args = [str(script), "--data", str(data)] + (["--dump", str(dump)] if dump else [])
    # Run the baseline unchanged, then report the process's peak memory after it.
    wrapper = (
        "import json, resource, runpy, sys\n"
        f"sys.argv = {args!r}\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'peak_mb': peak}))\n"
    )
    return _child(["-c", wrapper])


def _cents(text: str) -> int:
    return int(Decimal(text) * 100)


def _compare(ours: Path, theirs: Path) -> tuple[int, int]:
    """(reps compared, mismatched components): every component, to the cent."""
    with theirs.open() as f:
        base_rows = {row["rep_id"]: row for row in csv.DictReader(f)}
    mismatches = compared = 0
    with ours.open() as f:
        for row in csv.DictReader(f):
            other = base_rows[row["rep_id"]]
            compared += 1
            for name in COMPARED:
                if _cents(row[name]) != int(other[name]):
                    mismatches += 1
    return compared, mismatches


def _checksum(ours: Path) -> tuple[str, str]:
    """(sum of totals, first 16 hex of the sha256 of sorted "rep_id:total_cents" lines),
    computed as ../shared/bench/baselines/common.py does, to compare with its README."""
    with ours.open() as f:
        rows = sorted((int(row["rep_id"]), _cents(row["total"])) for row in csv.DictReader(f))
    digest = hashlib.sha256()
    for rep_id, cents in rows:
        digest.update(f"{rep_id}:{cents}\n".encode())
    total = sum(cents for _, cents in rows)
    return f"{total // 100:,}.{total % 100:02d}", digest.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--in-memory",
        action="store_true",
        help="time incentive from rows in memory (Python API) instead of CSV files",
    )
    parser.add_argument(
        "--engine",
        choices=("columnar", "straightforward", "auto"),
        default="columnar",
        help="the engine to time (columnar fails loudly rather than fall back)",
    )
    parser.add_argument(
        "--statements",
        choices=("en", "zh"),
        nargs="?",
        const="en",
        help="also time every participant's statement (explain_all) in this language "
        "(English when not said), once",
    )
    args = parser.parse_args(argv)
    if args.child is not None:
        once = _incentive_once(args.child, args.dump, args.in_memory, args.engine, args.statements)
        print(json.dumps(once))
        return 0

    data = HERE / "data" / f"r{args.reps}_d{args.deals}"
    if not (data / "deals.csv").exists():
        subprocess.run(
            [
                sys.executable,
                str(args.shared / "bench" / "gen.py"),
                "--reps",
                str(args.reps),
                "--deals",
                str(args.deals),
                "--out",
                str(data),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    ours_dump, theirs_dump = data / "incentive.csv", data / "baseline.csv"
    runs: dict[str, list[dict[str, object]]] = {"baseline": [], "incentive": []}
    for number in range(args.rounds):
        dump = number == 0
        runs["baseline"].append(_baseline(args.shared, data, theirs_dump if dump else None))
        child = [str(Path(__file__)), "--child", str(data)]
        child += ["--in-memory"] if args.in_memory else []
        child += ["--engine", args.engine]
        child += ["--statements", args.statements] if args.statements and dump else []
        runs["incentive"].append(_child(child + (["--dump", str(ours_dump)] if dump else [])))

    def median(impl: str, key: str) -> float:
        # Seconds and megabytes as the child processes reported them in JSON.
        return statistics.median(cast(float, r[key]) for r in runs[impl])

    base_total, ours_total = median("baseline", "total_s"), median("incentive", "total_s")
    compared, mismatches = _compare(ours_dump, theirs_dump)
    participants = int(str(runs["incentive"][0]["participants"]))
    print(f"data: {args.reps} reps, {args.deals} deals; {args.rounds} interleaved rounds, medians")
    print(
        f"  hand-written Decimal (whole plan):  {base_total:8.3f} s   "
        f"peak {median('baseline', 'peak_mb'):6.0f} MB"
    )
    print(
        f"  {'incentive (rows in memory):' if args.in_memory else 'incentive (whole plan):':<35}"
        f"{ours_total:8.3f} s   "
        f"peak {median('incentive', 'peak_mb'):6.0f} MB"
    )
    if args.engine != "straightforward":
        print(
            f"    phases, timed again one by one: "
            f"read+validate {median('incentive', 'read_s'):.3f} s, "
            f"aggregate {median('incentive', 'aggregate_s'):.3f} s, "
            f"evaluate after aggregation {median('incentive', 'pay_s'):.3f} s "
            f"({median('incentive', 'pay_us_per_participant'):.2f} µs per participant)"
        )
    else:
        print(
            f"    evaluate (reading included) "
            f"{median('incentive', 'pay_us_per_participant'):.1f} µs per participant"
        )
    first = runs["incentive"][0]
    print(
        "    then making every participant's result model (after the clock): "
        f"{first['models_s']:.3f} s"
    )
    if args.statements:
        took, run_s = cast(float, first["statements_s"]), cast(float, first["total_s"])
        floor = cast(float, first["floor_s"])
        print(
            f"    then every statement ({args.statements}, first round, explain_all): "
            f"{took:.2f} s, "
            f"{took / participants * 1e3:.2f} ms each, "
            f"{first['statements_mchars']:.1f} million characters in "
            f"{first['statement_lines']:,} lines; {took / run_s:.1f} times that round's run; "
            f"peak {first['statements_peak_mb']:.0f} MB with every text kept"
        )
        print(
            f"    the floor of any writer of these texts (templates given, "
            f"{cast(float, first['floor_numbers']):,.0f} numbers formatted, best of 3): "
            f"{floor:.3f} s, {floor / run_s:.2f} times that round's run (writing the "
            f"characters alone, every number given as text: "
            f"{cast(float, first['text_floor_s']) / run_s:.2f} times)"
        )
    caveat = " (incentive from rows in memory, the baseline from CSV)" if args.in_memory else ""
    print(f"  ratio incentive / baseline: {ours_total / base_total:.2f}{caveat}")
    print(f"  participants per second (incentive, end to end): {participants / ours_total:,.0f}")
    print(
        f"  checked against the baseline: {compared} reps, mismatches in "
        f"{', '.join(COMPARED)}: {mismatches}"
    )
    total, digest = _checksum(ours_dump)
    print(f"  incentive's checksum: sum of totals {total}, sha256 {digest}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
