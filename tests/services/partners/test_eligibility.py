"""Eligibility: the facts a rule reads for a card, one card's standing for an offer, and the signed
eligibility list of an offer, decoded here independently of the code that wrote it."""

from __future__ import annotations

import base64
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR, VALIDITY_YEARS
from tests.fixtures.factories import CNSS_REGISTERED
from webapp.models import (
    Card,
    CnssStatus,
    Gender,
    LegalStatus,
    OfferState,
    Organisation,
    QuotaPeriod,
    RevocationReason,
    SupportProgramme,
    utcnow,
)
from webapp.models.partner import LENDER
from webapp.services import demo
from webapp.services.cards import lifecycle as card_service
from webapp.services.partners import eligibility, rules
from webapp.services.partners.eligibility import card_eligibility, card_facts, offers_for_card
from webapp.services.partners.offers import change_offer_state, lift_withdrawal, withdraw_offer_from_card
from webapp.services.partners.quotas import quota_period_key, take_quota_unit
from webapp.services.register.artisans import artisans_written

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
TWO_YEARS = {
    "label": {
        "fr": "Au moins 2 ans d’activité",
        "ar": "سنتان من النشاط على الأقل",
        "en": "At least 2 years of activity",
    },
    "logic": {">=": [{"-": [{"year": {"var": "today"}}, {"var": "artisan.activity_start_year"}]}, 2]},
}


def label(text: str) -> dict[str, str]:
    return {"fr": text, "ar": text, "en": text}


# --- facts ----------------------------------------------------------------------------------------------


def test_the_variables_are_the_rules_allow_list():
    """Every variable a rule may name has a value in the facts, and no other."""
    assert frozenset(rules.VARIABLES) == eligibility.VARIABLE_NAMES


def test_the_facts_of_a_card(session, make_artisan, make_card):
    """Each variable's value for a card and its holder, with dates as days in Morocco."""
    artisan = make_artisan(
        trade_code="TAN",
        region_code="07",
        gender=Gender.MALE,
        legal_status=LegalStatus.COOPERATIVE_MEMBER,
        cnss_status=CnssStatus.PRE_REGISTERED,
        activity_start_year=2019,
        cooperative_name="Coopérative Nour",
    )
    for code in ("WOMEN", "EXCELLENCE"):
        artisan.programmes.append(session.get(SupportProgramme, code))
    # 23:30 UTC on 31 December is already 1 January in Morocco (UTC+1).
    card = make_card(artisan, now=datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    assert card_facts(session, card, NOW) == {
        "card.status": "active",
        "card.trade": "TAN",
        "card.sector": "PROD",
        "card.region": "07",
        "card.expires": date(2026 + VALIDITY_YEARS, 1, 1),
        "card.issued": date(2026, 1, 1),
        "artisan.legal_status": "cooperative_member",
        "artisan.cnss_status": "pre_registered",
        "artisan.gender": "male",
        "artisan.activity_start_year": 2019,
        "artisan.cooperative_member": True,
        "artisan.programmes": ["EXCELLENCE", "WOMEN"],
        "today": date(2026, 12, 2),
    }


@pytest.mark.parametrize(
    ("moment", "today"),
    [
        ("2025-12-31T22:59", "2025-12-31"),
        ("2025-12-31T23:00", "2026-01-01"),
        ("2026-12-31T23:30", "2026-12-31"),  # UTC+0 since September 2026 (the pinned tzdata, 2026f)
        ("2027-01-01T00:00", "2027-01-01"),
    ],
)
def test_today_is_the_day_in_morocco(session, make_card, moment, today):
    """`today` turns at midnight in Morocco: an hour before midnight UTC in December 2025 (UTC+1), at
    midnight UTC in December 2026 (Morocco keeps UTC+0 from 20 September 2026 in the pinned tzdata)."""
    facts = card_facts(session, make_card(), datetime.fromisoformat(moment).replace(tzinfo=UTC))
    assert facts["today"] == date.fromisoformat(today)


@pytest.mark.parametrize(("cooperative", "member"), [(None, False), ("", False), ("   ", False), ("Tifaouine", True)])
def test_cooperative_membership_comes_from_the_cooperative_name(session, make_artisan, make_card, cooperative, member):
    """Without a (non-blank) cooperative name the artisan is not a cooperative member; no programme is []."""
    facts = card_facts(session, make_card(make_artisan(cooperative_name=cooperative)), NOW)
    assert facts["artisan.cooperative_member"] is member and facts["artisan.programmes"] == []


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda session, card: card_service.suspend_card(session, card, "inquiry", TEST_ACTOR), "suspended"),
        (lambda session, card: card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR), "revoked"),
        (lambda session, card: None, "active"),
    ],
)
def test_card_status_in_the_facts(session, make_card, change, status):
    """card.status is what a verifier would say: suspended, revoked or active."""
    card = make_card()
    change(session, card)
    assert card_facts(session, card, NOW)["card.status"] == status


def test_an_expired_card_reads_expired(session, make_card):
    """Past the end of its expiry day in Morocco an active card's status is "expired"."""
    card = make_card()
    assert card_facts(session, card, card.expires_at - timedelta(seconds=1))["card.status"] == "active"
    assert card_facts(session, card, card.expires_at)["card.status"] == "expired"


# --- one card's standing -------------------------------------------------------------------------------------


def standing(session, offer, card, now=None):
    now = now or utcnow()
    return card_eligibility(session, offer, card, card_facts(session, card, now), now)


def test_a_holder_meeting_every_condition_is_eligible(session, make_offer, make_card):
    """All conditions hold: eligible, nothing failed, not withdrawn."""
    offer = make_offer(conditions=[CNSS_REGISTERED, TWO_YEARS])
    assert standing(session, offer, make_card()) == eligibility.Eligibility(True)


def test_the_failed_conditions_are_named_by_their_labels(session, make_offer, make_artisan, make_card):
    """Each condition that fails gives its label (fr, ar, en), in the rule's order; holding ones do not."""
    offer = make_offer(conditions=[CNSS_REGISTERED, TWO_YEARS])
    this_year = utcnow().year
    both = make_card(make_artisan(cnss_status=CnssStatus.NOT_REGISTERED, activity_start_year=this_year))
    one = make_card(make_artisan(activity_start_year=this_year - 1))
    assert standing(session, offer, both).failed == (CNSS_REGISTERED["label"], TWO_YEARS["label"])
    assert standing(session, offer, one) == eligibility.Eligibility(False, (TWO_YEARS["label"],))


@pytest.mark.parametrize("status", ["suspended", "revoked", "expired"])
def test_a_card_that_is_not_valid_is_eligible_for_nothing(session, make_offer, make_card, status):
    """Even an offer with no condition: not eligible, and no label (the card itself is the reason)."""
    offer = make_offer(conditions=[])
    card = make_card()
    now = utcnow()
    if status == "suspended":
        card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    elif status == "revoked":
        card_service.revoke_card(session, card, RevocationReason.FRAUD, TEST_ACTOR)
    else:
        now = card.expires_at + timedelta(days=1)
    assert standing(session, offer, card, now) == eligibility.Eligibility(False)


@pytest.mark.parametrize("state", [OfferState.DRAFT, OfferState.SUBMITTED, OfferState.PAUSED, OfferState.RETIRED])
def test_an_offer_that_does_not_apply_makes_no_one_eligible(session, make_offer, make_card, state):
    """Not approved: nobody is eligible, whatever the rule."""
    assert standing(session, make_offer(conditions=[], state=state), make_card()) == eligibility.Eligibility(False)


def test_a_withdrawal_answers_not_eligible_with_its_reason(session, make_offer, make_card):
    """An offer withdrawn from the card: not eligible, the reason as the failed label in every language."""
    offer, card = make_offer(conditions=[]), make_card()
    withdraw_offer_from_card(session, offer, card, "Fraude sur les tarifs", TEST_ACTOR)
    assert standing(session, offer, card) == eligibility.Eligibility(
        False, (label("Fraude sur les tarifs"),), withdrawn=True
    )
    lift_withdrawal(session, offer, card, TEST_ACTOR)
    assert standing(session, offer, card) == eligibility.Eligibility(True)


def test_offers_for_a_card_are_the_callers_applicable_ones(session, make_organisation, make_offer, make_card):
    """Only the organisation's approved offers, each with eligibility and the quota left."""
    organisation = make_organisation()
    parcels = make_offer(organisation, quota=(3, "month"))
    lender = make_offer(organisation, conditions=[TWO_YEARS])
    make_offer(organisation, state=OfferState.PAUSED)
    make_offer()  # another organisation's
    card = make_card()
    take_quota_unit(session, parcels, card, quota_period_key(QuotaPeriod.MONTH, utcnow()))

    def seen(number):
        standings = offers_for_card(session, organisation.id, number)
        return [(s.offer, s.eligibility.eligible, s.remaining) for s in standings]

    assert seen(card.number) == [(parcels, True, 2), (lender, True, None)]
    assert seen(None) == [(parcels, False, None), (lender, False, None)]


# --- the signed eligibility list, read as a verifier would, without the app's readers ------------------------

# Conditions over several variables, so that many combinations of facts occur in the demo register.
SEVERAL_VARIABLES = [
    {
        "label": label("CNSS registered or pre-registered"),
        "logic": {"in": [{"var": "artisan.cnss_status"}, ["registered", "pre_registered"]]},
    },
    TWO_YEARS,
    {
        "label": label("Woman, excellence programme or cooperative"),
        "logic": {
            "or": [
                {"==": [{"var": "artisan.gender"}, "female"]},
                {"in": ["EXCELLENCE", {"var": "artisan.programmes"}]},
                {"var": "artisan.cooperative_member"},
            ]
        },
    },
    {
        "label": label("Card valid for 30 more days"),
        "logic": {">": [{"days_between": [{"var": "today"}, {"var": "card.expires"}]}, 30]},
    },
    {"label": label("Not in the far south"), "logic": {"!": [{"in": [{"var": "card.region"}, ["10", "11", "12"]]}]}},
    {"label": label("Art or production"), "logic": {"in": [{"var": "card.sector"}, ["ART", "PROD"]]}},
]


@pytest.fixture
def demo_register(session, signer):
    """The demo seed: 240 artisans in 12 regions with varied attributes, their cards (one revoked,
    one suspended, one expired, some expiring in 10 days) and the demo partners."""
    demo.seed(session, signer, artisan_count=240, validity_years=VALIDITY_YEARS)
    cards = session.scalars(select(Card).order_by(Card.status_index)).all()
    for card in cards[::9]:  # some cards near their expiry, so that conditions on dates vary too
        if card_service.card_state(card) == "active":
            card.expires_at = utcnow() + timedelta(days=10)
    session.commit()
    return cards


@pytest.fixture
def lender(session, demo_register, make_offer, make_api_key):
    """The demo lender's offer with the several-variable rule, and a key of the lender's system."""
    organisation = session.scalar(select(Organisation).where(Organisation.kind_code == LENDER))
    offer = make_offer(organisation, conditions=SEVERAL_VARIABLES, fields=[])
    return offer, {"Authorization": f"Bearer {make_api_key(organisation).plaintext}"}


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fetch_list(app, client, offer, headers) -> bytes:
    """GET the offer's list, check its signature against the published JWKS with PyJWT, and return
    the decompressed bytes of `lst`."""
    response = client.get(f"/offers/{offer.id}/eligibility", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/statuslist+jwt"
    token = response.get_data(as_text=True)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["typ"] == "statuslist+jwt"
    jwks = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").get_json())
    key = next(key for key in jwks.keys if key.key_id == header["kid"])
    subject = f"{app.config['PUBLIC_BASE_URL']}/offers/{offer.id}/eligibility"
    payload = jwt.decode(token, key.key, algorithms=["ES256"], subject=subject, options={"require": ["iat", "exp"]})
    assert payload["status_list"]["bits"] == 1 and payload["exp"] > payload["iat"]
    return zlib.decompress(b64decode(payload["status_list"]["lst"]))


def bit(packed: bytes, index: int) -> bool:
    """Bit `index`, least significant bit first in each byte (Token Status List, 1 bit per card)."""
    return bool(packed[index // 8] >> (index % 8) & 1)


def python_verdicts(session, offer, cards) -> dict[int, bool]:
    now = utcnow()
    return {card.status_index: standing(session, offer, card, now).eligible for card in cards}


def test_the_list_agrees_with_the_python_evaluation_for_every_demo_card(app, client, session, demo_register, lender):
    """Every demo card's bit, read from the signed list, equals card_eligibility for that card."""
    offer, headers = lender
    eligible_card = next(card for card in demo_register if standing(session, offer, card).eligible)
    withdraw_offer_from_card(session, offer, eligible_card, "fraude", TEST_ACTOR)
    session.commit()
    packed = fetch_list(app, client, offer, headers)
    expected = python_verdicts(session, offer, demo_register)
    assert len(packed) * 8 >= max(expected) + 1
    assert {index: bit(packed, index) for index in expected} == expected
    assert not any(bit(packed, index) for index in range(max(expected) + 1, len(packed) * 8))  # padding
    # The register is varied enough for the comparison to mean something.
    assert 10 < sum(expected.values()) < len(expected) - 10
    failed = {tuple(c["en"] for c in standing(session, offer, card).failed) for card in demo_register}
    assert {condition["label"]["en"] for condition in SEVERAL_VARIABLES} <= {name for names in failed for name in names}
    assert expected[eligible_card.status_index] is False
    states = {card_service.card_state(card) for card in demo_register}
    assert states == {"active", "revoked", "suspended", "expired"}


def test_a_stale_list_is_rebuilt(app, client, session, demo_register, lender):
    """The list is served from cache while nothing changes, and rebuilt after a revocation, a
    withdrawal and its lifting; each time the bits follow the Python evaluation."""
    offer, headers = lender
    first = fetch_list(app, client, offer, headers)
    etag = client.get(f"/offers/{offer.id}/eligibility", headers=headers).headers["ETag"]
    assert client.get(f"/offers/{offer.id}/eligibility", headers=headers | {"If-None-Match": etag}).status_code == 304
    eligible = [card for card in demo_register if bit(first, card.status_index)]
    revoked, withdrawn = eligible[0], eligible[1]

    card_service.revoke_card(session, revoked, RevocationReason.DECEASED, TEST_ACTOR)
    session.commit()
    after_revocation = fetch_list(app, client, offer, headers)
    assert not bit(after_revocation, revoked.status_index) and bit(after_revocation, withdrawn.status_index)
    assert client.get(f"/offers/{offer.id}/eligibility", headers=headers).headers["ETag"] != etag

    withdraw_offer_from_card(session, offer, withdrawn, "fraude", TEST_ACTOR)
    session.commit()
    assert not bit(fetch_list(app, client, offer, headers), withdrawn.status_index)

    lift_withdrawal(session, offer, withdrawn, TEST_ACTOR)
    session.commit()
    rebuilt = fetch_list(app, client, offer, headers)
    assert bit(rebuilt, withdrawn.status_index)
    expected = python_verdicts(session, offer, demo_register)
    assert {index: bit(rebuilt, index) for index in expected} == expected


def test_a_renewed_card_enters_the_list(app, client, session, demo_register, lender, signer):
    """Renewing the demo's expired card makes it eligible again at once, not the next day."""
    offer, headers = lender
    expired = next(card for card in demo_register if card_service.card_state(card) == "expired")
    before = fetch_list(app, client, offer, headers)
    assert not bit(before, expired.status_index)
    card_service.renew_card(session, expired, signer, TEST_ACTOR, validity_years=VALIDITY_YEARS)
    session.commit()
    assert standing(session, offer, expired).eligible
    assert bit(fetch_list(app, client, offer, headers), expired.status_index)


def test_an_artisan_written_rebuilds_the_list(app, client, session, lender, make_offer, make_card, make_api_key):
    """A holder's attribute changed through the register (artisans_written) takes their card off a
    list that reads that attribute at once, although no card's status changed."""
    organisation = lender[0].organisation
    offer = make_offer(organisation, conditions=[CNSS_REGISTERED], fields=[])
    headers = {"Authorization": f"Bearer {make_api_key(organisation).plaintext}"}
    card = make_card()
    assert bit(fetch_list(app, client, offer, headers), card.status_index)
    card.artisan.cnss_status = CnssStatus.NOT_REGISTERED
    artisans_written(session, [card.artisan.id])
    session.commit()
    assert not bit(fetch_list(app, client, offer, headers), card.status_index)


def test_a_paused_offer_has_no_list_and_another_partner_none_at_all(app, client, session, lender, make_api_key):
    """404 for a paused offer and for another partner's offer, like a missing one."""
    offer, headers = lender
    stranger = {"Authorization": f"Bearer {make_api_key().plaintext}"}
    assert client.get(f"/offers/{offer.id}/eligibility", headers=stranger).status_code == 404
    change_offer_state(session, offer, "pause", TEST_ACTOR, reason="audit")
    session.commit()
    assert client.get(f"/offers/{offer.id}/eligibility", headers=headers).status_code == 404


def test_with_the_key_file_missing_the_last_signed_list_is_served(app, client, session, demo_register, lender):
    """The signing key's file gone (issue 14): a list signed before is served again, though a
    revocation since would need a new signature; verification of cards goes on elsewhere."""
    offer, headers = lender
    before = client.get(f"/offers/{offer.id}/eligibility", headers=headers).get_data(as_text=True)
    for pem in Path(app.config["KEYS_DIR"]).glob("*.pem"):
        pem.unlink()
    card_service.revoke_card(session, demo_register[0], RevocationReason.DECEASED, TEST_ACTOR)
    session.commit()
    served = client.get(f"/offers/{offer.id}/eligibility", headers=headers)
    assert served.status_code == 200 and served.get_data(as_text=True) == before
