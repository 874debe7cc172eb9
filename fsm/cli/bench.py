"""``atomic-entry bench``: the command line of the benchmarks in ``fsm.bench``.

Only the arguments and the printing live here; what is measured and how is
``fsm.bench``'s job. The benchmarks are imported when the command runs, so the other
commands never pay for them.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from loguru import logger

from fsm.cli import inputs
from fsm.cli.exits import Exit


def add_parser(commands: Any) -> None:
    bench = commands.add_parser(
        "bench",
        help="measure exposure against the old behaviours, engine overhead, scale and cost",
        description="Run the benchmarks on this machine and print their tables: "
        "exposure after a first fill (virtual time), the engine's reaction overhead (real "
        "clock), scale up to 10,000 live entries, and the economics table: what an entry "
        "costs under dual taker, the seed's executor, the engine's maker default and the "
        "planner, in calm, normal and volatile markets with deep and thin books (virtual "
        "time, 1,000 seeded entries per regime). Takes several minutes; --quick runs "
        "smaller samples.",
    )
    bench.add_argument("--quick", action="store_true", help="smaller samples, for a smoke run")
    bench.add_argument("--json", metavar="FILE", type=inputs.file_to_write(),
                       help="also write every figure to FILE as JSON (in an existing directory)")
    bench.add_argument("--check", action="store_true",
                       help="exit 1 naming each goal (runtime and cost) this run missed")


def run(args: argparse.Namespace) -> Exit:
    from fsm.bench import report

    logger.disable("fsm")  # the benchmark times the engine, not its log sink
    logger.disable("venues")
    measured = report.run(quick=args.quick, progress=lambda s: print(s, file=sys.stderr))
    print(report.format_report(measured))
    if args.json:
        args.json.write_text(json.dumps(measured.to_dict(), indent=2) + "\n")
        print(f"wrote {args.json}")
    missed = report.missed(measured) if args.check else []
    for goal in missed:
        print(f"goal missed: {goal.name} {goal.value:g} {goal.unit} (limit {goal.limit:g})",
              file=sys.stderr)
    return Exit.UNSAFE if missed else Exit.OK
