"""The metrics flags of ``simulate`` and ``enter``: serve ``/metrics`` or write a textfile.

``--metrics-port N`` serves the run's metrics on ``--metrics-host`` (loopback unless
told otherwise: the page names venues and symbols) from before the first request until
the command is interrupted: a process that exited could not be scraped, so after the
run the command keeps serving until Ctrl-C or SIGTERM, and then exits with the run's
code. ``--metrics-textfile F.prom`` writes them once the run has ended, for
node-exporter's textfile collector (the one-shot way). ``prometheus_client`` is loaded
here only when one of them is given; without it, or with a port that cannot be bound,
the command exits 2 before anything is sent.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from fsm.cli import inputs

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from fsm.shell.metrics_prom import PromMetrics

LOOPBACK = "127.0.0.1"


class MetricsInputError(ValueError):
    """The metrics asked for cannot be given (no prometheus_client, a port in use)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("metrics (pip install 'atomic-entry[metrics]')")
    group.add_argument("--metrics-port", type=inputs.port, metavar="N",
                       help="serve Prometheus metrics on http://HOST:N/metrics (0: any free "
                       "port, printed on stderr) until interrupted, after the run too")
    group.add_argument("--metrics-host", metavar="HOST",
                       help=f"with --metrics-port: the address to listen on (default {LOOPBACK})")
    group.add_argument("--metrics-textfile", metavar="FILE.prom",
                       type=inputs.file_to_write(".prom"),
                       help="write the metrics to FILE.prom when the run ends, for "
                       "node-exporter's textfile collector")


@attrs.define
class MetricsOutput:
    """What the flags asked for, started: the sink to give the engine, and its server."""

    sink: PromMetrics | None = None
    server: WSGIServer | None = None
    url: str = ""
    textfile: Path | None = None

    def finish(self, say: Callable[[str], None] = lambda text: print(text, file=sys.stderr)
               ) -> None:
        """The run ended: write the textfile, then serve until interrupted."""
        if self.sink is not None and self.textfile is not None:
            self.sink.write_textfile(str(self.textfile))
        if self.server is None:
            return
        say(f"metrics: serving {self.url} until interrupted (Ctrl-C)")
        try:
            _wait_for_signal()
        finally:
            self._stop_serving()

    def abandon(self) -> None:
        """The run ended without a result (refused, failed): still write the textfile, so
        node-exporter reads what this run counted (a breaker's refusal, a venue's failed
        requests) rather than the last run's file, and stop serving without waiting."""
        if self.sink is not None and self.textfile is not None:
            self.sink.write_textfile(str(self.textfile))
        if self.server is not None:
            self._stop_serving()

    def _stop_serving(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


def start(args: argparse.Namespace) -> MetricsOutput:
    """Build the sink and start serving, as the flags ask; nothing when none is given."""
    port, host = args.metrics_port, args.metrics_host
    if host is not None and port is None:
        raise MetricsInputError("--metrics-host needs --metrics-port N")
    if port is None and args.metrics_textfile is None:
        return MetricsOutput()
    try:
        from fsm.shell.metrics_prom import PromMetrics
    except ImportError:
        raise MetricsInputError(
            "metrics need prometheus_client: pip install 'atomic-entry[metrics]'") from None
    sink = PromMetrics()
    out = MetricsOutput(sink, textfile=args.metrics_textfile)
    if port is not None:
        host = host or LOOPBACK
        try:
            out.server = sink.serve(port, host)
        except OSError as exc:  # in use, not ours to bind, or no such address
            raise MetricsInputError(f"--metrics-host {host} --metrics-port {port}: cannot "
                                    f"listen there ({exc.strerror or exc}); expected a free "
                                    "port on an address of this machine") from None
        bound = out.server.server_port
        shown = f"[{host}]" if ":" in host else host
        out.url = f"http://{shown}:{bound}/metrics"
        print(f"metrics: {out.url}", file=sys.stderr, flush=True)
    return out


def _wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM; the handlers before are put back."""
    stop = threading.Event()

    def handler(_signum: int, _frame: Any) -> None:
        stop.set()

    before = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, previous in before.items():
            signal.signal(sig, previous)
