"""Demo partners, their people and their offers (issue 7's four partners), approved and in force.

Each organisation gets a manager and a counter agent; the offers are written as data, exactly as a
manager would submit them, and approved by the demo administrator.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from webapp.models import Organisation, Role, User
from webapp.models.partner import LENDER, MARKET_ORGANISER, TRAINING_BODY, TRANSPORTER
from webapp.services.audit import Actor
from webapp.services.partners.offers import OfferDraft, change_offer_state, create_offer


def _texts(fr: str, ar: str, en: str) -> dict[str, str]:
    return {"fr": fr, "ar": ar, "en": en}


_WEIGHT = {
    "name": "weight_kg",
    "type": "number",
    "label": _texts("Poids du colis (kg)", "وزن الطرد (كغ)", "Parcel weight (kg)"),
    "min": 0.1,
    "max": 30,
}
_DESTINATION = {
    "name": "destination",
    "type": "country",
    "label": _texts("Pays de destination", "بلد الوجهة", "Destination country"),
}
_CNSS = {
    "label": _texts("Inscrit à la CNSS (AMO)", "مسجل في الضمان الاجتماعي", "CNSS registered"),
    "logic": {"==": [{"var": "artisan.cnss_status"}, "registered"]},
}
_TWO_YEARS = {
    "label": _texts("Au moins 2 ans d'activité", "سنتان من النشاط على الأقل", "At least 2 years of activity"),
    "logic": {">=": [{"-": [{"year": {"var": "today"}}, {"var": "artisan.activity_start_year"}]}, 2]},
}
_FAIR_REGION = {
    "label": _texts("Artisan de la région Fès-Meknès", "صانع من جهة فاس مكناس", "Artisan of the Fez-Meknes region"),
    "logic": {"==": [{"var": "card.region"}, "03"]},
}
_FAIR_TRADES = {
    "label": _texts("Métier exposé au salon", "حرفة معروضة في المعرض", "Trade shown at the fair"),
    "logic": {"in": [{"var": "card.trade"}, ["ZEL", "TAP", "POT", "DIN", "BROD", "MARO"]]},
}
_WOMEN = {
    "label": _texts(
        "Artisane ou programme Femmes artisanes",
        "صانعة تقليدية أو برنامج الصانعات التقليديات",
        "Woman artisan or Women artisans programme",
    ),
    "logic": {"or": [{"==": [{"var": "artisan.gender"}, "female"]}, {"in": ["WOMEN", {"var": "artisan.programmes"}]}]},
}

# slug, kind, name, people (email stem, display name), offers
DEMO_PARTNERS: list[tuple[str, str, str, str, list[dict[str, Any]]]] = [
    (
        "barid-colis",
        TRANSPORTER,
        "Barid Al-Maghrib — Colis (démo)",
        "barid",
        [
            {
                "name": _texts("Colis national -30 %", "طرد وطني -30 %", "National parcel -30%"),
                "benefit": _texts(
                    "-30 % sur les colis au Maroc", "-30 % على الطرود داخل المغرب", "-30% on parcels within Morocco"
                ),
                "conditions": [],
                "quota": (20, "month"),
                "fields": [_WEIGHT, _DESTINATION],
            },
            {
                "name": _texts("Colis international -20 %", "طرد دولي -20 %", "International parcel -20%"),
                "benefit": _texts(
                    "-20 % sur les colis vers l'étranger", "-20 % على الطرود نحو الخارج", "-20% on parcels abroad"
                ),
                "conditions": [],
                "quota": (20, "month"),
                "fields": [_WEIGHT, _DESTINATION],
            },
        ],
    ),
    (
        "salon-fes",
        MARKET_ORGANISER,
        "Salon régional de l'artisanat Fès-Meknès (démo)",
        "salon",
        [
            {
                "name": _texts("Stand au salon régional", "رواق في المعرض الجهوي", "Stand at the regional fair"),
                "benefit": _texts(
                    "Un stand offert une fois par an", "رواق مجاني مرة في السنة", "A free stand once a year"
                ),
                "conditions": [_FAIR_REGION, _FAIR_TRADES],
                "quota": (1, "year"),
                "fields": [
                    {
                        "name": "stand",
                        "type": "choice",
                        "label": _texts("Stand", "الرواق", "Stand"),
                        "options": [
                            {"value": "small", "label": _texts("Petit (6 m²)", "صغير (6 م²)", "Small (6 m²)")},
                            {"value": "large", "label": _texts("Grand (12 m²)", "كبير (12 م²)", "Large (12 m²)")},
                        ],
                    }
                ],
            }
        ],
    ),
    (
        "credit-artisan",
        LENDER,
        "Micro-crédit Artisan (démo)",
        "credit",
        [
            {
                "name": _texts("Micro-crédit d'équipement", "قرض صغير للتجهيز", "Equipment micro-credit"),
                "benefit": _texts(
                    "Taux préférentiel de 4 % jusqu'à 50 000 MAD",
                    "نسبة تفضيلية 4 % حتى 50 000 درهم",
                    "Preferential 4% rate up to MAD 50,000",
                ),
                "conditions": [_CNSS, _TWO_YEARS],
                "quota": None,
                "fields": [
                    {
                        "name": "amount_mad",
                        "type": "integer",
                        "label": _texts("Montant (MAD)", "المبلغ (درهم)", "Amount (MAD)"),
                        "min": 1000,
                        "max": 50000,
                    }
                ],
            }
        ],
    ),
    (
        "formation-artisanat",
        TRAINING_BODY,
        "Institut de formation aux métiers de l'artisanat (démo)",
        "formation",
        [
            {
                "name": _texts("Formation marketing digital", "تكوين في التسويق الرقمي", "Digital marketing training"),
                "benefit": _texts("Formation certifiante gratuite", "تكوين مجاني بشهادة", "Free certified training"),
                "conditions": [_WOMEN],
                "quota": (2, "year"),
                "fields": [],
            }
        ],
    ),
]


_STAFF = ((Role.PARTNER_MANAGER, "manager", "Responsable"), (Role.PARTNER_AGENT, "agent", "Agent"))


def seed_partners(session: Session, actor: Actor, password: str, valid_from: date) -> list[User]:
    """The demo organisations, a manager and an agent each, and their approved offers."""
    people: list[User] = []
    for slug, kind, name, stem, offers in DEMO_PARTNERS:
        organisation = Organisation(slug=slug, kind_code=kind, name=name)
        session.add(organisation)
        for role, suffix, label in (
            (Role.PARTNER_MANAGER, "manager", "Responsable"),
            (Role.PARTNER_AGENT, "agent", "Agent"),
        ):
            user = User(
                email=f"{stem}.{suffix}@demo.carte-artisan.ma",
                display_name=f"{label} — {name.removesuffix(' (démo)')}",
                role=role,
                organisation=organisation,
            )
            user.set_password(password)
            people.append(user)
        session.add_all(people[-2:])
        session.flush()
        approve_demo_offers(session, organisation, offers, actor, valid_from)
    return people


def approve_demo_offers(
    session: Session, organisation: Organisation, offers: list[dict[str, Any]], actor: Actor, valid_from: date
) -> None:
    """A demo partner's offers, written as its manager would submit them and approved."""
    for spec in offers:
        quota = spec["quota"]
        draft = OfferDraft(
            name=spec["name"],
            benefit=spec["benefit"],
            valid_from=valid_from,
            conditions=spec["conditions"],
            quota_count=quota[0] if quota else None,
            quota_period=quota[1] if quota else None,
            fields=spec["fields"],
        )
        offer = create_offer(session, organisation, draft, actor)
        change_offer_state(session, offer, "submit", actor)
        change_offer_state(session, offer, "approve", actor)


# One example offer per partner kind (each demo partner's first offer), keyed by kind code: what a
# manager's "start from an example" fills a new offer with.
OFFER_EXAMPLES: dict[str, dict[str, Any]] = {kind: offers[0] for _slug, kind, _name, _stem, offers in DEMO_PARTNERS}
