"""The rules a password must follow when a person chooses it: long enough, not their name or email
address, not one of the most common passwords (checked case-insensitively).

They apply when a person sets a password (webapp/services/accounts/sign_in.change_password), not to
generated temporary passwords nor to the demo seed's published password.
"""

from __future__ import annotations

import functools
import re
import secrets
from pathlib import Path

from webapp.services.errors import N_, DomainError

# The floor of the PASSWORD_MIN_LENGTH setting: the common-password list holds every listed
# password of this length and more (shorter ones are refused by length already).
MIN_PASSWORD_LENGTH_FLOOR = 10
# The longest password accepted: hashing cost stays bounded, and no one types more.
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
# Parts of a name or an email address shorter than this are not looked for inside a password
# ("Ali" may well be part of a good passphrase).
SHORTEST_PERSONAL_PART = 4
_NOT_A_LETTER_OR_DIGIT = re.compile(r"[\W_]+")
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (l/1, o/0)


class PasswordRefused(DomainError):
    """A chosen password that breaks a rule (subclasses say which)."""

    code = "password_refused"
    http_status = 422
    message = N_("This password cannot be used: choose another.")


class PasswordTooShort(PasswordRefused):
    code = "password_too_short"
    message = N_("Too short: choose a password of at least %(minimum)s characters.")

    def __init__(self, minimum: int) -> None:
        super().__init__(minimum=minimum)


class PasswordTooLong(PasswordRefused):
    code = "password_too_long"
    message = N_("Too long: at most %(maximum)s characters.")

    def __init__(self, maximum: int) -> None:
        super().__init__(maximum=maximum)


class PasswordIsPersonal(PasswordRefused):
    code = "password_is_personal"
    message = N_("Choose a password that does not contain your name or your email address.")


class PasswordTooCommon(PasswordRefused):
    code = "password_too_common"
    message = N_("This password is one of the most common ones, which are tried first: choose another.")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (read once per process)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip())


def _letters_and_digits(text: str) -> str:
    """Lower-cased, without spaces, punctuation or underscores: "Amina.Tazi" -> "aminatazi"."""
    return _NOT_A_LETTER_OR_DIGIT.sub("", text.casefold())


def personal_parts(email: str, display_name: str) -> set[str]:
    """What a password must not contain: the email address, its local part and each of its words,
    the whole name and each of its words (those long enough to matter)."""
    local_part = email.partition("@")[0]
    candidates = [email, local_part, display_name, *re.split(r"[\W_]+", local_part), *display_name.split()]
    parts = {_letters_and_digits(candidate) for candidate in candidates}
    return {part for part in parts if len(part) >= SHORTEST_PERSONAL_PART}


def check_new_password(password: str, *, email: str, display_name: str, min_length: int) -> None:
    """Raise the PasswordRefused of the first rule `password` breaks; return if it follows them all."""
    if len(password) < min_length:
        raise PasswordTooShort(min_length)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordTooLong(MAX_PASSWORD_LENGTH)
    flattened = _letters_and_digits(password)
    if any(part in flattened for part in personal_parts(email, display_name)):
        raise PasswordIsPersonal()
    if password.casefold() in common_passwords() or password.strip().casefold() in common_passwords():
        raise PasswordTooCommon()


def temporary_password() -> str:
    """12 random characters in three groups (about 59 bits), from an alphabet without look-alikes,
    easy to read out over the phone; the person replaces it at their first sign-in."""
    return "-".join("".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(3))
