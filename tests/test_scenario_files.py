"""Scenario files that load: the base file, good reactions and outages, every built-in.

What a good file turns into is checked here; the refusals of bad ones are in
test_scenario_file_errors.py and test_scenario_file_values.py.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

from fsm.core.config import EntryConfig, HedgeOrder
from fsm.sim import scenario as scenarios
from fsm.sim.scenario import ScenarioError
from tests.scenariokit import BASE, BASE_NAME, cut, outage, reaction

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


# ------------------------------------------------------------- good reactions and outages


def test_good_reaction_loads(write: Callable[..., Path]) -> None:
    loaded = scenarios.load(write(reaction("cancel", "reject")))
    beta = next(v for v in loaded.venues if v.name == "beta")
    assert [(r.on, r.action.value, r.times) for r in beta.reactions] == [("cancel", "reject", 1)]


def test_outages_load_for_a_while_and_for_good(write: Callable[..., Path]) -> None:
    text = outage("from_ms = 100\nuntil_ms = 250\n\n[[venues.beta.outages]]\nfrom_ms = 900\n")
    beta = next(v for v in scenarios.load(write(text)).venues if v.name == "beta")
    assert [(o.from_s, o.until_s) for o in beta.outages] == [(0.1, 0.25), (0.9, None)]


def test_unavailable_reaction_loads_for_every_request(write: Callable[..., Path]) -> None:
    for on in ("place", "cancel", "query", "amend"):
        beta = next(v for v in scenarios.load(write(reaction(on, "unavailable"))).venues
                    if v.name == "beta")
        assert [(r.on, r.action.value) for r in beta.reactions] == [(on, "unavailable")]


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
