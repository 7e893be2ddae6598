"""The artisan's pages /card/offers and /card/checks: only for the signed-in artisan, about their own
card only; "this was not me" on a listed check or redemption (CSRF, audited)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token_from
from tests.fixtures.factories import CNSS_REGISTERED
from webapp.models import AuditEvent, CardCheck, CheckKind, CnssStatus, Redemption, Role, utcnow
from webapp.services.cards.checks import Checker, note_check

PAGES = ["/card/offers", "/card/checks"]


@pytest.fixture
def holder(make_card, make_user, make_artisan):
    """An artisan with a card, signed up as a user."""
    card = make_card(make_artisan(cnss_status=CnssStatus.NOT_REGISTERED))
    return make_user(Role.ARTISAN, artisan=card.artisan), card


def _check(app, card, organisation, place="Agence Fès Batha", days=1):
    with app.extensions["database"].engine.connect() as connection:
        checker = Checker(organisation.id, CheckKind.STAFF_SCAN, place)
        note_check(connection, card.number, checker, utcnow() - timedelta(days=days))


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_people_are_sent_to_sign_in(client, page):
    """Not signed in: the login page."""
    response = client.get(page)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", [Role.ADMIN, Role.OFFICER, Role.PARTNER_MANAGER, Role.PARTNER_AGENT])
def test_other_roles_are_refused(client, auth, make_user, page, role):
    """Only artisans: staff of every kind get 403."""
    auth.login(make_user(role))
    assert client.get(page).status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_a_partner_system_is_refused(client, make_api_key, page):
    """An API key is no artisan either."""
    key = make_api_key()
    assert client.get(page, headers={"Authorization": f"Bearer {key.plaintext}"}).status_code == 403


def test_my_offers_lists_eligible_and_not_eligible_offers_in_my_language(
    client, auth, holder, make_offer, make_organisation
):
    """Eligible offers with partner, benefit, how to use and the quota left; the others with the
    failed condition's label in the page's language."""
    user, _card = holder
    make_offer(make_organisation(name="Barid Al-Maghrib"), quota=(20, "month"))
    make_offer(make_organisation(name="Crédit Artisan"), conditions=[CNSS_REGISTERED])
    auth.login(user)
    french = client.get("/card/offers?lang=fr").get_data(as_text=True)
    assert "Barid Al-Maghrib" in french and "Crédit Artisan" in french
    assert "20" in french and "Inscrit à la CNSS" in french
    arabic = client.get("/card/offers?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in arabic and "مسجل في الضمان الاجتماعي" in arabic


def test_who_checked_my_card_lists_my_checks_only(app, client, auth, holder, make_card, make_organisation):
    """My card's checks with organisation and place, the retention period; not another card's."""
    user, card = holder
    _check(app, card, make_organisation(name="Souk Expo"), place="Foire de Fès")
    _check(app, make_card(), make_organisation(name="Autre Partenaire"), place="Ailleurs")
    with app.extensions["database"].engine.connect() as connection:
        note_check(connection, card.number, None, utcnow())
    auth.login(user)
    page = client.get("/card/checks?lang=fr").get_data(as_text=True)
    assert "Souk Expo" in page and "Foire de Fès" in page
    assert "Autre Partenaire" not in page and "Ailleurs" not in page
    assert "12" in page  # the retention period, in months


def test_this_was_not_me_reports_the_check(app, client, auth, session, holder, make_organisation):
    """The POST marks the check reported by the artisan, audits it, and the page shows it reported."""
    user, card = holder
    _check(app, card, make_organisation())
    check = session.scalars(select(CardCheck)).one()
    auth.login(user)
    page = client.get("/card/checks").get_data(as_text=True)
    assert f"/card/checks/{check.id}/report" in page
    response = client.post(f"/card/checks/{check.id}/report", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/card/checks")
    session.refresh(check)
    assert check.reported_by_user_id == user.id and check.reported_at is not None
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "card_check.report_not_me")).one()
    after = client.get("/card/checks").get_data(as_text=True)
    assert f"/card/checks/{check.id}/report" not in after


@pytest.mark.parametrize(
    ("which", "csrf", "status"),
    [
        ("mine", False, 400),  # no CSRF token
        ("another card's", True, 404),
        ("missing", True, 404),
        ("huge", True, 404),
        ("reported", True, 409),
    ],
)
def test_bad_reports_are_refused_and_change_nothing(
    app, client, auth, session, holder, make_card, make_organisation, which, csrf, status
):
    """No token, a check of another card, an id of no check, a check already reported: refused."""
    user, card = holder
    organisation = make_organisation()
    _check(app, card, organisation)
    _check(app, make_card(), organisation)
    mine, theirs = session.scalars(select(CardCheck).order_by(CardCheck.id)).all()
    auth.login(user)
    token = csrf_token_from(client.get("/card/checks").get_data(as_text=True))
    if which == "reported":
        client.post(f"/card/checks/{mine.id}/report", data={"csrf_token": token})
    check_id = {"mine": mine.id, "another card's": theirs.id, "missing": 999_999, "huge": 2**40, "reported": mine.id}
    response = client.post(f"/card/checks/{check_id[which]}/report", data={"csrf_token": token} if csrf else {})
    assert response.status_code == status
    session.expire_all()
    assert session.get(CardCheck, theirs.id).reported_at is None
    assert (session.get(CardCheck, mine.id).reported_at is not None) == (which == "reported")


@pytest.mark.parametrize("page", PAGES)
def test_an_artisan_without_a_card_sees_an_explanation(client, auth, make_user, page):
    """No card yet: the page says so, no error."""
    auth.login(make_user(Role.ARTISAN))
    response = client.get(page + "?lang=en")
    assert response.status_code == 200 and "You have no card yet" in response.get_data(as_text=True)


@pytest.fixture
def redemption(session, holder, make_offer, make_organisation, make_user):
    """A redemption of the holder's card made offline at Souk Expo and since synced."""
    organisation = make_organisation(name="Souk Expo")
    agent = make_user(Role.PARTNER_AGENT, organisation=organisation)
    redemption = Redemption(
        offer_id=make_offer(organisation).id,
        card_id=holder[1].id,
        made_at=utcnow() - timedelta(days=1),
        fields={},
        made_offline=True,
        recorded_by_user_id=agent.id,
    )
    session.add(redemption)
    session.commit()
    return redemption


@pytest.mark.parametrize(
    ("language", "flash", "shown"),
    [
        ("fr", "l’utilisation de votre carte est signalée", "Vous avez signalé cette utilisation de votre carte le"),
        ("ar", "تم الإبلاغ عن استعمال بطاقتك", "أبلغت عن استعمال بطاقتك هذا في"),
    ],
)
def test_this_was_not_me_reports_a_redemption(client, auth, session, holder, redemption, language, flash, shown):
    """The POST marks the synced redemption reported by the artisan, audits it, and the page says so
    in the artisan's language, with no second report button."""
    user, _card = holder
    auth.login(user)
    url = f"/card/redemptions/{redemption.id}/report"
    page = client.get(f"/card/checks?lang={language}").get_data(as_text=True)
    assert url in page and shown not in page
    response = client.post(url, data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/card/checks")
    session.refresh(redemption)
    assert redemption.reported_by_user_id == user.id and redemption.reported_at is not None
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "redemption.report_not_me")).one()
    after = client.get("/card/checks").get_data(as_text=True)
    assert flash in after and shown in after and url not in after


@pytest.mark.parametrize(
    ("which", "csrf", "status"),
    [
        ("mine", False, 400),  # no CSRF token
        ("another card's", True, 404),
        ("missing", True, 404),
        ("huge", True, 404),
        ("reported", True, 409),
    ],
)
def test_bad_redemption_reports_are_refused_and_change_nothing(
    client, auth, session, holder, redemption, make_card, which, csrf, status
):
    """No token, another card's redemption, an id of no redemption, one already reported: refused."""
    user, _card = holder
    theirs = Redemption(
        offer_id=redemption.offer_id,
        card_id=make_card().id,
        made_at=utcnow(),
        fields={},
        recorded_by_user_id=redemption.recorded_by_user_id,
    )
    session.add(theirs)
    session.commit()
    auth.login(user)
    token = csrf_token_from(client.get("/card/checks").get_data(as_text=True))
    if which == "reported":
        client.post(f"/card/redemptions/{redemption.id}/report", data={"csrf_token": token})
    target = {"mine": redemption.id, "another card's": theirs.id, "missing": 999_999, "huge": 2**40}
    redemption_id = target.get(which, redemption.id)
    response = client.post(f"/card/redemptions/{redemption_id}/report", data={"csrf_token": token} if csrf else {})
    assert response.status_code == status
    session.expire_all()
    assert session.get(Redemption, theirs.id).reported_at is None
    assert (session.get(Redemption, redemption.id).reported_at is not None) == (which == "reported")
