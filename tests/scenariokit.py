"""Scenario-file text for the loader's tests: the shipped base file and small edits of it.

Each bad-file test is one edit of a real shipped scenario, so the rest of the file is
known good and the message can only be about the edit; ``mutate`` refuses an edit whose
target text has gone, which would otherwise leave a test checking nothing.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from fsm.sim import scenario as scenarios
from fsm.sim.scenario import ScenarioError

BASE_NAME = "one_leg_fills_first"
BASE = (resources.files("fsm.sim").joinpath("scenarios", f"{BASE_NAME}.toml")
        .read_text(encoding="utf-8"))

ALPHA_HEAD = "[venues.alpha]\nlatency_ms = 25\n"
ALPHA_MARKET_HEAD = '[venues.alpha.market]\nsymbol = "BTC/USDT:USDT"\n'
ALPHA_BIDS = 'bids = [["60000.0", "2.0"], ["59999.0", "5.0"], ["59990.0", "20.0"]]'
ALPHA_ASKS = 'asks = [["60000.5", "2.0"], ["60001.5", "5.0"], ["60010.0", "20.0"]]'
FILL = 'purpose = "quote"\n'
LONG_LEG = 'long = { venue = "alpha", symbol = "BTC/USDT:USDT", qty = "0.5" }'
SHORT_LEG = 'short = { venue = "beta", symbol = "BTC/USDT:USDT", qty = "0.5" }'
CONFIG = "[config]\nquote_timeout_s = 5\n"


def mutate(old: str, new: str, text: str = BASE, *, count: int = 1) -> str:
    """Replace ``old`` (which must be there, or the test would check nothing) by ``new``."""
    assert old in text, f"the base scenario no longer contains {old!r}"
    return text.replace(old, new, count)


def cut(start: str, end: str, text: str = BASE) -> str:
    """Remove everything from ``start`` up to (not including) ``end``."""
    i, j = text.index(start), text.index(end)
    assert i < j
    return text[:i] + text[j:]


def in_beta(old: str, new: str) -> str:
    """Replace ``old`` in the beta venue's tables only."""
    head, beta = BASE.split("[venues.beta]")
    return head + "[venues.beta]" + mutate(old, new, beta)


def reaction(on: str, action: str) -> str:
    return mutate(
        "\n" + CONFIG,
        f'\n[[venues.beta.reactions]]\non = "{on}"\naction = "{action}"\n\n{CONFIG}',
    )


def outage(body: str) -> str:
    return mutate("\n" + CONFIG, f"\n[[venues.beta.outages]]\n{body}\n{CONFIG}")


def load_error(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        scenarios.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert path.name in message
    return message[len(f"{path}: ") :]
