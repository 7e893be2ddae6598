from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from webapp.services.accounts.passwords import MAX_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    # No format check here: a malformed address simply matches no account ("incorrect email or password").
    # Text, not an email field: an artisan signs in with a card number (they have no address).
    email = StringField(
        _l("Email, or card number for artisans"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class LogoutForm(FlaskForm):
    """Empty: it carries the CSRF token, so no other site can sign a user out."""


class ChangePasswordForm(FlaskForm):
    """The current password (a temporary one, or one's own), then the new one twice. The rules of a
    new password are the service's (webapp/services/accounts/passwords.py); the form only bounds input."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    confirm_password = PasswordField(
        _l("New password, again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two new passwords are not the same."))],
    )
