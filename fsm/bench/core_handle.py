"""The decision core alone on the two reaction events: no event loop, no venue.

``python -m fsm.bench.core_handle [ENTRIES]`` builds ENTRIES (default 3,000) entries
quoting both legs, acknowledged, and times ``EntryModel.handle`` for the long quote's
fill (it answers with the sibling's ``CancelOrder``) and for the sibling's cancel
confirmation (it answers with the hedge's ``PlaceOrder``): p50 and p99 in us, and the
Python calls each makes (a count that, unlike the times, does not move with the
machine's load). The engine's benchmark (``fsm.bench.runtime``) times the same two
reactions through the whole shell.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from decimal import Decimal

from fsm.bench import runtime
from fsm.core import events as ev
from fsm.core.entry import EntryModel
from fsm.core.values import EntryRequest, LegSpec
from venues.market import Leg, OrderStatus, PlaceOrder

now_ns = time.perf_counter_ns


def quoting(k: int | str) -> tuple[EntryModel, PlaceOrder, PlaceOrder]:
    """An entry as it sits while both quotes rest, acknowledged, and the two quotes."""
    qty = Decimal("0.5")
    request = EntryRequest(LegSpec("alpha", runtime.SYMBOL, qty),
                           LegSpec("beta", runtime.SYMBOL, qty), entry_id=f"h{k}")
    model = EntryModel(request.entry_id or "", request, runtime._CONFIG)
    books = {Leg.LONG: runtime._BOOK, Leg.SHORT: runtime._BOOK}
    rules = {Leg.LONG: runtime._RULES, Leg.SHORT: runtime._RULES}
    start = ev.Start(0.0, books, rules, {leg: Decimal(0) for leg in books})
    quotes = {c.leg: c for c in model.handle(start) if isinstance(c, PlaceOrder)}
    for quote in quotes.values():
        model.handle(ev.Accepted(0.1, quote.client_id, f"v{quote.client_id}"))
    return model, quotes[Leg.LONG], quotes[Leg.SHORT]


def _fill(model: EntryModel, long: PlaceOrder) -> ev.FillReport:
    assert long.price is not None  # a quote is a limit order
    return ev.FillReport(0.2, long.client_id, "t1", long.qty, long.price)


def _confirm(model: EntryModel, long: PlaceOrder, short: PlaceOrder) -> ev.Canceled:
    """What follows the fill: the long quote's filled status, then the confirmation."""
    model.handle(ev.StatusReport(0.2, long.client_id, OrderStatus.FILLED, long.qty))
    return ev.Canceled(0.3, short.client_id, Decimal(0))


def measure(entries: int) -> dict[str, tuple[float, float, int]]:
    """Each reaction event: (p50 us, p99 us, Python calls per handle)."""
    times: dict[str, list[int]] = {"fill -> cancel": [], "confirm -> hedge": []}
    for k in range(entries):
        model, long, short = quoting(k)
        event: ev.Event = _fill(model, long)
        t0 = now_ns()
        model.handle(event)
        times["fill -> cancel"].append(now_ns() - t0)
        event = _confirm(model, long, short)
        t0 = now_ns()
        model.handle(event)
        times["confirm -> hedge"].append(now_ns() - t0)
    calls = _calls()
    out = {}
    for name, values in times.items():
        values.sort()
        out[name] = (values[len(values) // 2] / 1000, values[int(len(values) * 0.99)] / 1000,
                     calls[name])
    return out


def _calls() -> dict[str, int]:
    """Python calls of one handle of each event (cProfile's count, after a warm entry)."""
    quoting("warm")
    model, long, short = quoting("counted")
    out = {}
    for name in ("fill -> cancel", "confirm -> hedge"):
        event: ev.Event = (_fill(model, long) if name == "fill -> cancel"
                           else _confirm(model, long, short))
        profile = cProfile.Profile()
        profile.enable()
        model.handle(event)
        profile.disable()
        out[name] = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
    return out


def main(entries: int) -> None:
    print(f"EntryModel.handle, {entries:,} entries, us")
    print(f"{'event':18s} {'p50':>7s} {'p99':>7s} {'calls':>6s}")
    for name, (p50, p99, calls) in measure(entries).items():
        print(f"{name:18s} {p50:7.1f} {p99:7.1f} {calls:6d}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
