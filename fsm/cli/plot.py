"""Drawing one entry over time (``--plot``): what ``fsm.cli.plot_data`` decided, on paper.

Three panels share the time axis (milliseconds since the entry started): the books'
mids with every fill at its price; each order's life as a bar from placed to terminal,
its fills marked on it; both venues' positions and the net exposure as step lines.
The span in which the entry was unhedged is shaded on all three, so the eye goes to it
first. Nothing here decides what to show: it draws a ``Picture``.

matplotlib is an optional extra (``pip install 'atomic-entry[plot]'``), imported only
when a figure is drawn. The figure is built as a bare ``Figure`` (no pyplot, no global
backend or state), so drawing in a process that also runs entries touches nothing else.
SVG output is byte-for-byte reproducible for one matplotlib version: a fixed hash salt
for the ids SVG needs, no date in the metadata, text kept as text, and the tight layout
(the constrained one solves with kiwisolver, whose result moves in the last float digit
from one figure to the next, and with it the hashed clip-path ids).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the picture's types only: fsm.cli loads this module for PLOT_KINDS
    from matplotlib.axes import Axes
    from matplotlib.typing import RcKeyType

    from fsm.cli.plot_data import Picture, Steps

PLOT_KINDS = (".svg", ".png")
INSTALL = "pip install 'atomic-entry[plot]'"
#: The long leg's venue, then the short leg's (the order ``Picture.venues`` has).
VENUE_COLOURS = ("#1d4ed8", "#c2410c")
NET_COLOUR = "#111827"
UNHEDGED = "#fca5a5"
MARKERS = {"quote": "o", "hedge": "D", "trim": "s", "rollback": "X"}
RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": "atomic-entry",  # ids in the SVG from this salt, not from a random one
    "svg.fonttype": "none",  # text as text: smaller, searchable, no glyph outlines
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same metrics everywhere
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


class PlotError(RuntimeError):
    """The figure cannot be drawn or written; the message says why and what would do."""


class PlotMissing(PlotError):
    """matplotlib is not installed; the message says how to get it."""


def need_matplotlib() -> None:
    """Raise ``PlotMissing`` unless matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401  (only whether it is there)
    except ImportError:
        raise PlotMissing(f"drawing a plot needs matplotlib, which is not installed: {INSTALL}"
                          ) from None


def check(target: Path) -> None:
    """Before anything runs: matplotlib is there and ``target`` can be written."""
    need_matplotlib()
    folder = target.parent if str(target.parent) else Path(".")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        where = target if target.exists() else f"its directory {folder}"
        raise PlotError(f"cannot write the plot {target}: {where} is not writable; expected a "
                        "file in a directory this user may write")


def draw(picture: Picture, target: Path) -> None:
    """Write ``picture`` to ``target`` (SVG, or PNG by its suffix)."""
    drawn = render(picture, "png" if target.suffix.lower() == ".png" else "svg")
    try:
        target.write_bytes(drawn)
    except OSError as exc:
        raise PlotError(f"cannot write the plot {target}: {exc.strerror or exc}") from None


def render(picture: Picture, fmt: str = "svg") -> bytes:
    """``picture`` drawn as ``svg`` or ``png`` bytes."""
    need_matplotlib()
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC):
        rows = max(2.0, 0.32 * len(picture.orders) + 0.8)
        figure = Figure(figsize=(12.5, 4.6 + rows), layout="tight")
        panels = figure.subplots(3, 1, sharex=True, height_ratios=[2.6, rows, 2.2])
        figure.suptitle(f"{picture.title}\nunhedged {picture.unhedged_ms:g} ms (shaded); "
                        "fills as the engine heard of them", fontsize=11)
        span = max(picture.end_ms, 1.0)
        right = span * 1.04  # the step lines run on past the end: where the entry left them
        for axes in panels:
            for number, (start, end) in enumerate(picture.unhedged):
                axes.axvspan(start, end, color=UNHEDGED, alpha=0.45, linewidth=0,
                             label="unhedged" if axes is panels[2] and not number else None)
        marks = ((picture.end_ms, f"end: {picture.final_state}", ":"),
                 *((at, text, "--") for at, text in picture.moments))
        for row, (at, text, line) in enumerate(marks):
            for axes in panels:
                axes.axvline(at, color="#6b7280", linewidth=0.8, linestyle=line)
            # One line each, stacked: a recovery is often just before the end.
            panels[0].annotate(text, (at, 1.0), xycoords=("data", "axes fraction"),
                               xytext=(-3, -2 - 10 * row), textcoords="offset points",
                               ha="right", va="top", fontsize=7.5, color="#374151")
        _prices(panels[0], picture, right)
        _orders(panels[1], picture)
        _positions(panels[2], picture, right)
        panels[2].set_xlim(-span * 0.03, right)
        panels[2].set_xlabel("ms since the entry started")
        out = io.BytesIO()
        if fmt == "png":
            figure.savefig(out, format="png", dpi=110)
        else:
            # No date, and no creator naming matplotlib's version: a patch release that
            # draws the same would otherwise make the committed example stale.
            figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
        return out.getvalue()


def _extended(series: Steps, until: float) -> tuple[list[float], list[float]]:
    """A step series as x, y lists held until ``until`` (floats: drawing only)."""
    xs = [at for at, _ in series]
    ys = [float(value) for _, value in series]
    if series and until > series[-1][0]:
        xs.append(until)
        ys.append(ys[-1])
    return xs, ys


def _colour(picture: Picture, venue: str) -> str:
    names = [v.venue for v in picture.venues]
    return VENUE_COLOURS[names.index(venue) % 2] if venue in names else NET_COLOUR


def _prices(axes: Axes, picture: Picture, right: float) -> None:
    axes.set_title("Books (the mids the entry held) and fills")
    for style, series in zip(("-", "--"), picture.venues, strict=False):
        xs, ys = _extended(series.mids, right)
        axes.step(xs, ys, where="post", linestyle=style, linewidth=1.4,
                  color=_colour(picture, series.venue),
                  label=f"{series.venue} mid ({series.leg} leg)")
    for purpose, marker in MARKERS.items():
        for series in picture.venues:
            mine = [f for f in picture.fills if f.purpose == purpose and f.venue == series.venue]
            if mine:
                axes.scatter([f.at_ms for f in mine], [float(f.price) for f in mine],
                             marker=marker, s=46, zorder=3, edgecolors="white",
                             linewidths=0.6, color=_colour(picture, series.venue),
                             label=f"{purpose} fill on {series.venue}")
    axes.set_ylabel(f"price ({picture.quote})")
    axes.ticklabel_format(axis="y", useOffset=False, style="plain")
    axes.margins(y=0.12)
    _legend(axes)


def _orders(axes: Axes, picture: Picture) -> None:
    axes.set_title("Orders, placed to terminal, and their fills")
    count = len(picture.orders)
    for row, order in enumerate(picture.orders):
        y = count - 1 - row  # the first order placed on top
        colour = _colour(picture, order.venue)
        filled = order.status == "filled"
        width = max(order.end_ms - order.start_ms, picture.end_ms * 0.002)
        axes.broken_barh([(order.start_ms, width)], (y - 0.32, 0.64), facecolors=colour,
                         alpha=0.85 if filled else 0.3, edgecolor=colour,
                         hatch=None if order.ended else "//")
        for fill in order.fills:
            axes.plot([fill.at_ms], [y], marker=MARKERS.get(fill.purpose, "o"),
                      color=NET_COLOUR, markersize=5, zorder=3)
            axes.annotate(f"{fill.qty} @ {fill.price}", (fill.at_ms, y), fontsize=7,
                          xytext=(4, 5), textcoords="offset points", color=NET_COLOUR)
    axes.set_yticks(range(count), [_order_label(o.label, o.status, o.ended)
                                   for o in reversed(picture.orders)], fontsize=7.5)
    axes.set_ylim(-0.7, max(count, 1) - 0.3)
    from matplotlib.patches import Patch

    grey = "#6b7280"
    axes.legend(handles=[Patch(facecolor=grey, alpha=0.85, label="filled in full"),
                         Patch(facecolor=grey, alpha=0.3, label="ended otherwise"),
                         Patch(facecolor=grey, alpha=0.3, hatch="//", label="open at the end")],
                loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False)
    axes.tick_params(axis="y", length=0)


def _order_label(label: str, status: str, ended: bool) -> str:
    return f"{label}: {status}" + ("" if ended else " (open at the end)")


def _legend(axes: Axes) -> None:
    """Beside the panel, never over a line."""
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False)


def _positions(axes: Axes, picture: Picture, right: float) -> None:
    axes.set_title("Positions this entry opened, and the net exposure")
    xs, ys = _extended(picture.exposure, right)  # under the venues' lines, which it sums
    axes.step(xs, ys, where="post", linewidth=4.0, color=NET_COLOUR, alpha=0.35,
              label="net exposure (long - short)")
    for series in picture.venues:
        xs, ys = _extended(series.positions, right)
        held = (f", {series.start_position} held before"
                if series.start_position != 0 else "")
        axes.step(xs, ys, where="post", linewidth=1.4, color=_colour(picture, series.venue),
                  label=f"{series.venue} ({series.leg} leg){held}")
        if series.venue_moved is not None and series.venue_moved != series.positions[-1][1]:
            axes.scatter([picture.end_ms], [float(series.venue_moved)], marker="o", s=60,
                         facecolors="white", edgecolors=_colour(picture, series.venue),
                         linewidths=1.6, zorder=4,
                         label=f"{series.venue} at the end, as the venue reports it "
                         f"({series.venue_moved:+})")
    axes.axhline(0, color="#9ca3af", linewidth=0.8, zorder=0)
    axes.set_ylabel(f"position ({picture.base})")
    axes.margins(y=0.12)
    _legend(axes)
