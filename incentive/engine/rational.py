"""Exact rationals over arrays, one value per participant: the columnar engine's numbers.

A `Ratio` is ``num / den`` element by element, with ``den > 0``, in int64.  Each operation
first bounds its result from the operands' largest magnitudes; one that might not fit
raises `Int64OverflowError` instead of wrapping, and the run goes to the straightforward engine.
So no value is ever rounded or wraps.  Rounding happens once, in `round_units`, with the
modes of `incentive.money.quantize`.

Imports numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]

#: Magnitudes below this stay exact in int64, even added to one another.
SAFE: Final = 1 << 62


class Int64OverflowError(ArithmeticError):
    """A value that might not fit int64: the straightforward engine computes it."""


class ZeroDivisorError(ArithmeticError):
    """A division by zero for some participant: the straightforward engine explains it."""


def magnitude(values: Array | int) -> int:
    """The largest absolute value."""
    if isinstance(values, int):
        return abs(values)
    if values.size == 0:
        return 0
    return max(abs(int(values.max())), abs(int(values.min())))


def _fit(bound: int) -> None:
    if bound >= SAFE:
        raise Int64OverflowError


def _product(a: Array | int, b: Array | int) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        _fit(abs(a * b))
        return a * b
    _fit(magnitude(a) * magnitude(b))
    return a * b


@dataclass(frozen=True, slots=True)
class Ratio:
    """``num / den`` for each participant; ``den`` is one positive int for all of them,
    or an array of positive ints."""

    num: Array
    den: Array | int

    @staticmethod
    def of(values: list[Decimal | Fraction | int]) -> Ratio:
        """Exact values, one per participant, over their least common denominator."""
        pairs = [_pair(v) for v in values]
        common = math.lcm(1, *{den for _, den in pairs})
        if common < SAFE:
            nums = [num * (common // den) for num, den in pairs]
            if max((abs(n) for n in nums), default=0) < SAFE:
                return Ratio(np.array(nums, dtype=np.int64), common)
        # Each value over its own denominator, when one for all would not fit.
        _fit(max((max(abs(num), den) for num, den in pairs), default=0))
        return Ratio(
            np.array([num for num, _ in pairs], dtype=np.int64),
            np.array([den for _, den in pairs], dtype=np.int64),
        )

    @staticmethod
    def constant(value: Decimal | Fraction | int, size: int) -> Ratio:
        num, den = _pair(value)
        _fit(max(abs(num), den))
        return Ratio(np.full(size, num, dtype=np.int64), den)

    def fractions(self) -> list[Fraction]:
        nums = self.num.tolist()
        if isinstance(self.den, int):
            den = self.den
            return [Fraction(n, den) for n in nums]
        return [Fraction(n, d) for n, d in zip(nums, self.den.tolist(), strict=True)]

    # ---- arithmetic -------------------------------------------------------------------
    def __add__(self, other: Ratio) -> Ratio:
        return _combine(self, other, 1)

    def __sub__(self, other: Ratio) -> Ratio:
        return _combine(self, other, -1)

    def __neg__(self) -> Ratio:
        return Ratio(-self.num, self.den)

    def __mul__(self, other: Ratio) -> Ratio:
        return _reduced(_product(self.num, other.num), _product(self.den, other.den))

    def __truediv__(self, other: Ratio) -> Ratio:
        if bool((other.num == 0).any()):
            raise ZeroDivisorError
        sign = np.where(other.num < 0, -1, 1)
        num = _product(self.num, other.den) * sign
        den = _product(self.den, other.num) * sign
        return _reduced(num, den)

    # ---- comparisons and choices ------------------------------------------------------
    def _cross(self, other: Ratio) -> tuple[Array, Array]:
        if isinstance(self.den, int) and isinstance(other.den, int) and self.den == other.den:
            return self.num, other.num
        return _product(self.num, other.den), _product(other.num, self.den)

    def lt(self, other: Ratio) -> Array:
        a, b = self._cross(other)
        return np.asarray(a < b)

    def le(self, other: Ratio) -> Array:
        a, b = self._cross(other)
        return np.asarray(a <= b)

    def eq(self, other: Ratio) -> Array:
        a, b = self._cross(other)
        return np.asarray(a == b)

    def positive(self) -> Array:
        return np.asarray(self.num > 0)

    def where(self, condition: Array, other: Ratio) -> Ratio:
        """``self`` where ``condition`` holds, else ``other``."""
        if isinstance(self.den, int) and isinstance(other.den, int):
            common = math.lcm(self.den, other.den)
            a = _product(self.num, common // self.den)
            b = _product(other.num, common // other.den)
            return Ratio(np.where(condition, a, b), common)
        size = len(condition)
        return _reduced(
            np.where(condition, self.num, other.num),
            np.where(condition, _spread(self.den, size), _spread(other.den, size)),
        )

    def common(self) -> Ratio:
        """The same values over one denominator (`Int64OverflowError` when it would not fit)."""
        if isinstance(self.den, int):
            return self
        dens = [int(d) for d in np.unique(self.den).tolist()]
        common = math.lcm(*dens)
        _fit(common)
        return Ratio(_product(self.num, np.asarray(common // self.den)), common)

    def sort_key(self) -> Array | None:
        """Integers in the order of the values (one denominator for all), else None."""
        return self.num if isinstance(self.den, int) else None


def _pair(value: Decimal | Fraction | int) -> tuple[int, int]:
    if isinstance(value, int):
        return value, 1
    if isinstance(value, Fraction):
        return value.numerator, value.denominator
    num, den = value.as_integer_ratio()
    return num, den


def _spread(den: Array | int, size: int) -> Array:
    if isinstance(den, int):
        return np.full(size, den, dtype=np.int64)
    return den


def _combine(x: Ratio, y: Ratio, sign: int) -> Ratio:
    if isinstance(x.den, int) and isinstance(y.den, int):
        common = math.lcm(x.den, y.den)
        _fit(common)
        a = _product(x.num, common // x.den)
        b = _product(y.num, common // y.den)
        _fit(magnitude(a) + magnitude(b))
        return _reduced(a + b if sign > 0 else a - b, common)
    a = _product(x.num, y.den)
    b = _product(y.num, x.den)
    _fit(magnitude(a) + magnitude(b))
    return _reduced(a + b if sign > 0 else a - b, _product(x.den, y.den))


def _reduced(num: Array, den: Array | int) -> Ratio:
    """Lowest terms (per value, or by the common factor of one denominator), so that
    values stay small."""
    if isinstance(den, int):
        if num.size and den > 1:
            common = math.gcd(den, int(np.gcd.reduce(num)))
            if common > 1:
                return Ratio(num // common, den // common)
        return Ratio(num, den)
    factor = np.gcd(num, den)
    factor[factor == 0] = 1
    num, den = num // factor, np.asarray(den // factor)
    if int(den.min(initial=1)) == int(den.max(initial=1)) and den.size:
        return Ratio(num, int(den[0]))
    return Ratio(num, den)


# ---- rounding ---------------------------------------------------------------------------
def round_units(value: Ratio, quantum: Decimal, mode: str) -> Array:
    """How many ``quantum`` each value rounds to with ``mode``: the multiple of the
    quantum `incentive.money.quantize` gives.

    ``steps = value / quantum`` is split as ``floor + rest / den`` with ``0 <= rest < den``
    without forming ``value / quantum`` whole, so cents of large amounts still fit."""
    q_num, q_den = quantum.as_integer_ratio()
    num = value.num
    den = _product(value.den, q_num)  # steps = num * q_den / (value.den * q_num)
    den_array = _spread(den, len(num))
    whole, rest = np.divmod(num, den_array)
    _fit(magnitude(den_array) * max(q_den, 2))
    floor = _product(whole, q_den)
    more, rest = np.divmod(rest * q_den, den_array)
    floor = floor + more
    twice = 2 * rest
    negative = num < 0
    any_rest = rest > 0
    if mode == "down":
        up = any_rest & negative
    elif mode == "up":
        up = any_rest & ~negative
    elif mode == "ceiling":
        up = any_rest
    elif mode == "floor":
        up = np.zeros(len(num), dtype=bool)
    elif mode == "half_up":
        up = np.where(negative, twice > den_array, twice >= den_array)
    elif mode == "half_down":
        up = np.where(negative, twice >= den_array, twice > den_array)
    else:  # half_even
        up = (twice > den_array) | ((twice == den_array) & (floor % 2 == 1))
    result: Array = floor + up.astype(np.int64)
    return result
