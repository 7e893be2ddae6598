"""POST /api/v1/verify: a verdict for any input, in the caller's language, never a 500."""

import base64
import hashlib
import hmac
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from unittest.mock import patch

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from webapp.clock import MOROCCO
from webapp.models import AuditEvent, RevocationReason, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.numbers import new_card_number
from webapp.services.cards.tokens import CardClaims, qr_text, sign_card_token, token_to_digits, verify_card_token
from webapp.services.trust import signing_keys

URL = "/api/v1/verify"


def verify(client, qr, language="fr"):
    return client.post(URL, json={"qr": qr}, headers={"Accept-Language": language})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_valid_card_shows_its_details(app, client, make_card):
    """A genuine card in force: valid, with number, name (Latin from the token, Arabic from the
    register), trade, region and expiry; no status date."""
    card = make_card()
    response = verify(client, qr_text(app.config["PUBLIC_BASE_URL"], card.token), "en")
    body = response.get_json()
    assert response.status_code == 200
    assert body["verdict"] == "valid"
    assert body["card"] == {
        "number": card.number,
        "name": "Khadija Bennani",
        "trade": "ZEL",
        "trade_name": "Zellige tilework",
        "region": "03",
        "region_name": "Fez-Meknes",
        "expires": card.expires_at.astimezone(MOROCCO).date().isoformat(),
        "name_ar": "خديجة بناني",
    }
    assert body["checked_at"].endswith("Z")
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "Carte valide"), ("ar", "بطاقة صالحة"), ("en", "Valid card"), ("de", "Carte valide")],
)
def test_reason_is_in_the_callers_language(app, client, make_card, language, expected):
    """The reason follows Accept-Language among fr, ar and en; French otherwise."""
    card = make_card()
    body = verify(client, card.token, language).get_json()
    assert expected in body["reason"]
    assert body["card"]["region_name"] == {"ar": "فاس مكناس", "en": "Fez-Meknes"}.get(language, "Fès-Meknès")


def test_status_changes_show_at_once(app, client, session, make_card):
    """Suspended, then reinstated, then revoked: each verification shows the current status."""
    card = make_card()
    card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    session.commit()
    assert verify(client, card.token).get_json()["verdict"] == "suspended"
    card_service.reinstate_card(session, card, TEST_ACTOR)
    session.commit()
    assert verify(client, card.token).get_json()["verdict"] == "valid"
    card_service.revoke_card(session, card, RevocationReason.DECEASED, TEST_ACTOR)
    session.commit()
    body = verify(client, card.token).get_json()
    assert body["verdict"] == "revoked" and body["card"]["number"] == card.number


@pytest.mark.parametrize("change", ["suspend", "revoke"])
def test_a_suspended_or_revoked_card_says_since_when(client, session, make_card, change):
    """A suspended or revoked card's answer gives the day (in Morocco) of that change, from the audit trail."""
    card = make_card()
    if change == "suspend":
        card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    else:
        card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    changed = session.scalars(select(AuditEvent.occurred_at).where(AuditEvent.card_id == card.id)).all()[-1]
    body = verify(client, card.token).get_json()
    assert body["card"]["status_since"] == changed.astimezone(MOROCCO).date().isoformat()


def test_the_latest_suspension_is_the_date_shown(client, session, make_card):
    """Suspended, reinstated, then suspended again on a later day: the later day is shown."""
    card = make_card()
    # The trail cannot be changed afterwards: the events are dated as they are recorded.
    with patch("webapp.services.audit.utcnow", return_value=datetime(2026, 1, 10, 12, tzinfo=UTC)):
        card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)  # the first suspension, long ago
    card_service.reinstate_card(session, card, TEST_ACTOR)
    with patch("webapp.services.audit.utcnow", return_value=datetime(2026, 3, 31, 23, 30, tzinfo=UTC)):
        card_service.suspend_card(session, card, "second inquiry", TEST_ACTOR)  # 1 April in Morocco (UTC+1)
    session.commit()
    assert verify(client, card.token).get_json()["card"]["status_since"] == "2026-04-01"


@pytest.mark.parametrize("age_days", [0, 6 * 366])
def test_a_valid_or_expired_card_has_no_status_date(client, make_card, age_days):
    """Only revoked and suspended cards carry status_since: a valid or expired card shows its expiry."""
    card = make_card(now=utcnow() - timedelta(days=age_days))
    body = verify(client, card.token).get_json()
    assert body["verdict"] == ("valid" if age_days == 0 else "expired")
    assert "status_since" not in body["card"] and body["card"]["expires"]


def _header(**fields) -> str:
    return b64(json.dumps(fields, separators=(",", ":")).encode())


def _alg_none(card, keys_dir):
    """An unsigned token: alg none and an empty signature."""
    payload = card.token.split(".")[1]
    return f"{_header(alg='none', kid=card.key_id)}.{payload}."


def _alg_none_with_junk_signature(card, keys_dir):
    payload = card.token.split(".")[1]
    return f"{_header(alg='none', kid=card.key_id)}.{payload}.AA"


def _hs256_with_public_key(card, keys_dir):
    """The classic confusion attack: HMAC-SHA256 keyed with the public key's PEM."""
    public_pem = (
        _private(card, keys_dir)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    signing_input = f"{_header(alg='HS256', kid=card.key_id)}.{card.token.split('.')[1]}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def _private(card, keys_dir):
    return signing_keys.load_private_key(keys_dir, card.key_id)


def _flipped_signature_bit(card, keys_dir):
    header, payload, signature = card.token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[10] ^= 0x01
    return f"{header}.{payload}.{b64(bytes(raw))}"


def _changed_name(card, keys_dir):
    header, payload, signature = card.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["n"] = "Someone Else"
    return f"{header}.{b64(json.dumps(claims, separators=(',', ':')).encode())}.{signature}"


def _unknown_kid(card, keys_dir):
    payload = json.loads(base64.urlsafe_b64decode(card.token.split(".")[1] + "=="))
    from cryptography.hazmat.primitives.asymmetric import ec

    return jwt.encode(
        payload, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": "zzzzzz", "typ": None}
    )


def _truncated(card, keys_dir):
    return card.token[: len(card.token) // 2]


def _truncated_signature(card, keys_dir):
    return card.token[:-20]


def _status_list_token(card, keys_dir):
    """A status list is signed by the same key but is not a card."""
    from webapp.services.trust.status_list import TOKEN_TYPE

    return jwt.encode(
        {"sub": "x", "status_list": {"bits": 2, "lst": "eNo"}},
        _private(card, keys_dir),
        algorithm="ES256",
        headers={"kid": card.key_id, "typ": TOKEN_TYPE},
    )


def _signed_junk(card, keys_dir):
    return jwt.encode(
        {"cn": "not-a-number"}, _private(card, keys_dir), algorithm="ES256", headers={"kid": card.key_id, "typ": None}
    )


BAD_TOKENS = [
    ("alg-none", _alg_none, "bad_signature"),
    ("alg-none-with-junk-signature", _alg_none_with_junk_signature, "bad_signature"),
    ("hs256-with-public-key", _hs256_with_public_key, "bad_signature"),
    ("flipped-signature-bit", _flipped_signature_bit, "bad_signature"),
    ("changed-name", _changed_name, "bad_signature"),
    ("unknown-kid", _unknown_kid, "unknown_key"),
    ("truncated", _truncated, "malformed"),
    ("truncated-signature", _truncated_signature, "malformed"),
    ("status-list-token", _status_list_token, "not_a_card"),
    ("signed-but-no-card-claims", _signed_junk, "not_a_card"),
    ("empty", lambda card, keys_dir: "", "malformed"),
    ("whitespace", lambda card, keys_dir: " \n\t ", "malformed"),
    ("another-site", lambda card, keys_dir: f"https://example.org/v#{token_to_digits(card.token)}", "not_a_card"),
    ("arbitrary-text", lambda card, keys_dir: "Souk El Had — stand 42", "not_a_card"),
    (
        "our-url-damaged-digits",
        lambda card, keys_dir: f"https://carte.test/v#{token_to_digits(card.token)[:-3]}",
        "malformed",
    ),
    ("nul-bytes", lambda card, keys_dir: "\x00\x00eyJ", "not_a_card"),
]


@pytest.mark.parametrize(
    ("make_text", "expected"), [(m, e) for _, m, e in BAD_TOKENS], ids=[i for i, _, _ in BAD_TOKENS]
)
def test_bad_tokens_get_their_verdict_and_no_card(app, client, make_card, make_text, expected):
    """Each forged, damaged or foreign input gets its own verdict, and no card details."""
    card = make_card()
    response = verify(client, make_text(card, app.config["KEYS_DIR"]))
    body = response.get_json()
    assert response.status_code == 200
    assert body["verdict"] == expected
    assert "card" not in body
    assert body["reason"]


def test_expired_card(app, client, make_card):
    """A genuine card past its expiry is expired, with its details (so the holder can renew)."""
    card = make_card(now=utcnow() - timedelta(days=6 * 366))
    body = verify(client, card.token).get_json()
    assert body["verdict"] == "expired" and body["card"]["number"] == card.number


def test_retired_key_gives_unknown_key(app, client, session, make_card, make_artisan, runner):
    """After rotate and retire, cards signed by the retired key are unknown_key."""
    card = make_card()
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    assert runner.invoke(args=["keys", "retire", card.key_id, "--force"]).exit_code == 0
    assert verify(client, card.token).get_json()["verdict"] == "unknown_key"
    new_signer = signing_keys.load_keyring(session, app.config["KEYS_DIR"]).require_signer()
    fresh = card_service.issue_card(session, make_artisan(), new_signer, TEST_ACTOR, validity_years=5)
    session.commit()
    assert verify(client, fresh.token).get_json()["verdict"] == "valid"


def test_card_signed_by_us_but_missing_from_the_register(client, signer, make_card):
    """A signed card whose number the register does not know is not a card."""
    card = make_card()
    claims = CardClaims(new_card_number(), "Ghost Card", "ZEL", "03", card.expires_at, card.status_index + 1)
    token = sign_card_token(claims, signer.kid, signer.private_key)
    assert verify(client, token).get_json()["verdict"] == "not_a_card"


@pytest.mark.parametrize(
    ("data", "content_type", "error"),
    [
        (b"", "application/json", "invalid_json"),
        (b"\xff\xfe\xfa not utf-8", "application/json", "invalid_json"),
        (b'{"qr": "\xff"}', "application/json", "invalid_json"),
        (b"not json at all", "text/plain", "invalid_json"),
        (b"[1, 2, 3]", "application/json", "invalid_json"),
        (b'"just a string"', "application/json", "invalid_json"),
        (b"{}", "application/json", "missing_qr"),
        (b'{"qr": 42}', "application/json", "missing_qr"),
        (b'{"qr": null}', "application/json", "missing_qr"),
        (b'{"qr": ["a"]}', "application/json", "missing_qr"),
    ],
    ids=[
        "empty-body",
        "invalid-utf8",
        "invalid-utf8-in-string",
        "plain-text",
        "array",
        "string",
        "no-qr",
        "number",
        "null",
        "list",
    ],
)
def test_unusable_bodies_get_400_malformed(client, data, content_type, error):
    """A body that is not a JSON object with a string qr is a 400 with verdict malformed."""
    response = client.post(URL, data=data, content_type=content_type)
    body = response.get_json()
    assert response.status_code == 400
    assert (body["verdict"], body["error"]) == ("malformed", error)


def test_bodies_over_8_kb_get_413(client):
    """10 KB of junk is refused before it is parsed."""
    response = client.post(URL, data=b"x" * 10_240, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "payload_too_large"


def test_a_long_qr_inside_the_limit_is_not_a_card(client):
    """7 KB of text in a valid body is answered, not crashed on."""
    response = client.post(URL, json={"qr": "A" * 7000})
    assert response.status_code == 200 and response.get_json()["verdict"] == "not_a_card"


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_other_methods_are_405_json(client, method):
    """Only POST verifies; other methods get a JSON 405."""
    response = getattr(client, method)(URL)
    assert response.status_code == 405 and response.get_json()["error"] == "method_not_allowed"


def test_verification_writes_nothing(app, client, session, make_card):
    """Verifying leaves the audit trail as it was (verification is read-only)."""
    card = make_card()
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    verify(client, card.token)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "RATELIMIT_ENABLED": True, "VERIFY_RATE_LIMIT": "3 per minute"}

    def test_verify_is_rate_limited_per_client(self, client):
        """Past the limit a client gets 429 with a reason code, in JSON."""
        codes = [client.post(URL, json={"qr": "x"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert client.post(URL, json={"qr": "x"}).get_json()["error"] == "rate_limited"


def _signed(app, card, **changes):
    """The card's claims with some changed, signed by our key (what only a leaked key or a bug could make)."""
    private = signing_keys.load_private_key(app.config["KEYS_DIR"], card.key_id)
    claims = verify_card_token(card.token, {card.key_id: private.public_key()})
    return sign_card_token(replace(claims, **changes), card.key_id, private)


def test_the_verdict_follows_the_tokens_index_not_its_number(app, client, session, make_card, caplog):
    """A token naming another card's index gets that index's status, as offline verifiers see; an alarm is logged."""
    card, other = make_card(), make_card()
    card_service.revoke_card(session, other, RevocationReason.STOLEN, TEST_ACTOR)
    session.commit()
    token = _signed(app, card, status_index=other.status_index)
    body = verify(client, token).get_json()
    assert body["verdict"] == "revoked" and body["card"]["number"] == card.number
    assert f"names status index {other.status_index}, which is card {other.number}'s" in caplog.text


@pytest.mark.parametrize("index", [2, 3, 1000, 2**31, 2**63], ids=["padding", "end-of-byte", "far", "int32", "int64"])
def test_an_index_no_card_holds_is_not_a_card(app, client, make_card, index):
    """An index past the list (or in its padding) is no card's: not_a_card, without card details."""
    card = make_card()
    body = verify(client, _signed(app, card, status_index=index)).get_json()
    assert body["verdict"] == "not_a_card" and "card" not in body


@pytest.mark.parametrize(
    ("expires_at", "expected"),
    [
        (datetime(2031, 11, 22, 22, 59, 59, tzinfo=UTC), "2031-11-22"),
        (datetime(2031, 11, 22, 23, 59, 59, tzinfo=UTC), "2031-11-22"),  # the system's older tzdata: the 23rd
        (datetime(2031, 11, 23, 0, 0, 0, tzinfo=UTC), "2031-11-23"),
        (datetime(2032, 1, 10, 23, 59, 59, tzinfo=UTC), "2032-01-10"),
    ],
    ids=["evening", "last-second-is-the-same-day", "midnight-is-the-next-day", "ramadan"],
)
def test_the_expiry_date_is_the_date_in_morocco(app, client, make_card, expires_at, expected):
    """card.expires is the Africa/Casablanca date of exp, from the pinned tzdata (UTC+0 since September 2026)."""
    card = make_card()
    assert verify(client, _signed(app, card, expires_at=expires_at), "en").get_json()["card"]["expires"] == expected


def test_an_issued_cards_expiry_date_is_its_last_day_in_morocco(app, client, make_card):
    """A fresh card's exp is 23:59:59 in Casablanca on the date the API shows."""
    card = make_card()
    local = card.expires_at.astimezone(MOROCCO)
    assert local.time() == time(23, 59, 59)
    assert verify(client, card.token).get_json()["card"]["expires"] == local.date().isoformat()


def _documented_example() -> tuple[dict, str]:
    document = (Path(__file__).resolve().parents[2] / "docs" / "card-token.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- begin api example -->\n```json\n(.*?)\n```\n<!-- end api example -->", document, re.DOTALL)
    assert match, "no API example in docs/card-token.md"
    return json.loads(match[1]), document


def test_the_documented_response_is_the_apis(app, client, make_card):
    """docs/card-token.md shows the API's exact fields, and each field is in its field table."""
    example, document = _documented_example()
    body = verify(client, make_card().token, "en").get_json()
    assert body.keys() == example.keys() and body["card"].keys() == example["card"].keys()
    assert example["reason"] == body["reason"]
    assert (example["card"]["trade_name"], example["card"]["region_name"]) == ("Carpets", "Marrakesh-Safi")
    fields = [*body, *(f"card.{name}" for name in body["card"]), "error"]
    assert all(f"| `{field}` |" in document for field in fields)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", example["checked_at"])


# --- docs/card-token.md version 4: rules A1-A5 ---

API_REQUESTS = json.loads((Path(__file__).resolve().parents[2] / "docs" / "card-token-vectors.json").read_text())[
    "api_requests"
]


@pytest.mark.parametrize("case", API_REQUESTS, ids=[case["name"] for case in API_REQUESTS])
def test_each_documented_body_gets_its_answer(client, case):
    """Rules A1, A2: each body of the vectors file gets its status, verdict and error, whatever its Content-Type."""
    headers = {"Content-Type": case["content_type"]} if case["content_type"] is not None else {}
    response = client.post(URL, data=case["body"].encode(), headers=headers)
    body = response.get_json()
    assert (response.status_code, body["verdict"], body.get("error")) == (
        case["status"],
        case["verdict"],
        case["error"],
    )
    assert response.headers["Cache-Control"] == "no-store"


def test_a_card_sent_as_text_plain_is_verified(client, make_card):
    """Rule A2: a genuine card's body sent as text/plain, or with no Content-Type, is verified like JSON."""
    card = make_card()
    data = json.dumps({"qr": card.token}).encode()
    for headers in ({"Content-Type": "text/plain"}, {}):
        assert client.post(URL, data=data, headers=headers).get_json()["verdict"] == "valid"


def test_under_l4_the_other_cards_name_and_date_are_not_shown(app, client, session, make_card):
    """Rule A3: the verdict follows the index, but name_ar and status_since (the other card's) are left out."""
    card, other = make_card(), make_card()
    card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    card_service.revoke_card(session, other, RevocationReason.STOLEN, TEST_ACTOR)
    session.commit()
    body = verify(client, _signed(app, card, status_index=other.status_index)).get_json()
    assert body["verdict"] == "revoked" and body["card"]["number"] == card.number
    assert "name_ar" not in body["card"] and "status_since" not in body["card"]


def _partner(make_api_key, make_offer, scopes=("verify",)) -> dict[str, str]:
    """A transporter's system key (with these scopes) and one offer with no condition."""
    offer = make_offer()
    return {"Authorization": f"Bearer {make_api_key(offer.organisation, scopes=scopes).plaintext}"}


def test_a_partner_gets_its_offers_with_a_valid_card(client, make_card, make_api_key, make_offer):
    """Rule A4: a verify-scope key gets its offers, eligible for a valid card; the public gets no offers."""
    card = make_card()
    headers = _partner(make_api_key, make_offer)
    [offer] = client.post(URL, json={"qr": card.token}, headers=headers).get_json()["offers"]
    assert offer.keys() == {"id", "name", "benefit", "eligible", "failed", "remaining"}
    assert (offer["eligible"], offer["failed"], offer["remaining"]) == (True, [], None)
    assert "offers" not in verify(client, card.token).get_json()


def test_under_l4_a_partner_is_told_no_offer_applies(app, client, make_card, make_api_key, make_offer):
    """Rule A4: a valid verdict read at another card's index grants no offer (neither card's standing is used)."""
    card, other = make_card(), make_card()
    headers = _partner(make_api_key, make_offer)
    body = client.post(URL, json={"qr": _signed(app, card, status_index=other.status_index)}, headers=headers)
    assert body.get_json()["verdict"] == "valid"
    assert [offer["eligible"] for offer in body.get_json()["offers"]] == [False]


@pytest.mark.parametrize(
    ("scopes", "status", "error"),
    [
        (["redeem"], 403, "insufficient_scope"),
        (["eligibility"], 403, "insufficient_scope"),
        (None, 401, "invalid_api_key"),
    ],
    ids=["redeem-only", "eligibility-only", "unknown-key"],
)
def test_a_key_without_the_verify_scope_is_refused(client, make_card, make_api_key, make_offer, scopes, status, error):
    """Rule A5: a key is never served the public answer: without the verify scope 403, unknown 401."""
    card = make_card()
    headers = _partner(make_api_key, make_offer, scopes) if scopes else {"Authorization": "Bearer ca_nonsense"}
    response = client.post(URL, json={"qr": card.token}, headers=headers)
    assert (response.status_code, response.get_json()["error"]) == (status, error)
