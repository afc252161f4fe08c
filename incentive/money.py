"""Exact numbers and the rounding rule; no other module rounds.

Values are `Decimal` while they are exact decimals and become `Fraction` only when a
division does not terminate (revenue ÷ quota = 1.016001666…).  Every operation is exact:
``+ − ×`` run in a bounded Decimal context that traps inexact results, division falls back
to a fraction, and rounding happens once per payout line, from the exact value, with the
plan's mode.  So a half-cent tie after ``× n ÷ 92`` rounds the way exact arithmetic says,
never the way a 28-digit approximation happens to land.  Imports nothing from the package.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Final, Literal

Exact = Decimal | Fraction
RoundingMode = Literal["half_up", "half_even", "half_down", "up", "down", "ceiling", "floor"]

#: Significant digits an exact decimal may have before a run stops with a clear error.
MAX_DIGITS: Final = 60
#: Largest decimal exponent a value may reach (about 10^40 is far beyond any payroll).
MAX_EXPONENT: Final = 40

#: Largest numerator or denominator (in bits) an exact fraction may reach, about 120 digits.
MAX_FRACTION_BITS: Final = 400

ZERO: Final = Decimal(0)

ROUNDING_MODES: Final[dict[str, str]] = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "half_down": decimal.ROUND_HALF_DOWN,
    "up": decimal.ROUND_UP,
    "down": decimal.ROUND_DOWN,
    "ceiling": decimal.ROUND_CEILING,
    "floor": decimal.ROUND_FLOOR,
}

#: ISO 4217 minor units for currencies whose minor unit is not two digits.
_MINOR_UNITS: Final[dict[str, int]] = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "UGX": 0,
    "XAF": 0,
    "XOF": 0,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
    "IQD": 3,
    "LYD": 3,
}


class NumberLimitError(ArithmeticError):
    """A value outgrew `MAX_DIGITS` or `MAX_EXPONENT`; the engine turns it into E602."""


def _exact_context() -> decimal.Context:
    """Bounded, and loud on any inexact result; passed explicitly, never installed."""
    return decimal.Context(
        prec=MAX_DIGITS,
        rounding=decimal.ROUND_HALF_EVEN,
        Emax=MAX_EXPONENT,
        Emin=-MAX_EXPONENT,
        traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero],
    )


_CTX: Final = _exact_context()


def minor_unit(currency: str) -> Decimal:
    """The default rounding quantum of a currency.

    >>> minor_unit("CNY"), minor_unit("JPY")
    (Decimal('0.01'), Decimal('1'))
    """
    return Decimal(1).scaleb(-_MINOR_UNITS.get(currency, 2))


_DECIMAL_TEXT: Final = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def parse_decimal(text: str) -> Decimal:
    """Read a plain decimal number written by a person: digits, one point, a sign.

    No exponents, no thousands separators, no ``NaN``: ``"12,34O.00"`` is refused rather
    than guessed at.

    >>> parse_decimal("-12.50")
    Decimal('-12.50')
    >>> parse_decimal("1e9")
    Traceback (most recent call last):
    ...
    ValueError: not a decimal number
    """
    stripped = text.strip()
    if len(stripped) > MAX_DIGITS + 2 or not _DECIMAL_TEXT.fullmatch(stripped):
        raise ValueError("not a decimal number")
    return Decimal(stripped)


def percent_value(text: str) -> Decimal:
    """The rate a percentage denotes, exactly: ``"12.5"`` (from 12.5%) is 0.125.

    >>> percent_value("12.5"), percent_value("100")
    (Decimal('0.125'), Decimal('1.00'))
    """
    return shift(parse_decimal(text), -2)


def shift(value: Decimal, places: int) -> Decimal:
    """``value`` × 10**places, exactly (``Decimal.scaleb`` rounds to the context's digits).

    >>> shift(Decimal("50.00000000000000000000000000004"), -2)
    Decimal('0.5000000000000000000000000000004')
    """
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # a finite number: parsing refuses the others
    return Decimal((sign, digits, exponent + places))


def to_fraction(value: Exact) -> Fraction:
    """The exact rational value of ``value``."""
    return value if isinstance(value, Fraction) else Fraction(value)


def _normal(value: Fraction) -> Exact:
    """A fraction back as a Decimal when its denominator is a product of 2s and 5s.

    Raises:
        NumberLimitError: when the fraction outgrows `MAX_FRACTION_BITS`, so no plan can
            make arithmetic run without bound.
    """
    den = value.denominator
    if value.numerator.bit_length() > MAX_FRACTION_BITS or den.bit_length() > MAX_FRACTION_BITS:
        raise NumberLimitError("value too large")
    if den == 1:
        return Decimal(value.numerator)
    rest = den
    twos = fives = 0
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return value
    places = max(twos, fives)
    scaled = value.numerator * (10**places // den)
    # Built from its digits, so no context precision can round it.
    return Decimal(f"{scaled}E-{places}")


def _checked(value: Decimal) -> Decimal:
    if value and value.adjusted() > MAX_EXPONENT:
        raise NumberLimitError("value too large")
    return value


def add(a: Exact, b: Exact) -> Exact:
    """``a + b``, exactly."""
    if type(a) is Decimal and type(b) is Decimal:
        try:
            return _CTX.add(a, b)
        except (decimal.Inexact, decimal.Overflow) as exc:
            raise NumberLimitError("value too large") from exc
    return _normal(to_fraction(a) + to_fraction(b))


def sub(a: Exact, b: Exact) -> Exact:
    """``a − b``, exactly."""
    if type(a) is Decimal and type(b) is Decimal:
        try:
            return _CTX.subtract(a, b)
        except (decimal.Inexact, decimal.Overflow) as exc:
            raise NumberLimitError("value too large") from exc
    return _normal(to_fraction(a) - to_fraction(b))


def mul(a: Exact, b: Exact) -> Exact:
    """``a × b``, exactly."""
    if type(a) is Decimal and type(b) is Decimal:
        try:
            return _checked(_CTX.multiply(a, b))
        except (decimal.Inexact, decimal.Overflow, decimal.Underflow) as exc:
            raise NumberLimitError("value too large") from exc
    return _normal(to_fraction(a) * to_fraction(b))


def div(a: Exact, b: Exact) -> Exact:
    """``a ÷ b``, exactly: a Decimal when it terminates, else a Fraction.

    Raises:
        ZeroDivisionError: when ``b`` is zero; the engine names the participant.
    """
    if not b:
        raise ZeroDivisionError("division by zero")
    if type(a) is Decimal and type(b) is Decimal:
        try:
            return _checked(_CTX.divide(a, b))
        except decimal.Inexact:
            pass
        except (decimal.Overflow, decimal.Underflow) as exc:
            raise NumberLimitError("value too large") from exc
    return _normal(to_fraction(a) / to_fraction(b))


def total(amounts: Iterable[Decimal], quantum: Decimal) -> Decimal:
    """The exact sum of rounded amounts, shown at the quantum's places (never rounded).

    >>> total([Decimal("0.10"), Decimal("0.20")], Decimal("0.01"))
    Decimal('0.30')
    """
    result = quantum * 0
    for amount in amounts:
        result = add(result, amount)  # type: ignore[assignment]  # Decimal + Decimal
    return result


def neg(a: Exact) -> Exact:
    """``−a``, exactly (Decimal's unary minus would round to the thread's context)."""
    if isinstance(a, Fraction):
        return -a
    try:
        return _CTX.minus(a)
    except (decimal.Inexact, decimal.Overflow) as exc:
        raise NumberLimitError("value too large") from exc


def quantize(value: Exact, quantum: Decimal, mode: RoundingMode = "half_up") -> Decimal:
    """Round an exact value to a multiple of ``quantum`` with ``mode``; the one rounding rule.

    ``half_up`` rounds ties away from zero (¥0.005 → ¥0.01, −¥0.005 → −¥0.01), as payroll
    does; the other modes follow `decimal`'s meaning of the same names.

    >>> quantize(Fraction(11478585, 2000), Decimal("0.01"))
    Decimal('5739.29')
    >>> quantize(Decimal("5739.195"), Decimal("0.01"))
    Decimal('5739.20')
    >>> quantize(quantize(Decimal("2.675"), Decimal("0.01")), Decimal("0.01"))
    Decimal('2.68')
    """
    steps = to_fraction(value) / to_fraction(quantum)
    return quanta(_round_fraction(steps, mode), quantum)


def quanta(count: int, quantum: Decimal) -> Decimal:
    """``count`` times ``quantum``, written with the quantum's places (``1234`` cents is
    ``12.34``), as `quantize` writes every amount.

    >>> quanta(1234, Decimal("0.01"))
    Decimal('12.34')
    """
    try:
        # Exact: the product has the digits of `count`; a longer one raises, never rounds.
        return _CTX.multiply(Decimal(count), quantum).quantize(quantum, context=_CTX)
    except (decimal.Inexact, decimal.InvalidOperation, decimal.Overflow) as exc:
        raise NumberLimitError("value too large") from exc


def _round_fraction(value: Fraction, mode: RoundingMode) -> int:
    """Round a fraction to an integer with ``mode``, using only integer arithmetic."""
    floor, rest = divmod(value.numerator, value.denominator)
    if rest == 0:
        return floor
    ceil = floor + 1
    positive = value > 0
    if mode == "floor":
        return floor
    if mode == "ceiling":
        return ceil
    if mode == "down":
        return floor if positive else ceil
    if mode == "up":
        return ceil if positive else floor
    twice = 2 * rest
    if twice < value.denominator:
        return floor
    if twice > value.denominator:
        return ceil
    if mode == "half_even":
        return floor if floor % 2 == 0 else ceil
    if mode == "half_up":
        return ceil if positive else floor
    return floor if positive else ceil  # half_down: ties toward zero
