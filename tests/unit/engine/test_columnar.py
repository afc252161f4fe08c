"""The columnar engine: the same results as the straightforward engine, statements traced
on demand and checked, and every plan or input it cannot prove it computes identically
handed to the straightforward engine, which then explains what is wrong."""

from __future__ import annotations

import csv
import pickle
import threading
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import incentive
from incentive.engine import columnar
from incentive.engine.rational import Int64OverflowError, Ratio, round_units
from incentive.engine.results import Participants, RunResult
from incentive.errors import EvaluationError, RecordError
from incentive.money import quantize
from tests.helpers import EXAMPLES

PLAN = """plan "t"
currency CNY
period 2026-07-01 to 2026-09-30
rounding half_up to 0.01 per component

participant fields: team text, quota positive money, hired date

deal fields: deal_id id, owner participant, amount money, closed date, status text

measure revenue = sum of deal.amount where status = "won" and closed in period
measure monthly per month = sum of deal.amount where status = "won" and closed in month
measure attainment = revenue / quota

component base = 3000 * (if hired in period then days from hired to 2026-09-30 else 92) / 92
component commission = marginal tiers of revenue against quota:
    0% up to 100% pays 3%
    100% and above pays 6%
component bonus = 1000 * (attainment capped at 150%) only when attainment >= 80%
component stage per month = 200 only when monthly >= quota / 3
ranking top = revenue highest first within team, ties by id
component honor = 500 only when top in top 1
"""

PEOPLE = [
    {"id": "P1", "team": "a", "quota": "30000.00", "hired": "2025-01-01"},
    {"id": "P2", "team": "a", "quota": "20000", "hired": "2026-08-15"},
    {"id": "P10", "team": "b", "quota": "10000.50", "hired": "2024-03-01"},
    {"id": "P3", "team": "b", "quota": "15000.00", "hired": "2026-07-01"},
]

DEALS = [
    {"deal_id": "D1", "owner": "P1", "amount": "12000.00", "closed": "2026-07-03", "status": "won"},
    {"deal_id": "D2", "owner": "P1", "amount": "20000.5", "closed": "2026-08-31", "status": "won"},
    {"deal_id": "D3", "owner": "P2", "amount": "9999.99", "closed": "2026-09-30", "status": "won"},
    {"deal_id": "D4", "owner": "P2", "amount": "5000.00", "closed": "2026-10-01", "status": "won"},
    {
        "deal_id": "D5",
        "owner": "P10",
        "amount": "7000.00",
        "closed": "2026-07-15",
        "status": "lost",
    },
    {
        "deal_id": "D6",
        "owner": "P10",
        "amount": "12000.00",
        "closed": "2026-09-01",
        "status": "won",
    },
    {"deal_id": "D7", "owner": "P3", "amount": "12000.00", "closed": "2026-09-02", "status": "won"},
    {"deal_id": "D8", "owner": "P3", "amount": "1.00", "closed": "2026-06-30", "status": "lost"},
]


def _plan() -> incentive.CompiledPlan:
    return incentive.load_plan(PLAN, filename="t.rules")


def _both(
    people: list[dict[str, str]] | Path = PEOPLE,
    deals: list[dict[str, str]] | Path = DEALS,
) -> tuple[RunResult, RunResult]:
    plan = _plan()
    fast = incentive.evaluate(plan, people, {"deal": deals}, engine="columnar")
    slow = incentive.evaluate(plan, people, {"deal": deals}, engine="straightforward")
    return fast, slow


def _lines(result: RunResult) -> list[Any]:
    return [
        (p.participant_id, p.name, p.total, [(c.name, c.amount, c.parts) for c in p.components])
        for p in result.participants
    ]


def test_the_engines_agree_on_every_amount_record_and_statement() -> None:
    fast, slow = _both()
    assert isinstance(fast.participants, Participants)  # the columnar engine ran
    assert _lines(fast) == _lines(slow)
    assert fast.total == slow.total
    assert fast.records == slow.records
    assert list(fast.dispositions) == list(slow.dispositions)
    assert fast.dispositions[-1] == slow.dispositions[-1]
    assert list(fast.dispositions[1:3]) == list(slow.dispositions[1:3])
    for pid in ("P1", "P2", "P10", "P3"):
        for lang in ("en", "zh"):
            mine = incentive.explain(fast.participant(pid), lang=lang)
            assert mine == incentive.explain(slow.participant(pid), lang=lang)


def test_files_read_as_columns_give_what_the_row_reader_gives(tmp_path: Path) -> None:
    for name in ("sdr",):
        folder = EXAMPLES / name
        plan = incentive.load_plan(folder / "plan.rules")
        records = {
            "meeting": folder / "meetings.csv",
            "opportunity": folder / "opportunities.csv",
        }
        people = folder / "participants.csv"
        fast = incentive.evaluate(plan, people, records, engine="columnar")
        slow = incentive.evaluate(plan, people, records, engine="straightforward")
        assert _lines(fast) == _lines(slow)
        assert list(fast.dispositions) == list(slow.dispositions)
        first = fast.participants[0].participant_id
        assert incentive.explain(fast.participant(first)) == incentive.explain(
            slow.participant(first)
        )


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("amount", "1.0000005", "form read row by row"),
        ("amount", "1e3", "form read row by row"),
        ("amount", " 5.00", "form read row by row"),
        ("status", " won", "spaces"),
        ("closed", "2026-7-01", "YYYY-MM-DD"),
        ("closed", "2026-02-30", "no such day"),
        ("owner", "P99", "names no participant"),
        ("deal_id", "D2", "share an id"),
    ],
)
def test_values_the_columns_cannot_vouch_for_go_to_the_row_reader(
    field: str, value: str, reason: str
) -> None:
    deals = [dict(row) for row in DEALS]
    deals[0][field] = value
    plan = _plan()
    with pytest.raises(incentive.UnsupportedError, match=reason):
        incentive.evaluate(plan, PEOPLE, {"deal": deals}, engine="columnar")
    outcomes: list[object] = []
    for engine in ("auto", "straightforward"):
        try:
            result = incentive.evaluate(
                plan, PEOPLE, {"deal": deals}, engine=engine, skip_invalid=True
            )
        except RecordError as error:  # pragma: no cover - skip_invalid reads on
            outcomes.append(str(error))
        else:
            outcomes.append((_lines(result), result.records, list(result.rejected)))
    assert outcomes[0] == outcomes[1]


def test_a_zero_divisor_is_explained_by_the_straightforward_engine() -> None:
    people = [dict(row) for row in PEOPLE]
    plan = incentive.load_plan(PLAN.replace("revenue / quota", "revenue / (quota - quota)"))
    with pytest.raises(incentive.UnsupportedError, match="division by zero"):
        incentive.evaluate(plan, people, {"deal": DEALS}, engine="columnar")
    with pytest.raises(EvaluationError, match="E601"):
        incentive.evaluate(plan, people, {"deal": DEALS})


def test_plans_beyond_the_columns_are_named_and_run_row_by_row() -> None:
    for name, reason in [
        ("account_executive", "a scorecard"),
        ("quota_change", "days employed"),
        ("team_honor", "splits credit"),
    ]:
        plan = incentive.load_plan(EXAMPLES / name / "plan.rules")
        refusal = columnar.plan_refusal(plan)
        assert refusal is not None
        assert reason in refusal


def test_a_json_file_and_rows_already_read_take_the_straightforward_engine(
    tmp_path: Path,
) -> None:
    plan = _plan()
    people = tmp_path / "people.json"
    people.write_text("[]")
    with pytest.raises(incentive.UnsupportedError, match="JSON"):
        incentive.evaluate(plan, people, {"deal": DEALS}, engine="columnar")
    inputs = incentive.load_inputs(plan.checked, PEOPLE, {"deal": DEALS})
    with pytest.raises(incentive.UnsupportedError):
        incentive.evaluate(plan, inputs, engine="columnar")


def test_a_trace_that_disagrees_with_the_columns_is_an_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast, _ = _both()
    results = fast.participants
    assert isinstance(results, Participants)
    lines = results._lines  # type: ignore[attr-defined]
    lines[1].units[0] += 1  # one cent more for P1's commission, after the fact
    results._made.clear()  # type: ignore[attr-defined]
    with pytest.raises(incentive.EngineMismatchError, match="P1"):
        _ = fast.participant("P1").trace


def test_statements_of_one_team_are_traced_once() -> None:
    fast, _ = _both()
    for pid in ("P1", "P2"):
        _ = fast.participant(pid).trace
    explainer = fast.participants._explainer  # type: ignore[attr-defined]
    assert len(explainer._runs) == 1


LINKED = PLAN.replace(
    "participant fields: team text,", "participant fields: team text, region text,"
).replace(
    "component honor = 500 only when top in top 1",
    "component honor = 500 only when top in top 1\n"
    "measure regional = sum of revenue within region\n"
    "component share = regional / 100",
)


@pytest.mark.parametrize("size", [1, 2, 512])
def test_everyone_is_explained_in_batches_of_people_linked_by_their_groups(size: int) -> None:
    # Teams a and b are linked through region r: P1 (a, r), P2 (a, s), P10 (b, r),
    # P3 (b, t); P4 (c, u) stands alone.
    regions = {"P1": "r", "P2": "s", "P10": "r", "P3": "t"}
    people = [{**p, "region": regions[p["id"]]} for p in PEOPLE]
    people.append({"id": "P4", "team": "c", "region": "u", "quota": "100", "hired": ""})
    people[-1]["hired"] = "2026-07-02"
    plan = incentive.load_plan(LINKED, filename="t.rules")
    fast = incentive.evaluate(plan, people, {"deal": DEALS}, engine="columnar")
    slow = incentive.evaluate(plan, people, {"deal": DEALS}, engine="straightforward")
    results = fast.participants
    assert isinstance(results, Participants)
    batches = [[index for index, _ in batch] for batch in results.batches(size)]
    # Whole linked sets, never split, packed to about `size`, in order of first member.
    expected = {1: [[0, 1, 2, 3], [4]], 2: [[0, 1, 2, 3], [4]], 512: [[0, 1, 2, 3, 4]]}
    assert batches == expected[size]
    for batch in results.batches(size):
        for index, made in batch:
            assert made == slow.participants[index]
            assert made.trace == slow.participants[index].trace
    assert results._made == {}  # type: ignore[attr-defined]  # nothing kept
    for lang in ("en", "zh"):
        everyone = [(p.participant_id, incentive.explain(p, lang)) for p in slow.participants]
        assert list(incentive.explain_all(fast, lang=lang)) == everyone
        traced = list(incentive.explain_all(fast, lang=lang, in_order=False))
        assert sorted(traced) == sorted(everyone)


def _components(codes: dict[str, list[int]], size: int) -> list[int]:
    """The smallest member of each one's linked set, by a plain union-find."""
    parent = list(range(size))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for values in codes.values():
        first: dict[int, int] = {}
        for i, value in enumerate(values):
            j = first.setdefault(value, i)
            a, b = root(i), root(j)
            parent[max(a, b)] = min(a, b)
    return [root(i) for i in range(size)]


@given(
    st.integers(min_value=0, max_value=40).flatmap(
        lambda size: st.dictionaries(
            st.sampled_from(["team", "region", "pod"]),
            st.lists(st.integers(0, 6), min_size=size, max_size=size),
            min_size=1,
        )
    )
)
def test_people_are_linked_through_any_chain_of_shared_groups(
    codes: dict[str, list[int]],
) -> None:
    size = len(next(iter(codes.values())))
    arrays = {name: np.array(values, dtype=np.int64) for name, values in codes.items()}
    run = SimpleNamespace(size=size, group_codes=arrays.__getitem__)
    explainer = SimpleNamespace(_run=run, _groups=sorted(codes), _everyone=False)
    linked = columnar._Explainer._linked(explainer)  # type: ignore[arg-type]
    assert linked.tolist() == _components(codes, size)


def test_groups_chained_through_a_large_population_form_one_linked_set() -> None:
    # Pods straddle teams of ten, in an order unrelated to both: one linked set.
    size = 200_000
    position = np.random.default_rng(0).permutation(size)
    arrays = {"team": position // 10, "pod": (position + 5) // 10}
    run = SimpleNamespace(size=size, group_codes=arrays.__getitem__)
    explainer = SimpleNamespace(_run=run, _groups=["pod", "team"], _everyone=False)
    linked = columnar._Explainer._linked(explainer)  # type: ignore[arg-type]
    assert (linked == 0).all()


def test_explaining_everyone_of_a_straightforward_run_or_a_population() -> None:
    _, slow = _both()
    assert list(incentive.explain_all(slow)) == [
        (p.participant_id, incentive.explain(p)) for p in slow.participants
    ]
    plans = incentive.load_plans(EXAMPLES / "manager_override")
    folder = EXAMPLES / "manager_override"
    population = incentive.evaluate_population(
        plans,
        folder / "participants.csv",
        {"deal": folder / "deals.csv", "credit": folder / "credit.csv"},
    )
    assert list(incentive.explain_all(population, lang="zh")) == [
        (p.participant_id, incentive.explain(p, "zh"))
        for run in population.runs.values()
        for p in run.participants
    ]


# ---- exact rationals ----------------------------------------------------------------
_modes = st.sampled_from(["half_up", "half_even", "half_down", "up", "down", "ceiling", "floor"])


@given(
    st.lists(
        st.fractions(
            min_value=Fraction(-(10**9)), max_value=Fraction(10**9), max_denominator=10**6
        ),
        min_size=1,
        max_size=20,
    ),
    _modes,
    st.sampled_from(["0.01", "1", "0.1", "0.05", "10"]),
)
def test_rounding_columns_is_rounding_each_value(
    values: list[Fraction], mode: str, quantum_text: str
) -> None:
    quantum = Decimal(quantum_text)
    for value in values:  # each alone: together their common denominator may not fit
        (count,) = round_units(Ratio.of([value]), quantum, mode).tolist()
        assert Decimal(count) * quantum == quantize(value, quantum, mode)  # type: ignore[arg-type]


@given(
    st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=10),
    st.lists(st.integers(1, 10**4), min_size=1, max_size=10),
)
def test_ratio_arithmetic_is_fraction_arithmetic(nums: list[int], dens: list[int]) -> None:
    size = min(len(nums), len(dens))
    fa = [Fraction(n, d) for n, d in zip(nums[:size], dens[:size], strict=True)]
    fb = [Fraction(d, 7) for d in dens[:size]]
    try:
        a, b = Ratio.of(list(fa)), Ratio.of(list(fb))
        results = [(a + b), (a - b), (a * b), (a / b)]
    except Int64OverflowError:  # refused, never wrapped: the straightforward engine takes it
        assume(False)
    pairs = list(zip(fa, fb, strict=True))
    assert results[0].fractions() == [x + y for x, y in pairs]
    assert results[1].fractions() == [x - y for x, y in pairs]
    assert results[2].fractions() == [x * y for x, y in pairs]
    assert results[3].fractions() == [x / y for x, y in pairs]
    assert a.lt(b).tolist() == [x < y for x, y in pairs]
    assert a.eq(b).tolist() == [x == y for x, y in pairs]


def test_a_product_that_might_not_fit_int64_is_refused_not_wrapped() -> None:
    big = Ratio(np.array([3 * 10**9, 1], dtype=np.int64), 1)
    with pytest.raises(Int64OverflowError):
        _ = big * big * big


def test_a_negative_literal_and_a_team_value_of_shares_take_the_columns() -> None:
    plan = incentive.load_plan(
        PLAN.replace('status = "won" and closed in period', "amount > -5 and closed in period")
        + "measure team_attainment = average of attainment within team\n"
        + "component team_bonus = 100 * team_attainment\n",
        filename="t.rules",
    )
    assert columnar.plan_refusal(plan) is None
    fast = incentive.evaluate(plan, PEOPLE, {"deal": DEALS}, engine="columnar")
    slow = incentive.evaluate(plan, PEOPLE, {"deal": DEALS}, engine="straightforward")
    assert _lines(fast) == _lines(slow)
    assert list(fast.dispositions) == list(slow.dispositions)


def test_a_statement_explains_what_was_read_even_when_the_files_are_gone(
    tmp_path: Path,
) -> None:
    files = {}
    for name, rows in (("people", PEOPLE), ("deals", DEALS)):
        path = files[name] = tmp_path / f"{name}.csv"
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    plan = _plan()
    fast = incentive.evaluate(plan, files["people"], {"deal": files["deals"]}, engine="columnar")
    slow = incentive.evaluate(
        plan, files["people"], {"deal": files["deals"]}, engine="straightforward"
    )
    for path in files.values():
        path.unlink()
    assert incentive.explain(fast.participant("P2")) == incentive.explain(slow.participant("P2"))


def test_team_values_of_values_without_a_common_int64_denominator_stay_exact() -> None:
    # Each rep's share has a denominator near 10**8; together they have no common one
    # that fits int64, so the team sums are worked out group by group, exactly.
    plan = incentive.load_plan(
        PLAN + "measure share = quota / max(revenue, 1)\n"
        "measure team_share = sum of share within team\n"
        "component share_bonus = 1000 * team_share\n",
        filename="t.rules",
    )
    deals = [dict(row) for row in DEALS]
    for row, cents in zip(deals, ("1000000.07", "999999.37", "1000000.39"), strict=False):
        row["amount"], row["status"], row["closed"] = cents, "won", "2026-07-10"
    deals[1]["owner"] = "P2"
    deals[2]["owner"] = "P10"
    fast = incentive.evaluate(plan, PEOPLE, {"deal": deals}, engine="columnar")
    slow = incentive.evaluate(plan, PEOPLE, {"deal": deals}, engine="straightforward")
    assert _lines(fast) == _lines(slow)


def _big_deals(
    path: Path, rows: int, bad_row: int | None = None, ragged: int | None = None
) -> None:
    with path.open("w", newline="") as f:
        f.write("deal_id,owner,amount,closed,status\n")
        for n in range(rows):
            amount = "1e3" if n == bad_row else f"{n % 997}.{n % 100:02d}"
            extra = ",x" if n == ragged else ""
            f.write(f"D{n},P{1 + n % 3},{amount},2026-08-{1 + n % 28:02d},won{extra}\n")


def test_blocks_read_ahead_in_a_thread_that_ends_with_the_reading(tmp_path: Path) -> None:
    plan = _plan()
    deals = tmp_path / "deals.csv"
    _big_deals(deals, 200_000, bad_row=3)  # several blocks; refused in the first
    with pytest.raises(incentive.UnsupportedError, match="form read row by row"):
        incentive.evaluate(plan, PEOPLE, {"deal": deals}, engine="columnar")
    _big_deals(deals, 200_000, ragged=150_000)  # a row of the wrong shape, blocks later
    with pytest.raises(incentive.UnsupportedError, match="not plain CSV"):
        incentive.evaluate(plan, PEOPLE, {"deal": deals}, engine="columnar")
    _big_deals(deals, 200_000)
    fast = incentive.evaluate(plan, PEOPLE, {"deal": deals}, engine="columnar")
    assert fast.records.read == 200_000
    for thread in threading.enumerate():
        if thread.name == "incentive-csv":
            thread.join(5)
    assert not [t for t in threading.enumerate() if t.name == "incentive-csv" and t.is_alive()]


def test_sums_of_parts_and_rescaled_filters_are_refused_rather_than_wrapped(
    tmp_path: Path,
) -> None:
    parts = incentive.load_plan(PLAN.replace("200 only when monthly >= quota / 3", "quota * 10000"))
    people = [dict(row, quota="3100000000000") for row in PEOPLE]
    with pytest.raises(incentive.UnsupportedError, match="int64"):
        incentive.evaluate(parts, people, {"deal": DEALS}, engine="columnar")
    # A column read with two decimals in its first block and six in a later one.
    deals = tmp_path / "deals.csv"
    with deals.open("w") as f:
        f.write("deal_id,owner,amount,closed,status\nD0,P1,1000000000000.00,2026-07-01,won\n")
        f.writelines(f"D{n},P1,1.00,2026-07-01,won\n" for n in range(1, 60_000))
        f.write("Dlast,P1,0.123456,2026-07-01,won\n")
    filtered = incentive.load_plan(PLAN.replace('status = "won" and', "amount > 0.1 and"))
    with pytest.raises(incentive.UnsupportedError, match="int64"):
        incentive.evaluate(filtered, PEOPLE, {"deal": deals}, engine="columnar")
    both = [
        incentive.evaluate(filtered, PEOPLE, {"deal": deals}, engine=engine)
        for engine in ("auto", "straightforward")
    ]
    assert _lines(both[0]) == _lines(both[1])


def test_a_refusal_mid_file_ends_the_reader_and_progress_stays_on_the_callers_thread(
    tmp_path: Path,
) -> None:
    deals = tmp_path / "deals.csv"
    seen: list[str] = []

    def run() -> None:
        incentive.evaluate(
            _plan(),
            PEOPLE,
            {"deal": deals},
            engine="columnar",
            progress=lambda *_: seen.append(threading.current_thread().name),
        )

    _big_deals(deals, 200_000, bad_row=3)
    with pytest.raises(incentive.UnsupportedError) as kept:
        run()
    # The error is still held, with its traceback: the reader has ended all the same.
    assert kept.value.reason
    assert not [t for t in threading.enumerate() if t.name == "incentive-csv"]
    _big_deals(deals, 200_000)
    run()
    assert set(seen) == {threading.current_thread().name}


def _outcome(plan: incentive.CompiledPlan, people: Any, records: Any, engine: str) -> object:
    try:
        result = incentive.evaluate(plan, people, records, engine=engine)  # type: ignore[arg-type]
    except incentive.IncentiveError as error:
        return (type(error).__name__, str(error))
    return (_lines(result), result.records, list(result.dispositions))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


_HEADER = "deal_id,owner,amount,closed,status\n"
_ROW = "D1,P1,100.00,2026-07-02,won\n"


@pytest.mark.parametrize(
    ("label", "deals"),
    [
        (
            "a padded duplicate column",
            _HEADER.replace("status", "status,status ") + _ROW[:-1] + ",x\n",
        ),
        (
            "a quoted duplicate column",
            _HEADER.replace("status", 'status,"status"') + _ROW[:-1] + ",x\n",
        ),
        ("a quote after a quoted value", _HEADER + 'D1,P1,100.00,2026-07-02,"won"x\n'),
        ("a quoted amount run on", _HEADER + 'D1,P1,"100"5,2026-07-02,won\n'),
        ("a quoted value", _HEADER + 'D1,P1,100.00,2026-07-02,"won"\n'),
        ("a header with a byte order mark", "\ufeff" + _HEADER + _ROW),
        ("a blank line", _HEADER + _ROW + "\n" + _ROW.replace("D1", "D2")),
    ],
)
def test_files_the_row_reader_reads_its_own_way_are_left_to_it(
    tmp_path: Path, label: str, deals: str
) -> None:
    plan = _plan()
    records = {"deal": _write(tmp_path / "deals.csv", deals)}
    expected = _outcome(plan, PEOPLE, records, "straightforward")
    assert _outcome(plan, PEOPLE, records, "auto") == expected, label


def test_quoted_values_are_read_by_the_row_readers_rules_and_paid_as_columns(
    tmp_path: Path,
) -> None:
    # Exports quote a name holding a comma; the whole file is then parsed by Python's csv
    # module, as the row reader parses it, and still paid as columns.
    people = _write(
        tmp_path / "people.csv",
        "id,name,team,quota,hired\n"
        '"P1","Wang, Fang",a,30000.00,2025-01-01\n'
        "P2,Li,a,20000,2026-08-15\n"
        'P10,"Zhao Lei",b,10000.50,2024-03-01\n'
        "P3,Sun,b,15000.00,2026-07-01\n",
    )
    deals = _write(
        tmp_path / "deals.csv",
        "deal_id,owner,amount,closed,status\n"
        + "".join(
            f'"{d["deal_id"]}",{d["owner"]},"{d["amount"]}",{d["closed"]},{d["status"]}\n'
            for d in DEALS
        ),
    )
    plan = _plan()
    fast = incentive.evaluate(plan, people, {"deal": deals}, engine="columnar")
    slow = incentive.evaluate(plan, people, {"deal": deals}, engine="straightforward")
    assert _lines(fast) == _lines(slow)
    assert list(fast.dispositions) == list(slow.dispositions)
    assert fast.participant("P1").name == "Wang, Fang"
    for lang in ("en", "zh"):
        assert incentive.explain(fast.participant("P1"), lang) == incentive.explain(
            slow.participant("P1"), lang
        )


@pytest.mark.parametrize(
    ("label", "deals"),
    [
        ("a value over two lines", _HEADER + 'D1,P1,100.00,2026-07-02,"w\non"\n'),
        ("a quote left inside a value", _HEADER + 'D1,P1,100.00,2026-07-02,"say ""won"""\n'),
        ("a short quoted row", _HEADER + 'D1,P1,"100.00",2026-07-02\n'),
    ],
)
def test_quoted_files_the_columns_cannot_vouch_for_are_left_to_the_row_reader(
    tmp_path: Path, label: str, deals: str
) -> None:
    plan = _plan()
    records = {"deal": _write(tmp_path / "deals.csv", deals)}
    with pytest.raises(incentive.UnsupportedError):
        incentive.evaluate(plan, PEOPLE, records, engine="columnar")
    expected = _outcome(plan, PEOPLE, records, "straightforward")
    assert _outcome(plan, PEOPLE, records, "auto") == expected, label


@pytest.mark.parametrize(
    ("label", "change"),
    [
        ("None as an id", lambda people, deals: deals[0].update(deal_id=None)),
        ("None as an amount", lambda people, deals: deals[0].update(amount=None)),
        ("bytes as a status", lambda people, deals: deals[0].update(status=b"won")),
        ("an int as an amount", lambda people, deals: deals[0].update(amount=100)),
        ("a name on one row only", lambda people, deals: people[0].update(name="Ann")),
        ("a row that is no mapping", lambda people, deals: deals.append("D9")),
        ("no participants", lambda people, deals: people.clear()),
    ],
)
def test_rows_in_memory_the_row_reader_reads_its_own_way_are_left_to_it(
    label: str, change: Any
) -> None:
    people = [dict(row) for row in PEOPLE]
    deals: list[Any] = [dict(row) for row in DEALS]
    change(people, deals)
    plan = _plan()
    expected = _outcome(plan, people, {"deal": deals}, "straightforward")
    assert _outcome(plan, people, {"deal": deals}, "auto") == expected, label


def test_kinds_missing_or_unknown_and_rows_from_a_generator_are_left_to_the_row_reader() -> None:
    plan = _plan()
    for records in ({}, {"deal": DEALS, "visit": []}):
        expected = _outcome(plan, PEOPLE, records, "straightforward")
        assert _outcome(plan, PEOPLE, records, "auto") == expected
    # Outside the declared type, yet met in practice: read once, by the row reader only.
    rows: Any = (row for row in DEALS)
    with pytest.raises(incentive.UnsupportedError, match="list"):
        incentive.evaluate(plan, PEOPLE, {"deal": rows}, engine="columnar")
    again: Any = (row for row in DEALS)
    generated = incentive.evaluate(plan, PEOPLE, {"deal": again})
    assert _lines(generated) == _lines(_both()[1])


def test_columnar_results_are_pydantic_models_like_the_others() -> None:
    fast, slow = _both()
    assert fast.model_dump() == slow.model_dump()
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast == incentive.evaluate(_plan(), PEOPLE, {"deal": DEALS}, engine="columnar")
    assert fast.participants == slow.participants
    as_before: Any = fast.participants  # a tuple before: code adding one still works
    first = slow.participants[0]
    assert as_before + (first,) == (*slow.participants, first)  # noqa: RUF005  # the operator is what is tested
    assert fast.participants[1:3] == tuple(slow.participants[1:3])
    again = pickle.loads(pickle.dumps(fast))
    assert again == slow
    assert incentive.explain(again.participant("P2")) == incentive.explain(slow.participant("P2"))
    dumped = fast.participant("P1").model_dump()
    rebuilt = incentive.ParticipantResult(trace=slow.participant("P1").trace, **dumped)
    assert incentive.explain(rebuilt) == incentive.explain(slow.participant("P1"))
    with pytest.raises(ValueError, match="no trace"):
        _ = incentive.ParticipantResult(**dumped).trace


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="straightfoward"):
        incentive.evaluate(_plan(), PEOPLE, {"deal": DEALS}, engine="straightfoward")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("label", "lines", "takes_columns"),
    [
        (
            "if",
            "component share = 1000 * (if quota > 0 then revenue / quota else 0%)\n",
            True,
        ),
        ("gate", "component share = 1000 * (revenue / quota) only when quota > 0\n", True),
        (
            "second gate",
            "component share = 100 only when quota > 0, only when revenue / quota > 10%\n",
            True,
        ),
        ("and", "component share = 100 only when quota > 0 and revenue / quota > 10%\n", True),
        ("or", "component share = 100 only when quota = 0 or revenue / quota > 10%\n", True),
        (
            "tiers",
            "component share = marginal tiers of revenue against quota:\n"
            "    0% and above pays 1%\n"
            "    only when quota > 0\n",
            True,
        ),
        ("unguarded", "component share = 1000 * (revenue / quota)\n", False),
        (
            "the wrong branch",
            "component share = 1000 * (if quota > 0 then 0% else revenue / quota)\n",
            False,
        ),
    ],
)
def test_a_division_by_zero_where_its_value_is_never_used_is_no_error(
    label: str, lines: str, takes_columns: bool
) -> None:
    head = PLAN[: PLAN.index("measure attainment")].replace("positive money", "money")
    plan = incentive.load_plan(head + lines, filename="t.rules")
    people = [dict(row) for row in PEOPLE]
    people[1]["quota"] = "0"
    expected = _outcome(plan, people, {"deal": DEALS}, "straightforward")
    assert _outcome(plan, people, {"deal": DEALS}, "auto") == expected, label
    if takes_columns:
        incentive.evaluate(plan, people, {"deal": DEALS}, engine="columnar")
    else:
        with pytest.raises(incentive.UnsupportedError):
            incentive.evaluate(plan, people, {"deal": DEALS}, engine="columnar")
