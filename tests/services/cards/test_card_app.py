"""Card activation on a phone (webapp/services/cards/card_app.py): the artisan's account created or
updated, the code used up and the card bound to the phone in one go; re-activation moves the card to
a new phone; a refusal after the code's check leaves nothing written; digits typed on an Arabic
keyboard are read as Latin ones. The code's own refusals are tested in test_activation.py."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.fixtures.live import Phone
from tests.services.accounts.test_sign_in import ClockCounters
from tests.services.cards.test_activation import BIRTH, CLIENT, POLICY, issue
from webapp.models import ActivationCode, AuditEvent, CardDevice, Role, User
from webapp.services.accounts.passwords import PasswordIsPersonal, PasswordTooCommon, PasswordTooShort
from webapp.services.accounts.sign_in import Attempt, LockRules, sign_in
from webapp.services.accounts.sms import PhoneInvalid, normalise_mobile, sms_gateway
from webapp.services.cards.activation import ActivationDetailsWrong
from webapp.services.cards.card_app import (
    ActivationRequest,
    ArtisanAccountDisabled,
    BirthDateInvalid,
    activate_card,
    artisan_card,
    artisan_email,
    parse_birth_date,
)
from webapp.services.cards.devices import DeviceKeyInvalid, current_device

PASSWORD = "tajine bleu de fes"
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture
def counters() -> ClockCounters:
    return ClockCounters()


def activate(session, counters, card, code, *, phone=None, password=PASSWORD, device_key=None, **overrides):
    """activate_card as the page calls it; the caller commits or rolls back."""
    request = ActivationRequest(
        card_number=overrides.get("card_number", card.number),
        code=code,
        birth_date=overrides.get("birth_date", BIRTH),
        password=password,
        phone=phone,
        device_key=device_key or Phone.new().device_key,
        client=CLIENT,
    )
    return activate_card(session, request, counters=counters, policy=POLICY, min_password_length=10)


def test_activation_creates_the_artisans_account_uses_the_code_and_binds_the_phone(session, counters, make_card):
    """A first activation creates an artisan account (placeholder address), uses the code and binds the phone."""
    card = make_card()
    code = issue(session, card)
    phone = Phone.new()
    account = activate(session, counters, card, code, device_key=phone.device_key, phone="06 12 34 56 78")
    session.commit()
    assert (account.role, account.artisan_id, account.phone) == (Role.ARTISAN, card.artisan_id, "+212612345678")
    assert account.email == artisan_email(card.artisan) and account.email.endswith("@artisan.invalid")
    assert account.check_password(PASSWORD) and not account.must_change_password
    assert session.scalar(select(ActivationCode.used_at)) is not None
    assert current_device(session, card).public_key == phone.device_key
    assert artisan_card(session, account).id == card.id
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert actions[-3:] == ["card.activation_code_use", "card.device_bound", "account.artisan_activation"]


def test_the_artisan_signs_in_with_the_placeholder_address_and_the_chosen_password(session, counters, make_card):
    """The account works with the ordinary sign-in (its address is its sign-in name)."""
    card = make_card()
    account = activate(session, counters, card, issue(session, card))
    session.commit()
    rules = LockRules(account_failures=5, client_failures=20, minutes=15)
    attempt = Attempt(email=account.email, password=PASSWORD, client=CLIENT)
    assert sign_in(session, counters, rules, attempt).id == account.id


@pytest.mark.parametrize(
    "typed",
    [
        lambda number: number,
        lambda number: number.lower(),
        lambda number: f"{number[:5]} {number[5:]}",
        lambda number: number.translate(ARABIC_DIGITS),
    ],
    ids=["as printed", "lower case", "grouped", "arabic digits"],
)
def test_the_artisan_signs_in_with_the_card_number(session, counters, make_card, typed):
    """An artisan has no email address: the card number, however typed, names their account."""
    card = make_card()
    account = activate(session, counters, card, issue(session, card))
    session.commit()
    rules = LockRules(account_failures=5, client_failures=20, minutes=15)
    attempt = Attempt(email=typed(card.number), password=PASSWORD, client=CLIENT)
    assert sign_in(session, counters, rules, attempt).id == account.id


def test_a_card_number_without_an_account_is_an_unknown_name(session, counters, make_card):
    """A card whose holder never activated gets the answer of an unknown address, not a crash."""
    from webapp.services.accounts.sign_in import BadCredentials

    card = make_card()
    rules = LockRules(account_failures=5, client_failures=20, minutes=15)
    with pytest.raises(BadCredentials):
        sign_in(session, counters, rules, Attempt(email=card.number, password=PASSWORD, client=CLIENT))


def test_reactivation_moves_the_card_to_the_new_phone_and_sets_the_new_password(session, counters, make_card):
    """A new code on a new phone: same account, new password, the old phone's binding ends."""
    card = make_card()
    old_phone, new_phone = Phone.new(), Phone.new()
    first = activate(session, counters, card, issue(session, card), device_key=old_phone.device_key)
    session.commit()
    second = activate(
        session, counters, card, issue(session, card), device_key=new_phone.device_key, password="couscous du vendredi"
    )
    session.commit()
    assert second.id == first.id
    assert second.check_password("couscous du vendredi") and not second.check_password(PASSWORD)
    bindings = session.scalars(select(CardDevice).order_by(CardDevice.id)).all()
    assert [b.public_key for b in bindings] == [old_phone.device_key, new_phone.device_key]
    assert bindings[0].replaced_at is not None and bindings[1].replaced_at is None
    assert session.scalar(select(User.id).where(User.artisan_id == card.artisan_id).limit(2)) == first.id


def test_an_existing_account_without_a_phone_is_updated_not_duplicated(session, counters, make_card, make_user):
    """An artisan who already had an account (made by the chamber) keeps it; a lock from failed sign-ins ends."""
    card = make_card()
    existing = make_user(Role.ARTISAN, artisan=card.artisan)
    existing.failed_sign_ins, existing.must_change_password = 3, True
    session.commit()
    account = activate(session, counters, card, issue(session, card))
    session.commit()
    assert account.id == existing.id and account.email == existing.email
    assert (account.failed_sign_ins, account.must_change_password) == (0, False)


@pytest.mark.parametrize(
    ("password", "refusal"),
    [("court", PasswordTooShort), ("password123", PasswordTooCommon)],
)
def test_a_refused_password_leaves_nothing_written(session, counters, make_card, password, refusal):
    """A password breaking the staff's rules is refused after the code's check: the code stays
    unused, no account, no binding (the page rolls back), and the same code works afterwards."""
    card = make_card()
    code = issue(session, card)
    with pytest.raises(refusal):
        activate(session, counters, card, code, password=password)
    session.rollback()
    assert session.scalar(select(ActivationCode.used_at)) is None
    assert session.scalar(select(User.id).where(User.artisan_id == card.artisan_id)) is None
    assert session.scalar(select(CardDevice.id)) is None
    activate(session, counters, card, code)
    session.commit()


def test_a_password_with_the_artisans_name_is_refused(session, counters, make_card):
    """The staff's rule: not the person's name."""
    card = make_card()
    name = card.artisan.last_name_latin
    with pytest.raises(PasswordIsPersonal):
        activate(session, counters, card, issue(session, card), password=f"{name}{name}-2026")


def test_a_disabled_account_is_not_opened_again(session, counters, make_card, make_user):
    """An administrator's disabling holds: activation refuses, the code stays unused."""
    card = make_card()
    account = make_user(Role.ARTISAN, artisan=card.artisan)
    account.is_enabled = False
    session.commit()
    with pytest.raises(ArtisanAccountDisabled):
        activate(session, counters, card, issue(session, card))
    session.rollback()
    assert session.scalar(select(ActivationCode.used_at)) is None


def test_a_bad_device_key_refuses_and_keeps_the_code(session, counters, make_card):
    """A device key that is not a P-256 point: refused, nothing bound, the code unused."""
    card = make_card()
    good = Phone.new().device_key
    bad = good[:60] + ("A" if good[60] != "A" else "B") + good[61:]  # Y changed: off the curve
    with pytest.raises(DeviceKeyInvalid):
        activate(session, counters, card, issue(session, card), device_key=bad)
    session.rollback()
    assert session.scalar(select(ActivationCode.used_at)) is None
    assert session.scalar(select(User.id).where(User.artisan_id == card.artisan_id)) is None


def test_an_invalid_phone_number_is_refused_before_the_code_is_looked_at(session, counters, make_card):
    """A phone number that is no Moroccan mobile: refused first, no attempt counted."""
    card = make_card()
    with pytest.raises(PhoneInvalid):
        activate(session, counters, card, issue(session, card), phone="12345")
    assert counters.values == {}


def test_arabic_indic_digits_are_read_as_latin_ones(session, counters, make_card):
    """Card number, code and phone typed with Arabic-Indic digits activate the card."""
    card = make_card()
    code = issue(session, card)
    account = activate(
        session,
        counters,
        card,
        code.translate(ARABIC_DIGITS),
        card_number=card.number.translate(ARABIC_DIGITS),
        phone="٠٦١٢٣٤٥٦٧٨",
    )
    assert account.phone == "+212612345678"


def test_a_wrong_birth_date_is_refused_with_the_codes_answer(session, counters, make_card):
    """The code's service decides (one answer for a wrong code or birth date); nothing is bound."""
    card = make_card()
    with pytest.raises(ActivationDetailsWrong):
        activate(session, counters, card, issue(session, card), birth_date=date(1981, 5, 17))
    assert session.scalar(select(CardDevice.id)) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("17/05/1980", date(1980, 5, 17)),
        ("17.5.1980", date(1980, 5, 17)),
        ("17-05-1980", date(1980, 5, 17)),
        ("17 05 1980", date(1980, 5, 17)),
        ("17051980", date(1980, 5, 17)),
        ("1980-05-17", date(1980, 5, 17)),
        ("١٧/٠٥/١٩٨٠", date(1980, 5, 17)),
        ("۱۷۰۵۱۹۸۰", date(1980, 5, 17)),
    ],
)
def test_birth_dates_are_read_as_typed_on_a_phone(typed, expected):
    """Day, month, year with any separator or none, the date picker's form, Arabic digits."""
    assert parse_birth_date(typed) == expected


@pytest.mark.parametrize("typed", ["", "31/02/1980", "1980", "17/05/80", "hier", "32/01/1980", "1705198"])
def test_impossible_birth_dates_are_refused(typed):
    """Anything but a real day is a form error."""
    with pytest.raises(BirthDateInvalid):
        parse_birth_date(typed)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0612345678", "+212612345678"),
        ("06 12 34 56 78", "+212612345678"),
        ("06.12.34.56.78", "+212612345678"),
        ("+212 7 12 34 56 78", "+212712345678"),
        ("00212612345678", "+212612345678"),
        ("٠٧١٢٣٤٥٦٧٨", "+212712345678"),
    ],
)
def test_mobile_numbers_are_kept_in_one_form(typed, expected):
    """A Moroccan mobile number, however typed, is kept as E.164."""
    assert normalise_mobile(typed) == expected


@pytest.mark.parametrize("typed", ["0512345678", "061234567", "+33612345678", "06123456789", "téléphone"])
def test_other_numbers_are_refused(typed):
    """Landlines, short or long numbers, other countries: refused."""
    with pytest.raises(PhoneInvalid):
        normalise_mobile(typed)


def test_the_console_sms_gateway_writes_the_message_to_the_log(caplog):
    """Development's gateway: the text and the number in the log (where a developer reads a code)."""
    with caplog.at_level("INFO", logger="carte.sms"):
        sms_gateway("console").send("+212612345678", "Code 123456")
    assert "SMS to +212612345678: Code 123456" in caplog.text
