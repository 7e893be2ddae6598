"""Forms of the partner portal (Flask-WTF: every POST form carries a CSRF token).

Forms check the shape of what is typed (a date, a number, well-formed JSON); what makes an offer,
an account or a key acceptable is the services' business, and their refusals are shown on the
field they name (see views.py)."""

from __future__ import annotations

import json
from typing import Any

from flask import json as app_json
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from webapp.edit_conflicts import VersionFields
from webapp.forms_once import OnceForm
from webapp.models import QuotaPeriod, Role
from webapp.services.partners.api_keys import SCOPE_ELIGIBILITY, SCOPE_REDEEM, SCOPE_VERIFY, SCOPE_WORDS
from webapp.services.partners.offers import MAX_OFFER_ID, TEXT_LIMITS

LANGUAGE_NAMES = {"fr": _l("French"), "ar": _l("Arabic"), "en": _l("English")}
# Far above any real rule or field list, well below the request size limit.
MAX_JSON_LENGTH = 50_000


class ActionForm(FlaskForm):
    """A button that changes something (submit an offer, revoke a key): only the CSRF token."""


class JsonField(TextAreaField):
    """A textarea holding JSON; `data` is the parsed value (an empty box means an empty list), and
    text that does not parse is a form error on this field."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw_text = (valuelist[0] if valuelist else "") or ""
        if not self.raw_text.strip():
            self.data = []
            return
        try:
            # The app's JSON (webapp/json_provider.py): nesting too deep is a ValueError, not a crash.
            self.data = app_json.loads(self.raw_text)
        except ValueError as error:
            self.data = None
            line, column = getattr(error, "lineno", 1), getattr(error, "colno", 1)
            raise ValueError(
                _l("This is not valid JSON (line %(line)s, column %(column)s).", line=line, column=column)
            ) from None

    def process_data(self, value: Any) -> None:
        self.data = value
        self.raw_text = "" if value is None else json.dumps(value, ensure_ascii=False, indent=2)

    def _value(self) -> str:
        return self.raw_text if hasattr(self, "raw_text") else ""


QUOTA_PERIODS = [
    SelectChoice("", _l("No quota")),
    SelectChoice(QuotaPeriod.DAY.value, _l("a day")),
    SelectChoice(QuotaPeriod.MONTH.value, _l("a month")),
    SelectChoice(QuotaPeriod.YEAR.value, _l("a year")),
]


class _OfferFormBase(OnceForm):
    valid_from = DateField(_l("Valid from"), validators=[InputRequired()])
    valid_until = DateField(_l("Valid until"), validators=[Optional()])
    quota_count = IntegerField(_l("Redemptions per card"), validators=[Optional()])
    quota_period = SelectField(_l("Per"), choices=QUOTA_PERIODS, default="")
    conditions = JsonField(_l("Eligibility conditions (JSON)"))
    fields = JsonField(_l("Redemption fields (JSON)"))

    def validate_conditions(self, field: JsonField) -> None:
        if len(field.raw_text) > MAX_JSON_LENGTH:
            raise ValidationError(_l("At most %(count)s characters.", count=MAX_JSON_LENGTH))

    validate_fields = validate_conditions


class OfferForm(VersionFields, _OfferFormBase):
    """A manager's draft offer: texts in fr/ar/en, window, quota, rule and redemption fields; edited,
    with the version and values it showed (webapp/edit_conflicts.py)."""

    name_fr = StringField(_l("Name"), validators=[DataRequired(), Length(max=TEXT_LIMITS["name"])])
    benefit_fr = StringField(_l("Benefit"), validators=[DataRequired(), Length(max=TEXT_LIMITS["benefit"])])
    description_fr = TextAreaField(_l("Description"), validators=[Length(max=TEXT_LIMITS["description"])])
    name_ar = StringField(_l("Name"), validators=[DataRequired(), Length(max=TEXT_LIMITS["name"])])
    benefit_ar = StringField(_l("Benefit"), validators=[DataRequired(), Length(max=TEXT_LIMITS["benefit"])])
    description_ar = TextAreaField(_l("Description"), validators=[Length(max=TEXT_LIMITS["description"])])
    name_en = StringField(_l("Name"), validators=[DataRequired(), Length(max=TEXT_LIMITS["name"])])
    benefit_en = StringField(_l("Benefit"), validators=[DataRequired(), Length(max=TEXT_LIMITS["benefit"])])
    description_en = TextAreaField(_l("Description"), validators=[Length(max=TEXT_LIMITS["description"])])


class ExampleForm(FlaskForm):
    """ "Start from an example": a GET form (no CSRF: it changes nothing) that reloads the offer form
    filled with an example offer."""

    class Meta:
        csrf = False

    example = SelectField(_l("Start from an example"), choices=[])


class StaffMemberForm(OnceForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice(Role.PARTNER_AGENT.value, _l("Partner agent")),
            SelectChoice(Role.PARTNER_MANAGER.value, _l("Partner manager")),
        ],
        default=Role.PARTNER_AGENT.value,
    )


class CheckboxesField(SelectMultipleField):
    """Several choices shown as checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ApiKeyForm(OnceForm):
    label = StringField(_l("System using the key"), validators=[DataRequired(), Length(max=120)])
    scopes = CheckboxesField(
        _l("What the key may do"),
        choices=[SelectChoice(code, _l(SCOPE_WORDS[code])) for code in (SCOPE_VERIFY, SCOPE_REDEEM, SCOPE_ELIGIBILITY)],
        validators=[DataRequired(_l("Choose at least one."))],
    )
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])


OVER_QUOTA_CHOICES = [
    SelectChoice("", _l("Any")),
    SelectChoice("yes", _l("Over quota only")),
    SelectChoice("no", _l("Within quota only")),
]


class RedemptionFilterForm(FlaskForm):
    """Filters of the redemptions list and exports, read from the query string (GET: no CSRF)."""

    class Meta:
        csrf = False

    offer = SelectField(_l("Offer"), choices=[], default="")
    region = SelectField(_l("Region"), choices=[], default="")
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    over_quota = SelectField(_l("Quota"), choices=OVER_QUOTA_CHOICES, default="")
    before = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_OFFER_ID)])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end is before the start."))


class VoidRedemptionForm(FlaskForm):
    """A manager voids a mistaken redemption: why, in a few words (kept with it and in the audit)."""

    reason = StringField(_l("Why is it voided?"), validators=[DataRequired(), Length(max=200)])
