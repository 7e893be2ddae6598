"""The reference tables' contents: Morocco's 12 regions, handicraft sectors and trades.

Region codes are the official region numbers (01-12). Trade codes are short (they travel in
every card token) and never change once cards carry them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from webapp.models import PartnerKind, Region, Sector, SupportProgramme, Trade
from webapp.models.partner import LENDER, MARKET_ORGANISER, OTHER, TRAINING_BODY, TRANSPORTER
from webapp.services.audit import Actor, record_event
from webapp.services.errors import N_, DomainError
from webapp.services.trust.status_list import ensure_status_list

REGIONS: list[tuple[str, str, str, str]] = [
    ("01", "Tanger-Tétouan-Al Hoceïma", "طنجة تطوان الحسيمة", "Tangier-Tetouan-Al Hoceima"),
    ("02", "L'Oriental", "الشرق", "Oriental"),
    ("03", "Fès-Meknès", "فاس مكناس", "Fez-Meknes"),
    ("04", "Rabat-Salé-Kénitra", "الرباط سلا القنيطرة", "Rabat-Sale-Kenitra"),
    ("05", "Béni Mellal-Khénifra", "بني ملال خنيفرة", "Beni Mellal-Khenifra"),
    ("06", "Casablanca-Settat", "الدار البيضاء سطات", "Casablanca-Settat"),
    ("07", "Marrakech-Safi", "مراكش آسفي", "Marrakesh-Safi"),
    ("08", "Drâa-Tafilalet", "درعة تافيلالت", "Draa-Tafilalet"),
    ("09", "Souss-Massa", "سوس ماسة", "Souss-Massa"),
    ("10", "Guelmim-Oued Noun", "كلميم واد نون", "Guelmim-Oued Noun"),
    ("11", "Laâyoune-Sakia El Hamra", "العيون الساقية الحمراء", "Laayoune-Sakia El Hamra"),
    ("12", "Dakhla-Oued Ed-Dahab", "الداخلة وادي الذهب", "Dakhla-Oued Ed-Dahab"),
]

# Each region's chamber of handicraft and its seat city (fr, ar). The seed gives the city only, as
# its postal address: street addresses are the ministry's to enter (`flask --app wsgi register
# chamber`), and the sync never overwrites what was entered.
CHAMBER_SEATS: dict[str, tuple[str, str]] = {
    "01": ("Tanger", "طنجة"),
    "02": ("Oujda", "وجدة"),
    "03": ("Fès", "فاس"),
    "04": ("Rabat", "الرباط"),
    "05": ("Béni Mellal", "بني ملال"),
    "06": ("Casablanca", "الدار البيضاء"),
    "07": ("Marrakech", "مراكش"),
    "08": ("Errachidia", "الرشيدية"),
    "09": ("Agadir", "أكادير"),
    "10": ("Guelmim", "كلميم"),
    "11": ("Laâyoune", "العيون"),
    "12": ("Dakhla", "الداخلة"),
}


def chamber_seed(code: str) -> dict[str, str]:
    """The seeded chamber of a region: its name and its seat city as its address."""
    names = _REGION_NAMES[code]
    city_fr, city_ar = CHAMBER_SEATS[code]
    return {
        "chamber_name_fr": f"Chambre d'Artisanat de la Région {names['fr']}",
        "chamber_name_ar": f"غرفة الصناعة التقليدية لجهة {names['ar']}",
        "chamber_address_fr": f"{city_fr}, Maroc",
        "chamber_address_ar": f"{city_ar}، المغرب",
    }


SECTORS: list[tuple[str, str, str, str]] = [
    ("ART", "Artisanat d'art", "الصناعة التقليدية الفنية", "Art handicraft"),
    ("PROD", "Artisanat de production utilitaire", "الصناعة التقليدية الإنتاجية النفعية", "Utilitarian production"),
    ("SERV", "Artisanat de service", "الصناعة التقليدية الخدماتية", "Service handicraft"),
]

TRADES: list[tuple[str, str, str, str, str]] = [
    ("ZEL", "ART", "Zellige", "الزليج", "Zellige tilework"),
    ("TAP", "ART", "Tapis", "الزرابي", "Carpets"),
    ("POT", "ART", "Poterie et céramique", "الفخار والخزف", "Pottery and ceramics"),
    ("MARO", "ART", "Maroquinerie", "الجلد المصنع", "Leather goods"),
    ("TAN", "PROD", "Tannerie", "الدباغة", "Tanning"),
    ("DIN", "ART", "Dinanderie", "النحاس", "Brass and copper work"),
    ("BROD", "ART", "Broderie", "الطرز", "Embroidery"),
    ("BIJ", "ART", "Bijouterie", "الحلي", "Jewellery"),
    ("BOIS", "ART", "Ébénisterie de cèdre", "النجارة الخشبية (الأرز)", "Cedar woodwork"),
    ("THUY", "ART", "Marqueterie de thuya", "خشب العرعار", "Thuya marquetry"),
    ("FER", "ART", "Ferronnerie d'art", "الحدادة الفنية", "Wrought ironwork"),
    ("PLAT", "ART", "Plâtre sculpté", "الجبس المنقوش", "Carved plaster"),
    ("TISS", "PROD", "Tissage", "النسيج", "Weaving"),
    ("VANN", "PROD", "Vannerie", "صناعة السلال", "Basketry"),
    ("BAB", "PROD", "Babouches", "البلغة", "Babouche slippers"),
    ("COUT", "PROD", "Couture traditionnelle", "الخياطة التقليدية", "Traditional tailoring"),
    ("ARG", "PROD", "Huile d'argan artisanale", "زيت الأركان", "Artisanal argan oil"),
    ("COIF", "SERV", "Coiffure", "الحلاقة", "Hairdressing"),
    ("MEC", "SERV", "Mécanique", "الميكانيك", "Mechanics"),
    ("PLOM", "SERV", "Plomberie", "الترصيص", "Plumbing"),
]

SUPPORT_PROGRAMMES: list[tuple[str, str, str, str]] = [
    ("EXCELLENCE", "Programme d'excellence", "برنامج التميز", "Excellence programme"),
    ("EXPORT", "Accompagnement à l'export", "مواكبة التصدير", "Export support"),
    ("AGGREGATION", "Agrégation", "التجميع", "Aggregation"),
    ("WOMEN", "Femmes artisanes", "الصانعات التقليديات", "Women artisans"),
    ("VULNERABLE", "Artisans vulnérables", "الصناع في وضعية هشاشة", "Vulnerable artisans"),
]

# Partner kinds and how old a verifier's trust bundle may get for their staff (hours) before the
# app stops saying "valid": a lender decides on money (a day), a market gate on a stand (a week).
PARTNER_KINDS: list[tuple[str, int, str, str, str]] = [
    (TRANSPORTER, 72, "Transporteur", "ناقل", "Transporter"),
    (MARKET_ORGANISER, 168, "Organisateur de marchés et salons", "منظم الأسواق والمعارض", "Market organiser"),
    (LENDER, 24, "Organisme de financement", "مؤسسة تمويل", "Lender"),
    (TRAINING_BODY, 72, "Organisme de formation", "مؤسسة تكوين", "Training body"),
    (OTHER, 72, "Autre partenaire", "شريك آخر", "Other partner"),
]


def sync_reference_data(session: Session) -> None:
    """Insert or update every reference row (idempotent; run after each migration)."""
    for code, fr, ar, en in REGIONS:
        region = session.merge(Region(code=code, name_fr=fr, name_ar=ar, name_en=en))
        # Chamber fields are seeded when empty, never overwritten: the ministry completes them.
        for field, value in chamber_seed(code).items():
            if not getattr(region, field):
                setattr(region, field, value)
    for code, fr, ar, en in SECTORS:
        session.merge(Sector(code=code, name_fr=fr, name_ar=ar, name_en=en))
    session.flush()
    for code, sector, fr, ar, en in TRADES:
        session.merge(Trade(code=code, sector_code=sector, name_fr=fr, name_ar=ar, name_en=en))
    for code, fr, ar, en in SUPPORT_PROGRAMMES:
        session.merge(SupportProgramme(code=code, name_fr=fr, name_ar=ar, name_en=en))
    # Kinds are added when missing, never overwritten: administrators tune their maximum bundle age.
    for code, hours, fr, ar, en in PARTNER_KINDS:
        if session.get(PartnerKind, code) is None:
            session.add(PartnerKind(code=code, max_bundle_age_hours=hours, name_fr=fr, name_ar=ar, name_en=en))
    session.flush()


def prepare_reference_data(session: Session) -> None:
    """Reference tables and the status list row: what every database needs before any card."""
    sync_reference_data(session)
    ensure_status_list(session)


# What a card token's "r" and "t" may hold (rule C4 of docs/card-token.md, where the tables are published).
REGION_CODES = frozenset(code for code, *_names in REGIONS)
TRADE_CODES = frozenset(code for code, *_rest in TRADES)

_REGION_NAMES = {code: {"fr": fr, "ar": ar, "en": en} for code, fr, ar, en in REGIONS}
_TRADE_NAMES = {code: {"fr": fr, "ar": ar, "en": en} for code, _sector, fr, ar, en in TRADES}


def region_name(code: str, language: str) -> str | None:
    """The region's name in a language (from the constants: no database round trip)."""
    names = _REGION_NAMES.get(code)
    return names.get(language, names["fr"]) if names else None


def trade_name(code: str, language: str) -> str | None:
    names = _TRADE_NAMES.get(code)
    return names.get(language, names["fr"]) if names else None


CHAMBER_FIELDS = ("chamber_name_fr", "chamber_name_ar", "chamber_address_fr", "chamber_address_ar")


class UnknownRegion(DomainError):
    code = "unknown_region"
    http_status = 404
    message = N_("There is no region %(region)s.")


def set_chamber(session: Session, region_code: str, actor: Actor, **fields: str | None) -> Region:
    """Change a regional chamber's name or postal address (fields left None are kept), audited.
    Addresses are lines joined with ", " as printed; letters split them back at commas."""
    region = session.get(Region, region_code)
    if region is None:
        raise UnknownRegion(region=region_code)
    changes = {name: value.strip() for name, value in fields.items() if name in CHAMBER_FIELDS and value}
    before = {name: getattr(region, name) for name in changes}
    for name, value in changes.items():
        setattr(region, name, value)
    if changes and before != changes:
        record_event(session, actor, "region.chamber_changed", reason=region_code, before=before, after=changes)
    session.flush()
    return region
