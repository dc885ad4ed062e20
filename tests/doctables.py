"""Reading the Markdown of README.md and docs/ in the tests that compare it with the library."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def page(name: str) -> str:
    """The text of ``README.md`` or of ``docs/<name>``."""
    path = ROOT / name if name == "README.md" else ROOT / "docs" / name
    return path.read_text(encoding="utf-8")


def table_rows(text: str, heading: str) -> list[list[str]]:
    """The body rows (cells stripped, header and ``|---|`` line left out) of the first
    Markdown table after the first occurrence of ``heading`` in ``text``."""
    section = text[text.index(heading) :]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(c and set(c) <= {"-", ":"} for c in cells):  # not the |---| line
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # without the header


def flat(text: str) -> str:
    """``text`` with every run of white space one space (sentences wrap anywhere)."""
    return " ".join(text.split())
