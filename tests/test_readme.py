"""The README stays true to the tree: the paths and modules it names exist, and its
list of shipped scenarios is the one ``atomic-entry simulate --list`` prints.

Both drifted silently before (the package moved, seven scenarios were added), and a
reader who follows a dead path stops trusting the rest.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from fsm.sim import scenario as scenarios

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "README.md", ROOT / "diagrams" / "README.md")


def _inline_code(doc: Path) -> list[str]:
    """Every `inline code` span outside fenced blocks."""
    prose = re.sub(r"^```.*?^```", "", doc.read_text(), flags=re.MULTILINE | re.DOTALL)
    return re.findall(r"`([^`\n]+)`", prose)


def test_every_path_the_docs_name_exists() -> None:
    for doc in DOCS:
        for span in _inline_code(doc):
            for path in re.findall(r"(?:\.\./)?(?:fsm|venues|tests|diagrams)/[\w./]*", span):
                assert (doc.parent / path).exists(), f"{doc.name} names {path}: not there"


def test_every_dotted_name_the_readme_gives_resolves() -> None:
    for span in _inline_code(ROOT / "README.md"):
        for name in re.findall(r"\b(?:fsm|venues)(?:\.[A-Za-z_]\w*)+", span):
            parts = name.split(".")
            for cut in range(len(parts), 0, -1):
                try:
                    found: object = importlib.import_module(".".join(parts[:cut]))
                except ModuleNotFoundError:
                    continue
                for attr in parts[cut:]:
                    assert hasattr(found, attr), f"README names {name}: no {attr}"
                    found = getattr(found, attr)
                break


def test_the_scenario_list_is_the_shipped_one() -> None:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Scenario files", 1)[1].split("```toml", 1)[0]
    listed = set(re.findall(r"`([a-z_]+)`", section))
    assert listed == set(scenarios.builtin_names())
