"""``atomic-entry coverage``: print which state-changing table rows the shipped scenarios
take and which they never take (the counting is ``fsm.sim.coverage``'s job); the breaker
table's, from the breaker stories that run those scenarios in sequence.

A report, not a gate: it exits 0 whatever the figure, so a scenario can be added or a
row retired on its own schedule; the rows never taken are listed for that decision.
"""

from __future__ import annotations

import argparse
from typing import Any

from loguru import logger

from fsm.cli.exits import Exit


def add_parser(commands: Any) -> None:
    commands.add_parser(
        "coverage",
        help="report which state-changing table rows the shipped scenarios take",
        description="Run every built-in scenario and list, for each state table, the "
        "state-changing rows they take and those none of them takes, with the figure "
        "'N of M'.",
    )


def run(args: argparse.Namespace) -> Exit:
    logger.disable("fsm")  # the scenarios' alerts are their incidents, not this report's
    logger.disable("venues")
    # They run every shipped scenario: loaded only when asked.
    from fsm.sim import breaker_stories, coverage

    runs = coverage.run_shipped()
    who = f"the {len(runs)} shipped scenarios that run an entry"
    print(coverage.format_report(coverage.measure(runs), who))
    print()
    stories = breaker_stories.run_all()
    print(coverage.format_report((coverage.measure_breaker(stories),),
                                 f"the {len(stories)} breaker stories"))
    return Exit.OK
