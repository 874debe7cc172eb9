"""Pictures of one entry over time (issue 17, item 4): what they show, and that they draw.

The data a figure shows (``fsm.cli.plot_data``) is checked against the result it comes
from: the venues' positions step with the result's fills and add up to its exposure,
the shaded spans add up to ``unhedged_ms``. Then every shipped scenario is drawn to SVG,
and the commands that draw (``simulate --plot``, ``report --plot``) are run, their bad
input refused with exit 2.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from fsm.cli import plot, report
from fsm.cli.exits import Exit
from fsm.cli.main import main
from fsm.cli.plot_data import Picture, picture, unhedged_spans, value_at
from fsm.shell.journal import Journal
from fsm.sim import scenario as scenarios
from fsm.sim.runner import SimulationRun, simulate
from tests.conftest import run_builtin

D = Decimal
# The test extra installs matplotlib; the data tests run without it.
needs_matplotlib = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                                      reason="matplotlib not installed (the plot extra)")


def _picture(name: str) -> tuple[SimulationRun, Picture]:
    run = run_builtin(name)
    return run, picture(run.result, (step.event for step in run.steps), name)


# --------------------------------------------------------------------------- the data


def test_hedge_partial_steps_are_the_fills() -> None:
    run, pic = _picture("hedge_partial")
    alpha, beta = pic.venues
    assert (alpha.venue, alpha.leg, beta.venue, beta.leg) == ("alpha", "long", "beta", "short")
    assert alpha.positions == ((0.0, D(0)), (175.0, D("0.5")))
    assert beta.positions == ((0.0, D(0)), (275.0, D("-0.2")), (325.0, D("-0.5")))
    assert pic.exposure == ((0.0, D(0)), (175.0, D("0.5")), (275.0, D("0.3")),
                            (325.0, D("0.0")))
    assert pic.unhedged == ((175.0, 325.0),)
    assert [(o.client_id, o.start_ms, o.end_ms, o.status, len(o.fills)) for o in pic.orders] == [
        ("aesim1Lq1", 0.0, 175.0, "filled", 1), ("aesim1Sq1", 0.0, 225.0, "canceled", 0),
        ("aesim1Sh1", 225.0, 275.0, "canceled", 1), ("aesim1Sh2", 275.0, 325.0, "filled", 1)]
    assert [(f.at_ms, f.price, f.purpose) for f in pic.fills] == [
        (175.0, D("59994.0"), "quote"), (275.0, D("60000.0"), "hedge"),
        (325.0, D("60000.0"), "hedge")]
    assert (pic.base, pic.quote, pic.final_state) == ("BTC", "USDT", "complete")
    assert "hedge_partial" in pic.title and run.result.entry_id in pic.title


@pytest.mark.parametrize("name", ["hedge_partial", "maker_keeps_quoting",
                                  "thin_hedge_book_never_refills",
                                  "pre_existing_position_rollback", "hedge_unknown_queries_fail"])
def test_positions_add_up_to_the_exposure_and_the_spans_to_unhedged_ms(name: str) -> None:
    run, pic = _picture(name)
    result = run.result
    instants = sorted({at for series in pic.venues for at, _ in series.positions}
                      | {at for at, _ in pic.exposure})
    for at in instants:
        assert sum(value_at(v.positions, at) for v in pic.venues) == value_at(pic.exposure, at)
    for series in pic.venues:  # where each venue ends is where the result says it ends
        moved = result.positions[series.venue]["end"] - result.positions[series.venue]["start"]
        assert series.venue_moved == moved
        assert series.start_position == result.positions[series.venue]["start"]
        if name != "hedge_unknown_queries_fail":
            assert series.positions[-1][1] == moved
    if name == "hedge_unknown_queries_fail":  # the hedge filled; the engine never learnt it
        beta = pic.venues[1]
        assert (beta.positions[-1][1], beta.venue_moved) == (D(0), D("-0.5"))
    assert pic.exposure[-1][1] == result.net_exposure
    assert sum(end - start for start, end in pic.unhedged) == pytest.approx(
        result.timings.unhedged_ms)
    assert len(pic.fills) == len(result.fills)


def test_mids_follow_the_books_the_entry_was_given() -> None:
    _, pic = _picture("hedge_after_move")  # alpha's book rallies 10%, pushed at 2475 ms
    alpha, beta = pic.venues
    assert alpha.mids == ((0.0, D("60000.25")), (2475.0, D("65989.75")))
    assert beta.mids == ((0.0, D("60000.25")),)


def test_an_order_still_open_at_the_end_runs_to_the_end() -> None:
    _, pic = _picture("hedge_unknown_queries_fail")
    hedge = next(o for o in pic.orders if o.purpose == "hedge")
    assert not hedge.ended and hedge.end_ms == pic.end_ms and hedge.status == "unresolved"


def test_unhedged_spans_merge_and_stop_at_the_end() -> None:
    series = ((0.0, D(0)), (10.0, D(1)), (20.0, D("0.5")), (30.0, D(0)), (40.0, D(-1)))
    assert unhedged_spans(series, 55.0) == ((10.0, 30.0), (40.0, 55.0))
    assert unhedged_spans(((0.0, D(0)),), 5.0) == ()


# --------------------------------------------------------------------------- drawing


@needs_matplotlib
def test_every_shipped_scenario_draws_to_svg(tmp_path: Path) -> None:
    names = scenarios.entry_names()
    for name in names:
        run, pic = _picture(name)
        target = tmp_path / f"{name}.svg"
        plot.draw(pic, target)
        svg = target.read_text(encoding="utf-8")
        ET.fromstring(svg)  # well-formed
        for text in (run.result.entry_id, name, run.result.final_state, "net exposure",
                     "ms since the entry started", "Orders", "position (BTC)"):
            assert text in svg, (name, text)
        for order in run.result.orders:  # every order has its bar's label
            assert order.client_id in svg, (name, order.client_id)


@needs_matplotlib
def test_the_svg_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    """Three times in one process (a constrained layout made the second one differ)."""
    _, pic = _picture("maker_keeps_quoting")
    drawn = []
    for name in ("a.svg", "b.svg", "c.svg"):
        plot.draw(pic, tmp_path / name)
        drawn.append((tmp_path / name).read_bytes())
    assert drawn[0] == drawn[1] == drawn[2]
    assert b"<dc:date>" not in drawn[0]


# --------------------------------------------------------------------------- commands


@needs_matplotlib
@pytest.mark.usefixtures("restore_logging")
class TestCommands:
    def test_simulate_plot_and_report_from_its_journal_draw_the_same(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        journal = tmp_path / "run.sqlite"
        assert main(["simulate", "--scenario", "hedge_partial", "--journal", str(journal),
                     "--plot", str(tmp_path / "sim.svg")]) == Exit.OK
        capsys.readouterr()
        assert main(["report", "sim1", "--journal", str(journal),
                     "--plot", str(tmp_path / "report.svg")]) == Exit.OK
        out = capsys.readouterr().out
        assert "entry sim1 (scenario hedge_partial)" in out and "final state: complete" in out
        assert (tmp_path / "sim.svg").read_bytes() == (tmp_path / "report.svg").read_bytes()

    def test_report_json_and_an_unfinished_entry(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        journal = tmp_path / "run.sqlite"
        assert main(["simulate", "--scenario", "hedge_partial", "--journal", str(journal),
                     "--crash-at", "5"]) == Exit.KILLED
        capsys.readouterr()
        assert main(["report", "sim1", "--journal", str(journal), "--json"]) == Exit.KILLED
        out = json.loads(capsys.readouterr().out)
        assert out["finished"] is False and out["scenario"] == "hedge_partial"
        assert out["final_state"] == "active.first_leg_filled.hedging"
        assert main(["recover", "--journal", str(journal)]) == Exit.OK
        target = tmp_path / "recovered.svg"
        assert main(["report", "sim1", "--journal", str(journal), "--plot", str(target)]) \
            == Exit.OK
        assert "recovered from the journal" in target.read_text(encoding="utf-8")

    def test_png_by_suffix_and_a_live_entry_named_by_its_origin(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A journal whose origin is not a simulated run: no scenario name anywhere."""
        path = tmp_path / "live.sqlite"
        journal = Journal(path, origin={"kind": "ccxt", "sandbox": True})
        try:
            simulate(scenarios.load_builtin("one_leg_fills_first"), journal)
        finally:
            journal.close()
        target = tmp_path / "entry.png"
        assert main(["report", "sim1", "--journal", str(path), "--plot", str(target)]) \
            == Exit.OK
        assert target.read_bytes().startswith(b"\x89PNG\r\n")
        assert capsys.readouterr().out.startswith("entry sim1 (origin ccxt)")
        assert main(["report", "sim1", "--journal", str(path), "--json"]) == Exit.OK
        out = json.loads(capsys.readouterr().out)
        assert (out["scenario"], out["origin_kind"], out["finished"]) == (None, "ccxt", True)
        _, steps, result = report.load(path, "sim1")
        assert "(live entry)" in picture(result, (s.event for s in steps)).title

    @pytest.mark.parametrize(("argv", "expected"), [
        (["report", "nope", "--journal", "{dir}/run.sqlite"],
         "no entry 'nope' in journal {dir}/run.sqlite; it holds 1 entry: sim1"),
        (["report", "sim1", "--journal", "{dir}/missing.sqlite"],
         "no journal at {dir}/missing.sqlite"),
        (["simulate", "--plot", "{dir}/x.svg", "--journal", "{dir}/j.sqlite", "--crash-at", "2"],
         "--plot draws a finished run"),
        (["simulate", "--plot", "/proc/x.svg"], "cannot write the plot /proc/x.svg"),
    ])
    def test_bad_input_exits_2_with_one_line(
        self, argv: list[str], expected: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        assert main(["simulate", "--scenario", "hedge_partial", "--journal",
                     str(tmp_path / "run.sqlite")]) == Exit.OK
        capsys.readouterr()
        assert main([a.format(dir=tmp_path) for a in argv]) == Exit.BAD_INPUT
        err = capsys.readouterr().err
        assert expected.format(dir=tmp_path) in err and "Traceback" not in err, err
        assert len(err.strip().splitlines()) == 1, err

    def test_bad_suffix_is_refused_by_the_parser(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as stop:
            main(["simulate", "--plot", str(tmp_path / "run.pdf")])
        assert stop.value.code == Exit.BAD_INPUT
        assert "a file ending in one of .svg, .png" in capsys.readouterr().err

    def test_an_unwritable_folder_is_refused_before_the_run(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        monkeypatch.setattr(plot.os, "access", lambda *_: False)  # root writes anywhere
        assert main(["simulate", "--plot", str(tmp_path / "x.svg")]) == Exit.BAD_INPUT
        out, err = capsys.readouterr()
        assert out == "" and "is not writable" in err
        assert not (tmp_path / "x.svg").exists()

    @pytest.mark.parametrize("command", [["simulate"], ["report", "sim1"]])
    def test_without_matplotlib_it_says_how_to_install_it(
        self, command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        monkeypatch.setitem(sys.modules, "matplotlib", None)  # import raises ImportError
        assert main([*command, "--plot", str(tmp_path / "x.svg")]) == Exit.BAD_INPUT
        out, err = capsys.readouterr()
        assert out == ""
        assert err == ("atomic-entry: drawing a plot needs matplotlib, which is not "
                       "installed: pip install 'atomic-entry[plot]'\n")
