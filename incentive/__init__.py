"""incentive: sales compensation plans as readable rule files, paid exactly and explained.

    plan = incentive.load_plan("rules_examples/account_executive/plan.rules")
    result = incentive.evaluate(plan, "participants.csv", {"deal": "deals.csv"})
    print(incentive.explain(result.participant("R-104"), lang="zh"))

Names listed in `__all__` are the public API; anything else may change.
"""

from __future__ import annotations

from importlib import metadata

from incentive.api import (
    evaluate,
    evaluate_population,
    explain,
    explain_all,
    load_plan,
    load_plans,
    statement,
)
from incentive.dsl.check import CheckedPlan, check_plan
from incentive.dsl.parser import parse_plan
from incentive.engine.compile import CompiledPlan, compile_plan
from incentive.engine.evaluate import evaluate_inputs
from incentive.engine.records import Inputs, load_inputs
from incentive.engine.results import (
    ComponentResult,
    ParticipantResult,
    PlanInfo,
    PopulationResult,
    RecordDisposition,
    RecordSummary,
    RunResult,
)
from incentive.errors import (
    Diagnostic,
    EngineMismatchError,
    EvaluationError,
    IncentiveError,
    PlanCheckError,
    PlanError,
    PlanSyntaxError,
    RecordError,
    RecordProblem,
    Span,
    UnsupportedError,
)
from incentive.explain.statement import Statement, StatementLine

try:
    __version__ = metadata.version("incentive")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0"

__all__ = [
    "CheckedPlan",
    "CompiledPlan",
    "ComponentResult",
    "Diagnostic",
    "EngineMismatchError",
    "EvaluationError",
    "IncentiveError",
    "Inputs",
    "ParticipantResult",
    "PlanCheckError",
    "PlanError",
    "PlanInfo",
    "PlanSyntaxError",
    "PopulationResult",
    "RecordDisposition",
    "RecordError",
    "RecordProblem",
    "RecordSummary",
    "RunResult",
    "Span",
    "Statement",
    "StatementLine",
    "UnsupportedError",
    "check_plan",
    "compile_plan",
    "evaluate",
    "evaluate_inputs",
    "evaluate_population",
    "explain",
    "explain_all",
    "load_inputs",
    "load_plan",
    "load_plans",
    "parse_plan",
    "statement",
]
