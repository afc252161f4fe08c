"""Values across participants: groups, rankings, team pools and manager overrides.

The engine computes every participant's measures first; a `Population` then answers
what one participant's rules ask of the others: a sum over their team, their rank, their
share of a pool, their override on the people below them.  Each answer is worked out
once for a whole group and kept.  The reporting tree may span several plans, so the
`Directory` holds every participant of a run.  Imports engine.compile's types only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final

from incentive.engine import trace as tr
from incentive.errors import EvaluationProblem
from incentive.money import ZERO, Exact, add, div, mul, to_fraction
from incentive.sorting import natural_key

if TYPE_CHECKING:
    from incentive.dsl import ast
    from incentive.engine.compile import ParticipantEnv

#: The group of everyone on the plan.
EVERYONE: Final = "everyone"


class TeamFailure(Exception):
    """A team value that cannot be worked out (E604, E605); the engine adds the span."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass
class Member:
    """A participant as the others see them: their values, their plan and their manager."""

    participant_id: str
    name: str
    plan: str
    env: ParticipantEnv
    #: the participant each link field names (their manager), None when empty
    links: Mapping[str, str | None]


@dataclass
class Directory:
    """Every participant of a run, across plans, for the reporting tree."""

    members: dict[str, Member] = field(default_factory=dict)
    #: participants whose own values could not all be worked out, with the problem
    failed: dict[str, EvaluationProblem] = field(default_factory=dict)
    _children: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def add(self, member: Member) -> None:
        self.members[member.participant_id] = member
        self._children.clear()

    def below(self, participant_id: str, through: str, level: int) -> list[str]:
        """The participants ``level`` steps below ``participant_id`` in the tree ``through``
        draws, in id order.  The tree has no cycles: reading the inputs refused them."""
        children = self._children.get(through)
        if children is None:
            children = {}
            for member in self.members.values():
                manager = member.links.get(through)
                if manager is not None:
                    children.setdefault(manager, []).append(member.participant_id)
            for ids in children.values():
                ids.sort(key=id_key)
            self._children[through] = children
        found = [participant_id]
        for _ in range(level):
            found = [child for parent in found for child in children.get(parent, ())]
        return sorted(found, key=id_key)


def member_value(env: ParticipantEnv, name: str) -> Any:
    """A participant's measure or field, as another participant's rule reads it."""
    step = env.measures.get(name)
    if step is not None:
        return step.value
    if name == "id":
        return env.participant_id
    return env.fields[name]


def member_unit(env: ParticipantEnv, name: str, fields: Mapping[str, Any]) -> Any:
    """The unit of a member's measure or field, for statements."""
    step = env.measures.get(name)
    if step is not None:
        return step.unit
    return fields.get(name, "number")


id_key = natural_key


def _sort_part(value: Any, order: str | None) -> Any:
    """A key part that sorts the winner of ``order`` first (ids: the smaller first)."""
    if order is None:
        return id_key(str(value))
    if order in ("highest", "latest"):
        return -value.toordinal() if isinstance(value, dt.date) else -to_fraction(value)
    if isinstance(value, dt.date):
        return value.toordinal()
    if isinstance(value, Decimal | Fraction):
        return to_fraction(value)
    return value


@dataclass
class Population:
    """The participants of one plan, once their measures are computed."""

    plan: str
    directory: Directory
    #: the unit of each participant field, for statements
    field_units: Mapping[str, Any] = field(default_factory=dict)
    members: list[ParticipantEnv] = field(default_factory=list)
    _groups: dict[str, dict[str, list[ParticipantEnv]]] = field(default_factory=dict)
    _cache: dict[Any, Any] = field(default_factory=dict)

    def group_of(self, env: ParticipantEnv, group: str) -> str:
        if group == EVERYONE and group not in env.fields:
            return ""
        value = env.fields[group]
        return "" if value is None else str(value)  # no manager: the group of those without

    def group(self, env: ParticipantEnv, group: str) -> list[ParticipantEnv]:
        """The members of ``env``'s group, in input order."""
        groups = self._groups.get(group)
        if groups is None:
            groups = {}
            for member in self.members:
                groups.setdefault(self.group_of(member, group), []).append(member)
            self._groups[group] = groups
        value = self.group_of(env, group)
        members = groups.get(value, [env])
        failed = self.directory.failed
        # Whether a member failed, looked up once per group (and per count of failures,
        # which grows only between levels), not once per member asking.
        key = ("failed", group, value, len(failed))
        culprit = self._cache.get(key, ())
        if culprit == ():
            culprit = self._cache[key] = next(
                (m.participant_id for m in members if m.participant_id in failed), None
            )
        if culprit is not None:
            problem = failed[culprit]
            raise TeamFailure(
                "E604",
                f"{group} '{value}': {culprit} could not be evaluated ({problem.code}: "
                f"{problem.message}), so the values of their {group} cannot be worked out",
            )
        return members

    # ---- sum of revenue within team -------------------------------------------------
    def aggregate(self, node: ast.GroupAggregate, env: ParticipantEnv, unit: Any) -> tr.Step:
        key = ("aggregate", node.function, node.measure, node.group, self.group_of(env, node.group))
        cached = self._cache.get(key)
        if cached is None:
            members = self.group(env, node.group)
            values = [member_value(m, node.measure) for m in members]
            value: Exact
            if node.function in ("sum", "average"):
                value = ZERO
                for item in values:
                    value = add(value, item)
                if node.function == "average":
                    value = div(value, Decimal(len(values)))
            else:
                value = min(values) if node.function == "minimum" else max(values)
            cached = self._cache[key] = tr.GroupStep(
                value,
                unit,
                node.function,
                node.measure,
                node.group,
                self.group_of(env, node.group),
                len(members),
            )
        return cached

    # ---- rankings ---------------------------------------------------------------------
    def rank(self, ranking: ast.Ranking, env: ParticipantEnv, top: int) -> tr.RankStep:
        group_value = self.group_of(env, ranking.group)
        key = ("rank", ranking.name, group_value)
        order = self._cache.get(key)
        members = self.group(env, ranking.group)
        if order is None:
            ranked_members = self._order(ranking, members)
            where = {item[0].participant_id: i for i, item in enumerate(ranked_members)}
            order = self._cache[key] = (ranked_members, where)
        ranked, positions = order
        own = member_value(env, ranking.measure)
        ties = tuple(_tie_text(k) for k in ranking.ties)
        position = positions.get(env.participant_id)
        above = below = None
        tie_above: tuple[str, str | None] | None = None
        tie_below: tuple[str, str | None] | None = None
        rank = None
        if position is not None:
            rank = ranked[position][1]
            if position > 0:
                above, tie_above = self._neighbour(ranking, ranked, position, position - 1)
            if position + 1 < len(ranked):
                below, tie_below = self._neighbour(ranking, ranked, position, position + 1)
        return tr.RankStep(
            rank is not None and rank <= top,
            "bool",
            ranking.name,
            ranking.measure,
            ranking.order,
            ranking.group,
            group_value,
            len(members),
            len(ranked),
            rank,
            own,
            top,
            above,
            below,
            ties,
            tie_above,
            tie_below,
            ranking.public,
            ranking.span.line,
            member_unit(env, ranking.measure, self.field_units),
        )

    def _order(
        self, ranking: ast.Ranking, members: Sequence[ParticipantEnv]
    ) -> list[tuple[ParticipantEnv, int, tuple[Any, ...]]]:
        """The ranked members in rank order, with their rank and sort key.  Only values
        above zero rank; members the tie rules cannot tell apart share a rank."""
        keyed: list[tuple[tuple[Any, ...], ParticipantEnv]] = []
        for member in members:
            value = member_value(member, ranking.measure)
            if not value > 0:
                continue
            first = _sort_part(value, ranking.order)
            rest = (_sort_part(member_value(member, k.name), k.order) for k in ranking.ties)
            keyed.append(((first, *rest), member))
        keyed.sort(key=lambda item: (item[0], id_key(item[1].participant_id)))
        out: list[tuple[ParticipantEnv, int, tuple[Any, ...]]] = []
        for index, (key, member) in enumerate(keyed):
            rank = out[-1][1] if out and out[-1][2] == key else index + 1
            out.append((member, rank, key))
        return out

    def _neighbour(
        self,
        ranking: ast.Ranking,
        ranked: Sequence[tuple[ParticipantEnv, int, tuple[Any, ...]]],
        own: int,
        other: int,
    ) -> tuple[tr.Neighbour, tuple[str, str | None] | None]:
        member, rank, parts = ranked[other]
        me, _, mine = ranked[own]
        decided = None
        values: tuple[Any, Any] | None = None
        if parts[0] == mine[0] and parts != mine:
            index = next(i for i in range(1, len(parts)) if parts[i] != mine[i])
            key = ranking.ties[index - 1]
            decided = _tie_text(key)
            if key.order is not None:  # an id is shown only on a public ranking
                values = (member_value(member, key.name), member_value(me, key.name))
        neighbour = tr.Neighbour(
            rank,
            member_value(member, ranking.measure),
            member.participant_id if ranking.public else None,
            None if values is None else values[0],
            None if values is None else values[1],
            None if decided is None else member_unit(me, decided[0], self.field_units),
        )
        return neighbour, decided

    # ---- team pools -------------------------------------------------------------------
    def pool(
        self,
        name: str,
        node: ast.Pool,
        env: ParticipantEnv,
        amount: Callable[[ParticipantEnv], tr.Step],
        rounded: Callable[[Exact], Decimal],
        quantum: Decimal,
    ) -> tr.PoolStep:
        key = ("pool", name, self.group_of(env, node.group))
        shares = self._cache.get(key)
        if shares is None:
            try:
                shares = self._share(node, env, amount, rounded, quantum)
            except TeamFailure as failure:
                shares = failure  # once for the whole group, not once for each member
            self._cache[key] = shares
        if isinstance(shares, TeamFailure):
            raise shares
        return shares[env.participant_id]

    def _share(
        self,
        node: ast.Pool,
        env: ParticipantEnv,
        amount: Callable[[ParticipantEnv], tr.Step],
        rounded: Callable[[Exact], Decimal],
        quantum: Decimal,
    ) -> dict[str, tr.PoolStep]:
        # A member employed on no day of the period is paid nothing, so takes no share.
        members = [m for m in self.group(env, node.group) if not _never_employed(m)]
        steps = [amount(m) for m in members]
        for member, step in zip(members, steps, strict=True):
            # The checker lets a pool read only values of the whole group; this guards it.
            if step.value != steps[0].value:
                raise TeamFailure(
                    "E604",
                    f"{node.group} '{self.group_of(env, node.group)}': the pool comes out as "
                    f"{_shown(steps[0].value)} for {members[0].participant_id} but "
                    f"{_shown(step.value)} for {member.participant_id}; a pool is computed "
                    "from values of the whole group",
                )
        pool = rounded(steps[0].value)  # type: ignore[arg-type]  # checked: an amount
        weights: list[Exact] = []
        for member in members:
            weight = Decimal(1) if node.share is None else member_value(member, node.share)
            if weight < 0:
                raise TeamFailure(
                    "E604",
                    f"{node.group} '{self.group_of(env, node.group)}': the pool cannot be "
                    f"shared: '{node.share}' is {_shown(weight)} for {member.participant_id}, "
                    "and a share cannot be negative",
                )
            weights.append(weight)
        total: Exact = ZERO
        for weight in weights:
            total = add(total, weight)
        equal = total == 0
        if equal:
            weights = [Decimal(1)] * len(members)
            total = Decimal(len(members))
        units = int(to_fraction(pool) / to_fraction(quantum))
        sign = -1 if units < 0 else 1
        exact = [Fraction(abs(units)) * to_fraction(w) / to_fraction(total) for w in weights]
        whole = [int(e) for e in exact]  # floor: each exact share is at least 0
        leftover = abs(units) - sum(whole)
        tie_keys = [
            tuple(_sort_part(member_value(m, k.name), k.order) for k in node.ties) for m in members
        ]
        order = sorted(
            range(len(members)),
            key=lambda i: (-(exact[i] - whole[i]), tie_keys[i], id_key(members[i].participant_id)),
        )
        extra = set(order[:leftover])
        ties = tuple(_tie_text(k) for k in node.ties)
        out: dict[str, tr.PoolStep] = {}
        for index, member in enumerate(members):
            units_i = whole[index] + (1 if index in extra else 0)
            value = _times(sign * units_i, quantum)
            out[member.participant_id] = tr.PoolStep(
                value,
                "money",
                steps[index],
                pool,
                node.group,
                self.group_of(member, node.group),
                len(members),
                node.share,
                weights[index],
                total,
                exact[index] * to_fraction(quantum) * sign,
                _times(sign * whole[index], quantum),
                index in extra,
                leftover,
                ties,
                equal,
                node.span.line,
                "number"
                if node.share is None
                else member_unit(member, node.share, self.field_units),
                _times(leftover, quantum),
            )
        return out

    # ---- manager overrides ------------------------------------------------------------
    def override(self, node: ast.Override, env: ParticipantEnv, unit: Any) -> tr.OverrideStep:
        lines: list[tr.OverrideLine] = []
        levels: list[tuple[int, str, int]] = []
        total: Exact = ZERO
        for level in node.levels:
            below = self.directory.below(env.participant_id, node.through, level.level)
            levels.append((level.level, level.rate_text, len(below)))
            for participant_id in below:
                member = self.directory.members[participant_id]
                problem = self.directory.failed.get(participant_id)
                if problem is not None:
                    raise TeamFailure(
                        "E605",
                        f"{participant_id} reports to {env.participant_id} (level "
                        f"{level.level}) but could not be evaluated ({problem.code}: "
                        f"{problem.message})",
                    )
                step = member.env.measures.get(node.measure)
                if step is not None and step.unit != "money":
                    raise TeamFailure(
                        "E605",
                        f"{participant_id} reports to {env.participant_id} (level "
                        f"{level.level}), but '{node.measure}' in their plan '{member.plan}' "
                        "is not an amount",
                    )
                if step is None:
                    raise TeamFailure(
                        "E605",
                        f"{participant_id} reports to {env.participant_id} (level "
                        f"{level.level}), but their plan '{member.plan}' has no measure "
                        f"'{node.measure}' for the override",
                    )
                value: Exact = step.value  # type: ignore[assignment]  # checked: an amount
                pay = mul(value, level.rate)
                total = add(total, pay)
                lines.append(
                    tr.OverrideLine(
                        participant_id,
                        member.name,
                        level.level,
                        value,
                        level.rate,
                        level.rate_text,
                        pay,
                    )
                )
        return tr.OverrideStep(
            total, unit, node.measure, node.through, tuple(lines), tuple(levels), node.span.line
        )


def _times(units: int, quantum: Decimal) -> Decimal:
    """``units`` whole quanta, exactly (however many digits)."""
    value = mul(Decimal(units), quantum)
    assert isinstance(value, Decimal)  # a product of two decimals is one
    return value


def _never_employed(env: ParticipantEnv) -> bool:
    return env.employment is not None and env.active is None


def _shown(value: Any) -> str:
    """A value for a message: exact, with at most six decimals."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.000001')).normalize():,f}"
    return str(value)


def _tie_text(key: ast.TieKey) -> tuple[str, str | None]:
    return (key.name, key.order)
