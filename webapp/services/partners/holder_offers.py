"""What a card unlocks, as its holder sees it (issue 15, part 4): every offer that applies today,
whoever the partner, with the card's standing for each (eligible, or the labels of the conditions
it fails) and the redemptions left in the current period.

The standing is the one partners get (eligibility.card_eligibility over card_facts, quotas.
remaining_quota): the holder and the partner's counter never disagree. Unlike a partner, the holder
sees all partners' offers: they are the holder's own advantages (DESIGN decision 7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from webapp.models import Card, CardStatus, Offer, OfferState, QuotaPeriod
from webapp.services.cards.lifecycle import state_of
from webapp.services.partners.eligibility import Eligibility, card_eligibility, card_facts
from webapp.services.partners.offers import offer_applies
from webapp.services.partners.quotas import remaining_quota
from webapp.services.partners.rules import moroccan_today


@dataclass(frozen=True)
class HolderOffer:
    """One offer as the card's holder sees it."""

    offer: Offer
    eligibility: Eligibility
    # Redemptions left in the current period (None without a quota); the quota itself for the text.
    remaining: int | None
    quota_count: int | None
    quota_period: QuotaPeriod | None

    @property
    def partner(self) -> str:
        return self.offer.organisation.name

    def failed_labels(self, language: str) -> list[str]:
        """The failed conditions' labels in `language` (French when a label lacks it)."""
        return [label.get(language) or label["fr"] for label in self.eligibility.failed]


@dataclass(frozen=True)
class HolderOffers:
    """The card the offers were judged for (None when the artisan has no card), its state now, and
    the offers, eligible ones first."""

    card: Card | None
    state: str
    offers: list[HolderOffer]

    @property
    def eligible(self) -> list[HolderOffer]:
        return [offer for offer in self.offers if offer.eligibility.eligible]

    @property
    def not_eligible(self) -> list[HolderOffer]:
        return [offer for offer in self.offers if not offer.eligibility.eligible]


def holder_card(session: Session, artisan_id: int) -> Card | None:
    """The artisan's card in force (active or suspended), else the last one issued, else None."""
    cards = session.scalars(select(Card).where(Card.artisan_id == artisan_id).order_by(Card.issued_at.desc())).all()
    in_force = [card for card in cards if card.status != CardStatus.REVOKED]
    return (in_force or list(cards) or [None])[0]


def offers_for_holder(session: Session, artisan_id: int, now: datetime) -> HolderOffers:
    """Every offer that applies today, with the artisan's card's standing for each (eligible ones
    first, then by partner and offer)."""
    card = holder_card(session, artisan_id)
    if card is None:
        return HolderOffers(None, "none", [])
    today = moroccan_today(now)
    approved = session.scalars(
        select(Offer).where(Offer.state == OfferState.APPROVED).options(joinedload(Offer.organisation))
    ).all()
    offers = [offer for offer in approved if offer_applies(offer, today)]
    facts = card_facts(session, card, now)
    views = []
    for offer in offers:
        eligibility = card_eligibility(session, offer, card, facts, now)
        remaining = remaining_quota(session, offer, card, now) if eligibility.eligible else None
        views.append(HolderOffer(offer, eligibility, remaining, offer.quota_count, offer.quota_period))
    views.sort(key=lambda view: (not view.eligibility.eligible, view.partner.casefold(), view.offer.id))
    return HolderOffers(card, state_of(card.status, card.expires_at, now), views)
