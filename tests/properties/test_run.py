"""Whole runs of the account-executive example with random participants and deals.

Totals are the sums of their lines, shuffling the inputs changes no amount and no statement,
every record is accounted for exactly once, and a statement's closing sum adds up.  The
amounts themselves are checked against a Fraction oracle of the example plan.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal
from fractions import Fraction
from typing import Final, Literal

from hypothesis import given
from hypothesis import strategies as st

import incentive
from tests.helpers import EXAMPLES
from tests.strategies import (
    PERIOD_END,
    PERIOD_START,
    Deal,
    Population,
    credited_revenue,
    dates_in_period,
    half_up_cents,
    money_texts,
    populations,
)

PLAN: Final = incentive.load_plan(EXAMPLES / "account_executive" / "plan.rules")
LANGS: Final[tuple[Literal["en", "zh"], ...]] = ("en", "zh")
_MONEY: Final = re.compile(r"-?¥[0-9,]+(\.[0-9]+)?")
#: The statement's closing line: "Total: ¥a + ¥b + ¥c = ¥t" / "合计：¥a + ¥b + ¥c = ¥t".
_TOTAL_LINE: Final = {
    "en": re.compile(r"Total: (.+) = (\S+)"),
    "zh": re.compile(r"合计：(.+) = (\S+)"),
}


def _run(population: Population, *, skip_invalid: bool = False) -> incentive.RunResult:
    return incentive.evaluate(
        PLAN, population.participants, {"deal": population.deal_rows}, skip_invalid=skip_invalid
    )


def _money(text: str) -> Decimal:
    """A statement amount ('¥12,345.60', '-¥0.01') as a Decimal."""
    assert _MONEY.fullmatch(text), text
    return Decimal(text.replace("¥", "").replace(",", ""))


@given(populations())
def test_total_is_the_sum_of_the_lines(population: Population) -> None:
    result = _run(population)
    assert len(result.participants) == len(population.participants)
    for paid in result.participants:
        assert paid.total == sum((line.amount for line in paid.components), Decimal(0))
        # Each line is rounded to the cent and written with two places, as is the total.
        for amount in [line.amount for line in paid.components] + [paid.total]:
            assert amount.as_tuple().exponent == -2
    assert result.total == sum((p.total for p in result.participants), Decimal(0))


@given(populations())
def test_amounts_match_the_plan_oracle(population: Population) -> None:
    """The example plan recomputed with Fractions: base, marginal tiers and gated bonus."""
    result = _run(population)
    for row in population.participants:
        quota = Fraction(row["quota"])
        revenue = credited_revenue(population.deals, row["id"])
        commission = Fraction(0)
        for lower, upper, rate in ((0, 50, 2), (50, 100, 5), (100, 150, 8), (150, None, 12)):
            top = revenue if upper is None else min(revenue, quota * upper / 100)
            commission += max(Fraction(0), top - quota * lower / 100) * rate / 100
        attainment = revenue / quota
        bonus = Fraction(0)
        if attainment >= Fraction(80, 100):
            score = (
                min(attainment, Fraction(3, 2)) * Fraction(60, 100)
                + Fraction(row["csat"]) / 100 * Fraction(20, 100)
                + Fraction(row["collaboration"]) / 5 * Fraction(20, 100)
            )
            bonus = min(10000 * score, Fraction(20000))
        paid = result.participant(row["id"])
        assert paid.amount("base") == half_up_cents(Fraction(row["base_monthly"]) * 3)
        assert paid.amount("commission") == half_up_cents(commission)
        assert paid.amount("bonus") == half_up_cents(bonus)


@given(population=populations(), data=st.data())
def test_another_won_deal_never_lowers_pay(population: Population, data: st.DataObject) -> None:
    """The plan has no decelerator: more revenue never pays any line less."""
    owner = data.draw(st.sampled_from([row["id"] for row in population.participants]))
    extra = {
        "deal_id": "D-extra",
        "owner": owner,
        "amount": data.draw(money_texts(1, 10**9), label="amount"),
        "closed_on": data.draw(dates_in_period(), label="closed_on").isoformat(),
        "status": "won",
    }
    before = _run(population)
    after = _run(Population(population.participants, [*population.deals, Deal(extra, True)]))
    for paid in before.participants:
        again = after.participant(paid.participant_id)
        for line, new in zip(paid.components, again.components, strict=True):
            if paid.participant_id == owner:
                assert new.amount >= line.amount, line.name
            else:
                assert new.amount == line.amount, line.name


# Up to 30 deals for one person also lists more exclusions than a statement shows one by one.
@given(
    population=st.one_of(populations(), populations(max_participants=1, max_deals=30)),
    data=st.data(),
)
def test_shuffling_changes_no_amount_and_no_statement(
    population: Population, data: st.DataObject
) -> None:
    # Permutations drawn by hypothesis shrink along with the population.
    participants = data.draw(st.permutations(population.participants), label="participants")
    deals = data.draw(st.permutations(population.deals), label="deals")
    first = _run(population)
    second = _run(Population(participants, deals))
    assert second.total == first.total
    assert second.records == first.records
    for paid in first.participants:
        again = second.participant(paid.participant_id)
        assert [(c.name, c.amount) for c in again.components] == [
            (c.name, c.amount) for c in paid.components
        ]
        assert again.total == paid.total
        for lang in LANGS:
            assert incentive.explain(again, lang=lang) == incentive.explain(paid, lang=lang)


@given(populations(invalid=True))
def test_every_record_is_accounted_for_once(population: Population) -> None:
    result = _run(population, skip_invalid=True)
    given_ids = Counter(deal.row["deal_id"] for deal in population.deals)
    seen_ids = Counter(d.record_id for d in result.dispositions)
    assert seen_ids == given_ids
    assert all(d.kind == "deal" for d in result.dispositions)
    everyone = {row["id"] for row in population.participants}
    assert {p.participant_id for p in result.participants} == (
        everyone - population.rejected - population.unpaid
    )
    assert len(result.unpaid) == len(population.unpaid)
    # One problem per rejected row: each is built with a single fault.
    invalid_deals = [deal for deal in population.deals if not deal.valid]
    assert len(result.rejected) == len(population.rejected) + len(invalid_deals)
    # Deals of a participant who is not paid cannot count for anything either.
    stranded = [d for d in population.deals if d.valid and d.row["owner"] in population.unpaid]
    credited = [d for d in population.deals if d.valid and d.row["owner"] not in population.unpaid]

    summary = result.records
    statuses = Counter(d.status for d in result.dispositions)
    assert summary.read == len(population.deals)
    assert summary.read == summary.counted + summary.excluded + summary.rejected
    assert (summary.counted, summary.excluded, summary.rejected) == (
        statuses["counted"],
        statuses["excluded"],
        statuses["rejected"],
    )
    assert summary.rejected == len(invalid_deals) + len(stranded)
    rejected_ids = Counter(d.record_id for d in result.dispositions if d.status == "rejected")
    assert rejected_ids == Counter(deal.row["deal_id"] for deal in invalid_deals + stranded)
    assert sum(summary.excluded_by_rule.values()) == summary.excluded

    # Each credited deal has one disposition besides its duplicates' rejections: counted
    # exactly when the plan's filter admits it.
    kept = {d.record_id: d for d in result.dispositions if d.status != "rejected"}
    assert len(kept) == sum(1 for d in result.dispositions if d.status != "rejected")
    assert sorted(kept) == sorted(deal.row["deal_id"] for deal in credited)
    for deal in credited:
        row = deal.row
        admitted = row["status"] == "won" and (
            PERIOD_START <= dt.date.fromisoformat(row["closed_on"]) <= PERIOD_END
        )
        disposition = kept[row["deal_id"]]
        assert disposition.status == ("counted" if admitted else "excluded")
        assert disposition.participant_id == row["owner"]
        if not admitted:
            # The filter's conditions are tried in the plan's order; the first that fails
            # is the reason given.
            failed = 'status = "won"' if row["status"] != "won" else "closed_on in period"
            assert disposition.reason is not None
            assert disposition.reason.endswith(failed)


@given(populations())
def test_statement_numbers_add_up(population: Population) -> None:
    result = _run(population)
    for paid in result.participants:
        for lang in LANGS:
            lines = incentive.explain(paid, lang=lang).rstrip("\n").split("\n")
            match = _TOTAL_LINE[lang].fullmatch(lines[-1])
            assert match is not None, lines[-1]
            terms = [_money(term) for term in match.group(1).split(" + ")]
            total = _money(match.group(2))
            assert sum(terms, Decimal(0)) == total == paid.total
            assert terms == [line.amount for line in paid.components]
            # The second line announces the same total.
            assert _money(lines[1].split("：" if lang == "zh" else ": ")[-1]) == paid.total
