"""Every markdown table in README.md and docs/ has as many cells on each row as in its header: a row
with one cell too many (an unescaped `|` in a sentence) swallows text on GitHub."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^\s*(```|~~~)")


def cell_count(row: str) -> int:
    """The cells of a table row as GitHub counts them: only `\\|` is text; a pipe inside a code span
    still splits the row (GitHub's table syntax is read before code spans)."""
    text = row.replace("\\|", "x").strip()
    text = text.removeprefix("|").removesuffix("|")
    return text.count("|") + 1


def tables(text: str) -> list[list[tuple[int, str]]]:
    """Each table as its (line number, row) pairs: runs of lines starting with `|`, outside code fences."""
    found: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
        if not fenced and line.lstrip().startswith("|"):
            current.append((number, line))
            continue
        if current:
            found.append(current)
        current = []
    if current:
        found.append(current)
    return found


def test_the_check_sees_a_swallowing_row():
    """A three-cell row under a two-column header is caught, even by a pipe in a code span; `\\|` is text."""
    table = "| a | b |\n|---|---|\n| x | y | z |\n| `p|q` | r |\n| `p\\|q` | r \\| s |\n"
    counts = [cell_count(row) for _number, row in tables(table)[0]]
    assert counts == [2, 2, 3, 3, 2]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_row_has_the_header_cell_count(document):
    """Every row of every table has as many cells as the table's header."""
    wrong = [
        f"{document.name}:{number}: {cell_count(row)} cells, header has {cell_count(table[0][1])}"
        for table in tables(document.read_text(encoding="utf-8"))
        for number, row in table[1:]
        if cell_count(row) != cell_count(table[0][1])
    ]
    assert not wrong, "\n".join(wrong)
