"""Signing keys: ES256, kid from the RFC 7638 thumbprint, private keys 0600, rotation, retirement."""

import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from webapp.models import AuditEvent, RevocationReason, SigningKeyState
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.tokens import UnknownKey, verify_card_token
from webapp.services.trust import signing_keys


def test_thumbprint_matches_rfc_7638_example_shape():
    """The thumbprint hashes crv, kty, x, y in lexical order without spaces (RFC 7638 section 3)."""
    jwk = {"kty": "EC", "crv": "P-256", "x": "abc", "y": "def", "kid": "ignored", "use": "sig"}
    import base64
    import hashlib

    expected = base64.urlsafe_b64encode(
        hashlib.sha256(b'{"crv":"P-256","kty":"EC","x":"abc","y":"def"}').digest()
    ).rstrip(b"=")
    assert signing_keys.jwk_thumbprint(jwk) == expected.decode()


def test_generated_key_is_private_to_its_owner(app, session):
    """The first key is active, its PEM is mode 0600 and its kid is the thumbprint's prefix."""
    key = signing_keys.generate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    path = Path(app.config["KEYS_DIR"]) / f"{key.kid}.pem"
    assert key.state == SigningKeyState.ACTIVE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key.thumbprint.startswith(key.kid) and len(key.kid) == signing_keys.KID_LENGTH
    assert signing_keys.jwk_thumbprint(json.loads(key.public_jwk)) == key.thumbprint
    assert "d" not in json.loads(key.public_jwk)


def test_a_second_generated_key_is_published_but_does_not_sign(app, session, signer):
    """Generating while a key is active publishes the new key for verifiers without switching."""
    key = signing_keys.generate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    keyring = signing_keys.load_keyring(session, app.config["KEYS_DIR"])
    assert key.state == SigningKeyState.PUBLISHED
    assert keyring.require_signer().kid == signer.kid
    assert {jwk["kid"] for jwk in keyring.published_jwks} == {signer.kid, key.kid}


def test_rotation_keeps_old_cards_valid(app, session, make_card):
    """After a rotation new cards use the new key and old cards still verify."""
    old_card = make_card()
    new_key = signing_keys.rotate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    session.commit()
    keyring = signing_keys.load_keyring(session, app.config["KEYS_DIR"])
    new_card = make_card()
    assert keyring.require_signer().kid == new_key.kid != old_card.key_id
    assert verify_card_token(old_card.token, keyring.verifying_keys).number == old_card.number
    assert new_card.key_id == old_card.key_id  # make_card's signer was loaded before the rotation


def test_rotate_to_a_published_key(app, session, signer):
    """rotate --to activates a key generated earlier; the old one verifies only."""
    waiting = signing_keys.generate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    signing_keys.rotate_key(session, app.config["KEYS_DIR"], TEST_ACTOR, to_kid=waiting.kid)
    session.commit()
    states = {k.kid: k.state for k in signing_keys.list_keys(session)}
    assert states == {waiting.kid: SigningKeyState.ACTIVE, signer.kid: SigningKeyState.VERIFY_ONLY}


def test_retired_key_cards_become_unknown(app, session, make_card):
    """Retiring a rotated-out key removes it from the keyring: its cards are unknown_key."""
    card = make_card()
    signing_keys.rotate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    signing_keys.retire_key(session, card.key_id, TEST_ACTOR, force=True)
    session.commit()
    keyring = signing_keys.load_keyring(session, app.config["KEYS_DIR"])
    assert card.key_id not in keyring.verifying_keys
    with pytest.raises(UnknownKey):
        verify_card_token(card.token, keyring.verifying_keys)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.signing_key_id.is_not(None))).all()
    assert "key.retire" in actions and "key.activate" in actions


@pytest.mark.parametrize(
    ("setup", "error"),
    [("active", signing_keys.ActiveKeyCannotBeRetired), ("retired", signing_keys.KeyAlreadyRetired)],
)
def test_retire_refusals(app, session, signer, setup, error):
    """The signing key cannot be retired, nor a key twice."""
    kid = signer.kid
    if setup == "retired":
        signing_keys.rotate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
        signing_keys.retire_key(session, kid, TEST_ACTOR)
    with pytest.raises(error):
        signing_keys.retire_key(session, kid, TEST_ACTOR)


def test_unknown_kid_is_refused(app, session):
    """Naming a key that does not exist raises SigningKeyNotFound."""
    with pytest.raises(signing_keys.SigningKeyNotFound):
        signing_keys.retire_key(session, "nope00", TEST_ACTOR)


def _break_key(path, how):
    if how == "missing":
        path.unlink()
    elif how == "not_pem":
        path.write_text("not a key")
    else:
        if os.geteuid() == 0:
            pytest.skip("root reads a file of mode 000")
        path.chmod(0)


@pytest.mark.parametrize(
    ("how", "refusal", "reason"),
    [
        ("missing", "private_key_missing", "missing"),
        ("not_pem", "private_key_unreadable", "not a PEM private key"),
        ("mode_000", "private_key_unreadable", "Permission denied"),
    ],
)
def test_a_broken_private_key_means_no_signer_and_says_which(app, session, signer, how, refusal, reason):
    """Without a readable PEM file, verification still works; signing refuses naming the kid, the
    path and what is wrong (missing or unreadable), not "run keys generate"."""
    path = Path(app.config["KEYS_DIR"]) / f"{signer.kid}.pem"
    _break_key(path, how)
    keyring = signing_keys.load_keyring(session, app.config["KEYS_DIR"])
    assert signer.kid in keyring.verifying_keys
    with pytest.raises(signing_keys.PrivateKeyUnreadable) as raised:
        keyring.require_signer()
    assert raised.value.code == refusal
    assert signer.kid in str(raised.value) and str(path) in str(raised.value) and reason in str(raised.value)
    assert "keys generate" not in str(raised.value)


def test_kids_never_start_with_a_dash(app, session, monkeypatch):
    """A key whose thumbprint starts with "-" is drawn again, so every kid can be typed as an argument."""
    from cryptography.hazmat.primitives.asymmetric import ec

    real_generate = ec.generate_private_key
    dashed = next(
        key
        for key in iter(lambda: real_generate(ec.SECP256R1()), None)
        if signing_keys.jwk_thumbprint(signing_keys.public_jwk(key.public_key())).startswith("-")
    )
    draws = iter([dashed])
    monkeypatch.setattr(ec, "generate_private_key", lambda curve: next(draws, None) or real_generate(curve))
    key = signing_keys.generate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    assert not key.kid.startswith("-")
    assert next(draws, None) is None  # the dashed key was offered first, and refused


def test_retiring_a_key_that_backs_cards_in_force_is_refused(app, session, make_card):
    """Retirement is refused while active or suspended cards carry the key's signature, and says how many."""
    cards = [make_card() for _ in range(3)]
    card_service.suspend_card(session, cards[0], "inquiry", TEST_ACTOR)
    card_service.revoke_card(session, cards[1], RevocationReason.LOST, TEST_ACTOR)
    signing_keys.rotate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    with pytest.raises(signing_keys.KeyStillBacksCards, match=": 2\\.") as refusal:
        signing_keys.retire_key(session, cards[0].key_id, TEST_ACTOR)
    assert refusal.value.count == 2 and refusal.value.code == "key_backs_cards"


def test_a_forced_retirement_is_audited_with_the_cards_it_strands(app, session, make_card):
    """With force the key is retired, and the audit event records how many cards in force it strands."""
    card = make_card()
    signing_keys.rotate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    signing_keys.retire_key(session, card.key_id, TEST_ACTOR, force=True)
    session.commit()
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "key.retire")).one()
    assert event.after == {"state": "retired", "cards_in_force": 1}


def test_a_retired_private_key_leaves_the_keys_folder(app, session, signer):
    """The PEM moves to keys/retired/<kid>.pem (folder 0700, file 0600); keys/ keeps only keys that sign."""
    keys_dir = Path(app.config["KEYS_DIR"])
    new_key = signing_keys.rotate_key(session, keys_dir, TEST_ACTOR)
    signing_keys.retire_key(session, signer.kid, TEST_ACTOR, keys_dir=keys_dir)
    moved = keys_dir / "retired" / f"{signer.kid}.pem"
    assert sorted(p.name for p in keys_dir.glob("*.pem")) == [f"{new_key.kid}.pem"]
    assert stat.S_IMODE(moved.stat().st_mode) == 0o600
    assert stat.S_IMODE(moved.parent.stat().st_mode) == 0o700


def test_rotating_to_the_signing_key_is_refused(app, session, signer):
    """`rotate --to` the key that already signs raises KeyAlreadySigning and changes nothing."""
    with pytest.raises(signing_keys.KeyAlreadySigning, match="already signs"):
        signing_keys.rotate_key(session, app.config["KEYS_DIR"], TEST_ACTOR, to_kid=signer.kid)


def test_states_tell_published_from_rotated_out(app, session, signer):
    """A key waiting to sign reads "published", a rotated-out one "verify only", the signing one "signing"."""
    waiting = signing_keys.generate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    labels = {k.kid: k.label for k in signing_keys.list_keys(session)}
    assert labels == {signer.kid: "signing", waiting.kid: "published"}
    signing_keys.rotate_key(session, app.config["KEYS_DIR"], TEST_ACTOR, to_kid=waiting.kid)
    third = signing_keys.generate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    signing_keys.retire_key(session, third.kid, TEST_ACTOR)
    labels = {k.kid: k.label for k in signing_keys.list_keys(session)}
    assert labels == {signer.kid: "verify only", waiting.kid: "signing", third.kid: "retired"}


def test_list_keys_counts_cards_signed_and_in_force(app, session, make_card):
    """Each key lists the cards it signed and how many of those are in force."""
    cards = [make_card() for _ in range(3)]
    card_service.revoke_card(session, cards[0], RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    (summary,) = signing_keys.list_keys(session)
    assert (summary.cards_signed, summary.cards_in_force) == (3, 2)


def test_published_for_measures_time_in_the_jwks(app, session, signer):
    """A key has been published since it was generated."""
    key = signing_keys.get_key(session, signer.kid)
    assert signing_keys.published_for(key, key.created_at + timedelta(seconds=42)) == timedelta(seconds=42)
