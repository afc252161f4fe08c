"""`Plan` → `CheckedPlan`: the semantic passes, each reporting every problem it finds.

Passes run in the order `PASSES` lists; they read the header, resolve names, infer the
unit of every expression, order measures by dependency, and check tier tables, scorecard
weights, caps and floors.  All diagnostics are raised together, sorted by position, in
one `PlanCheckError`.  Imports errors, money and dsl; never the engine.
"""

from __future__ import annotations

import datetime as dt
import itertools
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Final, Literal

from incentive import calendar
from incentive._types import Unit
from incentive.dsl import ast
from incentive.dsl.parser import EXPRESSION_KEYWORDS, STATEMENT_KEYWORDS
from incentive.dsl.suggest import did_you_mean
from incentive.errors import Diagnostic, PlanCheckError, Span
from incentive.money import ROUNDING_MODES, RoundingMode, minor_unit

#: The unit of a value each kind of field holds.
FIELD_UNITS: Final[dict[str, Unit]] = {
    "money": "money",
    "signed_money": "money",
    "positive_money": "money",
    "positive_number": "number",
    "positive_count": "count",
    "percent": "ratio",
    "number": "number",
    "count": "count",
    "score": "score",
    "date": "date",
    "optional_date": "date",
    "text": "text",
    "participant": "participant",
    "id": "id",
    "credit": "id",
    "flag": "bool",
}
#: Active ISO 4217 currency codes.
ISO_4217: Final = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW
    ZWG""".split()  # noqa: SIM905 - a block of codes reads better than a list
)

_NUMERIC: Final = frozenset({"money", "ratio", "number", "count", "score"})


@dataclass(frozen=True, slots=True)
class RecordKindInfo:
    """A declared record kind with its id field and the field that credits a participant."""

    name: str
    fields: Mapping[str, ast.FieldDecl]
    id_field: str
    participant_field: str
    span: Span


@dataclass(frozen=True, slots=True)
class Reference:
    """What a name in an expression stands for."""

    kind: Literal["participant_field", "measure", "record_field", "schedule", "weights", "ranking"]
    name: str
    record_kind: str | None = None


@dataclass(frozen=True)
class CheckedPlan:
    """A plan whose names resolve, whose units agree and whose tables are sound."""

    plan: ast.Plan
    name: str
    currency: str
    period_start: dt.date
    period_end: dt.date
    rounding_mode: RoundingMode
    quantum: Decimal
    participant_fields: Mapping[str, ast.FieldDecl]
    #: the participants' id column: the field declared ``id``, else ``id``
    participant_id_field: str
    record_kinds: Mapping[str, RecordKindInfo]
    measures: Mapping[str, ast.Measure]
    measure_order: tuple[str, ...]
    components: tuple[ast.Component, ...]
    units: Mapping[ast.Expr, Unit]
    references: Mapping[ast.Expr, Reference]
    measure_dependencies: Mapping[str, tuple[str, ...]]
    warnings: tuple[Diagnostic, ...] = ()
    schedules: Mapping[str, ast.Schedule] = field(default_factory=dict)
    weights: Mapping[str, ast.Weights] = field(default_factory=dict)
    employment: ast.Employment | None = None
    #: record kinds read as dated rows (`weighted by days`): kind → (first day, last day)
    dated: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    rankings: Mapping[str, ast.Ranking] = field(default_factory=dict)
    exchange: ast.ExchangeRates | None = None
    #: record kinds whose rows credit records of another kind: credit kind → credited kind
    credit_kinds: Mapping[str, str] = field(default_factory=dict)
    #: participant fields that link to another participant (a reporting tree)
    links: tuple[str, ...] = ()
    #: participant text fields that group participants (teams): a row must fill them
    group_fields: frozenset[str] = frozenset()

    @property
    def source(self) -> str:
        """The plan text."""
        return self.plan.source

    @property
    def plan_kinds(self) -> Mapping[str, ast.RecordKind]:
        """The record kinds as declared, by name."""
        return {kind.name: kind for kind in self.plan.record_kinds}

    @property
    def filename(self) -> str:
        """The plan's file name, as diagnostics show it."""
        return self.plan.filename


@dataclass
class _Report:
    """What the passes learn and the problems they find."""

    plan: ast.Plan
    diagnostics: list[Diagnostic] = field(default_factory=list)
    name: str = ""
    currency: str = "CNY"
    period: tuple[dt.date, dt.date] = (dt.date(2000, 1, 1), dt.date(2000, 1, 1))
    #: the plan states a period that holds (else `period` is a stand-in)
    period_given: bool = False
    rounding_mode: RoundingMode = "half_up"
    quantum: Decimal | None = None
    participant_fields: dict[str, ast.FieldDecl] = field(default_factory=dict)
    record_kinds: dict[str, RecordKindInfo] = field(default_factory=dict)
    measures: dict[str, ast.Measure] = field(default_factory=dict)
    measure_order: list[str] = field(default_factory=list)
    units: dict[ast.Expr, Unit] = field(default_factory=dict)
    references: dict[ast.Expr, Reference] = field(default_factory=dict)
    measure_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    in_progress: set[str] = field(default_factory=set)
    #: amount × score products not (yet) divided back into an amount
    score_products: dict[ast.Expr, ast.Expr] = field(default_factory=dict)
    #: the values each measure can take, from declared ranges (see `_range`)
    measure_ranges: dict[str, tuple[Fraction | None, Fraction | None]] = field(default_factory=dict)
    participant_id_field: str = "id"
    #: record kinds declared with errors already reported; uses of them stay quiet
    broken_kinds: set[str] = field(default_factory=set)
    schedules: dict[str, ast.Schedule] = field(default_factory=dict)
    weights: dict[str, ast.Weights] = field(default_factory=dict)
    employment: ast.Employment | None = None
    #: record kinds read as dated rows: kind → (first-day field, last-day field)
    dated: dict[str, tuple[str, str]] = field(default_factory=dict)
    rankings: dict[str, ast.Ranking] = field(default_factory=dict)
    exchange: ast.ExchangeRates | None = None
    credit_kinds: dict[str, str] = field(default_factory=dict)

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, "error", message, span, hint))

    def warning(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, "warning", message, span, hint))


# ---- pass: header --------------------------------------------------------------------
def check_header(plan: ast.Plan, report: _Report) -> None:
    """Exactly one plan, currency and period line; at most one rounding line."""
    seen: dict[str, ast.Header] = {}
    for header in plan.headers:
        if header.key in seen:
            first = seen[header.key].span.line
            report.error(
                "P206",
                f"'{header.key}' is given twice (first on line {first})",
                header.span,
                hint=f"keep one '{header.key}' line",
            )
            continue
        seen[header.key] = header
        _check_header_value(header, report)
    start = Span(plan.filename, 1, 1, 1, 2)
    examples = {
        "plan": 'plan "Account Executive 2026 Q3"',
        "currency": "currency CNY",
        "period": "period 2026-07-01 to 2026-09-30",
    }
    for key, example in examples.items():
        if key not in seen:
            report.error("P206", f"the plan has no '{key}' line", start, hint=f"add: {example}")
    if report.quantum is None:
        report.quantum = minor_unit(report.currency)


def _check_header_value(header: ast.Header, report: _Report) -> None:
    if header.key == "plan":
        report.name = header.values[0]
    elif header.key == "currency":
        code = header.values[0]
        if code not in ISO_4217:
            report.error(
                "P207",
                f"'{code}' is not an ISO 4217 currency code",
                header.span,
                hint=("write CNY, the ISO code of the renminbi" if code.upper() == "RMB" else None)
                or did_you_mean(code.upper(), ISO_4217)
                or "use a three-letter code such as CNY, USD or EUR",
            )
        report.currency = code
    elif header.key == "period":
        start, end = (dt.date.fromisoformat(v) for v in header.values)
        if end < start:
            report.error(
                "P207",
                f"the period ends ({end}) before it starts ({start})",
                header.span,
                hint="write the earlier date first: period START to END",
            )
        elif start.year < 1900 or end.year > 2999:
            report.error(
                "P207",
                f"the period {start} to {end} lies outside the years 1900 to 2999",
                header.span,
                hint="check the year",
            )
        else:
            report.period_given = True
        report.period = (start, end)
    else:
        mode, quantum_text, *scope = header.values
        if mode not in ROUNDING_MODES:
            report.error(
                "P207",
                f"unknown rounding mode '{mode}'",
                header.span,
                hint=did_you_mean(mode, ROUNDING_MODES)
                or "use one of: " + ", ".join(ROUNDING_MODES),
            )
        else:
            report.rounding_mode = mode  # type: ignore[assignment]  # checked just above
        quantum = Decimal(quantum_text)
        if quantum <= 0 or quantum.normalize().as_tuple().digits != (1,):
            report.error(
                "P207",
                f"rounding to {quantum_text} is not rounding to a power of ten",
                header.span,
                hint="round to 0.01, 0.1, 1, 10 …",
            )
        else:
            report.quantum = quantum
        if scope and scope[0] != "component":
            report.error(
                "P207",
                f"rounding 'per {scope[0]}' is not supported",
                header.span,
                hint="write 'per component': each payout line is rounded once",
            )


# ---- pass: declarations --------------------------------------------------------------
def check_names(plan: ast.Plan, report: _Report) -> None:
    """No field, measure or record kind is named with a keyword it would be mistaken for."""
    named: list[tuple[str, str, Span, frozenset[str]]] = [
        *(
            (d.name, "field", d.span, EXPRESSION_KEYWORDS)
            for g in plan.participant_fields
            for d in g
        ),
        *((k.name, "record kind", k.span, STATEMENT_KEYWORDS) for k in plan.record_kinds),
        *(
            (d.name, "field", d.span, EXPRESSION_KEYWORDS)
            for k in plan.record_kinds
            for d in k.fields
        ),
        *((m.name, "measure", m.span, EXPRESSION_KEYWORDS) for m in plan.measures),
        *((t.name, "schedule", t.span, EXPRESSION_KEYWORDS) for t in plan.schedules),
        *((w.name, "weights table", w.span, EXPRESSION_KEYWORDS) for w in plan.weights),
    ]
    for name, what, span, reserved in named:
        if name in reserved:
            report.error(
                "P209",
                f"'{name}' is a keyword of the language and cannot name a {what}",
                span,
                hint=f"rename it, e.g. '{name}_value'",
            )


_LOOKALIKE_SCRIPTS: Final = ("LATIN", "CYRILLIC", "GREEK")


def _scripts(name: str) -> set[str]:
    found = set()
    for char in name:
        if char.isalpha():
            word = unicodedata.name(char, "").split(" ")[0]
            if word in _LOOKALIKE_SCRIPTS:
                found.add(word)
    return found


def check_identifiers(plan: ast.Plan, report: _Report) -> None:
    """Names must be what they look like: no mixed Latin/Cyrillic/Greek, no full-width forms.

    'quotа' with a Cyrillic 'а' looks like 'quota' but is another name; a plan written by
    someone untrusted could use that to point a rule at the wrong field.
    """
    places: list[tuple[str, Span]] = [
        *((d.name, d.span) for g in plan.participant_fields for d in g),
        *((k.name, k.span) for k in plan.record_kinds),
        *((d.name, d.span) for k in plan.record_kinds for d in k.fields),
        *((m.name, m.span) for m in plan.measures),
        *((c.name, c.span) for c in plan.components),
        *((t.name, t.span) for t in plan.schedules),
        *((w.name, w.span) for w in plan.weights),
    ]
    roots = _roots(plan)
    for root in roots:
        for node in walk(root):
            if isinstance(node, ast.Name):
                places.append((node.name, node.span))
            elif isinstance(node, ast.QualifiedName):
                places += [(node.kind, node.span), (node.field, node.span)]
    for name, span in places:
        plain = unicodedata.normalize("NFKC", name)
        if plain != name:
            report.error(
                "P210",
                f"the name '{name}' is written with full-width or compatibility characters",
                span,
                hint=f"write it with plain characters: '{plain}'",
            )
        elif len(scripts := _scripts(name)) > 1:
            report.error(
                "P210",
                f"the name '{name}' mixes {' and '.join(sorted(s.title() for s in scripts))} "
                "letters that look alike",
                span,
                hint="retype the name in one script",
            )


def check_declarations(plan: ast.Plan, report: _Report) -> None:
    """Fields, record kinds, measures and components have unique names and sound types."""
    for group in plan.participant_fields:
        for decl in group:
            _check_field(decl, report)
            if decl.kind in ("credit", "flag"):
                report.error(
                    "P204",
                    f"participant field '{decl.name}' cannot be "
                    + ("a credit" if decl.kind == "credit" else "yes or no"),
                    decl.span,
                    hint="credits and overlay flags are fields of a credit record kind",
                )
            elif decl.kind == "id" and report.participant_id_field != "id":
                report.error(
                    "P202",
                    f"participants already have the id field '{report.participant_id_field}'",
                    decl.span,
                    hint="declare one id field for participants",
                )
            elif decl.kind == "id":
                report.participant_id_field = decl.name
                report.participant_fields[decl.name] = decl
            elif decl.name in ("id", "name"):
                report.error(
                    "P202",
                    f"'{decl.name}' is always a participant field and need not be declared",
                    decl.span,
                    hint=f"remove '{decl.name}' from the participant fields",
                )
            elif decl.name in report.participant_fields:
                _duplicate(decl.name, decl.span, report.participant_fields[decl.name].span, report)
            else:
                report.participant_fields[decl.name] = decl
    for kind in plan.record_kinds:
        if kind.name in report.record_kinds:
            _duplicate(kind.name, kind.span, report.record_kinds[kind.name].span, report)
            continue
        fields: dict[str, ast.FieldDecl] = {}
        for decl in kind.fields:
            _check_field(decl, report)
            if decl.name in fields:
                _duplicate(decl.name, decl.span, fields[decl.name].span, report)
            fields[decl.name] = decl
        ids = [d.name for d in kind.fields if d.kind == "id"]
        owners = [d.name for d in kind.fields if d.kind == "participant"]
        if any(d.kind == "credit" for d in kind.fields):
            if _check_credit_kind(kind, owners, report):
                report.record_kinds[kind.name] = RecordKindInfo(
                    kind.name, fields, "", owners[0], kind.span
                )
            else:
                report.broken_kinds.add(kind.name)
            continue
        if len(ids) != 1 or len(owners) != 1:
            report.error(
                "P208",
                f"record kind '{kind.name}' needs exactly one 'id' field and one 'participant' "
                f"field (it has {len(ids)} 'id' and {len(owners)} 'participant')",
                kind.span,
                hint=f"declare e.g. '{kind.name}_id id' and 'owner participant'",
            )
            report.broken_kinds.add(kind.name)
            continue
        report.record_kinds[kind.name] = RecordKindInfo(
            kind.name, fields, ids[0], owners[0], kind.span
        )
    taken: dict[str, Span] = {n: d.span for n, d in report.participant_fields.items()}
    tables: list[ast.Schedule | ast.Weights] = [*plan.schedules, *plan.weights]
    for table in tables:
        if table.name in taken:
            _duplicate(table.name, table.span, taken[table.name], report)
            continue
        taken[table.name] = table.span
        if isinstance(table, ast.Schedule):
            report.schedules[table.name] = table
            _check_schedule(table, report)
        else:
            report.weights[table.name] = table
            _check_weights(table, report)
    _check_employment(plan, report)
    _check_exchange(plan, report)
    for kind in plan.record_kinds:
        for decl in kind.fields:
            if decl.kind == "flag" and kind.name not in report.credit_kinds:
                report.error(
                    "P204",
                    f"'{decl.name}' is yes or no, which only a credit record kind takes "
                    "(to mark overlay rows)",
                    decl.span,
                    hint="declare it as text",
                )
            if decl.conversion is not None:
                _check_conversion(decl, kind, report)
            if decl.within_period and decl.kind != "date":
                report.error(
                    "P204",
                    f"'within period' needs a date field; '{decl.name}' is "
                    + ("an optional date" if decl.kind == "optional_date" else decl.kind),
                    decl.span,
                    hint="put 'within period' on a required date field, e.g. closed_on date",
                )
    for group in plan.participant_fields:
        for decl in group:
            if decl.within_period:
                report.error(
                    "P204",
                    "'within period' applies to record fields, not participant fields",
                    decl.span,
                    hint="remove it here; use 'employment from …' for hire dates",
                )
    for measure in plan.measures:
        if measure.name in taken:
            _duplicate(measure.name, measure.span, taken[measure.name], report)
            continue
        taken[measure.name] = measure.span
        report.measures[measure.name] = measure
    for ranking in plan.rankings:
        if ranking.name in taken:
            _duplicate(ranking.name, ranking.span, taken[ranking.name], report)
            continue
        taken[ranking.name] = ranking.span
        report.rankings[ranking.name] = ranking
    components: dict[str, Span] = {}
    for component in plan.components:
        if component.name in components:
            _duplicate(component.name, component.span, components[component.name], report)
        components[component.name] = component.span
    if not plan.components:
        report.error(
            "P206",
            "the plan has no component, so it pays nothing",
            Span(plan.filename, 1, 1, 1, 2),
            hint='add a component, e.g.: component base "Base pay" = base_monthly * 3',
        )


def _check_credit_kind(kind: ast.RecordKind, owners: list[str], report: _Report) -> bool:
    """A kind of credit rows: one record to credit, one participant, one share, and at most
    one yes-or-no field marking overlay rows (credit on top of the record's 100%)."""
    targets = [d for d in kind.fields if d.kind == "credit"]
    shares = [d for d in kind.fields if d.kind == "percent"]
    flags = [d for d in kind.fields if d.kind == "flag"]
    if len(targets) != 1 or len(owners) != 1 or len(shares) != 1 or len(flags) > 1:
        report.error(
            "P208",
            f"credit record kind '{kind.name}' needs one 'credit for KIND' field, one "
            f"'participant' field, one 'percent' field and at most one 'yes or no' field "
            f"(it has {len(targets)}, {len(owners)}, {len(shares)} and {len(flags)})",
            kind.span,
            hint="e.g. deal_id credit for deal, rep participant, share percent, overlay yes or no",
        )
        return False
    target = targets[0]
    credited = next((k for k in report.plan.record_kinds if k.name == target.credit_for), None)
    if credited is None or any(d.kind == "credit" for d in credited.fields):
        report.error(
            "P203",
            f"'{target.credit_for}' is not a record kind that credits can be given for",
            target.span,
            hint=did_you_mean(str(target.credit_for), [k.name for k in report.plan.record_kinds])
            or "name a declared record kind, e.g. credit for deal",
        )
        return False
    if target.credit_for in report.credit_kinds.values():
        report.error(
            "P202",
            f"credits for '{target.credit_for}' records are already declared",
            target.span,
            hint="declare one credit record kind for each kind of record",
        )
        return False
    report.credit_kinds[kind.name] = str(target.credit_for)
    return True


def _check_conversion(decl: ast.FieldDecl, kind: ast.RecordKind, report: _Report) -> None:
    assert decl.conversion is not None
    currency, day = decl.conversion
    fields = {d.name: d for d in kind.fields}
    if decl.kind not in ("money", "signed_money", "positive_money"):
        report.error(
            "P204",
            f"only an amount can be converted; '{decl.name}' is {decl.kind}",
            decl.span,
            hint="declare it as money",
        )
    elif currency not in fields or fields[currency].kind != "text":
        texts = [n for n, d in fields.items() if d.kind == "text" and n != currency]
        report.error(
            "P203",
            f"'{currency}' is not a text field of '{kind.name}' records holding a currency",
            decl.span,
            hint=did_you_mean(currency, texts) or f"declare it: {currency} text",
        )
    elif day not in fields or fields[day].kind != "date":
        dates = [n for n, d in fields.items() if d.kind == "date" and n != day]
        report.error(
            "P203",
            f"'{day}' is not a date field of '{kind.name}' records",
            decl.span,
            hint=did_you_mean(day, dates)
            or (f"did you mean '{dates[0]}'?" if len(dates) == 1 else f"declare it: {day} date"),
        )
    elif not report.plan.exchange:
        report.error(
            "P204",
            f"'{decl.name}' is converted, but the plan declares no exchange rates",
            decl.span,
            hint="declare them: exchange rates: from DATE to DATE: USD 7.1450",
        )


def _check_exchange(plan: ast.Plan, report: _Report) -> None:
    """One table; known codes other than the plan's; rates above zero; for each currency,
    rows in date order that do not overlap; W509 for days of the period no row covers."""
    for extra in plan.exchange[1:]:
        _duplicate("exchange rates", extra.span, plan.exchange[0].span, report)
    if not plan.exchange:
        return
    table = plan.exchange[0]
    report.exchange = table
    last: dict[str, ast.RateRow] = {}
    rows_of: dict[str, list[ast.RateRow]] = {}
    for row in table.rows:
        if row.end < row.start:
            report.error(
                "P307",
                f"the row ends on {row.end.isoformat()}, before it starts",
                row.span,
                hint="write the earlier date first",
            )
            continue
        seen: set[str] = set()
        for code, rate, text in row.rates:
            if code not in ISO_4217 or code == report.currency or code in seen:
                reason = (
                    "is the plan's own currency"
                    if code == report.currency
                    else "appears twice in the row"
                    if code in seen
                    else "is not an ISO 4217 currency code"
                )
                hint = (
                    "amounts in the plan's currency need no rate"
                    if code == report.currency
                    else "give each currency once in a row"
                    if code in seen
                    else did_you_mean(code.upper(), ISO_4217) or "write e.g. USD 7.1450"
                )
                report.error("P207", f"'{code}' {reason}", row.span, hint=hint)
                continue
            seen.add(code)
            if rate <= 0:
                report.error(
                    "P307",
                    f"the rate of {code} is {text}; a rate is above zero",
                    row.span,
                    hint="write how many units of the plan's currency one unit buys",
                )
            before = last.get(code)
            if before is not None and row.start <= before.end:
                report.error(
                    "P307",
                    f"the {code} rate from {row.start.isoformat()} overlaps the row of line "
                    f"{before.span.line}, which runs to {before.end.isoformat()}",
                    row.span,
                    hint="start each row after the previous one ends",
                )
            last[code] = row
            rows_of.setdefault(code, []).append(row)
    # Days of the period a currency has no rate for: an amount converted on one of them
    # is rejected (R412) when the data arrives; better said before.
    converts = any(d.conversion is not None for kind in plan.record_kinds for d in kind.fields)
    table_errors = any(
        d.severity == "error" and table.span.line <= d.span.line <= table.span.end_line
        for d in report.diagnostics
    )
    if not converts or not report.period_given or table_errors:
        return  # nothing converted, no period to cover, or rows to mend first
    start, end = report.period
    for code, rows in rows_of.items():
        for hole_start, hole_end in calendar.holes([(r.start, r.end) for r in rows], start, end):
            after = [row for row in rows if row.end < hole_start]
            where = (
                max(after, key=lambda row: row.end)
                if after
                else min(rows, key=lambda row: row.start)
            )
            report.warning(
                "W509",
                f"no {code} rate for {calendar.describe(hole_start, hole_end)}, inside the "
                "plan period",
                where.span,
                hint=f"add a row for those days: an amount in {code} converted on one of "
                "them is rejected",
            )


def _check_schedule(table: ast.Schedule, report: _Report) -> None:
    """Rows in order of date, none backwards, none overlapping, covering the period."""
    rows = table.rows
    for row in rows:
        if row.end < row.start:
            report.error(
                "P307",
                f"schedule '{table.name}': the row ends ({row.end}) before it starts ({row.start})",
                row.span,
                hint="write the earlier date first: from START to END",
            )
            return
        if table.money and row.is_percent:
            report.error(
                "P204",
                f"schedule '{table.name}' holds amounts, not percentages",
                row.span,
                hint="write the amount, or remove 'money' for a schedule of rates",
            )
    plain = [row for row in rows if not row.is_percent]
    if plain and len(plain) == len(rows) and not (table.money or table.number):
        report.error(
            "P204",
            f"schedule '{table.name}' holds plain numbers: is {plain[0].text} a rate, an "
            "amount or a number?",
            plain[0].span,
            hint=f"write rates with a % sign ({plain[0].text}%), or declare "
            f"'schedule {table.name} money:' for amounts or "
            f"'schedule {table.name} number:' for plain numbers",
        )
    if table.number and not plain:
        report.error(
            "P204",
            f"schedule '{table.name}' is declared 'number' but holds percentages",
            rows[0].span,
            hint="remove 'number' for a schedule of rates",
        )
    if len({row.is_percent for row in rows}) > 1:
        odd = next(row for row in rows if row.is_percent != rows[0].is_percent)
        report.error(
            "P204",
            f"schedule '{table.name}' mixes percentages and plain numbers",
            odd.span,
            hint="write every row's value the same way, e.g. all as percentages",
        )
    ranges = [(row.start, row.end) for row in rows]
    for first, second in calendar.overlaps(ranges):
        a, b = rows[first], rows[second]
        shared = calendar.overlap(a.start, a.end, b.start, b.end)
        assert shared is not None
        report.error(
            "P307",
            f"schedule '{table.name}': this row and the one on line {a.span.line} both cover "
            f"{calendar.describe(*shared)}",
            b.span,
            hint="end one row the day before the next one starts",
        )
    start, end = report.period
    for hole_start, hole_end in calendar.holes(ranges, start, end):
        after = [row for row in rows if row.end < hole_start]
        where = max(after, key=lambda row: row.end) if after else rows[0]
        report.error(
            "P307",
            f"schedule '{table.name}' has no value for {calendar.describe(hole_start, hole_end)}, "
            "inside the plan period",
            where.span,
            hint="add a row for those days, or extend a neighbouring row",
        )


def _check_weights(table: ast.Weights, report: _Report) -> None:
    """A known basis, one weight for each of its parts, adding up to exactly 100%."""
    expected = calendar.WEIGHT_COUNTS.get(table.basis)
    if expected is None:
        report.error(
            "P307",
            f"weights cannot be 'by {table.basis}'",
            table.basis_span,
            hint="write 'by quarter' (4 weights), 'by month' (12) or 'by month of quarter' (3)",
        )
        return
    if len(table.values) != expected:
        report.error(
            "P307",
            f"weights by {table.basis} need {expected} values, not {len(table.values)}",
            table.span,
            hint=f"give one weight for each {table.basis.partition(' ')[0]}",
        )
        return
    total = sum(table.values, Decimal(0))
    if total != 1:
        report.error(
            "P304",
            f"the weights of '{table.name}' add up to {_percent(total)}, not 100%",
            table.span,
            hint=f"make {' + '.join(table.texts)} add up to exactly 100%",
        )


def _check_employment(plan: ast.Plan, report: _Report) -> None:
    for extra in plan.employment[1:]:
        report.error(
            "P206",
            f"'employment' is given twice (first on line {plan.employment[0].span.line})",
            extra.span,
            hint="keep one 'employment' line",
        )
    if not plan.employment:
        return
    employment = report.employment = plan.employment[0]
    if employment.end_field == employment.start_field:
        report.error(
            "P204",
            f"'{employment.start_field}' cannot be both the first and the last day employed",
            employment.span,
            hint="name two fields: employment from hired_on to left_on",
        )
        return
    fields = [(employment.start_field, False)]
    if employment.end_field is not None:
        fields.append((employment.end_field, True))
    for name, may_be_empty in fields:
        decl = report.participant_fields.get(name)
        if decl is None:
            report.error(
                "P201",
                f"unknown participant field '{name}' in 'employment'",
                employment.span,
                hint=did_you_mean(name, report.participant_fields)
                or f"declare it: participant fields: {name} date",
            )
        elif decl.kind not in ("date", "optional_date"):
            report.error(
                "P204",
                f"'employment' needs date fields; '{name}' is not a date "
                f"(declared on line {decl.span.line})",
                employment.span,
                hint=f"declare it as '{name} date'"
                + (f", or '{name} optional date' if it may be empty" if may_be_empty else ""),
            )
        elif decl.kind == "optional_date" and not may_be_empty:
            report.error(
                "P204",
                f"the first day employed cannot be empty, but '{name}' is an optional date "
                f"(declared on line {decl.span.line})",
                employment.span,
                hint=f"declare it as '{name} date', or name the first day first: "
                "employment from FIRST_DAY to LAST_DAY",
            )


def _check_field(decl: ast.FieldDecl, report: _Report) -> None:
    if (
        decl.kind == "score"
        and decl.low is not None
        and decl.high is not None
        and decl.low > decl.high
    ):
        report.error(
            "P306",
            f"score range {decl.low}..{decl.high} of '{decl.name}' is empty",
            decl.span,
            hint="write the lower end first, e.g. score 0..100",
        )


def _duplicate(name: str, span: Span, first: Span, report: _Report) -> None:
    report.error(
        "P202",
        f"'{name}' is defined twice (first on line {first.line})",
        span,
        hint="give each field, measure and component its own name",
    )


# ---- pass: names and units -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Scope:
    """Where an expression stands: the record kind of an enclosing filter, if any."""

    record_kind: RecordKindInfo | None = None
    measure: str | None = None


def check_expressions(plan: ast.Plan, report: _Report) -> None:
    """Resolve every name and infer every expression's unit."""
    # Infer measures in dependency order, so a long chain written last-first never nests.
    for name in _dependency_order(report):
        measure = report.measures[name]
        if measure.expr not in report.units:
            _infer(measure.expr, report, _Scope(measure=name), None)
    for component in plan.components:
        unit = _infer(component.body, report, _Scope(), "money")
        if unit not in ("money", "unknown"):
            report.error(
                "P204",
                f"component '{component.name}' must come out as an amount, not {_a(unit)}",
                component.body.span,
                hint=_CONVERSIONS.get(unit, "write the amount the component pays"),
            )
        for modifier in component.modifiers:
            expected: Unit | None = "money" if modifier.kind in ("cap", "floor") else None
            unit = _infer(modifier.expr, report, _Scope(), expected)
            if unit == "unknown":
                continue
            if modifier.kind == "gate" and unit != "bool":
                report.error(
                    "P204",
                    f"a gate needs a condition, not {_a(unit)}",
                    modifier.expr.span,
                    hint="write a comparison, e.g. only when attainment >= 80%",
                )
            elif modifier.kind != "gate" and unit not in _NUMERIC:
                report.error(
                    "P204",
                    f"'{_MODIFIER_WORDS[modifier.kind]}' needs a number, not {_a(unit)}",
                    modifier.expr.span,
                    hint="use a numeric field or measure here",
                )
            elif modifier.kind in ("cap", "floor") and unit != "money":
                report.error(
                    "P204",
                    f"'{_MODIFIER_WORDS[modifier.kind]}' on a payout needs an amount, "
                    f"not {_a(unit)}",
                    modifier.expr.span,
                    hint="write the amount, e.g. capped at 20000",
                )
            elif modifier.kind == "multiplier" and unit in ("score", "count"):
                report.error(
                    "P204",
                    f"'multiplied by' needs a factor, not {_a(unit)}",
                    modifier.expr.span,
                    hint=_CONVERSIONS[unit],
                )
            elif modifier.kind == "multiplier" and unit == "money":
                report.error(
                    "P204",
                    "'multiplied by' needs a factor, not an amount",
                    modifier.expr.span,
                    hint="multiply by a number or a percentage, e.g. multiplied by 1.2",
                )
    _report_score_products(report)


#: Modifiers as the plan spells them, for messages.
_MODIFIER_WORDS: Final[dict[str, str]] = {
    "cap": "capped at",
    "floor": "floored at",
    "multiplier": "multiplied by",
    "gate": "only when",
}


def _report_score_products(report: _Report) -> None:
    for score in report.score_products.values():
        report.error(
            "P204",
            "cannot multiply an amount by a score",
            score.span,
            hint=_CONVERSIONS["score"],
        )
    report.score_products.clear()


def _a(unit: str) -> str:
    if unit == "unknown":
        return "a value of unknown kind"
    words = {
        "bool": "a condition",
        "text": "a text",
        "date": "a date",
        "money": "an amount",
        "ratio": "a percentage",
        "participant": "a participant",
        "id": "an id",
    }
    return words.get(unit, f"a {unit}")


def _infer(node: ast.Expr, report: _Report, scope: _Scope, expected: Unit | None) -> Unit:
    unit = _infer_node(node, report, scope, expected)
    report.units[node] = unit
    return unit


def _adopt(node: ast.Expr, unit: Unit, report: _Report) -> None:
    """A plain number beside an amount is an amount: ``capped at 20000`` means ¥20,000."""
    if isinstance(node, ast.Number) and unit == "money":
        report.units[node] = "money"
    elif isinstance(node, ast.Negate):
        _adopt(node.operand, unit, report)
        report.units[node] = report.units[node.operand]


def _infer_node(node: ast.Expr, report: _Report, scope: _Scope, expected: Unit | None) -> Unit:
    if isinstance(node, ast.Number):
        return "money" if expected == "money" else "number"
    if isinstance(node, ast.Percent):
        return "ratio"
    if isinstance(node, ast.Text):
        return "text"
    if isinstance(node, ast.DateLiteral):
        return "date"
    if isinstance(node, ast.Name):
        return _resolve(node, report, scope)
    if isinstance(node, ast.QualifiedName):
        return _resolve_qualified(node, report, scope)
    if isinstance(node, ast.Negate):
        unit = _infer(node.operand, report, scope, expected)
        _require_numeric(node.operand, unit, report, "'-'")
        return unit
    if isinstance(node, ast.Arithmetic):
        return _infer_arithmetic(node, report, scope, expected)
    if isinstance(node, ast.Compare):
        left = _infer(node.left, report, scope, None)
        right = _infer(node.right, report, scope, None)
        _adopt(node.left, right, report)
        _adopt(node.right, left, report)
        if "unknown" in (left, right):
            return "bool"
        if _mismatch(node.left, left, node.right, right, report):
            return "bool"
        if {left, right} == {"money", "ratio"}:
            report.error(
                "P204",
                "cannot compare an amount with a percentage",
                node.span,
                hint="compare the amount with an amount, or a share (amount / target) "
                "with a percentage",
            )
            return "bool"
        if (left in _NUMERIC) != (right in _NUMERIC) or (
            left not in _NUMERIC
            and left != right
            and {left, right} != {"text", "id"}
            and {left, right} != {"text", "participant"}
        ):
            report.error(
                "P204",
                f"cannot compare {_a(left)} with {_a(right)}",
                node.span,
                hint="compare values of the same kind",
            )
        elif left not in _NUMERIC and node.op not in ("=", "!=") and left != "date":
            report.error(
                "P204",
                f"'{node.op}' does not apply to {_a(left)}",
                node.span,
                hint="compare texts only with = or !=",
            )
        return "bool"
    if isinstance(node, ast.InPeriod):
        unit = _infer(node.operand, report, scope, None)
        if unit not in ("date", "unknown"):
            report.error(
                "P204",
                f"'in {node.window}' needs a date, not {_a(unit)}",
                node.operand.span,
                hint=f"apply 'in {node.window}' to a date field, e.g. closed_on in {node.window}",
            )
        return "bool"
    if isinstance(node, ast.Prorated):
        if scope.record_kind is not None:
            return _in_filter("'prorated'", node, report, "prorate a measure or a component")
        unit = _infer(node.operand, report, scope, expected)
        _require_numeric(node.operand, unit, report, "'prorated'")
        if report.employment is None:
            report.error(
                "P206",
                "'prorated' needs to know when each participant was employed",
                node.span,
                hint="add a line: employment from HIRE_DATE_FIELD to LAST_DAY_FIELD",
            )
        return unit
    if isinstance(node, ast.DayWeighted):
        return _infer_day_weighted(node, report, scope)
    if isinstance(node, ast.PeriodCount):
        return "count"
    if isinstance(node, ast.Days):
        for end in (node.start, node.end):
            unit = _infer(end, report, scope, None)
            if unit not in ("date", "unknown"):
                report.error(
                    "P204",
                    f"'days from … to …' needs dates, not {_a(unit)}",
                    end.span,
                    hint="count the days between two dates, e.g. days from hired_on to 2026-09-30",
                )
        return "count"
    if isinstance(node, ast.InList):
        unit = _infer(node.operand, report, scope, None)
        for option in node.options:
            other = _infer(option, report, scope, None)
            if (other in _NUMERIC) != (unit in _NUMERIC):
                report.error("P204", f"cannot compare {_a(unit)} with {_a(other)}", option.span)
        return "bool"
    if isinstance(node, ast.Logic):
        for side in (node.left, node.right):
            _require_bool(side, _infer(side, report, scope, None), report, f"'{node.op}'")
        return "bool"
    if isinstance(node, ast.Not):
        _require_bool(node.operand, _infer(node.operand, report, scope, None), report, "'not'")
        return "bool"
    if isinstance(node, ast.Bound):
        unit = _infer(node.operand, report, scope, expected)
        limit = _infer(node.limit, report, scope, unit)
        _require_numeric(node.operand, unit, report, f"'{_MODIFIER_WORDS[node.kind]}'")
        _require_numeric(node.limit, limit, report, f"'{_MODIFIER_WORDS[node.kind]}'")
        limit = report.units[node.limit]
        if "money" in (unit, limit) and unit != limit and "unknown" not in (unit, limit):
            report.error(
                "P204",
                f"'{_MODIFIER_WORDS[node.kind]}' sets {_a(unit)} against {_a(limit)}",
                node.limit.span,
                hint="cap an amount at an amount, a share at a percentage",
            )
            return "unknown"
        if _mismatch(node.operand, unit, node.limit, limit, report):
            return "unknown"
        return unit
    if isinstance(node, ast.Call):
        units = [_infer(arg, report, scope, expected) for arg in node.args]
        for arg, unit in zip(node.args, units, strict=True):
            _require_numeric(arg, unit, report, f"'{node.function}'")
        chosen: Unit = next((u for u in units if u != "number"), "number")
        for arg in node.args:
            _adopt(arg, chosen, report)
        first = node.args[0]
        for arg in node.args[1:]:
            one, other = report.units[first], report.units[arg]
            if one == other or "unknown" in (one, other):
                continue
            if "money" in (one, other):
                report.error(
                    "P204",
                    f"'{node.function}' cannot choose between an amount and "
                    f"{_a(other if one == 'money' else one)}",
                    arg.span,
                    hint="give it amounts only (a plain number beside an amount is an amount)",
                )
                return "unknown"
            if _mismatch(first, one, arg, other, report):
                return "unknown"
        return chosen
    if isinstance(node, ast.IfThenElse):
        _require_bool(node.condition, _infer(node.condition, report, scope, None), report, "'if'")
        then = _infer(node.then, report, scope, expected)
        otherwise = _infer(node.otherwise, report, scope, expected)
        _adopt(node.then, otherwise, report)
        _adopt(node.otherwise, then, report)
        then, otherwise = report.units[node.then], report.units[node.otherwise]
        mixed = then != otherwise and "unknown" not in (then, otherwise)
        if mixed and "money" in (then, otherwise):
            culprit = node.otherwise if then == "money" else node.then
            report.error(
                "P204",
                "one branch gives an amount and the other "
                f"{_a(otherwise if then == 'money' else then)}",
                culprit.span,
                hint="make both branches amounts (a plain 0 is fine)",
            )
            return "unknown"
        if mixed and _mismatch(node.then, then, node.otherwise, otherwise, report):
            return "unknown"
        return then if then != "number" else otherwise
    if isinstance(node, ast.Aggregate):
        return _infer_aggregate(node, report, scope)
    if isinstance(node, ast.Scorecard):
        _check_scorecard(node, report, scope)
        return "ratio"
    if isinstance(node, ast.Tiers):
        return _check_tiers(node, report, scope)
    if isinstance(node, ast.GroupAggregate | ast.InTop | ast.Pool | ast.Override):
        if scope.record_kind is not None:
            return _in_filter("a team value", node, report, "define it as its own measure")
        return _infer_team(node, report, scope)
    raise AssertionError(f"unhandled node {type(node).__name__}")


# ---- teams: groups, rankings, pools, overrides ------------------------------------------
def _infer_team(
    node: ast.GroupAggregate | ast.InTop | ast.Pool | ast.Override, report: _Report, scope: _Scope
) -> Unit:
    if isinstance(node, ast.GroupAggregate):
        _check_group(node.group, node.group_span, report)
        unit = _member_value(node.measure, node.measure_span, report, "a value within a group")
        if unit not in _NUMERIC and unit != "unknown":
            report.error(
                "P204",
                f"'{node.function} of … within' needs a number; '{node.measure}' is {_a(unit)}",
                node.measure_span,
            )
            return "unknown"
        report.references[node] = _member_reference(node.measure, report)
        return "number" if node.function == "average" and unit == "count" else unit
    if isinstance(node, ast.InTop):
        operand = node.operand
        if not isinstance(operand, ast.Name) or operand.name not in report.rankings:
            report.error(
                "P204",
                "'in top' needs the name of a ranking",
                operand.span,
                hint=did_you_mean(_text_of(operand), report.rankings)
                or "declare one: ranking top = revenue highest first within team",
            )
            return "unknown"
        report.references[operand] = Reference("ranking", operand.name)
        report.units[operand] = "count"
        return "bool"
    if isinstance(node, ast.Pool):
        _check_group(node.group, node.group_span, report)
        unit = _infer(node.amount, report, scope, "money")
        if unit not in ("money", "unknown"):
            report.error(
                "P204",
                f"a pool must be an amount, not {_a(unit)}",
                node.amount.span,
                hint="e.g. pool of 5% * (team_revenue - team_quota) floored at 0",
            )
        if node.share is not None and node.share_span is not None:
            share = _member_value(node.share, node.share_span, report, "a pool's share")
            if share not in _NUMERIC and share != "unknown":
                report.error(
                    "P204",
                    f"a pool is shared by a number; '{node.share}' is {_a(share)}",
                    node.share_span,
                    hint="share by a measure such as revenue, or equally",
                )
        _check_ties(node.ties, report)
        return "money"
    if (
        report.plan.participant_fields
        and not any(
            d.name == node.through and d.kind == "participant"
            for group in report.plan.participant_fields
            for d in group
        )
    ) or not report.plan.participant_fields:
        report.error(
            "P201",
            f"'{node.through}' is not a participant field naming each person's manager",
            node.through_span,
            hint=f"declare it: participant fields: {node.through} participant",
        )
    if node.measure not in report.measures:
        report.error(
            "P201",
            f"unknown measure '{node.measure}'",
            node.measure_span,
            hint=did_you_mean(node.measure, report.measures)
            or "an override is paid on a measure the plan defines (each person's own, in "
            "their plan)",
        )
        return "money"
    report.references[node] = Reference("measure", node.measure)
    unit = _measure_unit(node.measure, report)
    if unit not in ("money", "unknown"):
        report.error(
            "P204",
            f"an override is paid on an amount; '{node.measure}' is {_a(unit)}",
            node.measure_span,
        )
    levels = [level.level for level in node.levels]
    for index, level in enumerate(node.levels):
        if level.level in levels[:index]:
            report.error(
                "P307",
                f"level {level.level} is given twice",
                level.span,
                hint="give each level one rate",
            )
    return "money"


def _check_group(name: str, span: Span, report: _Report) -> None:
    decl = report.participant_fields.get(name)
    if decl is not None and decl.kind in ("text", "participant"):
        return
    if decl is None and name == "everyone":
        return
    report.error(
        "P201" if decl is None else "P204",
        f"unknown group '{name}'"
        if decl is None
        else f"'{name}' is {_a(FIELD_UNITS[decl.kind])}; a group is a text field",
        span,
        hint=did_you_mean(
            name,
            [n for n, d in report.participant_fields.items() if d.kind == "text" and n != name],
        )
        or "group by a participant text field such as team, or by everyone",
    )


def _member_value(name: str, span: Span, report: _Report, what: str) -> Unit:
    """The unit of a per-participant value read across members: a period measure, or a
    participant field."""
    if name in report.measures:
        measure = report.measures[name]
        if measure.per is not None:
            report.error(
                "P211",
                f"{what} reads '{name}', which is computed "
                + _window_words(window_key(measure.per)),
                span,
                hint="read a measure of the whole period",
            )
            return "unknown"
        return _measure_unit(name, report)
    decl = report.participant_fields.get(name)
    if decl is not None and decl.kind != "optional_date":
        return FIELD_UNITS[decl.kind]
    report.error(
        "P201",
        f"unknown name '{name}'",
        span,
        hint=did_you_mean(name, [*report.measures, *report.participant_fields])
        or "name a measure or a participant field",
    )
    return "unknown"


def _member_reference(name: str, report: _Report) -> Reference:
    kind: Literal["measure", "participant_field"] = (
        "measure" if name in report.measures else "participant_field"
    )
    return Reference(kind, name)


_ORDER_UNITS: Final = {
    "highest": "number",
    "lowest": "number",
    "earliest": "date",
    "latest": "date",
}


def _check_ties(ties: tuple[ast.TieKey, ...], report: _Report) -> None:
    for key in ties:
        if key.name == "id" and key.order is None:
            continue
        unit = _member_value(key.name, key.span, report, "a tie rule")
        if key.order is None:
            report.error(
                "P204",
                f"say which '{key.name}' wins a tie",
                key.span,
                hint=f"e.g. {key.name} highest first, or {key.name} earliest first for dates",
            )
        elif unit not in ("unknown", "date", *_NUMERIC):
            report.error(
                "P204",
                f"'{key.order} first' orders numbers or dates; '{key.name}' is {_a(unit)}",
                key.span,
                hint="break ties by a measure, a numeric or date field, or id",
            )
        elif unit != "unknown" and (unit == "date") != (_ORDER_UNITS[key.order] == "date"):
            report.error(
                "P204",
                f"'{key.order} first' does not order {_a(unit)}",
                key.span,
                hint="dates go earliest or latest first; numbers highest or lowest first",
            )


def _per_member(expr: ast.Expr, group: str, report: _Report, seen: set[str]) -> ast.Expr | None:
    """The first part of ``expr`` that may differ between members of a group: a record
    aggregate, a ranking, a participant field, or a measure made of them."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.GroupAggregate):
            whole = node.group == "everyone" and "everyone" not in report.participant_fields
            if node.group != group and not whole:
                return node
            continue  # the same for every member of the group (or of the whole plan)
        if isinstance(node, ast.Aggregate | ast.InTop | ast.Prorated | ast.DayWeighted):
            return node
        ref = report.references.get(node)
        if ref is not None and ref.kind == "participant_field":
            return node
        if ref is not None and ref.kind == "schedule" and report.employment is not None:
            return node  # read over each member's own days employed
        if ref is not None and ref.kind == "measure" and ref.name not in seen:
            seen.add(ref.name)
            if _per_member(report.measures[ref.name].expr, group, report, seen) is not None:
                return node
        stack.extend(_children(node))
    return None


def check_teams(plan: ast.Plan, report: _Report) -> None:
    """Rankings order numbers within a group; team values are for the whole period; a
    pool's amount is the same for every member and takes no modifier."""
    for ranking in report.rankings.values():
        _check_group(ranking.group, ranking.group_span, report)
        unit = _member_value(ranking.measure, ranking.measure_span, report, "a ranking")
        if unit != "unknown" and (
            unit not in _NUMERIC or ranking.order not in ("highest", "lowest")
        ):
            report.error(
                "P204",
                f"a ranking orders a number, highest or lowest first; '{ranking.measure}' "
                f"is {_a(unit)} ordered {ranking.order} first",
                ranking.measure_span,
                hint="rank by a measure such as revenue highest first",
            )
        _check_ties(ranking.ties, report)
    scoped: list[tuple[ast.Per | None, ast.Expr]] = [(m.per, m.expr) for m in plan.measures]
    scoped += [(c.per, c.body) for c in plan.components]
    scoped += [(c.per, m.expr) for c in plan.components for m in c.modifiers]
    for per, root in scoped:
        if per is None:
            continue
        for node in walk(root):
            if isinstance(node, ast.GroupAggregate | ast.InTop | ast.Pool | ast.Override):
                report.error(
                    "P211",
                    f"team values are for the whole period; this rule is computed "
                    f"{_window_words(window_key(per))}",
                    node.span,
                    hint="compute it in a measure of the whole period",
                )
    for component in plan.components:
        if isinstance(component.body, ast.Pool):
            found = _per_member(component.body.amount, component.body.group, report, set())
            if found is not None:
                report.error(
                    "P204",
                    f"a pool is computed once for each {component.body.group}; "
                    f"'{_text_of(found)}' is a value of each member",
                    found.span,
                    hint=f"compute the pool from values of the whole {component.body.group}, "
                    f"e.g. sum of revenue within {component.body.group}",
                )
        if isinstance(component.body, ast.Pool) and component.modifiers:
            report.error(
                "P204",
                "a pool share takes no gate, cap, floor or multiplier: its parts must add "
                "up to the pool",
                component.modifiers[0].span,
                hint="put the condition or the limit into the pool's amount",
            )


def _infer_arithmetic(
    node: ast.Arithmetic, report: _Report, scope: _Scope, expected: Unit | None
) -> Unit:
    # An amount expected of `a * b` or `a / b` is looked for first in `a`: in
    # `1000 * csat / 100` the 1000 is the amount; `a + b` expects it of both sides.
    left = _infer(node.left, report, scope, expected)
    right_expected = expected if node.op in "+-" or (node.op == "*" and left != "money") else None
    right = _infer(node.right, report, scope, right_expected)
    _require_numeric(node.left, left, report, f"'{node.op}'")
    _require_numeric(node.right, right, report, f"'{node.op}'")
    if "unknown" in (left, right) or not {left, right} <= _NUMERIC:
        return "unknown"  # already reported: say nothing more about this expression
    if node.op in "+-":
        _adopt(node.left, right, report)
        _adopt(node.right, left, report)
        left, right = report.units[node.left], report.units[node.right]
        if (left == "money") != (right == "money") and {left, right} <= _NUMERIC:
            other, unit = (node.right, right) if left == "money" else (node.left, left)
            word = "add" if node.op == "+" else "subtract"
            report.error(
                "P204",
                f"cannot {word} {_a(unit)} {'to' if word == 'add' else 'from'} an amount",
                other.span,
                hint=_CONVERSIONS.get(unit, "make both sides amounts"),
            )
        if "money" in (left, right):
            return "money"
        return left if left == right else "number"
    if node.op == "*":
        if left == right == "money":
            report.error(
                "P204",
                "cannot multiply an amount by an amount",
                node.right.span,
                hint="divide one by the other to get a share (revenue / quota), "
                "then multiply an amount by that share",
            )
            return "money"
        if "money" in (left, right) and "score" in (left, right):
            # Fine when divided right after (revenue * csat / 100); reported otherwise.
            report.score_products[node] = node.right if left == "money" else node.left
            return "money"
        if "money" in (left, right):
            return "money"
        if expected == "money":
            # `10000 * scorecard(…)` in a component: the plain number is the amount.
            for side, unit in ((node.left, left), (node.right, right)):
                if isinstance(side, ast.Number | ast.Negate) and unit == "number":
                    _adopt(side, "money", report)
                    return "money"
        if left == right == "ratio":
            return "ratio"
        return (
            "ratio"
            if "ratio" in (left, right) and "number" in (left, right)
            else (left if right in ("number", "count") and left != "count" else "number")
        )
    if left == "money" and right in ("number", "count"):
        report.score_products.pop(node.left, None)
    if left == "money":
        return "ratio" if right == "money" else "money"
    if right == "money" and left in _NUMERIC:
        report.error(
            "P204",
            f"cannot divide {_a(left)} by an amount",
            node.right.span,
            hint="divide an amount by an amount to get a share, e.g. revenue / quota",
        )
        return "number"
    if left in ("score", "count") and right in ("number", "count", "score"):
        return "ratio"
    return "ratio" if left == right else left


#: Kinds of value that may stand side by side (added, compared, capped, chosen between):
#: the same kind, or a plain number beside a score or a count (csat >= 80, visits + 1).
def _mismatch(
    left: ast.Expr, left_unit: Unit, right: ast.Expr, right_unit: Unit, report: _Report
) -> bool:
    """Report values of kinds that cannot be meant together; True when reported."""
    units = {left_unit, right_unit}
    if "unknown" in units or not units <= _NUMERIC or len(units) == 1:
        return False
    if _plain_number_beside_share(left, left_unit, right, right_unit, report):
        return True
    if units <= {"score", "count", "number"} or units == {"ratio", "number"}:
        return False  # plain numbers beside scores, counts, or a computed number
    if "money" in units:
        return False  # reported where amounts meet (arithmetic and comparison rules)
    other, unit = (right, right_unit) if left_unit == "ratio" else (left, left_unit)
    shown = _a(left_unit), _a(right_unit)
    report.error(
        "P204",
        f"{shown[0]} and {shown[1]} cannot be set side by side",
        other.span,
        hint=_CONVERSIONS.get(unit, "use values of the same kind")
        if "ratio" in units
        else "use values of the same kind",
    )
    return True


def _plain_number_beside_share(
    left: ast.Expr, left_unit: Unit, right: ast.Expr, right_unit: Unit, report: _Report
) -> bool:
    """``attainment >= 80`` means 8,000%: a share beside a plain number is refused."""
    for share_unit, number in ((left_unit, right), (right_unit, left)):
        if share_unit == "ratio" and isinstance(number, ast.Number):
            percent = f"{(number.value * 100).normalize():f}%"
            hint = (
                f"write {percent} (the plain number {number.text} is {percent})"
                if number.value < 2
                else f"write {number.text}% (the plain number {number.text} means {percent})"
            )
            report.error(
                "P204",
                f"a percentage is compared with the plain number {number.text}",
                number.span,
                hint=hint,
            )
            return True
    return False


#: How to turn a value of each kind into an amount, for hints.
_CONVERSIONS: Final[dict[str, str]] = {
    "count": "multiply the count by an amount per unit, e.g. meetings * 200",
    "score": "turn the score into a share (csat / 100) and multiply an amount by it",
    "ratio": "multiply an amount by the percentage, e.g. revenue * 5%",
    "number": "multiply the number by an amount, or declare the field as money",
}


def _require_numeric(node: ast.Expr, unit: Unit, report: _Report, where: str) -> None:
    if unit not in _NUMERIC and unit != "unknown":
        report.error(
            "P204",
            f"{where} needs a number, not {_a(unit)}",
            node.span,
            hint="use a numeric field or measure here",
        )


def _require_bool(node: ast.Expr, unit: Unit, report: _Report, where: str) -> None:
    if unit not in ("bool", "unknown"):
        report.error(
            "P204",
            f"{where} needs a condition, not {_a(unit)}",
            node.span,
            hint='write a comparison such as status = "won" or attainment >= 80%',
        )


def _resolve(node: ast.Name, report: _Report, scope: _Scope) -> Unit:
    name = node.name
    if scope.record_kind is not None and name in scope.record_kind.fields:
        report.references[node] = Reference("record_field", name, scope.record_kind.name)
        if scope.record_kind.fields[name].kind == "optional_date":
            _optional_date_read(name, node, report)
            return "unknown"
        return FIELD_UNITS[scope.record_kind.fields[name].kind]
    if name in report.participant_fields:
        report.references[node] = Reference("participant_field", name)
        if report.participant_fields[name].kind == "optional_date":
            _optional_date_read(name, node, report)
            return "unknown"
        return FIELD_UNITS[report.participant_fields[name].kind]
    if name in ("id", "name"):
        report.references[node] = Reference("participant_field", name)
        return "text"
    if name in report.schedules or name in report.weights:
        if scope.record_kind is not None:
            report.error(
                "P204",
                f"a record filter cannot use '{name}'",
                node.span,
                hint="filter on the record's own fields and the participant's fields",
            )
            return "unknown"
        if name in report.weights:
            report.references[node] = Reference("weights", name)
            return "ratio"
        report.references[node] = Reference("schedule", name)
        return _schedule_unit(report.schedules[name])
    if name in report.rankings:
        report.error(
            "P204",
            f"a ranking is read as '{name} in top N'",
            node.span,
            hint=f"e.g. only when {name} in top 3",
        )
        return "unknown"
    if name in report.measures:
        if scope.record_kind is not None:
            report.error(
                "P204",
                f"a record filter cannot use the measure '{name}'",
                node.span,
                hint="filter on the record's own fields and the participant's fields",
            )
            return "unknown"
        report.references[node] = Reference("measure", name)
        return _measure_unit(name, report)
    if unicodedata.normalize("NFKC", name) != name or len(_scripts(name)) > 1:
        return "unknown"  # P210 says what is wrong with the name
    candidates = [*report.participant_fields, *report.measures, *report.schedules]
    candidates += list(report.weights)
    if scope.record_kind is not None:
        candidates += list(scope.record_kind.fields)
    where = f" in a filter on '{scope.record_kind.name}'" if scope.record_kind else ""
    report.error(
        "P201",
        f"unknown name '{name}'{where}",
        node.span,
        hint=did_you_mean(name, candidates) or "declare it as a field or define it as a measure",
    )
    return "unknown"


def _optional_date_read(name: str, node: ast.Expr, report: _Report) -> None:
    report.error(
        "P204",
        f"'{name}' may be empty, so a rule cannot read it",
        node.span,
        hint="optional dates serve 'employment' and 'weighted by days'; "
        "declare it as a date to use it here",
    )


def _schedule_unit(table: ast.Schedule) -> Unit:
    if table.money:
        return "money"
    return "ratio" if table.rows and table.rows[0].is_percent else "number"


def _measure_unit(name: str, report: _Report) -> Unit:
    measure = report.measures[name]
    if measure.expr in report.units:
        return report.units[measure.expr]
    if name in report.in_progress:
        return "unknown"  # a cycle; check_cycles reports it
    report.in_progress.add(name)
    try:
        return _infer(measure.expr, report, _Scope(measure=name), None)
    finally:
        report.in_progress.discard(name)


def _in_filter(what: str, node: ast.Expr, report: _Report, hint: str) -> Unit:
    report.error("P204", f"{what} cannot stand inside a record filter", node.span, hint=hint)
    return "unknown"


def _kind_of(name: str, span: Span, report: _Report) -> RecordKindInfo | None:
    """The declared record kind ``name``; None after saying it is unknown (quietly when its
    declaration already had an error)."""
    kind = report.record_kinds.get(name)
    if kind is None and name not in report.broken_kinds:
        report.error(
            "P203",
            f"unknown record kind '{name}'",
            span,
            hint=did_you_mean(name, report.record_kinds) or "declare it: KIND fields: …",
        )
    return kind


def _no_field(kind: RecordKindInfo, name: str, span: Span, report: _Report) -> Unit:
    report.error(
        "P203",
        f"record kind '{kind.name}' has no field '{name}'",
        span,
        hint=did_you_mean(name, kind.fields) or f"declare it in '{kind.name} fields'",
    )
    return "unknown"


def _resolve_qualified(node: ast.QualifiedName, report: _Report, scope: _Scope) -> Unit:
    kind = _kind_of(node.kind, node.span, report)
    if kind is None:
        return "unknown"
    if node.field not in kind.fields:
        return _no_field(kind, node.field, node.span, report)
    if scope.record_kind is None or scope.record_kind.name != node.kind:
        report.error(
            "P203",
            f"'{node.kind}.{node.field}' names one record's field outside a filter",
            node.span,
            hint=f"aggregate it, e.g. sum of {node.kind}.{node.field}",
        )
        return "unknown"
    report.references[node] = Reference("record_field", node.field, node.kind)
    if kind.fields[node.field].kind == "optional_date":
        _optional_date_read(f"{node.kind}.{node.field}", node, report)
        return "unknown"
    return FIELD_UNITS[kind.fields[node.field].kind]


def _infer_aggregate(node: ast.Aggregate, report: _Report, scope: _Scope) -> Unit:
    if scope.record_kind is not None:
        return _in_filter("an aggregate", node, report, "define the aggregate as its own measure")
    kind = _kind_of(node.kind, node.span, report)
    if kind is None:
        return "unknown"
    inner = _Scope(record_kind=kind, measure=scope.measure)
    if node.where is not None:
        _require_bool(node.where, _infer(node.where, report, inner, None), report, "'where'")
    if node.field is None:
        return "count"
    decl = kind.fields.get(node.field)
    if decl is None:
        return _no_field(kind, node.field, node.span, report)
    if node.function == "count_distinct":
        return "count"
    unit = FIELD_UNITS[decl.kind]
    if unit == "date" and node.function in ("minimum", "maximum"):
        return "date"  # the earliest or latest date, e.g. of the last deal won
    if unit not in _NUMERIC:
        report.error(
            "P204",
            f"'{node.function}' needs a numeric field; '{node.field}' is {_a(unit)}",
            node.span,
            hint="count it instead: count distinct " + f"{node.kind}.{node.field}",
        )
        return "unknown"
    return unit


def _infer_day_weighted(node: ast.DayWeighted, report: _Report, scope: _Scope) -> Unit:
    if scope.record_kind is not None:
        return _in_filter("'weighted by days'", node, report, "define it as its own measure")
    kind = _kind_of(node.kind, node.span, report)
    if kind is None:
        return "unknown"
    unit: Unit = "unknown"
    for name, role in ((node.field, "value"), (node.start_field, "from"), (node.end_field, "to")):
        decl = kind.fields.get(name)
        if decl is None:
            return _no_field(kind, name, node.span, report)
        field_unit = FIELD_UNITS[decl.kind]
        if role == "value":
            if field_unit not in _NUMERIC:
                report.error(
                    "P204",
                    f"'weighted by days' needs a numeric field; '{name}' is {_a(field_unit)}",
                    node.span,
                    hint="weigh an amount, a rate or a number",
                )
                return "unknown"
            unit = field_unit
        elif decl.kind == "optional_date" and role == "from":
            report.error(
                "P204",
                f"the first day of each '{node.kind}' row cannot be empty; declare '{name}' "
                "as a date",
                decl.span,
                hint=f"declare it as '{name} date'",
            )
        elif field_unit != "date":
            report.error(
                "P204",
                f"'weighted by days {role} {name}' needs a date field; '{name}' is "
                f"{_a(field_unit)}",
                node.span,
                hint="name the date fields where each row starts and ends",
            )
            return "unknown"
    report.dated.setdefault(node.kind, (node.start_field, node.end_field))
    return unit


def _check_scorecard(node: ast.Scorecard, report: _Report, scope: _Scope) -> None:
    total = Decimal(0)
    for item in node.items:
        unit = _infer(item.measure, report, scope, None)
        _require_numeric(item.measure, unit, report, "a scorecard item")
        if unit in ("money", "score", "count"):
            report.error(
                "P204",
                f"a scorecard item must be a share, not {_a(unit)}",
                item.measure.span,
                hint="divide it by its target or its highest value, e.g. revenue / quota or "
                "csat / 100",
            )
        total += item.weight
    if total != 1:
        weights = " + ".join(item.weight_text for item in node.items)
        report.error(
            "P304",
            f"scorecard weights add up to {_percent(total)}, not 100%",
            node.span,
            hint=f"make {weights} add up to exactly 100%",
        )


def _text_of(node: ast.Expr) -> str:
    return node.name if isinstance(node, ast.Name) else "the target"


def _percent(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


def _check_tiers(node: ast.Tiers, report: _Report, scope: _Scope) -> Unit:
    unit = _infer(node.measure, report, scope, None)
    _require_numeric(node.measure, unit, report, "tiers")
    if node.against is not None:
        against = _infer(node.against, report, scope, None)
        _require_numeric(node.against, against, report, "'against'")
        if against != unit and "number" not in (unit, against):
            report.error(
                "P204",
                f"tiers of {_a(unit)} cannot be measured against {_a(against)}",
                node.against.span,
                hint="measure an amount against its target amount",
            )
    rows = node.rows
    if node.against is not None and not rows[0].bounds_are_percent:
        report.error(
            "P301",
            f"tiers against '{_text_of(node.against)}' need percentage boundaries",
            rows[0].span,
            hint=f"write {rows[1].lower_text if len(rows) > 1 else rows[0].lower_text}% "
            "rather than a plain number, which would mean that many times the target",
        )
    if unit == "money":
        for number, row in enumerate(rows, 1):
            if not row.rate_is_percent:
                report.error(
                    "P204",
                    f"tier {number} pays {row.rate_text} on an amount; a rate on an amount "
                    "is a percentage",
                    row.span,
                    hint=f"write 'pays {row.rate_text}%' (a plain {row.rate_text} would pay "
                    f"{row.rate_text} times the amount)",
                )
    if rows[0].lower != 0:
        report.error(
            "P302",
            f"the first tier starts at {rows[0].lower_text}, not at 0",
            rows[0].span,
            hint="start the first tier at 0 so every value falls in a tier",
        )
    for number, (row, following) in enumerate(itertools.pairwise(rows), 1):
        if row.upper is None:
            report.error(
                "P302",
                f"tier {number} ('{row.lower_text} and above') is not the last tier",
                row.span,
                hint="only the last tier may be open-ended",
            )
            continue
        if following.lower > row.upper:
            report.error(
                "P301",
                f"gap between tier {number} (up to {row.upper_text}) and tier {number + 1} "
                f"(from {following.lower_text})",
                following.span,
                hint=f"start tier {number + 1} at {row.upper_text}",
            )
        elif following.lower < row.upper:
            report.error(
                "P301",
                f"tier {number + 1} (from {following.lower_text}) overlaps tier {number} "
                f"(up to {row.upper_text})",
                following.span,
                hint=f"start tier {number + 1} at {row.upper_text}",
            )
    for number, row in enumerate(rows, 1):
        if row.upper is not None and row.upper <= row.lower:
            report.error(
                "P301",
                f"tier {number} runs from {row.lower_text} up to {row.upper_text}: "
                "the boundaries are out of order",
                row.span,
                hint="write the lower boundary first",
            )
        if row.bounds_are_percent != rows[0].bounds_are_percent:
            report.error(
                "P301",
                f"tier {number} mixes percentages and amounts in its boundaries",
                row.span,
                hint="write all boundaries as percentages (with 'against') or amounts",
            )
    if rows[-1].upper is not None:
        report.error(
            "P302",
            f"the last tier stops at {rows[-1].upper_text}; values above it have no tier",
            rows[-1].span,
            hint=f"end the table with '{rows[-1].upper_text} and above pays …'",
        )
    if rows[0].bounds_are_percent and node.against is None:
        report.error(
            "P301",
            "percentage boundaries need a target to be measured against",
            node.span,
            hint="add 'against quota' (or the target's name) before the ':'",
        )
    # On an amount with percentage rates, or on anything with an amount per unit
    # (`pays 150` a meeting), a tier table pays an amount.
    if unit == "money" or all(not row.rate_is_percent for row in rows):
        return "money"
    return "ratio" if unit == "ratio" else unit


# ---- pass: cycles --------------------------------------------------------------------
def check_cycles(plan: ast.Plan, report: _Report) -> None:
    """Order measures so each comes after what it uses; report any cycle."""
    deps = {
        name: tuple(dict.fromkeys(_measure_names(m.expr, report)))
        for name, m in report.measures.items()
    }
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in report.measures:
        if state.get(root) == 2:
            continue
        # An explicit stack (name, next dependency to visit) instead of recursion, so a
        # chain of thousands of measures cannot exhaust Python's stack.
        path: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while path:
            name, index = path[-1]
            if index == len(deps[name]):
                path.pop()
                state[name] = 2
                order.append(name)
                continue
            path[-1] = (name, index + 1)
            dep = deps[name][index]
            if state.get(dep) == 1:
                names = [n for n, _ in path]
                _report_cycle([*names[names.index(dep) :], dep], report)
            elif state.get(dep) != 2:
                state[dep] = 1
                path.append((dep, 0))
    report.measure_order = order
    report.measure_dependencies = deps


def _report_cycle(cycle: list[str], report: _Report) -> None:
    name = cycle[0]
    measure = report.measures[name]
    if len(cycle) == 2:
        message = f"measure '{name}' is defined in terms of itself"
        hint = f"define '{name}' from fields and other measures"
    else:
        steps = " → ".join(f"'{step}'" for step in cycle)
        message = f"measures depend on each other in a cycle: {steps}"
        hint = "define one of them without the others"
    report.error("P205", message, measure.span, hint=hint)


def _dependency_order(report: _Report) -> list[str]:
    """Measures ordered so each comes after the measures it names (cycles broken anywhere)."""
    deps = {
        name: [
            n.name
            for n in walk(m.expr)
            if isinstance(n, ast.Name) and n.name in report.measures and n.name != name
        ]
        for name, m in report.measures.items()
    }
    order: list[str] = []
    seen: set[str] = set()
    for root in report.measures:
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            name, index = stack.pop()
            if index == 0 and name in seen:
                continue
            seen.add(name)
            if index < len(deps[name]):
                stack.append((name, index + 1))
                child = deps[name][index]
                if child not in seen:
                    stack.append((child, 0))
            else:
                order.append(name)
    return order


def _measure_names(node: ast.Expr, report: _Report) -> Iterator[str]:
    for child in walk(node):
        ref = report.references.get(child)
        if ref is not None and ref.kind == "measure":
            yield ref.name
        elif ref is not None and ref.kind == "ranking":
            ranking = report.rankings[ref.name]
            for name in (ranking.measure, *(key.name for key in ranking.ties)):
                if name in report.measures:
                    yield name
        if isinstance(child, ast.Pool):
            for name in (child.share or "", *(key.name for key in child.ties)):
                if name in report.measures:
                    yield name


def _roots(plan: ast.Plan) -> list[ast.Expr]:
    """Every top-level expression of a plan: measures, component bodies, modifiers."""
    roots = [m.expr for m in plan.measures] + [c.body for c in plan.components]
    return roots + [m.expr for c in plan.components for m in c.modifiers]


def walk(node: ast.Expr) -> Iterator[ast.Expr]:
    """Every expression node under ``node``, itself first, without recursion limits."""
    stack: list[ast.Expr] = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(_children(current)))


def _children(node: ast.Expr) -> list[ast.Expr]:
    if isinstance(node, ast.Arithmetic | ast.Compare | ast.Logic):
        return [node.left, node.right]
    if isinstance(node, ast.Negate | ast.Not | ast.InPeriod | ast.Prorated):
        return [node.operand]
    if isinstance(node, ast.InList):
        return [node.operand, *node.options]
    if isinstance(node, ast.Bound):
        return [node.operand, node.limit]
    if isinstance(node, ast.Days):
        return [node.start, node.end]
    if isinstance(node, ast.Call):
        return list(node.args)
    if isinstance(node, ast.IfThenElse):
        return [node.condition, node.then, node.otherwise]
    if isinstance(node, ast.Aggregate):
        return [] if node.where is None else [node.where]
    if isinstance(node, ast.Scorecard):
        return [item.measure for item in node.items]
    if isinstance(node, ast.Tiers):
        return [node.measure] + ([] if node.against is None else [node.against])
    if isinstance(node, ast.InTop):
        return [node.operand]
    if isinstance(node, ast.Pool):
        return [node.amount]
    return []


# ---- pass: sub-periods ---------------------------------------------------------------
WindowKey = tuple[str, str | None]


def window_key(per: ast.Per | None) -> WindowKey | None:
    """The sub-period a measure or component is computed for; None for the whole period."""
    return None if per is None else (per.window, per.schedule)


def _window_words(key: WindowKey | None) -> str:
    if key is None:
        return "for the whole period"
    return f"per segment of '{key[1]}'" if key[0] == "segment" else f"per {key[0]}"


def context_windows(
    key: WindowKey | None, period: tuple[dt.date, dt.date], schedules: Mapping[str, ast.Schedule]
) -> tuple[calendar.Window, ...]:
    """The sub-periods a context is evaluated for: the period itself, its months (weeks,
    quarters, years), or the segments of a schedule cut to the period."""
    start, end = period
    if key is None:
        return (calendar.Window("year", "period", start, end),)
    if key[0] == "segment":
        table = schedules[key[1] or ""]
        return tuple(
            calendar.Window("segment", piece.start.isoformat(), piece.start, piece.end)
            for piece in calendar.pieces(
                [(row.start, row.end, None) for row in table.rows], start, end
            )
        )
    return calendar.windows(key[0], start, end)  # type: ignore[arg-type]  # a calendar kind


def period_count(unit: str, period: tuple[dt.date, dt.date]) -> int:
    """``number of weeks in period``: the days, or the sub-periods, the period holds."""
    if unit == "days":
        return calendar.days_between(*period)
    return len(calendar.windows(unit[:-1], *period))  # type: ignore[arg-type]  # a calendar kind


def check_windows(plan: ast.Plan, report: _Report) -> None:
    """A value computed per sub-period is read only where the same sub-period is current;
    `in month` stands only in a `per month` rule; weights have a share for every sub-period
    they are read in."""
    keys = {name: window_key(m.per) for name, m in report.measures.items()}
    contexts: list[tuple[ast.Expr, ast.Per | None, str]] = [
        (m.expr, m.per, f"measure '{name}'") for name, m in report.measures.items()
    ]
    for component in plan.components:
        for root in (component.body, *(m.expr for m in component.modifiers)):
            contexts.append((root, component.per, f"component '{component.name}'"))
    broken_pers: set[ast.Per] = set()
    for declared in {per for _, per, _ in contexts if per is not None}:
        if declared.window == "segment" and declared.schedule not in report.schedules:
            broken_pers.add(declared)
            report.error(
                "P201",
                f"unknown schedule '{declared.schedule}'",
                declared.span,
                hint=did_you_mean(declared.schedule or "", report.schedules)
                or "declare it: schedule NAME: from DATE to DATE: VALUE",
            )
    checked_weights: set[tuple[str, WindowKey | None]] = set()
    for root, per, what in contexts:
        if per in broken_pers:
            continue
        key = window_key(per)
        for node in walk(root):
            ref = report.references.get(node)
            if ref is not None and ref.kind == "measure":
                other = keys.get(ref.name)
                if other is not None and other != key:
                    report.error(
                        "P211",
                        f"'{ref.name}' is computed {_window_words(other)}, but {what} is "
                        f"computed {_window_words(key)}",
                        node.span,
                        hint=f"read '{ref.name}' in a measure or component declared "
                        f"'{_window_words(other)}'",
                    )
            elif isinstance(node, ast.InPeriod) and node.window != "period":
                if key is None or key[0] != node.window:
                    report.error(
                        "P211",
                        f"'in {node.window}' needs a rule computed per {node.window}, but "
                        f"{what} is computed {_window_words(key)}",
                        node.span,
                        hint=(
                            f"declare {what.partition(' ')[0]} '{what.split(chr(39))[1]}' "
                            f"per {node.window}, or write 'in period'"
                            if key is None
                            else f"write 'in {key[0]}', the sub-period {what} is computed for"
                        ),
                    )
            elif (
                ref is not None and ref.kind == "weights" and (ref.name, key) not in checked_weights
            ):
                checked_weights.add((ref.name, key))
                _check_weight_use(report.weights[ref.name], key, node, what, report)
    for declared in {per for _, per, _ in contexts if per is not None} - broken_pers:
        key = window_key(declared)
        count = len(context_windows(key, report.period, report.schedules))
        if count == 0:
            report.error(
                "P211",
                f"the plan period has no {declared.window}: "
                + (
                    "no ISO week has its Thursday in it"
                    if declared.window == "week"
                    else "the schedule has no row inside it"
                ),
                declared.span,
                hint="compute it for the whole period instead",
            )
        elif count > MAX_SUB_PERIODS:
            report.error(
                "P105",
                f"the plan period holds {count:,} {declared.window}s, more than the "
                f"{MAX_SUB_PERIODS:,} a plan may compute per",
                declared.span,
                hint="shorten the period, or compute per a longer sub-period",
            )
    _whole_period_reads(contexts, keys, report)


#: The most sub-periods of one kind a plan computes per (a century of ISO weeks).
MAX_SUB_PERIODS: Final = 5300


def _changing_schedules(report: _Report) -> set[str]:
    """Schedules whose value changes inside the plan period."""
    start, end = report.period
    out = set()
    for name, table in report.schedules.items():
        values = {
            row.value for row in table.rows if calendar.overlap(row.start, row.end, start, end)
        }
        if len(values) > 1:
            out.add(name)
    return out


def _whole_period_reads(
    contexts: list[tuple[ast.Expr, ast.Per | None, str]],
    keys: Mapping[str, WindowKey | None],
    report: _Report,
) -> None:
    """W508: a rule computed per sub-period that reads the whole period without saying so:
    an aggregate with no condition on the sub-period, or a whole-period measure averaging
    a schedule that changes inside the period."""
    changing = _changing_schedules(report)
    averaging: dict[str, str] = {}  # whole-period measure → the changing schedule it reads
    counting: set[str] = set()  # whole-period measures that add up records
    for name in report.measure_order:
        if keys.get(name) is not None:
            continue
        for node in walk(report.measures[name].expr):
            ref = report.references.get(node)
            if isinstance(node, ast.Aggregate):
                counting.add(name)
            elif ref is not None and ref.kind == "schedule" and ref.name in changing:
                averaging.setdefault(name, ref.name)
            elif ref is not None and ref.kind == "measure":
                if ref.name in averaging:
                    averaging.setdefault(name, averaging[ref.name])
                if ref.name in counting:
                    counting.add(name)
    for root, per, what in contexts:
        if per is None:
            continue
        window = per.window
        for node in walk(root):
            ref = report.references.get(node)
            if isinstance(node, ast.Aggregate) and not any(
                isinstance(n, ast.InPeriod) and n.window != "period"
                for n in (walk(node.where) if node.where is not None else ())
            ):
                report.warning(
                    "W508",
                    f"{what} is computed per {window}, but this aggregate counts records of "
                    f"the whole period in every {window}",
                    node.span,
                    hint=f"add a condition on the record's date, e.g. where closed_on in {window}",
                )
            elif ref is not None and ref.kind == "measure" and ref.name in averaging:
                schedule = averaging[ref.name]
                report.warning(
                    "W508",
                    f"{what} is computed per {window}, but '{ref.name}' is computed for the "
                    f"whole period: it averages '{schedule}', which changes inside the period, "
                    "over all the period's days",
                    node.span,
                    hint=f"read '{schedule}' here directly, or declare '{ref.name}' "
                    f"{_window_words(window_key(per))}",
                )
            elif ref is not None and ref.kind == "measure" and ref.name in counting:
                report.warning(
                    "W508",
                    f"{what} is computed per {window}, but '{ref.name}' adds up records of "
                    f"the whole period: every {window} reads the same total",
                    node.span,
                    hint=f"read a measure computed per {window} (with 'in {window}'), or "
                    f"keep '{ref.name}' only where every {window} should see the period's total",
                )


def _check_weight_use(
    table: ast.Weights, key: WindowKey | None, node: ast.Expr, what: str, report: _Report
) -> None:
    if calendar.WEIGHT_COUNTS.get(table.basis) is None:
        return
    for window in context_windows(key, report.period, report.schedules):
        parts = calendar.weight_parts(
            table.basis, window.start, window.end, week=window.kind == "week"
        )
        if parts is None:
            span = "the plan period" if key is None else f"the {window.kind} {window.key}"
            unit = table.basis.partition(" ")[0]
            whole = "" if table.basis == "month of quarter" else f", or in whole {unit}s"
            report.error(
                "P211",
                f"weights by {table.basis} give no share for {span}, "
                f"{calendar.describe(window.start, window.end)}, which {what} covers",
                node.span,
                hint=f"read '{table.name}' in a rule computed per {unit}{whole}",
            )
            return


# ---- pass: caps and floors -----------------------------------------------------------
def check_caps(plan: ast.Plan, report: _Report) -> None:
    """A fixed cap below a fixed floor on the same component can never pay consistently."""
    for component in plan.components:
        caps = [m for m in component.modifiers if m.kind == "cap"]
        floors = [m for m in component.modifiers if m.kind == "floor"]
        for cap in caps:
            for floor in floors:
                if (
                    isinstance(cap.expr, ast.Number)
                    and isinstance(floor.expr, ast.Number)
                    and cap.expr.value < floor.expr.value
                ):
                    report.error(
                        "P305",
                        f"component '{component.name}' is capped at {cap.expr.text}, below its "
                        f"floor of {floor.expr.text}",
                        cap.span,
                        hint="raise the cap or lower the floor",
                    )


# ---- warnings: what a plan probably does not mean ---------------------------------------
Range = tuple[Fraction | None, Fraction | None]
_ANY: Final[Range] = (None, None)
_ZERO_UP: Final[Range] = (Fraction(0), None)
#: A declared `positive` field: above zero (the least value any input can have).
_ABOVE_ZERO: Final[Range] = (Fraction(1, 10**60), None)


def _field_range(decl: ast.FieldDecl) -> Range:
    if decl.kind == "score" and decl.low is not None and decl.high is not None:
        return Fraction(decl.low), Fraction(decl.high)
    if decl.kind in ("positive_money", "positive_count", "positive_number"):
        return _ABOVE_ZERO
    if decl.kind in ("money", "count"):
        return _ZERO_UP
    return _ANY


def _add(a: Fraction | None, b: Fraction | None) -> Fraction | None:
    return None if a is None or b is None else a + b


def _range(node: ast.Expr, report: _Report) -> Range:
    """The values an expression can take, from declared ranges; None means unbounded."""
    if isinstance(node, ast.Number | ast.Percent):
        return Fraction(node.value), Fraction(node.value)
    ref = report.references.get(node)
    if ref is not None:
        if ref.kind == "participant_field" and ref.name in report.participant_fields:
            return _field_range(report.participant_fields[ref.name])
        if ref.kind == "record_field" and ref.record_kind in report.record_kinds:
            return _field_range(report.record_kinds[ref.record_kind].fields[ref.name])
        if ref.kind == "measure":
            return report.measure_ranges.get(ref.name, _ANY)
        if ref.kind == "schedule" and report.schedules[ref.name].rows:
            values = [Fraction(row.value) for row in report.schedules[ref.name].rows]
            return min(values), max(values)
        if ref.kind == "weights":
            weights = [Fraction(v) for v in report.weights[ref.name].values]
            return (min(weights) if weights else Fraction(0)), Fraction(sum(weights))
        return _ANY
    if isinstance(node, ast.Days):
        return _ZERO_UP
    if isinstance(node, ast.PeriodCount):
        value = Fraction(period_count(node.unit, report.period))
        return value, value
    if isinstance(node, ast.Prorated):
        low, high = _range(node.operand, report)
        return (None if low is None else min(low, Fraction(0))), (
            None if high is None else max(high, Fraction(0))
        )
    if isinstance(node, ast.Negate):
        low, high = _range(node.operand, report)
        return (None if high is None else -high), (None if low is None else -low)
    if isinstance(node, ast.Arithmetic):
        (a, b), (c, d) = _range(node.left, report), _range(node.right, report)
        if node.op == "+":
            return _add(a, c), _add(b, d)
        if node.op == "-":
            return _add(a, None if d is None else -d), _add(b, None if c is None else -c)
        if node.op == "*" and a is not None and c is not None and a >= 0 and c >= 0:
            return a * c, (None if b is None or d is None else b * d)
        if node.op == "/" and a is not None and a >= 0 and c is not None and c > 0:
            return (Fraction(0) if d is None else a / d), (None if b is None else b / c)
        return _ANY
    if isinstance(node, ast.Bound):
        (a, b), (c, d) = _range(node.operand, report), _range(node.limit, report)
        if node.kind == "cap":
            high = b if d is None else (d if b is None else min(b, d))
            return (None if a is None or c is None else min(a, c)), high
        low = a if c is None else (c if a is None else max(a, c))
        return low, (None if b is None or d is None else max(b, d))
    if isinstance(node, ast.Scorecard):
        least: Fraction | None = Fraction(0)
        most: Fraction | None = Fraction(0)
        for item in node.items:
            item_low, item_high = _range(item.measure, report)
            weight = Fraction(item.weight)
            least = _add(least, None if item_low is None else item_low * weight)
            most = _add(most, None if item_high is None else item_high * weight)
        return least, most
    if isinstance(node, ast.Aggregate):
        if node.function in ("count", "count_distinct"):
            return _ZERO_UP
        kind = report.record_kinds.get(node.kind)
        if kind is None or node.field is None or node.field not in kind.fields:
            return _ANY
        # Over no records every aggregate is 0, so 0 is always a possible value.
        low, high = _field_range(kind.fields[node.field])
        if node.function == "sum":
            return (Fraction(0), None) if low is not None and low >= 0 else _ANY
        return (None if low is None else min(low, Fraction(0))), (
            None if high is None else max(high, Fraction(0))
        )
    if isinstance(node, ast.Call):
        ranges = [_range(arg, report) for arg in node.args]
        lows, highs = [r[0] for r in ranges], [r[1] for r in ranges]
        if node.function == "max":
            known = [v for v in lows if v is not None]
            top = None if None in highs else max(v for v in highs if v is not None)
            return (max(known) if known else None), top
        known = [v for v in highs if v is not None]
        bottom = None if None in lows else min(v for v in lows if v is not None)
        return bottom, (min(known) if known else None)
    if isinstance(node, ast.IfThenElse):
        (a, b), (c, d) = _range(node.then, report), _range(node.otherwise, report)
        return (None if a is None or c is None else min(a, c)), (
            None if b is None or d is None else max(b, d)
        )
    return _ANY


def _never(op: str, left: Range, right: Range) -> bool:
    """True when ``left op right`` cannot hold for any values in the ranges."""
    (a, b), (c, d) = left, right
    if op in (">", ">=") and b is not None and c is not None:
        return b < c or (op == ">" and b == c)
    if op in ("<", "<=") and a is not None and d is not None:
        return a > d or (op == "<" and a == d)
    if op == "=" and None not in (a, b, c, d):
        return b < c or d < a  # type: ignore[operator]  # all four are known here
    return False


def check_ranges(plan: ast.Plan, report: _Report) -> None:
    """Work out each measure's range once, in dependency order (no recursion, no repeats)."""
    for name in report.measure_order:
        report.measure_ranges[name] = _range(report.measures[name].expr, report)


def check_conditions(plan: ast.Plan, report: _Report) -> None:
    """W503: a comparison that declared ranges make impossible (a gate that never opens)."""
    roots = _roots(plan)
    for root in roots:
        for node in walk(root):
            if not isinstance(node, ast.Compare):
                continue
            left, right = _range(node.left, report), _range(node.right, report)
            if _never(node.op, left, right):
                varies = (node.left, left) if left[0] != left[1] else (node.right, right)
                report.warning(
                    "W503",
                    f"'{_source(report, node.span)}' can never hold: "
                    f"{_describe(varies[0], varies[1], report)}",
                    node.span,
                    hint="compare within the declared range, or fix the range",
                )


def _describe(node: ast.Expr, bounds: Range, report: _Report) -> str:
    low, high = bounds
    name = _source(report, node.span)
    shown = [f"{Decimal(v.numerator) / Decimal(v.denominator):f}" if v is not None else "…"
             for v in (low, high)]  # fmt: skip
    return f"'{name}' lies between {shown[0]} and {shown[1]}"


def _source(report: _Report, span: Span) -> str:
    line = report.plan.source.splitlines()[span.line - 1]
    end = span.end_column if span.end_line == span.line else len(line) + 1
    return line[span.column - 1 : end - 1]


def check_caps_bind(plan: ast.Plan, report: _Report) -> None:
    """W504: a component cap at or above the most the component can pay never binds."""
    for component in plan.components:
        if any(m.kind in ("floor", "multiplier") for m in component.modifiers):
            continue
        _low, high = _range(component.body, report)
        for modifier in component.modifiers:
            if modifier.kind != "cap" or high is None:
                continue
            cap, _cap_high = _range(modifier.expr, report)
            if cap is not None and cap >= high:
                most = Decimal(high.numerator) / Decimal(high.denominator)
                report.warning(
                    "W504",
                    f"the cap of component '{component.name}' can never bind: it pays at most "
                    f"{most:,.2f} {report.currency}",
                    modifier.expr.span,
                    hint="lower the cap to where it should bite, or remove it",
                )


def check_tier_shapes(plan: ast.Plan, report: _Report) -> None:
    """W501: falling rates not declared 'decelerating'; W502: each retroactive cliff."""
    for component in plan.components:
        for node in walk(component.body):
            if isinstance(node, ast.Tiers) and len(node.rows) > 1:
                _tier_shape(node, report)


def _tier_shape(node: ast.Tiers, report: _Report) -> None:
    rows = node.rows
    for before, row in itertools.pairwise(rows):
        if row.rate < before.rate and not node.decelerating:
            report.warning(
                "W501",
                f"the rate falls from {before.rate_text} to {row.rate_text} at {row.lower_text}",
                row.span,
                hint=f"if a lower rate is meant, write '{node.mode} decelerating tiers'",
            )
    if node.mode != "retroactive" or node.accepting_cliffs:
        return
    measure = _source(report, node.measure.span)
    for before, row in itertools.pairwise(rows):
        if row.rate <= before.rate:
            continue
        jump = row.lower * (row.rate - before.rate)
        if node.against is not None:
            target = _source(report, node.against.span)
            share = f"{(jump * 100).normalize():f}%"
            example = f"{jump * 100000:,.2f} {report.currency} per 100,000.00 of {target}"
            amount = f"{share} of {target} more ({example})"
            where = f"{row.lower_text} of {target}"
        elif row.rate_is_percent:
            amount = f"{jump:,.2f} {report.currency} more"
            where = row.lower_text
        else:
            amount = f"{jump:,.2f} more on the units already reached"
            where = row.lower_text
        report.warning(
            "W502",
            f"cliff at {where}: the rate on the whole {measure} jumps from {before.rate_text} "
            f"to {row.rate_text}, so one more unit pays {amount}",
            row.span,
            hint="use marginal tiers, or write 'accepting cliffs' before the ':' if the jump "
            "is meant",
        )


def check_divisors(plan: ast.Plan, report: _Report) -> None:
    """W505: a division by a field or measure that can be zero, with no rule for it.

    A division is safe when its divisor is a nonzero number, a value whose declared range
    excludes zero (a `positive` field, `max(quota, 1)`), or inside the branch of an `if`
    whose condition says the divisor is not zero (`if quota > 0 then … / quota else …`).
    """
    for root in _roots(plan):
        stack: list[tuple[ast.Expr, frozenset[str]]] = [(root, frozenset())]
        while stack:
            node, guarded = stack.pop()
            if isinstance(node, ast.IfThenElse):
                nonzero, zero = _guards(node.condition)
                stack += [
                    (node.condition, guarded),
                    (node.then, guarded | nonzero),
                    (node.otherwise, guarded | zero),
                ]
                continue
            stack += [(child, guarded) for child in _children(node)]
            if isinstance(node, ast.Arithmetic) and node.op == "/":
                _check_divisor(node, guarded, report)


def _check_divisor(node: ast.Arithmetic, guarded: frozenset[str], report: _Report) -> None:
    low, high = _range(node.right, report)
    divisor = _source(report, node.right.span)
    if (low is not None and low > 0) or (high is not None and high < 0) or divisor in guarded:
        return
    if low == high == 0:
        report.warning(
            "W505",
            f"'{_source(report, node.span)}' divides by zero",
            node.right.span,
            hint="divide by something that is not zero",
        )
        return
    decl = report.participant_fields.get(divisor)
    if decl is not None and decl.kind in ("money", "signed_money", "number", "count"):
        declared = {"count": "count", "number": "number"}.get(decl.kind, "money")
        hint = (
            f"declare the field 'positive' ({divisor} positive {declared}), or write "
            f"if {divisor} > 0 then … else …"
        )
    else:
        hint = f"write if {divisor} > 0 then … else …, or divide by a field declared positive"
    report.warning(
        "W505",
        f"'{divisor}' can be zero, and '{_source(report, node.span)}' has no rule for that case",
        node.right.span,
        hint=hint,
    )


def _guards(condition: ast.Expr) -> tuple[frozenset[str], frozenset[str]]:
    """Names a condition proves nonzero when it holds, and those it proves when it fails."""
    if isinstance(condition, ast.Not):
        nonzero, zero = _guards(condition.operand)
        return zero, nonzero
    if isinstance(condition, ast.Logic):
        left, right = _guards(condition.left), _guards(condition.right)
        if condition.op == "and":
            return left[0] | right[0], frozenset()
        return frozenset(), left[1] | right[1]
    if not isinstance(condition, ast.Compare):
        return frozenset(), frozenset()
    op: str = condition.op
    name, number = condition.left, condition.right
    if isinstance(name, ast.Number) and isinstance(number, ast.Name):
        name, number = number, name
        op = {">": "<", "<": ">", ">=": "<=", "<=": ">="}.get(op, op)
    if not (isinstance(name, ast.Name) and isinstance(number, ast.Number)):
        return frozenset(), frozenset()
    value, names = number.value, frozenset({name.name})
    holds = (
        (op == ">" and value >= 0)
        or (op == ">=" and value > 0)
        or (op == "<" and value <= 0)
        or (op == "<=" and value < 0)
        or (op == "!=" and value == 0)
        or (op == "=" and value != 0)
    )
    if holds:
        return names, frozenset()
    if op == "=" and value == 0:
        return frozenset(), names
    return frozenset(), frozenset()


def check_unused(plan: ast.Plan, report: _Report) -> None:
    """W506: declared fields and defined measures nothing reads; W507: shadowed names."""
    used = {(ref.kind, ref.record_kind, ref.name) for ref in report.references.values()}
    # Fields read by aggregates (sum of deal.amount), collected in one walk of the plan.
    aggregated = {
        (node.kind, node.field)
        for root in _roots(plan)
        for node in walk(root)
        if isinstance(node, ast.Aggregate) and node.field is not None
    }
    if report.employment is not None:
        used.add(("participant_field", None, report.employment.start_field))
        used.add(("participant_field", None, report.employment.end_field or ""))
    for ranking in report.rankings.values():
        for name in (ranking.group, ranking.measure, *(key.name for key in ranking.ties)):
            used.add(("participant_field", None, name))
            used.add(("measure", None, name))
    for declared in plan.record_kinds:
        for decl in declared.fields:
            if decl.conversion is not None:
                for name in decl.conversion:
                    used.add(("record_field", declared.name, name))
            if declared.name in report.credit_kinds:
                used.add(("record_field", declared.name, decl.name))
    for root in _roots(plan):
        for node in walk(root):
            if isinstance(node, ast.GroupAggregate | ast.Pool):
                used.add(("participant_field", None, node.group))
            if isinstance(node, ast.Pool):
                for name in (node.share or "", *(key.name for key in node.ties)):
                    used.add(("participant_field", None, name))
                    used.add(("measure", None, name))
            if isinstance(node, ast.Override):
                used.add(("participant_field", None, node.through))
            if isinstance(node, ast.DayWeighted):
                for name in (node.field, node.start_field, node.end_field):
                    used.add(("record_field", node.kind, name))
    for name, decl in report.participant_fields.items():
        if decl.kind != "id" and ("participant_field", None, name) not in used:
            report.warning(
                "W506",
                f"participant field '{name}' is declared but never used",
                decl.span,
                hint="use it, or remove it from the participant fields",
            )
    for kind in report.record_kinds.values():
        for name, decl in kind.fields.items():
            if name in (kind.id_field, kind.participant_field):
                continue
            if ("record_field", kind.name, name) not in used and (
                kind.name,
                name,
            ) not in aggregated:
                report.warning(
                    "W506",
                    f"field '{name}' of '{kind.name}' records is declared but never used",
                    decl.span,
                    hint=f"use it, or remove it from the '{kind.name}' fields",
                )
            if name in report.participant_fields or name in report.measures:
                other = "participant field" if name in report.participant_fields else "measure"
                report.warning(
                    "W507",
                    f"inside filters on '{kind.name}' records, '{name}' is the record's field "
                    f"and hides the {other} of the same name",
                    decl.span,
                    hint=f"rename one of them, e.g. '{kind.name}_{name}'",
                )
    named: list[tuple[str, ast.Schedule | ast.Weights]] = [
        *report.schedules.items(),
        *report.weights.items(),
    ]
    for table_name, table in named:
        kind_word = "weights" if isinstance(table, ast.Weights) else "schedule"
        if (kind_word, None, table_name) not in used and not any(
            per is not None and per.schedule == table_name
            for per in (*(m.per for m in plan.measures), *(c.per for c in plan.components))
        ):
            report.warning(
                "W506",
                f"{kind_word} '{table_name}' is declared but never used",
                table.span,
                hint="use it in a measure or component, or remove it",
            )
    for name, ranking in report.rankings.items():
        if ("ranking", None, name) not in used:
            report.warning(
                "W506",
                f"ranking '{name}' is declared but never used",
                ranking.span,
                hint=f"use it in a condition, e.g. only when {name} in top 3; or remove it",
            )
    if report.exchange is not None and not any(
        decl.conversion is not None for kind in plan.record_kinds for decl in kind.fields
    ):
        report.warning(
            "W506",
            "exchange rates are declared but no field is converted",
            report.exchange.span,
            hint="convert an amount: amount money converted from currency on closed_on",
        )
    for name, measure in report.measures.items():
        if ("measure", None, name) not in used:
            report.warning(
                "W506",
                f"measure '{name}' is defined but never used",
                measure.span,
                hint="use it in a component, or remove it",
            )


PASSES: Final[tuple[Callable[[ast.Plan, _Report], None], ...]] = (
    check_header,
    check_identifiers,
    check_names,
    check_declarations,
    check_expressions,
    check_teams,
    check_cycles,
    check_windows,
    check_caps,
    check_tier_shapes,
    check_ranges,
    check_conditions,
    check_caps_bind,
    check_divisors,
    check_unused,
)


def check_plan(plan: ast.Plan) -> CheckedPlan:
    """Run every pass over ``plan``.

    Args:
        plan: a parsed plan.

    Returns:
        The checked plan, with resolved names, units and measure order.

    Raises:
        PlanCheckError: with every error found, sorted by position.
    """
    report = _Report(plan)
    for check in PASSES:
        check(plan, report)
    errors = [d for d in report.diagnostics if d.severity == "error"]
    if errors:
        raise PlanCheckError(_unique(report.diagnostics), plan.source)
    assert report.quantum is not None
    return CheckedPlan(
        plan=plan,
        name=report.name,
        currency=report.currency,
        period_start=report.period[0],
        period_end=report.period[1],
        rounding_mode=report.rounding_mode,
        quantum=report.quantum,
        participant_fields=report.participant_fields,
        participant_id_field=report.participant_id_field,
        record_kinds=report.record_kinds,
        measures=report.measures,
        measure_order=tuple(report.measure_order),
        components=plan.components,
        units=report.units,
        references=report.references,
        measure_dependencies=report.measure_dependencies,
        warnings=tuple(d for d in report.diagnostics if d.severity == "warning"),
        schedules=report.schedules,
        weights=report.weights,
        employment=report.employment,
        dated=report.dated,
        rankings=report.rankings,
        exchange=report.exchange,
        credit_kinds=report.credit_kinds,
        links=tuple(
            name for name, decl in report.participant_fields.items() if decl.kind == "participant"
        ),
        group_fields=frozenset(
            name
            for name in _groups(plan, report)
            if name in report.participant_fields and report.participant_fields[name].kind == "text"
        ),
    )


def _groups(plan: ast.Plan, report: _Report) -> set[str]:
    """The participant fields a plan groups participants by."""
    names = {ranking.group for ranking in report.rankings.values()}
    for root in _roots(plan):
        for node in walk(root):
            if isinstance(node, ast.GroupAggregate | ast.Pool):
                names.add(node.group)
    return names


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return list(dict.fromkeys(diagnostics))
