"""API keys: shown once, stored as a digest, found by prefix, audited, revocable."""

import hashlib

import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from webapp.models import ApiKey, AuditEvent
from webapp.services.errors import ReasonRequired
from webapp.services.partners.api_keys import (
    ApiKeyNotFound,
    InvalidApiKey,
    authenticate_api_key,
    create_api_key,
    revoke_api_key,
)
from webapp.services.scope import NATIONAL, Scope


def test_a_key_is_stored_as_a_digest_and_authenticates(session, make_organisation):
    """The plaintext is never stored; presenting it finds the key; creation is audited."""
    organisation = make_organisation()
    new_key = create_api_key(session, organisation, "  bank core system  ", TEST_ACTOR)
    session.commit()
    stored = session.scalars(select(ApiKey)).one()
    secret = new_key.plaintext[len(f"ca_{stored.prefix}_") :]  # the secret itself may hold "_"
    assert new_key.plaintext.startswith(f"ca_{stored.prefix}_") and stored.label == "bank core system"
    assert secret not in stored.secret_sha256 and stored.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert authenticate_api_key(session, new_key.plaintext).organisation_id == organisation.id
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "api_key.create")) is not None


@pytest.mark.parametrize("label", ["", "   "])
def test_a_key_needs_a_label(session, make_organisation, label):
    """A blank label is refused: every key says which system holds it."""
    with pytest.raises(ReasonRequired):
        create_api_key(session, make_organisation(), label, TEST_ACTOR)


def test_revoking_is_audited_and_final(session, make_api_key):
    """A revoked key no longer authenticates; revoking an unknown prefix is a named error."""
    new_key = make_api_key()
    revoke_api_key(session, new_key.api_key.prefix, TEST_ACTOR, NATIONAL)
    with pytest.raises(InvalidApiKey):
        authenticate_api_key(session, new_key.plaintext)
    with pytest.raises(ApiKeyNotFound):
        revoke_api_key(session, "zzzzzzzzzz", TEST_ACTOR, NATIONAL)


def test_a_key_outside_the_scope_is_not_found(session, make_api_key, make_organisation):
    """An organisation's scope cannot revoke another organisation's key: not found, and it stays active."""
    new_key = make_api_key()
    other = make_organisation()
    with pytest.raises(ApiKeyNotFound):
        revoke_api_key(session, new_key.api_key.prefix, TEST_ACTOR, Scope(organisation_id=other.id))
    assert authenticate_api_key(session, new_key.plaintext).id == new_key.api_key.id
