"""The published specification (docs/card-token.md) and its vectors (docs/card-token-vectors.json)
hold for this implementation: every vector goes through the server's verification (status from the
register) and through an offline one (status from the signed list), and gets its verdict."""

import importlib.util
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from sqlalchemy import select

from webapp.clock import MOROCCO
from webapp.models import Card, CardDevice, CardStatus, RevocationReason, SigningKey, SigningKeyState
from webapp.services.cards.qr import card_qr
from webapp.services.cards.tokens import (
    MAX_NAME_BYTES,
    MAX_NAME_LENGTH,
    digits_to_token,
    extract_token,
    qr_text,
    verify_card_token,
)
from webapp.services.register.reference_data import REGIONS, TRADES
from webapp.services.trust import status_list
from webapp.services.trust.signing_keys import jwk_thumbprint, public_key_from_jwk
from webapp.services.verification import verify_offline, verify_scanned_text

DOCS = Path(__file__).resolve().parents[3] / "docs"
VECTORS_TEXT = (DOCS / "card-token-vectors.json").read_text(encoding="utf-8")
VECTORS = json.loads(VECTORS_TEXT)
DOCUMENT = (DOCS / "card-token.md").read_text(encoding="utf-8")
KEY = VECTORS["test_key"]
KEYS = {jwk["kid"]: public_key_from_jwk(jwk) for jwk in VECTORS["jwks"]["keys"]}
BASE_URL = VECTORS["public_base_url"]
NOW = datetime.fromtimestamp(VECTORS["verified_at_unix"], UTC)
SUBJECT = f"{BASE_URL}/statuslists/1"
LIST = VECTORS["status_list"]
ALL_VECTORS = VECTORS["vectors"]
VECTOR_IDS = [vector["name"] for vector in ALL_VECTORS]


def load_generator():
    spec = importlib.util.spec_from_file_location("make_card_token_vectors", DOCS / "make_card_token_vectors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_file_is_what_the_generator_makes():
    """docs/make_card_token_vectors.py (deterministic ECDSA) gives the committed file byte for byte."""
    generator = load_generator()
    assert generator.render_json(generator.build()) == VECTORS_TEXT
    assert generator.with_tables(DOCUMENT) == DOCUMENT, "run: python docs/make_card_token_vectors.py"


def markdown_rows(name: str) -> list[list[str]]:
    """The cells of the table between the document's <!-- begin/end NAME table --> markers."""
    match = re.search(rf"<!-- begin {name} table.*?-->\n(.*?)\n<!-- end {name} table -->", DOCUMENT, re.DOTALL)
    assert match, f"no {name} table in docs/card-token.md"
    lines = match[1].splitlines()[2:]  # after the header and the |---| line
    return [[cell.strip().strip("`") for cell in line.strip("|").split("|")] for line in lines]


def test_the_published_trade_table_is_the_codes():
    """The document's trade codes, sectors and names equal reference_data.TRADES."""
    assert [tuple(row) for row in markdown_rows("trades")] == TRADES


def test_the_published_region_table_is_the_codes():
    """The document's region codes and names equal reference_data.REGIONS."""
    assert [tuple(row) for row in markdown_rows("regions")] == REGIONS


def test_the_document_lists_every_vector_with_its_verdict():
    """Each vector of the JSON file is a line of the document, with the same rule and verdict."""
    rows = [(rule, name, verdict) for _number, rule, name, verdict in markdown_rows("vectors")]
    assert rows == [(v["rule"], v["name"], v["verdict"]) for v in ALL_VECTORS]


def test_every_rule_a_vector_names_is_in_the_document():
    """A vector's rule (U3, H3, C5..., Q1 and A1-A2 too) is a numbered rule of the document."""
    named = [*ALL_VECTORS, *VECTORS["qr_versions"], *VECTORS["api_requests"]]
    for rule in {vector["rule"] for vector in named}:
        assert re.search(rf"^\| \*\*{rule}\*\* \|", DOCUMENT, re.MULTILINE), rule


def test_kid_is_the_thumbprint_prefix():
    """kid = first 6 characters of the RFC 7638 thumbprint of the test key."""
    assert jwk_thumbprint(KEY["public_jwk"]) == KEY["rfc7638_thumbprint"]
    assert KEY["public_jwk"]["kid"] == KEY["rfc7638_thumbprint"][:6]
    assert VECTORS["jwks"] == {"keys": [KEY["public_jwk"]]}


def test_private_and_public_jwk_are_one_key():
    """The private JWK's d matches the public x, y (a verifier can sign its own test tokens)."""
    private = jwt.PyJWK(KEY["private_jwk"], algorithm="ES256")
    token = jwt.encode({"a": 1}, private.key, algorithm="ES256")
    assert jwt.decode(token, KEYS[KEY["public_jwk"]["kid"]], algorithms=["ES256"]) == {"a": 1}


@pytest.mark.parametrize("name", list(VECTORS["cards"]))
def test_each_card_vector_verifies_to_its_claims_and_qr_text(name):
    """Each card's token verifies to its claims, and its QR text is our URL plus the token's digits."""
    card = VECTORS["cards"][name]
    assert verify_card_token(card["token"], KEYS).to_payload() == card["claims"]
    assert jwt.get_unverified_header(card["token"]) == {"alg": "ES256", "kid": KEY["public_jwk"]["kid"]}
    assert qr_text(BASE_URL, card["token"]) == card["qr_text"]
    assert digits_to_token(card["qr_text"].removeprefix(BASE_URL + "/v#")) == card["token"]
    assert extract_token(card["qr_text"], BASE_URL) == card["token"]


def read_list():
    return status_list.read_status_list_token(LIST["token"], KEYS, subject=SUBJECT, now=NOW)


def test_the_status_list_vector_decodes_to_its_statuses():
    """Every index reads its documented status: listed ones, 0 elsewhere below capacity, 3 past it."""
    read = read_list()
    assert jwt.get_unverified_header(LIST["token"]) == LIST["header"]
    assert jwt.decode(LIST["token"], options={"verify_signature": False}) == LIST["payload"]
    assert len(read.packed) * 4 == LIST["capacity"]
    expected = [LIST["statuses"].get(str(index), 0) for index in range(LIST["capacity"] + 8)]
    expected[LIST["capacity"] :] = [status_list.UNASSIGNED] * 8
    assert [read.status(index) for index in range(LIST["capacity"] + 8)] == expected
    assert read.ttl_seconds == LIST["payload"]["ttl"]


def test_each_card_vectors_index_holds_its_status():
    """The revoked and suspended cards are so because of the status at their index."""
    read = read_list()
    for card in VECTORS["cards"].values():
        assert read.status(card["claims"]["sl"]) == card["status_at_index"]


@pytest.mark.parametrize(
    "vector", VECTORS["status_list_rejected"], ids=[v["name"] for v in VECTORS["status_list_rejected"]]
)
def test_status_lists_a_verifier_must_not_read(vector):
    """Expired, wrong typ or subject, other bits, unknown key, bad signature: unusable, with the reason."""
    at = datetime.fromtimestamp(vector["at"], UTC) if vector["at"] is not None else NOW
    with pytest.raises(status_list.StatusListUnusable) as refusal:
        status_list.read_status_list_token(vector["token"], KEYS, subject=SUBJECT, now=at)
    assert refusal.value.reason == vector["reason"]


def base_url_of(vector: dict) -> str:
    """The vector's own PUBLIC_BASE_URL (rule U8 needs a host with a "k"), else the file's."""
    return vector.get("public_base_url", BASE_URL)


@pytest.mark.parametrize("vector", ALL_VECTORS, ids=VECTOR_IDS)
def test_every_vector_offline(vector):
    """From the token, the JWKS and the signed status list alone, each input gets its verdict."""
    result = verify_offline(
        vector["text"], public_base_url=base_url_of(vector), verifying_keys=KEYS, status_list=read_list(), now=NOW
    )
    assert result.verdict == vector["verdict"]


@pytest.mark.parametrize(
    "vector", VECTORS["status_list_accepted"], ids=[v["name"] for v in VECTORS["status_list_accepted"]]
)
def test_status_lists_with_members_the_document_does_not_name_are_read(vector):
    """Rule S9: unnamed payload members are ignored; the list reads the vectors' statuses."""
    read = status_list.read_status_list_token(vector["token"], KEYS, subject=SUBJECT, now=NOW)
    assert read.packed == read_list().packed


@pytest.mark.parametrize("entry", VECTORS["qr_versions"], ids=[entry["name"] for entry in VECTORS["qr_versions"]])
def test_each_qr_text_needs_its_documented_version(entry):
    """Rule Q1: the server's QR code of each text has the version the file gives, at ECC M."""
    token = extract_token(entry["text"], BASE_URL)
    code = card_qr(BASE_URL, token)
    name = verify_card_token(token, KEYS).name
    assert (code.version, code.error) == (entry["version"], "M")
    assert (len(name), len(name.encode())) == (entry["name_characters"], entry["name_bytes"])


def test_the_register_limit_is_what_keeps_version_12():
    """Rule Q1: the longest name the register accepts (MAX_NAME_BYTES, in the worst case) fits version 12."""
    entries = {entry["name_bytes"]: entry for entry in VECTORS["qr_versions"]}
    assert load_generator().MAX_NAME_BYTES == MAX_NAME_BYTES
    assert entries[MAX_NAME_BYTES]["version"] == 12 and entries[MAX_NAME_BYTES]["name_characters"] == MAX_NAME_LENGTH
    assert max(entry["version"] for entry in VECTORS["qr_versions"] if entry["name_bytes"] <= MAX_NAME_BYTES) == 12


@pytest.fixture
def register(app, session, make_artisan):
    """The register behind the vectors' status list: the test key, and the card holding each index."""
    jwk = KEY["public_jwk"]
    session.add(
        SigningKey(
            kid=jwk["kid"],
            thumbprint=KEY["rfc7638_thumbprint"],
            public_jwk=json.dumps(jwk),
            state=SigningKeyState.VERIFY_ONLY,
        )
    )
    cards = {card["claims"]["sl"]: card for card in VECTORS["cards"].values()}
    for entry in VECTORS["register"]:
        claims = cards[entry["status_index"]]["claims"]
        expires = datetime.fromtimestamp(claims["exp"], UTC)
        session.add(
            Card(
                number=entry["number"],
                artisan=make_artisan(),
                status=CardStatus(entry["status"]),
                # The register keeps why a card was revoked (the list only says that it was).
                revocation_reason=RevocationReason.LOST if entry["status"] == "revoked" else None,
                issued_at=expires - timedelta(days=5 * 365),
                expires_at=expires,
                status_index=entry["status_index"],
                key_id=jwk["kid"],
                token=cards[entry["status_index"]]["token"],
            )
        )
    session.flush()
    # The phone bindings behind the live codes' `ds` indices (section 13).
    for binding in VECTORS["live"]["bindings"]:
        card = session.scalar(select(Card).where(Card.number == binding["number"]))
        session.add(
            CardDevice(
                card_id=card.id,
                public_key=binding["device_key"],
                thumbprint=binding["thumbprint"],
                status_index=binding["status_index"],
                bound_at=NOW - timedelta(days=30),
                replaced_at=None if binding["current"] else NOW - timedelta(days=1),
            )
        )
    session.commit()
    return app


def test_the_register_matches_the_status_list(register):
    """The cards the server holds are the ones the signed list describes."""
    read = read_list()
    for entry in VECTORS["register"]:
        assert read.status(entry["status_index"]) == status_list.STATUS_VALUES[CardStatus(entry["status"])]


def test_every_vector_on_the_server(register):
    """The server's verification (status from the register) gives every vector its verdict."""
    with register.extensions["database"].engine.connect() as connection:
        verdicts = [
            verify_scanned_text(
                connection, v["text"], public_base_url=base_url_of(v), verifying_keys=KEYS, now=NOW
            ).verdict
            for v in ALL_VECTORS
        ]
    mismatches = [
        (v["name"], got, v["verdict"]) for v, got in zip(ALL_VECTORS, verdicts, strict=True) if got != v["verdict"]
    ]
    assert mismatches == []


LIVE = VECTORS["live"]
DETAILED = [vector for vector in ALL_VECTORS if vector["name"] in LIVE["details"]]


@pytest.mark.parametrize("vector", DETAILED, ids=[vector["name"] for vector in DETAILED])
def test_live_vectors_say_how_the_card_was_shown_and_why_replayed(register, vector):
    """Offline and on the server: presentation live or printed, and the replay reason, as the vector's details."""
    expected = LIVE["details"][vector["name"]]
    offline = verify_offline(
        vector["text"], public_base_url=BASE_URL, verifying_keys=KEYS, status_list=read_list(), now=NOW
    )
    with register.extensions["database"].engine.connect() as connection:
        online = verify_scanned_text(connection, vector["text"], public_base_url=BASE_URL, verifying_keys=KEYS, now=NOW)
    for result in (offline, online):
        assert (result.verdict, result.presentation, result.replay) == (
            vector["verdict"],
            expected["presentation"],
            expected.get("replay"),
        )


def test_the_live_vector_is_the_holder_bound_token_signed_by_its_phone():
    """The holder-bound token verifies to its claims (cnf.k the phone's key, ds its binding's index), the
    live code is that token, the window of verified_at and the phone's signature, and its QR text our URL."""
    claims = verify_card_token(LIVE["holder_bound"]["token"], KEYS)
    assert claims.to_payload() == LIVE["holder_bound"]["claims"]
    assert claims.device_key == LIVE["phones"]["phone"]["device_key"] == LIVE["bindings"][0]["device_key"]
    assert LIVE["window"] == VECTORS["verified_at_unix"] // LIVE["window_seconds"]
    assert LIVE["live_code"].rsplit(".", 2)[:2] == [LIVE["holder_bound"]["token"], str(LIVE["window"])]
    assert qr_text(BASE_URL, LIVE["live_code"]) == LIVE["qr_text"]
    read = read_list()
    assert [read.status(binding["status_index"]) for binding in LIVE["bindings"]] == [
        status_list.VALID if binding["current"] else status_list.REVOKED for binding in LIVE["bindings"]
    ]


def test_the_documented_api_example_is_the_valid_card_vector():
    """The API example shows the valid card's claims, its expiry date in Casablanca, at verified_at."""

    match = re.search(r"<!-- begin api example -->\n```json\n(.*?)\n```", DOCUMENT, re.DOTALL)
    example = json.loads(match[1])
    claims = VECTORS["cards"]["valid"]["claims"]
    expires = datetime.fromtimestamp(claims["exp"], MOROCCO).date().isoformat()
    card = example["card"]
    assert (card["number"], card["name"], card["trade"], card["region"]) == tuple(
        claims[k] for k in ["cn", "n", "t", "r"]
    )
    assert (card["expires"], example["checked_at"], example["verdict"]) == (expires, VECTORS["verified_at"], "valid")
