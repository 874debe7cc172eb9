"""What a metrics sink adds to the reaction path (issue 17): fill -> cancel with and
without the Prometheus sink, in the same run.

The two are measured in alternating rounds (none, sink, sink, none, ...) rather than
one after the other, so a neighbour's burst of load on a shared machine lands on both
sides instead of on one. Each round is ``fsm.bench.runtime.overhead``: entries one at a
time on zero-latency venues, the same instrumented engine, only the sink differs.
"""

from __future__ import annotations

import attrs

from fsm.bench import runtime
from fsm.bench.runtime import PathTiming

NONE, PROMETHEUS = "no sink", "prometheus sink"


@attrs.frozen
class MetricsCost:
    """Per sink, the fill -> cancel and confirm -> hedge reactions of every round."""

    fill_cancel: dict[str, list[PathTiming]]
    confirm_hedge: dict[str, list[PathTiming]]


def measure(entries: int, rounds: int = 4) -> MetricsCost | None:
    """``entries`` per side in ``rounds`` alternating rounds; None without prometheus_client."""
    try:
        from fsm.shell.metrics_prom import PromMetrics
    except ImportError:
        return None
    first: dict[str, list[PathTiming]] = {NONE: [], PROMETHEUS: []}
    second: dict[str, list[PathTiming]] = {NONE: [], PROMETHEUS: []}
    for k in range(rounds):
        order = (NONE, PROMETHEUS) if k % 2 == 0 else (PROMETHEUS, NONE)
        for side in order:
            sink = PromMetrics() if side == PROMETHEUS else None
            fill_cancel, confirm_hedge = runtime.overhead(max(1, entries // rounds),
                                                          metrics=sink)
            first[side] += fill_cancel
            second[side] += confirm_hedge
    return MetricsCost(first, second)
