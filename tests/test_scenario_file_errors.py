"""Scenario files refused for their shape: not TOML, unknown keys, bad reactions and
outages, missing tables, unreadable files. Every message names the file, the key and
what was expected, so an operator can fix the file without reading the loader.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fsm.sim import scenario as scenarios
from fsm.sim.scenario import ScenarioError
from tests.scenariokit import (
    ALPHA_BIDS,
    ALPHA_HEAD,
    ALPHA_MARKET_HEAD,
    BASE,
    BASE_NAME,
    CONFIG,
    FILL,
    LONG_LEG,
    cut,
    load_error,
    mutate,
    outage,
    reaction,
)

# --------------------------------------------------------------------------- rejected files


def test_not_toml(write: Callable[..., Path]) -> None:
    path = write("this is not toml\n")
    message = load_error(path)
    assert message.startswith("not valid TOML: ")
    assert "line 1" in message


def test_truncated_toml(write: Callable[..., Path]) -> None:
    path = write(BASE[: BASE.index(ALPHA_BIDS) + 20])
    assert load_error(path).startswith("not valid TOML: ")


@pytest.mark.parametrize(
    ("old", "new", "where", "unknown", "a_known_key"),
    [
        pytest.param(
            f'name = "{BASE_NAME}"\n',
            f'name = "{BASE_NAME}"\ncolour = "red"\n',
            "the top level",
            "colour",
            "venues",
            id="top-level",
        ),
        pytest.param(
            ALPHA_HEAD,
            ALPHA_HEAD + "latncy_ms = 3\n",
            "venues.alpha",
            "latncy_ms",
            "latency_ms",
            id="venue",
        ),
        pytest.param(
            ALPHA_MARKET_HEAD,
            ALPHA_MARKET_HEAD + 'lott = "1"\n',
            "venues.alpha.market",
            "lott",
            "lot",
            id="market",
        ),
        pytest.param(
            FILL,
            FILL + 'prize = "1"\n',
            "venues.alpha.fills[0]",
            "prize",
            "price",
            id="fill",
        ),
        pytest.param(
            LONG_LEG,
            LONG_LEG.replace(" }", ', side = "buy" }'),
            "request.long",
            "side",
            "qty",
            id="request-long",
        ),
        pytest.param(
            'entry_id = "sim1"\n',
            'entry_id = "sim1"\nentryid = "x"\n',
            "request",
            "entryid",
            "entry_id",
            id="request",
        ),
        pytest.param(
            'final_state = "complete"',
            'final_state = "complete"\nfinal = "complete"',
            "expect",
            "final",
            "final_state",
            id="expect",
        ),
    ],
)
def test_unknown_key_is_named(
    write: Callable[..., Path], old: str, new: str, where: str, unknown: str, a_known_key: str
) -> None:
    message = load_error(write(mutate(old, new)))
    assert message.startswith(f"{where}: unknown key(s) {unknown}; expected some of "), message
    assert a_known_key in message.split("expected some of ")[1].split(", ")


@pytest.mark.parametrize(
    ("on", "action", "expected"),
    [
        pytest.param(
            "cancel",
            "explode",
            "venues.beta.reactions[0].action: expected one of 'fill_then_cancel', "
            "'fill_then_not_found', 'reject', 'timeout', 'partial', 'unavailable'; got 'explode'",
            id="bad-action",
        ),
        pytest.param(
            "modify",
            "reject",
            "venues.beta.reactions[0].on: expected one of 'place', 'cancel', 'query', 'amend'; "
            "got 'modify'",
            id="bad-on",
        ),
    ],
)
def test_bad_reaction(write: Callable[..., Path], on: str, action: str, expected: str) -> None:
    assert load_error(write(reaction(on, action))) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("from_ms = 300\nuntil_ms = 300\n",
                     "venues.beta.outages[0].until_ms: expected a time after from_ms (300 ms); "
                     "leave it out for an outage that never ends; got 300", id="empty-window"),
        pytest.param("from_ms = -1\n",
                     "venues.beta.outages[0].from_ms: expected a non-negative number of "
                     "milliseconds of at most 86,400,000 (one day); got -1", id="negative-start"),
        pytest.param("from_ms = 1\nuntill_ms = 5\n",
                     "venues.beta.outages[0]: unknown key(s) untill_ms; expected some of "
                     "from_ms, until_ms", id="typo"),
        pytest.param('from_ms = "1"\n',
                     "venues.beta.outages[0].from_ms: expected a non-negative number of "
                     "milliseconds of at most 86,400,000 (one day); got '1'", id="string"),
    ],
)
def test_bad_outage(write: Callable[..., Path], body: str, expected: str) -> None:
    assert load_error(write(outage(body))) == expected


def test_unknown_config_key_names_config_and_the_field(write: Callable[..., Path]) -> None:
    message = load_error(write(mutate(CONFIG, "[config]\nquote_timout_s = 5\n")))
    assert message.startswith(
        "config: EntryConfig: unknown field(s) quote_timout_s; expected some of "
    ), message
    assert "quote_timeout_s" in message


def test_fewer_than_two_venues(write: Callable[..., Path]) -> None:
    message = load_error(write(cut("[venues.beta]", "[config]")))
    assert message == "venues: expected at least two venue tables; got ['alpha']"


def test_missing_request(write: Callable[..., Path]) -> None:
    message = load_error(write(cut("[request]", "[expect]")))
    assert message == "request: expected a table; it is missing"


def test_missing_leg_symbol(write: Callable[..., Path]) -> None:
    message = load_error(
        write(mutate(LONG_LEG, LONG_LEG.replace('symbol = "BTC/USDT:USDT", ', "")))
    )
    assert message == "request.long.symbol: expected a value; it is missing"


def test_non_utf8_file_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(BASE.replace("The long", "\xc9 long").encode("latin-1"))
    with pytest.raises(ScenarioError, match=r"latin1\.toml"):
        scenarios.load(path)


def test_unreadable_path_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenarios.load(tmp_path)  # a directory
    assert str(caught.value) == f"{tmp_path}: not a regular file; expected a scenario TOML file"
