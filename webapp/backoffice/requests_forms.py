"""Forms of the officers' tasks (Flask-WTF: each carries a CSRF token). The version the officer
saw travels in a hidden field: the service refuses a change to a task changed since (StaleRequest)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from webapp.models.card_request import MAX_NOTE_LENGTH

# A version as the page wrote it: a positive integer of at most 9 digits.
VERSION = Regexp(r"^[1-9][0-9]{0,8}$")
CLOSING_WORDS = {"done": _l("Done"), "declined": _l("Declined")}


class TakeTaskForm(FlaskForm):
    version = HiddenField(validators=[InputRequired(), VERSION])


class CloseTaskForm(FlaskForm):
    version = HiddenField(validators=[InputRequired(), VERSION])
    outcome = RadioField(
        _l("Outcome"),
        choices=[SelectChoice(value, label) for value, label in CLOSING_WORDS.items()],
        validators=[InputRequired(message=_l("Choose done or declined."))],
    )
    # Bounded far above the limit: the service says "at most 500 characters".
    note = TextAreaField(_l("Note for the artisan"), validators=[Optional(), Length(max=10 * MAX_NOTE_LENGTH)])


class TaskListForm(FlaskForm):
    """The list's page cursor (a GET form: no CSRF, it changes nothing)."""

    class Meta:
        csrf = False

    after = StringField(validators=[Optional(), Regexp(r"^[1-9][0-9]{0,9}$")])
