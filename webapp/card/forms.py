from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from webapp.services.accounts.passwords import MAX_PASSWORD_LENGTH

# The phone's public key as the page's script sends it: base64url of the 65-byte uncompressed
# P-256 point (docs: /work/notes/live-format.md "Device key"), 87 characters.
DEVICE_KEY_PATTERN = r"^[A-Za-z0-9_-]{87}$"


class ActivationForm(FlaskForm):
    """Bounds only: the rules (code, birth date, password, phone) are the services'. One password field
    with a "show" switch rather than two to type alike: a phone keyboard makes the second a chore."""

    card_number = StringField(_l("Card number"), validators=[DataRequired(), Length(max=30)])
    code = StringField(_l("Activation code"), validators=[DataRequired(), Length(max=40)])
    birth_date = StringField(_l("Birth date"), validators=[DataRequired(), Length(max=20)])
    password = PasswordField(_l("Choose a password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    phone = StringField(_l("Mobile number (optional)"), validators=[Optional(), Length(max=30)])
    device_key = HiddenField(
        validators=[
            DataRequired(
                _l("This browser cannot hold the card: open this page in a recent Chrome, Safari or Firefox.")
            ),
            Regexp(
                DEVICE_KEY_PATTERN, message=_l("This phone's key could not be read: reload the page and try again.")
            ),
        ]
    )


class CodeRequestForm(FlaskForm):
    """The card number whose holder's phone gets a sign-in code (any case, grouping or digits)."""

    card_number = StringField(_l("Card number"), validators=[DataRequired(), Length(max=30)])


class CodeSignInForm(FlaskForm):
    """The 6-digit code received by SMS (Arabic digits and spaces accepted: the service reads them)."""

    code = StringField(_l("Code received by SMS"), validators=[DataRequired(), Length(max=20)])
