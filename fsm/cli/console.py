"""What a command prints when it cannot finish normally: a reader that went away, or an
error nobody expected.

Both used to end in a bare Python traceback and exit 1, the code the README keeps for
a broken safety invariant. A closed pipe (``simulate --json | head``) is not an error
of the run: the run's own code stands and nothing more is printed. An unexpected
exception is reported on one line, its traceback written to a log file named in that
line, and the command exits ``Exit.INTERNAL`` (70), so a script can tell a bug of this
program from an outcome of a trade.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from typing import TextIO

from fsm.cli.exits import Exit

__all__ = ["emit", "report_unexpected"]


def emit(text: str, out: TextIO | None = None) -> bool:
    """Print ``text``; False when the reader has gone (a closed pipe), which is not an
    error: stdout is pointed at /dev/null so that Python's own flush at exit stays quiet."""
    out = sys.stdout if out is None else out
    try:
        print(text, file=out, flush=True)
    except BrokenPipeError:
        if out is sys.stdout:
            with contextlib.suppress(OSError, ValueError):  # a stdout without a descriptor
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
        return False
    return True


def report_unexpected(exc: BaseException, command: str,
                      clean: Callable[[str], str] = lambda text: text) -> Exit:
    """One line on stderr naming the error and the log holding its traceback; ``clean``
    (``enter``'s secret scrubber) is applied to both, so no key reaches either."""
    text = clean("".join(traceback.format_exception(exc)))
    where = "not written"
    try:
        handle, name = tempfile.mkstemp(prefix=f"atomic-entry-{command}-", suffix=".log")
        with os.fdopen(handle, "w", encoding="utf-8") as log:
            log.write(text)
        where = name
    except OSError as failed:
        where = f"not written ({failed.strerror})"
    summary = clean(f"{type(exc).__name__}: {exc}").splitlines()[0] if str(exc) else \
        type(exc).__name__
    print(f"atomic-entry: unexpected error in {command}: {summary} (a bug: please report it; "
          f"traceback: {where})", file=sys.stderr)
    return Exit.INTERNAL
