"""``atomic-entry diagrams``: every file of ``diagrams/``, written or checked.

``generate()`` returns every file of ``diagrams/`` as bytes: the entry machine, the
order lifecycle and the circuit breaker as DOT (deterministic, committed) and SVG
(rendered by Graphviz ``dot``), and ``transitions.md``, the review table; the graphs and
the table are drawn from the state tables by ``fsm.cli.graphs``, imported when they are
generated, so that building the command line's parser does not load the tables.

With the SVGs comes one more drawing that is not of the tables: the README's example of
``simulate --plot`` (``example_plot``), generated and checked here so that a change to
the figure, or to what the scenario does, cannot leave a stale picture in the README.

The ``atomic-entry diagrams`` command (``add_parser``, ``run``) is the front of this
module rather than a module of its own: it is a dozen lines over ``write`` and ``stale``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsm.cli import inputs
from fsm.cli.exits import Exit

if TYPE_CHECKING:
    import graphviz

DOT_FILES = {"entry": "entry.dot", "orders": "orders.dot", "breaker": "breaker.dot"}
SVG_FILES = {"entry": "entry.svg", "orders": "orders.svg", "breaker": "breaker.svg"}
TABLE_FILE = "transitions.md"
#: The example of ``simulate --plot`` the README shows, checked like the diagrams.
PLOT_SCENARIO = "fill_during_cancel"
PLOT_FILE = f"plot_{PLOT_SCENARIO}.svg"


class DotMissing(RuntimeError):
    """Graphviz's ``dot`` is not installed; the message says how to get it."""


def need_dot() -> None:
    """Raise ``DotMissing`` unless Graphviz's ``dot`` is on the PATH."""
    if shutil.which("dot") is None:
        raise DotMissing(
            "Graphviz's `dot` is needed to render diagrams: install it "
            "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)"
        )


def render(graph: graphviz.Digraph, fmt: str) -> bytes:
    need_dot()
    done = subprocess.run(
        ["dot", f"-T{fmt}"], input=graph.source.encode(), capture_output=True, check=True
    )
    out: bytes = done.stdout
    return out


def example_plot() -> bytes:
    """The README's example of ``--plot``: a shipped scenario run and drawn (matplotlib)."""
    from fsm.cli import plot
    from fsm.cli.plot_data import picture
    from fsm.sim import runner, scenario

    run = runner.simulate(scenario.load_builtin(PLOT_SCENARIO))
    return plot.render(picture(run.result, (step.event for step in run.steps), PLOT_SCENARIO))


def generate(with_svg: bool = True) -> dict[str, bytes]:
    """Every generated file of ``diagrams/``, by name; ``with_svg`` adds the drawings."""
    from fsm.cli import graphs as drawn

    graphs = {"entry": drawn.entry_graph(), "orders": drawn.order_graph(),
              "breaker": drawn.breaker_graph()}
    files = {DOT_FILES[k]: g.source.encode() for k, g in graphs.items()}
    files[TABLE_FILE] = drawn.transitions_markdown().encode()
    if with_svg:
        for key, graph in graphs.items():
            files[SVG_FILES[key]] = render(graph, "svg")
        files[PLOT_FILE] = example_plot()
    return files


def write(out: Path) -> list[Path]:
    """Write every generated file into ``out``, created if missing (its parent is not:
    a mistyped path must not grow a tree of directories)."""
    out.mkdir(exist_ok=True)
    written = []
    for name, content in generate().items():
        (out / name).write_bytes(content)
        written.append(out / name)
    return written


def stale(out: Path, with_svg: bool = True) -> list[str]:
    """Files in ``out`` that differ from what the generator produces now (or are missing)."""
    return [
        str(out / name)
        for name, content in generate(with_svg).items()
        if not (out / name).is_file() or (out / name).read_bytes() != content
    ]


def add_parser(commands: Any) -> None:
    draw = commands.add_parser(
        "diagrams",
        help="write the state diagrams and review tables generated from the state tables",
        description="Write diagrams/ from the state tables: entry, order and breaker machines "
        "as DOT "
        "and SVG, and transitions.md. With --check, write nothing and fail if a committed "
        "file differs from what would be generated.",
    )
    draw.add_argument("--out", default=Path("diagrams"), metavar="DIR",
                      type=inputs.directory_to_write,
                      help="the folder to write, in an existing directory (default: diagrams)")
    draw.add_argument("--check", action="store_true",
                      help="exit 1 naming each stale file instead of writing")


def run(args: argparse.Namespace) -> Exit:
    out = Path(args.out)
    if args.check:
        names = stale(out)
        for name in names:
            print(f"stale: {name}", file=sys.stderr)
        if names:
            print("atomic-entry: the diagrams differ from the state tables (or the example "
                  "plot from its run); regenerate them with "
                  f"`atomic-entry diagrams --out {out}` and commit the result", file=sys.stderr)
            return Exit.UNSAFE
        print(f"{out}: up to date with the state tables (fsm/core/tables/)")
        return Exit.OK
    for path in write(out):
        print(f"wrote {path}")
    return Exit.OK
