"""Forms and words of the register screens (Flask-WTF: every POST form carries a CSRF token).

The artisan form only carries what is typed: every rule on a register field lives in
services/register/artisan_fields.py, and its problems are put back on the form's fields by the
view. Selects list their choices in the reader's language; their values are the stored codes."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SearchField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, TelInput, TextInput

from webapp.edit_conflicts import VersionFields
from webapp.forms_once import OnceForm
from webapp.models import Artisan, RevocationReason
from webapp.models.artisan import CnssStatus, Gender, LegalStatus
from webapp.services.register.artisan_fields import FIELDS

# Each register field's name on screen (the form's labels, and the audit trail's changes).
FIELD_LABELS = {
    "rna_number": _l("RNA number"),
    "cin": _l("CIN (national identity card)"),
    "first_name_latin": _l("First name in Latin letters"),
    "last_name_latin": _l("Last name in Latin letters"),
    "first_name_ar": _l("First name in Arabic"),
    "last_name_ar": _l("Last name in Arabic"),
    "birth_date": _l("Date of birth"),
    "gender": _l("Gender"),
    "phone": _l("Phone"),
    "region_code": _l("Region"),
    "province": _l("Province or prefecture"),
    "address_line": _l("Postal address"),
    "postal_code": _l("Postal code"),
    "city": _l("Town or city"),
    "trade_code": _l("Trade"),
    "legal_status": _l("Legal status"),
    "cnss_status": _l("CNSS-AMO status"),
    "cooperative_name": _l("Cooperative"),
    "activity_start_year": _l("Working since (year)"),
    "programmes": _l("Support programmes"),
}
GENDER_WORDS = {Gender.FEMALE.value: _l("Female"), Gender.MALE.value: _l("Male")}
LEGAL_STATUS_WORDS = {
    LegalStatus.INDEPENDENT.value: _l("Independent artisan"),
    LegalStatus.MASTER_ARTISAN.value: _l("Master artisan"),
    LegalStatus.COOPERATIVE_MEMBER.value: _l("Member of a cooperative"),
    LegalStatus.COMPANY.value: _l("Company"),
}
CNSS_WORDS = {
    CnssStatus.NOT_REGISTERED.value: _l("Not registered with the CNSS"),
    CnssStatus.PRE_REGISTERED.value: _l("Pre-registered with the CNSS"),
    CnssStatus.REGISTERED.value: _l("Registered with the CNSS"),
}
# A card as a verifier reads it today, and the two ways of having none in force (list filter).
CARD_STATE_WORDS = {
    "active": _l("Valid"),
    "suspended": _l("Suspended"),
    "expired": _l("Expired"),
    "revoked": _l("Revoked"),
    "none": _l("No card"),
}
CARD_FILTER_WORDS = {
    "active": _l("Valid card"),
    "suspended": _l("Suspended card"),
    "expired": _l("Expired card"),
    "revoked": _l("Card revoked, none in force"),
    "none": _l("Never had a card"),
}
REVOCATION_WORDS = {
    RevocationReason.LOST.value: _l("Lost"),
    RevocationReason.STOLEN.value: _l("Stolen"),
    RevocationReason.DECEASED.value: _l("Holder deceased"),
    RevocationReason.FRAUD.value: _l("Fraud"),
    RevocationReason.LEFT_TRADE.value: _l("Holder left the trade"),
    RevocationReason.REPLACED.value: _l("Replaced (damaged card, details changed)"),
}
# What an officer may choose: "replaced" is set by a replacement, never chosen as a revocation.
REVOCATION_CHOICES = [reason for reason in RevocationReason if reason != RevocationReason.REPLACED]
REPLACEMENT_CHOICES = [RevocationReason.LOST, RevocationReason.STOLEN, RevocationReason.REPLACED]


def _choices(words: dict[str, Any], first: Any) -> list[SelectChoice]:
    """A select's choices: an empty first one ("Choose", "Any"), then each value with its words."""
    return [SelectChoice("", first), *(SelectChoice(value, label) for value, label in words.items())]


class ArtisanForm(VersionFields, OnceForm):
    """An artisan's register fields as typed; region, province, trade and programme choices are set
    by the view. No RNA number: the system gives it (services/register/numbers.py). Editing, it
    carries the version and values it showed (webapp/edit_conflicts.py)."""

    cin = StringField(FIELD_LABELS["cin"])
    first_name_latin = StringField(FIELD_LABELS["first_name_latin"])
    last_name_latin = StringField(FIELD_LABELS["last_name_latin"])
    first_name_ar = StringField(FIELD_LABELS["first_name_ar"])
    last_name_ar = StringField(FIELD_LABELS["last_name_ar"])
    birth_date = StringField(FIELD_LABELS["birth_date"], widget=DateInput())
    gender = SelectField(
        FIELD_LABELS["gender"], choices=_choices(GENDER_WORDS, _l("Choose")), validate_choice=False, default=""
    )
    phone = StringField(FIELD_LABELS["phone"], widget=TelInput())
    region_code = SelectField(FIELD_LABELS["region_code"], choices=[], validate_choice=False)
    # Every province of the regions the person may choose, grouped by region; a small module
    # (static/js/backoffice/province-select.js) keeps the chosen region's only. The server checks.
    province = SelectField(FIELD_LABELS["province"], choices=[], validate_choice=False, default="")
    address_line = StringField(FIELD_LABELS["address_line"])
    postal_code = StringField(FIELD_LABELS["postal_code"])
    city = StringField(FIELD_LABELS["city"])
    trade_code = SelectField(FIELD_LABELS["trade_code"], choices=[], validate_choice=False)
    legal_status = SelectField(
        FIELD_LABELS["legal_status"],
        choices=_choices(LEGAL_STATUS_WORDS, _l("Choose")),
        validate_choice=False,
        default="",
    )
    cnss_status = SelectField(
        FIELD_LABELS["cnss_status"], choices=_choices(CNSS_WORDS, _l("Choose")), validate_choice=False, default=""
    )
    cooperative_name = StringField(FIELD_LABELS["cooperative_name"])
    activity_start_year = StringField(FIELD_LABELS["activity_start_year"], widget=TextInput())
    programmes = SelectMultipleField(
        FIELD_LABELS["programmes"],
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    # A likely duplicate was shown (services/register/duplicates.py): which ones, and the person's
    # confirmation that this is another person.
    duplicates_shown = HiddenField()
    confirm_duplicates = BooleanField(_l("Register anyway: I checked, this is another person."))

    def raw_record(self) -> dict[str, Any]:
        """The typed values, as clean_artisan_record reads them (programmes as one list of codes)."""
        raw = {field: self[field].data for field in FIELDS if field not in ("rna_number", "programmes")}
        return raw | {"programmes": ",".join(self.programmes.data or [])}

    def confirmed_duplicates(self) -> list[int] | None:
        """The ids of the likely duplicates shown and confirmed; None when not confirmed."""
        if not self.confirm_duplicates.data:
            return None
        return [
            int(part) for part in (self.duplicates_shown.data or "").split(",") if part.isdigit() and len(part) < 10
        ]


def artisan_form_data(artisan: Artisan) -> dict[str, Any]:
    """An artisan's stored values as the form shows them."""
    data: dict[str, Any] = {}
    for field in FIELDS:
        if field == "programmes":
            data[field] = [programme.code for programme in artisan.programmes]
            continue
        value = getattr(artisan, field)
        data[field] = "" if value is None else getattr(value, "value", value)
    data["birth_date"] = artisan.birth_date.isoformat()
    data["activity_start_year"] = str(artisan.activity_start_year)
    return data


class ArtisanFilterForm(FlaskForm):
    """The list's search box and filters: a GET form (no CSRF, it changes nothing); the choices of
    region, trade and programme are set by the view."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), validators=[Optional(), Length(max=100)])
    region = SelectField(_l("Region"), choices=[], default="")
    trade = SelectField(_l("Trade"), choices=[], default="")
    card = SelectField(_l("Card"), choices=_choices(CARD_FILTER_WORDS, _l("All cards")), default="")
    cnss = SelectField(_l("CNSS-AMO"), choices=_choices(CNSS_WORDS, _l("All statuses")), default="")
    gender = SelectField(_l("Gender"), choices=_choices(GENDER_WORDS, _l("Women and men")), default="")
    programme = SelectField(_l("Programme"), choices=[], default="")
    after = StringField(validators=[Optional(), Length(max=40)])


class CardActionForm(FlaskForm):
    """A card change, confirmed: what each action asks for (a reason, a revocation reason) is
    shown by the template; the card service says what is required."""

    reason = TextAreaField(_l("Reason"), validators=[Optional()])
    revocation_reason = SelectField(_l("Why is the card revoked?"), choices=[], default="")
    replacement_reason = SelectField(_l("Why is the card replaced?"), choices=[], default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.revocation_reason.choices = _choices(
            {reason.value: REVOCATION_WORDS[reason.value] for reason in REVOCATION_CHOICES}, _l("Choose a reason")
        )
        self.replacement_reason.choices = _choices(
            {reason.value: REVOCATION_WORDS[reason.value] for reason in REPLACEMENT_CHOICES}, _l("Choose a reason")
        )
