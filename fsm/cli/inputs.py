"""Argument types of the command line: each flag refused at parse time, before anything runs.

A flag read as ``type=`` here is checked by argparse while the command line is parsed,
so a bad value ends in ``atomic-entry <command>: error: argument --flag: ...`` and exit
2 before any market data is read, any order sent or any long run started (a bad
``--diagram`` path used to fail only after the run it was to draw). The bounds are
``venues.checks``'s, the same a scenario file or a config meets.

Paths a command writes are refused when their directory is missing: a typo in a path
would otherwise create a tree of directories up to the filesystem root, silently. The
file itself (or, for ``--out``, the one directory named) may be new.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from venues import checks

__all__ = ["directory_to_write", "file_to_write", "leverage", "port", "seconds"]


def _refuse(text: str, expected: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(f"got {text!r}; expected {expected}")


def seconds(lo_open: bool = False) -> Callable[[str], float]:
    """A finite duration in seconds within ``venues.checks.duration`` (``lo_open``: above 0)."""
    bound = checks.duration()
    expected = str(bound.expected).replace("a non-negative", "a positive") if lo_open \
        else str(bound.expected)

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise _refuse(text, expected) from None
        if bound.problem(value) is not None or (lo_open and value == 0):
            raise _refuse(text, expected)
        return value

    return parse


def _parent_exists(path: Path, text: str, what: str) -> None:
    parent = path.parent
    if not parent.is_dir():
        raise _refuse(text, f"{what} in an existing directory ({parent} does not exist; "
                      "create it first)")


def file_to_write(*suffixes: str) -> Callable[[str], Path]:
    """A file to create or overwrite, in an existing directory; ``suffixes`` (with the
    dot) limit its kind, and no suffix at all is allowed when ``""`` is one of them."""
    kinds = ", ".join(s or "none" for s in suffixes)

    def parse(text: str) -> Path:
        path = Path(text)
        if not text or path.is_dir():
            raise _refuse(text, "a file name, not a directory")
        if suffixes and path.suffix.lower() not in suffixes:
            raise _refuse(text, f"a file ending in one of {kinds}")
        _parent_exists(path, text, "a file")
        if path.exists() and not path.is_file():
            raise _refuse(text, "a regular file (or a new one)")
        return path

    return parse


def directory_to_write(text: str) -> Path:
    """A directory to write files into: existing, or new in an existing directory."""
    path = Path(text)
    if not text:
        raise _refuse(text, "a directory")
    if path.exists() and not path.is_dir():
        raise _refuse(text, "a directory (this is a file)")
    if not path.exists():
        _parent_exists(path, text, "a directory")
    return path


def port(text: str) -> int:
    """A TCP port to listen on: 1-65535, or 0 for any free one (the command says which)."""
    try:
        value = int(text)
    except ValueError:
        raise _refuse(text, "a port number from 0 (any free port) to 65535") from None
    if not 0 <= value <= 65535:
        raise _refuse(text, "a port number from 0 (any free port) to 65535")
    return value


def leverage(text: str) -> int:
    """A leverage to set on an exchange account: a whole number from 1 to 125 (binance's
    highest; ccxt's ``set_leverage`` takes a whole number)."""
    try:
        value = int(text)
    except ValueError:
        raise _refuse(text, "a whole number from 1 to 125") from None
    if not 1 <= value <= 125:
        raise _refuse(text, "a whole number from 1 to 125")
    return value
