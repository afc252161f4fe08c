"""Caps and floors: a component never pays above its cap nor below its floor.

Plans put ``capped at`` and ``floored at`` on components (as literals or participant
fields, in either order) and inside expressions; every amount is also compared with the
exact value clamped and then rounded half-up once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

import incentive
from tests.strategies import Row, cents, cents_text, half_up_cents

HEADER = """plan "Caps"
currency CNY
period 2026-07-01 to 2026-09-30
participant fields:
    revenue money,
    adjustment signed money,
    cap_amount money,
    floor_amount money
"""
#: Component bodies as the plan writes them; `_body_value` is the same arithmetic.
BODIES: dict[str, str] = {
    "rate": "revenue * 7%",
    "fraction": "revenue * 3 / 7",
    "signed": "revenue * 5% + adjustment",
    "prorated": "(revenue + adjustment) * 2 / 92",
}


def _body_value(name: str, revenue: Fraction, adjustment: Fraction) -> Fraction:
    """The exact value of body ``name``, from yuan amounts."""
    if name == "rate":
        return revenue * 7 / 100
    if name == "fraction":
        return revenue * 3 / 7
    if name == "signed":
        return revenue * 5 / 100 + adjustment
    return (revenue + adjustment) * 2 / 92


@dataclass(frozen=True)
class CapCase:
    """A plan with a capped and/or floored component, and the limits of each participant."""

    text: str
    body: str
    rows: list[Row]
    caps: list[Fraction | None]
    floors: list[Fraction | None]
    cap_first: bool


@st.composite
def cap_cases(draw: st.DrawFn) -> CapCase:
    """A random body with a cap, a floor or both (floor ≤ cap), literal or per participant."""
    body = draw(st.sampled_from(sorted(BODIES)))
    has_cap, has_floor = draw(st.sampled_from([(True, False), (False, True), (True, True)]))
    literal = draw(st.booleans())
    cap_first = draw(st.booleans())
    fixed_floor = draw(cents(0, 10**7))
    fixed_cap = fixed_floor + draw(cents(0, 10**7))
    modifiers = []
    if has_cap:
        modifiers.append(f"capped at {cents_text(fixed_cap) if literal else 'cap_amount'}")
    if has_floor:
        modifiers.append(f"floored at {cents_text(fixed_floor) if literal else 'floor_amount'}")
    if not cap_first:
        modifiers.reverse()
    text = HEADER + f"component pay = {BODIES[body]}, " + ", ".join(modifiers) + "\n"
    rows: list[Row] = []
    caps: list[Fraction | None] = []
    floors: list[Fraction | None] = []
    for index in range(draw(st.integers(1, 8))):
        floor = fixed_floor if literal else draw(cents(0, 10**7))
        cap = fixed_cap if literal else floor + draw(cents(0, 10**7))
        # Revenue often lands just around the limits, where clamping decides.
        revenue = draw(st.one_of(cents(0, 10**9), st.integers(0, 3 * max(cap, 1))))
        rows.append(
            {
                "id": f"R-{index}",
                "revenue": cents_text(revenue),
                "adjustment": cents_text(draw(st.integers(-(10**8), 10**8))),
                "cap_amount": cents_text(cap),
                "floor_amount": cents_text(floor),
            }
        )
        caps.append(Fraction(cap, 100) if has_cap else None)
        floors.append(Fraction(floor, 100) if has_floor else None)
    return CapCase(text, body, rows, caps, floors, cap_first)


def _clamp(
    value: Fraction, cap: Fraction | None, floor: Fraction | None, cap_first: bool
) -> Fraction:
    """Apply the modifiers in the order the plan writes them."""
    steps = [("cap", cap), ("floor", floor)] if cap_first else [("floor", floor), ("cap", cap)]
    for kind, limit in steps:
        if limit is None:
            continue
        value = min(value, limit) if kind == "cap" else max(value, limit)
    return value


@given(cap_cases())
def test_component_stays_between_floor_and_cap(case: CapCase) -> None:
    plan = incentive.load_plan(case.text, filename="caps.rules")
    result = incentive.evaluate(plan, case.rows, {})
    for row, cap, floor in zip(case.rows, case.caps, case.floors, strict=True):
        paid = result.participant(row["id"]).amount("pay")
        if cap is not None:
            assert paid <= cap
        if floor is not None:
            assert paid >= floor
        exact = _body_value(case.body, Fraction(row["revenue"]), Fraction(row["adjustment"]))
        assert paid == half_up_cents(_clamp(exact, cap, floor, case.cap_first))


EXPRESSION_PLAN = (
    HEADER
    + "measure share = revenue / 3\n"
    + "component pay = (share capped at cap_amount) + "
    + "(adjustment floored at 0 - floor_amount)\n"
)


@given(
    revenue=cents(0, 10**9),
    adjustment=st.integers(-(10**8), 10**8),
    cap=cents(0, 10**8),
    floor=cents(0, 10**8),
)
def test_expression_caps_and_floors(revenue: int, adjustment: int, cap: int, floor: int) -> None:
    row = {
        "id": "R-1",
        "revenue": cents_text(revenue),
        "adjustment": cents_text(adjustment),
        "cap_amount": cents_text(cap),
        "floor_amount": cents_text(floor),
    }
    plan = incentive.load_plan(EXPRESSION_PLAN, filename="caps.rules")
    paid = incentive.evaluate(plan, [row], {}).participant("R-1").amount("pay")
    share = min(Fraction(revenue, 300), Fraction(cap, 100))
    kept = max(Fraction(adjustment, 100), -Fraction(floor, 100))
    assert paid == half_up_cents(share + kept)
    assert paid <= Decimal(cap) / 100 + Decimal(adjustment if adjustment > 0 else 0) / 100
    assert paid >= -Decimal(floor) / 100
