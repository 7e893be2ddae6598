"""`cards ...`: the lifecycle, listing, QR codes, roll-out and re-signing, with one-line refusals."""

import io
import os
import re
from datetime import timedelta

import click
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from tests.cli.conftest import run
from tests.conftest import TEST_ACTOR
from webapp.extensions import attempt_counters
from webapp.models import Artisan, AuditEvent, Card, CardStatus, RevocationReason, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.activation import ActivationPolicy, ActivationRefused, check_activation
from webapp.services.cards.qr import card_qr
from webapp.services.cards.tokens import extract_token, verify_card_token
from webapp.services.trust.signing_keys import load_keyring
from webapp.settings import current_settings, remember_public_base_url


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
    # A card valid today: the demo data revokes, suspends and lets expire one card each, which
    # qr-image refuses without --force.
    valid = select(Card.number).where(Card.status == CardStatus.ACTIVE, Card.expires_at > utcnow()).order_by(Card.id)
    number = session.scalars(valid).first()
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


def _number(session, status=CardStatus.ACTIVE):
    """The number of a card with this status whose holder has no other card."""
    return session.scalars(select(Card.number).where(Card.status == status).order_by(Card.id)).first()


def test_issue_all_skips_artisans_revoked_for_cause_and_says_why(runner, session, make_card, make_artisan):
    """`cards issue-all` gives no card to artisans whose card was revoked for cause, and counts them by reason."""
    for reason in ["left_trade", "fraud", "deceased", "fraud"]:
        card_service.revoke_card(session, make_card(), RevocationReason(reason), TEST_ACTOR)
    newcomer = make_artisan().id
    session.commit()
    code, output = run(runner, "cards", "issue-all", "--chunk-size", "100")
    assert code == 0 and "1 cards issued\n" in output
    assert "4 artisans skipped, their last card was revoked: deceased 1, fraud 2, left_trade 1" in output
    assert session.scalars(select(Card.artisan_id).where(Card.status == CardStatus.ACTIVE)).all() == [newcomer]


def test_issue_by_rna_or_card_number(runner, session, make_card, make_artisan, signer):
    """`cards issue` finds the artisan by RNA number or by a card number, and refuses a second card in force."""
    artisan = make_artisan()
    lost = make_card()
    card_service.revoke_card(session, lost, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    code, output = run(runner, "cards", "issue", artisan.rna_number)
    assert code == 0 and output.startswith(f"{_number(session)} issued to {artisan.rna_number}, expires ")
    assert run(runner, "cards", "issue", lost.number)[0] == 0
    code, output = run(runner, "cards", "issue", artisan.rna_number)
    assert code == 1 and "already has a card in force" in output


@pytest.mark.parametrize("reason", ["deceased", "fraud", "left_trade"])
def test_issue_after_a_revocation_for_cause_needs_an_override(runner, session, make_card, reason):
    """Without --override-revocation the refusal says why and how; with it and a reason, the card is issued."""
    card = make_card()
    card_service.revoke_card(session, card, RevocationReason(reason), TEST_ACTOR)
    session.commit()
    code, output = run(runner, "cards", "issue", card.number)
    assert code == 1 and f"was revoked (reason: {card_service.REVOCATION_WORDS[RevocationReason(reason)]})" in output
    assert "--override-revocation" in output and len(output.splitlines()) == 1
    code, output = run(runner, "cards", "issue", card.number, "--override-revocation", "--reason", "appeal upheld")
    assert code == 0, output
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.reason, event.actor.startswith("cli:")) == ("card.issue", "appeal upheld", True)


@pytest.mark.parametrize(
    "args",
    [
        ["--override-revocation"],
        ["--override-revocation", "--reason", ""],
        ["--override-revocation", "--reason", "   "],
    ],
)
def test_an_override_without_a_reason_is_refused(runner, session, make_card, args):
    """--override-revocation needs a reason that says something."""
    card = make_card()
    card_service.revoke_card(session, card, RevocationReason.FRAUD, TEST_ACTOR)
    session.commit()
    code, output = run(runner, "cards", "issue", card.number, *args)
    assert code == 1 and "A reason is required" in output


def test_issue_refuses_an_unknown_artisan_and_a_reason_without_override(runner, make_artisan, session):
    """An unknown number is refused in one line; --reason alone is a usage error."""
    assert run(runner, "cards", "issue", "RNA-99-0000000") == (
        1,
        "Error: No artisan with card number or RNA number 'RNA-99-0000000'.\n",
    )
    artisan = make_artisan()
    session.commit()
    assert run(runner, "cards", "issue", artisan.rna_number, "--reason", "x")[0] == 2


@pytest.mark.parametrize(
    ("command", "status"),
    [("suspend", CardStatus.ACTIVE), ("reinstate", CardStatus.SUSPENDED)],
)
@pytest.mark.parametrize("reason", ["", " ", "\t"])
def test_a_blank_reason_is_refused(cards_by_state, runner, session, command, status, reason):
    """suspend and reinstate refuse a blank or whitespace reason, in one line, and change nothing."""
    number = cards_by_state[status.value].number
    code, output = run(runner, "cards", command, number, "--reason", reason)
    assert code == 1 and output == "Error: A reason is required: say why, in a few words.\n"
    session.expire_all()
    assert session.scalars(select(Card.status).where(Card.number == number)).one() == status


@pytest.mark.parametrize("reason", ["", "  ", "fraud", "deceased", "because"])
def test_replace_needs_a_replacement_reason(cards_by_state, runner, reason):
    """`cards replace` takes lost, stolen or replaced; a blank or other reason is refused."""
    number = cards_by_state["active"].number
    code, output = run(runner, "cards", "replace", number, "--reason", reason)
    assert code == 2 and "--reason must be one of lost, stolen, replaced" in output


def test_replace_revokes_and_issues_a_new_number(seeded, runner, session):
    """`cards replace` revokes the card with the reason and links the new card to it."""
    number = _number(session)
    code, output = run(runner, "cards", "replace", number, "--reason", "stolen")
    new_number = output.split()[-1]
    assert code == 0 and output == f"{number} revoked (stolen), replaced by {new_number}\n"
    shown = run(runner, "cards", "show", new_number)[1]
    assert re.search(rf"^Replaces:\s+{number}$", shown, re.MULTILINE)
    assert re.search(rf"^Replaced by:\s+{new_number}$", run(runner, "cards", "show", number)[1], re.MULTILINE)


def test_renew_gives_a_new_expiry(runner, session, make_card):
    """`cards renew` moves the expiry of an active card and keeps its number; a revoked card is refused."""
    card = make_card(now=utcnow() - timedelta(days=6 * 366))
    code, output = run(runner, "cards", "renew", card.number)
    session.refresh(card)
    assert code == 0 and output == f"{card.number} renewed, expires {card.expires_at.date().isoformat()}\n"
    assert card.expires_at > utcnow()
    card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    assert run(runner, "cards", "renew", card.number) == (
        1,
        f"Error: Card {card.number} is revoked: it cannot be renewed.\n",
    )


def test_show_prints_the_card_its_holder_and_its_audit_trail(seeded, runner, session):
    """`cards show` gives status, holder's name and RNA, region, trade, dates, key and the audit trail."""
    card = session.scalars(select(Card).where(Card.status == CardStatus.SUSPENDED)).first()
    code, output = run(runner, "cards", "show", card.number.lower())
    artisan = card.artisan
    assert code == 0
    for label, value in [
        ("Card", card.number),
        ("Status", f"suspended ({card.status_reason})"),
        ("Holder", f"{artisan.name_latin}, RNA {artisan.rna_number}"),
        ("Region", f"{artisan.region_code} {artisan.region.name_en}"),
        ("Trade", f"{artisan.trade_code} {artisan.trade.name_en}"),
        ("Issued", card.issued_at.date().isoformat()),
        ("Expires", card.expires_at.date().isoformat()),
        ("Key", f"{card.key_id} (signing)"),
    ]:
        assert re.search(rf"^{label}:\s+{re.escape(value)}$", output, re.MULTILINE), (label, output)
    trail = output.split("Audit trail:\n")[1].splitlines()
    assert [line.split()[3] for line in trail] == ["card.issue", "card.suspend"]
    assert trail[1].split()[2] == "system:demo-seed" and trail[1].endswith(card.status_reason)


@pytest.mark.parametrize("state", ["active", "suspended", "revoked", "expired"])
def test_list_filters_by_status_and_prints_aligned_columns(cards_by_state, runner, state):
    """`cards list --status` lists only that status, in aligned columns: number, status, name, region, expiry."""
    lines = run(runner, "cards", "list", "--status", state)[1].splitlines()
    card = cards_by_state[state]
    assert lines == [
        (
            f"{card.number}  {state:<9}  {card.artisan.name_latin:<40}  {card.artisan.region_code}  "
            f"{card.expires_at.date().isoformat()}"
        )
    ]
    assert len({len(line) for line in run(runner, "cards", "list")[1].splitlines()}) == 1  # aligned columns


def test_list_filters_by_region_and_trade(seeded, runner, session):
    """--region and --trade keep the cards of holders in that region and trade; --limit still applies."""
    artisan = session.scalars(select(Artisan).order_by(Artisan.id)).first()
    lines = run(runner, "cards", "list", "--region", artisan.region_code, "--trade", artisan.trade_code)[1].splitlines()
    numbers = {line.split()[0] for line in lines}
    expected = session.scalars(
        select(Card.number)
        .join(Card.artisan)
        .where(Artisan.region_code == artisan.region_code, Artisan.trade_code == artisan.trade_code)
    ).all()
    assert numbers == set(expected) and len(numbers) >= 1
    assert len(run(runner, "cards", "list", "--region", artisan.region_code, "--limit", "1")[1].splitlines()) == 1


@pytest.mark.parametrize("state", ["revoked", "suspended", "expired"])
@pytest.mark.parametrize("command", [["qr-text"], ["qr-image", "--output", "card.svg"]])
def test_qr_of_a_card_not_valid_today_is_refused_unless_forced(cards_by_state, runner, tmp_path, state, command):
    """qr-text and qr-image refuse a revoked, suspended or expired card, saying why; --force prints it."""
    number = cards_by_state[state].number
    args = ["cards", command[0], number, *[str(tmp_path / a) if a.endswith(".svg") else a for a in command[1:]]]
    code, output = run(runner, *args)
    assert code == 1
    assert output == (
        f"Error: Card {number} is {state}: its QR code would not be accepted as valid. "
        "Use --force to print it anyway.\n"
    )
    assert run(runner, *args, "--force")[0] == 0


@pytest.mark.parametrize(("name", "magic"), [("card.png", b"\x89PNG"), ("CARD.SVG", b"<svg"), ("card.svg", b"<svg")])
def test_qr_image_format_follows_the_file_name(cards_by_state, runner, tmp_path, name, magic):
    """Without --format the image format comes from the output file's extension."""
    output, number = tmp_path / name, cards_by_state["active"].number
    code, printed = run(runner, "cards", "qr-image", number, "--output", str(output))
    image_format = name.lower().rsplit(".", 1)[1]
    assert code == 0 and output.read_bytes().startswith(magic)
    assert printed == f"{number} {image_format} {output.stat().st_size} bytes -> {output}\n"


def test_qr_image_to_standard_output(cards_by_state, runner):
    """--output - writes the image alone to standard output (binary); --format png gives a PNG."""
    number = cards_by_state["active"].number
    png = runner.invoke(args=["cards", "qr-image", number, "--output", "-", "--format", "png"])
    svg = runner.invoke(args=["cards", "qr-image", number, "--output", "-"])
    assert png.exit_code == 0 and png.stdout_bytes.startswith(b"\x89PNG") and png.stderr == ""
    assert svg.exit_code == 0 and svg.stdout_bytes.startswith(b"<svg")
    expected = run(runner, "cards", "qr-text", number)[1].rstrip("\n")
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.stdout_bytes)))] == [expected]


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("{tmp}/missing/card.png", "Error: Cannot write {tmp}/missing/card.png: No such file or directory.\n"),
        ("{tmp}/locked/card.png", "Error: Cannot write {tmp}/locked/card.png: Permission denied.\n"),
        ("{tmp}/a-file/card.png", "Error: Cannot write {tmp}/a-file/card.png: Not a directory.\n"),
        ("{tmp}/folder.svg", "Error: Cannot write {tmp}/folder.svg: Is a directory.\n"),
        ("{tmp}", "Error: Cannot tell the image format of '{tmp}': name a .svg or .png file, or give --format.\n"),
        (
            "{tmp}/card.jpg",
            "Error: Cannot tell the image format of '{tmp}/card.jpg': name a .svg or .png file, or give --format.\n",
        ),
    ],
)
def test_qr_image_bad_output_answers_one_line(cards_by_state, runner, tmp_path, monkeypatch, output, message):
    """A missing folder, a folder without permission or an unknown extension: one line, exit 1."""
    (tmp_path / "locked").mkdir(mode=0o500)
    (tmp_path / "a-file").write_text("")
    (tmp_path / "folder.svg").mkdir()
    if os.geteuid() == 0 and "locked" in output:  # root writes anywhere: the system refuses in its place

        def refuse(path, mode):
            raise PermissionError(13, "Permission denied", path)

        monkeypatch.setattr(click, "open_file", refuse)
    number = cards_by_state["active"].number
    code, printed = run(runner, "cards", "qr-image", number, "--output", output.format(tmp=tmp_path))
    assert (code, printed) == (1, message.format(tmp=tmp_path))


def _opens(app, session, number: str, code: str) -> bool:
    """Whether this code opens the card now (checked against the app's own settings)."""
    with app.app_context():
        policy = ActivationPolicy.from_settings(current_settings())
        card = card_service.get_card(session, number)
        try:
            check_activation(
                session, number, code, card.artisan.birth_date, "cli-test", counters=attempt_counters(), policy=policy
            )
        except ActivationRefused:
            return False
        finally:
            session.rollback()
    return True


def test_cards_activation_code_prints_a_code_on_its_last_line(runner, app, session, cards_by_state):
    """`cards activation-code` prints a working code on its last line; the previous code stops working."""
    number = cards_by_state["active"].number
    codes = []
    for _ in range(2):
        code, output = run(runner, "cards", "activation-code", number)
        assert code == 0, output
        codes.append(output.splitlines()[-1])
    assert codes[0] != codes[1]
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", codes[1])
    assert _opens(app, session, number, codes[1])
    assert not _opens(app, session, number, codes[0])
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.card_id == cards_by_state["active"].id).order_by(AuditEvent.seq)
    ).all()
    assert actions.count("card.activation_code_issue") == 2


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("unknown", "No card with number"),
        ("revoked", "is revoked: no activation code is issued for it"),
        ("expired", "is expired: no activation code is issued for it"),
    ],
)
def test_cards_activation_code_refuses_a_card_not_in_force(runner, cards_by_state, state, message):
    """An unknown card, or one revoked or expired: one line, exit status 1, no code printed."""
    number = "0000000000" if state == "unknown" else cards_by_state[state].number
    code, output = run(runner, "cards", "activation-code", number)
    assert code == 1
    assert message in output and "Traceback" not in output


def test_issue_all_counts_each_skipped_artisan_once(runner, session, make_card, make_artisan, signer):
    """One deceased and one fraud after the last newcomer read "deceased 1, fraud 1", not twice each."""
    make_artisan()
    for reason in ["deceased", "fraud"]:
        card_service.revoke_card(session, make_card(), RevocationReason(reason), TEST_ACTOR)
    session.commit()
    code, output = run(runner, "cards", "issue-all", "--chunk-size", "100")
    assert code == 0 and "2 artisans skipped, their last card was revoked: deceased 1, fraud 1 " in output


def test_issue_all_says_how_many_cards_each_region_got_and_lists_them(runner, session, make_artisan, signer):
    """`cards issue-all` counts the cards by region; --list prints each number issued with its region."""
    for region in ["03", "01", "03"]:
        make_artisan(region_code=region)
    session.commit()
    code, output = run(runner, "cards", "issue-all", "--chunk-size", "100", "--list")
    assert code == 0, output
    numbers = {
        number: region for number, region in session.execute(select(Card.number, Artisan.region_code).join(Artisan))
    }
    listed = [line.split() for line in output.splitlines() if line.split() and line.split()[0] in numbers]
    assert sorted(listed) == sorted([number, region] for number, region in numbers.items())
    assert re.search(r"^  01 .+: 1$", output, re.M) and re.search(r"^  03 .+: 2$", output, re.M)


@pytest.fixture
def instance_at_8101(app_config, monkeypatch):
    """An instance that `PORT=8101 make setup` set up: no PUBLIC_BASE_URL in the environment, only its file."""
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    del app_config["PUBLIC_BASE_URL"]
    remember_public_base_url(app_config["PUBLIC_BASE_URL_FILE"], "http://127.0.0.1:8101")


def test_qr_text_points_at_the_address_setup_kept(instance_at_8101, runner, make_card):
    """After `PORT=8101 make run`, `cards qr-text` run without PUBLIC_BASE_URL points at port 8101."""
    card = make_card()
    code, output = run(runner, "cards", "qr-text", card.number)
    assert code == 0 and output.startswith("http://127.0.0.1:8101/v#")
