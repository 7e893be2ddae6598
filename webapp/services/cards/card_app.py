"""The artisan's side of a card (issue 15, parts 1 and 2): activating it on a phone, and what the card
app shows.

Activation (the /card/activate page) proves the person holds the card's one-time code and knows the
holder's birth date (webapp/services/cards/activation.py), then, in the caller's one transaction:
creates the artisan's account or updates it (a re-activation on a new phone), sets the password
they chose, uses the code up, and binds the card to the phone's device key (devices.bind_device,
which ends the previous phone's binding, so its live QRs stop verifying).

Artisans have no email address, but `user_account.email` is unique and required (the staff's sign-in
name): an artisan's account gets a placeholder under the reserved `.invalid` top-level domain
(RFC 6761), built from the register number (RNA), e.g. `rna-ab12345@artisan.invalid`. It is unique
because the RNA number is, it is stable across card replacements (a card number is not), no mail can
ever be sent to it, and no staff address can take it (`.invalid` resolves nowhere).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Artisan, Card, CardDevice, Role, User, utcnow
from webapp.services.accounts.passwords import check_new_password
from webapp.services.accounts.sign_in import AttemptCounters, client_actor, person_actor
from webapp.services.accounts.sms import latin_digits, normalise_mobile
from webapp.services.audit import record_event
from webapp.services.cards.activation import ActivationPolicy, check_activation, consume_activation_code
from webapp.services.cards.devices import bind_device, thumbprint
from webapp.services.cards.numbers import normalize_card_number
from webapp.services.errors import N_, DomainError

ARTISAN_EMAIL_DOMAIN = "artisan.invalid"
_NOT_AN_EMAIL_CHARACTER = re.compile(r"[^a-z0-9]+")


class ArtisanAccountDisabled(DomainError):
    """An administrator disabled the artisan's account: activation does not open it again."""

    code = "artisan_account_disabled"
    http_status = 403
    message = N_("Your account is disabled: contact your chamber of crafts.")


class NoArtisanCard(DomainError):
    code = "no_artisan_card"
    http_status = 404
    message = N_("No card is registered for your account.")


class BirthDateInvalid(DomainError):
    code = "birth_date_invalid"
    http_status = 422
    message = N_("Type the birth date as on your card: day, month, year (for example 31/12/1980).")


@dataclass(frozen=True)
class ActivationRequest:
    """What the person typed on /card/activate (already bounded by the form), and who they are."""

    card_number: str
    code: str
    birth_date: date
    password: str
    phone: str | None
    device_key: str
    client: str


def artisan_email(artisan: Artisan) -> str:
    """The placeholder sign-in name of an artisan's account (see the module's docstring)."""
    return f"rna-{_NOT_AN_EMAIL_CHARACTER.sub('-', artisan.rna_number.lower()).strip('-')}@{ARTISAN_EMAIL_DOMAIN}"


_DATE_PARTS = re.compile(r"^\s*(\d{1,2})\s*[/.\-\s]\s*(\d{1,2})\s*[/.\-\s]\s*(\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_COMPACT_DATE = re.compile(r"^\s*(\d{2})(\d{2})(\d{4})\s*$")  # 31121980: a numeric keypad has no "/"


def parse_birth_date(text: str) -> date:
    """A birth date typed day/month/year (any of / . - space between, Arabic digits accepted) or as
    the date picker sends it (YYYY-MM-DD); BirthDateInvalid otherwise."""
    typed = latin_digits(text)
    if match := _ISO_DATE.match(typed):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DATE_PARTS.match(typed) or _COMPACT_DATE.match(typed):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise BirthDateInvalid()
    try:
        return date(year, month, day)
    except ValueError:
        raise BirthDateInvalid() from None


def activate_card(
    session: Session,
    request: ActivationRequest,
    *,
    counters: AttemptCounters,
    policy: ActivationPolicy,
    min_password_length: int,
    now: datetime | None = None,
) -> User:
    """Activate a card on a phone; the artisan's account, signed in by the caller.

    Raises ActivationRefused (whose writes the caller keeps: counts and audit events), or PasswordRefused,
    PhoneInvalid, device_key_invalid, ArtisanAccountDisabled (whose writes the caller rolls back: the
    code stays unused, nothing is half-written).
    """
    now = now or utcnow()
    phone = normalise_mobile(request.phone) if request.phone and request.phone.strip() else None
    activation = check_activation(
        session,
        latin_digits(request.card_number),
        latin_digits(request.code),
        request.birth_date,
        request.client,
        counters=counters,
        policy=policy,
        now=now,
    )
    card = session.get(Card, activation.card_id)
    assert card is not None
    artisan = card.artisan
    account = session.scalar(select(User).where(User.artisan_id == artisan.id).with_for_update())
    email = account.email if account is not None else artisan_email(artisan)
    check_new_password(request.password, email=email, display_name=artisan.name_latin, min_length=min_password_length)
    if account is not None and not account.is_enabled:
        raise ArtisanAccountDisabled()
    created = account is None
    if account is None:
        account = User(email=email, display_name=artisan.name_latin, role=Role.ARTISAN, artisan=artisan)
        session.add(account)
    account.set_password(request.password)
    account.must_change_password = False
    # The code and the birth date prove more than a password: a lock from earlier failures ends.
    account.failed_sign_ins, account.last_failed_sign_in_at, account.locked_until = 0, None, None
    account.phone = phone
    account.last_signed_in_at = now
    session.flush()
    consume_activation_code(session, activation, request.client, counters, now=now)
    bind_device(session, card, request.device_key, actor=person_actor(account))
    record_event(
        session,
        client_actor(request.client) if created else person_actor(account),
        "account.artisan_activation",
        card=card,
        account_id=account.id,
        after={"created": created, "phone": phone is not None, "client": request.client},
    )
    return account


def artisan_card(session: Session, user: User) -> Card:
    """The artisan's current card: the latest issued (a replacement supersedes the card it replaces)."""
    card = (
        session.scalar(
            select(Card).where(Card.artisan_id == user.artisan_id).order_by(Card.issued_at.desc(), Card.id.desc())
        )
        if user.artisan_id is not None
        else None
    )
    if card is None:
        raise NoArtisanCard()
    return card


def normalised_card_number(text: str) -> str | None:
    return normalize_card_number(latin_digits(text))


def binding_is_current(session: Session, device_key: str) -> bool | None:
    """Whether a phone's key is its card's current binding (False once the card moved to another
    phone), or None for a key never bound. For the app of a phone whose session ended (a
    re-activation elsewhere changes the password): a public key tells nothing secret, and a verifier
    shown that phone's QR would learn as much (`replayed`)."""
    try:
        print_ = thumbprint(device_key)
    except (ValueError, TypeError):
        return None
    replaced_at = session.execute(select(CardDevice.replaced_at).where(CardDevice.thumbprint == print_)).first()
    return None if replaced_at is None else replaced_at[0] is None
