"""What a live entry costs every full garbage collection, counted rather than timed.

A full ``gc.collect()`` traverses every tracked object of the process, so its pause with
thousands of live entries grows with the objects each entry keeps tracked (issue 12:
<= 100 ms at 10,000 live entries). The pause itself moves with the machine's load and is
``atomic-entry bench --check``'s business; the count does not move, so it is guarded
here. It was 77 objects per entry before the gc work (lists, dicts and records of the
engine, the simulated venues' journal and orders), 33 after. Two later changes bought
safety and speed with objects, knowingly: each entry runs in a task of the engine's own
so that it outlives a cancelled caller (``fsm.shell.callers``: the task, its context,
the future its caller awaits and their callbacks, about 20 -> 10 once the callbacks ran
in one shared context), and the ledger keeps indexes the guards read instead of
scanning (3). About 60 per entry then; 47 once an entry's task and its caller shared
one done-callback and one future (``EntryTasks`` keeps the future beside the task, no
partials, no callback list), the actor became its own inbox with slots, and the engine's
frames stopped holding the start positions and venues by leg (dicts) and closure cells.
Processing events as they are posted (no actor loop) traded the inbox's waiting future
for the ``ended`` future the engine's task awaits: 47 to 48.
"""

from __future__ import annotations

from fsm.bench import goals

BUDGET = 49  # tracked objects per quoting entry, simulated venues' share included


def test_a_quoting_entry_keeps_few_objects_tracked_by_the_gc() -> None:
    goals.live_costs(1, samples=1)  # compiles and caches what every entry shares
    costs = goals.live_costs(300, samples=1)
    assert 0 < costs.tracked_per_entry <= BUDGET, (
        f"{costs.tracked_per_entry} gc-tracked objects per live entry, budget {BUDGET}: "
        "count them by type (gc.get_objects() before and after) to find the new ones"
    )
