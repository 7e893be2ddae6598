"""Forms of the artisan's requests (Flask-WTF: each carries a CSRF token). The rules on what is
typed are the service's (webapp/services/cards/requests.py); the form only bounds input."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import Length

from webapp.forms_once import OnceForm
from webapp.models.card_request import MAX_DETAIL_LENGTH

# Far above the limit: the service says "at most 500 characters", this only stops a flood.
FORM_BOUND = 10 * MAX_DETAIL_LENGTH


class RequestForm(OnceForm):
    """A request: a lost card and a renewal need only the button; a correction says what is wrong."""

    detail = TextAreaField(_l("What is wrong in your details?"), validators=[Length(max=FORM_BOUND)])
