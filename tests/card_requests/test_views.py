"""The artisan's requests page: report a lost card (suspended at once), ask for a renewal or a
correction, see each request's state and the chamber's note; bad input answered on the page with
nothing written, a duplicate answered with the first request."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.fixtures.auth import AuthActions
from tests.fixtures.support import TEST_ACTOR, csrf_token_from
from webapp.models import CardRequest, CardStatus, RequestKind, RequestState, RevocationReason, Role
from webapp.services.audit import Actor
from webapp.services.cards import lifecycle
from webapp.services.cards import requests as card_requests
from webapp.services.scope import NATIONAL

PAGE = "/card/requests/"


def text_of(response) -> str:
    return response.get_data(as_text=True).replace("\u2068", "").replace("\u2069", "")


def count_requests(session) -> int:
    return session.scalar(select(func.count()).select_from(CardRequest))


class Artisan:
    """A client signed in as an artisan, posting a request page's form with its CSRF token."""

    def __init__(self, client):
        self.client = client

    def get(self, url, language="fr"):
        return self.client.get(f"{url}?lang={language}")

    def ask(self, kind, detail=None, language="fr"):
        url = f"{PAGE}new/{kind}"
        # The session's token (the account page has a form even when the request page has none).
        token = csrf_token_from(self.client.get("/account").get_data(as_text=True))
        data = {"csrf_token": token} | ({"detail": detail} if detail is not None else {})
        return self.client.post(f"{url}?lang={language}", data=data)


@pytest.fixture
def card(make_card):
    return make_card()


@pytest.fixture
def holder(app, make_user, card):
    client = app.test_client()
    assert AuthActions(client).login(make_user(Role.ARTISAN, artisan=card.artisan)).status_code == 302
    return Artisan(client)


@pytest.mark.parametrize(
    ("language", "title", "lost"),
    [("fr", "Demandes à la chambre", "J’ai perdu ma carte"), ("ar", "طلبات إلى الغرفة", "ضاعت بطاقتي")],
)
def test_the_page_shows_the_card_and_the_three_requests(holder, card, language, title, lost):
    """The card in force, the three requests and an empty list, in the artisan's language."""
    page = text_of(holder.get(PAGE, language))
    assert title in page and lost in page
    assert card.number[:5] in page
    for kind in ("lost", "renewal", "correction"):
        assert f'href="/card/requests/new/{kind}"' in page
    assert 'href="/card/offers"' in page and 'href="/card/checks"' in page


def test_reporting_a_lost_card_suspends_it_at_once(holder, session, card):
    """The page says what will happen; confirmed, the card is suspended and the list shows the request."""
    confirm = text_of(holder.get(f"{PAGE}new/lost"))
    assert "suspendue aussitôt" in confirm
    response = holder.ask("lost")
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    session.refresh(card)
    assert (card.status, card.status_reason) == (CardStatus.SUSPENDED, lifecycle.LOST_REPORTED)
    page = text_of(holder.get(PAGE))
    assert "Votre carte est suspendue" in page  # the flash
    assert "Vous avez déclaré cette carte perdue" in page and "En attente de la chambre" in page


def test_a_second_request_of_a_kind_gets_a_clear_answer(holder, session):
    """A renewal asked twice: the second answer is 409 naming the first request; one task."""
    assert holder.ask("renewal").status_code == 302
    again = holder.ask("renewal")
    assert again.status_code == 409 and "Vous l’avez déjà demandé (renouvellement) le " in text_of(again)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text_of(again))  # the date as French readers write it
    assert count_requests(session) == 1


def test_a_second_lost_report_is_not_a_second_task(holder, session, card):
    """The card is suspended already and a task waits: 409 with the first request, no second task."""
    assert holder.ask("lost").status_code == 302
    again = holder.ask("lost", language="ar")
    assert again.status_code == 409 and "سبق أن طلبت ذلك" in text_of(again)
    assert count_requests(session) == 1


def test_a_correction_keeps_the_artisans_words(holder, session):
    """The words are sent as typed (trimmed) and shown on the list."""
    assert holder.ask("correction", "  Mon métier est la poterie, pas le zellige.  ").status_code == 302
    assert session.scalar(select(CardRequest.detail)) == "Mon métier est la poterie, pas le zellige."
    assert "Mon métier est la poterie, pas le zellige." in text_of(holder.get(PAGE))


@pytest.mark.parametrize(
    ("detail", "message"),
    [
        (None, "Un motif est obligatoire"),
        ("", "Un motif est obligatoire"),
        ("   ", "Un motif est obligatoire"),
        ("x" * 501, "500"),
        ("x" * 6000, "5000"),
    ],
    ids=["missing", "empty", "blank", "too-long", "flood"],
)
def test_a_bad_correction_is_refused_on_its_field(holder, session, detail, message):
    """422 with the reason under the field; nothing written."""
    response = holder.ask("correction", detail)
    assert response.status_code == 422
    page = text_of(response)
    assert 'id="detail-errors"' in page and message in page.split('id="detail-errors"')[1][:300]
    assert count_requests(session) == 0


def test_a_form_without_its_csrf_token_is_refused(holder, session, card):
    """No token, no request: the card stays valid."""
    response = holder.client.post(f"{PAGE}new/lost", data={})
    assert response.status_code == 400
    session.refresh(card)
    assert card.status == CardStatus.ACTIVE and count_requests(session) == 0


@pytest.mark.parametrize("path", ["new/stolen", "new/", "new/LOST", "new/lost/again"])
def test_unknown_requests_answer_404(holder, path):
    """Only the three kinds exist."""
    assert holder.client.get(PAGE + path).status_code == 404


def test_without_a_card_in_force_nothing_can_be_asked(holder, session, card):
    """A revoked card: the page says to ask the chamber, and a request is refused (409), nothing written."""
    lifecycle.revoke_card(session, card, RevocationReason.FRAUD, TEST_ACTOR)
    session.commit()
    assert "pas de carte en vigueur" in text_of(holder.get(PAGE))
    response = holder.ask("renewal")
    assert response.status_code == 409 and "pas de carte en vigueur" in text_of(response)
    assert count_requests(session) == 0


def test_the_artisan_reads_the_state_and_the_chambers_note(holder, session, card, make_user):
    """Declined by an officer with a note: the list says declined and shows the note."""
    holder.ask("correction", "Mon nom est Khadija")
    officer = make_user(Role.OFFICER, region="03")
    request_id = session.scalar(select(CardRequest.id))
    card_requests.close_request(
        session,
        request_id,
        1,
        RequestState.DECLINED,
        "Le registre est juste : venez avec votre CIN.",
        NATIONAL,
        Actor(f"user:{officer.id}", officer.id),
    )
    session.commit()
    page = text_of(holder.get(PAGE))
    assert "Refusée" in page and "Le registre est juste : venez avec votre CIN." in page


def test_an_artisan_sees_only_their_own_requests(holder, session, make_card):
    """Another artisan's request is not on the page."""
    other = make_card()
    card_requests.submit_request(
        session, other.artisan, RequestKind.CORRECTION, TEST_ACTOR, detail="someone else's words"
    )
    session.commit()
    assert "someone else's words" not in text_of(holder.get(PAGE))


def test_a_pending_request_is_not_offered_again(holder, session, card):
    """Renewal asked: its button goes, the others stay. Lost reported then the card made valid again
    by an officer: "lost" is offered again (it suspends the card)."""
    holder.ask("renewal")
    page = text_of(holder.get(PAGE))
    assert 'href="/card/requests/new/renewal"' not in page and 'href="/card/requests/new/lost"' in page
    holder.ask("lost")
    assert 'href="/card/requests/new/lost"' not in text_of(holder.get(PAGE))
    session.refresh(card)
    lifecycle.reinstate_card(session, card, TEST_ACTOR)
    session.commit()
    assert 'href="/card/requests/new/lost"' in text_of(holder.get(PAGE))
    response = holder.ask("lost")
    assert response.status_code == 302 and "de nouveau suspendue" in text_of(holder.get(PAGE))
    session.refresh(card)
    assert card.status == CardStatus.SUSPENDED and count_requests(session) == 2
