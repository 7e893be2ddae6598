"""Print rendering figures: cards/s and letters/s in one process (no database, no job system).

    .venv/bin/python -m bench.print_cards [--cards 500]

Builds N card faces as a batch would get them from card_face_for (varied demo names in both
scripts, each with its own signed token and its own 480 x 600 photo, the 12 regions and their
chambers), then times render_cards_pdf over all of them into one PDF, render_letters_pdf over N
letters, and write_manifest. The batch target (issue 16) is >= 150 cards/s with two workers,
cards + letters + manifest: about 75-90 cards/s a process with its letter.
"""

from __future__ import annotations

import argparse
import io
import random
import time
from datetime import UTC, date, datetime

from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image, ImageDraw

from webapp.services.cards.tokens import CardClaims, qr_text, sign_card_token
from webapp.services.demo import FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES
from webapp.services.printing.card_faces import CardFace, render_cards_pdf
from webapp.services.printing.letters import Letter, render_letters_pdf
from webapp.services.printing.manifest import ManifestRow, write_manifest
from webapp.services.register.reference_data import REGIONS, TRADES, chamber_seed

BASE_URL = "https://carte.artisanat.ma"


def photo(rng: random.Random) -> bytes:
    image = Image.new("RGB", (480, 600), tuple(rng.randrange(150, 230) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    draw.ellipse((140, 90, 340, 330), fill=tuple(rng.randrange(60, 160) for _ in range(3)))
    draw.rectangle((80, 370, 400, 600), fill=tuple(rng.randrange(20, 120) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def faces(count: int) -> list[CardFace]:
    rng = random.Random(16)
    key = ec.generate_private_key(ec.SECP256R1())
    result = []
    for index in range(count):
        first_latin, first_ar = rng.choice(FEMALE_NAMES + MALE_NAMES)
        last_latin, last_ar = rng.choice(FAMILY_NAMES)
        region_code, region_fr, region_ar, _en = REGIONS[index % len(REGIONS)]
        trade_code, _sector, trade_fr, trade_ar, _trade_en = rng.choice(TRADES)
        number = f"{index:010d}"
        claims = CardClaims(
            number,
            f"{first_latin} {last_latin}",
            trade_code,
            region_code,
            datetime(2031, 5, 4, 22, 59, tzinfo=UTC),
            100_000 + index,
        )
        result.append(
            CardFace(
                number=number,
                name_latin=f"{first_latin} {last_latin}",
                name_ar=f"{first_ar} {last_ar}",
                trade_fr=trade_fr,
                trade_ar=trade_ar,
                region_fr=region_fr,
                region_ar=region_ar,
                expires_on=date(2031, 5, 4),
                photo_jpeg=photo(rng),
                qr_text=qr_text(BASE_URL, sign_card_token(claims, "AbCdEf", key)),
                verification_url=f"{BASE_URL}/v",
                **chamber_seed(region_code),
            )
        )
    return result


def letters_of(batch: list[CardFace]) -> list[Letter]:
    return [
        Letter(
            card_number=face.number,
            name_latin=face.name_latin,
            name_ar=face.name_ar,
            delivery_address=(f"{index % 90 + 1}, rue de l'Artisanat", f"{face.region_fr}") if index % 3 else None,
            activation_code=f"K7QM-{index:04d}-3B",
            card_app_url=BASE_URL,
            chamber_name_fr=face.chamber_name_fr,
            chamber_name_ar=face.chamber_name_ar,
            chamber_address_fr=face.chamber_address_fr,
            chamber_address_ar=face.chamber_address_ar,
            code_valid_until=date(2027, 1, 31),
        )
        for index, face in enumerate(batch)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=500)
    count = parser.parse_args().cards
    batch = faces(count)
    letters = letters_of(batch)

    started, cpu = time.perf_counter(), time.process_time()
    cards_pdf = io.BytesIO()
    pages = render_cards_pdf(batch, cards_pdf)
    cards_seconds = time.perf_counter() - started
    cards_cpu = time.process_time() - cpu

    started, cpu = time.perf_counter(), time.process_time()
    letters_pdf = io.BytesIO()
    letter_pages = render_letters_pdf(letters, letters_pdf)
    letters_seconds = time.perf_counter() - started
    letters_cpu = time.process_time() - cpu

    started = time.perf_counter()
    manifest = io.StringIO(newline="")
    rows = write_manifest(
        (
            ManifestRow(face.number, face.name_latin, face.name_ar, "", face.chamber_name_fr, *ManifestRow.pages_of(i))
            for i, face in enumerate(batch)
        ),
        manifest,
    )
    manifest_seconds = time.perf_counter() - started

    total = cards_seconds + letters_seconds + manifest_seconds
    print(
        f"cards:    {count} cards, {pages} pages in {cards_seconds:.2f} s = {count / cards_seconds:.1f} cards/s "
        f"({len(cards_pdf.getvalue()) / count / 1024:.1f} KiB a card)"
    )
    print(
        f"letters:  {letter_pages} pages in {letters_seconds:.2f} s = {count / letters_seconds:.1f} letters/s "
        f"({len(letters_pdf.getvalue()) / count / 1024:.1f} KiB a letter)"
    )
    print(f"manifest: {rows} rows in {manifest_seconds * 1000:.1f} ms")
    # On a shared machine the wall clock counts other processes' time: CPU time is this one's own.
    print(
        f"CPU time: cards {count / cards_cpu:.1f}/s, letters {count / letters_cpu:.1f}/s, "
        f"card + letter {count / (cards_cpu + letters_cpu):.1f}/s a core"
    )
    print(
        f"per process, card + letter + manifest row: {count / total:.1f} cards/s; "
        f"two processes on two cores, at best: {2 * count / total:.1f} cards/s (target >= 150)"
    )


if __name__ == "__main__":
    main()
