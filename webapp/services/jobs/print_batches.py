"""The job that renders a print batch (issue 16, part 3): the cards PDF (one card per page pair,
front then back, duplex order), the letters (a page per artisan, with a FRESH activation code) and
the CSV manifest for the postal printer.

- `run` splits the batch into parts of PRINT_BATCH_PART_SIZE cards, rendered in parallel by
  whichever workers are free (`run_part`: that part's cards PDF and letters PDF into storage).
- A part makes its cards' activation codes in memory, renders the letters, then stores the codes'
  hashes (superseding earlier codes, audited per card) in one short transaction: the clear codes
  exist only in the letters PDF. A part run again (a worker killed) makes new codes and new files.
- `finish` joins the parts into ONE cards PDF and ONE letters PDF (pypdf copies the pages whole,
  TrimBox and BleedBox with them), writes the manifest with each card's pages, records the files
  on the batch (kept PRINT_BATCH_RETENTION_DAYS) and deletes the parts' files.
A card revoked, suspended or expired between the batch's preparation and its rendering is left out
(no code is issued for it) and the batch says how many.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from pypdf import PdfReader, PdfWriter
from sqlalchemy import bindparam, delete, func, select, update

from webapp.models import Artisan, Card, PrintBatch, PrintBatchCard, utcnow
from webapp.services.errors import N_
from webapp.services.cards.activation import ActivationPolicy, in_force, new_code, store_activation_codes
from webapp.services.jobs.context import JobContext
from webapp.services.jobs.kinds import JobKind
from webapp.services.printing import batches
from webapp.services.printing.card_faces import card_face_for, render_cards_pdf
from webapp.services.printing.letters import Letter, render_letters_pdf
from webapp.services.printing.manifest import write_manifest

CARDS, LETTERS, MANIFEST = "cards.pdf", "letters.pdf", "manifest.csv"
MANIFEST_COLUMNS = (
    "position",
    "card_number",
    "name_latin",
    "name_ar",
    "delivery_address",
    "chamber",
    "card_pages",
    "letter_page",
    "reprint",
)


def part_key(batch_id: int, part: int, name: str) -> str:
    return f"{batches.batch_prefix(batch_id)}parts/{part:04d}-{name}"


def file_key(batch_id: int, name: str) -> str:
    return f"{batches.batch_prefix(batch_id)}{name}"


def run(ctx: JobContext) -> None:
    """Split the batch into parts rendered in parallel."""
    batch_id = int(ctx.params["batch_id"])
    size = int(ctx.settings.PRINT_BATCH_PART_SIZE)
    with ctx.session_scope() as session:
        count = session.scalar(
            select(PrintBatchCard.position)
            .where(PrintBatchCard.batch_id == batch_id)
            .order_by(PrintBatchCard.position.desc())
            .limit(1)
        )
    if count is None:
        raise batches.EmptyBatch()
    positions = count + 1
    parts = [
        {"batch_id": batch_id, "part": index, "first": first, "count": min(size, positions - first)}
        for index, first in enumerate(range(0, positions, size))
    ]
    ctx.split(parts, total=positions)


def _counted(items: Iterable[Any], ctx: JobContext, total: int, start: int = 0) -> Iterator[Any]:
    """The items, telling the part's progress as the renderer takes them (letters after the cards)."""
    for done, item in enumerate(items, start + 1):
        yield item
        ctx.progress(done, total)


def run_part(ctx: JobContext) -> None:
    """Render one part's cards PDF and letters PDF; then store its activation codes."""
    batch_id, part = int(ctx.params["batch_id"]), int(ctx.params["part"])
    first, count = int(ctx.params["first"]), int(ctx.params["count"])
    settings = ctx.settings
    base_url = str(settings.PUBLIC_BASE_URL)
    now = utcnow()
    kept: list[int] = []
    dropped: list[int] = []
    codes: dict[int, str] = {}
    with ctx.session_scope() as session:
        rows = session.execute(
            select(PrintBatchCard, Card)
            .join(Card, PrintBatchCard.card_id == Card.id)
            .where(PrintBatchCard.batch_id == batch_id)
            .where(PrintBatchCard.position >= first, PrintBatchCard.position < first + count)
            .order_by(PrintBatchCard.position)
        ).all()
        cards: list[Card] = []
        for row, card in rows:
            if in_force(card, now) and card.status.value == "active":
                cards.append(card)
                kept.append(row.id)
                codes[card.id] = new_code()
            else:
                dropped.append(row.id)
        total = len(cards) * 2
        faces = (card_face_for(session, card, public_base_url=base_url) for card in cards)
        with ctx.storage.writer(part_key(batch_id, part, CARDS)) as target:
            card_pages = render_cards_pdf(_counted(faces, ctx, total), target)
        letters = (letter_for(card, codes[card.id], base_url) for card in cards)
        with ctx.storage.writer(part_key(batch_id, part, LETTERS)) as target:
            letter_pages = render_letters_pdf(_counted(letters, ctx, total, start=len(cards)), target)
    if card_pages != 2 * len(cards) or letter_pages != len(cards):
        raise RuntimeError(f"part {part}: {card_pages} card pages and {letter_pages} letter pages for {len(cards)}")
    with ctx.session_scope() as session:
        by_id = {card.id: card for card in session.scalars(select(Card).where(Card.id.in_(list(codes))))}
        store_activation_codes(
            session,
            [(by_id[card_id], code) for card_id, code in codes.items()],
            ctx.actor,
            ActivationPolicy.from_settings(settings),
            now,
        )
    codes.clear()
    ctx.add_summary(rows=kept, dropped=dropped, card_pages=card_pages, letter_pages=letter_pages)


def letter_for(card: Card, code: str, base_url: str) -> Letter:
    """The letter of one card: who, where it goes (None: collected at the chamber), its code."""
    artisan = card.artisan
    return Letter(
        card_number=card.number,
        name_latin=artisan.name_latin,
        name_ar=artisan.name_ar,
        address_lines=delivery_address_lines(artisan),
        activation_code=code,
        card_app_url=f"{base_url}/card/activate",
        chamber_name=chamber_name(artisan.region_code),
        chamber_address=chamber_address(artisan.region_code),
    )


def delivery_address_lines(artisan: Artisan) -> list[str] | None:
    """The postal address as lines, or None when the register has none (collected at the chamber)."""
    if not (artisan.address_line and artisan.city):
        return None
    return [artisan.name_latin, artisan.address_line, " ".join(filter(None, (artisan.postal_code, artisan.city)))]


def chamber_name(region_code: str) -> str:
    from webapp.services.printing.letters import chamber_for

    return chamber_for(region_code).name_fr


def chamber_address(region_code: str) -> str:
    from webapp.services.printing.letters import chamber_for

    return chamber_for(region_code).address_fr


def finish(ctx: JobContext) -> None:
    """Join the parts into one cards PDF and one letters PDF, write the manifest, record the files."""
    batch_id = int(ctx.params["batch_id"])
    summaries = ctx.part_summaries()
    storage = ctx.storage
    pages: dict[int, tuple[int, int]] = {}
    card_offset = letter_offset = 0
    for summary in summaries:
        for index, row_id in enumerate(summary["rows"]):
            pages[row_id] = (card_offset + 2 * index + 1, letter_offset + index + 1)
        card_offset += int(summary["card_pages"])
        letter_offset += int(summary["letter_pages"])
    dropped = [row_id for summary in summaries for row_id in summary["dropped"]]
    for name in (CARDS, LETTERS):
        _join(ctx, [part_key(batch_id, index, name) for index in range(len(summaries))], file_key(batch_id, name))
    with ctx.session_scope() as session:
        if dropped:
            session.execute(delete(PrintBatchCard).where(PrintBatchCard.id.in_(dropped)))
        session.connection().execute(
            update(PrintBatchCard.__table__)
            .where(PrintBatchCard.__table__.c.id == bindparam("_id"))
            .values(card_page=bindparam("_card"), letter_page=bindparam("_letter")),
            [{"_id": row_id, "_card": card, "_letter": letter} for row_id, (card, letter) in pages.items()],
        )
        with storage.writer(file_key(batch_id, MANIFEST)) as target:
            text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="")
            write_manifest(manifest_rows(session, batch_id), text)
            text.flush()
            text.detach()
        batch = session.get(PrintBatch, batch_id)
        assert batch is not None
        days = int(ctx.settings.PRINT_BATCH_RETENTION_DAYS)
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
        summary={"cards": len(pages), "left_out": len(dropped), "card_pages": card_offset, "letter_pages": letter_offset},
    )


def _join(ctx: JobContext, keys: list[str], target_key: str) -> None:
    """One PDF of the parts' pages in order; the pages are copied whole (their boxes with them)."""
    writer = PdfWriter()
    for key in keys:
        ctx.heartbeat()
        writer.append(PdfReader(ctx.storage.local_path(key)), import_outline=False)
    with ctx.storage.writer(target_key) as target:
        writer.write(target)


def manifest_rows(session: Any, batch_id: int) -> Iterator[dict[str, Any]]:
    """The manifest's rows in print order: card, names, where the letter goes, chamber, pages."""
    statement = (
        select(PrintBatchCard, Card.number, Artisan)
        .join(Card, PrintBatchCard.card_id == Card.id)
        .join(Artisan, PrintBatchCard.artisan_id == Artisan.id)
        .where(PrintBatchCard.batch_id == batch_id)
        .order_by(PrintBatchCard.position)
    )
    for row, number, artisan in session.execute(statement).yield_per(2_000):
        lines = delivery_address_lines(artisan)
        chamber = f"{chamber_name(artisan.region_code)}, {chamber_address(artisan.region_code)}"
        yield {
            "position": row.position + 1,
            "card_number": number,
            "name_latin": artisan.name_latin,
            "name_ar": artisan.name_ar,
            "delivery_address": ", ".join(lines[1:]) if lines else f"{COLLECT_AT_CHAMBER}: {chamber}",
            "chamber": chamber,
            "card_pages": f"{row.card_page}-{row.card_page + 1}" if row.card_page else "",
            "letter_page": row.letter_page or "",
            "reprint": "yes" if row.reprint else "no",
        }


# The manifest is read by the printer's staff (French, the chambers' working language with Arabic).
COLLECT_AT_CHAMBER = "À retirer à la chambre / to be collected at the chamber"


def write_csv_manifest(rows: Iterable[dict[str, Any]], target: Any) -> int:
    """A plain CSV of the rows (the printing library's write_manifest stands in for it when present)."""
    writer = csv.DictWriter(target, fieldnames=MANIFEST_COLUMNS)
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


KIND = JobKind(
    name=batches.JOB_KIND,
    label=N_("Print batch"),
    run=run,
    run_part=run_part,
    finish=finish,
)
