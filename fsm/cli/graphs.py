"""The graphs and the review table drawn from the tables in ``fsm.core.spec``, and nothing else.

The entry machine, the order lifecycle and the circuit breaker as Graphviz graphs, and
``transitions.md``, the review table. The DOT is written here row by row rather than
through transitions' GraphMachine, which styles every edge and prints object addresses:
output must be byte-identical from run to run.

``run_graph(path)`` draws the same entry machine with one run's path on it: visited
states filled, taken edges numbered in order, the final state outlined.

Apart from ``fsm.cli.diagrams`` (the command, the files it writes, rendering with ``dot``)
because this module loads the tables: the command line imports that one to build its
parser, and this one only when something is drawn. The graphviz package is imported only
when a graph is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from fsm.core import spec
from fsm.core.tables import events as event_table

if TYPE_CHECKING:
    import graphviz

FONT = "Helvetica"
VISITED = "#dbeafe"
TAKEN = "#1d4ed8"
FINAL = "#b91c1c"


def _cluster(name: str) -> str:
    return "cluster_" + name.replace(spec.SEPARATOR, "__")


def _short(name: str) -> str:
    return name.rsplit(spec.SEPARATOR, 1)[-1]


def _conditions(row: spec.AnyRow) -> str:
    names = [*row.guards, *(f"not {u}" for u in row.unless)]
    return f"[{', '.join(names)}]" if names else ""


def _edge_label(row: spec.AnyRow) -> str:
    lines = [row.trigger]
    if _conditions(row):
        lines.append(_conditions(row))
    if row.effects:
        lines.append("/ " + ", ".join(row.effects))
    return "\n".join(lines)


def _internal_lines(rows: Iterable[spec.AnyRow], source: str) -> list[str]:
    """Internal rows of a state, shown inside it: plain ones grouped on one line."""
    plain: list[str] = []
    lines = []
    for row in rows:
        if row.source != source or row.dest is not None:
            continue
        if not row.effects and not row.guards and not row.unless:
            plain.append(row.trigger)
            continue
        text = " ".join(part for part in (row.trigger, _conditions(row)) if part)
        if row.effects:
            text += " / " + ", ".join(row.effects)
        lines.append(f"{text} (stays)")
    if plain:
        lines.insert(0, f"{', '.join(dict.fromkeys(plain))} (stays)")
    return lines


def _base(name: str, title: str) -> graphviz.Digraph:
    import graphviz  # here, not at the top: only drawing needs it

    graph = graphviz.Digraph(name)
    graph.attr(compound="true", rankdir="TB", newrank="true", fontname=FONT, fontsize="13",
               label=title, labelloc="t", nodesep="0.35", ranksep="0.45")
    graph.attr("node", shape="box", style="rounded,filled", fillcolor="white",
               fontname=FONT, fontsize="11", margin="0.12,0.06")
    graph.attr("edge", fontname=FONT, fontsize="9", color="#475569", fontcolor="#334155",
               arrowsize="0.7")
    graph.node("__start", label="", shape="point", width="0.15", style="filled",
               fillcolor="black")
    return graph


def _node_label(full: str, state: spec.AnyState, rows: Sequence[spec.AnyRow]) -> str:
    internal = _internal_lines(rows, full)
    title = _short(full)
    if not internal:
        return title
    return title + "\n" + "\n".join(internal)


def _add_states(
    graph: graphviz.Digraph, states: Sequence[spec.AnyState], rows: Sequence[spec.AnyRow],
    prefix: str = "", visited: set[str] | None = None, final: str | None = None,
) -> None:
    for state in states:
        full = f"{prefix}{state.name}"
        if state.children:
            with graph.subgraph(name=_cluster(full)) as sub:
                internal = _internal_lines(rows, full)
                label = state.name + ("\n" + "\n".join(internal) if internal else "")
                sub.attr(label=label, style="rounded,dashed", color="#64748b",
                         fontname=FONT, fontsize="11", labeljust="l")
                _add_states(sub, state.children, rows, f"{full}{spec.SEPARATOR}",
                            visited, final)
            continue
        attrs: dict[str, str] = {}
        if state.terminal:
            attrs["peripheries"] = "2"
        if visited is not None and full in visited:
            attrs["fillcolor"] = VISITED
        if final == full:
            attrs.update(color=FINAL, penwidth="2.2", fontcolor=FINAL)
        graph.node(full, label=_node_label(full, state, rows), **attrs)


def _add_entry_edges(graph: graphviz.Digraph, numbers: dict[int, list[int]] | None = None) -> None:
    """One edge per entry row that changes state; ``numbers``: run steps per row index."""
    states = dict(spec.walk(spec.ENTRY_STATES))
    graph.edge("__start", spec.ENTRY_INITIAL)
    for index, row in enumerate(spec.ENTRY_TRANSITIONS):
        if row.dest is None:
            continue
        attrs: dict[str, str] = {}
        tail, head = row.source, row.dest
        if states[tail].children:
            attrs["ltail"] = _cluster(tail)
            # Any state inside would do: ltail clips the edge at the frame.
            tail = spec.initial_leaf(spec.ENTRY_STATES, tail)
        if states[head].children:
            attrs["lhead"] = _cluster(head)
            head = spec.initial_leaf(spec.ENTRY_STATES, head)
        label = _edge_label(row)
        if numbers is not None:
            taken = numbers.get(index)
            if taken:
                label = f"({', '.join(map(str, taken))}) {label}"
                attrs.update(color=TAKEN, fontcolor=TAKEN, penwidth="2")
            else:
                attrs.update(color="#cbd5e1", fontcolor="#94a3b8")
        graph.edge(tail, head, label=label, **attrs)


def entry_graph() -> graphviz.Digraph:
    graph = _base("entry", "Hedged entry: states and transitions (fsm/core/tables/entry.py)")
    _add_states(graph, spec.ENTRY_STATES, spec.ENTRY_TRANSITIONS)
    _add_entry_edges(graph)
    return graph


def run_graph(path: Sequence[tuple[int, str]], title: str) -> graphviz.Digraph:
    """The entry machine with one run on it: ``path`` is (row index, dest) per transition."""
    graph = _base("run", title)
    visited = {spec.ENTRY_INITIAL, *(dest for _, dest in path)}
    numbers: dict[int, list[int]] = {}
    for step, (row, _) in enumerate(path, start=1):
        numbers.setdefault(row, []).append(step)
    final = path[-1][1] if path else spec.ENTRY_INITIAL
    _add_states(graph, spec.ENTRY_STATES, spec.ENTRY_TRANSITIONS, visited=visited, final=final)
    _add_entry_edges(graph, numbers)
    return graph


def _flat_graph(name: str, title: str, states: Sequence[spec.AnyState],
                rows: Sequence[spec.AnyRow], initial: str) -> graphviz.Digraph:
    """A table without nested states, one edge per (source, dest) pair listing its rows."""
    graph = _base(name, title)
    graph.attr(rankdir="LR")
    known = dict(spec.walk(states))
    _add_states(graph, states, ())
    merged: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        if row.dest is not None:
            text = " ".join(p for p in (row.trigger, _conditions(row)) if p)
            if row.effects:
                text += " / " + ", ".join(row.effects)
            merged.setdefault((row.source, row.dest), []).append(text)
    graph.edge("__start", initial)
    for (source, dest), labels in merged.items():
        assert source in known and dest in known
        graph.edge(source, dest, label="\n".join(labels))
    return graph


def order_graph() -> graphviz.Digraph:
    # One edge per (source, dest) pair: 80 rows would be unreadable one by one.
    return _flat_graph("orders", "Order lifecycle (fsm/core/tables/order.py)",
                       spec.ORDER_STATES, spec.ORDER_TRANSITIONS, spec.ORDER_INITIAL)


def breaker_graph() -> graphviz.Digraph:
    return _flat_graph("breaker", "Circuit breaker of a venue, or of all (fsm/core/tables/"
                       "breaker.py)", spec.BREAKER_STATES, spec.BREAKER_TRANSITIONS,
                       spec.BREAKER_INITIAL)


def transitions_markdown() -> str:
    """The review table: one row per transition, meaning taken from the spec."""
    out = [
        "# State transition tables",
        "",
        "Generated from the tables in `fsm/core/tables/` (gathered by `fsm/core/spec.py`) by",
        "`atomic-entry diagrams`; do not edit by hand. Rows are tried top to bottom for a",
        "state and trigger; a child's rows before its parent's. `(stays)` is an internal",
        "transition: its effects run, the state stays. `#` is the row's index in its table,",
        "as `simulate --json` (`row`) and `atomic-entry coverage` number it.",
        "",
    ]
    tables: tuple[tuple[str, Sequence[spec.AnyRow]], ...] = (
        ("Entry", spec.ENTRY_TRANSITIONS), ("Order", spec.ORDER_TRANSITIONS),
        ("Order: amend region", spec.AMEND_TRANSITIONS),
        ("Circuit breaker", spec.BREAKER_TRANSITIONS))
    for title, rows in tables:
        out += [f"## {title}", "",
                "| # | source | trigger | guards | destination | effects | meaning |",
                "|---|---|---|---|---|---|---|"]
        for index, row in enumerate(rows):
            cells = [str(index), f"`{row.source}`", f"`{row.trigger}`",
                     _conditions(row).strip("[]"),
                     f"`{row.dest}`" if row.dest else "(stays)",
                     ", ".join(row.effects), row.meaning.replace("|", "\\|")]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    out += _event_lines()
    out += ["## Order: on every state change", "",
            "Run by the interpreter before the row's own effects whenever an order row "
            "changes the state.", "",
            "| effect | when | meaning |", "|---|---|---|"]
    for rule in spec.ON_STATE_CHANGE:
        when = (f"leaving {', '.join(f'`{s}`' for s in rule.leaving)} for another state"
                if rule.leaving else "every change")
        out.append(f"| {rule.effect} | {when} | {rule.meaning} |")
    out.append("")
    out += ["## Order facts", "",
            "Kept beside an order's state and amend; budgets are counters and not listed.", "",
            "| fact | meaning | set by | cleared by |", "|---|---|---|---|"]
    out += [f"| `{f.fact}` | {f.meaning} | {f.set_by} | {f.cleared_by} |"
            for f in spec.ORDER_FACTS]
    out.append("")
    trees: tuple[tuple[str, Sequence[spec.AnyState]], ...] = (
        ("Entry states", spec.ENTRY_STATES), ("Order states", spec.ORDER_STATES),
        ("Order amend states", spec.AMEND_STATES), ("Circuit breaker states", spec.BREAKER_STATES))
    for title, states in trees:
        out += [f"## {title}", "", "| state | terminal | meaning |", "|---|---|---|"]
        for name, state in spec.walk(states):
            out.append(f"| `{name}` | {'yes' if state.terminal else ''} | {state.meaning} |")
        out.append("")
    return "\n".join(out)


def _event_lines() -> list[str]:
    """The event table: which order triggers and then which entry triggers each event fires."""
    out = ["## Events", "",
           "What each event fires: on the order it names (its triggers, then `fill` when its "
           "fills grew the order, then the trigger of the status it reports), then on the "
           "entry. The first rule matching the event's class, request and timer is used.", "",
           "| event | order triggers | entry triggers | meaning |", "|---|---|---|---|"]
    for rule in event_table.EVENT_RULES:
        order = [f"`{t}`" for t in rule.order]
        if rule.fill_when is not None:
            order.append(f"`fill` if {rule.fill_when}")
        if rule.status:
            order.append("the reported status's trigger")
        entry = ("follows the order's change" if rule.entry is None
                 else ", ".join(f"`{t}`" for t in rule.entry) or "none")
        if rule.then:
            entry += ", then " + ", ".join(f"`{t}`" for t in rule.then)
        out.append(f"| {rule.label} | {', '.join(order) or 'none'} | {entry} | {rule.meaning} |")
    out += ["", "| reported status | order trigger |", "|---|---|"]
    out += [f"| {status.value} | `{trigger}` |"
            for status, trigger in event_table.STATUS_TRIGGERS.items()]
    out += ["", "After an event about one order, the entry takes, in this order:", "",
            "| entry trigger | when the order | meaning |", "|---|---|---|"]
    out += [f"| `{f.trigger}` | {' or '.join(str(c) for c in f.changes)} | {f.meaning} |"
            for f in event_table.ENTRY_FOLLOWS]
    out.append("")
    return out
