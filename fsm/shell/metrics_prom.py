"""The Prometheus metrics sink (``pip install 'atomic-entry[metrics]'``).

``PromMetrics`` implements ``fsm.shell.metrics.MetricsSink`` with ``prometheus_client``
on a registry of its own (pass ``registry=prometheus_client.REGISTRY`` to share the
process's), and can serve it over HTTP (``serve``) or write it for node-exporter's
textfile collector (``write_textfile``). This module is the only one that imports
``prometheus_client``; nothing loads it unless metrics are asked for.

Names follow Prometheus's conventions: the ``atomic_entry_`` prefix, base units
(seconds), ``_total`` on counters, histograms for durations. Book age is computed when
scraped (the engine's clock then, less the last book's arrival), so it grows while a
feed is silent instead of showing the age an event last saw.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, write_to_textfile
from prometheus_client import start_http_server as _start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from fsm.core.result import EntryResult
from fsm.shell.metrics import breaker_level, observations

PREFIX = "atomic_entry_"
LEG = ("venue", "symbol", "leg")
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
NOTIONAL_SECONDS = (1.0, 10.0, 100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0)
# From 0: a gain (negative cost) counts in every bucket, le="0.0" among them. A negative
# bound would make prometheus_client drop ``_sum`` (OpenMetrics), and with it the mean.
BPS = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)

#: Every histogram: name (without the prefix), help, labels, buckets. The README's metric
#: list is this table and the counters and gauges below.
HISTOGRAMS: dict[str, tuple[str, tuple[str, ...], tuple[float, ...]]] = {
    "time_to_first_fill_seconds": (
        "From the entry's start to its first fill, on the leg that filled", LEG, SECONDS),
    "cancel_confirmation_seconds": (
        "From the sibling quote's cancel sent to the venue confirming it, on the sibling's leg",
        LEG, SECONDS),
    "hedge_completion_seconds": (
        "From the trigger (the first fill) to the end of the last filled hedge, complete "
        "entries only, on the hedged leg",
        LEG, SECONDS),
    "unhedged_seconds": (
        "Time the entry's net position was not flat, on the leg that filled first",
        LEG, SECONDS),
    "unhedged_notional_seconds": (
        "Integral of |net position| x reference price over time (quote currency x seconds), "
        "on the leg that filled first", LEG, NOTIONAL_SECONDS),
    "cost_bps": (
        "What an entry cost in bps of its notional, by component: fees, hedge_slippage "
        "(hedge VWAP against the arrival far touch), basis_vs_arrival (basis taking both "
        "legs at arrival less the basis achieved; negative: better)",
        ("symbol", "component"), BPS),
}


class _BookAge(Collector):
    """``atomic_entry_book_age_seconds``: per (venue, symbol), the engine clock at scrape
    time less the last book's arrival. Read from the scraping thread: a float per key."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, str], float] = {}
        self.clock: Callable[[], float] | None = None

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            PREFIX + "book_age_seconds",
            "Seconds since the last book of (venue, symbol) reached the engine",
            labels=("venue", "symbol"))
        clock = self.clock
        if clock is not None:
            now = clock()
            for (venue, symbol), at in list(self.arrived.items()):
                family.add_metric((venue, symbol), max(0.0, now - at))
        yield family

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(PREFIX + "book_age_seconds", "", labels=("venue", "symbol"))


class PromMetrics:
    """A ``MetricsSink`` backed by ``prometheus_client``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.histograms = {
            name: Histogram(PREFIX + name, text, labels, buckets=buckets, registry=r)
            for name, (text, labels, buckets) in HISTOGRAMS.items()
        }
        self.entries = Counter(PREFIX + "entries_total", "Entries ended, by final state",
                               ("final_state",), registry=r)
        self.alerts = Counter(PREFIX + "alerts_total", "Alerts raised by entries",
                              registry=r)
        self.failures = Counter(
            PREFIX + "request_failures_total",
            "Requests not done, by venue, kind (place, cancel, amend, query) and outcome "
            "(refused, unknown, unavailable, fatal)", ("venue", "kind", "outcome"), registry=r)
        self.live = Gauge(PREFIX + "live_entries", "Entries running now", registry=r)
        self.breaker = Gauge(PREFIX + "breaker_state",
                             "Circuit breaker per venue (venue=\"global\": all venues): "
                             "0 active, 1 conservative, 2 halted", ("venue",), registry=r)
        self.book_age = _BookAge()
        r.register(self.book_age)

    # ------------------------------------------------------------------ the sink
    def entry_started(self) -> None:
        self.live.inc()

    def entry_retired(self) -> None:
        self.live.dec()

    def entry_ended(self, result: EntryResult) -> None:
        self.entries.labels(result.final_state).inc()
        for seen in observations(result):
            self.histograms[seen.metric].labels(*(v for _, v in seen.labels)).observe(seen.value)

    def alert(self) -> None:
        self.alerts.inc()

    def request_failed(self, venue: str, kind: str, outcome: str) -> None:
        self.failures.labels(venue, kind, outcome).inc()

    def book_arrived(self, venue: str, symbol: str, at: float) -> None:
        self.book_age.arrived[(venue, symbol)] = at
        self.book_age.clock = asyncio.get_running_loop().time

    def set_breaker_state(self, venue: str, state: object) -> None:
        """The hook a circuit breaker calls on every change (``BREAKER_LEVELS``)."""
        self.breaker.labels(venue).set(breaker_level(state))

    # --------------------------------------------------------------- exposition
    def serve(self, port: int, host: str = "127.0.0.1") -> WSGIServer:
        """Serve ``/metrics`` on ``host:port`` (0: any free port, read ``server_port``)
        from a daemon thread; ``shutdown()`` the server returned to stop it."""
        server, _thread = _start_http_server(port, addr=host, registry=self.registry)
        return server

    def write_textfile(self, path: str) -> None:
        """Write the registry for node-exporter's textfile collector (atomically)."""
        write_to_textfile(path, self.registry)
