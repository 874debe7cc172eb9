"""The ``atomic-entry`` command line: one module per command, plus the timeline."""

from fsm.cli.main import main

__all__ = ["main"]
