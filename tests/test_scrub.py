"""Secrets never survive ``scrub``, whatever they hold and however a message spells them.

The criterion, for generated secrets (separators, quotes, spaces, ``%``, backslashes and
non-ASCII letters included) embedded in an exchange-like message in one spelling (raw,
case-changed, URL-encoded once or twice, JSON-escaped once or twice): after scrubbing,
no 6-character piece of the embedded text is left in the message unless the message
holds that piece without the secret too (so the check cannot be met by chance and
cannot blame the template). That covers the whole secret and any tail a pattern
stopped short of.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.conftest import examples
from venues.ccxt.errors import scrub

WINDOW = 6
MARK = "\x00SECRET\x00"

SPELLINGS: dict[str, Callable[[str], str]] = {
    "raw": lambda s: s,
    "upper": str.upper,
    "lower": str.lower,
    "swapcase": str.swapcase,
    "url": lambda s: quote(s, safe=""),
    "url, lower-case hex": lambda s: quote(s, safe="").lower(),
    "url, form": quote_plus,
    "url, twice": lambda s: quote(quote(s, safe=""), safe=""),
    "json": lambda s: json.dumps(s)[1:-1],
    "json, unicode kept": lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    "json, twice": lambda s: json.dumps(json.dumps(s))[1:-1],
    "json then url": lambda s: quote(json.dumps(s), safe=""),
}

TEMPLATES = (
    f"okx: place aeX1Lq1: ExchangeError: passphrase={MARK} and more",
    f'bybit: query: ExchangeError: bybit {{"retCode":10003,"apiKey":"{MARK}","x":1}}',
    f"binanceusdm GET https://fapi.example.com/v1/order?symbol=BTC&apiKey={MARK}&ts=1",
    f"AuthenticationError: key {MARK} is not valid",
    f"headers: {{'OK-ACCESS-PASSPHRASE': '{MARK}', 'X': 'y'}}",
    f"body={MARK}",
)

ALPHABET = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="<>\x00"
) | st.sampled_from(list(",&}{\"' :=/\\+%?#é\n\t"))
SECRETS = st.text(ALPHABET, min_size=8, max_size=40)


def _leaks(message: str, embedded: str, scrubbed: str) -> list[str]:
    blank = message.replace(embedded, "").lower()
    out = scrubbed.lower()
    pieces = {embedded[i:i + WINDOW].lower() for i in range(len(embedded) - WINDOW + 1)}
    return sorted(p for p in pieces if p in out and p not in blank)


@settings(max_examples=examples(2))
@given(secret=SECRETS, spelling=st.sampled_from(sorted(SPELLINGS)),
       template=st.sampled_from(TEMPLATES), other=SECRETS)
@example(secret="Abc,DEF123xyz", spelling="raw", template=TEMPLATES[0], other="k" * 8)
@example(secret='a"b c}&d', spelling="json", template=TEMPLATES[1], other="k" * 8)
@example(secret="000000İ0", spelling="lower", template=TEMPLATES[3], other="k" * 8)
def test_no_piece_of_a_secret_survives_in_any_spelling(
    secret: str, spelling: str, template: str, other: str,
) -> None:
    embedded = SPELLINGS[spelling](secret)
    message = template.replace(MARK, embedded)
    scrubbed = scrub(message, [other, secret])
    assert _leaks(message, embedded, scrubbed) == [], (message, scrubbed)
    assert "<redacted>" in scrubbed


def test_the_issue_example_and_named_fields_without_a_known_secret() -> None:
    assert scrub("passphrase=Abc,DEF123xyz", ["Abc,DEF123xyz"]) == "passphrase=<redacted>"
    # Secrets we do not hold (a signature) are blanked by field name, in any spelling.
    assert scrub('{\\"signature\\": \\"deadbeef\\"}') == '{\\"signature\\": \\"<redacted>\\"}'
    assert scrub("API_KEY%22%3A%22abcdefgh%22") == "API_KEY%22%3A%22<redacted>"
    assert scrub("GET https://x.io/p?signature=ab") == "GET https://x.io/p?<redacted>"
    assert scrub("short abc", ["abc"]) == "short abc"  # not a credential: left alone


def test_a_venue_error_carries_no_piece_of_a_key_the_exchange_echoed() -> None:
    import ccxt.async_support as ccxt

    from venues.ccxt.errors import classify

    key = "Abc,DEF123 xyz}"
    echoed = quote(json.dumps({"passphrase": key}), safe="")
    exc = ccxt.AuthenticationError(f'okx {{"passphrase":"{key.upper()}"}} GET /x?q={echoed}')
    message = str(classify(exc, "place", venue="okx", what="place aeX1Lq1", secrets=[key]))
    assert "def123" not in message.lower() and "xyz" not in message.lower(), message
    assert message.startswith("okx: place aeX1Lq1: AuthenticationError")


def test_enter_scrubs_every_log_line_not_only_what_the_venues_raise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from loguru import logger

    from fsm.cli.enter import run
    from fsm.cli.main import _parser
    from venues import protocol as base

    key, secret = "Key,abc&DEF 123", 'Sec"ret}xyz 456'
    environ = {"ATOMIC_ENTRY_BINANCEUSDM_API_KEY": key,
               "ATOMIC_ENTRY_BINANCEUSDM_SECRET": secret,
               "ATOMIC_ENTRY_BYBIT_API_KEY": key, "ATOMIC_ENTRY_BYBIT_SECRET": secret}

    raw: list[str] = []

    def factory(exchange: str, creds: Mapping[str, str], sandbox: bool) -> base.Venue:
        raw.append(f"a library echoed {quote(json.dumps(dict(creds)).upper())}")
        logger.warning(raw[-1])
        raise base.VenueFatalError(f"{exchange}: refused")

    logs: list[str] = []
    sink = logger.add(logs.append, format="{message}")
    logger.enable("tests")
    try:
        args = _parser().parse_args([
            "enter", "--long", "binanceusdm:BTC/USDT:USDT", "--short", "bybit:BTC/USDT:USDT",
            "--qty", "0.01", "--journal", str(tmp_path / "j.sqlite")])
        run(args, environ=environ, factory=factory)
    finally:
        logger.remove(sink)
    assert logs and "a library echoed" in logs[0]
    text = " ".join(logs) + capsys.readouterr().err
    for value in (key, secret):
        embedded = quote(json.dumps(value).upper())
        assert embedded in raw[0]  # what the unscrubbed line held
        assert _leaks(raw[0], embedded, text) == [], text


def test_recover_scrubs_every_log_line_with_the_keys_from_the_environment(
    tmp_path: Path,
) -> None:
    from loguru import logger

    from fsm.cli.recover import recover_ccxt
    from fsm.core.config import EntryConfig
    from fsm.core.values import EntryRequest, LegSpec
    from fsm.shell.journal import Journal
    from venues import protocol as base

    secret = 'Sec"ret}xyz 456'
    journal = Journal(tmp_path / "j.sqlite", origin={"kind": "ccxt", "sandbox": True})
    journal.open_entry("cx1", EntryRequest(LegSpec("binanceusdm", "BTC/USDT:USDT", "0.01"),
                                           LegSpec("bybit", "BTC/USDT:USDT", "0.01"), "cx1"),
                       EntryConfig())
    raw: list[str] = []

    def factory(exchange: str, creds: Mapping[str, str], sandbox: bool) -> base.Venue:
        raw.append(f"a library echoed {json.dumps(dict(creds)).swapcase()}")
        logger.warning(raw[-1])
        raise base.VenueFatalError(f"{exchange}: refused")

    logs: list[str] = []
    sink = logger.add(logs.append, format="{message}")
    try:
        with pytest.raises(base.VenueFatalError):
            recover_ccxt(journal, journal.unfinished(), live=False, factory=factory,
                         environ={"ATOMIC_ENTRY_BINANCEUSDM_SECRET": secret,
                                  "ATOMIC_ENTRY_BINANCEUSDM_API_KEY": "k1",
                                  "ATOMIC_ENTRY_BYBIT_API_KEY": "k2",
                                  "ATOMIC_ENTRY_BYBIT_SECRET": "s2"})
    finally:
        logger.remove(sink)
        journal.close()
    embedded = json.dumps(secret).swapcase()
    assert embedded in raw[0] and logs
    assert _leaks(raw[0], embedded, " ".join(logs)) == [], logs
