"""The job that renders a print batch (issue 16, part 3): the cards PDF (one card per page pair,
front then back, duplex order), the letters (a page per artisan, with a FRESH activation code) and
the CSV manifest for the postal printer.

- `run` splits the batch into parts of PRINT_BATCH_PART_SIZE cards, rendered in parallel by
  whichever workers are free (`run_part`: that part's cards PDF and letters PDF into storage).
- A part makes its cards' activation codes in memory, renders the letters, then stores the codes'
  hashes (superseding earlier codes, audited per card) in one short transaction: the clear codes
  exist only in the letters PDF. A part run again (a worker killed) makes new codes and new files.
- `finish` joins the parts into ONE cards PDF and ONE letters PDF (pdf_join.py copies the pages
  whole, TrimBox and BleedBox with them), writes the manifest with each card's pages, records the files
  on the batch (kept PRINT_BATCH_RETENTION_DAYS) and deletes the parts' files.
A card revoked, suspended or expired between the batch's preparation and its rendering is left out
(no code is issued for it) and the batch says how many.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session, joinedload

from webapp.clock import MOROCCO
from webapp.models import Artisan, Card, CardStatus, Job, PrintBatch, PrintBatchCard, Region, utcnow
from webapp.services.cards.activation import ActivationPolicy, in_force, new_code, store_activation_codes
from webapp.services.errors import N_
from webapp.services.jobs.context import JobContext
from webapp.services.jobs.kinds import JobKind
from webapp.services.jobs.storage import Storage
from webapp.services.printing import batches
from webapp.services.printing.card_faces import CardFace, card_faces_for, render_cards_pdf
from webapp.services.printing.letters import Letter, render_letters_pdf
from webapp.services.printing.manifest import ManifestRow, write_manifest
from webapp.services.printing.pdf_join import join_pdfs
from webapp.services.register.reference_data import chamber_seed

CARDS, LETTERS, MANIFEST = "cards.pdf", "letters.pdf", "manifest.csv"
# The manifest is read by the printer's staff, in French (with Arabic, the chambers' working language).
COLLECT_AT_CHAMBER = "À retirer à la chambre"
_TABLE = PrintBatchCard.__table__


def part_key(batch_id: int, part: int, name: str) -> str:
    return f"{batches.batch_prefix(batch_id)}/parts/{part:04d}-{name}"


def file_key(batch_id: int, name: str) -> str:
    return f"{batches.batch_prefix(batch_id)}/{name}"


def run(ctx: JobContext) -> None:
    """Split the batch into parts rendered in parallel."""
    batch_id = int(ctx.params["batch_id"])
    size = int(ctx.settings.PRINT_BATCH_PART_SIZE)
    with ctx.session_scope() as session:
        last = session.scalar(select(func.max(PrintBatchCard.position)).where(PrintBatchCard.batch_id == batch_id))
    if last is None:
        raise batches.EmptyBatch()
    positions = last + 1
    parts = [
        {"batch_id": batch_id, "part": index, "first": first, "count": min(size, positions - first)}
        for index, first in enumerate(range(0, positions, size))
    ]
    ctx.split(parts, total=positions)


def _counted(items: Iterable[Any], ctx: JobContext, step: int) -> Iterator[Any]:
    """The items, telling the part's progress in cards as they are taken: a part makes its faces,
    renders the cards, then the letters (three passes, a third each; this is pass `step`)."""
    count = int(ctx.params["count"])
    for done, item in enumerate(items, 1):
        yield item
        ctx.progress((step * count + done) // 3)


def run_part(ctx: JobContext) -> None:
    """Render one part's cards PDF and letters PDF; then store its activation codes."""
    batch_id, part = int(ctx.params["batch_id"]), int(ctx.params["part"])
    first, count = int(ctx.params["first"]), int(ctx.params["count"])
    settings = ctx.settings
    base_url = str(settings.PUBLIC_BASE_URL)
    policy = ActivationPolicy.from_settings(settings)
    now = utcnow()
    valid_until = (now + timedelta(days=policy.validity_days)).astimezone(MOROCCO).date()
    kept: list[int] = []
    dropped: list[int] = []
    codes: dict[int, str] = {}
    with ctx.session_scope() as session:
        rows = session.execute(
            select(PrintBatchCard.id, Card)
            .join(Card, PrintBatchCard.card_id == Card.id)
            .where(PrintBatchCard.batch_id == batch_id)
            .where(PrintBatchCard.position >= first, PrintBatchCard.position < first + count)
            .order_by(PrintBatchCard.position)
            .options(
                joinedload(Card.artisan).joinedload(Artisan.region), joinedload(Card.artisan).joinedload(Artisan.trade)
            )
        ).all()
        cards: list[Card] = []
        for row_id, card in rows:
            if card.status == CardStatus.ACTIVE and in_force(card, now):
                cards.append(card)
                kept.append(row_id)
                codes[card.id] = new_code()
            else:
                dropped.append(row_id)
        # Faces are made once, their photos read in one query, and serve the letters too.
        faces = card_faces_for(session, cards, public_base_url=base_url)
        ctx.progress(count // 3)
        with ctx.storage.writer(part_key(batch_id, part, CARDS)) as target:
            card_pages = render_cards_pdf(_counted(faces, ctx, 1), target)
        letters = (
            letter_for(face, codes[card.id], card.artisan, base_url, valid_until)
            for face, card in zip(faces, cards, strict=True)
        )
        with ctx.storage.writer(part_key(batch_id, part, LETTERS)) as target:
            letter_pages = render_letters_pdf(_counted(letters, ctx, 2), target)
    if card_pages != 2 * len(cards) or letter_pages != len(cards):
        raise RuntimeError(f"part {part}: {card_pages} card pages and {letter_pages} letter pages for {len(cards)}")
    with ctx.session_scope() as session:
        by_id = {card.id: card for card in session.scalars(select(Card).where(Card.id.in_(list(codes))))}
        store_activation_codes(
            session, [(by_id[card_id], code) for card_id, code in codes.items()], ctx.actor, policy, now
        )
    codes.clear()
    ctx.add_summary(rows=kept, dropped=dropped, card_pages=card_pages, letter_pages=letter_pages)
    ctx.progress(count, force=True)


def letter_for(face: CardFace, code: str, artisan: Artisan, base_url: str, valid_until: date) -> Letter:
    """The letter of one card: who, where it goes (None: collected at the chamber), its fresh code."""
    return Letter(
        card_number=face.number,
        name_latin=face.name_latin,
        name_ar=face.name_ar,
        delivery_address=delivery_address_lines(artisan),
        activation_code=code,
        card_app_url=base_url,
        chamber_name_fr=face.chamber_name_fr,
        chamber_name_ar=face.chamber_name_ar,
        chamber_address_fr=face.chamber_address_fr,
        chamber_address_ar=face.chamber_address_ar,
        code_valid_until=valid_until,
    )


def delivery_address_lines(artisan: Artisan) -> tuple[str, ...] | None:
    """The postal address as lines, or None when the register has none (collected at the chamber)."""
    if not (artisan.address_line and artisan.city):
        return None
    return (artisan.name_latin, artisan.address_line, " ".join(filter(None, (artisan.postal_code, artisan.city))))


def chamber_of(region: Region) -> tuple[str, str]:
    """A region's chamber as the manifest names it: its French name and address."""
    seed = chamber_seed(region.code)
    return (
        region.chamber_name_fr or seed["chamber_name_fr"],
        region.chamber_address_fr or seed["chamber_address_fr"],
    )


def finish(ctx: JobContext) -> None:
    """Join the parts into one cards PDF and one letters PDF, write the manifest, record the files."""
    batch_id = int(ctx.params["batch_id"])
    summaries = ctx.part_summaries()
    storage = ctx.storage
    pages: list[dict[str, int]] = []
    card_offset = letter_offset = 0
    for summary in summaries:
        for index, row_id in enumerate(summary["rows"]):
            pages.append({"_id": row_id, "_card": card_offset + 2 * index + 1, "_letter": letter_offset + index + 1})
        card_offset += int(summary["card_pages"])
        letter_offset += int(summary["letter_pages"])
    dropped = [row_id for summary in summaries for row_id in summary["dropped"]]
    for name in (CARDS, LETTERS):
        _join(ctx, [part_key(batch_id, index, name) for index in range(len(summaries))], file_key(batch_id, name))
    days = int(ctx.settings.PRINT_BATCH_RETENTION_DAYS)
    with ctx.session_scope() as session:
        if dropped:
            session.execute(delete(PrintBatchCard).where(PrintBatchCard.id.in_(dropped)))
        if pages:
            session.connection().execute(
                _TABLE.update()
                .where(_TABLE.c.id == bindparam("_id"))
                .values(card_page=bindparam("_card"), letter_page=bindparam("_letter")),
                pages,
            )
        with storage.writer(file_key(batch_id, MANIFEST)) as target:
            # A BOM, so that a spreadsheet opens the Arabic names as UTF-8.
            text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="")
            write_manifest(manifest_rows(session, batch_id), text)
            text.flush()
            text.detach()
        batch = session.get(PrintBatch, batch_id)
        assert batch is not None
        if dropped:
            batch.card_count = len(pages)
            batch.reprint_count = session.scalar(
                select(func.count()).where(PrintBatchCard.batch_id == batch_id, PrintBatchCard.reprint)
            )
        batches.record_rendered(
            session,
            batch,
            cards_file=file_key(batch_id, CARDS),
            letters_file=file_key(batch_id, LETTERS),
            manifest_file=file_key(batch_id, MANIFEST),
            card_pages=card_offset,
            letter_pages=letter_offset,
            retention_days=days,
        )
    for index in range(len(summaries)):
        for name in (CARDS, LETTERS):
            storage.delete(part_key(batch_id, index, name))
    ctx.set_result(
        file=file_key(batch_id, CARDS),
        name=f"batch-{batch_id}-cards.pdf",
        keep_for=timedelta(days=days),
        summary={
            "cards": len(pages),
            "left_out": len(dropped),
            "card_pages": card_offset,
            "letter_pages": letter_offset,
        },
    )
    ctx.progress(ctx.total or 0, force=True)


def _join(ctx: JobContext, keys: list[str], target_key: str) -> None:
    """One PDF of the parts' pages in order; the pages are copied whole (their boxes with them)."""
    ctx.heartbeat()
    with ctx.storage.writer(target_key) as target:
        join_pdfs([ctx.storage.local_path(key) for key in keys], target)
    ctx.heartbeat()


def manifest_rows(session: Session, batch_id: int) -> Iterator[ManifestRow]:
    """The manifest's rows in print order: card, names, where the letter goes, chamber, pages."""
    chambers = {region.code: chamber_of(region) for region in session.scalars(select(Region))}
    statement = (
        select(PrintBatchCard.card_page, PrintBatchCard.letter_page, Card.number, Artisan)
        .join(Card, PrintBatchCard.card_id == Card.id)
        .join(Artisan, PrintBatchCard.artisan_id == Artisan.id)
        .where(PrintBatchCard.batch_id == batch_id)
        .order_by(PrintBatchCard.position)
    )
    for card_page, letter_page, number, artisan in session.execute(statement).yield_per(2_000):
        name, address = chambers[artisan.region_code]
        lines = delivery_address_lines(artisan)
        yield ManifestRow(
            card_number=number,
            name_latin=artisan.name_latin,
            name_ar=artisan.name_ar,
            delivery_address=" / ".join(lines) if lines else f"{COLLECT_AT_CHAMBER}: {name} / {address}",
            chamber=f"{name} / {address}",
            card_pages=f"{card_page}-{card_page + 1}",
            letter_page=letter_page,
        )


def on_interrupted(session: Session, job: Job, storage: Storage) -> dict[str, Any]:
    """A worker killed while the batch rendered: say how many parts were rendered, and delete the
    part files (a rerun renders every part again, each letter with a fresh code: a stale part's
    letters would hold codes that no longer work)."""
    batch_id = int((job.params or {}).get("batch_id", 0))
    deleted = storage.delete_prefix(f"{batches.batch_prefix(batch_id)}/parts") if batch_id else 0
    return {"parts_rendered": job.parts_done, "parts": job.parts_total, "part_files_deleted": deleted}


KIND = JobKind(
    name=batches.JOB_KIND,
    label=N_("Print batch"),
    run=run,
    run_part=run_part,
    finish=finish,
    on_interrupted=on_interrupted,
)
