"""API keys for partner systems (a bank's or a logistics platform's server calling the API).

A key reads `ca_<prefix>_<secret>`: the prefix (public, stored) finds the row in one indexed
lookup, the secret (256 random bits) is stored only as its SHA-256 and compared in constant time.
The whole key is shown once, when it is created. A key carries scopes (what it may do), may
expire, and records when it was last used (at most one write a minute, so a busy key costs no
write per request).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from webapp.models import ApiKey, Organisation, utcnow
from webapp.services.audit import Actor, record_event
from webapp.services.errors import N_, DomainError, required_reason
from webapp.services.scope import Scope

KEY_SCHEME = "ca"
# What a key may do: verify cards (with this partner's offers; also the trust bundle and the offers'
# signed eligibility lists, the material of offline verification: rule A5 of docs/card-token.md),
# record redemptions, ask one card's eligibility by its number (lenders' systems).
SCOPE_VERIFY, SCOPE_REDEEM, SCOPE_ELIGIBILITY = "verify", "redeem", "eligibility"
# What each scope lets a key do, as people read it (the key's list shows these, never the codes).
SCOPE_WORDS = {
    SCOPE_VERIFY: N_("verify cards"),
    SCOPE_REDEEM: N_("record redemptions"),
    SCOPE_ELIGIBILITY: N_("ask a card's eligibility"),
}
SCOPES = frozenset({SCOPE_VERIFY, SCOPE_REDEEM, SCOPE_ELIGIBILITY})
LAST_USE_RESOLUTION = timedelta(minutes=1)
_KEY_SHAPE = re.compile(rf"{KEY_SCHEME}_([a-z2-7]{{10}})_([A-Za-z0-9_-]{{43}})")


class InvalidApiKey(DomainError):
    """Unknown, malformed or revoked: the caller is not told which."""

    code = "invalid_api_key"
    http_status = 401
    message = N_("This API key is not valid. Check the Authorization header: Bearer followed by the whole key.")


class UnknownScope(DomainError):
    code = "unknown_scope"
    http_status = 422
    message = N_("Unknown API key scope %(scope)s: use verify, redeem or eligibility.")

    def __init__(self, scope: str) -> None:
        super().__init__(scope=scope)


class NoScope(DomainError):
    code = "no_scope"
    http_status = 422
    message = N_("An API key needs at least one scope: verify, redeem or eligibility.")


class ExpiryInThePast(DomainError):
    code = "expiry_in_the_past"
    http_status = 422
    message = N_("An API key's expiry must be in the future.")


class InsufficientScope(DomainError):
    code = "insufficient_scope"
    http_status = 403
    message = N_(
        "This API key does not have the %(scope)s scope. Ask your organisation's manager for a key that has it."
    )

    def __init__(self, scope: str) -> None:
        super().__init__(scope=scope)


class ApiKeyNotFound(DomainError):
    code = "api_key_not_found"
    http_status = 404
    message = N_("No API key with prefix %(prefix)s.")

    def __init__(self, prefix: str) -> None:
        super().__init__(prefix=prefix)


@dataclass(frozen=True)
class NewApiKey:
    """A freshly created key: `plaintext` is shown once and never stored."""

    api_key: ApiKey
    plaintext: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def parse_scopes(scopes: Iterable[str] | str) -> str:
    """The stored form of scopes given as a list or as "verify,redeem" (sorted, space-separated)."""
    names = scopes.replace(",", " ").split() if isinstance(scopes, str) else [name.strip() for name in scopes]
    chosen = {name for name in names if name}
    for name in sorted(chosen):
        if name not in SCOPES:
            raise UnknownScope(name)
    if not chosen:
        raise NoScope()
    return " ".join(sorted(chosen))


def create_api_key(
    session: Session,
    organisation: Organisation,
    label: str,
    actor: Actor,
    *,
    scopes: Iterable[str] | str = SCOPES,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> NewApiKey:
    """A new key for an organisation's system, audited; the caller shows `plaintext` once."""
    label = required_reason(label, max_length=120)
    stored_scopes = parse_scopes(scopes)
    if expires_at is not None and expires_at <= (now or utcnow()):
        raise ExpiryInThePast()
    prefix = _random_prefix()
    secret = secrets.token_urlsafe(32)  # 43 characters
    api_key = ApiKey(
        organisation=organisation,
        prefix=prefix,
        secret_sha256=_digest(secret),
        label=label,
        scopes=stored_scopes,
        expires_at=expires_at,
    )
    session.add(api_key)
    session.flush()
    record_event(
        session,
        actor,
        "api_key.create",
        organisation_id=organisation.id,
        after={
            "prefix": prefix,
            "organisation": organisation.name,
            "scopes": stored_scopes,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return NewApiKey(api_key, f"{KEY_SCHEME}_{prefix}_{secret}")


def _random_prefix() -> str:
    """10 lower-case base-32 characters (50 bits): readable in logs and support calls."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return "".join(secrets.choice(alphabet) for _ in range(10))


_KEY_BY_PREFIX = select(ApiKey).where(ApiKey.prefix == bindparam("prefix"))  # built once: every API call asks it


def authenticate_api_key(session: Session, presented: str, now: datetime | None = None) -> ApiKey:
    """The active key a presented `ca_<prefix>_<secret>` string stands for, or InvalidApiKey.

    Revoked and expired keys are refused like unknown ones. The key's last use is recorded.
    """
    now = now or utcnow()
    match = _KEY_SHAPE.fullmatch(presented.strip())
    if match is None:
        raise InvalidApiKey()
    prefix, secret = match.groups()
    api_key = session.scalar(_KEY_BY_PREFIX, {"prefix": prefix})
    # Compare even when there is no such key, so timing does not tell which prefixes exist.
    expected = api_key.secret_sha256 if api_key is not None else "0" * 64
    if not hmac.compare_digest(expected, _digest(secret)) or api_key is None or api_key.is_revoked:
        raise InvalidApiKey()
    if api_key.is_expired(now):
        raise InvalidApiKey()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USE_RESOLUTION:
        api_key.last_used_at = now
    return api_key


def get_api_key(session: Session, prefix: str, scope: Scope) -> ApiKey:
    """The key with this prefix within the scope; another organisation's key is not found either."""
    statement = scope.filter_organisation(select(ApiKey).where(ApiKey.prefix == prefix), ApiKey.organisation_id)
    api_key = session.scalar(statement)
    if api_key is None:
        raise ApiKeyNotFound(prefix)
    return api_key


def revoke_api_key(session: Session, prefix: str, actor: Actor, scope: Scope) -> ApiKey:
    """Withdraw a key at once (a leaked key, a retired system); audited. The scope is required so
    that no caller forgets it: a manager revokes only their organisation's keys (404 otherwise),
    the CLI passes NATIONAL."""
    api_key = get_api_key(session, prefix, scope)
    if not api_key.is_revoked:
        api_key.revoked_at = utcnow()
        session.flush()
        record_event(
            session,
            actor,
            "api_key.revoke",
            organisation_id=api_key.organisation_id,
            before={"prefix": prefix},
            after={"revoked": True},
        )
    return api_key


def list_api_keys(session: Session, scope: Scope) -> list[ApiKey]:
    """The keys within the scope (a manager sees their organisation's), newest first."""
    statement = scope.filter_organisation(select(ApiKey), ApiKey.organisation_id).order_by(ApiKey.id.desc())
    return list(session.scalars(statement))
