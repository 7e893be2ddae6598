"""Every data table of every template sits in a `table-wrap` frame, the one that scrolls sideways
(static/css/app.css): a wide table never widens the page, in either direction."""

from __future__ import annotations

import re

import pytest

from webapp.settings import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "templates"
WITH_TABLES = sorted(path for path in TEMPLATES.rglob("*.html") if '<table class="data' in path.read_text("utf-8"))


def test_the_check_sees_an_unframed_table():
    """A table without its frame is found; a framed one is not."""
    assert unframed('<div class="table-wrap">\n<table class="data">') == []
    assert unframed('<section>\n<table class="data stack">') == [2]


def unframed(text: str) -> list[int]:
    """Line numbers of data tables whose previous non-blank line does not open a table-wrap."""
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines, start=1):
        if '<table class="data' in line:
            before = [previous for previous in lines[: number - 1] if previous.strip()]
            if not before or not re.search(r'class="table-wrap[" ]', before[-1]):
                found.append(number)
    return found


@pytest.mark.parametrize("template", WITH_TABLES, ids=lambda path: path.relative_to(TEMPLATES).as_posix())
def test_every_data_table_is_in_its_scrolling_frame(template):
    """The data table is the first thing inside a `<div class="table-wrap">`."""
    assert unframed(template.read_text("utf-8")) == []
