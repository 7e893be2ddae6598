"""Forms of the partner portal (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A button that changes something (submit an offer, revoke a key): only the CSRF token."""
