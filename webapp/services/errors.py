"""The one base of every refusal a service raises: a stable code, an HTTP status, a message.

Services import no Flask, so a message is marked for translation with `N_` (extracted by Babel)
and translated where it is shown: the web layer in the user's language (`webapp/errors.py`), the
CLI in English (`str(error)`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here."""
    return message


class DomainError(Exception):
    """A refused operation. Subclasses set `code`, `http_status` and a `message` with named
    placeholders filled from the constructor's keyword arguments."""

    code: ClassVar[str] = "refused"
    http_status: ClassVar[int] = 409
    message: ClassVar[str] = N_("This operation is not allowed.")
    # Placeholders whose values are themselves words of the product's vocabulary (a status):
    # the web layer translates them too.
    translated_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(self.message % params if params else self.message)

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries (Retry-After on a refusal that passes with time)."""
        return {}

    def details(self, language: str, translate: Callable[..., str]) -> dict[str, Any]:
        """Extra members of the JSON answer (which fields were wrong, which conditions failed), in
        `language`; `translate(message, **params)` translates a message marked with N_."""
        return {}


class ReasonRequired(DomainError):
    code = "reason_required"
    http_status = 422
    message = N_("A reason is required: say why, in a few words.")


# Reasons are stored in columns of 200 characters (audit trail, card and withdrawal reasons).
MAX_REASON_LENGTH = 200


class ReasonTooLong(DomainError):
    code = "reason_too_long"
    http_status = 422
    message = N_("This text is too long: at most %(count)s characters.")

    def __init__(self, count: int) -> None:
        super().__init__(count=count)


def required_reason(reason: str | None, max_length: int = MAX_REASON_LENGTH) -> str:
    """The reason, stripped; a blank or whitespace-only reason is refused, and so is one longer
    than its column (a database would refuse it with an error, not a sentence)."""
    cleaned = (reason or "").strip()
    if not cleaned:
        raise ReasonRequired()
    if len(cleaned) > max_length:
        raise ReasonTooLong(max_length)
    return cleaned


def optional_reason(reason: str | None, max_length: int = MAX_REASON_LENGTH) -> str | None:
    """An optional reason: stripped, blank as none, never longer than its column."""
    cleaned = (reason or "").strip()
    if len(cleaned) > max_length:
        raise ReasonTooLong(max_length)
    return cleaned or None
