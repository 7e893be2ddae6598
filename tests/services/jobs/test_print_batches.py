"""The print batch's job (webapp/services/jobs/print_batches.py), run synchronously (immediate mode):
parts rendered and joined into one cards PDF, one letters PDF and the manifest, page numbers that
match the PDFs, fresh activation codes stored hashed, and the command that runs it all."""

from __future__ import annotations

import csv
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.fixtures.support import TEST_ACTOR
from webapp.models import ActivationCode, AuditEvent, Card, Job, JobState, PrintBatch, PrintBatchCard
from webapp.services.cards.activation import ActivationPolicy, code_hash, normalize_code
from webapp.services.printing import batches
from webapp.services.printing.batches import BatchRequest, SelectionKind
from webapp.services.scope import Scope
from webapp.settings import current_settings

FES = Scope(region_code="03")
CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


@pytest.fixture
def app_config(app_config):
    """Small parts, so that 200 cards make several parts joined in order."""
    return app_config | {"PRINT_BATCH_PART_SIZE": 64}


def render(session, request=None, scope=FES):
    batch, _plan = batches.prepare_batch(session, request or BatchRequest(SelectionKind.NEW), scope, TEST_ACTOR)
    batches.start_rendering(session, batch, TEST_ACTOR)
    session.commit()  # immediate mode: the job, its parts and its finish run here
    session.refresh(batch)
    return batch


def storage_of(app):
    return app.extensions["jobs"].storage


def manifest_of(app, batch):
    text = storage_of(app).local_path(batch.manifest_file).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_a_batch_of_200_cards(app, session, make_card, make_artisan):
    """200 cards: 400 card pages, 200 letters, 200 manifest rows whose pages match the PDFs."""
    cards = [
        make_card(make_artisan(**({"address_line": "1 Rue Talaa", "city": "Fès"} if i % 2 else {}))) for i in range(200)
    ]
    batch = render(session)
    job = session.get(Job, batch.job_id)
    assert job.state == JobState.DONE and job.parts_total == 4
    assert (batch.card_count, batch.card_pages, batch.letter_pages) == (200, 400, 200)
    storage = storage_of(app)
    cards_pdf = PdfReader(storage.local_path(batch.cards_file))
    letters_pdf = PdfReader(storage.local_path(batch.letters_file))
    assert (len(cards_pdf.pages), len(letters_pdf.pages)) == (400, 200)
    rows = manifest_of(app, batch)
    assert len(rows) == 200
    assert [row["card_number"] for row in rows] == [card.number for card in cards]
    for row in (rows[0], rows[63], rows[64], rows[199]):  # across the parts' joins
        front = int(row["card_pages"].split("-")[0])
        assert row["card_number"][:5] in cards_pdf.pages[front - 1].extract_text().replace(" ", "")
        assert row["card_number"][:5] in letters_pdf.pages[int(row["letter_page"]) - 1].extract_text().replace(" ", "")
    # The boxes a printer needs survive the join.
    page = cards_pdf.pages[201]
    assert "/TrimBox" in page and "/BleedBox" in page
    assert "chambre" in rows[0]["delivery_address"].lower()  # no address: collected at the chamber
    assert rows[1]["delivery_address"].endswith("Fès")
    # The parts' files are gone; the result is the batch's.
    assert not storage.exists(f"print/batch-{batch.id}/parts/0000-cards.pdf")
    assert (job.result_file, job.summary["cards"]) == (batch.cards_file, 200)


def test_each_letter_carries_a_fresh_code_stored_hashed(app, session, make_card):
    """The letter's code is the card's one live code (stored as a hash only); the earlier ends."""
    card = make_card()
    policy = ActivationPolicy.from_settings(current_settings(app))
    batch = render(session)
    letter = PdfReader(storage_of(app).local_path(batch.letters_file)).pages[0].extract_text()
    code = CODE.search(letter).group(0)
    live = session.scalars(
        select(ActivationCode).where(
            ActivationCode.card_id == card.id, ActivationCode.used_at.is_(None), ActivationCode.superseded_at.is_(None)
        )
    ).all()
    assert [row.code_hash for row in live] == [code_hash(policy, card.number, normalize_code(code))]
    issued = session.scalar(
        select(func.count()).where(AuditEvent.action == "card.activation_code_issue", AuditEvent.card_id == card.id)
    )
    assert issued == 1
    # Printed again: a new code replaces it.
    batches.mark_batch(session, batch, batches.PrintBatchState.SENT_TO_PRINTER, TEST_ACTOR)
    batches.mark_batch(session, batch, batches.PrintBatchState.PRINTED, TEST_ACTOR)
    session.commit()
    again = render(session, BatchRequest(SelectionKind.NUMBERS, numbers=(card.number,)))
    assert again.reprint_count == 1
    session.expire_all()  # the job wrote in its own sessions
    codes = session.scalars(select(ActivationCode).where(ActivationCode.card_id == card.id)).all()
    assert len(codes) == 2 and sum(row.superseded_at is None for row in codes) == 1
    assert session.get(Card, card.id).status.value == "active"


def test_a_card_revoked_before_rendering_is_left_out(app, session, make_card):
    """A card revoked between preparation and rendering gets no page and no code."""
    from webapp.models import RevocationReason
    from webapp.services.cards import lifecycle

    kept, revoked = make_card(), make_card()
    batch, _plan = batches.prepare_batch(session, BatchRequest(SelectionKind.NEW), FES, TEST_ACTOR)
    lifecycle.revoke_card(session, revoked, RevocationReason.FRAUD, TEST_ACTOR)
    batches.start_rendering(session, batch, TEST_ACTOR)
    session.commit()
    session.refresh(batch)
    assert (batch.card_count, batch.card_pages, batch.letter_pages) == (1, 2, 1)
    assert session.scalars(select(PrintBatchCard.card_id).where(PrintBatchCard.batch_id == batch.id)).all() == [kept.id]
    assert session.scalar(select(func.count()).where(ActivationCode.card_id == revoked.id)) == 0


def test_the_command_makes_a_batch_and_copies_its_files(app, session, make_card, runner, tmp_path):
    """`print batch --region 03 --output DIR` prepares, renders and copies the three files."""
    cards = [make_card() for _ in range(3)]
    result = runner.invoke(args=["print", "batch", "--region", "03", "--limit", "2", "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    batch = session.scalar(select(PrintBatch))
    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert names == [f"batch-{batch.id}-cards.pdf", f"batch-{batch.id}-letters.pdf", f"batch-{batch.id}-manifest.csv"]
    assert len(PdfReader(tmp_path / "out" / names[0]).pages) == 4
    assert cards[2].number not in (tmp_path / "out" / names[2]).read_text(encoding="utf-8-sig")
    result = runner.invoke(args=["print", "mark", str(batch.id), "printed"])
    assert result.exit_code == 1 and "cannot become printed" in result.output
    result = runner.invoke(args=["print", "mark", str(batch.id), "sent_to_printer"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["print", "batches"])
    assert "sent_to_printer" in result.output
