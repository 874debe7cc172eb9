"""``atomic-entry simulate`` over scenario files: exit codes, and nothing on stdout when a
file or its request is refused (a script reading the JSON must never get half of it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from fsm.cli.main import main
from fsm.sim import scenario as scenarios
from tests.scenariokit import BASE, BASE_NAME, LONG_LEG, cut, in_beta, mutate

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
        assert "expected a scenario TOML file or the name of a built-in scenario" in err
        assert "atomic-entry simulate --list" in err

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
