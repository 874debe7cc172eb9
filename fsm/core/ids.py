"""Deterministic client order ids, one per intent.

An id is a pure function of (entry, leg, purpose, attempt), so re-sending the same
intent after an ambiguous outcome reuses the id and the venue's duplicate check
protects us from a double order. Ids are ASCII letters and digits only and at most
28 characters, which fits binance (36), bybit (36) and okx (32); venues with another
format (hyperliquid's 128-bit hex) map it deterministically in their adapter.
"""

from __future__ import annotations

import re

from venues.market import (
    Leg,
    Purpose,
)

# Matched whole (``fullmatch``): with ``match``, ``$`` also matches before a final newline,
# and "sim1\n" would become a client order id that no cancel or query can name again.
ENTRY_ID_PATTERN = re.compile(r"[A-Za-z0-9]{1,16}")
ENTRY_ID_EXPECTED = "1 to 16 ASCII letters or digits"
MAX_ATTEMPT = 9999
PREFIX = "ae"

_LEG = {Leg.LONG: "L", Leg.SHORT: "S"}
_PURPOSE = {Purpose.QUOTE: "q", Purpose.HEDGE: "h", Purpose.TRIM: "t", Purpose.ROLLBACK: "r"}


class InvalidEntryId(ValueError):
    pass


def valid_entry_id(entry_id: object) -> bool:
    return isinstance(entry_id, str) and ENTRY_ID_PATTERN.fullmatch(entry_id) is not None


def check_entry_id(entry_id: str) -> str:
    if not valid_entry_id(entry_id):
        raise InvalidEntryId(f"entry_id {entry_id!r}: expected {ENTRY_ID_EXPECTED}")
    return entry_id


def client_order_id(entry_id: str, leg: Leg, purpose: Purpose, attempt: int) -> str:
    """``ae<entry><L|S><q|h|t|r><attempt>``, for example ``aesim1Lq1``."""
    # ``check_entry_id`` only when the pattern alone does not pass the id: a hedge's
    # placement asks here, and two Python calls cost more than the match.
    if type(entry_id) is not str or ENTRY_ID_PATTERN.fullmatch(entry_id) is None:
        check_entry_id(entry_id)
    if not 1 <= attempt <= MAX_ATTEMPT:
        raise ValueError(f"attempt {attempt}: expected 1 to {MAX_ATTEMPT}")
    return f"{PREFIX}{entry_id}{_LEG[leg]}{_PURPOSE[purpose]}{attempt}"
