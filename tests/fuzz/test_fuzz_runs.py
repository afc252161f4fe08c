"""Fuzzing: random well-typed plans on random records pay, explain and add up.

Evaluation may refuse a participant (a zero divisor) only with the library's own error;
every statement's component lines add up to its total, in both languages.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Literal

from hypothesis import given
from hypothesis import strategies as st

import incentive
from tests.helpers import unrecomputable

HEADER = """plan "fuzz"
currency CNY
period 2026-07-01 to 2026-09-30
participant fields: quota money, base money, csat score 0..100, share percent, n count
deal fields: deal_id id, owner participant, amount money, closed_on date, status text
measure revenue = sum of deal.amount where status = "won" and closed_on in period
measure deals_won = count of deal where status = "won"
measure attainment = revenue / quota
"""

MONEY_LEAVES = st.sampled_from(["revenue", "quota", "base", "1000", "250.5", "0"])
RATIO_LEAVES = st.sampled_from(["attainment", "share", "csat / 100", "5%", "120%", "0%"])


def _money(depth: int) -> st.SearchStrategy[str]:
    if depth <= 0:
        return MONEY_LEAVES
    sub, ratio = _money(depth - 1), _ratio(depth - 1)
    return st.one_of(
        MONEY_LEAVES,
        st.tuples(sub, sub).map(lambda t: f"({t[0]} + {t[1]})"),
        st.tuples(sub, sub).map(lambda t: f"({t[0]} - {t[1]})"),
        st.tuples(sub, ratio).map(lambda t: f"({t[0]} * {t[1]})"),
        st.tuples(sub, st.sampled_from(["3", "0.5", "7"])).map(lambda t: f"({t[0]} / {t[1]})"),
        st.tuples(sub, sub).map(lambda t: f"max({t[0]}, {t[1]})"),
        st.tuples(sub, MONEY_LEAVES).map(lambda t: f"({t[0]} capped at {t[1]})"),
        st.tuples(_condition(), sub, sub).map(lambda t: f"(if {t[0]} then {t[1]} else {t[2]})"),
        st.tuples(sub).map(lambda t: f"(deals_won * {t[0]})"),
    )


def _ratio(depth: int) -> st.SearchStrategy[str]:
    if depth <= 0:
        return RATIO_LEAVES
    sub = _ratio(depth - 1)
    return st.one_of(
        RATIO_LEAVES,
        st.tuples(sub, sub).map(lambda t: f"({t[0]} * {t[1]})"),
        st.tuples(sub, st.sampled_from(["150%", "100%"])).map(
            lambda t: f"({t[0]} capped at {t[1]})"
        ),
        st.tuples(sub, sub).map(lambda t: f"scorecard({t[0]} weight 40%, {t[1]} weight 60%)"),
    )


def _condition() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["attainment >= 80%", "csat > 50", "revenue >= quota", "share < 10%"]),
        st.sampled_from(["deals_won >= 2", "not (attainment < 50%)", "csat = 100 or n > 3"]),
    )


TIERS = st.sampled_from(
    [
        "marginal tiers of revenue against quota:\n  0% up to 50% pays 2%\n  50% and above pays 8%",
        "retroactive tiers of revenue:\n  0 up to 1000 pays 1%\n  1000 and above pays 3%",
        "retroactive tiers of deals_won:\n  0 up to 2 pays 100\n  2 and above pays 150",
    ]
)
MODIFIERS = st.lists(
    st.one_of(
        st.sampled_from([", capped at 5000", ", floored at 10", ", multiplied by 1.5"]),
        _condition().map(lambda c: f", only when {c}"),
    ),
    max_size=3,
).map("".join)


@st.composite
def plans(draw: st.DrawFn) -> str:
    components = []
    for number in range(draw(st.integers(1, 4))):
        body = draw(st.one_of(_money(2), TIERS))
        components.append(f"component c{number} = {body}{draw(MODIFIERS)}")
    return HEADER + "\n".join(components) + "\n"


AMOUNTS = st.decimals(min_value=0, max_value=100000, places=2).map(str)
PEOPLE = st.lists(
    st.fixed_dictionaries(
        {
            "quota": st.sampled_from(["0", "1000.00", "3333.33", "50000"]),
            "base": AMOUNTS,
            "csat": st.integers(0, 100).map(str),
            "share": st.sampled_from(["0%", "12.5%", "100%"]),
            "n": st.integers(0, 9).map(str),
        }
    ),
    min_size=1,
    max_size=3,
)
DEALS = st.lists(
    st.tuples(
        st.integers(0, 2),
        AMOUNTS,
        st.sampled_from(["2026-06-30", "2026-07-01", "2026-09-30", "2026-10-01"]),
        st.sampled_from(["won", "lost"]),
    ),
    max_size=8,
)


def _adds_up(text: str) -> bool:
    lines = text.splitlines()
    total = Decimal(re.sub(r"[^\d.-]", "", lines[1].split("：")[-1].split(": ")[-1]))
    amounts = [
        Decimal(re.sub(r"[^\d.-]", "", m.group(1)))
        for line in lines
        if (m := re.match(r"^(?:\d+\.|[一二三四五六七八九十]+、).*?[:：]\s*(-?¥[\d,.]+)", line))
    ]
    return sum(amounts, Decimal(0)) == total


@given(plans(), PEOPLE, DEALS)
def test_random_plans_pay_explain_and_add_up(
    text: str, people: list[dict[str, Any]], deals: list[tuple[int, str, str, str]]
) -> None:
    plan = incentive.load_plan(text, filename="fuzz.rules")
    participants = [{"id": f"P-{i}", **p} for i, p in enumerate(people)]
    records = [
        {"deal_id": f"D-{i}", "owner": f"P-{o % len(people)}", "amount": a, "closed_on": d,
         "status": s}
        for i, (o, a, d, s) in enumerate(deals)
    ]  # fmt: skip
    result = incentive.evaluate(plan, participants, {"deal": records}, skip_invalid=True)
    # Only the library's own reasons may leave a participant unpaid: a zero divisor (E601)
    # or a value past the size limit (E602).
    assert all(re.search(r"error\[E60[12]\]", line) for line in result.unpaid)
    assert len(result.participants) + len(result.unpaid) == len(participants)
    langs: tuple[Literal["en", "zh"], ...] = ("en", "zh")
    for paid in result.participants:
        assert paid.total == sum((c.amount for c in paid.components), Decimal(0))
        for lang in langs:
            text = incentive.explain(paid, lang=lang)
            assert _adds_up(text)
            assert unrecomputable(text) == [], text
