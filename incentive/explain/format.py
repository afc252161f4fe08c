"""Numbers as a statement shows them: money, percentages, counts, dates.

Formatting only: these functions never decide an amount.  A value is shown exactly when
it has few enough digits, and otherwise at `RATIO_PLACES` places of a percent (or
`MONEY_PLACES` of a currency unit), which is the precision the statement reasons with.
Imports money only.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from fractions import Fraction
from typing import Final

from incentive.money import Exact, to_fraction

#: Decimal places of a percentage shown for a computed share (101.600167%).
RATIO_PLACES: Final = 6
#: Most decimal places of a currency unit shown for an amount that is not whole cents.
MONEY_PLACES: Final = 6

_SYMBOLS: Final[dict[str, str]] = {
    "CNY": "¥",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "JP¥",
    "HKD": "HK$",
    "TWD": "NT$",
    "SGD": "S$",
    "KRW": "₩",
    "INR": "₹",
}


#: Wide enough for any amount, rounding half up as `_fixed` does: display only.
_WIDE: Final = decimal.Context(prec=200, rounding=decimal.ROUND_HALF_UP, Emax=10**6, Emin=-(10**6))
_STEPS: Final = {places: Decimal(1).scaleb(-places) for places in range(0, 40)}


def _fixed(value: Exact, places: int) -> Decimal:
    """``value`` rounded half-up to ``places`` decimals, for display only."""
    fraction = to_fraction(value)
    scaled = fraction * 10**places
    whole = (abs(scaled.numerator) * 2 + scaled.denominator) // (2 * scaled.denominator)
    signed = whole if fraction >= 0 else -whole
    return Decimal(f"{signed}E-{places}")


def _places(value: Exact) -> int | None:
    """Decimal places ``value`` needs to be shown exactly (at most 12), or None if it
    needs more or never ends: a fraction in lowest terms ends after as many places as
    its denominator has factors 2 or 5, whichever are more, and only if it has no other."""
    denominator = to_fraction(value).denominator
    twos = (denominator & -denominator).bit_length() - 1
    denominator >>= twos
    fives = 0
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    places = max(twos, fives)
    return places if denominator == 1 and places <= 12 else None


def _grouped(value: Decimal) -> str:
    sign = "-" if value < 0 else ""
    return sign + f"{abs(value):,f}"


def money(value: Exact, currency: str, quantum: Decimal) -> str:
    """An amount in the plan's currency, exact if it has few digits.

    >>> money(Decimal("12345.6"), "CNY", Decimal("0.01"))
    '¥12,345.60'
    >>> money(Decimal("5739.195"), "CNY", Decimal("0.01"))
    '¥5,739.195'
    >>> from fractions import Fraction
    >>> money(Fraction(-1, 3), "USD", Decimal("0.01"))
    '-$0.333333'
    """
    minimum = max(0, -int(quantum.as_tuple().exponent))
    if isinstance(value, Decimal) and value.as_tuple().exponent == -minimum:
        shown = value  # whole minor units, the most common case of all
    elif isinstance(value, Decimal):  # the common case, without fractions
        exponent = value.normalize(_WIDE).as_tuple().exponent
        assert isinstance(exponent, int)  # amounts are finite
        places = min(max(0, -exponent), MONEY_PLACES)
        shown = value.quantize(_STEPS[max(places, minimum)], context=_WIDE)
    else:
        exact = _places(value)
        places = MONEY_PLACES if exact is None or exact > MONEY_PLACES else exact
        shown = _fixed(value, max(places, minimum))
    symbol = _SYMBOLS.get(currency)
    sign = "-" if shown < 0 else ""
    body = _grouped(abs(shown))
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{currency} {body}"


def percent(value: Exact, *, fixed: bool = True, places: int = RATIO_PLACES) -> str:
    """A share as a percentage: ``places`` places when computed, or exact.

    >>> from fractions import Fraction
    >>> percent(Fraction(609601, 600000))
    '101.600167%'
    >>> percent(Decimal("0.5"), fixed=False)
    '50%'
    """
    hundred = to_fraction(value) * 100
    if fixed:
        return f"{_fixed(hundred, places):f}%"
    exact = _places(hundred)
    if exact is None or exact > places:
        return f"{_fixed(hundred, places):f}%"
    return f"{_fixed(hundred, exact):f}%"


def shown(value: Exact, unit: str, places: int = RATIO_PLACES) -> Fraction:
    """The value a reader sees on the statement, as an exact number.

    >>> from fractions import Fraction
    >>> shown(Fraction(2, 3), "ratio")
    Fraction(66666667, 100000000)
    """
    exact = _places(value)
    digits = {"ratio": places + 2, "money": MONEY_PLACES}.get(unit, RATIO_PLACES)
    if exact is not None and exact <= digits:
        return to_fraction(value)
    return to_fraction(_fixed(value, digits))


def number(value: Exact) -> str:
    """A plain number, exact when it ends within `RATIO_PLACES` places.

    >>> from fractions import Fraction
    >>> number(Decimal("4.20")), number(Fraction(2, 3))
    ('4.2', '0.666667')
    """
    places = _places(value)
    if places is None or places > RATIO_PLACES:
        return f"{_fixed(value, RATIO_PLACES):f}"
    return f"{_fixed(value, places):f}"


def whole(value: Exact) -> str:
    """A count, with thousands separators.

    >>> whole(Decimal(12000))
    '12,000'
    """
    return _grouped(_fixed(value, 0))


def date(value: dt.date) -> str:
    """ISO date, the same in both languages."""
    return value.isoformat()
