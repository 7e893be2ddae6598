"""`demo seed` and `setup`: demo data in every region and status, and an idempotent set-up."""

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.fixtures.auth import AuthActions
from tests.fixtures.live import Phone
from tests.fixtures.support import csrf_token_from
from webapp import create_app
from webapp.models import Artisan, Card, CardStatus, Offer, OfferState, Organisation, Region, User
from webapp.services.cards.qr import card_qr


def test_demo_seed_covers_all_regions_and_creates_logins(seeded, session):
    """Demo artisans span the 12 regions with Latin and Arabic names; every artisan has a card."""
    regions = session.scalars(select(Artisan.region_code).distinct()).all()
    assert sorted(regions) == sorted(session.scalars(select(Region.code)).all())
    assert session.scalar(select(func.count()).select_from(Card)) == 30
    assert all(a.first_name_ar and a.last_name_ar for a in session.scalars(select(Artisan)))
    # admin, two officers, an artisan, and a manager and an agent for each of the four demo partners
    assert session.scalar(select(func.count()).select_from(User)) == 12
    assert "admin@demo.carte-artisan.ma" in seeded and "demo-artisan-2026" in seeded
    assert "barid.agent@demo.carte-artisan.ma" in seeded and "credit.manager@demo.carte-artisan.ma" in seeded


def test_demo_partners_have_their_offers_approved(seeded, session):
    """The transporter, fair organiser, lender and training body each have approved offers in force."""
    offers = session.execute(select(Organisation.slug, Offer.state).join(Offer.organisation)).all()
    assert sorted(offers) == [
        ("barid-colis", OfferState.APPROVED),
        ("barid-colis", OfferState.APPROVED),
        ("credit-artisan", OfferState.APPROVED),
        ("formation-artisanat", OfferState.APPROVED),
        ("salon-fes", OfferState.APPROVED),
    ]


def test_demo_shows_every_status(seeded, session):
    """The demo has active, revoked and suspended cards, and an expired one."""
    statuses = set(session.scalars(select(Card.status)))
    assert statuses == {CardStatus.ACTIVE, CardStatus.REVOKED, CardStatus.SUSPENDED}
    assert "expired" in seeded


def test_longest_demo_name_fits_qr_version_12(seeded, session, app):
    """The longest demo name (40 characters) gives a QR of version 12 or lower."""
    longest = max(session.scalars(select(Artisan)), key=lambda a: len(a.name_latin))
    card = session.scalars(select(Card).where(Card.artisan_id == longest.id)).one()
    assert len(longest.name_latin) == 40
    assert card_qr("https://carte.artisanat.ma", card.token).version <= 12


@pytest.fixture
def fresh_app(app_config, tmp_path):
    """An app on an empty SQLite file, as `make run` finds it on a fresh clone."""
    return create_app({**app_config, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"})


def test_setup_is_idempotent(fresh_app):
    """`setup` migrates, creates a key and the demo once; a second run changes nothing and reprints the logins."""
    runner = fresh_app.test_cli_runner()
    first = runner.invoke(args=["setup"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["setup"])
    assert second.exit_code == 0 and "created signing key" not in second.output
    assert "admin@demo.carte-artisan.ma" in second.output
    with fresh_app.extensions["database"].session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Artisan)) == 300
        assert session.scalar(select(func.count()).select_from(Card)) == 300
    assert len(list(Path(fresh_app.config["KEYS_DIR"]).glob("*.pem"))) == 1
    fresh_app.extensions["database"].engine.dispose()


def test_demo_logins_sign_in_with_the_published_password_and_are_not_forced_to_change_it(seeded, client, session):
    """Every demo login keeps demo-artisan-2026 (the README lists it): no forced change, straight in."""
    assert session.scalars(select(User).where(User.must_change_password.is_(True))).all() == []
    response = AuthActions(client).login("admin@demo.carte-artisan.ma", "demo-artisan-2026", next_url="/admin/staff")
    assert response.headers["Location"] == "/admin/staff"
    assert client.get("/admin/staff").status_code == 200


def test_the_demo_prints_a_card_an_activation_code_and_a_birth_date_that_activate(seeded, client):
    """`demo seed` (and `setup`) print a demo card's number, birth date and a fresh code; typed on
    /card/activate they put the card on a phone."""
    match = re.search(r"card number (\w+)\s+activation code ([\w-]+)\s+birth date ([\d/]+)", seeded)
    assert match, seeded
    number, code, birth = match.groups()
    page = client.get("/card/activate")
    response = client.post(
        "/card/activate",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "card_number": number,
            "code": code,
            "birth_date": birth,
            "password": "tajine bleu de fes",
            "device_key": Phone.new().device_key,
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert client.get("/card/api/card").get_json()["card"]["number"] == number


def test_setup_keeps_the_public_base_url_for_the_commands_run_later(fresh_app):
    """`setup` writes the address it serves (PUBLIC_BASE_URL) to the instance file and says where."""
    result = fresh_app.test_cli_runner().invoke(args=["setup", "--no-demo"])
    assert result.exit_code == 0, result.output
    kept = Path(fresh_app.config["PUBLIC_BASE_URL_FILE"])
    assert kept.read_text().strip() == fresh_app.config["PUBLIC_BASE_URL"]
    assert f"QR codes point at {fresh_app.config['PUBLIC_BASE_URL']} (kept in {kept};" in result.output
    fresh_app.extensions["database"].engine.dispose()
