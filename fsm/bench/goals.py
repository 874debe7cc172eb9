"""The runtime goals of issue 12 and the planner's cost goals of issue 16, measured in one
run and printed beside their limits.

Each figure is compared with a floor or a limit measured or fixed here, so ``bench
--check`` can fail a change that makes the runtime dearer. Wall-clock figures belong
here and not in the default test suite: they move with the machine's load, and a
busy CI box must not turn the suite red.

* the reaction paths (fill -> cancel, confirm -> hedge) beside a bare dict dispatch,
  the cheapest any state machine in Python can be, timed in the same process;
* beside the reaction's p99, the machine's own tail: fixed CPU-only work sized to the
  reaction's p50, timed the same way (``jitter_ns``). On a shared virtual machine that
  work's p99 is well above its p50, and no engine change removes that part of a tail;
* the full ``gc.collect()`` pause and the cost of creating an entry with N entries
  alive against none: what a large book of live entries does to a hedge waiting behind it.
  The pause is measured with nothing frozen: every object of the process, the start-up
  ones (modules, tables, the compiled machine, the simulated venues) included, is
  traversed, as in a process that never calls ``gc.freeze()``. Beside it, the same
  collection with the start-up objects frozen (``gc.freeze()`` before the first entry,
  the usual practice of a long-running server, never the entries' own objects), and the
  count of gc-tracked objects each live entry adds: the pause is proportional to it, and
  unlike the pause it does not move with the machine's load;
* what ``import fsm.cli`` costs in CPU, and whether ``simulate`` imports ccxt, each in
  a fresh interpreter (a subprocess), since this process has imported everything already.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from fsm.bench import runtime
from fsm.core.values import EntryRequest, LegSpec
from venues.market import Leg

if TYPE_CHECKING:  # economics_table reaches this module back through report
    from fsm.bench.economics_table import Row

now_ns = time.perf_counter_ns


@attrs.frozen
class Goal:
    """One goal: the figure measured, the limit, and whether lower is better."""

    name: str
    value: float
    limit: float
    unit: str
    note: str = ""

    @property
    def met(self) -> bool:
        return self.value <= self.limit


def dispatch_floor_ns(samples: int = 20_000) -> list[int]:
    """One transition by a bare dict lookup and a call: a floor no machine beats.

    Shaped like one entry trigger: look up (state, trigger), check one guard, run one
    effect, set the state.
    """

    class Model:
        state = "a"

        def ok(self) -> bool:
            return True

        def done(self) -> None:
            pass

    def go(model: Model) -> None:
        if model.ok():
            model.done()
            model.state = "b"

    table: dict[tuple[str, str], Callable[[Model], None]] = {("a", "go"): go}
    model = Model()
    values = []
    for _ in range(samples):
        model.state = "a"
        t0 = now_ns()
        table[(model.state, "go")](model)
        values.append(now_ns() - t0)
    return values


def _fixed_work(rounds: int) -> None:
    """CPU only, the same every call: no allocation that grows, no I/O, no loop."""
    total = Decimal(0)
    step = Decimal("1.5")
    for i in range(rounds):
        total += step * i


def _timed_work(rounds: int) -> int:
    t0 = now_ns()
    _fixed_work(rounds)
    return now_ns() - t0


def jitter_ns(target_us: float, samples: int = 10_000) -> list[int]:
    """The same CPU-only work, sized to take about ``target_us``, timed ``samples`` times.

    What the machine adds to a tail: its p50 is the work, its p99 is the work plus what
    this machine's scheduler, interrupts and neighbours took meanwhile. Read beside a
    reaction's p99 (sized to the reaction's p50), it says how much of that tail no change
    to the engine can remove on this machine in this run.
    """
    probe = 1000
    least = min(_timed_work(probe) for _ in range(51))  # the least: the work, no neighbour
    rounds = max(1, round(probe * target_us * 1000 / least))
    return [_timed_work(rounds) for _ in range(samples)]


@attrs.frozen
class LiveCosts:
    """With ``n`` entries alive and quoting: one full collection, and entry creation."""

    n: int
    gc_pause_ms: float
    create_us: float  # p50 of creating (and admitting) one more entry
    gc_pause_startup_frozen_ms: float = 0.0  # the same, start-up objects frozen
    tracked_per_entry: float = 0.0  # gc-tracked objects each live entry adds
    # the references those objects hold: a full collection visits each (twice), so the
    # pause follows them, at a cost per reference that varies with the machine
    references_per_entry: float = 0.0


def _request(entry_id: str) -> EntryRequest:
    qty = Decimal("0.5")
    return EntryRequest(LegSpec("alpha", runtime.SYMBOL, qty),
                        LegSpec("beta", runtime.SYMBOL, qty), entry_id=entry_id)


def _creation_us(world: runtime.World, samples: int) -> float:
    """p50 of building an entry's model and admitting it to the engine (its actor, its
    routes); each is retired untimed, so the live count stays what it was."""
    engine = world.engine
    venues = {Leg.LONG: world.alpha, Leg.SHORT: world.beta}
    values = []
    for k in range(samples):
        request = _request(f"c{k}")
        t0 = now_ns()
        model = engine.model_class(request.entry_id, request, runtime._CONFIG)
        actor = engine._admit(model, venues)  # type: ignore[arg-type]
        values.append(now_ns() - t0)
        engine._retire(actor)
    values.sort()
    return values[len(values) // 2] / 1000


def _least_full_collection_ns(runs: int = 5) -> int:
    """The least of ``runs``: a collection's work is the same each time, so anything
    above the least is other processes taking the CPU meanwhile."""
    pauses = []
    for _ in range(runs):
        t0 = now_ns()
        gc.collect()
        pauses.append(now_ns() - t0)
    return min(pauses)


def _settled_tracked() -> int:
    """Objects the gc tracks, once two full collections have untracked what they can (a
    tuple of untracked items is untracked only after its items are)."""
    gc.collect()
    gc.collect()
    return len(gc.get_objects())


async def _live(n: int, samples: int) -> LiveCosts:
    world = runtime.World.create()
    _settled_tracked()
    gc.freeze()  # start-up objects only: no entry exists yet
    ids = [f"s{k}" for k in range(n)]
    tasks = [asyncio.create_task(world.engine.enter(world.request(e))) for e in ids]
    await world.until(world.quoting(ids))
    per_entry = _settled_tracked() / n if n else 0.0  # frozen objects are not listed
    references = _references() / n if n else 0.0
    frozen_ns = _least_full_collection_ns()
    gc.unfreeze()
    create_us = _creation_us(world, samples)
    pause_ns = _least_full_collection_ns()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    world.close()
    return LiveCosts(n, pause_ns / 1e6, create_us, frozen_ns / 1e6, round(per_entry, 1),
                     round(references))


def _references() -> int:
    """What the gc's tracked (unfrozen) objects refer to, as a collection visits them."""
    return sum(len(gc.get_referents(o)) for o in gc.get_objects())


def live_costs(n: int, samples: int = 500) -> LiveCosts:
    """Measured in this process (whatever else it holds is traversed by gc too)."""
    gc.collect()
    return asyncio.run(_live(n, samples))


def live_costs_fresh(n: int) -> LiveCosts:
    """Measured in a fresh interpreter holding nothing but the engine and its entries,
    so the bench's earlier phases neither add to the pause nor fragment the heap."""
    line = _python(
        "import json, attrs; from loguru import logger; logger.remove(); "
        "from fsm.bench import goals; "
        f"print(json.dumps(attrs.asdict(goals.live_costs({n}))))"
    )
    return LiveCosts(**json.loads(line))


_IMPORT_CPU = (
    "import time; t = time.process_time(); import fsm.cli; "
    "print(time.process_time() - t)"
)
_SIMULATE_CCXT = (
    "import contextlib, io, runpy, sys\n"
    "sys.argv = ['fsm.cli', 'simulate', '--json']\n"
    "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
    "    runpy.run_module('fsm.cli', run_name='__main__')\n"
    "print(sum(1 for m in sys.modules if m == 'ccxt' or m.startswith('ccxt.')))\n"
)


def _python(code: str) -> str:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env, cwd=os.getcwd())
    return done.stdout.strip().splitlines()[-1]


def import_cpu_s(runs: int = 3) -> float:
    """CPU seconds of ``import fsm.cli`` in a fresh interpreter, the least of ``runs``."""
    return min(float(_python(_IMPORT_CPU)) for _ in range(runs))


def simulate_ccxt_modules() -> int:
    """How many ccxt modules ``simulate`` (the default scenario) leaves imported."""
    return int(_python(_SIMULATE_CCXT))


def economics_goals(rows: Sequence[Row]) -> list[Goal]:
    """Issue 16's goals for the planner (d) against dual taker (a) and the engine's
    maker default (c), from the economics table's rows (``economics_table.Row``).

    Each "every regime" goal is the worst regime's figure, named in the note, so a
    regime that misses is never averaged away. A figure the run could not produce (no
    entry of a strategy hedged anything) counts as infinitely bad: a goal is met only
    by a measured figure.
    """
    by = {(row.regime, row.fees, row.strategy): row.summary for row in rows}
    regimes = list(dict.fromkeys((row.regime, row.fees) for row in rows))
    if not regimes:
        return []

    def figure(regime: tuple[str, str], strategy: str, name: str) -> float:
        summary = by.get((*regime, strategy))
        value = None if summary is None else getattr(summary, name)
        return math.inf if value is None else float(value)

    def worst(name: str, minus: str, than: str, scale: float = 1.0) -> tuple[float, str]:
        gaps = {regime: (figure(regime, minus, name) - figure(regime, than, name)) * scale
                for regime in regimes}
        regime = max(gaps, key=lambda r: gaps[r])
        return round(gaps[regime], 2), f"worst: {regime[0]} {regime[1]}"

    out = []
    normal = ("normal/deep", "binanceusdm+hyperliquid")
    if normal in regimes:
        d, a = (figure(normal, s, "cost_p50_bps") for s in ("engine_planner", "dual_taker"))
        ratio = d / a if math.isfinite(d) and a > 0 else math.inf
        out.append(Goal("(d) / (a) median cost, normal/deep", round(ratio, 3), 0.7, "x",
                        f"{d:.2f} bp against {a:.2f} bp"))
    gap, note = worst("cost_p50_bps", "engine_planner", "dual_taker")
    out.append(Goal("(d) - (a) median cost, every regime", gap, 0, "bp", note))
    gap, note = worst("unhedged_p99", "engine_planner", "engine_maker")
    out.append(Goal("(d) - (c) p99 unhedged, every regime", gap, 0, "notional-s", note))
    gap, note = worst("fill_rate", "engine_maker", "engine_planner", scale=100)
    out.append(Goal("(c) - (d) fill rate, every regime", gap, 0, "pp", note))
    return out
