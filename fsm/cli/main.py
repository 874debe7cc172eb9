"""The ``atomic-entry`` command line.

Exit codes: 0 the run was safe; 1 a safety invariant was broken (the violations are
printed); 2 bad input (a scenario file or an argument), in which case nothing ran.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from loguru import logger

from fsm.cli import diagrams
from fsm.cli import enter as live
from fsm.cli import recover as recover_cmd
from fsm.cli.timeline import describe_event, render, summary
from fsm.core.pretrade import RequestError
from fsm.core.result import EntryResult
from fsm.shell.journal import Journal, JournalError
from fsm.sim import runner as simulation
from fsm.sim import scenario as scenarios
from fsm.sim.crash import CrashingJournal, CrashPoint
from fsm.sim.runner import simulate
from venues.sim.virtual_time import run_virtual

EXIT_OK, EXIT_UNSAFE, EXIT_BAD_INPUT = 0, 1, 2
EXIT_KILLED = 3  # simulate --crash-at: the engine was stopped dead, as asked


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atomic-entry",
        description="Hedged two-venue entries for funding-rate arbitrage.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log engine decisions")
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser(
        "simulate",
        help="run an entry against simulated venues and print what happened",
        description="Run one entry on simulated venues in virtual time. Without --scenario "
        f"it runs the built-in '{scenarios.DEFAULT_SCENARIO}' scenario.",
    )
    sim.add_argument("--scenario", metavar="FILE",
                     help="a scenario TOML file, or the name of a built-in scenario")
    sim.add_argument("--json", action="store_true", help="print one JSON object instead")
    sim.add_argument("--list", action="store_true", help="list the built-in scenarios")
    sim.add_argument("--diagram", metavar="FILE",
                     help="also draw the run on the state machine (.svg, .png or .dot)")
    sim.add_argument("--journal", metavar="PATH",
                     help="journal the run to this SQLite file (for `atomic-entry recover`)")
    sim.add_argument("--crash-at", type=int, metavar="STEP",
                     help="with --journal: stop the engine dead right after it sent the "
                     "commands of event STEP (0 is the start), leaving the entry unfinished")
    draw = commands.add_parser(
        "diagrams",
        help="write the state diagrams and review tables generated from fsm/core/spec.py",
        description="Write diagrams/ from the state tables: entry and order machines as DOT "
        "and SVG, and transitions.md. With --check, write nothing and fail if a committed "
        "file differs from what would be generated.",
    )
    draw.add_argument("--out", default="diagrams", metavar="DIR",
                      help="the folder to write (default: diagrams)")
    draw.add_argument("--check", action="store_true",
                      help="exit 1 naming each stale file instead of writing")
    bench = commands.add_parser(
        "bench",
        help="measure exposure against the old behaviours, engine overhead and scale",
        description="Run the three benchmarks on this machine and print their tables: "
        "exposure after a first fill (virtual time), the engine's reaction overhead (real "
        "clock) and scale up to 10,000 live entries. Takes a few minutes; --quick runs "
        "smaller samples.",
    )
    bench.add_argument("--quick", action="store_true", help="smaller samples, for a smoke run")
    bench.add_argument("--json", metavar="FILE", help="also write every figure to FILE as JSON")
    bench.add_argument("--check", action="store_true",
                       help="exit 1 naming each runtime goal this run missed")
    live.add_parser(commands)
    recover_cmd.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, level="DEBUG" if args.verbose else "WARNING")
    for package in ("fsm", "venues"):
        logger.enable(package)
    try:
        if args.command == "diagrams":
            return _diagrams(args)
        if args.command == "bench":
            return _bench(args)
        if args.command == "enter":
            return live.run(args)
        if args.command == "recover":
            return recover_cmd.run(args)
        return _simulate(args)
    except diagrams.DotMissing as exc:
        print(f"atomic-entry: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _diagrams(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if args.check:
        stale = diagrams.stale(out)
        for name in stale:
            print(f"stale: {name}", file=sys.stderr)
        if stale:
            print("atomic-entry: the diagrams differ from fsm/core/spec.py; regenerate them with "
                  f"`atomic-entry diagrams --out {out}` and commit the result", file=sys.stderr)
            return EXIT_UNSAFE
        print(f"{out}: up to date with fsm/core/spec.py")
        return EXIT_OK
    for path in diagrams.write(out):
        print(f"wrote {path}")
    return EXIT_OK


def _bench(args: argparse.Namespace) -> int:
    from fsm.bench import report  # imported on demand: the other commands do not need it

    logger.disable("fsm")  # the benchmark times the engine, not its log sink
    logger.disable("venues")
    measured = report.run(quick=args.quick, progress=lambda s: print(s, file=sys.stderr))
    print(report.format_report(measured))
    if args.json:
        Path(args.json).write_text(json.dumps(measured.to_dict(), indent=2) + "\n")
        print(f"wrote {args.json}")
    if args.check:
        for goal in report.missed(measured):
            print(f"goal missed: {goal.name} {goal.value:g} {goal.unit} (limit {goal.limit:g})",
                  file=sys.stderr)
        if report.missed(measured):
            return EXIT_UNSAFE
    return EXIT_OK


def _simulate(args: argparse.Namespace) -> int:
    if args.list:
        for name in scenarios.builtin_names():
            print(f"{name:<32} {scenarios.load_builtin(name).description}")
        return EXIT_OK
    if args.crash_at is not None and (not args.journal or args.crash_at < 0):
        print("atomic-entry: --crash-at needs --journal PATH and a step >= 0", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        chosen = (scenarios.load(args.scenario) if args.scenario
                  else scenarios.load_builtin(scenarios.DEFAULT_SCENARIO))
        if args.crash_at is not None:
            return _crash(chosen, args)
        journal = Journal(args.journal, origin=simulation.origin(chosen)) if args.journal \
            else None
        try:
            run = simulate(chosen, journal)
        finally:
            if journal is not None:
                journal.close()
    except (scenarios.ScenarioError, RequestError, JournalError) as exc:
        print(f"atomic-entry: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    result = run.result
    if args.diagram:
        _draw_run(Path(args.diagram), chosen.name, result)
    if args.json:
        out = result.to_dict()
        out["scenario"] = chosen.name
        out["violations"] = list(run.violations)
        print(json.dumps(out, indent=2))
    else:
        print(f"scenario: {chosen.name}: {chosen.description}\n")
        print(render(run.steps, result))
        print()
        print(summary(result))
        for violation in run.violations:
            print(f"INVARIANT BROKEN: {violation}")
    return EXIT_UNSAFE if run.violations else EXIT_OK


def _crash(chosen: scenarios.Scenario, args: argparse.Namespace) -> int:
    """Run until the engine is stopped dead at ``--crash-at``; its venues die with it."""
    journal = CrashingJournal(args.journal, CrashPoint(args.crash_at),
                              origin=simulation.origin(chosen))

    async def main() -> simulation.CrashedRun:
        venues = chosen.build_venues()
        for venue in venues.values():
            venue.start()
        try:
            return await simulation.run_until_crash(chosen, venues, journal)
        finally:
            for venue in venues.values():
                venue.close()

    try:
        crashed = run_virtual(main())
    finally:
        journal.close()
    if crashed.result is not None:
        print(render(crashed.steps, crashed.result) + "\n")
        print(f"the entry ended ({crashed.result.final_state}) before step {args.crash_at}; "
              "nothing to recover")
        return EXIT_OK
    for number, step in enumerate(crashed.steps):
        print(f"step {number:>3}  {describe_event(step.event):<58}  {step.state}")
    print(f"\nKILLED after sending the commands of step {args.crash_at}: the entry is "
          f"unfinished, orders may be live. Finish it with:\n"
          f"  atomic-entry recover --journal {args.journal}")
    return EXIT_KILLED


def _draw_run(target: Path, name: str, result: EntryResult) -> None:
    path = [(step.row, step.dest) for step in result.path]
    graph = diagrams.run_graph(
        path, f"{name}: {result.final_state}, net exposure {result.net_exposure} "
        "(taken edges numbered in order)")
    fmt = target.suffix.lstrip(".") or "svg"
    target.write_bytes(graph.source.encode() if fmt == "dot" else diagrams.render(graph, fmt))


if __name__ == "__main__":
    raise SystemExit(main())
