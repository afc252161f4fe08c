"""Fuzzing time in plans: random plans paid per month, week, quarter, year and schedule
segment, with seasonality weights, employment, proration, day-weighted quotas, `days from`
and `within period`, on records dated around every calendar edge.

Each plan checks without a warning and runs; every component, part and measure has the
exact value an oracle written with `datetime` and `Fraction` gives it (each part rounded
half-up, the rounded parts adding up to the line); every record has the fate the oracle
gives it, once; every statement, in both languages, shows the amounts paid and recomputes
to the cent.  The plans and the oracle are in `tests/fuzz/time_plans.py`.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Final, Literal

from hypothesis import given

import incentive
from incentive.engine.trace import ComponentTrace
from incentive.errors import render_diagnostic
from tests.fuzz.time_plans import (
    Person,
    TimeCase,
    days_of,
    expected,
    fates,
    meet,
    participant_rows,
    record_rows,
    time_cases,
    window_measures,
)
from tests.helpers import CENT, evaluate_shown, shown_number, unrecomputable
from tests.strategies import half_up_cents

LANGS: Final[tuple[Literal["en", "zh"], ...]] = ("en", "zh")
_AMOUNT = r"-?¥?[\d,]+(?:\.\d+)?%?"
_NUMBERED = re.compile(rf"^(?:\d+\.|[一二三四五六七八九十]+、)\s*.*?[:：]\s*({_AMOUNT})")
#: '(¥300,000.00 × 46 + ¥360,000.00 × 46) ÷ 92 days = ¥330,000.00', the day-weighted value
#: of a schedule or of dated rows, which `tests.helpers.unrecomputable` leaves out
_DAY_WEIGHTED = re.compile(
    rf"\((?P<sum>[^()]*)\) ÷ (?P<days>\d+) (?:days|天) = (?P<shown>{_AMOUNT})"
)
_ROUNDED = re.compile(rf"(?P<exact>{_AMOUNT}) → (?P<shown>{_AMOUNT})")


def _wrong_time_lines(text: str) -> list[str]:
    """Day-weighted averages that do not follow from the pieces shown, and roundings that
    do not round half-up to the cent."""
    wrong = []
    for line in text.splitlines():
        if match := _DAY_WEIGHTED.search(line):
            total = evaluate_shown(match["sum"])
            shown, unit = shown_number(match["shown"])
            if total is None:
                wrong.append(line)
                continue
            # The average is shown to the places it needs (up to six), so it must lie
            # within one unit of the last place shown.
            places = len(match["shown"].rstrip("%").partition(".")[2])
            unit_place = Decimal(1).scaleb(-places - (2 if unit == "%" else 0))
            if abs(total / int(match["days"]) - shown) > unit_place:
                wrong.append(line)
        if match := _ROUNDED.search(line):
            exact = shown_number(match["exact"])[0]
            if exact.quantize(CENT, ROUND_HALF_UP) != shown_number(match["shown"])[0]:
                wrong.append(line)
    return wrong


def _check_statement(text: str, paid: incentive.ParticipantResult) -> None:
    """The header shows the total, each numbered line its component's amount, and every
    formula line recomputes from the numbers it shows."""
    lines = text.splitlines()
    assert shown_number(re.split(r"[:：]", lines[1])[-1].strip())[0] == paid.total, text
    shown = [shown_number(m.group(1))[0] for line in lines if (m := _NUMBERED.match(line))]
    assert shown == [line.amount for line in paid.components], text
    assert unrecomputable(text) == [], text
    assert _wrong_time_lines(text) == [], text


def _exact(value: object) -> Fraction:
    assert isinstance(value, Decimal | Fraction), value
    return Fraction(value)


def _check_person(case: TimeCase, person: Person, paid: incentive.ParticipantResult) -> None:
    """Amounts, exact values before rounding, parts and measures agree with the oracle."""
    oracle = expected(case, person)
    where = (person.id, case.plan.text)
    assert paid.total == sum((line.amount for line in paid.components), Decimal(0))
    traces: dict[str, ComponentTrace] = {c.name: c for c in paid.trace.components}
    assert [line.name for line in paid.components] == list(traces)
    assert set(traces) == set(oracle.exact)
    for line in paid.components:
        trace = traces[line.name]
        if line.name not in oracle.parts:
            assert _exact(trace.exact) == oracle.exact[line.name], (line.name, *where)
            assert line.amount == half_up_cents(oracle.exact[line.name]), (line.name, *where)
            assert line.parts == ()
            continue
        # Paid per sub-period: each part exact as the oracle says, rounded once, and the
        # rounded parts add up to the line.
        got = [(p.key, p.start, p.end, _exact(p.component.exact)) for p in trace.parts]
        assert got == oracle.parts[line.name], (line.name, *where)
        rounded = [half_up_cents(value) for *_, value in oracle.parts[line.name]]
        assert [Fraction(p.amount) for p in line.parts] == rounded, (line.name, *where)
        assert [(p.key, p.start, p.end) for p in line.parts] == [g[:3] for g in got]
        assert sum((p.amount for p in line.parts), Decimal(0)) == line.amount
        assert line.amount == oracle.exact[line.name]
        rule = next((r for r in case.plan.rules if r.name == line.name), None)
        kind = "segment" if rule is None else rule.window  # commission: per segment
        windows = {w.key: w for w in case.plan.windows(kind)}
        for part in trace.parts:
            values = window_measures(case, person, kind, windows[part.key])
            for name, measure in part.measures.items():
                assert _exact(measure.step.value) == values[name], (part.key, name, *where)
    for name, value in oracle.measures.items():
        assert _exact(paid.trace.measures[name].step.value) == value, (name, *where)
    if case.plan.employment:
        active = meet(case.plan.period, case.employed(person))
        assert paid.trace.employed_days == days_of(active)
        assert paid.trace.period_days == days_of(case.plan.period)


@given(time_cases())
def test_random_time_plans_pay_what_the_calendar_says(case: TimeCase) -> None:
    plan = incentive.load_plan(case.plan.text, filename="time.rules")
    warnings = [render_diagnostic(w, case.plan.text) for w in plan.checked.warnings]
    assert warnings == [], case.plan.text

    refused = case.refused()
    result = incentive.evaluate(
        plan,
        participant_rows(case),
        record_rows(case),
        skip_invalid=bool(refused) or case.broken is not None or case.dropped is not None,
    )
    # Only a participant whose quota rows leave a day employed uncovered goes unpaid.
    if case.broken is None:
        assert result.unpaid == ()
    else:
        assert len(result.unpaid) == 1
        assert "E603" in result.unpaid[0]
        assert f"'{case.broken}'" in result.unpaid[0]
    paid_ids = [p.participant_id for p in result.participants]
    assert paid_ids == [p.id for p in case.people if p.id not in (case.broken, case.dropped)]
    if case.dropped is not None:
        assert any("R408" in line and "left_on" in line for line in result.rejected)
    assert result.total == sum((p.total for p in result.participants), Decimal(0))

    # Every record is accounted for exactly once, with the fate the oracle gives it, and
    # the summary reconciles.
    dispositions = {(d.kind, d.record_id): d for d in result.dispositions}
    assert len(dispositions) == len(result.dispositions)
    assert {key: d.status for key, d in dispositions.items()} == fates(case)
    summary = result.records
    statuses = Counter(d.status for d in result.dispositions)
    assert summary.read == len(dispositions)
    assert summary.read == summary.counted + summary.excluded + summary.rejected
    assert (summary.counted, summary.excluded, summary.rejected) == (
        statuses["counted"],
        statuses["excluded"],
        statuses["rejected"],
    )
    assert sum(summary.excluded_by_rule.values()) == summary.excluded
    # A deal dated in the period and failing one condition is left out for it: its status,
    # or a day not employed.
    people = {p.id: p for p in case.people}
    for sale in case.sales:
        reason = dispositions["deal", sale.id].reason or ""
        employed = meet((sale.day, sale.day), case.employed(people[sale.owner]))
        if sale.owner == case.dropped:
            assert "R404" in reason or "R409" in reason, reason
        elif sale.id in refused:
            assert "R409" in reason, reason
        elif sale.owner == case.broken:
            assert "E603" in reason, reason
        elif meet((sale.day, sale.day), case.plan.period) and sale.won != bool(employed):
            why = "not employed on that day" if sale.won else 'status = "won"'
            assert why in reason, reason
    if case.dropped is None:
        assert len(result.rejected) == len(refused)

    for person in case.people:
        if person.id in (case.broken, case.dropped):
            continue
        paid = result.participant(person.id)
        _check_person(case, person, paid)
        for lang in LANGS:
            _check_statement(incentive.explain(paid, lang=lang), paid)
            incentive.statement(paid, lang=lang).model_dump_json()
