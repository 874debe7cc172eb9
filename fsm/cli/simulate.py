"""``atomic-entry simulate``: run one entry on simulated venues and print what happened.

The run is deterministic (virtual time), so its printout is a record an operator can
diff; ``--crash-at`` stops the engine dead mid-entry to rehearse ``atomic-entry
recover``. Only simulated venues are touched: nothing here loads ccxt or graphviz
(``--diagram`` loads graphviz when it draws, ``--plot`` matplotlib).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsm.cli import console, inputs, metrics_out, plot
from fsm.cli.exits import Exit, for_final_state
from fsm.sim import DEFAULT_SCENARIO

# The simulator, the engine and the core are loaded when the command runs, not with
# fsm.cli: ``atomic-entry --help`` needs only the argument definitions below.
if TYPE_CHECKING:
    from fsm.core.pretrade import RequestError
    from fsm.core.result import EntryResult
    from fsm.sim import scenario as scenarios

DIAGRAM_KINDS = (".svg", ".png", ".dot", "")  # "": no suffix, drawn as SVG


def final_states() -> frozenset[str]:
    """The entry table's final states, by name (read from the spec when asked)."""
    from fsm.core.spec import ENTRY_STATES, terminal_names

    return frozenset(str(state) for state in terminal_names(ENTRY_STATES))


def add_parser(commands: Any) -> None:
    sim = commands.add_parser(
        "simulate",
        help="run an entry against simulated venues and print what happened",
        description="Run one entry on simulated venues in virtual time. Without --scenario "
        f"it runs the built-in '{DEFAULT_SCENARIO}' scenario.",
    )
    sim.add_argument("--scenario", metavar="FILE",
                     help="a scenario TOML file, or the name of a built-in scenario")
    sim.add_argument("--json", action="store_true", help="print one JSON object instead")
    sim.add_argument("--list", action="store_true", help="list the built-in scenarios")
    sim.add_argument("--diagram", metavar="FILE", type=inputs.file_to_write(*DIAGRAM_KINDS),
                     help="also draw the run on the state machine (.svg, .png or .dot)")
    sim.add_argument("--plot", metavar="FILE", type=inputs.file_to_write(*plot.PLOT_KINDS),
                     help="also draw the entry over time: positions, exposure, orders, "
                     "books and fills (.svg or .png; needs the plot extra)")
    sim.add_argument("--journal", metavar="PATH", type=inputs.file_to_write(),
                     help="journal the run to this SQLite file (for `atomic-entry recover`), "
                     "in an existing directory")
    sim.add_argument("--crash-at", type=int, metavar="STEP",
                     help="with --journal: stop the engine dead right after it sent the "
                     "commands of event STEP (0 is the start), leaving the entry unfinished")
    metrics_out.add_arguments(sim)


def run(args: argparse.Namespace) -> Exit:
    from fsm.cli.plot_data import picture
    from fsm.cli.timeline import render, summary
    from fsm.core.pretrade import RequestError
    from fsm.shell.journal import Journal, JournalError
    from fsm.sim import runner as simulation
    from fsm.sim import scenario as scenarios

    if args.list:
        for name in scenarios.builtin_names():
            print(f"{name:<32} {scenarios.load_builtin(name).description}")
        return Exit.OK
    if args.crash_at is not None and (not args.journal or args.crash_at < 0):
        print("atomic-entry: --crash-at needs --journal PATH and a step >= 0", file=sys.stderr)
        return Exit.BAD_INPUT
    if args.crash_at is not None and (args.metrics_port is not None or args.metrics_textfile):
        print("atomic-entry: --crash-at stops the engine dead and reports no metrics; "
              "run without --metrics-port and --metrics-textfile", file=sys.stderr)
        return Exit.BAD_INPUT
    if args.diagram and _diagram_format(args.diagram) != "dot":
        from fsm.cli import diagrams

        diagrams.need_dot()  # before the run, not after it: DotMissing is bad input
    if args.plot:
        if args.crash_at is not None:
            print("atomic-entry: --plot draws a finished run; with --crash-at, recover the "
                  "entry, then draw it with `atomic-entry report ENTRY_ID --journal PATH "
                  "--plot FILE`", file=sys.stderr)
            return Exit.BAD_INPUT
        plot.check(args.plot)  # before the run too: PlotError is bad input
    try:
        chosen = (scenarios.load(args.scenario) if args.scenario is not None
                  else scenarios.load_builtin(DEFAULT_SCENARIO))
        if args.crash_at is not None:
            return _crash(chosen, args)
        metrics = metrics_out.start(args)
        journal = Journal(args.journal, origin=simulation.origin(chosen)) if args.journal \
            else None
        try:
            run = simulation.simulate(chosen, journal, metrics.sink)
        except RequestError as exc:
            if not chosen.expect_refused:
                raise
            metrics.abandon()  # the textfile says this run refused, not the last run's
            return _refused(chosen, exc, args.json)
        finally:
            if journal is not None:
                journal.close()
    except (scenarios.ScenarioError, RequestError, JournalError,
            metrics_out.MetricsInputError) as exc:
        print(f"atomic-entry: {exc}", file=sys.stderr)
        return Exit.BAD_INPUT
    result = run.result
    if args.diagram:
        _draw_run(Path(args.diagram), chosen.name, result)
    if args.plot:
        plot.draw(picture(result, (step.event for step in run.steps), chosen.name), args.plot)
    if args.json:
        out = result.to_dict()
        out["scenario"] = chosen.name
        out["violations"] = list(run.violations)
        text = json.dumps(out, indent=2)
    else:
        text = "\n".join([
            f"scenario: {chosen.name}: {chosen.description}\n", render(run.steps, result), "",
            summary(result), *(f"INVARIANT BROKEN: {v}" for v in run.violations)])
    console.emit(text)  # a reader that stops early (| head) does not change the code
    metrics.finish()
    return Exit.UNSAFE if run.violations else for_final_state(result.final_state)


def refusal_text(chosen: scenarios.Scenario, exc: RequestError) -> str:
    """What a scenario whose outcome is the pre-trade refusal prints (its golden record)."""
    return (f"scenario: {chosen.name}: {chosen.description}\n\n"
            f"refused before anything was sent: {exc}")


def _refused(chosen: scenarios.Scenario, exc: RequestError, as_json: bool) -> Exit:
    """The refusal the scenario expects: its record on stdout, and the exit code a refused
    request has whichever command sent it (2: nothing was sent)."""
    if as_json:
        text = json.dumps({"scenario": chosen.name, "final_state": None, "refused": str(exc),
                           "violations": []}, indent=2)
    else:
        text = refusal_text(chosen, exc)
    console.emit(text)
    return Exit.BAD_INPUT


def _crash(chosen: scenarios.Scenario, args: argparse.Namespace) -> Exit:
    """Run until the engine is stopped dead at ``--crash-at``; its venues die with it."""
    from fsm.cli.timeline import describe_event, render
    from fsm.sim import runner as simulation
    from fsm.sim.crash import CrashingJournal, CrashPoint
    from venues.sim.virtual_time import run_virtual

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
        return for_final_state(crashed.result.final_state)
    last = crashed.steps[-1] if crashed.steps else None
    if last is not None and last.state in final_states():
        # Killed right after its last step: the journal holds the ending, nothing is live.
        for number, step in enumerate(crashed.steps):
            print(f"step {number:>3}  {describe_event(step.event):<58}  {step.state}")
        print(f"\nthe entry ended ({last.state}) at step {len(crashed.steps) - 1}, before the "
              "engine was stopped; nothing to recover")
        return for_final_state(last.state)
    for number, step in enumerate(crashed.steps):
        print(f"step {number:>3}  {describe_event(step.event):<58}  {step.state}")
    print(f"\nKILLED after sending the commands of step {args.crash_at}: the entry is "
          f"unfinished, orders may be live. Finish it with:\n"
          f"  atomic-entry recover --journal {args.journal}")
    return Exit.KILLED


def _diagram_format(target: Path) -> str:
    return target.suffix.lower().lstrip(".") or "svg"


def _draw_run(target: Path, name: str, result: EntryResult) -> None:
    from fsm.cli import diagrams, graphs

    path = [(step.row, step.dest) for step in result.path]
    graph = graphs.run_graph(
        path, f"{name}: {result.final_state}, net exposure {result.net_exposure} "
        "(taken edges numbered in order)")
    fmt = _diagram_format(target)
    target.write_bytes(graph.source.encode() if fmt == "dot" else diagrams.render(graph, fmt))
