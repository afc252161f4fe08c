"""Teams: rankings, group values, pools, overrides, credit rows, exchange rates and
several plans in one run, at the edges where a rule that is slightly off pays the wrong
person: ties at the top-N line, teams nobody in is ranked, weights that are all zero,
trees that loop, shares that do not add up."""

from __future__ import annotations

from decimal import Decimal

import pytest

import incentive
from incentive.engine.trace import PoolStep, RankStep
from incentive.errors import EvaluationError, PlanCheckError, RecordError

Rows = list[dict[str, str]]

HEADER = """
plan "{name}"
currency CNY
period 2026-07-01 to 2026-09-30
rounding half_up to 0.01 per component
"""
DEALS = (
    "deal fields: deal_id id, owner participant, amount money, closed_on date\n"
    "measure revenue = sum of deal.amount\n"
)


def _plan(body: str, name: str = "t") -> incentive.CompiledPlan:
    return incentive.load_plan(HEADER.format(name=name) + body, filename=f"{name}.rules")


def _deal(number: int, owner: str, amount: str, day: str = "2026-08-01") -> dict[str, str]:
    return {"deal_id": f"D-{number}", "owner": owner, "amount": amount, "closed_on": day}


def _rank(result: incentive.ParticipantResult, component: str = "honor") -> RankStep:
    trace = next(c for c in result.trace.components if c.name == component)
    step = trace.gates[0].expr
    assert isinstance(step, RankStep)
    return step


def _revenue(result: incentive.RunResult, pid: str) -> Decimal:
    """A participant's revenue measure, exact (a Decimal: no division makes it)."""
    value = result.participant(pid).trace.measures["revenue"].step.value
    assert isinstance(value, Decimal)
    return value


def _pool(result: incentive.ParticipantResult, component: str = "share") -> PoolStep:
    trace = next(c for c in result.trace.components if c.name == component)
    assert isinstance(trace.body, PoolStep)
    return trace.body


# ---- rankings -----------------------------------------------------------------------------
RANKED = (
    "participant fields: team text\n"
    + DEALS
    + "measure last_win = maximum of deal.closed_on\n"
    + "measure team_revenue = sum of revenue within team\n"
    + "ranking top = revenue highest first within team{ties}{public}\n"
    + "component honor = 500 only when top in top 2\n"
    + "component share = pool of 1% * team_revenue within team shared by revenue\n"
)
TEAM: Rows = [
    {"id": "N-1", "name": "Zhao Lei", "team": "North"},
    {"id": "N-2", "name": "Qian Yu", "team": "North"},
    {"id": "N-3", "name": "Sun Hao", "team": "North"},
    {"id": "N-4", "name": "Li Na", "team": "North"},
    {"id": "E-1", "name": "Feng Yi", "team": "East"},
    {"id": "E-2", "name": "Chen Lu", "team": "East"},
]


def _ranked(
    ties: str = "", *, public: bool = False, n2_day: str = "2026-08-20"
) -> incentive.RunResult:
    """North: N-1 ¥300, N-2 and N-3 ¥200 each (N-3's last win on 5 August, N-2's on
    ``n2_day``), N-4 ¥100.  East: E-2 has one deal of ¥0.00, E-1 none."""
    plan = _plan(RANKED.format(ties=ties, public=", public" if public else ""))
    deals = [
        _deal(1, "N-1", "300.00", "2026-07-10"),
        _deal(2, "N-2", "200.00", n2_day),
        _deal(3, "N-3", "200.00", "2026-08-05"),
        _deal(4, "N-4", "100.00", "2026-08-05"),
        _deal(5, "E-2", "0.00", "2026-08-05"),
    ]
    return incentive.evaluate(plan, TEAM, {"deal": deals})


def test_a_declared_tie_rule_decides_who_is_in_the_top_n() -> None:
    # N-2 and N-3 both have ¥200; N-3 won their last deal first (5 August against 20
    # August), so N-3 is second and paid, N-2 third and not.
    result = _ranked(", ties by last_win earliest first")
    ranks = {pid: _rank(result.participant(pid)).rank for pid in ("N-1", "N-2", "N-3", "N-4")}
    assert ranks == {"N-1": 1, "N-2": 3, "N-3": 2, "N-4": 4}
    paid = {pid: result.participant(pid).amount("honor") for pid in ranks}
    assert paid == {"N-1": 500, "N-2": 0, "N-3": 500, "N-4": 0}
    text = incentive.explain(result.participant("N-2"))
    assert "3 of 4 ranked in team North (4 members)" in text
    assert "placed by the tie rule (last win earliest first)" in text


@pytest.mark.parametrize(
    ("ties", "n2_day"),
    [
        pytest.param("", "2026-08-20", id="no-tie-rule"),
        pytest.param(", ties by last_win earliest first", "2026-08-05", id="same-last-win"),
    ],
)
def test_members_the_tie_rules_cannot_tell_apart_share_the_rank_and_are_both_paid(
    ties: str, n2_day: str
) -> None:
    # Competition ranking: 1, 2, 2, 4.  Both of rank 2 are in the top 2; N-4 is fourth,
    # not third.
    result = _ranked(ties, n2_day=n2_day)
    ranks = {pid: _rank(result.participant(pid)).rank for pid in ("N-1", "N-2", "N-3", "N-4")}
    assert ranks == {"N-1": 1, "N-2": 2, "N-3": 2, "N-4": 4}
    assert [result.participant(p).amount("honor") for p in ranks] == [500, 500, 500, 0]
    assert "so you share the rank" in incentive.explain(result.participant("N-3"))
    assert "名次并列" in incentive.explain(result.participant("N-3"), lang="zh")


def test_a_team_with_nobody_above_zero_has_no_ranks_and_no_pool() -> None:
    result = _ranked(", ties by id")
    for pid in ("E-1", "E-2"):
        paid = result.participant(pid)
        step = _rank(paid)
        assert (step.rank, step.ranked, step.members) == (None, 0, 2)
        assert paid.amount("honor") == paid.amount("share") == Decimal("0.00")
        assert _pool(paid).pool == Decimal("0.00")
    # E-2's deal of ¥0.00 is counted, but zero is never ranked.
    text = incentive.explain(result.participant("E-2"))
    assert (
        "top: not ranked in team East (2 members): only revenue above zero is ranked, "
        "and yours is ¥0.00." in text
    )
    assert "Gate: top (not ranked) within the top 2 does not hold" in text
    zh = incentive.explain(result.participant("E-2"), lang="zh")
    assert "未在team East（2 名成员）中排名" in zh
    # North's pool is 1% × ¥800 = ¥8.00, shared by revenue: 3.00, 2.00, 2.00, 1.00.
    north = [result.participant(p).amount("share") for p in ("N-1", "N-2", "N-3", "N-4")]
    assert north == [Decimal("3.00"), Decimal("2.00"), Decimal("2.00"), Decimal("1.00")]


def test_a_public_ranking_names_the_neighbours_and_a_private_one_names_nobody() -> None:
    public = _ranked(public=True)
    text = incentive.explain(public.participant("N-2"))
    assert "Next above: N-1, rank 1, ¥300.00" in text
    assert "Next below: N-3, rank 2, ¥200.00" in text  # equal keys: shown by id
    assert "前一名：N-1，第 1 名，¥300.00" in incentive.explain(
        public.participant("N-2"), lang="zh"
    )

    private = _ranked(", ties by last_win earliest first")
    ids = [person["id"] for person in TEAM]
    for pid in ids:
        step = _rank(private.participant(pid))
        assert all(n is None or n.participant_id is None for n in (step.above, step.below))
        for lang in ("en", "zh"):
            text = incentive.explain(private.participant(pid), lang=lang)
            assert [other for other in ids if other in text] == [pid], (pid, lang)
    # The values next to yours are shown, without the names.
    assert "Next above: rank 1, ¥300.00" in incentive.explain(private.participant("N-3"))


# ---- the group of everyone ------------------------------------------------------------------
EVERYONE = (
    "participant fields: quota positive money\n"
    + DEALS
    + "measure attainment = revenue / quota\n"
    + "measure all_revenue = sum of revenue within everyone\n"
    + "ranking top = attainment highest first within everyone\n"
    + "component honor = all_revenue * 1% only when top in top 1\n"
    + "component share = pool of 100 within everyone shared by attainment\n"
)
QUOTAS: Rows = [
    {"id": "A-1", "name": "Zhao", "quota": "300.00"},
    {"id": "A-2", "name": "Qian", "quota": "700.00"},
    {"id": "A-3", "name": "Sun", "quota": "900.00"},
]


def _everyone() -> incentive.RunResult:
    deals = [_deal(n, f"A-{n}", "100.00") for n in (1, 2, 3)]
    return incentive.evaluate(_plan(EVERYONE), QUOTAS, {"deal": deals})


def test_everyone_is_one_group_of_the_whole_plan() -> None:
    result = _everyone()
    # Attainments 1/3, 1/7 and 1/9: A-1 is first and paid 1% of everyone's ¥300.
    assert [_rank(result.participant(p)).rank for p in ("A-1", "A-2", "A-3")] == [1, 2, 3]
    assert result.participant("A-1").amount("honor") == Decimal("3.00")
    # ¥100 by attainment: 100 × 21/37 = 56.7567…, 100 × 9/37 = 24.3243…,
    # 100 × 7/37 = 18.9189…; floors 56.75 + 24.32 + 18.91 = 99.98 leave two cents, for
    # the largest remainders .89 and .67.
    shares = [result.participant(p).amount("share") for p in ("A-1", "A-2", "A-3")]
    assert shares == [Decimal("56.76"), Decimal("24.32"), Decimal("18.92")]
    assert _pool(result.participant("A-2")).members == 3


def test_statements_name_the_group_of_everyone_once() -> None:
    paid = _everyone().participant("A-1")
    assert "everyone everyone" not in incentive.explain(paid)
    assert "everyone 本方案" not in incentive.explain(paid, lang="zh")


# ---- team pools ---------------------------------------------------------------------------
POOL = (
    "participant fields: team text, weight number\n"
    "component share = pool of 100 within team shared by weight\n"
)


def _people(*rows: tuple[str, str, str]) -> Rows:
    return [{"id": pid, "name": pid, "team": team, "weight": w} for pid, team, w in rows]


def test_a_pool_whose_weights_are_all_zero_is_shared_equally_and_ids_tie_by_number() -> None:
    people = _people(("T-10", "x", "0"), ("T-9", "x", "0"), ("T-2", "x", "0"), ("U-1", "y", "5"))
    result = incentive.evaluate(_plan(POOL), people, {})
    # ¥100 ÷ 3 = 33.333…: 33.33 each and one cent over, to the smallest id.  Ids compare
    # by number: T-2 before T-9 before T-10.
    shares = {pid: result.participant(pid).amount("share") for pid in ("T-10", "T-9", "T-2")}
    assert shares == {"T-10": Decimal("33.33"), "T-9": Decimal("33.33"), "T-2": Decimal("33.34")}
    assert _pool(result.participant("T-9")).equal_fallback
    assert result.participant("U-1").amount("share") == Decimal("100.00")
    text = incentive.explain(result.participant("T-2"))
    assert "Every member's weight is zero, so the pool is shared equally" in text
    assert "¥33.33 + ¥0.01 = ¥33.34" in text


def test_a_negative_share_stops_the_pool_for_the_whole_team() -> None:
    people = _people(("A-1", "x", "1"), ("A-2", "x", "-1"), ("A-3", "y", "2"))
    with pytest.raises(EvaluationError) as caught:
        incentive.evaluate(_plan(POOL), people, {})
    found = [(p.code, p.participant_id) for p in caught.value.problems]
    assert found == [("E604", "A-1"), ("E604", "A-2")]
    for problem in caught.value.problems:
        assert problem.message == (
            "team 'x': the pool cannot be shared: 'weight' is -1 for A-2, and a share "
            "cannot be negative"
        )
        assert problem.span is not None
        assert problem.span.line == 7


EMPLOYED = (
    "employment from hired_on to left_on\n"
    "participant fields: team text, hired_on date, left_on optional date\n"
)
STAFF: Rows = [
    {"id": "A-1", "name": "a", "team": "x", "hired_on": "2020-01-01", "left_on": ""},
    {"id": "A-2", "name": "b", "team": "x", "hired_on": "2020-01-01", "left_on": "2026-08-15"},
]


def test_a_pool_amount_that_differs_between_members_is_refused() -> None:
    # A rate that changes on 1 August is read over the days each member was employed:
    # A-1 all 92 days, 1000 × (31 × 10% + 61 × 20%) / 92 = 166.304347…; A-2, who left on
    # 15 August, 46 days, 1000 × (31 × 10% + 15 × 20%) / 46 = 132.608695…: the pool
    # would differ between members, so the checker refuses it before anyone is paid.
    with pytest.raises(incentive.PlanCheckError) as caught:
        _plan(
            EMPLOYED
            + "schedule rate:\n"
            + "    from 2026-07-01 to 2026-07-31: 10%\n"
            + "    from 2026-08-01 to 2026-09-30: 20%\n"
            + "component share = pool of 1000 * rate within team shared equally\n"
        )
    [error] = caught.value.errors
    assert error.code == "P204"
    assert "'rate' is a value of each member" in error.message


def test_a_member_not_employed_in_the_period_takes_no_share_of_the_pool() -> None:
    left = {"id": "A-3", "name": "c", "team": "x", "hired_on": "2020-01-01"}
    people = [*STAFF, {**left, "left_on": "2026-06-30"}]
    plan = _plan(EMPLOYED + "component share = pool of 100 within team shared equally\n")
    result = incentive.evaluate(plan, people, {})
    shares = [result.participant(p).amount("share") for p in ("A-1", "A-2", "A-3")]
    # Actual: 33.34, 33.33 and 0.00, so ¥33.33 of the ¥100 pool is never paid.
    assert sum(shares) == Decimal("100.00")
    assert shares == [Decimal("50.00"), Decimal("50.00"), Decimal("0.00")]


# ---- manager overrides ----------------------------------------------------------------------
LINKED = "participant fields: manager participant\n" + DEALS
REP = LINKED + "component commission = revenue * 10%\n"
MANAGER = (
    LINKED
    + "component override = override of revenue through manager:\n"
    + "    level 1 pays 3%\n"
    + "    level 2 pays 1%\n"
)
OTHER = (
    "participant fields: manager participant\n"
    "deal fields: deal_id id, owner participant, amount money, closed_on date\n"
    "measure sales = sum of deal.amount\n"
    "component commission = sales * 1%\n"
)
ORG: Rows = [
    {"id": "V-1", "name": "Gao Ming", "plan": "manager", "manager": ""},
    {"id": "M-1", "name": "Lin Xue", "plan": "manager", "manager": "V-1"},
    {"id": "M-2", "name": "He Jun", "plan": "manager", "manager": "V-1"},
    {"id": "M-3", "name": "Wu Min", "plan": "manager", "manager": ""},
    {"id": "R-1", "name": "Zhao Lei", "plan": "rep", "manager": "M-1"},
    {"id": "R-2", "name": "Qian Yu", "plan": "rep", "manager": "M-1"},
    {"id": "R-3", "name": "Sun Hao", "plan": "rep", "manager": "M-2"},
]
ORG_DEALS: Rows = [
    _deal(1, "R-1", "1000.00"),
    _deal(2, "R-2", "2000.00"),
    _deal(3, "R-3", "333.33"),
    _deal(4, "M-2", "100.00"),
]


def _plans() -> dict[str, incentive.CompiledPlan]:
    return {
        "rep": _plan(REP, "rep"),
        "manager": _plan(MANAGER, "manager"),
        "other": _plan(OTHER, "other"),
    }


def test_overrides_pay_two_levels_of_the_tree_across_plans() -> None:
    result = incentive.evaluate_population(_plans(), ORG, {"deal": ORG_DEALS})
    override = {p: result.participant(p).amount("override") for p in ("V-1", "M-1", "M-2", "M-3")}
    assert override == {
        # level 1: M-1 ¥0 and M-2 ¥100 at 3% = 3; level 2: ¥3,333.33 at 1%
        # = 33.3333; 36.3333 → 36.33
        "V-1": Decimal("36.33"),
        # level 1, ¥3,000 at 3%; nobody at level 2
        "M-1": Decimal("90.00"),
        # level 1: R-3, ¥333.33 at 3% = 9.9999 → 10.00 (M-2's own revenue is not counted)
        "M-2": Decimal("10.00"),
        # nobody reports to M-3
        "M-3": Decimal("0.00"),
    }
    assert result.plan_of("R-1") == "rep"
    # the overrides, and the reps' commissions 100.00 + 200.00 + 33.33
    assert result.total == Decimal("469.66")
    text = incentive.explain(result.participant("M-3"))
    assert "Level 1 at 3%: 0 people" in text
    assert "Level 2 at 1%: 0 people" in text
    lines = incentive.explain(result.participant("V-1")).splitlines()
    assert "R-3 Sun Hao: ¥333.33 × 1% = ¥3.3333" in [line.strip() for line in lines]


def test_an_override_on_a_report_whose_plan_lacks_the_measure_is_refused() -> None:
    people = [dict(row) for row in ORG]
    people[6]["plan"] = "other"  # R-3's plan calls its revenue 'sales'
    with pytest.raises(EvaluationError) as caught:
        incentive.evaluate_population(_plans(), people, {"deal": ORG_DEALS})
    assert [(p.code, p.participant_id, p.message) for p in caught.value.problems] == [
        (
            "E605",
            "V-1",
            "R-3 reports to V-1 (level 2), but their plan 'other' has no measure 'revenue' "
            "for the override",
        ),
        (
            "E605",
            "M-2",
            "R-3 reports to M-2 (level 1), but their plan 'other' has no measure 'revenue' "
            "for the override",
        ),
    ]


# ---- rows of participants: plans and managers -------------------------------------------------
def _refused(people: Rows) -> list[str]:
    with pytest.raises(RecordError) as caught:
        incentive.evaluate_population(_plans(), people, {"deal": []})
    return [p.render() for p in caught.value.problems]


def test_a_participant_with_no_plan_or_an_unknown_one_is_rejected() -> None:
    people = [dict(row) for row in ORG]
    people[4]["plan"] = "sales"
    people[5]["plan"] = ""
    assert _refused(people) == [
        "<participants>:5: error[R413]: field 'plan': 'sales' is not one of the plans: "
        "manager, other, rep",
        "<participants>:6: error[R413]: field 'plan': is empty; each participant needs one "
        "of the plans: manager, other, rep",
    ]


def test_a_manager_who_is_not_a_participant_is_rejected() -> None:
    people = [dict(row) for row in ORG]
    people[1]["manager"] = "X-9"
    assert _refused(people) == [
        "<participants>:2: error[R414]: field 'manager': 'X-9' is not a participant in the "
        "participants file"
    ]


def test_managing_oneself_and_a_cycle_of_three_are_rejected_row_by_row() -> None:
    people = [dict(row) for row in ORG]
    people[0]["manager"] = "V-1"
    people[4]["manager"], people[5]["manager"], people[6]["manager"] = "R-2", "R-3", "R-1"
    cycle = "R-1 → R-2 → R-3 → R-1"
    assert _refused(people) == [
        "<participants>:1: error[R414]: field 'manager': 'V-1' makes a cycle in the "
        "reporting tree: V-1 → V-1",
        f"<participants>:5: error[R414]: field 'manager': 'R-2' makes a cycle in the "
        f"reporting tree: {cycle}",
        f"<participants>:6: error[R414]: field 'manager': 'R-3' makes a cycle in the "
        f"reporting tree: {cycle}",
        f"<participants>:7: error[R414]: field 'manager': 'R-1' makes a cycle in the "
        f"reporting tree: {cycle}",
    ]


def test_the_rest_of_the_tree_is_paid_when_the_cycle_is_skipped() -> None:
    people = [dict(row) for row in ORG]
    people[4]["manager"], people[5]["manager"] = "R-2", "R-1"  # R-1 ⇄ R-2
    result = incentive.evaluate_population(_plans(), people, {"deal": ORG_DEALS}, skip_invalid=True)
    # M-1 has no reports left; V-1: M-2 ¥100 × 3% + R-3 ¥333.33 × 1% = 6.3333
    assert result.participant("M-1").amount("override") == Decimal("0.00")
    assert result.participant("V-1").amount("override") == Decimal("6.33")
    rejected = {d.record_id: d.status for d in result.dispositions}
    assert rejected == {"D-1": "rejected", "D-2": "rejected", "D-3": "counted", "D-4": "counted"}
    assert (result.records.read, result.records.rejected) == (4, 2)


def test_each_bad_row_is_reported_once_with_several_plans() -> None:
    people = [dict(row) for row in ORG]
    people[4]["plan"] = "sales"
    with pytest.raises(RecordError) as caught:
        incentive.evaluate_population(_plans(), people, {"deal": ORG_DEALS})
    codes = [(p.code, p.row) for p in caught.value.problems]
    assert codes == [("R413", 5), ("R404", 1)]
    assert "2 bad records" in str(caught.value)


# ---- rows of credit and exchange rates -----------------------------------------------------
CREDITED = (
    "deal fields: deal_id id, owner participant,\n"
    "    amount money converted from currency on closed_on,\n"
    "    currency text, closed_on date, status text\n"
    "credit fields: deal_id credit for deal, rep participant, share percent, "
    "overlay yes or no\n"
    "exchange rates:\n"
    "    from 2026-07-01 to 2026-07-31: USD 7.1450, EUR 7.8\n"
    "    from 2026-08-01 to 2026-08-31: USD 7.1320\n"
    'measure revenue = sum of deal.amount where status = "won"\n'
    "component commission = revenue * 10%\n"
)
REPS_IDS = ("R-1", "R-2", "R-3")
REPS: Rows = [{"id": pid, "name": f"Rep {pid}"} for pid in REPS_IDS]


def _sale(
    number: int,
    owner: str,
    amount: str,
    currency: str = "",
    day: str = "2026-07-15",
    status: str = "won",
) -> dict[str, str]:
    return {
        "deal_id": f"D-{number}",
        "owner": owner,
        "amount": amount,
        "currency": currency,
        "closed_on": day,
        "status": status,
    }


def _credit(deal: str, rep: str, share: str, overlay: str = "no") -> dict[str, str]:
    return {"deal_id": deal, "rep": rep, "share": share, "overlay": overlay}


SALES: Rows = [
    _sale(1, "R-1", "1000.00"),
    _sale(2, "R-1", "200.00", "USD"),
    _sale(3, "R-2", "100.00", "EUR", "2026-08-10"),  # no EUR rate in August
    _sale(4, "R-2", "500.00"),
    _sale(5, "R-3", "300.00", status="lost"),
    _sale(6, "R-3", "10.00", "USD", "2026-09-01"),  # no rate at all in September
]
CREDITS: Rows = [
    _credit("D-1", "R-1", "60%"),
    _credit("D-1", "R-2", "30%"),  # 90%: D-1 is rejected with both rows
    _credit("D-4", "R-1", "50%"),
    _credit("D-4", "R-2", "50%"),
    _credit("D-4", "R-3", "100%", "yes"),
    _credit("D-9", "R-3", "100%"),  # there is no D-9
    _credit("D-3", "R-1", "100%"),  # D-3 is rejected for its currency
]


def test_bad_shares_unknown_deals_and_missing_rates_name_their_rows() -> None:
    with pytest.raises(RecordError) as caught:
        incentive.evaluate(_plan(CREDITED), REPS, {"deal": SALES, "credit": CREDITS})
    assert [p.render() for p in caught.value.problems] == [
        "<deal records>:3: error[R412]: field 'currency': 'EUR' has no exchange rate on "
        "2026-08-10 (closed_on) in the plan's exchange rates",
        "<deal records>:6: error[R412]: field 'currency': 'USD' has no exchange rate on "
        "2026-09-01 (closed_on) in the plan's exchange rates",
        "<credit records>:6: error[R411]: field 'deal_id': 'D-9' is not a deal in <deal records>",
        "<credit records>:7: error[R411]: field 'deal_id': 'D-3' names a deal that was "
        "rejected (see <deal records>)",
        "<credit records>:1: error[R410]: field 'share': '60%' is one of the shares of deal "
        "D-1, which add up to 90%, not 100%",
        "<credit records>:2: error[R410]: field 'share': '30%' is one of the shares of deal "
        "D-1, which add up to 90%, not 100%",
        "<deal records>:1: error[R410]: deal D-1 is rejected: its credit shares do not add "
        "up to 100%",
    ]


def test_every_record_and_row_of_credit_is_counted_excluded_or_rejected_once() -> None:
    result = incentive.evaluate(
        _plan(CREDITED), REPS, {"deal": SALES, "credit": CREDITS}, skip_invalid=True
    )
    status = {(d.kind, d.record_id): d.status for d in result.dispositions}
    assert len(status) == len(result.dispositions) == len(SALES) + len(CREDITS)
    assert status == {
        ("deal", "D-1"): "rejected",
        ("deal", "D-2"): "counted",
        ("deal", "D-3"): "rejected",
        ("deal", "D-4"): "counted",
        ("deal", "D-5"): "excluded",
        ("deal", "D-6"): "rejected",
        ("credit", "row 1"): "rejected",
        ("credit", "row 2"): "rejected",
        ("credit", "row 3"): "counted",
        ("credit", "row 4"): "counted",
        ("credit", "row 5"): "counted",
        ("credit", "row 6"): "rejected",
        ("credit", "row 7"): "rejected",
    }
    summary = result.records
    assert (summary.read, summary.counted, summary.excluded, summary.rejected) == (13, 5, 1, 7)
    revenue = {pid: _revenue(result, pid) for pid in REPS_IDS}
    # USD 200 × 7.1450 = 1,429 + half of D-4 = 1,679; R-2: half of D-4;
    # R-3: D-4 again as an overlay, on top of the others' shares.
    assert revenue == {"R-1": Decimal(1679), "R-2": Decimal(250), "R-3": Decimal(500)}
    text = incentive.explain(result.participant("R-1"))
    assert "D-2: $200.00 × 7.1450 (rate of 2026-07-01 to 2026-07-31) = ¥1,429.00" in text
    assert "overlay credit (on top of the others' shares)" in incentive.explain(
        result.participant("R-3")
    )


def test_a_deal_takes_the_rate_of_the_row_covering_its_day() -> None:
    sales = [
        _sale(1, "R-1", "100.00", "USD", "2026-07-31"),
        _sale(2, "R-1", "100.00", "USD", "2026-08-01"),
        _sale(3, "R-1", "100.00", "CNY", "2026-08-01"),
        _sale(4, "R-1", "100.00", "", "2026-09-30"),
    ]
    result = incentive.evaluate(_plan(CREDITED), REPS, {"deal": sales, "credit": []})
    # 714.50 + 713.20 + 100 + 100, with no rate needed for yuan or no currency
    assert _revenue(result, "R-1") == Decimal("1627.70")
    assert result.participant("R-1").amount("commission") == Decimal("162.77")


def test_split_shares_are_exact_and_only_the_payout_is_rounded() -> None:
    sales = [_sale(1, "R-1", "100.01")]
    credits = [
        _credit("D-1", "R-1", "33.34%"),
        _credit("D-1", "R-2", "33.33%"),
        _credit("D-1", "R-3", "33.33%"),
    ]
    result = incentive.evaluate(_plan(CREDITED), REPS, {"deal": sales, "credit": credits})
    revenue = [_revenue(result, pid) for pid in REPS_IDS]
    # 100.01 × 33.34% = 33.343334; 100.01 × 33.33% = 33.333333 (twice); together 100.01
    assert revenue == [Decimal("33.343334"), Decimal("33.333333"), Decimal("33.333333")]
    assert sum(revenue) == Decimal("100.01")
    assert [result.participant(p).amount("commission") for p in REPS_IDS] == [
        Decimal("3.33"),
        Decimal("3.33"),
        Decimal("3.33"),
    ]


def test_an_overlay_alone_credits_on_top_of_the_owner() -> None:
    sales = [_sale(1, "R-1", "100.00")]
    credits = [_credit("D-1", "R-2", "50%", "yes")]
    result = incentive.evaluate(_plan(CREDITED), REPS, {"deal": sales, "credit": credits})
    revenue = [_revenue(result, pid) for pid in REPS_IDS]
    # Actual: [0, 50.0000, 0]: the deal's ¥100 is credited to nobody.
    assert revenue == [Decimal(100), Decimal(50), Decimal(0)]


# ---- several plans in one run ------------------------------------------------------------------
SOLD = (
    "deal fields: deal_id id, owner participant, amount money, status text\n"
    "credit fields: deal_id credit for deal, rep participant, share percent, "
    "overlay yes or no\n"
    'measure revenue = sum of deal.amount where status = "won"\n'
)


def test_a_record_credited_across_plans_is_listed_once() -> None:
    plans = {
        "ae": _plan(SOLD + "component commission = revenue * 4%\n", "ae"),
        "se": _plan(SOLD + "component overlay = revenue * 1%\n", "se"),
    }
    people = [
        {"id": "A-1", "name": "Zhao", "plan": "ae"},
        {"id": "A-2", "name": "Qian", "plan": "ae"},
        {"id": "S-1", "name": "Zhou", "plan": "se"},
    ]
    deals = [
        {"deal_id": "D-1", "owner": "A-1", "amount": "1000.00", "status": "won"},
        {"deal_id": "D-2", "owner": "A-1", "amount": "2000.00", "status": "won"},
        {"deal_id": "D-3", "owner": "A-2", "amount": "500.00", "status": "lost"},
    ]
    credits = [
        _credit("D-2", "A-1", "60%"),
        _credit("D-2", "S-1", "40%"),
        _credit("D-2", "A-2", "100%", "yes"),
    ]
    result = incentive.evaluate_population(plans, people, {"deal": deals, "credit": credits})
    # 1,000 + 60% of 2,000 = 2,200 at 4%; A-2: the overlay, 2,000 at 4%;
    # S-1: 40% of 2,000 = 800 at 1%
    assert result.participant("A-1").amount("commission") == Decimal("88.00")
    assert result.participant("A-2").amount("commission") == Decimal("80.00")
    assert result.participant("S-1").amount("overlay") == Decimal("8.00")
    assert result.total == Decimal("176.00")
    merged = [(d.kind, d.record_id, d.status, d.reason) for d in result.dispositions]
    assert sorted(merged) == [
        ("credit", "row 1", "counted", None),
        ("credit", "row 2", "counted", None),
        ("credit", "row 3", "counted", None),
        ("deal", "D-1", "counted", None),
        ("deal", "D-2", "counted", None),
        # the ae plan's reason, not "credited to participants of another plan"
        ("deal", "D-3", "excluded", 'line 8: status = "won"'),
    ]
    assert (result.records.read, result.records.counted, result.records.excluded) == (6, 5, 1)
    # Each plan's own run lists every record too; D-1 is no one's in the se plan.
    se = {d.record_id: d.reason for d in result.runs["se"].dispositions}
    assert se["D-1"] == "credited to participants of another plan"


def test_an_id_given_twice_on_different_plans_is_rejected() -> None:
    plans = {
        "ae": _plan(SOLD + "component commission = revenue * 4%\n", "ae"),
        "se": _plan(SOLD + "component overlay = revenue * 1%\n", "se"),
    }
    people = [
        {"id": "X-1", "name": "Zhao", "plan": "ae"},
        {"id": "X-1", "name": "Zhao again", "plan": "se"},
    ]
    deals = [{"deal_id": "D-1", "owner": "X-1", "amount": "100.00", "status": "won"}]
    # Actual: no error; ae pays X-1 ¥4.00 and se pays X-1 ¥1.00 for the same deal.
    with pytest.raises(RecordError) as caught:
        incentive.evaluate_population(plans, people, {"deal": deals, "credit": []})
    first = caught.value.problems[0]
    assert (first.code, first.row, first.value) == ("R407", 2, "X-1")


# ---- mistakes the check refuses ------------------------------------------------------------
MISTAKES = (
    "participant fields: team text, quota money, boss text\n"
    + DEALS
    + "measure team_revenue = sum of revenue within team\n"
)


@pytest.mark.parametrize(
    ("body", "code", "where", "message"),
    [
        pytest.param(
            "ranking top = revenue highest first within team\ncomponent c = top * 100",
            "P204",
            "top",
            "a ranking is read as 'top in top N'",
            id="ranking-outside-in-top",
        ),
        pytest.param(
            "ranking top = revenue highest first within team\ncomponent c = 100 only when top",
            "P204",
            "top",
            "a ranking is read as 'top in top N'",
            id="ranking-as-a-condition",
        ),
        pytest.param(
            "component c = 100 only when revenue in top 3",
            "P204",
            "revenue",
            "'in top' needs the name of a ranking",
            id="in-top-of-a-measure",
        ),
        pytest.param(
            "measure q = sum of revenue within quota\ncomponent c = q * 1%",
            "P204",
            "quota",
            "'quota' is an amount; a group is a text field",
            id="group-not-text",
        ),
        pytest.param(
            "component p = pool of team_revenue * 1% within team shared by revenue, capped at 100",
            "P204",
            ", capped at 100",
            "a pool share takes no gate, cap, floor or multiplier: its parts must add up to "
            "the pool",
            id="pool-with-a-cap",
        ),
        pytest.param(
            "component p = pool of revenue * 1% within team shared equally",
            "P204",
            "revenue",
            "a pool is computed once for each team; 'revenue' is a value of each member",
            id="pool-of-a-member-value",
        ),
        pytest.param(
            "measure m per month = sum of revenue within team\ncomponent c per month = m",
            "P211",
            "sum of revenue within team",
            "team values are for the whole period; this rule is computed per month",
            id="team-value-per-month",
        ),
        pytest.param(
            "component o = override of revenue through boss:\n    level 1 pays 3%",
            "P201",
            "boss",
            "'boss' is not a participant field naming each person's manager",
            id="override-through-text",
        ),
    ],
)
def test_team_mistakes_are_refused_where_they_are_written(
    body: str, code: str, where: str, message: str
) -> None:
    text = HEADER.format(name="t") + MISTAKES + body + "\n"
    with pytest.raises(PlanCheckError) as caught:
        incentive.load_plan(text, filename="t.rules")
    [error] = caught.value.errors
    assert (error.code, error.message) == (code, message)
    line = text.splitlines()[error.span.line - 1]
    assert line[error.span.column - 1 : error.span.end_column - 1] == where


def test_a_group_that_is_not_text_gets_a_useful_hint() -> None:
    text = HEADER.format(name="t") + MISTAKES + "measure q = sum of revenue within quota\n"
    with pytest.raises(PlanCheckError) as caught:
        incentive.load_plan(text + "component c = q * 1%\n", filename="t.rules")
    [error] = caught.value.errors
    assert error.hint != "did you mean 'quota'?"
