"""One-time tokens on every create form (see webapp/services/form_once.py for the why).

A create form inherits `OnceForm`: its hidden `once` field holds a new token on each render. The
view calls `replayed(form, name)` once the form is valid, before creating anything: a redirect to
the record created by the first sending of this very form, or None to go on; after creating, it
calls `created(form, url)`. static/js/forms/once.js disables the submit button after the first
click (a comfort: the token is what makes the second sending harmless).
"""

from __future__ import annotations

import secrets

from flask import flash, redirect
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField

from webapp.db import get_session
from webapp.services.form_once import TOKEN_PATTERN, claim_form_token, complete_form_token


def new_token() -> str:
    return secrets.token_urlsafe(24)


class OnceForm(FlaskForm):
    """A create form: its `once` token is new on every render, and sent back with the form."""

    # A form sent back with errors keeps its token: it created nothing, its claim was rolled back.
    once = HiddenField(default=new_token)


def _token(form: OnceForm) -> str | None:
    value = form.once.data or ""
    return value if TOKEN_PATTERN.fullmatch(value) else None


def replayed(form: OnceForm, name: str, fallback_url: str) -> Response | None:
    """A redirect when this form's token was used already (to what it created, or `fallback_url`);
    None after claiming it for this sending. A form without a token (not sent by a browser from
    our page) is not deduplicated."""
    token = _token(form)
    if token is None:
        return None
    user_id = current_user.id if current_user.is_authenticated else None
    replay = claim_form_token(get_session(), token, user_id, name)
    if replay is None:
        return None
    flash(_("This form was already sent: nothing new was created."), "info")
    return redirect(replay.result_url or fallback_url)


def created(form: OnceForm, result_url: str) -> None:
    """Remember what this sending created, for a replay of its token."""
    token = _token(form)
    if token is not None:
        complete_form_token(get_session(), token, result_url)
