"""The exit codes of every ``atomic-entry`` command, defined once, and how an entry's
final state maps to one.

Scripts and CI branch on these numbers, so they are a contract: a command returns one
of these members and nothing else, and a new meaning gets a new member rather than a
reused number. ``simulate``, ``enter`` and ``recover`` all map an entry's final state
through ``FINAL_STATE_EXITS``, so the same ending gives the same code whichever command
ran it; a new final state is one line there (a test fails until it has one).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from fsm.core.tables.entry import EntryState


class Exit(IntEnum):
    OK = 0  # complete, withdrawn or rolled back: nothing left open (or nothing to do)
    UNSAFE = 1  # a safety invariant broke (the violations are printed), or a check failed
    BAD_INPUT = 2  # a scenario file, an argument or a journal was wrong: nothing was sent
    KILLED = 3  # the engine was stopped dead (simulate --crash-at), the entry unfinished
    UNFINISHED = 4  # an entry ended stuck or unbalanced, or left an order open
    HALTED = 5  # a circuit breaker of the entry's venues is halted: refused, nothing sent
    ACCOUNT = 6  # the account pre-flight refused a leg's account set-up: nothing sent
    INTERNAL = 70  # an unexpected error (EX_SOFTWARE): one line printed, traceback logged


# Every final state of the entry table, and the code a command exits with when an entry
# ends there. ``tests/test_exit_codes.py`` checks that no final state is missing.
FINAL_STATE_EXITS: dict[EntryState, Exit] = {
    EntryState.COMPLETE: Exit.OK,
    EntryState.WITHDRAWN: Exit.OK,
    EntryState.ROLLED_BACK: Exit.OK,
    EntryState.STUCK: Exit.UNFINISHED,
    EntryState.UNBALANCED: Exit.UNFINISHED,  # every order ended; net beyond one lot
}

# When several entries end differently (``recover``), the command exits with the most
# serious of their codes: a broken invariant first, then exposure left open.
_SEVERITY = (Exit.UNSAFE, Exit.UNFINISHED, Exit.KILLED, Exit.INTERNAL, Exit.BAD_INPUT,
             Exit.HALTED, Exit.ACCOUNT, Exit.OK)


def for_final_state(state: str) -> Exit:
    """The code of an entry that ended in ``state`` (an unknown state is never OK)."""
    try:
        return FINAL_STATE_EXITS.get(EntryState(state), Exit.UNFINISHED)
    except ValueError:  # not a state of the entry table at all
        return Exit.UNFINISHED


def worst(codes: Iterable[Exit]) -> Exit:
    """The most serious of ``codes`` (OK when there are none)."""
    found = set(codes)
    return next((code for code in _SEVERITY if code in found), Exit.OK)
