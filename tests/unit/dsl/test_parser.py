"""Parser: the grammar is conflict-free, literals become exact values, limits hold."""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
from lark import Lark

import incentive
from incentive.dsl import ast
from incentive.dsl.parser import MAX_DEPTH, decode_plan, parse_plan
from incentive.errors import PlanSyntaxError
from tests.helpers import EXAMPLES

HEADER = 'plan "t"\ncurrency CNY\nperiod 2026-07-01 to 2026-09-30\n'


def test_grammar_is_lalr_without_conflicts() -> None:
    grammar = resources.files("incentive.dsl").joinpath("grammar.lark").read_text("utf-8")
    Lark(grammar, parser="lalr", lexer="contextual", strict=True)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*/plan.rules")), ids=lambda p: p.parent.name)
def test_examples_parse(path: Path) -> None:
    plan = parse_plan(path.read_text(encoding="utf-8"), filename=str(path))
    assert plan.components


def test_percent_literal_is_a_rate_not_the_number() -> None:
    plan = parse_plan(HEADER + "component c = 5% * 100", filename="t.rules")
    body = plan.components[0].body
    assert isinstance(body, ast.Arithmetic)
    assert isinstance(body.left, ast.Percent)
    assert body.left.value == Decimal("0.05")


def test_numbers_are_read_from_their_text() -> None:
    plan = parse_plan(HEADER + "component c = 0.1 + 0.2", filename="t.rules")
    body = plan.components[0].body
    assert isinstance(body, ast.Arithmetic)
    assert isinstance(body.left, ast.Number)
    assert body.left.value == Decimal("0.1")


def test_labels_are_split_by_script() -> None:
    plan = parse_plan(HEADER + 'component c "底薪" / "Base pay" = 1', filename="t.rules")
    label = plan.components[0].label
    assert label is not None
    assert (label.en, label.zh) == ("Base pay", "底薪")


def test_spans_point_at_the_text() -> None:
    plan = parse_plan(HEADER + "component commission = 5", filename="t.rules")
    span = plan.components[0].span
    assert (span.file, span.line, span.column) == ("t.rules", 4, 1)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("\x00", "P100", id="nul"),
        pytest.param("measure x = " + "1" * 500, "P105", id="huge-number"),
        pytest.param('plan "' + "x" * 100_000 + '"', "P105", id="huge-text"),
        pytest.param("# " + "x" * 300_000, "P105", id="huge-file"),
        pytest.param("measure x = " + "-" * (MAX_DEPTH + 5) + "1", "P105", id="deep-negation"),
        pytest.param("measure x = " + "(1+" * 200 + "1" + ")" * 200, "P105", id="deep-parens"),
        pytest.param("measure x = __import__('os')", "P101", id="python-call"),
        pytest.param('measure x = open("/etc/passwd")', "P101", id="open-file"),
    ],
)
def test_hostile_plans_are_refused_quickly(text: str, code: str) -> None:
    with pytest.raises(PlanSyntaxError) as info:
        parse_plan(HEADER + text, filename="t.rules")
    assert info.value.diagnostics[0].code == code


def test_invalid_utf8_is_reported_with_its_position() -> None:
    with pytest.raises(PlanSyntaxError) as info:
        decode_plan(b'plan "ok"\ncurrency \xff', "t.rules")
    diagnostic = info.value.diagnostics[0]
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("P100", 2, 10)


def test_a_missing_comma_in_a_field_list_is_named() -> None:
    text = HEADER + "participant fields: quota money\n    base money\n"
    with pytest.raises(PlanSyntaxError) as info:
        parse_plan(text, filename="t.rules")
    diagnostic = info.value.diagnostics[0]
    assert diagnostic.code == "P104"
    assert (diagnostic.span.line, diagnostic.span.column) == (5, 5)
    assert "'base'" in diagnostic.message


@pytest.mark.parametrize(
    "after",
    [
        "deal fields: deal_id id, owner participant, amount money\n",
        "\n# what counts\nmeasure m = 1\n",
        "component c = 1\n",
    ],
    ids=["a record kind", "a measure after a comment", "a component"],
)
def test_a_list_ending_with_a_comma_is_one_error_at_the_comma(after: str) -> None:
    # The list reads the next statement's first word as one more item: one error, at the
    # comma, rather than one for every statement after it.
    text = HEADER + "participant fields: quota money,  # per quarter\n" + after
    text += "measure other = 2\ncomponent pay = 3\n"
    with pytest.raises(PlanSyntaxError) as info:
        parse_plan(text, filename="t.rules")
    [diagnostic] = info.value.diagnostics
    assert diagnostic.code == "P101"
    assert (diagnostic.span.line, diagnostic.span.column) == (4, 32)
    assert diagnostic.hint == "remove the comma, or write what should follow it"


def test_each_statement_ending_with_a_comma_is_named_and_the_rest_still_read() -> None:
    text = HEADER + (
        "participant fields: quota money,\n"
        "deal fields: deal_id id, owner participant, amount money,\n"
        "measure r = sum of deal.amount\n"
        "component c = r +\n"
    )
    with pytest.raises(PlanSyntaxError) as info:
        parse_plan(text, filename="t.rules")
    found = [(d.code, d.span.line, d.span.column) for d in info.value.diagnostics]
    assert found == [("P101", 4, 32), ("P101", 5, 57), ("P102", 7, 18)]


@pytest.mark.parametrize("indent", ["", "    "], ids=["at the margin", "indented"])
def test_a_field_named_like_a_statement_after_a_comma_is_part_of_the_list(indent: str) -> None:
    # `currency` begins a statement, and names a field here: the list's comma before it
    # is right, and the one error is the misspelt kind after it.
    lines = [
        'plan "t"',
        "currency CNY",
        "period 2026-07-01 to 2026-09-30",
        "deal fields:",
        "owner participant,",
        "amount money converted from currency on closed_on,",
        "currency txt,",
        "closed_on date",
        "measure revenue = sum of deal.amount",
        "component c = revenue * 3%",
    ]
    text = "\n".join(indent + line for line in lines) + "\n"
    with pytest.raises(PlanSyntaxError) as info:
        parse_plan(text, filename="t.rules")
    [diagnostic] = info.value.diagnostics
    assert (diagnostic.span.line, diagnostic.hint) == (7, "did you mean 'text'?")


def test_a_plan_ending_with_a_comma_says_so() -> None:
    with pytest.raises(PlanSyntaxError) as info:
        parse_plan(HEADER + "participant fields: quota money,\n\n", filename="t.rules")
    [diagnostic] = info.value.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("P102", 4, 33)
    assert diagnostic.hint == (
        "the last statement ends with a comma: remove it, or write what should follow it"
    )


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        pytest.param(
            "participant fields: quota mony\ncomponent c = 1\n",
            "unexpected 'mony'; expected a kind of field (money, number, percent, count, date",
            "did you mean 'money'?",
            id="a misspelt kind of field",
        ),
        pytest.param(
            "participant fields: quota money\ncomponent c = marginal tiers of quota:\n"
            "    0% up to 50% pays 2%,\n    50% and above pays 5%\n",
            "unexpected '50%'",
            "after a comma comes a modifier (capped at, floored at, multiplied by, only when): "
            "if none is meant, remove the comma",
            id="a comma after a tier row",
        ),
        pytest.param(
            "participant fields: quota money， base money\ncomponent c = 1\n",
            "unexpected character '，'",
            "write ',' instead: '，' is its full-width form, as a Chinese input method types it",
            id="a full-width comma",
        ),
        pytest.param(
            "participant fields: quota money “Quota”\ncomponent c = 1\n",
            "unexpected character '“'",
            """write '"' instead: '“' is a typographic quote""",
            id="a typographic quote",
        ),
    ],
)
def test_a_slip_gets_a_hint_that_names_the_fix(text: str, message: str, hint: str) -> None:
    with pytest.raises(PlanSyntaxError) as info:
        parse_plan(HEADER + text, filename="t.rules")
    [diagnostic] = info.value.diagnostics
    assert diagnostic.message.startswith(message)
    assert diagnostic.hint == hint


def test_load_plan_accepts_text_and_caches_it() -> None:
    text = (EXAMPLES / "account_executive" / "plan.rules").read_text(encoding="utf-8")
    first = incentive.load_plan(text, filename="ae.rules")
    assert incentive.load_plan(text, filename="ae.rules") is first


def test_python_attributes_are_unknown_names_not_attributes() -> None:
    text = (
        HEADER + "deal fields: deal_id id, owner participant, amount money\n"
        "measure x = sum of deal.__class__\ncomponent c = x"
    )
    with pytest.raises(incentive.PlanCheckError) as info:
        incentive.load_plan(text, filename="t.rules")
    assert [d.code for d in info.value.errors] == ["P203"]


def test_syntax_errors_of_several_statements_are_reported_together() -> None:
    text = (
        HEADER + "participant fields: quota money, base money\n"
        "measure a = quota == 1\n"
        "component c = base * 3\n"
        "component d = base *\n"
        "component e = base, capped at 5 floored at 1\n"
    )
    with pytest.raises(PlanSyntaxError) as info:
        parse_plan(text, filename="t.rules")
    found = [(d.code, d.span.line) for d in info.value.diagnostics]
    assert found == [("P101", 5), ("P102", 7), ("P101", 8)]
    assert info.value.diagnostics[1].message == "this statement is unfinished"
