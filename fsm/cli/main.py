"""The ``atomic-entry`` command line: the parser assembled from the command modules, and
the dispatch to them.

Each command is one module with ``add_parser(commands)`` and ``run(args)``; this module
knows their names and nothing of what they do. Every command returns an
``fsm.cli.exits.Exit``: 0 the run was safe; 1 a safety invariant was broken (the
violations are printed); 2 bad input (a scenario file or an argument), in which case
nothing ran; 3 a simulated run was killed on purpose (``simulate --crash-at``).
Importing this module loads no exchange library: commands import ccxt, graphviz and
the benchmarks when they run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from loguru import logger

from fsm.cli import bench, coverage, diagrams, enter, recover, simulate
from fsm.cli.exits import Exit

# In the order ``--help`` lists them.
COMMANDS: dict[str, ModuleType] = {
    "simulate": simulate, "diagrams": diagrams, "bench": bench, "enter": enter,
    "recover": recover, "coverage": coverage,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atomic-entry",
        description="Hedged two-venue entries for funding-rate arbitrage.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log engine decisions")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS.values():
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, level="DEBUG" if args.verbose else "WARNING")
    for package in ("fsm", "venues"):
        logger.enable(package)
    run: Callable[[argparse.Namespace], Exit] = COMMANDS[args.command].run
    try:
        return run(args)
    except diagrams.DotMissing as exc:
        print(f"atomic-entry: {exc}", file=sys.stderr)
        return Exit.BAD_INPUT


if __name__ == "__main__":
    raise SystemExit(main())
