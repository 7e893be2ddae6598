"""Text messages to an artisan's phone (sign-in codes), through a gateway chosen by the SMS_GATEWAY
setting. No SMS provider is connected yet: the console gateway writes each message to the app's log,
which is enough for development and trials; a provider is one more class with `send`."""

from __future__ import annotations

import logging
import re
from typing import Protocol

from webapp.services.errors import N_, DomainError

log = logging.getLogger("carte.sms")

# Digits as people type them on an Arabic keyboard: Arabic-Indic (U+0660..) and Eastern
# Arabic-Indic (Persian, U+06F0..), read as 0-9.
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_SEPARATORS = re.compile(r"[\s.\-()/]+")
# A Moroccan mobile number: 06 or 07 then 8 digits, given nationally or with +212 / 00212.
_MOROCCAN_MOBILE = re.compile(r"^(?:\+212|00212|0)([67]\d{8})$")


class PhoneInvalid(DomainError):
    code = "phone_invalid"
    http_status = 422
    message = N_("Type a Moroccan mobile number, such as 06 12 34 56 78.")


def latin_digits(text: str) -> str:
    """`text` with Arabic-Indic and Eastern Arabic digits replaced by 0-9."""
    return text.translate(_ARABIC_DIGITS)


def normalise_mobile(text: str) -> str:
    """A Moroccan mobile number in E.164 form (+212612345678), whatever digits and separators were
    typed, or PhoneInvalid."""
    compact = _SEPARATORS.sub("", latin_digits(text.strip()))
    match = _MOROCCAN_MOBILE.match(compact)
    if match is None:
        raise PhoneInvalid()
    return "+212" + match.group(1)


class SmsGateway(Protocol):
    """Sends one text message to one E.164 number; raises on failure (the caller decides)."""

    def send(self, phone: str, text: str) -> None: ...


class ConsoleSmsGateway:
    """Development: the message goes to the log (where a developer reads the sign-in code)."""

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", phone, text)


def sms_gateway(name: str) -> SmsGateway:
    """The gateway the SMS_GATEWAY setting names (validated at start-up)."""
    if name == "console":
        return ConsoleSmsGateway()
    raise ValueError(f"unknown SMS gateway {name!r}")
