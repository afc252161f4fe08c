"""Trace → `Statement`: a participant's payout as lines a rep can follow, in en or zh.

Reads `ParticipantResult` and its trace only; never the plan's syntax, and never computes
an amount: every number shown was recorded by the engine.  The total comes first, then
each component with the measures it uses, each tier, gate, cap and rounding, each with
the plan line it comes from, then the sum that gives the total.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import operator
import tomllib
from collections.abc import Callable, Iterator
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict

from incentive.engine import trace as tr
from incentive.engine.results import ParticipantResult, PlanInfo
from incentive.errors import display_width
from incentive.explain import format as fmt
from incentive.sorting import natural_key

Lang = Literal["en", "zh"]

#: Exclusions listed one by one per aggregate before the rest are summed up in a line.
MAX_LISTED = 20
#: Column where plan-line references start (when the text leaves room).
REF_COLUMN = 68

_ZH_NUMERALS = "零一二三四五六七八九"


class StatementLine(BaseModel):
    """One line: its indentation level, its text and the plan line it comes from."""

    model_config = ConfigDict(frozen=True)

    indent: int
    text: str
    plan_line: int | None = None


class Statement(BaseModel):
    """A participant's explained payout, ready to render."""

    model_config = ConfigDict(frozen=True)

    lang: Lang
    participant_id: str
    total: Decimal
    lines: tuple[StatementLine, ...]

    def to_text(self) -> str:
        """Plain text, with plan-line references aligned on the right."""
        texts = _locale(self.lang)
        out = []
        for line in self.lines:
            text = (
                "   " * line.indent + line.text
                if self.lang == "en"
                else ("    " * line.indent + line.text)
            )
            if line.plan_line is not None:
                ref = texts.text("plan_line").format(line=line.plan_line)
                gap = max(2, REF_COLUMN - display_width(text))
                text = text + " " * gap + ref
            out.append(text.rstrip())
        return "\n".join(out) + "\n"

    def __str__(self) -> str:
        return self.to_text()


class _Texts(dict[str, Any]):
    """A locale's texts; ``text(key)`` is a typed lookup for the format strings."""

    def text(self, key: str) -> str:
        value = self[key]
        assert isinstance(value, str), key
        return value


@functools.cache
def _locale(lang: Lang) -> _Texts:
    name = "zh.toml" if lang == "zh" else "en.toml"
    data = resources.files("incentive.explain").joinpath("locales", name).read_text("utf-8")
    return _Texts(tomllib.loads(data))


def _zh_number(n: int) -> str:
    """一, 二 … 九十九; from 100 on, the plain number."""
    if n >= 100:
        return str(n)
    if n < 10:
        return _ZH_NUMERALS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else _ZH_NUMERALS[tens]
    return head + "十" + (_ZH_NUMERALS[ones] if ones else "")


class _Writer:
    """Builds the lines of one statement."""

    def __init__(self, result: ParticipantResult, lang: Lang) -> None:
        self.result = result
        self.plan: PlanInfo = result.plan
        self.lang = lang
        self.t = _locale(lang)
        self.lines: list[StatementLine] = []
        self.shown_measures: set[str | tuple[str, str]] = set()
        #: the per-sub-period measures of the sub-period being explained
        self.part: tr.PartTrace | None = None
        #: places of a percent shown; raised for one line when its amount needs them
        self.ratio_places = fmt.RATIO_PLACES

    # ---- formatting helpers ---------------------------------------------------------
    def say(self, indent: int, key: str, line: int | None = None, **values: Any) -> None:
        self.lines.append(
            StatementLine(indent=indent, text=self.t.text(key).format(**values), plan_line=line)
        )

    def raw(self, indent: int, text: str, line: int | None = None) -> None:
        self.lines.append(StatementLine(indent=indent, text=text, plan_line=line))

    def label(self, name: str) -> str:
        return self.plan.label(name, self.lang)

    def money(self, value: Any) -> str:
        return fmt.money(value, self.plan.currency, self.plan.quantum)

    def value(self, value: Any, unit: str, *, literal: str | None = None) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return f'"{value}"'
        if not isinstance(value, Decimal | Fraction):
            return str(value)
        if unit == "money":
            return self.money(value)
        if literal is not None:
            return literal
        if unit == "ratio":
            return fmt.percent(value, places=self.ratio_places)
        if unit == "count":
            return fmt.whole(value)
        return fmt.number(value)

    def step_value(self, step: tr.Step) -> str:
        literal = step.text if isinstance(step, tr.LiteralStep) else None
        return self.value(step.value, step.unit, literal=literal)

    # ---- formulas -------------------------------------------------------------------
    def formula(self, step: tr.Step, parent: int = 0) -> str:
        """A step written as a formula with its numbers, e.g. 'Quota ¥300,000.00 × 3'."""
        if isinstance(step, tr.LiteralStep):
            return self.step_value(step)
        if isinstance(step, tr.MeasureStep) and isinstance(
            literal := self.measure_step(step.name), tr.LiteralStep
        ):
            # A measure that is a value as written (8%) is shown as written, as on its line.
            return f"{self.label(step.name)} {literal.text}"
        if isinstance(step, tr.FieldStep | tr.MeasureStep):
            return f"{self.label(step.name)} {self.step_value(step)}"
        if isinstance(step, tr.ScheduleStep):
            return f"{self.label(step.name)} {self.table_value(step)}"
        if isinstance(step, tr.WeightStep):
            units = ", ".join(self.unit_name(key) for key, _ in step.parts)
            return self.t.text("weight_formula").format(
                label=self.label(step.name), units=units, value=self.table_value(step)
            )
        if isinstance(step, tr.DayWeightedStep):
            return f"{self.label(f'{step.kind}.{step.field}')} {self.step_value(step)}"
        if isinstance(step, tr.PeriodCountStep):
            assert isinstance(step.value, Decimal)
            return self.t.text("period_count").format(
                count=fmt.whole(step.value), unit=self.t["period_units"][step.counts]
            )
        if isinstance(step, tr.DaysStep):
            assert isinstance(step.value, Decimal)
            return self.t.text("days_formula").format(
                count=fmt.whole(step.value),
                start=self.formula(step.start),
                end=self.formula(step.end),
            )
        if isinstance(step, tr.ProratedStep):
            if step.days == step.of_days:  # employed every day: nothing to prorate
                return self.t.text("prorated_all").format(
                    operand=self.formula(step.operand, parent), days=self.days(step.days)
                )
            text = self.t.text("prorated_formula").format(
                operand=self.formula(step.operand, 2),
                days=self.days(step.days),
                of=self.days(step.of_days),
            )
            return f"({text})" if parent > 2 else text
        if isinstance(step, tr.ArithmeticStep):
            level = 1 if step.op in "+-" else 2
            symbol = {"+": "+", "-": "−", "*": "×", "/": "÷"}[step.op]
            right_level = level + (1 if step.op in "-/" else 0)
            text = (
                f"{self.formula(step.left, level)} {symbol} {self.formula(step.right, right_level)}"
            )
            return f"({text})" if level < parent else text
        if isinstance(step, tr.NegateStep):
            return f"−{self.formula(step.operand, 3)}"
        if isinstance(step, tr.BoundStep):
            key = "capped_at" if step.kind == "cap" else "floored_at"
            if not step.bit:
                return self.formula(step.operand, parent)
            return self.t.text(key).format(
                operand=self.formula(step.operand, 3), limit=self.step_value(step.limit)
            )
        if isinstance(step, tr.CompareStep):
            symbol = {"=": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}[step.op]
            with self.telling(step):
                return f"{self.formula(step.left)} {symbol} {self.formula(step.right)}"
        if isinstance(step, tr.InPeriodStep):
            return self.t.text("in_period").format(operand=self.formula(step.operand))
        if isinstance(step, tr.InListStep):
            options = ", ".join(self.step_value(o) for o in step.options)
            key = "not_in_list" if step.negated else "in_list"
            return self.t.text(key).format(operand=self.formula(step.operand), options=options)
        if isinstance(step, tr.LogicStep):
            if step.op == "not":
                return self.t.text("not") + self.formula(step.operands[0], 3)
            joiner = self.t.text(step.op)
            return joiner.join(self.formula(o, 3) for o in step.operands)
        if isinstance(step, tr.CallStep):
            return f"{step.function}({', '.join(self.formula(a) for a in step.args)})"
        if isinstance(step, tr.GroupStep):
            return self.t.text(f"group_{step.function}").format(
                label=self.label(step.name),
                members=fmt.whole(Decimal(step.members)),
                group=self.group_words(step.group, step.group_value),
            )
        if isinstance(step, tr.RankStep):
            if step.rank is None:
                return self.t.text("rank_none_formula").format(
                    label=self.label(step.ranking), top=step.top
                )
            return self.t.text("rank_formula").format(
                label=self.label(step.ranking), rank=step.rank, top=step.top
            )
        # Steps explained in their own lines appear in a formula by their value.
        return self.step_value(step)

    @contextlib.contextmanager
    def telling(self, step: tr.CompareStep) -> Iterator[None]:
        """Show a comparison's percentages with the places that tell its sides apart:
        89.99999967% is not shown as 90.000000% beside "≥ 90% does not hold"."""
        left, right = step.left, step.right
        places = self.ratio_places
        numbers = (Decimal, Fraction)
        if (
            isinstance(left.value, numbers)
            and isinstance(right.value, numbers)
            and "ratio" in (left.unit, right.unit)
        ):
            test = _TESTS[step.op]
            while places < 20 and test(
                fmt.shown(left.value, left.unit, places), fmt.shown(right.value, right.unit, places)
            ) != bool(step.value):
                places += 1
        saved, self.ratio_places = self.ratio_places, max(places, self.ratio_places)
        try:
            yield
        finally:
            self.ratio_places = saved

    @contextlib.contextmanager
    def precise(self, step: tr.Step) -> Iterator[None]:
        """Show percentages with as many places as this amount's cent needs.

        A reader recomputes 'amount × share' from the numbers shown; when 6 places of a
        percent would land on another cent, the line shows more (up to 12).  This decides
        how many digits to print, never an amount: the amount is the engine's.
        """
        places = fmt.RATIO_PLACES
        if step.unit == "money" and isinstance(step.value, Decimal | Fraction):
            target = fmt.shown(step.value, "money")
            cent = Fraction(1, 100)
            for candidate in range(fmt.RATIO_PLACES, 13):
                recomputed = _recompute(step, candidate)
                if recomputed is None or _round_half_up(recomputed, cent) == _round_half_up(
                    target, cent
                ):
                    places = candidate
                    break
            else:
                places = 12
        saved, self.ratio_places = self.ratio_places, places
        try:
            yield
        finally:
            self.ratio_places = saved

    # ---- blocks ---------------------------------------------------------------------
    def blocks(self, step: tr.Step, indent: int, component: str) -> None:
        """Lines for the parts of a step that need more than a formula, innermost first."""
        for child in _children(step):
            self.blocks(child, indent, component)
        if isinstance(step, tr.AggregateStep):
            self.aggregate(step, indent, None)
        elif isinstance(step, tr.ScheduleStep | tr.DayWeightedStep) and (
            len(step.pieces) > 1 or isinstance(step, tr.DayWeightedStep)
        ):
            self.by_days(step, indent)
        elif isinstance(step, tr.TierStep):
            self.tiers(step, indent)
        elif isinstance(step, tr.ScorecardStep):
            self.scorecard(step, indent)
        elif isinstance(step, tr.RankStep):
            self.rank(step, indent)
        elif isinstance(step, tr.PoolStep):
            self.pool(step, indent)
        elif isinstance(step, tr.OverrideStep):
            self.override(step, indent)
        elif isinstance(step, tr.IfStep):
            key = "if_then" if step.took_then else "if_else"
            self.say(
                indent,
                key,
                condition=self.formula(step.condition),
                chosen=self.formula(step.chosen),
                value=self.step_value(step),
            )

    def aggregate(self, step: tr.AggregateStep, indent: int, name: str | None) -> None:
        field = self.label(f"{step.kind}.{step.field}") if step.field else ""
        self.say(
            indent,
            f"aggregate_{step.function}",
            line=step.line,
            label=self.label(name) if name else step.kind,
            count=fmt.whole(Decimal(step.counted)),
            records=self.t.text("record" if step.counted == 1 else "records"),
            kind=self.label(f"records:{step.kind}"),
            field=field,
            value=self.step_value(step),
        )
        if self.part is not None and 0 < step.counted <= MAX_LISTED:
            # Which records fell in this month (week, segment): a rep checks them by id.
            ids = sorted(step.counted_ids, key=_natural)
            self.say(indent + 1, "counted_ids", ids=self.t.text("id_separator").join(ids))
        credited = sorted(step.credited, key=lambda c: _natural(c.record_id))
        if credited:
            self.say(indent + 1, "credited_header")
        for item in credited[:MAX_LISTED]:
            self.raw(indent + 2, self.credited(item))
        if len(credited) > MAX_LISTED:
            self.say(
                indent + 2, "credited_more", count=fmt.whole(Decimal(len(credited) - MAX_LISTED))
            )
        if not step.excluded:
            return
        # Records of other sub-periods are left out of this one by its dates; they are
        # counted in their own, so only the others are listed.
        excluded = [e for e in step.excluded if self.listed(e)]
        if not excluded:
            return
        self.say(indent + 1, "not_counted")
        # In id order, so the statement does not depend on the order of the input.
        excluded = sorted(excluded, key=lambda e: _natural(e.record_id))
        for exclusion in excluded[:MAX_LISTED]:
            self.raw(indent + 2, self.exclusion(exclusion, step.kind))
        rest = len(excluded) - MAX_LISTED
        if rest > 0:
            self.say(indent + 2, "excluded_more", count=fmt.whole(Decimal(rest)))

    def listed(self, item: tr.Exclusion) -> bool:
        """Whether a statement lists an exclusion: all but those of records dated in
        another sub-period than the one explained (they count in their own)."""
        if item.why.window in (None, "period"):
            return True
        value, part = item.field_value, self.part
        return part is not None and isinstance(value, dt.date) and part.start <= value <= part.end

    def exclusion(self, item: tr.Exclusion, kind: str) -> str:
        amount = "" if item.amount is None else " " + self.money(item.amount)
        field = self.label(f"{kind}.{item.field}") if item.field is not None else None
        value = item.field_value
        side = self.date_side(item)
        if side is not None and isinstance(value, dt.date):
            key = "excluded_employment" if side.startswith("employed") else "excluded_period"
            return self.t.text(key).format(
                id=item.record_id,
                amount=amount,
                field=field,
                value=fmt.date(value),
                side=self.t[side],
            )
        if item.field is not None:
            return self.t.text("excluded_condition").format(
                id=item.record_id,
                amount=amount,
                field=field,
                # A condition on the amount itself shows it as an amount.
                value=self.value(value, "money" if item.field == item.amount_field else "text"),
                condition=item.condition,
            )
        return self.t.text("excluded_plain").format(
            id=item.record_id, amount=amount, condition=item.condition
        )

    def date_side(self, item: tr.Exclusion) -> str | None:
        """Where a date left out by `in period` (`in month` …) fell: before or after the
        period, or before the first or after the last day employed."""
        value = item.field_value
        if item.why.window is None or not isinstance(value, dt.date):
            return None
        if value < self.plan.period_start:
            return "side_before"
        if value > self.plan.period_end:
            return "side_after"
        employment = self.result.trace.employment
        if employment is not None:
            first, last = employment
            if value < first:
                return "employed_before"
            if last is not None and value > last:
                return "employed_after"
        return None

    def by_days(self, step: tr.ScheduleStep | tr.DayWeightedStep, indent: int) -> None:
        """A value in force on dates: each piece with its days, then the weighted value."""
        if isinstance(step, tr.ScheduleStep):
            label = self.label(step.name)
        else:
            label = self.label(f"{step.kind}.{step.field}")
        if not step.pieces:
            self.say(indent, "by_days_none", line=step.line, label=label)
            return
        self.say(indent, "by_days", line=step.line, label=label)
        for piece in step.pieces:
            self.say(
                indent + 1,
                "by_days_piece" if piece.record_id is None else "by_days_record",
                id=piece.record_id or "",
                start=fmt.date(piece.start),
                end=fmt.date(piece.end),
                days=self.days(piece.days),
                value=self.table_value(tr.Step(piece.value, step.unit)),
            )
        if len(step.pieces) > 1:
            terms = " + ".join(
                f"{self.table_value(tr.Step(p.value, step.unit))} × {p.days}" for p in step.pieces
            )
            self.say(
                indent + 1,
                "by_days_total",
                terms=terms,
                days=self.days(step.days),
                value=self.step_value(step),
            )

    def day_range(self, start: dt.date, end: dt.date) -> str:
        if start == end:
            return fmt.date(start)
        return self.t.text("day_range").format(start=fmt.date(start), end=fmt.date(end))

    def days(self, count: int) -> str:
        """'1 day', '46 days' / '46 天'."""
        return self.t.text("day_count" if count == 1 else "days_count").format(count=count)

    def table_value(self, step: tr.Step) -> str:
        """A rate or weight as the plan wrote it (6%, not 6.000000%) when it is one."""
        if step.unit == "ratio" and isinstance(step.value, Decimal):
            return fmt.percent(step.value, fixed=False)
        return self.step_value(step)

    def unit_name(self, key: str) -> str:
        """2026-Q3 → 'Q3 2026' / '2026年第3季度'; 2026-07 → 'July 2026' / '2026年7月'."""
        year, _, rest = key.partition("-")
        if rest.startswith("Q"):
            return self.t.text("quarter_name").format(year=year, quarter=rest[1:])
        if rest.startswith("W"):
            return self.t.text("week_name").format(year=year, week=int(rest[1:]))
        if rest:
            month = int(rest)
            return self.t.text("month_name").format(
                year=year, month=month, name=self.t["months"][month - 1]
            )
        return self.t.text("year_name").format(year=year)

    def measure_step(self, name: str) -> tr.Step | None:
        """How the measure ``name`` was worked out, in the sub-period being explained."""
        part = self.part
        if part is not None and name in part.measures:
            return part.measures[name].step
        found = self.result.trace.measures.get(name)
        return None if found is None else found.step

    def measure(self, name: str, indent: int) -> None:
        part = self.part
        if part is not None and name in part.measures:
            measure = part.measures[name]
            if (part.key, name) in self.shown_measures:
                return
            self.shown_measures.add((part.key, name))
        else:
            if name in self.shown_measures:
                return
            self.shown_measures.add(name)
            measure = self.result.trace.measures[name]
        step = measure.step
        if isinstance(step, tr.AggregateStep):
            self.aggregate(step, indent, name)
            return
        self.blocks(step, indent, name)
        if isinstance(step, tr.LiteralStep | tr.ScheduleStep | tr.DayWeightedStep | tr.IfStep):
            # A value as written, one whose days were just listed, or the branch an `if`
            # just showed: nothing more to work out.
            if isinstance(step, tr.LiteralStep):
                shown = step.text
            elif isinstance(step, tr.IfStep):
                shown = self.step_value(step)
            else:
                shown = self.table_value(step)
            self.say(indent, "constant", line=measure.line, label=self.label(name), value=shown)
            return
        if isinstance(step, tr.WeightStep):
            units = ", ".join(self.unit_name(key) for key, _ in step.parts)
            self.say(
                indent,
                "constant",
                line=measure.line,
                label=self.label(name),
                value=f"{self.label(step.name)} ({units}) {self.table_value(step)}",
            )
            return
        self.say(
            indent,
            "derived",
            line=measure.line,
            label=self.label(name),
            formula=self.formula(step),
            value=self.step_value(step),
        )

    # ---- crediting, currencies and teams ------------------------------------------------
    def credited(self, item: tr.Credited) -> str:
        """'D-7: USD 10,000.00 × 7.1320 (rate of …) = ¥71,320.00 × 50% credit = ¥35,660.00'."""
        text = self.t.text("credited_id").format(id=item.record_id)
        if item.original is not None and item.rate is not None and item.rate_days is not None:
            text += self.t.text("converted").format(
                original=fmt.money(item.original, item.currency or "", Decimal("0.01")),
                rate=str(item.rate),
                start=fmt.date(item.rate_days[0]),
                end=fmt.date(item.rate_days[1]),
                value=self.money(item.full),
            )
        else:
            text += self.money(item.full)
        if item.share != 1 or item.overlay:
            key = "overlay_credit" if item.overlay else "split_credit"
            text += self.t.text(key).format(
                share=fmt.percent(item.share, fixed=False), value=self.money(item.value)
            )
        return text

    def group_words(self, group: str, value: str) -> str:
        """'Team North', or everyone on the plan."""
        if group == "everyone" and value == "" and group not in self.plan.labels:
            return self.t.text("group_everyone")
        if value == "":
            return self.t.text("group_empty").format(label=self.label(group))
        return f"{self.label(group)} {value}"

    def tie_words(self, tie: tuple[str, str | None]) -> str:
        name, order = tie
        if order is None:
            return self.t.text("tie_id")
        return self.t.text("tie_key").format(label=self.label(name), order=self.t["orders"][order])

    def rank(self, step: tr.RankStep, indent: int) -> None:
        values = {
            "label": self.label(step.ranking),
            "measure": self.label(step.measure),
            "group": self.group_words(step.group, step.group_value),
            "members": fmt.whole(Decimal(step.members)),
            "ranked": fmt.whole(Decimal(step.ranked)),
            "own": self.value(step.own, step.unit_of_value),
        }
        if step.rank is None:
            self.say(indent, "rank_none", line=step.line, **values)
            return
        self.say(indent, "rank", line=step.line, rank=step.rank, **values)
        for key, neighbour, tie in (
            ("rank_above", step.above, step.tie_above),
            ("rank_below", step.below, step.tie_below),
        ):
            if neighbour is None:
                continue
            who = (
                self.t.text("rank_who").format(id=neighbour.participant_id)
                if neighbour.participant_id is not None
                else ""
            )
            text = self.t.text(key).format(
                who=who,
                rank=neighbour.rank,
                value=self.value(neighbour.value, step.unit_of_value),
            )
            if tie is not None:
                text += self.t.text("rank_tie").format(rule=self.tie_words(tie))
                if neighbour.tie_value is not None and neighbour.own_tie_value is not None:
                    unit = neighbour.tie_unit or "number"
                    text += self.t.text("rank_tie_values").format(
                        theirs=self.value(neighbour.tie_value, unit),
                        yours=self.value(neighbour.own_tie_value, unit),
                    )
            elif neighbour.rank == step.rank:
                text += self.t.text("rank_shared")
            self.raw(indent + 1, text)

    def pool(self, step: tr.PoolStep, indent: int) -> None:
        amount = step.amount
        self.say(
            indent,
            "pool",
            line=step.line,
            group=self.group_words(step.group, step.group_value),
            members=fmt.whole(Decimal(step.members)),
            formula=self.formula(amount),
            amount=self.money(amount.value),
        )
        if amount.value != step.pool:
            self.say(indent + 1, "pool_rounded", pool=self.money(step.pool))
        exact = self.money_places(step.exact)
        if step.share is None or step.equal_fallback:
            key = "pool_equal_fallback" if step.equal_fallback else "pool_equal"
            self.say(
                indent + 1,
                key,
                measure=self.label(step.share or ""),
                pool=self.money(step.pool),
                members=fmt.whole(Decimal(step.members)),
                exact=exact,
            )
        else:
            unit = step.weight_unit
            self.say(
                indent + 1,
                "pool_share",
                measure=self.label(step.share),
                pool=self.money(step.pool),
                weight=self.value(step.weight, unit),
                total=self.value(step.total_weight, unit),
                exact=exact,
            )
        ties = self.t.text("tie_then").join(self.tie_words(t) for t in step.ties)
        cent = self.money(self.plan.quantum)
        if step.leftover == 0:
            self.say(indent + 1, "pool_whole", unit=cent, base=self.money(step.base))
            return
        self.say(
            indent + 1,
            "pool_extra" if step.extra else "pool_no_extra",
            left=self.money(step.left),
            unit=cent,
            ties=ties or self.t.text("tie_id"),
            base=self.money(step.base),
            amount=self.money(step.value),
        )

    def money_places(self, value: Fraction) -> str:
        """An exact share shown to six places (its whole cents are what it pays)."""
        places = Decimal(1).scaleb(-6)
        shown = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(places)
        text = fmt.money(shown, self.plan.currency, places)
        return text if Fraction(shown) == value else text + "…"

    def override(self, step: tr.OverrideStep, indent: int) -> None:
        self.say(
            indent,
            "override",
            line=step.line,
            measure=self.label(step.measure),
            through=self.label(step.through),
        )
        lines = list(step.lines)
        for level, rate, count in step.levels:
            self.say(indent + 1, "override_level", level=level, rate=rate, count=count)
            for item in (x for x in lines if x.level == level):
                self.raw(
                    indent + 2,
                    self.t.text("override_line").format(
                        id=item.participant_id,
                        name=item.name,
                        value=self.money(item.value),
                        rate=item.rate_text,
                        pay=self.money(item.pay),
                    ),
                )
        self.say(indent, "override_total", value=self.money(step.value))

    def tiers(self, step: tr.TierStep, indent: int) -> None:
        measure_name = _name_of(step.measure)
        measure_label = self.label(measure_name) if measure_name else self.formula(step.measure)
        against = ""
        if step.against is not None:
            against_name = _name_of(step.against)
            against = (
                self.t["tiers_against"]
                .format(
                    label=self.label(against_name) if against_name else "",
                    value=self.step_value(step.against),
                )
                .replace("  ", " ")
            )
        key = "tiers_marginal" if step.mode == "marginal" else "tiers_retroactive"
        self.say(indent, key, measure=measure_label, against=against)
        unit = step.measure.unit
        rows = []
        # Bounds as written (50%), or as amounts when the table is on amounts (¥100,000.00).
        on_amounts = step.against is None and unit == "money"
        for s in step.slices:
            lower = self.money(s.lower) if on_amounts else s.lower_text
            upper = self.money(s.upper) if on_amounts and s.upper is not None else s.upper_text
            if upper is None:
                span = self.t.text("tier_open").format(lower=lower)
            else:
                span = self.t.text("tier_range").format(lower=lower, upper=upper)
            rows.append((s, span))
        width = max(display_width(span) for _, span in rows)
        amount_texts = {
            id(s): self.t.text("tier_amounts").format(
                lower=self.value(s.lower, unit), upper=self.value(self._top(step, s), unit)
            )
            for s, _ in rows
            if s.reached and step.mode == "marginal"
        }
        amount_width = max((display_width(a) for a in amount_texts.values()), default=0)
        for index, (s, span) in enumerate(rows):
            padded = span + " " * (width - display_width(span))
            rate = self.tier_rate(step, s)
            if step.mode == "marginal":
                if not s.reached:
                    self.say(indent + 1, "tier_not_reached", range=padded)
                    continue
                amounts = amount_texts[id(s)]
                amounts += " " * (amount_width - display_width(amounts))
                self.say(
                    indent + 1,
                    "tier_slice",
                    range=padded,
                    amounts=amounts,
                    rate=rate,
                    pay=self.money(s.pay),
                )
            elif s.reached:
                self.say(
                    indent + 1,
                    "tier_retro_reached",
                    range=padded,
                    base=self.value(s.base, unit),
                    rate=rate,
                    pay=self.money(s.pay),
                )
            elif index < step.reached:
                self.say(indent + 1, "tier_passed", range=padded)
            else:
                self.say(indent + 1, "tier_not_reached", range=padded)
        if step.mode == "marginal" and sum(1 for s in step.slices if s.reached) > 1:
            self.say(indent, "tiers_total", value=self.money(step.value))
        if step.to_next is None:
            self.say(indent, "tier_top")
        else:
            following = step.slices[step.reached + 1]
            self.say(
                indent,
                "tier_next",
                gap=self.value(step.to_next, unit),
                measure=measure_label,
                rate=self.tier_rate(step, following),
                bound=self._bound_text(step, following),
            )

    def tier_rate(self, step: tr.TierStep, tier: tr.TierSlice) -> str:
        """A tier's rate as written (8%, 1.2), or, when the tiers pay an amount per unit
        (`pays 250` on a count of meetings), as that amount (¥250.00)."""
        if step.unit != "money" or tier.rate_text.endswith("%"):
            return tier.rate_text
        return self.money(tier.rate)

    def _bound_text(self, step: tr.TierStep, tier: tr.TierSlice) -> str:
        """Where a tier starts: '150% of Quota' against a target, else the amount."""
        if step.against is None:
            return self.value(tier.lower, step.measure.unit)
        name = _name_of(step.against)
        target = self.label(name) if name else self.formula(step.against)
        return self.t.text("tier_bound").format(share=tier.lower_text, target=target)

    @staticmethod
    def _top(step: tr.TierStep, s: tr.TierSlice) -> Any:
        """Where the measure's part in slice ``s`` ends: its upper bound or the measure."""
        value = step.measure.value
        return value if s.upper is None or value < s.upper else s.upper  # type: ignore[operator]

    def scorecard(self, step: tr.ScorecardStep, indent: int) -> None:
        self.say(indent, "scorecard")
        for item in step.items:
            self.say(
                indent + 1,
                "scorecard_item",
                formula=self.formula(item.item, 2),
                weight=fmt.percent(item.weight, fixed=False),
                contribution=fmt.percent(item.contribution),
            )
        self.say(indent + 1, "scorecard_total", value=self.step_value(step))

    def component(self, number: int, component: tr.ComponentTrace) -> None:
        label = self.label(component.name)
        ordinal = _zh_number(number) if self.lang == "zh" else str(number)
        self.say(
            0,
            "component",
            line=component.line,
            number=ordinal,
            label=label,
            amount=self.money(component.amount),
        )
        for name in component.measures:
            self.measure(name, 1)
        if component.per is not None:
            self.parts(component)
            return
        self.component_body(component, 1)

    def parts(self, component: tr.ComponentTrace) -> None:
        """A component paid per sub-period: each sub-period explained, then the sum."""
        assert component.per is not None
        count = len(component.parts)
        self.say(1, f"per_{component.per}" + ("_one" if count == 1 else ""), count=count)
        if component.per == "week" and component.parts:
            self.week_edges(component.parts)
        for part in component.parts:
            self.say(
                1,
                "part",
                name=self.part_name(component, part),
                start=fmt.date(part.start),
                end=fmt.date(part.end),
                amount=self.money(part.component.amount),
            )
            if part.active is not None:
                self.say(
                    2,
                    "part_employed",
                    start=fmt.date(part.active[0]),
                    end=fmt.date(part.active[1]),
                )
            saved, self.part = self.part, part
            try:
                for name in () if part.component.not_employed else part.component.measures:
                    self.measure(name, 2)
                self.component_body(part.component, 2)
            finally:
                self.part = saved
        # Beyond three parts, those that paid nothing are left out of the sum: thirteen
        # weeks of ¥0.00 add nothing to read.
        terms = " + ".join(
            self.money(p.component.amount)
            for p in component.parts
            if p.component.amount or len(component.parts) <= 3
        )
        if len(component.parts) == 1:
            return
        self.say(
            1,
            f"parts_total_{component.per}",
            terms=terms or self.money(component.amount),
            amount=self.money(component.amount),
        )

    def week_edges(self, parts: tuple[tr.PartTrace, ...]) -> None:
        """Say where the weeks reach past the period, and which of its days no week holds."""
        start, end = self.plan.period_start, self.plan.period_end
        first, last = parts[0], parts[-1]
        if first.start > start:
            self.say(
                1,
                "week_days_before",
                days=self.day_range(start, first.start - dt.timedelta(days=1)),
            )
        if first.start < start:
            self.say(
                1,
                "week_starts_before",
                week=self.unit_name(first.key),
                start=fmt.date(first.start),
            )
        if last.end < end:
            self.say(
                1, "week_days_after", days=self.day_range(last.end + dt.timedelta(days=1), end)
            )
        elif last.end > end:
            self.say(1, "week_ends_after", week=self.unit_name(last.key), end=fmt.date(last.end))

    def part_name(self, component: tr.ComponentTrace, part: tr.PartTrace) -> str:
        if component.per == "segment":
            days = (part.end - part.start).days + 1
            label = self.label(component.schedule or "")
            return self.t.text("segment_name").format(label=label, days=self.days(days))
        return self.unit_name(part.key)

    def component_body(self, component: tr.ComponentTrace, indent: int) -> None:
        label = self.label(component.name)
        if component.not_employed:
            key = "not_employed_here" if self.part is not None else "not_employed_line"
            self.say(indent, key, component=label)
            return
        for gate in component.gates:
            key = "gate_fail" if gate.bit else "gate_pass"
            for rank in _ranks(gate.expr):
                self.rank(rank, indent)
            self.say(
                indent, key, line=gate.line, condition=self.formula(gate.expr), component=label
            )
        if component.body is None:
            return
        body = component.body
        self.blocks(body, indent, component.name)
        if not isinstance(
            body,
            tr.TierStep
            | tr.AggregateStep
            | tr.LiteralStep
            | tr.IfStep
            | tr.PoolStep
            | tr.OverrideStep,
        ):
            with self.precise(body):
                formula = self.formula(body)
            self.say(indent, "formula", formula=formula, value=self.step_value(body))
        for modifier in component.modifiers:
            self.modifier(modifier, indent)
        if component.exact != component.amount:
            self.say(
                indent,
                "rounding",
                mode=self.t["modes"][self.plan.rounding_mode],
                quantum=fmt.number(self.plan.quantum),
                exact=self.money(component.exact),
                amount=self.money(component.amount),
            )

    def modifier(self, modifier: tr.ModifierStep, indent: int) -> None:
        limit = self.step_value(modifier.expr)
        before = self.money(modifier.before)
        after = self.money(modifier.after)
        if modifier.kind == "multiplier":
            self.say(
                indent, "multiplier", line=modifier.line, factor=limit, before=before, after=after
            )
            return
        key = f"{modifier.kind}_{'bit' if modifier.bit else 'not'}"
        self.say(indent, key, line=modifier.line, limit=limit, before=before, after=after)

    def build(self) -> Statement:
        result = self.result
        plan = self.plan
        self.say(
            0,
            "title",
            name=result.name,
            id=result.participant_id,
            plan=plan.name,
            start=fmt.date(plan.period_start),
            end=fmt.date(plan.period_end),
        )
        self.say(0, "total_first", amount=self.money(result.total))
        trace = result.trace
        if trace.employed_days is not None and trace.employed_days != trace.period_days:
            if trace.employed is None:
                self.say(0, "not_employed")
            else:
                self.say(
                    0,
                    "employed",
                    start=fmt.date(trace.employed[0]),
                    end=fmt.date(trace.employed[1]),
                    days=self.days(trace.employed_days),
                    of=self.days(trace.period_days or 0),
                )
        for number, component in enumerate(result.trace.components, 1):
            self.raw(0, "")
            self.component(number, component)
        if trace.rejected:
            # Records that name this participant but were refused: nothing disappears.
            self.raw(0, "")
            self.say(0, "rejected_records")
            for kind, record_id, reason in trace.rejected:
                self.say(
                    1,
                    "rejected_record",
                    kind=self.label(f"records:{kind}"),
                    id=record_id,
                    reason=reason,
                )
        self.raw(0, "")
        terms = " + ".join(self.money(c.amount) for c in result.components)
        if len(result.components) > 1:
            self.say(0, "total_sum", terms=terms, amount=self.money(result.total))
        else:
            self.say(0, "total_none", amount=self.money(result.total))
        return Statement(
            lang=self.lang,
            participant_id=result.participant_id,
            total=result.total,
            lines=tuple(self.lines),
        )


def _round_half_up(value: Fraction, quantum: Fraction) -> Fraction:
    steps = value / quantum
    whole = (abs(steps.numerator) * 2 + steps.denominator) // (2 * steps.denominator)
    return (whole if steps >= 0 else -whole) * quantum


def _recompute(step: tr.Step, places: int) -> Fraction | None:
    """The step's formula worked out from the numbers as shown; None if not arithmetic."""
    if isinstance(step, tr.ArithmeticStep):
        left, right = _recompute(step.left, places), _recompute(step.right, places)
        if left is None or right is None:
            return None
        if step.op == "+":
            return left + right
        if step.op == "-":
            return left - right
        if step.op == "*":
            return left * right
        return left / right if right else None
    if isinstance(step, tr.NegateStep):
        inner = _recompute(step.operand, places)
        return None if inner is None else -inner
    if isinstance(step, tr.DaysStep):
        return Fraction(int(step.value))  # type: ignore[arg-type]  # a whole number of days
    if isinstance(step, tr.ProratedStep):
        inner = _recompute(step.operand, places)
        return None if inner is None else inner * step.days / step.of_days
    if isinstance(step, tr.BoundStep):
        return _recompute(step.limit if step.bit else step.operand, places)
    value = step.value
    if isinstance(value, Decimal | Fraction):
        return fmt.shown(value, step.unit, places)
    return None


_natural = natural_key


def _name_of(step: tr.Step) -> str | None:
    if isinstance(step, tr.FieldStep | tr.MeasureStep):
        return step.name
    return None


_TESTS: Final[dict[str, Callable[[Fraction, Fraction], bool]]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _ranks(step: tr.Step) -> Iterator[tr.RankStep]:
    if isinstance(step, tr.RankStep):
        yield step
    for child in _children(step):
        yield from _ranks(child)


def _children(step: tr.Step) -> Iterator[tr.Step]:
    if isinstance(step, tr.ArithmeticStep | tr.CompareStep):
        yield from (step.left, step.right)
    elif isinstance(step, tr.NegateStep | tr.InPeriodStep | tr.ProratedStep):
        yield step.operand
    elif isinstance(step, tr.BoundStep):
        yield from (step.operand, step.limit)
    elif isinstance(step, tr.CallStep | tr.LogicStep):
        yield from step.args if isinstance(step, tr.CallStep) else step.operands
    elif isinstance(step, tr.IfStep):
        yield from (step.condition, step.chosen)
    elif isinstance(step, tr.ScorecardStep):
        yield from (item.item for item in step.items)
    elif isinstance(step, tr.TierStep):
        yield step.measure
        if step.against is not None:
            yield step.against


def build_statement(result: ParticipantResult, *, lang: Lang = "en") -> Statement:
    """The statement of one participant's result.

    Args:
        result: from `evaluate`.
        lang: ``"en"`` or ``"zh"`` (Simplified Chinese).

    Returns:
        The statement's lines; ``to_text()`` renders them.
    """
    return _Writer(result, lang).build()
