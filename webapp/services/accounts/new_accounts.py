"""What every way of creating an account shares (administrators creating staff, partner managers
adding their people): the email address's form, a refusal for a taken address, and the created
account with its temporary password, shown once."""

from __future__ import annotations

import re
from dataclasses import dataclass

from webapp.models import User
from webapp.services.errors import N_, DomainError

MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")


class EmailTaken(DomainError):
    code = "email_taken"
    http_status = 409
    message = N_("An account with this email address already exists.")


@dataclass(frozen=True)
class NewAccount:
    """A created account and its temporary password (shown once, never stored in clear)."""

    user: User
    temporary_password: str


def normalise_email(email: str) -> str:
    """How addresses are stored and looked up: trimmed, lower-case."""
    return email.strip().lower()


def is_email_address(email: str) -> bool:
    """A plausible address (one @, a dotted domain), at most 254 characters."""
    return len(email) <= MAX_EMAIL_LENGTH and _EMAIL.fullmatch(email) is not None
