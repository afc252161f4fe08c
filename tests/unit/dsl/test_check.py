"""Checks: problems found together, sorted, each with the code that names it."""

from __future__ import annotations

import pytest

import incentive
from incentive.errors import PlanCheckError, PlanSyntaxError

HEADER = 'plan "t"\ncurrency CNY\nperiod 2026-07-01 to 2026-09-30\n'
FIELDS = (
    "participant fields: quota money, csat score 0..100\n"
    "deal fields: deal_id id, owner participant, amount money, closed_on date, status text\n"
)


def _codes(text: str) -> list[str]:
    with pytest.raises(PlanCheckError) as info:
        incentive.load_plan(HEADER + FIELDS + text, filename="t.rules")
    return [d.code for d in info.value.errors]


def test_all_problems_are_reported_at_once_in_order() -> None:
    codes = _codes(
        "measure a = revnue\n"
        "component c = 1000 * scorecard(csat / 100 weight 50%, a weight 40%)\n"
        "component d = marginal tiers of amount_x:\n  0 up to 10 pays 1%\n  20 and above pays 2%\n"
    )
    assert codes == ["P201", "P304", "P201", "P301"]


def test_a_measure_defined_by_itself() -> None:
    with pytest.raises(PlanCheckError) as info:
        incentive.load_plan(HEADER + FIELDS + "measure a = a + 1\ncomponent c = a", filename="t")
    assert "'a' is defined in terms of itself" in str(info.value)


def test_a_cycle_names_every_measure() -> None:
    with pytest.raises(PlanCheckError) as info:
        incentive.load_plan(
            HEADER + FIELDS + "measure a = b\nmeasure b = a\ncomponent c = a", filename="t"
        )
    assert "'a' → 'b' → 'a'" in str(info.value)


def test_an_impossible_period_date_is_a_syntax_error() -> None:
    text = 'plan "t"\ncurrency CNY\nperiod 2026-07-01 to 2026-09-31\ncomponent c = 1\n'
    with pytest.raises(PlanSyntaxError) as info:
        incentive.load_plan(text, filename="t.rules")
    diagnostic = info.value.diagnostics[0]
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("P101", 3, 22)


@pytest.mark.parametrize(
    ("component", "code"),
    [
        pytest.param('component c = "text" + 1', "P204", id="text-arithmetic"),
        pytest.param("component c = 1 only when quota", "P204", id="gate-not-condition"),
        pytest.param("component c = quota > 1", "P204", id="component-is-condition"),
        pytest.param("component c = (sum of deal.status)", "P204", id="sum-of-text"),
        pytest.param(
            "component c = (count of deal where amount in period) * 1", "P204", id="period"
        ),
        pytest.param("component c = deal.amount", "P203", id="field-outside-filter"),
        pytest.param("component c = (sum of meeting.amount)", "P203", id="unknown-kind"),
        pytest.param("component c = 1, capped at 5, floored at 10", "P305", id="cap-below-floor"),
        pytest.param(
            "component c = retroactive tiers of quota against quota:\n  0% up to 50% pays 1%",
            "P302",
            id="no-open-tier",
        ),
    ],
)
def test_each_mistake_has_its_code(component: str, code: str) -> None:
    assert _codes(component) == [code]


def test_thousands_separators_get_a_hint() -> None:
    with pytest.raises(PlanSyntaxError) as info:
        incentive.load_plan(HEADER + "component c = 1,000", filename="t.rules")
    assert info.value.diagnostics[0].hint is not None
    assert "thousands separators" in info.value.diagnostics[0].hint


@pytest.mark.parametrize(
    ("component", "fragment"),
    [
        pytest.param(
            "measure a = quota / quota\ncomponent c = 1 only when a >= 80",
            "compared with the plain number 80",
            id="gate-without-percent",
        ),
        pytest.param(
            "measure a = quota / quota\ncomponent c = 100 * (a capped at 120)",
            "compared with the plain number 120",
            id="cap-without-percent",
        ),
        pytest.param(
            "component c = marginal tiers of quota:\n  0 up to 100 pays 3\n  100 and above pays 5%",
            "tier 1 pays 3 on an amount",
            id="rate-without-percent",
        ),
        pytest.param(
            "component c = marginal tiers of quota against quota:\n"
            "  0 up to 80 pays 1%\n  80 and above pays 3%",
            "need percentage boundaries",
            id="attainment-bounds-without-percent",
        ),
    ],
)
def test_a_forgotten_percent_sign_is_an_error(component: str, fragment: str) -> None:
    with pytest.raises(PlanCheckError) as info:
        incentive.load_plan(HEADER + FIELDS + component, filename="t.rules")
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "component",
    [
        pytest.param("component c = 100 * quota, capped at 9000 floored at 1000", id="floor"),
        pytest.param("component c = 100 only when csat >= 8 capped at 5000", id="gate-cap"),
        pytest.param("component c = 1000 multiplied by 2", id="multiplier"),
    ],
)
def test_a_modifier_without_its_comma_is_refused(component: str) -> None:
    with pytest.raises(PlanSyntaxError) as info:
        incentive.load_plan(HEADER + FIELDS + component, filename="t.rules")
    hint = info.value.diagnostics[0].hint
    assert hint is not None
    assert "put a comma before" in hint


def test_a_misspelled_keyword_gets_a_suggestion() -> None:
    text = HEADER + FIELDS + "component c = retroactiv tiers of quota:\n  0 and above pays 1%"
    with pytest.raises(PlanSyntaxError) as info:
        incentive.load_plan(text, filename="t.rules")
    assert info.value.diagnostics[0].hint == "did you mean 'retroactive' instead of 'retroactiv'?"


def test_only_keywords_that_start_an_expression_are_reserved_for_fields() -> None:
    from incentive.dsl.parser import EXPRESSION_KEYWORDS, _parser

    keywords = {
        str(t.pattern.value)
        for t in _parser().terminals
        if t.pattern.type == "str" and str(t.pattern.value).isalpha()
    }
    for word in sorted(keywords - EXPRESSION_KEYWORDS - {"id"}):
        text = (
            HEADER + f"participant fields: {word} money\n"
            "deal fields: d id, o participant, a money\n"
            f"measure m = (sum of deal.a where a > {word}) + {word} * 2\n"
            f"component c = m, capped at {word}"
        )
        incentive.load_plan(text, filename="t.rules")
    for word in sorted(EXPRESSION_KEYWORDS):
        with pytest.raises(PlanCheckError) as info:
            incentive.load_plan(
                HEADER + f"participant fields: {word} money\ncomponent c = 1", filename="t"
            )
        assert info.value.diagnostics[0].code == "P209"


@pytest.mark.parametrize(
    ("component", "message", "column", "hint"),
    [
        pytest.param(
            "measure n = count of deal\ncomponent c = quota + n",
            "cannot add a count to an amount",
            23,
            "multiply the count by an amount per unit",
            id="money-plus-count",
        ),
        pytest.param(
            "component c = quota + csat",
            "cannot add a score to an amount",
            23,
            "turn the score into a share",
            id="money-plus-score",
        ),
        pytest.param(
            "component c = quota * quota",
            "cannot multiply an amount by an amount",
            23,
            "divide one by the other",
            id="money-times-money",
        ),
        pytest.param(
            "component c = csat / 100",
            "must come out as an amount, not a percentage",
            15,
            "multiply an amount by the percentage",
            id="component-is-share",
        ),
        pytest.param(
            "component c = 1, only when quota > 5%",
            "cannot compare an amount with a percentage",
            28,
            "compare the amount with an amount",
            id="amount-vs-percent",
        ),
    ],
)
def test_units_that_cannot_be_meant_are_refused(
    component: str, message: str, column: int, hint: str
) -> None:
    with pytest.raises(PlanCheckError) as info:
        incentive.load_plan(HEADER + FIELDS + component, filename="t.rules")
    [diagnostic] = info.value.errors
    assert message in diagnostic.message
    assert diagnostic.span.column == column
    assert diagnostic.hint is not None
    assert hint in diagnostic.hint


def test_an_unknown_name_is_reported_once_without_follow_on_errors() -> None:
    with pytest.raises(PlanCheckError) as info:
        incentive.load_plan(HEADER + FIELDS + "component c = revnue * 5% + 1", filename="t")
    assert [d.code for d in info.value.errors] == ["P201"]
