"""Where a full ``gc.collect()`` with many live entries spends its time, part by part.

``python -m fsm.bench.gc_parts [N]`` prints, for N (default 10,000) of each part of a
live entry held alone in this process, the least of five full collections; then, for
the bench's whole world (engine, simulated venues, N quoting entries and their callers),
the objects and references each entry adds, by type. A full collection visits every
reference of every tracked object, so references, not objects, are what to cut; the
bench's goal line (``fsm.bench.goals``) times the whole world only.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import sys
import time

from loguru import logger

from fsm.bench import core_handle, runtime


def _least_pause_ms(runs: int = 5) -> float:
    gc.collect()
    gc.collect()
    pauses = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        gc.collect()
        pauses.append(time.perf_counter_ns() - t0)
    return min(pauses) / 1e6


async def _tasks(n: int, per_entry: int) -> float:
    """``per_entry`` tasks per entry, each two coroutine frames deep, awaiting a future."""
    loop = asyncio.get_running_loop()

    async def wait(future: asyncio.Future[None]) -> None:
        await future

    async def outer(future: asyncio.Future[None]) -> None:
        await wait(future)

    tasks = [loop.create_task(outer(loop.create_future())) for _ in range(n * per_entry)]
    await asyncio.sleep(0)
    pause = _least_pause_ms()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return pause


async def _world(n: int) -> tuple[float, list[tuple[str, float, float]]]:
    world = runtime.World.create()
    gc.collect()
    gc.collect()
    gc.freeze()
    ids = [f"s{k}" for k in range(n)]
    tasks = [asyncio.create_task(world.engine.enter(world.request(e))) for e in ids]
    await world.until(world.quoting(ids))
    gc.collect()
    gc.collect()
    objects: collections.Counter[str] = collections.Counter()
    references: collections.Counter[str] = collections.Counter()
    for obj in gc.get_objects():
        name = type(obj).__qualname__
        objects[name] += 1
        references[name] += len(gc.get_referents(obj))
    pause = _least_pause_ms()
    gc.unfreeze()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    world.close()
    rows = [(name, objects[name] / n, references[name] / n)
            for name, _ in references.most_common()]
    return pause, rows


def main(n: int) -> None:
    gc.collect()
    gc.freeze()  # start-up objects: each figure below is the part alone
    print(f"full gc.collect(), least of 5, with {n:,} of each part alone, ms")
    print(f"  nothing                                  {_least_pause_ms():8.1f}")
    models = [core_handle.quoting(k)[0] for k in range(n)]
    print(f"  quoting entry models                     {_least_pause_ms():8.1f}")
    del models
    for per_entry in (1, 2):
        pause = asyncio.run(_tasks(n, per_entry))
        print(f"  {per_entry} task(s) per entry, 2 frames each     {pause:8.1f}")
    gc.unfreeze()
    pause, rows = asyncio.run(_world(n))
    print(f"  the bench's world, {n:,} quoting entries  {pause:8.1f}  (start-up frozen)")
    total_objects = sum(objects for _, objects, _ in rows)
    total_refs = sum(refs for _, _, refs in rows)
    print(f"\nper quoting entry: {total_objects:.1f} tracked objects, {total_refs:.0f} "
          "references they hold")
    print(f"{'type':28s} {'objects':>8s} {'references':>11s}")
    for name, objects, refs in rows[:16]:
        print(f"{name:28s} {objects:8.2f} {refs:11.1f}")


if __name__ == "__main__":
    logger.remove()  # the entries' start lines are not what this prints
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
