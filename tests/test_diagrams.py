"""The committed diagrams and review tables are exactly what fsm/core/spec.py generates."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from fsm.cli import diagrams, graphs
from fsm.cli.main import main
from fsm.core import spec
from tests.conftest import run_builtin

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "diagrams"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
needs_matplotlib = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                                      reason="matplotlib not installed (the plot extra)")


def test_committed_dot_and_tables_are_current() -> None:
    assert diagrams.stale(COMMITTED, with_svg=False) == []


@needs_dot
@needs_matplotlib  # the example plot is one of them
def test_committed_svgs_are_current() -> None:
    assert diagrams.stale(COMMITTED) == []


def _section_rows(markdown: str, title: str) -> int:
    section = markdown.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return sum(1 for line in section.splitlines() if line.startswith("| ") and
               not line.startswith("| #") and not line.startswith("|---"))


def test_review_table_has_one_row_per_transition() -> None:
    markdown = graphs.transitions_markdown()
    assert _section_rows(markdown, "Entry") == len(spec.ENTRY_TRANSITIONS)
    assert _section_rows(markdown, "Order") == len(spec.ORDER_TRANSITIONS)
    for row in spec.ENTRY_TRANSITIONS:
        assert row.meaning.replace("|", "\\|") in markdown


def test_every_entry_transition_is_an_edge_or_an_internal_line() -> None:
    source = graphs.entry_graph().source
    for row in spec.ENTRY_TRANSITIONS:
        if row.dest is not None:
            assert graphs._edge_label(row) in source, row.label


@pytest.mark.parametrize("seed", ["0", "1", "12345"])
def test_generation_is_identical_across_hash_seeds(seed: str) -> None:
    code = ("import sys; from fsm.cli import diagrams; "
            "files = diagrams.generate(with_svg=False); "
            "sys.stdout.buffer.write(b''.join(files[k] for k in sorted(files)))")
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         check=True).stdout
    files = diagrams.generate(with_svg=False)
    assert out == b"".join(files[k] for k in sorted(files))


def test_a_changed_transition_makes_check_fail_until_regenerated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "diagrams"
    for name, content in diagrams.generate(with_svg=False).items():
        out.mkdir(exist_ok=True)
        (out / name).write_bytes(content)
    assert diagrams.stale(out, with_svg=False) == []
    changed = list(spec.ENTRY_TRANSITIONS)
    changed[0] = attrs.evolve(changed[0], meaning="Quote both legs (changed).")
    monkeypatch.setattr(spec, "ENTRY_TRANSITIONS", tuple(changed))
    assert diagrams.stale(out, with_svg=False) == [str(out / "transitions.md")]
    changed[0] = attrs.evolve(changed[0], trigger="begin")
    monkeypatch.setattr(spec, "ENTRY_TRANSITIONS", tuple(changed))
    assert diagrams.stale(out, with_svg=False) == [str(out / "entry.dot"),
                                                   str(out / "transitions.md")]


@needs_dot
def test_cli_check_names_stale_files_and_regenerating_fixes_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d"
    assert main(["diagrams", "--out", str(out)]) == 0
    assert main(["diagrams", "--out", str(out), "--check"]) == 0
    (out / "entry.dot").write_text("digraph {}")
    capsys.readouterr()
    assert main(["diagrams", "--out", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    assert f"stale: {out / 'entry.dot'}" in err and "regenerate" in err
    assert main(["diagrams", "--out", str(out)]) == 0
    assert main(["diagrams", "--out", str(out), "--check"]) == 0


def test_run_picture_numbers_the_path_in_order() -> None:
    result = run_builtin("hedge_partial").result
    source = graphs.run_graph([(p.row, p.dest) for p in result.path], "t").source
    labels = re.findall(r'label="\(([\d, ]+)\) (\w+)', source)
    numbered = {int(n): trigger for numbers, trigger in labels for n in numbers.split(", ")}
    assert numbered == {i: step.trigger for i, step in enumerate(result.path, start=1)}
    assert "(4, 6) evaluate" in source                  # hedging twice: one edge, two numbers
    assert re.search(rf'\n\t{result.final_state} \[label={result.final_state} '
                     rf'color="{graphs.FINAL}"', source)


@needs_dot
def test_simulate_draws_the_run(tmp_path: Path) -> None:
    target = tmp_path / "run.svg"
    assert main(["simulate", "--scenario", "hedge_partial", "--diagram", str(target)]) == 0
    svg = target.read_text()
    assert svg.startswith("<?xml") and "(7) evaluate" in svg  # reconciling -> complete
