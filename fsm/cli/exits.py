"""The exit codes of every ``atomic-entry`` command, defined once.

Scripts and CI branch on these numbers, so they are a contract: a command returns one
of these members and nothing else, and a new meaning gets a new member rather than a
reused number.
"""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0  # the run was safe (or there was nothing to do)
    UNSAFE = 1  # a safety invariant broke, an entry ended unclean, or a check failed
    BAD_INPUT = 2  # a scenario file, an argument or a journal was wrong: nothing ran
    KILLED = 3  # simulate --crash-at: the engine was stopped dead, as asked
