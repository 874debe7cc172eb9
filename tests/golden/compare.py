"""Compare ``simulate --json`` of every shipped scenario between two source trees.

``python -m tests.golden.compare OLD_TREE NEW_TREE`` runs each built-in scenario listed by
the new tree in both trees (``python -m fsm.cli simulate --scenario NAME --json`` with the
tree as working directory, so each runs its own code) and compares the orders sent, the
path taken (trigger, source, destination and time; table row numbers are left out, they
move when rows are added), the positions and the final state. It prints one line per
scenario and exits 1 if any differs. Used to show that a refactoring changed no behaviour.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def _run(tree: Path, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "fsm.cli", *args], cwd=tree, capture_output=True, text=True,
        check=False,
    ).stdout


def _essence(tree: Path, name: str) -> dict[str, Any]:
    out = json.loads(_run(tree, "simulate", "--scenario", name, "--json"))
    if "refused" in out:  # refused before anything was sent: the refusal is the essence
        return {"final_state": out["final_state"], "refused": out["refused"],
                "violations": out["violations"]}
    return {
        "final_state": out["final_state"],
        "orders": out["orders"],
        "path": [{k: v for k, v in step.items() if k != "row"} for step in out["path"]],
        "positions": out["positions"],
        "violations": out["violations"],
    }


def main(argv: list[str]) -> int:
    old, new = (Path(p).resolve() for p in argv)
    names = [line.split()[0] for line in _run(new, "simulate", "--list").splitlines() if line]
    differ = 0
    for name in names:
        same = _essence(old, name) == _essence(new, name)
        differ += not same
        print(f"{'same' if same else 'DIFFERS'}  {name}")
    print(f"{len(names) - differ} of {len(names)} scenarios identical "
          "(orders, path, positions, final state)")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
