"""Forms of the administration (Flask-WTF: every form carries a CSRF token). Formats and rules
are checked by the services; the forms only require what must be typed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from webapp.forms_once import OnceForm
from webapp.models import Role


class NewPartnerForm(OnceForm):
    """A partner organisation and its first manager, in one submit."""

    slug = StringField(_l("Short name"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    # Choices are the partner_kind reference table, in the reader's language (set by the view).
    kind = SelectField(_l("Kind"), validators=[InputRequired()], validate_choice=False)
    manager_email = EmailField(_l("Manager's email"), validators=[DataRequired(), Length(max=254)])
    manager_name = StringField(_l("Manager's name"), validators=[DataRequired(), Length(max=120)])


class WithdrawalForm(OnceForm):
    """Withdraw one offer from one card: the card number as printed, an approved offer, why."""

    card = StringField(_l("Card number"), validators=[DataRequired(), Length(max=40)])
    # Choices: approved offers grouped by partner (set by the view); a stale choice is refused.
    offer = SelectField(_l("Offer"), coerce=int, validators=[InputRequired()])
    # Required by the service, which words the refusal the same everywhere (ReasonRequired).
    reason = StringField(_l("Reason"), validators=[Length(max=200)])


class StaffAccountForm(OnceForm):
    """A registry officer (with their region) or a national administrator."""

    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice(Role.OFFICER.value, _l("Registry officer")),
            SelectChoice(Role.ADMIN.value, _l("National administrator")),
        ],
        default=Role.OFFICER.value,
    )
    # Choices: the 12 regions in the reader's language, after a blank one (set by the view); the
    # service requires a region for an officer and ignores it for an administrator.
    region = SelectField(_l("Region"), validate_choice=False)
