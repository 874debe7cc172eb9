"""Write (or compare) the golden record of every shipped scenario.

``python -m tests.golden.capture`` rewrites ``tests/golden/*.txt``: for each built-in
scenario, its timeline (every event, every command sent, the state after each step),
the summary and its JSON result without table row numbers (those move when rows are
added; the states and triggers they name do not). ``tests/test_golden.py`` compares a
fresh run with these files, so a refactoring that changes what any scenario sends or
where it ends fails there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fsm.cli.simulate import refusal_text
from fsm.cli.timeline import render, summary
from fsm.core.pretrade import RequestError
from fsm.sim import scenario as scenarios
from fsm.sim.runner import simulate

HERE = Path(__file__).parent


def record(name: str) -> str:
    chosen = scenarios.load_builtin(name)
    try:
        run = simulate(chosen)
    except RequestError as exc:  # a scenario whose outcome is the pre-trade refusal
        if not chosen.expect_refused:
            raise
        return refusal_text(chosen, exc) + "\n"
    out: dict[str, Any] = run.result.to_dict()
    for step in out.get("path", []):
        step.pop("row", None)
    out["violations"] = list(run.violations)
    return (
        render(run.steps, run.result) + "\n\n" + summary(run.result) + "\n\n"
        + json.dumps(out, indent=1, sort_keys=True) + "\n"
    )


def main() -> int:
    for name in scenarios.builtin_names():
        (HERE / f"{name}.txt").write_text(record(name))
    print(f"wrote {len(scenarios.builtin_names())} golden records to {HERE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
