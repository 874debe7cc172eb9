"""Scenario files: strict loading with messages naming file, key and expectation; the CLI on top."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

import pytest
from loguru import logger

from fsm.cli.main import main
from fsm.core.config import EntryConfig, HedgeOrder
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


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    def write_file(text: str, name: str = "bad_scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write_file


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """``main`` reconfigures loguru globally; put back the library defaults afterwards."""
    yield
    logger.remove()
    logger.add(sys.stderr)
    logger.disable("fsm")
    logger.disable("venues")


def load_error(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        scenarios.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert path.name in message
    return message[len(f"{path}: ") :]


# --------------------------------------------------------------------------- the base file


def test_base_text_is_the_shipped_file_and_loads(write: Callable[..., Path]) -> None:
    path = write(BASE, "copy.toml")
    loaded = scenarios.load(path)
    assert loaded.name == BASE_NAME  # the file's own name wins over the file stem
    assert loaded.source == str(path)
    assert [v.name for v in loaded.venues] == ["alpha", "beta"]
    assert loaded.config == EntryConfig(quote_timeout_s=5)
    assert loaded.expect_final_state == "complete"


def test_name_defaults_to_the_file_stem(write: Callable[..., Path]) -> None:
    path = write(cut('name = "', "[venues.alpha]"), "my_race.toml")
    loaded = scenarios.load(path)
    assert loaded.name == "my_race"
    assert loaded.description == ""


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
    ("old", "new", "expected"),
    [
        pytest.param(
            'lot = "0.001"',
            "lot = 0.001",
            "venues.alpha.market.lot: expected a decimal written as a string (for example "
            '"0.001"); got 0.001',
            id="float-lot",
        ),
        pytest.param(
            LONG_LEG,
            LONG_LEG.replace('qty = "0.5"', "qty = 0.5"),
            'request.long.qty: expected a decimal written as a string (for example "0.5"); got 0.5',
            id="float-request-qty",
        ),
        pytest.param(
            'lot = "0.001"',
            'lot = "-0.001"',
            "venues.alpha.market.lot: expected a number greater than 0; got '-0.001'",
            id="negative-lot",
        ),
        pytest.param(
            'lot = "0.001"',
            'lot = "0"',
            "venues.alpha.market.lot: expected a number greater than 0; got '0'",
            id="zero-lot",
        ),
        pytest.param(
            'tick = "0.5"',
            'tick = "abc"',
            "venues.alpha.market.tick: expected a decimal number written as a string; got 'abc'",
            id="non-numeric-tick",
        ),
        pytest.param(
            'tick = "0.5"',
            'tick = "NaN"',
            "venues.alpha.market.tick: expected a decimal number written as a string; got 'NaN'",
            id="nan-tick",
        ),
        pytest.param(
            'min_qty = "0.001"',
            'min_qty = "-0.001"',
            "venues.alpha.market.min_qty: expected a number of at least 0; got '-0.001'",
            id="negative-min-qty",
        ),
        pytest.param(
            ALPHA_HEAD,
            "[venues.alpha]\nlatency_ms = -5\n",
            "venues.alpha.latency_ms: expected a non-negative number of milliseconds; got -5",
            id="negative-latency",
        ),
        pytest.param(
            ALPHA_HEAD,
            '[venues.alpha]\nlatency_ms = "25"\n',
            "venues.alpha.latency_ms: expected a non-negative number of milliseconds; got '25'",
            id="string-latency",
        ),
        pytest.param(
            ALPHA_HEAD,
            ALPHA_HEAD + 'duplicate_fills = "yes"\n',
            "venues.alpha.duplicate_fills: expected true or false; got 'yes'",
            id="bool-as-string",
        ),
        pytest.param(
            ALPHA_MARKET_HEAD,
            ALPHA_MARKET_HEAD + "supports_amend = 1\n",
            "venues.alpha.market.supports_amend: expected true or false; got 1",
            id="bool-as-int",
        ),
        pytest.param(
            FILL,
            'purpose = "maker"\n',
            "venues.alpha.fills[0].purpose: expected one of 'quote', 'hedge', 'trim', "
            "'rollback'; got 'maker'",
            id="bad-purpose",
        ),
        pytest.param(
            ALPHA_BIDS,
            'bids = [["59999.0", "2.0"], ["60000.0", "5.0"]]',
            "venues.alpha.market.bids: expected prices strictly descending (best first); "
            "got 59999.0, 60000.0",
            id="bids-ascending",
        ),
        pytest.param(
            ALPHA_BIDS,
            'bids = [["60000.0", "2.0"], ["60000.0", "5.0"]]',
            "venues.alpha.market.bids: expected prices strictly descending (best first); "
            "got 60000.0, 60000.0",
            id="bids-repeated-price",
        ),
        pytest.param(
            ALPHA_ASKS,
            'asks = [["60001.5", "2.0"], ["60000.5", "5.0"]]',
            "venues.alpha.market.asks: expected prices strictly ascending (best first); "
            "got 60001.5, 60000.5",
            id="asks-descending",
        ),
        pytest.param(
            ALPHA_BIDS,
            'bids = [["60001.0", "2.0"], ["59999.0", "5.0"]]',
            "venues.alpha.market: expected the best bid below the best ask; "
            "got bid 60001.0, ask 60000.5",
            id="crossed-book",
        ),
        pytest.param(
            ALPHA_BIDS,
            "bids = []",
            'venues.alpha.market.bids: expected a non-empty list of ["price", "qty"] pairs; got []',
            id="empty-bids",
        ),
        pytest.param(
            ALPHA_BIDS,
            'bids = [["60000.0"]]',
            'venues.alpha.market.bids[0]: expected a ["price", "qty"] pair; got [\'60000.0\']',
            id="bid-not-a-pair",
        ),
        pytest.param(
            ALPHA_BIDS,
            'bids = [["60000.0", "0"]]',
            "venues.alpha.market.bids[0] qty: expected a number greater than 0; got '0'",
            id="bid-zero-qty",
        ),
        pytest.param(
            LONG_LEG,
            LONG_LEG.replace('venue = "alpha"', 'venue = "gamma"'),
            "request.long.venue: expected one of alpha, beta; got 'gamma'",
            id="unknown-venue",
        ),
        pytest.param(
            SHORT_LEG,
            SHORT_LEG.replace("BTC/USDT:USDT", "ETH/USDT:USDT"),
            "request.short.symbol: expected 'BTC/USDT:USDT' (the venue's market); "
            "got 'ETH/USDT:USDT'",
            id="symbol-mismatch",
        ),
        pytest.param(
            CONFIG,
            CONFIG + 'hedge_trigger_fill_ratio = "2"\n',
            "config: EntryConfig.hedge_trigger_fill_ratio: got 2, expected a value in [0, 1]",
            id="config-out-of-range",
        ),
        pytest.param(
            CONFIG,
            CONFIG + 'hedge_order = "limit"\n',
            "config: EntryConfig.hedge_order: got 'limit', expected one of 'market', "
            "'aggressive_limit'",
            id="config-bad-choice",
        ),
        pytest.param(
            CONFIG,
            CONFIG + "hedge_trigger_fill_ratio = 0.5\n",
            "config: EntryConfig.hedge_trigger_fill_ratio: got 0.5, expected a decimal number "
            'written as a string (for example "0.5")',
            id="config-float",
        ),
        pytest.param(
            CONFIG,
            "[config]\nquote_timeout_s = 0\n",
            "config: EntryConfig.quote_timeout_s: got 0, expected seconds in (0.0, 86400.0]",
            id="config-zero-timeout",
        ),
    ],
)
def test_bad_value_names_key_and_expectation(
    write: Callable[..., Path], old: str, new: str, expected: str
) -> None:
    assert load_error(write(mutate(old, new))) == expected


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


def test_good_reaction_loads(write: Callable[..., Path]) -> None:
    loaded = scenarios.load(write(reaction("cancel", "reject")))
    beta = next(v for v in loaded.venues if v.name == "beta")
    assert [(r.on, r.action.value, r.times) for r in beta.reactions] == [("cancel", "reject", 1)]


def outage(body: str) -> str:
    return mutate("\n" + CONFIG, f"\n[[venues.beta.outages]]\n{body}\n{CONFIG}")


def test_outages_load_for_a_while_and_for_good(write: Callable[..., Path]) -> None:
    text = outage("from_ms = 100\nuntil_ms = 250\n\n[[venues.beta.outages]]\nfrom_ms = 900\n")
    beta = next(v for v in scenarios.load(write(text)).venues if v.name == "beta")
    assert [(o.from_s, o.until_s) for o in beta.outages] == [(0.1, 0.25), (0.9, None)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("from_ms = 300\nuntil_ms = 300\n",
                     "venues.beta.outages[0].until_ms: expected a time after from_ms (300 ms); "
                     "leave it out for an outage that never ends; got 300", id="empty-window"),
        pytest.param("from_ms = -1\n",
                     "venues.beta.outages[0].from_ms: expected a non-negative number of "
                     "milliseconds; got -1", id="negative-start"),
        pytest.param("from_ms = 1\nuntill_ms = 5\n",
                     "venues.beta.outages[0]: unknown key(s) untill_ms; expected some of "
                     "from_ms, until_ms", id="typo"),
        pytest.param('from_ms = "1"\n',
                     "venues.beta.outages[0].from_ms: expected a non-negative number of "
                     "milliseconds; got '1'", id="string"),
    ],
)
def test_bad_outage(write: Callable[..., Path], body: str, expected: str) -> None:
    assert load_error(write(outage(body))) == expected


def test_unavailable_reaction_loads_for_every_request(write: Callable[..., Path]) -> None:
    for on in ("place", "cancel", "query", "amend"):
        beta = next(v for v in scenarios.load(write(reaction(on, "unavailable"))).venues
                    if v.name == "beta")
        assert [(r.on, r.action.value) for r in beta.reactions] == [(on, "unavailable")]


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


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_non_finite_milliseconds_are_refused(value: str) -> None:
    text = mutate(ALPHA_HEAD, f"[venues.alpha]\nlatency_ms = {value}\n")
    with pytest.raises(ScenarioError, match=r"venues\.alpha\.latency_ms: expected a "):
        scenarios.parse(text, "bad.toml")


def test_non_utf8_file_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(BASE.replace("The long", "\xc9 long").encode("latin-1"))
    with pytest.raises(ScenarioError, match=r"latin1\.toml"):
        scenarios.load(path)


def test_unreadable_path_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenarios.load(tmp_path)  # a directory
    assert str(caught.value).startswith(f"{tmp_path}: cannot read: ")


# --------------------------------------------------------------------------- built-ins


def test_builtin_names_are_the_shipped_files() -> None:
    folder = resources.files("fsm.sim").joinpath("scenarios")
    shipped = sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))
    assert scenarios.builtin_names() == shipped
    assert BASE_NAME in shipped
    assert scenarios.DEFAULT_SCENARIO in shipped


@pytest.mark.parametrize("name", scenarios.builtin_names())
def test_every_builtin_parses_by_name_and_by_path(name: str) -> None:
    by_name = scenarios.load_builtin(name)
    assert by_name.name == name
    assert by_name.source == f"{name}.toml (built-in)"
    assert by_name.description
    assert len(by_name.venues) >= 2
    resource = resources.files("fsm.sim").joinpath("scenarios", f"{name}.toml")
    with resources.as_file(resource) as path:
        by_path = scenarios.load(path)
    assert by_path.source == str(path)
    assert by_path.name == by_name.name
    assert by_path.venues == by_name.venues
    assert by_path.config == by_name.config
    assert by_path.request == by_name.request
    assert by_path.expect_final_state == by_name.expect_final_state


def test_load_resolves_a_builtin_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert scenarios.load(BASE_NAME).source == f"{BASE_NAME}.toml (built-in)"


def test_unknown_builtin_name() -> None:
    with pytest.raises(ScenarioError) as caught:
        scenarios.load_builtin("no_such_race")
    assert str(caught.value) == "no built-in scenario 'no_such_race'; see --list"


def test_builtin_config_is_read() -> None:
    config = scenarios.load_builtin(BASE_NAME).config
    assert config.quote_timeout_s == 5
    assert config.hedge_order is HedgeOrder.MARKET


# --------------------------------------------------------------------------- the CLI


@pytest.mark.usefixtures("restore_logging")
class TestCli:
    def test_bad_file_exits_2_with_nothing_on_stdout(
        self, write: Callable[..., Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write(mutate('lot = "0.001"', "lot = 0.001"))
        assert main(["simulate", "--scenario", str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith(f"atomic-entry: {path}: venues.alpha.market.lot: ")
        assert path.name in err
        assert "expected a decimal written as a string" in err

    def test_bad_file_json_exits_2_with_nothing_on_stdout(
        self, write: Callable[..., Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write(cut("[request]", "[expect]"))
        assert main(["simulate", "--json", "--scenario", str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err == f"atomic-entry: {path}: request: expected a table; it is missing\n"

    def test_missing_file_exits_2(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        monkeypatch.chdir(tmp_path)
        assert main(["simulate", "--scenario", "missing.toml"]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith("atomic-entry: missing.toml: cannot read: ")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            pytest.param(
                mutate('qty = "0.5"', 'qty = "0.0001"', count=2),
                "long leg on alpha BTC/USDT:USDT: quantity 0.0001 rounds to 0.000 at lot 0.001, "
                "below the minimum quantity 0.001",
                id="below-min-qty",
            ),
            pytest.param(
                mutate('min_notional = "5"', 'min_notional = "100000"'),
                "long leg on alpha BTC/USDT:USDT: notional 29997.00 (0.5 at 59994.0) is below the "
                "minimum notional 100000",
                id="below-min-notional",
            ),
            pytest.param(
                mutate(
                    'qty = "0.5"',
                    'qty = "0.305"',
                    in_beta('lot = "0.001"', 'lot = "0.01"'),
                    count=2,
                ),
                "the legs round to different sizes: long 0.305 on alpha, short 0.30 on beta; "
                "ask for a quantity both lot sizes can express",
                id="legs-round-differently",
            ),
            pytest.param(
                mutate(LONG_LEG, LONG_LEG.replace(" }", ', limit_price_offset_pct = "0.2" }')),
                "long leg on alpha BTC/USDT:USDT: limit_price_offset_pct: got 0.2, expected a "
                "value in [-0.01, 0.05]",
                id="offset-out-of-range",
            ),
        ],
    )
    def test_request_refused_before_sending_exits_2(
        self,
        write: Callable[..., Path],
        capsys: pytest.CaptureFixture[str],
        text: str,
        expected: str,
    ) -> None:
        path = write(text, "request.toml")
        assert main(["simulate", "--scenario", str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err == f"atomic-entry: {expected}\n"

    def test_non_utf8_file_exits_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "latin1.toml"
        path.write_bytes(BASE.replace("The long", "\xc9 long").encode("latin-1"))
        assert main(["simulate", "--scenario", str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith(f"atomic-entry: {path}: ")

    def test_list_names_every_builtin(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["simulate", "--list"]) == 0
        lines = capsys.readouterr().out.splitlines()
        names = scenarios.builtin_names()
        assert [line.split()[0] for line in lines] == names
        description = scenarios.load_builtin(BASE_NAME).description
        assert any(line.startswith(BASE_NAME) and line.endswith(description) for line in lines)

    def test_json_prints_one_object(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["simulate", "--json"]) == 0
        out, _ = capsys.readouterr()
        result = json.loads(out)
        assert isinstance(result, dict)
        required = {
            "final_state",
            "path",
            "orders",
            "fills",
            "positions",
            "net_exposure",
            "timings",
        }
        assert required <= set(result)
        assert result["final_state"] == "complete"
        assert result["scenario"] == BASE_NAME
        assert result["violations"] == []
        assert len(result["orders"]) == 3

    def test_default_run_prints_a_timeline(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["simulate"]) == 0
        out, _err = capsys.readouterr()
        assert out.startswith(f"scenario: {BASE_NAME}: ")
        assert "first_leg_filled" in out
        assert "complete" in out
        assert "final state: complete" in out
        assert "INVARIANT BROKEN" not in out

    def test_builtin_by_name(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["simulate", "--scenario", "dust_trim"]) == 0
        assert capsys.readouterr().out.startswith("scenario: dust_trim: ")

    def test_scenario_file_runs(
        self, write: Callable[..., Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write(mutate(f'name = "{BASE_NAME}"', 'name = "copied"'), "good.toml")
        assert main(["simulate", "--scenario", str(path)]) == 0
        out, _err = capsys.readouterr()
        assert out.startswith("scenario: copied: ")
        assert "final state: complete" in out
