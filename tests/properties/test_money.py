"""Properties of `incentive.money`: exact arithmetic and the one rounding rule.

Every result is compared with `fractions.Fraction` arithmetic and with the rounding oracle
in `tests.strategies`, which is written independently of the engine's code.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from incentive.explain.format import _places as format_places
from incentive.explain.format import money
from incentive.money import (
    MAX_DIGITS,
    MAX_EXPONENT,
    MAX_FRACTION_BITS,
    Exact,
    NumberLimitError,
    RoundingMode,
    add,
    div,
    mul,
    neg,
    quantize,
    sub,
)
from tests.strategies import (
    ROUNDING_MODES,
    exact_decimals,
    exact_fractions,
    exact_values,
    half_ties,
    quanta,
    round_to,
    rounding_modes,
    terminates,
)

MODES = list(ROUNDING_MODES)
CENT = Decimal("0.01")
#: The `decimal` module's names for the same seven modes: a second, independent oracle.
DECIMAL_MODES: dict[str, str] = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "half_down": decimal.ROUND_HALF_DOWN,
    "up": decimal.ROUND_UP,
    "down": decimal.ROUND_DOWN,
    "ceiling": decimal.ROUND_CEILING,
    "floor": decimal.ROUND_FLOOR,
}


def _check_quantized(value: Exact, quantum: Decimal, mode: RoundingMode) -> None:
    result = quantize(value, quantum, mode)
    assert isinstance(result, Decimal)
    assert Fraction(result) == round_to(Fraction(value), Fraction(quantum), mode)
    # A rounded amount is written to the quantum's places: 12.50, not 12.5.
    assert result.as_tuple().exponent == quantum.as_tuple().exponent


@pytest.mark.parametrize("mode", MODES)
@given(value=exact_values(), quantum=quanta())
# 29 significant digits once counted in cents: well within MAX_DIGITS (60).
@example(value=Decimal("123456789012345678901234567.881"), quantum=Decimal("0.01"))
def test_quantize_matches_fraction_oracle(
    mode: RoundingMode, value: Decimal | Fraction, quantum: Decimal
) -> None:
    _check_quantized(value, quantum, mode)


@pytest.mark.parametrize("mode", MODES)
@given(data=st.data(), quantum=quanta())
def test_quantize_exact_half_ties(
    mode: RoundingMode, data: st.DataObject, quantum: Decimal
) -> None:
    tie = data.draw(half_ties(quantum), label="tie")
    _check_quantized(tie, quantum, mode)
    # The same tie written as a Decimal, as an input field would carry it.
    _check_quantized(Decimal(tie.numerator) / Decimal(tie.denominator), quantum, mode)


@pytest.mark.parametrize("mode", MODES)
@given(value=exact_decimals(max_abs=10**26, max_places=8), quantum=quanta())
def test_quantize_agrees_with_decimal_module(
    mode: RoundingMode, value: Decimal, quantum: Decimal
) -> None:
    # `decimal` implements the same seven modes; give it room so it never rounds early.
    # Its quantize() keeps the quantum's exponent, so 10 must be written 1E+1 for it.
    context = decimal.Context(prec=200, Emax=999, Emin=-999)
    grid = quantum.normalize(context)
    expected = value.quantize(grid, rounding=DECIMAL_MODES[mode], context=context)
    assert quantize(value, quantum, mode) == expected


@pytest.mark.parametrize(
    ("value", "mode", "expected"),
    [
        (Decimal("0.005"), "half_up", "0.01"),
        (Decimal("-0.005"), "half_up", "-0.01"),
        (Decimal("0.015"), "half_even", "0.02"),
        (Decimal("0.025"), "half_even", "0.02"),
        (Decimal("-0.025"), "half_down", "-0.02"),
        (Decimal("-0.001"), "up", "-0.01"),
        (Decimal("-0.009"), "down", "0.00"),
        (Decimal("-0.001"), "ceiling", "0.00"),
        (Decimal("-0.001"), "floor", "-0.01"),
    ],
    ids=lambda v: str(v),
)
def test_quantize_signs_and_ties_by_definition(
    value: Decimal, mode: RoundingMode, expected: str
) -> None:
    # Written from the definitions of the modes, as a cross-check of the oracle itself.
    assert round_to(Fraction(value), Fraction(CENT), mode) == Fraction(Decimal(expected))
    assert quantize(value, CENT, mode) == Decimal(expected)


@given(value=exact_values(), quantum=quanta(), first=rounding_modes(), second=rounding_modes())
def test_quantize_is_idempotent(
    value: Decimal | Fraction, quantum: Decimal, first: RoundingMode, second: RoundingMode
) -> None:
    once = quantize(value, quantum, first)
    # A value already on the grid stays put under any mode, and keeps its places.
    again = quantize(once, quantum, second)
    assert again == once
    assert str(again) == str(once)


@given(
    value=exact_values(),
    quantum=quanta(),
    mode=rounding_modes(),
)
def test_quantize_moves_less_than_one_quantum(
    value: Decimal | Fraction, quantum: Decimal, mode: RoundingMode
) -> None:
    error = abs(Fraction(quantize(value, quantum, mode)) - Fraction(value))
    assert error < Fraction(quantum)
    if mode.startswith("half_"):
        assert error <= Fraction(quantum) / 2


# ---- exact arithmetic ----------------------------------------------------------------
Operation = Callable[[Exact, Exact], Exact]
OPERATIONS: list[tuple[str, Operation, Callable[[Fraction, Fraction], Fraction]]] = [
    ("add", add, lambda a, b: a + b),
    ("sub", sub, lambda a, b: a - b),
    ("mul", mul, lambda a, b: a * b),
    ("div", div, lambda a, b: a / b),
]


def _beyond_limits(value: Fraction) -> bool:
    """True when an exact value cannot be held within the engine's number limits."""
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_FRACTION_BITS:
        return True
    if not terminates(value) or value == 0:
        return False
    with decimal.localcontext(decimal.Context(prec=1000, Emax=9999, Emin=-9999)):
        digits = Decimal(value.numerator) / Decimal(value.denominator)
        normal = digits.normalize()
    return len(normal.as_tuple().digits) > MAX_DIGITS or normal.adjusted() > MAX_EXPONENT


def _check_operation(
    operation: Operation, oracle: Callable[[Fraction, Fraction], Fraction], a: Exact, b: Exact
) -> None:
    expected = oracle(Fraction(a), Fraction(b))
    try:
        result = operation(a, b)
    except NumberLimitError:
        # Refusing is allowed only for a value that really outgrows the limits.
        assert _beyond_limits(expected), f"refused {expected} which is within the limits"
        return
    assert Fraction(result) == expected
    # Values are Decimal, and Fraction only when the exact value does not terminate.
    assert isinstance(result, Decimal) == terminates(expected)
    assert isinstance(result, Decimal | Fraction)


@pytest.mark.parametrize(
    ("operation", "oracle"), [(o, f) for _, o, f in OPERATIONS], ids=[n for n, _, _ in OPERATIONS]
)
@given(a=exact_decimals(10**24, 8), b=exact_decimals(10**24, 8))
def test_arithmetic_on_decimals_is_exact(
    operation: Operation,
    oracle: Callable[[Fraction, Fraction], Fraction],
    a: Decimal,
    b: Decimal,
) -> None:
    if operation is div and b == 0:
        with pytest.raises(ZeroDivisionError):
            operation(a, b)
        return
    _check_operation(operation, oracle, a, b)


@pytest.mark.parametrize(
    ("operation", "oracle"), [(o, f) for _, o, f in OPERATIONS], ids=[n for n, _, _ in OPERATIONS]
)
@given(a=exact_values(), b=st.one_of(exact_fractions(), exact_decimals(10**20, 6)))
@example(a=Decimal(1), b=Decimal(2**100))
@example(a=Fraction(1, 3 * 2**60), b=Decimal(3))
def test_arithmetic_with_fractions_is_exact(
    operation: Operation,
    oracle: Callable[[Fraction, Fraction], Fraction],
    a: Decimal | Fraction,
    b: Decimal | Fraction,
) -> None:
    if b == 0 and operation is div:
        with pytest.raises(ZeroDivisionError):
            operation(a, b)
        return
    _check_operation(operation, oracle, a, b)


@given(a=exact_values())
def test_negation_is_exact(a: Decimal | Fraction) -> None:
    result = neg(a)
    assert Fraction(result) == -Fraction(a)
    assert type(result) is type(a)


@given(
    a=exact_values(),
    b=exact_values().filter(bool),
    quantum=quanta(),
    mode=rounding_modes(),
    precision=st.integers(1, 12),
)
def test_results_do_not_depend_on_the_callers_context(
    a: Decimal | Fraction,
    b: Decimal | Fraction,
    quantum: Decimal,
    mode: RoundingMode,
    precision: int,
) -> None:
    # A caller may have installed any context; the engine's arithmetic must not use it.
    expected = {
        "add": Fraction(a) + Fraction(b),
        "sub": Fraction(a) - Fraction(b),
        "mul": Fraction(a) * Fraction(b),
        "div": Fraction(a) / Fraction(b),
        "neg": -Fraction(a),
        "quantize": round_to(Fraction(a), Fraction(quantum), mode),
    }
    context = decimal.Context(prec=precision, rounding=decimal.ROUND_DOWN, Emax=99, Emin=-99)
    with decimal.localcontext(context):
        results: dict[str, Exact] = {}
        for name, operation, _ in OPERATIONS:
            try:
                results[name] = operation(a, b)
            except NumberLimitError:
                assert _beyond_limits(expected[name]), name
        results["neg"] = neg(a)
        results["quantize"] = quantize(a, quantum, mode)
    for name, value in results.items():
        assert Fraction(value) == expected[name], name


@given(
    st.decimals(
        allow_nan=False,
        allow_infinity=False,
        min_value=Decimal("-1e15"),
        max_value=Decimal("1e15"),
    ),
    st.sampled_from(["0.01", "1", "0.1", "0.05", "10", "0.001"]),
)
@example(Decimal("-0.00"), "0.01")
@example(Decimal("0.0000005"), "0.01")
def test_an_amount_is_shown_the_same_whether_decimal_or_fraction(
    value: Decimal, quantum: str
) -> None:
    # Decimals take a shorter way to the same text as fractions.
    assert money(value, "CNY", Decimal(quantum)) == money(Fraction(value), "CNY", Decimal(quantum))


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=0, max_value=16),
    st.integers(min_value=0, max_value=16),
    st.sampled_from([1, 3, 7, 9, 11, 13, 21]),
)
def test_the_places_an_amount_needs_are_those_after_which_it_is_whole(
    numerator: int, twos: int, fives: int, other: int
) -> None:
    value = Fraction(numerator, 2**twos * 5**fives * other)
    expected = next((p for p in range(13) if (value * 10**p).denominator == 1), None)
    assert format_places(value) == expected
