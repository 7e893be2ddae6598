"""ES256 signing keys: generate, rotate, retire; and the keyring verifiers and signers use.

Private keys live in KEYS_DIR as <kid>.pem (mode 0600); the database keeps only public keys and
states. Key objects are built once per keyring load, never parsed from PEM per signature.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.utils import base64url_decode, base64url_encode
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from webapp.models import Card, CardStatus, SigningKey, SigningKeyState, utcnow
from webapp.services.audit import Actor, record_event
from webapp.services.errors import N_, DomainError

# A stable 6-character prefix (36 bits) of the RFC 7638 thumbprint: with a PUBLIC_BASE_URL of at
# most 26 characters it keeps a 25-character name at QR version 11 (8 characters would need 12).
KID_LENGTH = 6


class SigningKeyError(DomainError):
    """Base of the key errors."""

    code = "signing_key_error"


class NoActiveSigningKey(SigningKeyError):
    code = "no_signing_key"
    http_status = 503
    message = N_("No active signing key: run `flask --app wsgi keys generate`.")


class SigningKeyNotFound(SigningKeyError):
    code = "signing_key_not_found"
    http_status = 404
    message = N_("No signing key with kid %(kid)s.")

    def __init__(self, kid: str) -> None:
        super().__init__(kid=repr(kid))


class ActiveKeyCannotBeRetired(SigningKeyError):
    code = "active_key"
    message = N_("Key %(kid)s signs new cards: rotate to another key before retiring it.")

    def __init__(self, kid: str) -> None:
        super().__init__(kid=kid)


class KeyAlreadySigning(SigningKeyError):
    code = "key_already_signing"
    message = N_("Key %(kid)s already signs new cards: there is nothing to rotate.")

    def __init__(self, kid: str) -> None:
        super().__init__(kid=kid)


class KeySignsItsOwnCards(SigningKeyError):
    code = "key_is_signing"
    message = N_("Key %(kid)s is the signing key: its cards need no re-signing.")

    def __init__(self, kid: str) -> None:
        super().__init__(kid=kid)


class KeyStillBacksCards(SigningKeyError):
    """Retiring a key turns the cards it signed into unknown_key: refused while some are in force."""

    code = "key_backs_cards"
    message = N_(
        "Cards in force (active or suspended) signed by key %(kid)s: %(count)d. "
        "Re-sign them under the signing key before retiring it."
    )

    def __init__(self, kid: str, count: int) -> None:
        self.count = count
        super().__init__(kid=kid, count=count)


class KeyAlreadyRetired(SigningKeyError):
    code = "key_retired"
    message = N_("Key %(kid)s is already retired.")

    def __init__(self, kid: str) -> None:
        super().__init__(kid=kid)


class PrivateKeyUnreadable(SigningKeyError):
    """The signing key's PEM file cannot be read (permissions, or not a P-256 private key)."""

    code = "private_key_unreadable"
    http_status = 503
    message = N_(
        "Signing is unavailable: the private key of signing key %(kid)s cannot be read at %(path)s "
        "(%(reason)s). Check the file's owner and mode (0600, owned by the service's user)."
    )

    def __init__(self, kid: str, path: Path, reason: str = "unreadable") -> None:
        self.kid, self.path = kid, path
        super().__init__(kid=kid, path=str(path), reason=reason)


class PrivateKeyMissing(PrivateKeyUnreadable):
    """The signing key's PEM file is not where the keyring looks for it."""

    code = "private_key_missing"
    message = N_(
        "Signing is unavailable: the private key of signing key %(kid)s is missing (no file %(path)s). "
        "Restore it from the backup of KEYS_DIR, or rotate to another key."
    )

    def __init__(self, kid: str, path: Path) -> None:
        super().__init__(kid, path, "missing")


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public key as a JWK with only its required members."""
    numbers = public_key.public_numbers()
    return {
        "crv": "P-256",
        "kty": "EC",
        "x": base64url_encode(numbers.x.to_bytes(32, "big")).decode("ascii"),
        "y": base64url_encode(numbers.y.to_bytes(32, "big")).decode("ascii"),
    }


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 thumbprint: SHA-256 of the required members, sorted, without whitespace."""
    canonical = json.dumps(
        {name: jwk[name] for name in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True
    )
    return base64url_encode(hashlib.sha256(canonical.encode("ascii")).digest()).decode("ascii")


def public_key_from_jwk(jwk: dict[str, str]) -> ec.EllipticCurvePublicKey:
    def coordinate(value: str) -> int:
        return int.from_bytes(base64url_decode(value), "big")

    return ec.EllipticCurvePublicNumbers(coordinate(jwk["x"]), coordinate(jwk["y"]), ec.SECP256R1()).public_key()


# How a person reads each state ("active" is stored, "signing" is said).
STATE_LABELS = {
    SigningKeyState.PUBLISHED: N_("published"),
    SigningKeyState.ACTIVE: N_("signing"),
    SigningKeyState.VERIFY_ONLY: N_("verify only"),
    SigningKeyState.RETIRED: N_("retired"),
}
RETIRED_DIR = "retired"


def private_key_path(keys_dir: str | Path, kid: str) -> Path:
    return Path(keys_dir) / f"{kid}.pem"


def retired_key_path(keys_dir: str | Path, kid: str) -> Path:
    """Where a retired key's PEM is kept: out of KEYS_DIR's top level, which holds only keys that sign
    or will sign."""
    return Path(keys_dir) / RETIRED_DIR / f"{kid}.pem"


def _move_to_retired(keys_dir: str | Path, kid: str) -> None:
    """Move keys/<kid>.pem to keys/retired/<kid>.pem (folder 0700, file 0600); nothing if it is gone."""
    source, target = private_key_path(keys_dir, kid), retired_key_path(keys_dir, kid)
    if not source.exists():
        return
    target.parent.mkdir(mode=0o700, exist_ok=True)
    target.parent.chmod(0o700)
    source.chmod(0o600)
    os.replace(source, target)


def write_private_key(keys_dir: str | Path, kid: str, private_key: ec.EllipticCurvePrivateKey) -> Path:
    """Write the PEM with mode 0600 from the first byte (never readable by others, even briefly)."""
    path = private_key_path(keys_dir, kid)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return path


def load_private_key(keys_dir: str | Path, kid: str) -> ec.EllipticCurvePrivateKey:
    path = private_key_path(keys_dir, kid)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise PrivateKeyMissing(kid, path) from None
    except OSError as error:
        raise PrivateKeyUnreadable(kid, path, error.strerror or type(error).__name__) from None
    except ValueError:
        raise PrivateKeyUnreadable(kid, path, "not a PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PrivateKeyUnreadable(kid, path, "not a P-256 key")
    return key


def _new_key_pair() -> tuple[ec.EllipticCurvePrivateKey, dict[str, str], str]:
    """A P-256 key whose thumbprint (so kid) does not start with "-": such a kid would read as an
    option on the command line (`keys retire -Ab12x`). One key in 64 is drawn again."""
    while True:
        private_key = ec.generate_private_key(ec.SECP256R1())
        jwk = public_jwk(private_key.public_key())
        thumbprint = jwk_thumbprint(jwk)
        if not thumbprint.startswith("-"):
            return private_key, jwk, thumbprint


def generate_key(session: Session, keys_dir: str | Path, actor: Actor) -> SigningKey:
    """Create a key. It signs at once if there is no active key; otherwise it is published
    (so offline verifiers learn it before it is used) and waits for `rotate`."""
    private_key, jwk, thumbprint = _new_key_pair()
    kid = thumbprint[:KID_LENGTH]
    has_active = session.scalar(select(SigningKey.kid).where(SigningKey.state == SigningKeyState.ACTIVE))
    state = SigningKeyState.PUBLISHED if has_active else SigningKeyState.ACTIVE
    key = SigningKey(kid=kid, thumbprint=thumbprint, public_jwk=json.dumps(jwk), state=state)
    session.add(key)
    session.flush()
    write_private_key(keys_dir, kid, private_key)
    record_event(session, actor, "key.generate", signing_key_id=kid, after={"state": state.value})
    return key


def rotate_key(session: Session, keys_dir: str | Path, actor: Actor, to_kid: str | None = None) -> SigningKey:
    """Make another key the signing key (a new one unless to_kid names a published or rotated-out key).
    The previous key stays in the JWKS as verify-only, so every card it signed still verifies."""
    if to_kid is None:
        new_key = generate_key(session, keys_dir, actor)
        if new_key.state == SigningKeyState.ACTIVE:
            return new_key
    else:
        new_key = get_key(session, to_kid)
        if new_key.state == SigningKeyState.RETIRED:
            raise KeyAlreadyRetired(to_kid)
        if new_key.state == SigningKeyState.ACTIVE:
            raise KeyAlreadySigning(to_kid)
    load_private_key(keys_dir, new_key.kid)  # refuse to rotate to a key that cannot sign
    current = session.scalar(select(SigningKey).where(SigningKey.state == SigningKeyState.ACTIVE).with_for_update())
    if current is not None:
        current.state = SigningKeyState.VERIFY_ONLY
        session.flush()  # the one-active-key index must see the old key leave first
        record_event(
            session,
            actor,
            "key.deactivate",
            signing_key_id=current.kid,
            before={"state": "active"},
            after={"state": "verify_only"},
        )
    before = new_key.state.value
    new_key.state = SigningKeyState.ACTIVE
    session.flush()
    record_event(
        session, actor, "key.activate", signing_key_id=new_key.kid, before={"state": before}, after={"state": "active"}
    )
    return new_key


def cards_in_force_signed_by(session: Session, kid: str) -> int:
    """How many active or suspended cards carry a token signed by this key (expired ones included:
    they answer "expired" while their key verifies, "unknown_key" once it is retired)."""
    return (
        session.scalar(
            select(func.count()).select_from(Card).where(Card.key_id == kid, Card.status != CardStatus.REVOKED)
        )
        or 0
    )


def cards_to_reissue(session: Session, kid: str, signer: Signer) -> int:
    """How many cards in force re-signing key `kid` under the signer would change; refused for an
    unknown key, or for the signing key itself."""
    get_key(session, kid)
    if kid == signer.kid:
        raise KeySignsItsOwnCards(kid)
    return cards_in_force_signed_by(session, kid)


def published_for(key: SigningKey, now: datetime | None = None) -> timedelta:
    """How long the key has been in the JWKS (it is published when generated)."""
    return (now or utcnow()) - key.created_at


def retire_key(
    session: Session, kid: str, actor: Actor, *, keys_dir: str | Path | None = None, force: bool = False
) -> SigningKey:
    """Withdraw a key from the JWKS: cards it signed get the verdict unknown_key from now on.

    Refused while cards in force were signed by it (re-sign them first), unless `force` (a
    compromised key). Its private key file moves to KEYS_DIR/retired/ when keys_dir is given.
    """
    key = get_key(session, kid, lock=True)
    if key.state == SigningKeyState.ACTIVE:
        raise ActiveKeyCannotBeRetired(kid)
    if key.state == SigningKeyState.RETIRED:
        raise KeyAlreadyRetired(kid)
    in_force = cards_in_force_signed_by(session, kid)
    if in_force and not force:
        raise KeyStillBacksCards(kid, in_force)
    before = key.state.value
    key.state = SigningKeyState.RETIRED
    key.retired_at = utcnow()
    session.flush()
    after: dict[str, object] = {"state": "retired"}
    if in_force:
        after["cards_in_force"] = in_force
    record_event(session, actor, "key.retire", signing_key_id=kid, before={"state": before}, after=after)
    if keys_dir is not None:
        _move_to_retired(keys_dir, kid)
    return key


@dataclass(frozen=True)
class KeySummary:
    kid: str
    state: SigningKeyState
    created_at: str
    cards_signed: int
    cards_in_force: int = 0

    @property
    def label(self) -> str:
        """The state as a person reads it: published, signing, verify only, retired."""
        return STATE_LABELS[self.state]


def list_keys(session: Session) -> list[KeySummary]:
    """Every key, oldest first, with how many cards it signed and how many of those are in force."""
    in_force = case((Card.status != CardStatus.REVOKED, 1), else_=0)
    counts = {
        kid: (signed, active)
        for kid, signed, active in session.execute(
            select(Card.key_id, func.count(), func.coalesce(func.sum(in_force), 0)).group_by(Card.key_id)
        )
    }
    keys = session.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
    return [
        KeySummary(k.kid, k.state, k.created_at.isoformat(timespec="seconds"), *counts.get(k.kid, (0, 0))) for k in keys
    ]


def get_key(session: Session, kid: str, *, lock: bool = False) -> SigningKey:
    """The key with this kid, or SigningKeyNotFound."""
    key = session.get(SigningKey, kid, with_for_update=lock)
    if key is None:
        raise SigningKeyNotFound(kid)
    return key


@dataclass(frozen=True)
class Signer:
    """The active key, ready to sign."""

    kid: str
    private_key: ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Keyring:
    """Public keys that verify (active and verify-only) and, if readable, the signer."""

    verifying_keys: dict[str, ec.EllipticCurvePublicKey]
    published_jwks: list[dict[str, str]]
    signer: Signer | None = field(default=None)
    # Why there is no signer although a key is active (its file missing or unreadable), if so.
    signer_problem: PrivateKeyUnreadable | None = field(default=None)

    def require_signer(self) -> Signer:
        """The signer, or the refusal that says what is wrong (no active key; which key's file,
        where, missing or unreadable)."""
        if self.signer is None:
            raise self.signer_problem or NoActiveSigningKey()
        return self.signer


def load_keyring(session: Session, keys_dir: str | Path) -> Keyring:
    """Build key objects once from the database and the active private key file."""
    rows = session.scalars(
        select(SigningKey).where(SigningKey.state != SigningKeyState.RETIRED).order_by(SigningKey.created_at)
    ).all()
    verifying: dict[str, ec.EllipticCurvePublicKey] = {}
    published: list[dict[str, str]] = []
    signer, problem = None, None
    for row in rows:
        jwk = json.loads(row.public_jwk)
        verifying[row.kid] = public_key_from_jwk(jwk)
        published.append({**jwk, "kid": row.kid, "alg": "ES256", "use": "sig"})
        if row.state == SigningKeyState.ACTIVE:
            try:
                signer = Signer(row.kid, load_private_key(keys_dir, row.kid))
            except PrivateKeyUnreadable as unreadable:
                problem = unreadable  # verification still works; signing raises this refusal
    return Keyring(verifying, published, signer, problem)
