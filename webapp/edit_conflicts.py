"""The web side of optimistic concurrency (webapp/services/concurrency.py), for any edit form.

A form that edits a record mixes in VersionFields: two hidden fields, the version shown and the
values shown (JSON; only used to tell which fields were saved meanwhile, so a tampered copy can only
confuse its own sender's comparison). On EditConflict the view calls `conflict`: the form goes back
with the version now saved and, field by field, the person's value and the value saved meanwhile,
each with a choice (templates/_macros/conflict.html). The next save applies the choices
(`chosen_formdata`) before the form is read, and names the new version.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import request
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField

from webapp.services.concurrency import FieldConflict, LastChange, field_conflicts, parse_version

# Each choice is a radio named after its field.
CHOICE_PREFIX = "keep-"


class VersionFields:
    """Mixed into an edit form (before its FlaskForm base): the version and values it showed."""

    version = HiddenField()
    shown = HiddenField()


def show(form: Any, version: int, values: Mapping[str, Any]) -> None:
    """A form shown for the first time: it carries the record's version and values as shown."""
    if not form.is_submitted():
        form.version.data = str(version)
        form.shown.data = json.dumps(normalized(values), ensure_ascii=False, sort_keys=True)


def submitted_version(form: Any) -> int:
    """The version the sent form names; 0 (never a record's version) when missing or garbled, so
    a form without one meets a conflict rather than writing unchecked."""
    return parse_version(form.version.data) or 0


def shown_values(form: Any) -> dict[str, Any]:
    """The values the sent form showed (empty when missing or garbled)."""
    try:
        values = json.loads(form.shown.data or "{}")
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


def normalized(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values as compared and carried, in the form's own text: text stripped, None as empty text,
    numbers as text, dates in ISO, a list of codes sorted, other structures (JSON boxes) as JSON."""

    def one(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
            return sorted(value)
        if isinstance(value, (date, int, float)) and not isinstance(value, bool):
            return value.isoformat() if isinstance(value, date) else str(value)
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    return {field: one(value) for field, value in values.items()}


def chosen_formdata(fields: Iterable[str]) -> MultiDict[str, Any] | None:
    """The sent form with the person's choices applied: where they kept the value saved meanwhile,
    that value (the form's `shown` values are the saved ones after a conflict) replaces what the
    box holds, before the form reads it. None when nothing was sent (the form reads nothing)."""
    if request.method != "POST":
        return None
    formdata = request.form.copy()
    try:
        theirs = json.loads(request.form.get("shown") or "{}")
    except ValueError:
        return formdata
    if not isinstance(theirs, dict):
        return formdata
    for field in fields:
        if request.form.get(CHOICE_PREFIX + field) == "theirs" and field in theirs:
            value = theirs[field]
            formdata.setlist(field, value if isinstance(value, list) else [value])
    return formdata


@dataclass(frozen=True)
class ConflictRow:
    """One field to choose on the conflict page, as the reader reads it: a value is one text, or
    lines of words (a rule's sentences, a list of fields), never the JSON the choice carries."""

    field: str
    label: str
    mine: str | list[str]
    theirs: str | list[str]
    default: str


@dataclass(frozen=True)
class Conflict:
    """What the conflict page shows: the rows to choose, and who saved meanwhile and when."""

    rows: list[ConflictRow]
    last_change: LastChange | None
    # Nothing to choose, and the form named a real earlier version: the change saved meanwhile left
    # every value of this form as it showed them, so the save may go through on the new version.
    # (A missing or unknown version is never retried: the form goes back.)
    retry: bool = False


def conflict(
    form: Any,
    *,
    version: int,
    theirs: Mapping[str, Any],
    fields: Iterable[str],
    label: Callable[[str], str],
    display: Callable[[str, Any], str | list[str]],
    last_change: LastChange | None,
) -> Conflict:
    """The form goes back against the `version` now saved, `theirs` as its shown values, with the
    fields to choose (empty: the change saved meanwhile left every value of this form as shown)."""
    fields = list(fields)
    sent = submitted_version(form)
    mine = normalized({field: form[field].data for field in fields})
    saved = normalized(theirs)
    found: list[FieldConflict] = field_conflicts(shown_values(form), mine, saved, fields)
    form.version.data = str(version)
    form.shown.data = json.dumps(saved, ensure_ascii=False, sort_keys=True)
    rows = [
        ConflictRow(
            item.field,
            label(item.field),
            display(item.field, item.mine),
            display(item.field, item.theirs),
            item.default,
        )
        for item in found
    ]
    return Conflict(rows, last_change, retry=not rows and 0 < sent < version)
