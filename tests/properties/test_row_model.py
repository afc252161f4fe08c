"""The fast row parser and the pydantic model built from the same declaration agree."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import incentive
from incentive.engine.records import record_model

PLAN = incentive.load_plan(
    'plan "t"\ncurrency CNY\nperiod 2026-07-01 to 2026-09-30\n'
    "deal fields: deal_id id, owner participant, amount money, share percent, n count,"
    " score score 0..5, closed_on date, status text\n"
    "component c = 1",
    filename="t.rules",
)
MODEL = record_model(PLAN.checked.record_kinds["deal"])

CELLS = st.one_of(
    st.sampled_from(["", " 12.50 ", "-3", "1e5", "50%", "x%", "2026-07-01", "2026-02-30", "7"]),
    st.decimals(allow_nan=True, allow_infinity=True, places=2),
    st.integers(-10, 10),
    st.text(max_size=12),
    st.none(),
    st.floats(allow_nan=False),
)


@given(st.dictionaries(st.sampled_from([f[0] for f in MODEL.fields]), CELLS))
def test_fast_path_and_model_agree(row: dict[str, Any]) -> None:
    fast = MODEL.parse(row)
    try:
        slow = MODEL.values(MODEL.model.model_validate(row))
    except ValidationError:
        slow = None
    assert fast == slow
