"""Who checked a card, recorded from each way of checking it: the verify API (anonymous: counted;
partner staff or system: listed, with the place given), the eligibility API and the partner check
page. A failure to record never fails the verification."""

import pytest
from sqlalchemy import func, select, text

from webapp.models import AnonymousCheckCount, Base, CardCheck, CheckKind, Role
from webapp.services.cards.tokens import qr_text

VERIFY = "/api/v1/verify"


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_an_anonymous_verification_is_counted_not_listed(app, client, session, make_card):
    """The public page's call (no credentials): +1 on the card's count for the month, no row."""
    card = make_card()
    for _ in range(2):
        assert client.post(VERIFY, json={"qr": qr_text(app.config["PUBLIC_BASE_URL"], card.token)}).status_code == 200
    assert session.scalar(select(AnonymousCheckCount.checks).where(AnonymousCheckCount.card_id == card.id)) == 2
    assert _count(session, CardCheck) == 0


def test_partner_staff_verification_is_listed_with_its_place(client, auth, session, make_card, make_user):
    """Partner staff signed in: a staff_scan row for their organisation, with who and where."""
    card, agent = make_card(), make_user(Role.PARTNER_AGENT)
    auth.login(agent)
    response = client.post(VERIFY, json={"qr": card.token, "place": " Agence Fès Batha "})
    assert response.status_code == 200 and response.get_json()["verdict"] == "valid"
    check = session.scalars(select(CardCheck)).one()
    assert (check.card_id, check.organisation_id, check.kind, check.place, check.user_id) == (
        card.id,
        agent.organisation_id,
        CheckKind.STAFF_SCAN,
        "Agence Fès Batha",
        agent.id,
    )
    assert _count(session, AnonymousCheckCount) == 0


def test_partner_system_verification_is_listed(client, session, make_card, make_api_key):
    """A partner's system with an API key: a system_scan row naming the key; no place, none stored."""
    card, key = make_card(), make_api_key()
    response = client.post(VERIFY, json={"qr": card.token}, headers={"Authorization": f"Bearer {key.plaintext}"})
    assert response.status_code == 200
    check = session.scalars(select(CardCheck)).one()
    assert (check.kind, check.api_key_id, check.place, check.organisation_id) == (
        CheckKind.SYSTEM_SCAN,
        key.api_key.id,
        None,
        key.api_key.organisation_id,
    )


def test_the_eligibility_api_records_a_check_by_number(client, session, make_card, make_api_key):
    """GET /api/v1/eligibility of a card: a system_number row with the place."""
    card, key = make_card(), make_api_key()
    response = client.get(
        "/api/v1/eligibility",
        query_string={"card": card.number, "place": "Guichet Rabat"},
        headers={"Authorization": f"Bearer {key.plaintext}"},
    )
    assert response.status_code == 200
    check = session.scalars(select(CardCheck)).one()
    assert (check.kind, check.place, check.card_id) == (CheckKind.SYSTEM_NUMBER, "Guichet Rabat", card.id)


def test_the_partner_check_page_records_a_check_by_number(client, auth, session, make_card, make_user):
    """/partner/check of a card: a staff_number row; an unknown number records nothing."""
    card, agent = make_card(), make_user(Role.PARTNER_AGENT)
    auth.login(agent)
    assert client.get("/partner/check", query_string={"card": card.number, "place": "Stand 12"}).status_code == 200
    assert client.get("/partner/check", query_string={"card": "0000000000"}).status_code == 404
    check = session.scalars(select(CardCheck)).one()
    assert (check.kind, check.place, check.user_id) == (CheckKind.STAFF_NUMBER, "Stand 12", agent.id)


@pytest.mark.parametrize(
    "place",
    [5, ["Fès"], {"a": 1}, True, "x" * 121, "Fès\nRabat", "\x00"],
)
def test_a_bad_place_is_refused_and_nothing_is_recorded(client, session, make_card, make_api_key, place):
    """A place that is not text of at most 120 characters without control characters: 400 bad_place,
    on both APIs, and no check recorded."""
    card, key = make_card(), make_api_key()
    headers = {"Authorization": f"Bearer {key.plaintext}"}
    response = client.post(VERIFY, json={"qr": card.token, "place": place}, headers=headers)
    assert response.status_code == 400
    assert (response.get_json()["error"], response.get_json()["verdict"]) == ("bad_place", "malformed")
    if isinstance(place, str):
        asked = client.get("/api/v1/eligibility", query_string={"card": card.number, "place": place}, headers=headers)
        assert (asked.status_code, asked.get_json()["error"]) == (400, "bad_place")
    assert _count(session, CardCheck) == 0 and _count(session, AnonymousCheckCount) == 0


@pytest.mark.parametrize("qr", ["not a card", "https://carte.test/v#123"])
def test_no_card_read_records_nothing(client, session, qr):
    """A text that is no card: nothing to record."""
    assert client.post(VERIFY, json={"qr": qr}).status_code == 200
    assert _count(session, AnonymousCheckCount) == 0 and _count(session, CardCheck) == 0


@pytest.mark.parametrize("caller", ["anonymous", "partner system"])
def test_a_failure_to_record_does_not_fail_the_verification(
    app, client, session, make_card, make_api_key, caller, caplog
):
    """With the checks' tables gone (the worst a store can do), verification still answers its verdict."""
    card, key = make_card(), make_api_key()
    session.execute(text("DROP TABLE card_check_count"))
    session.execute(text("DROP TABLE card_check"))
    session.commit()
    headers = {"Authorization": f"Bearer {key.plaintext}"} if caller == "partner system" else {}
    try:
        response = client.post(VERIFY, json={"qr": card.token, "place": "Fès"}, headers=headers)
    finally:  # PostgreSQL's schema is built once per run: the next tests need the tables back
        tables = [Base.metadata.tables["card_check"], Base.metadata.tables["card_check_count"]]
        Base.metadata.create_all(app.extensions["database"].engine, tables=tables)
    assert response.status_code == 200 and response.get_json()["verdict"] == "valid"
    assert "not recorded" in caplog.text
