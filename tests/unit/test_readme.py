"""The README shows what the code does: its plan, statements and Python snippet are live."""

from __future__ import annotations

import re
import subprocess
import sys

import incentive
from tests.helpers import EXAMPLES, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", README, flags=re.S)
AE = EXAMPLES / "account_executive"


def test_the_plan_shown_is_the_example_plan() -> None:
    plan = (AE / "plan.rules").read_text(encoding="utf-8")
    assert any(body == plan for _, body in BLOCKS)


def test_the_statements_shown_are_what_explain_prints() -> None:
    result = incentive.evaluate(incentive.load_plan(AE / "plan.rules"), AE / "participants.csv",
                                {"deal": AE / "deals.csv"})  # fmt: skip
    wang = result.participant("R-104")
    bodies = [body for _, body in BLOCKS]
    assert incentive.explain(wang, lang="en") in bodies
    assert incentive.explain(wang, lang="zh") in bodies


def _run_snippet(snippet: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", snippet], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_python_snippets_run() -> None:
    single, several = [body for lang, body in BLOCKS if lang == "python"]
    assert "应发合计：¥56,420.05" in _run_snippet(single)
    out = _run_snippet("import incentive\n" + several)
    # Every figure of the several-plans example, as its README works it out by hand.
    assert out.startswith("262066.80 238000.00\n")
    assert "Total payout: ¥101,500.00" in out


def test_the_quickstart_has_exactly_two_commands() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```\n(.*?)\n```", quickstart, flags=re.S)
    assert len(commands) == 2
    assert "incentive run rules_examples" in commands[0]
    assert "pytest" in commands[1]
