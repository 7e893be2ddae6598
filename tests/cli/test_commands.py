"""Operator commands: keys, cards, demo seed and setup, with one-line refusals."""

import re
import stat
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from webapp import create_app
from webapp.models import Artisan, AuditEvent, Card, CardStatus, Region, User
from webapp.services.cards.qr import card_qr
from webapp.services.cards.tokens import extract_token, verify_card_token
from webapp.services.trust.signing_keys import load_keyring


def run(runner, *args):
    result = runner.invoke(args=list(args))
    return result.exit_code, result.output


def test_keys_generate_list_rotate_retire(runner, app):
    """The key commands manage the keyring end to end; private keys are written 0600."""
    code, output = run(runner, "keys", "generate")
    first = output.split()[0]
    assert code == 0 and output.strip().endswith("active")
    assert stat.S_IMODE((Path(app.config["KEYS_DIR"]) / f"{first}.pem").stat().st_mode) == 0o600
    code, output = run(runner, "keys", "rotate")
    second = output.split()[0]
    assert code == 0 and second != first
    code, output = run(runner, "keys", "list")
    assert re.search(rf"{first}\s+verify_only", output) and re.search(rf"{second}\s+active", output)
    assert run(runner, "keys", "retire", first) == (0, f"{first} retired\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "retire", "nope00"], "No signing key with kid 'nope00'"),
        (["keys", "rotate", "--to", "nope00"], "No signing key with kid 'nope00'"),
        (["cards", "qr-text", "0000000000"], "No card with number"),
        (["cards", "revoke", "0000000000", "--reason", "lost"], "No card with number"),
    ],
)
def test_refusals_print_one_line_and_exit_1(runner, args, message):
    """A refused operation prints its reason, not a traceback, and exits with status 1."""
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_retiring_the_signing_key_is_refused(runner):
    """The active key cannot be retired before a rotation."""
    kid = run(runner, "keys", "generate")[1].split()[0]
    code, output = run(runner, "keys", "retire", kid)
    assert code == 1 and "rotate to another key before retiring it" in output


@pytest.fixture
def seeded(runner, session):
    assert run(runner, "keys", "generate")[0] == 0
    code, output = run(runner, "demo", "seed", "--artisans", "30")
    assert code == 0, output
    return output


def test_demo_seed_covers_all_regions_and_creates_logins(seeded, session):
    """Demo artisans span the 12 regions with Latin and Arabic names; every artisan has a card."""
    regions = session.scalars(select(Artisan.region_code).distinct()).all()
    assert sorted(regions) == sorted(session.scalars(select(Region.code)).all())
    assert session.scalar(select(func.count()).select_from(Card)) == 30
    assert all(a.first_name_ar and a.last_name_ar for a in session.scalars(select(Artisan)))
    assert session.scalar(select(func.count()).select_from(User)) == 7
    assert "admin@demo.carte-artisan.ma" in seeded and "demo-artisan-2026" in seeded


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


def test_cards_list_and_qr_text(seeded, runner, app, session):
    """`cards list` prints one number a line; `cards qr-text` prints exactly the QR text."""
    numbers = run(runner, "cards", "list", "--limit", "5")[1].split()
    assert len(numbers) == 5
    code, output = run(runner, "cards", "qr-text", numbers[0])
    text = output.rstrip("\n")
    assert code == 0 and "\n" not in text
    token = extract_token(text, app.config["PUBLIC_BASE_URL"])
    keys = load_keyring(session, app.config["KEYS_DIR"]).verifying_keys
    assert verify_card_token(token, keys).number == numbers[0]


def test_cards_revoke_suspend_reinstate(seeded, runner, session):
    """The status commands change the card and write an audit event with the CLI actor and reason."""
    number = session.scalars(select(Card.number).where(Card.status == CardStatus.ACTIVE)).first()
    assert run(runner, "cards", "suspend", number, "--reason", "inquiry")[1] == f"{number} suspended\n"
    assert run(runner, "cards", "reinstate", number, "--reason", "cleared")[1] == f"{number} active\n"
    assert run(runner, "cards", "revoke", number, "--reason", "stolen")[1] == f"{number} revoked\n"
    events = session.scalars(
        select(AuditEvent)
        .join(Card, AuditEvent.card_id == Card.id)
        .where(Card.number == number)
        .order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["card.issue", "card.suspend", "card.reinstate", "card.revoke"]
    assert events[-1].actor.startswith("cli:") and events[-1].reason == "stolen"


@pytest.mark.parametrize("reason", ["because", "replaced", ""])
def test_revoke_needs_a_known_reason(seeded, runner, session, reason):
    """Revocation reasons are lost, stolen, deceased, fraud, left_trade; anything else is refused."""
    number = session.scalars(select(Card.number).where(Card.status == CardStatus.ACTIVE)).first()
    result = runner.invoke(args=["cards", "revoke", number, "--reason", reason])
    assert result.exit_code == 2 and "--reason must be one of" in result.output
    session.expire_all()
    assert session.scalars(select(Card.status).where(Card.number == number)).one() == CardStatus.ACTIVE


def test_revoking_twice_is_refused(seeded, runner, session):
    """An already revoked card cannot be revoked again."""
    number = session.scalars(select(Card.number).where(Card.status == CardStatus.REVOKED)).first()
    code, output = run(runner, "cards", "revoke", number, "--reason", "lost")
    assert code == 1 and "is revoked" in output


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


def test_cards_qr_image_png_decodes_to_the_qr_text(seeded, runner, session, tmp_path):
    """`cards qr-image --format png` writes a PNG that a real decoder reads as the card's QR text."""
    number = session.scalars(select(Card.number)).first()
    output = tmp_path / "card.png"
    assert run(runner, "cards", "qr-image", number, "--format", "png", "--output", str(output))[0] == 0
    expected = run(runner, "cards", "qr-text", number)[1].rstrip("\n")
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(output))] == [expected]


def test_cards_qr_image_svg_has_the_symbol_and_quiet_zone(seeded, runner, app, session, tmp_path):
    """The SVG is the same symbol: its size is (modules + 2 x 4 quiet-zone modules) x scale."""
    card = session.scalars(select(Card)).first()
    output = tmp_path / "card.svg"
    assert run(runner, "cards", "qr-image", card.number, "--output", str(output), "--scale", "3")[0] == 0
    modules = card_qr(app.config["PUBLIC_BASE_URL"], card.token).symbol_size(scale=1, border=0)[0]
    side = (modules + 8) * 3
    assert output.read_text().startswith("<svg") and f'width="{side}" height="{side}"' in output.read_text()


def test_cards_issue_all_issues_to_artisans_without_a_card(runner, session, make_artisan, signer):
    """`cards issue-all` gives a card to each registered artisan without one and says how many."""
    artisans = [make_artisan().id for _ in range(4)]
    session.commit()
    code, output = run(runner, "cards", "issue-all", "--chunk-size", "100")
    assert code == 0 and output.strip().endswith("4 cards issued")
    assert sorted(session.scalars(select(Card.artisan_id))) == sorted(artisans)
    assert run(runner, "cards", "issue-all")[1].strip().endswith("0 cards issued")
