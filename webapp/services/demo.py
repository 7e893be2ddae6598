"""Demo data: artisans with realistic Moroccan names in all 12 regions, their cards, demo logins.

Deterministic (a seeded random generator), so two fresh set-ups show the same people.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import (
    Artisan,
    Card,
    CardStatus,
    CnssStatus,
    Gender,
    LegalStatus,
    RevocationReason,
    Role,
    SupportProgramme,
    User,
    utcnow,
)
from webapp.services.audit import Actor
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.activation import ActivationPolicy, issue_activation_code
from webapp.services.cards.rollout import issue_cards_in_bulk
from webapp.services.cards.tokens import qr_text
from webapp.services.partners.demo import seed_partners
from webapp.services.register.photos import prepare_photo, set_photo
from webapp.services.register.reference_data import REGIONS, SUPPORT_PROGRAMMES, TRADES
from webapp.services.register.search import reindex_artisans
from webapp.services.trust.signing_keys import Signer

DEMO_PASSWORD = "demo-artisan-2026"
DEMO_ACTOR = Actor("system:demo-seed")

FEMALE_NAMES = [
    ("Fatima Zahra", "فاطمة الزهراء"),
    ("Khadija", "خديجة"),
    ("Aicha", "عائشة"),
    ("Meryem", "مريم"),
    ("Zineb", "زينب"),
    ("Hanane", "حنان"),
    ("Saida", "سعيدة"),
    ("Naima", "نعيمة"),
    ("Latifa", "لطيفة"),
    ("Itto", "إيطو"),
    ("Touda", "تودة"),
    ("Rachida", "رشيدة"),
    ("Salma", "سلمى"),
    ("Hafsa", "حفصة"),
]
MALE_NAMES = [
    ("Mohamed", "محمد"),
    ("Ahmed", "أحمد"),
    ("Youssef", "يوسف"),
    ("Abdelkader", "عبد القادر"),
    ("Hassan", "حسن"),
    ("Mustapha", "مصطفى"),
    ("Brahim", "إبراهيم"),
    ("Lahcen", "لحسن"),
    ("Mohamed Amine", "محمد أمين"),
    ("Abdelilah", "عبد الإله"),
    ("Driss", "إدريس"),
    ("Omar", "عمر"),
    ("Abderrahmane", "عبد الرحمن"),
    ("Said", "سعيد"),
]
FAMILY_NAMES = [
    ("Benjelloun", "بنجلون"),
    ("El Alaoui", "العلوي"),
    ("Tazi", "التازي"),
    ("Bennani", "بناني"),
    ("Ait Ouahmane", "آيت واحمان"),
    ("Amrani", "العمراني"),
    ("El Idrissi", "الإدريسي"),
    ("Berrada", "برادة"),
    ("Ouazzani", "الوزاني"),
    ("Chraibi", "الشرايبي"),
    ("Ait Benhaddou", "آيت بنحدو"),
    ("Lamrani", "اللمراني"),
    ("Boukhris", "بوخريص"),
    ("Haddaoui", "الحداوي"),
    ("Fassi Fihri", "الفاسي الفهري"),
    ("Zemmouri", "الزموري"),
    ("Ait Lahcen Oubella", "آيت لحسن أوبلا"),
    ("Ben Abdellah El Ouazzani", "بن عبد الله الوزاني"),
]
# The longest demo name: 40 characters, the most a card token carries (it sets the QR version).
LONGEST_NAME = (("Abderrahmane", "عبد الرحمن"), ("Ait Lahcen Oubella Ouazzani", "آيت لحسن أوبلا الوزاني"))
PROVINCES = {
    "01": ["Tanger-Assilah", "Tétouan", "Chefchaouen", "Al Hoceïma"],
    "02": ["Oujda-Angad", "Nador", "Berkane", "Figuig"],
    "03": ["Fès", "Meknès", "Sefrou", "Ifrane", "Taounate"],
    "04": ["Rabat", "Salé", "Kénitra", "Khémisset"],
    "05": ["Béni Mellal", "Khénifra", "Azilal", "Khouribga"],
    "06": ["Casablanca", "Settat", "El Jadida", "Mohammédia"],
    "07": ["Marrakech", "Safi", "Essaouira", "El Kelaâ des Sraghna"],
    "08": ["Errachidia", "Ouarzazate", "Zagora", "Tinghir", "Midelt"],
    "09": ["Agadir Ida-Outanane", "Taroudant", "Tiznit", "Inezgane-Aït Melloul"],
    "10": ["Guelmim", "Tan-Tan", "Sidi Ifni", "Assa-Zag"],
    "11": ["Laâyoune", "Boujdour", "Tarfaya", "Es-Semara"],
    "12": ["Oued Ed-Dahab", "Aousserd"],
}
COOPERATIVES = ["Coopérative Nour", "Coopérative Tifaouine", "Coopérative Al Amal", "Coopérative Tamount"]


@dataclass
class SeedSummary:
    artisans: int
    cards: int
    logins: list[tuple[str, str]] = field(default_factory=list)
    sample_cards: list[tuple[str, str, str]] = field(default_factory=list)  # number, status, token
    activation: DemoActivation | None = None

    def lines(self, public_base_url: str, command: str = "flask --app wsgi") -> list[str]:
        """What set-up prints; `command` is how this machine runs the CLI, so hints run as printed."""
        out = [f"demo data: {self.artisans} artisans, {self.cards} cards", f"demo logins (password: {DEMO_PASSWORD}):"]
        out += [f"  {email:<36} {role}" for email, role in self.logins]
        out.append("demo cards (open a card's QR text as a URL to see its verdict page):")
        for number, status, token in self.sample_cards:
            out += [f"  {number}  {status}", f"    {qr_text(public_base_url, token)}"]
        out.append(f"more: {command} cards list --limit 20; {command} cards qr-text CARD_NUMBER")
        if self.activation is not None:
            out += [
                f"try the artisan's card app: open {public_base_url}/card/activate on a phone and type",
                f"  card number {self.activation.number}   activation code {self.activation.code}   "
                f"birth date {self.activation.birth_date:%d/%m/%Y}",
                f"  (a new code on every run; a new one for any card: {command} cards activation-code NUMBER)",
            ]
        return out


@dataclass(frozen=True)
class DemoActivation:
    """What a person types on /card/activate to try the card app with a demo card."""

    number: str
    birth_date: date
    code: str


def demo_activation(session: Session, policy: ActivationPolicy) -> DemoActivation | None:
    """A fresh activation code for the first demo card in force whose holder is not the published
    demo artisan login (whose password must stay the printed one); earlier codes of that card end."""
    now = utcnow()
    published = select(User.artisan_id).where(User.email.like("%@demo.carte-artisan.ma"), User.artisan_id.is_not(None))
    card = session.scalar(
        select(Card)
        .where(Card.status == CardStatus.ACTIVE, Card.expires_at > now, Card.artisan_id.not_in(published))
        .order_by(Card.id)
        .limit(1)
    )
    if card is None:
        return None
    code = issue_activation_code(session, card, DEMO_ACTOR, policy, now=now)
    return DemoActivation(card.number, card.artisan.birth_date, code)


def _demo_artisan(rng: random.Random, serial: int, region_code: str) -> Artisan:
    gender = rng.choice([Gender.FEMALE, Gender.MALE])
    first_latin, first_ar = rng.choice(FEMALE_NAMES if gender == Gender.FEMALE else MALE_NAMES)
    last_latin, last_ar = rng.choice(FAMILY_NAMES)
    if serial == 0:
        gender = Gender.MALE
        (first_latin, first_ar), (last_latin, last_ar) = LONGEST_NAME
    legal_status = rng.choice(list(LegalStatus))
    birth_year = rng.randint(1958, 2004)
    return Artisan(
        rna_number=f"RNA-{region_code}-{serial + 1:07d}",
        cin=f"{rng.choice('ABCDEFGHIJKLMNPQRSTUVWXYZ')}{rng.choice('ABCDEFGHJKMTWXYZ')}{100000 + serial:06d}",
        first_name_latin=first_latin,
        last_name_latin=last_latin,
        first_name_ar=first_ar,
        last_name_ar=last_ar,
        birth_date=date(birth_year, rng.randint(1, 12), rng.randint(1, 28)),
        gender=gender,
        phone=f"+2126{rng.randint(10000000, 99999999)}",
        region_code=region_code,
        province=rng.choice(PROVINCES[region_code]),
        trade_code=rng.choice(TRADES)[0],
        legal_status=legal_status,
        cnss_status=rng.choices(list(CnssStatus), weights=[3, 4, 3])[0],
        cooperative_name=rng.choice(COOPERATIVES) if legal_status == LegalStatus.COOPERATIVE_MEMBER else None,
        activity_start_year=rng.randint(max(birth_year + 14, 1975), 2025),
    )


def seed(session: Session, signer: Signer, *, artisan_count: int, validity_years: int) -> SeedSummary:
    """Register artisans round-robin over the 12 regions, issue every card, set a few apart."""
    rng = random.Random(50_17)
    programmes = {p.code: p for p in session.scalars(select(SupportProgramme))}
    offset = session.scalar(select(func.count()).select_from(Artisan)) or 0
    artisans = []
    for serial in range(offset, offset + artisan_count):
        artisan = _demo_artisan(rng, serial, REGIONS[serial % len(REGIONS)][0])
        if artisan.gender == Gender.FEMALE and rng.random() < 0.5:
            artisan.programmes.append(programmes["WOMEN"])
        if artisan.trade_code in ("TAP", "POT") and rng.random() < 0.3:
            artisan.programmes.append(programmes["EXCELLENCE"])
        extra = programmes[rng.choice(SUPPORT_PROGRAMMES)[0]]
        if rng.random() < 0.1 and extra not in artisan.programmes:
            artisan.programmes.append(extra)
        artisans.append(artisan)
    session.add_all(artisans)
    session.flush()
    # Searchable at once: the ORM keyed them on insert, and this writes any key still missing (none,
    # unless the seed moves to bulk inserts; then it is what keeps the demo register searchable).
    reindex_artisans(session, [artisan.id for artisan in artisans])
    issued = issue_cards_in_bulk(
        session, artisans[:3] + artisans[4:], signer, DEMO_ACTOR, validity_years=validity_years
    )
    if len(artisans) > 3:  # one card issued long ago, so the demo shows an expired card too
        long_ago = utcnow() - timedelta(days=366 * (validity_years + 1))
        card_service.issue_card(session, artisans[3], signer, DEMO_ACTOR, validity_years=validity_years, now=long_ago)
        issued += 1
    new_cards = session.scalars(
        select(Card).where(Card.artisan_id.in_([a.id for a in artisans[:12]])).order_by(Card.artisan_id)
    ).all()
    # The demo cards printed by `setup` have a (drawn) photo, so partner staff see one beside a verdict.
    # Through the officers' own path (re-encoded, audited), as a photo taken at the chamber would be.
    for serial, artisan in enumerate(artisans[:12]):
        drawn = demo_photo(serial, artisan.first_name_latin[0] + artisan.last_name_latin[0])
        set_photo(session, artisan, prepare_photo(drawn), DEMO_ACTOR, replaces=None)
    # A few cards in other states, so every verdict can be seen from the demo.
    if len(new_cards) >= 3:
        card_service.revoke_card(session, new_cards[1], RevocationReason.LOST, DEMO_ACTOR, "demo")
        card_service.suspend_card(session, new_cards[2], "demo: unpaid chamber fee", DEMO_ACTOR)
    logins = _seed_users(session, artisans[0]) if offset == 0 else []
    return SeedSummary(
        artisans=artisan_count,
        cards=issued,
        logins=logins,
        sample_cards=_samples(new_cards[:4]),
    )


def _seed_users(session: Session, artisan: Artisan) -> list[tuple[str, str]]:
    users = [
        User(email="admin@demo.carte-artisan.ma", display_name="Administratrice nationale", role=Role.ADMIN),
        User(
            email="officer.fes@demo.carte-artisan.ma",
            display_name="Agent Fès-Meknès",
            role=Role.OFFICER,
            region_code="03",
        ),
        User(
            email="officer.marrakech@demo.carte-artisan.ma",
            display_name="Agent Marrakech-Safi",
            role=Role.OFFICER,
            region_code="07",
        ),
        User(
            email="artisan@demo.carte-artisan.ma", display_name=artisan.name_latin, role=Role.ARTISAN, artisan=artisan
        ),
    ]
    for user in users:
        user.set_password(DEMO_PASSWORD)
    session.add_all(users)
    session.flush()
    # Offers are in force from the first of this year, so every demo card can use them today.
    users += seed_partners(session, DEMO_ACTOR, DEMO_PASSWORD, valid_from=date(utcnow().year, 1, 1))
    return [(user.email, user.role.value) for user in users]


def _samples(cards: list[Card] | Sequence[Card]) -> list[tuple[str, str, str]]:
    now = utcnow()
    return [(c.number, "expired" if c.is_expired(now) else c.status.value, c.token) for c in cards]


def summary_of_existing(session: Session) -> SeedSummary:
    """What `setup` prints when the demo data is already there."""
    emails = session.execute(select(User.email, User.role).order_by(User.id)).all()
    sample = session.scalars(select(Card).order_by(Card.id).limit(4)).all()
    return SeedSummary(
        artisans=session.scalar(select(func.count()).select_from(Artisan)) or 0,
        cards=session.scalar(select(func.count()).select_from(Card)) or 0,
        logins=[(email, role.value) for email, role in emails],
        sample_cards=_samples(sample),
    )


# Soft backgrounds for the drawn demo photos (no real person's face is ever in the demo data).
_PHOTO_BACKGROUNDS = ["#d9e8f5", "#f5e6d9", "#e2f0dc", "#efe0f2", "#f7efd2", "#dde4e8"]


def demo_photo(serial: int, initials: str) -> bytes:
    """A drawn passport-style picture (a silhouette and initials), JPEG, for demo artisans."""
    from PIL import Image, ImageDraw  # only the demo seed draws pictures

    width, height = 240, 300
    image = Image.new("RGB", (width, height), _PHOTO_BACKGROUNDS[serial % len(_PHOTO_BACKGROUNDS)])
    draw = ImageDraw.Draw(image)
    draw.ellipse((70, 50, 170, 160), fill="#6b6f76")  # head
    draw.rounded_rectangle((35, 175, 205, 330), radius=70, fill="#6b6f76")  # shoulders
    draw.text((width // 2, 110), initials.upper(), fill="#ffffff", anchor="mm", font_size=44)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=80)
    return output.getvalue()
