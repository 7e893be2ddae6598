"""Activation codes in the back office: a new code for a card of the officer's region, confirmed,
shown once (grouped, with its expiry, saying earlier codes no longer work, never cached); the code
shown is the one stored (as its keyed hash); a card not in force gets none."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.fixtures.support import TEST_ACTOR
from webapp.models import ActivationCode, AuditEvent, RevocationReason
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.activation import ActivationPolicy, code_hash, normalize_code
from webapp.settings import current_settings

CODE = re.compile(r"data-activation-code>([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})<")


def text_of(response) -> str:
    return response.get_data(as_text=True).replace("\u2068", "").replace("\u2069", "")


def code_url(card) -> str:
    return f"/office/artisans/{card.artisan_id}/cards/{card.number}/activation-code"


@pytest.fixture
def card(make_card, make_artisan):
    return make_card(make_artisan(region_code="03"))


def live_codes(session, card) -> list[ActivationCode]:
    session.expire_all()
    return list(
        session.scalars(
            select(ActivationCode).where(
                ActivationCode.card_id == card.id,
                ActivationCode.used_at.is_(None),
                ActivationCode.superseded_at.is_(None),
            )
        )
    )


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_new_code_is_shown_once_and_ends_the_earlier_ones(app, as_officer, session, card, language):
    """The confirmation warns that earlier codes stop; confirmed, the answer shows the grouped code,
    its expiry and that note, is not cached; the code shown is the card's only live code; the
    artisan's page does not show it again."""
    page = text_of(as_officer.get(code_url(card), language))
    assert {"fr": "cessent aussitôt de fonctionner", "ar": "تتوقف كل الرموز السابقة"}[language] in page
    first = as_officer.post(code_url(card), {}, language=language)
    second = as_officer.post(code_url(card), {}, language=language)
    assert second.status_code == 200 and second.headers["Cache-Control"] == "no-store"
    answer = text_of(second)
    shown = CODE.search(answer).group(1)
    assert CODE.search(text_of(first)).group(1) != shown
    assert {"fr": "ne fonctionnent plus", "ar": "لم تعد الرموز السابقة"}[language] in answer
    (live,) = live_codes(session, card)
    with app.app_context():
        policy = ActivationPolicy.from_settings(current_settings())
    assert live.code_hash == code_hash(policy, card.number, normalize_code(shown))
    assert live.expires_at - live.issued_at == timedelta(days=policy.validity_days)
    assert live.expires_at.year and str(live.expires_at.year) in answer
    assert shown not in text_of(as_officer.get(f"/office/artisans/{card.artisan_id}"))
    issued = session.scalars(select(AuditEvent.action).where(AuditEvent.card_id == card.id)).all()
    assert issued.count("card.activation_code_issue") == 2


def test_the_cards_page_offers_a_new_code(as_officer, card):
    """The artisan's page links to the confirmation."""
    assert f'href="{code_url(card)}"' in text_of(as_officer.get(f"/office/artisans/{card.artisan_id}"))


@pytest.mark.parametrize("arrange", ["revoked", "expired"])
def test_a_card_not_in_force_gets_no_code(as_officer, session, card, arrange):
    """The confirmation says why and offers no button; posting anyway answers 409, nothing issued."""
    if arrange == "revoked":
        card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    else:
        card.issued_at -= timedelta(days=3000)
        card.expires_at = card.issued_at + timedelta(days=1)
    session.commit()
    page = text_of(as_officer.get(code_url(card)))
    assert 'role="alert"' in page and "Émettre un nouveau code" not in page
    response = as_officer.post(code_url(card), {})
    assert response.status_code == 409 and not CODE.search(text_of(response))
    assert session.scalars(select(ActivationCode).where(ActivationCode.card_id == card.id)).all() == []


def test_another_regions_card_is_not_found(as_officer, session, make_card, make_artisan):
    """404 to look or to post; no code is issued."""
    other = make_card(make_artisan(region_code="07"))
    assert as_officer.get(code_url(other)).status_code == 404
    assert as_officer.post(code_url(other), {}).status_code == 404
    assert live_codes(session, other) == []


@pytest.mark.parametrize("number", ["0000000000", "ABCDEFGHJK"])
def test_an_unknown_card_number_is_not_found(as_officer, card, number):
    """A number of no card of this artisan: 404."""
    assert as_officer.get(f"/office/artisans/{card.artisan_id}/cards/{number}/activation-code").status_code == 404


def test_without_the_csrf_token_no_code(as_officer, session, card):
    """A cross-site post is refused (400), nothing issued."""
    assert as_officer.client.post(code_url(card), data={}).status_code == 400
    assert live_codes(session, card) == []
