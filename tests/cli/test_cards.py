"""`cards ...`: the lifecycle, listing, QR codes, roll-out and re-signing, with one-line refusals."""

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from tests.cli.conftest import run
from webapp.models import AuditEvent, Card, CardStatus
from webapp.services.cards.qr import card_qr
from webapp.services.cards.tokens import extract_token, verify_card_token
from webapp.services.trust.signing_keys import load_keyring


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cards", "qr-text", "0000000000"], "No card with number"),
        (["cards", "revoke", "0000000000", "--reason", "lost"], "No card with number"),
    ],
)
def test_refusals_print_one_line_and_exit_1(runner, args, message):
    """A refused operation prints its reason, not a traceback, and exits with status 1."""
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_cards_list_and_qr_text(seeded, runner, app, session):
    """`cards list` prints one number a line; `cards qr-text` prints exactly the QR text."""
    numbers = [line.split()[0] for line in run(runner, "cards", "list", "--limit", "5")[1].splitlines()]
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
