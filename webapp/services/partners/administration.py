"""What national administrators need on top of the partner services: the figures of their home
screen, partners with their head counts, a new partner with its first manager in one step, the
withdrawals in force and an offer's audit trail.

Read-only helpers over the national scope (administrators see every partner), except
`create_partner`, which composes the two audited services it is made of.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from webapp.models import (
    PARTNER_ROLES,
    AuditEvent,
    Card,
    Offer,
    OfferState,
    OfferWithdrawal,
    Organisation,
    PartnerKind,
    Role,
    User,
)
from webapp.services.audit import Actor
from webapp.services.partners.organisations import NewAccount, add_staff_member, create_organisation
from webapp.services.scope import RecordNotFound

_USER_LABEL = re.compile(r"user:(\d+)")


@dataclass(frozen=True)
class Overview:
    """The administrator's home screen figures."""

    organisations: int
    offers_waiting: int
    offers_in_force: int
    withdrawals_in_force: int


def _count(session: Session, statement: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def overview(session: Session) -> Overview:
    """How many partners, offers waiting for approval, offers approved, withdrawals in force."""
    return Overview(
        organisations=_count(session, select(Organisation.id)),
        offers_waiting=_count(session, select(Offer.id).where(Offer.state == OfferState.SUBMITTED)),
        offers_in_force=_count(session, select(Offer.id).where(Offer.state == OfferState.APPROVED)),
        withdrawals_in_force=_count(session, select(OfferWithdrawal.id).where(OfferWithdrawal.lifted_at.is_(None))),
    )


def partner_kinds(session: Session) -> list[PartnerKind]:
    """The kinds of partner organisation (reference data), by code."""
    return list(session.scalars(select(PartnerKind).order_by(PartnerKind.code)))


@dataclass(frozen=True)
class PartnerSummary:
    organisation: Organisation
    staff_count: int
    offers_count: int


def partner_summaries(session: Session) -> list[PartnerSummary]:
    """Every partner organisation by name, with how many staff accounts and offers it has."""
    staff = (
        select(User.organisation_id, func.count().label("n"))
        .where(User.role.in_(PARTNER_ROLES))
        .group_by(User.organisation_id)
        .subquery()
    )
    offers = select(Offer.organisation_id, func.count().label("n")).group_by(Offer.organisation_id).subquery()
    rows = session.execute(
        select(Organisation, func.coalesce(staff.c.n, 0), func.coalesce(offers.c.n, 0))
        .outerjoin(staff, staff.c.organisation_id == Organisation.id)
        .outerjoin(offers, offers.c.organisation_id == Organisation.id)
        .options(joinedload(Organisation.kind))
        .order_by(Organisation.name)
    )
    return [PartnerSummary(organisation, staff_count, offers_count) for organisation, staff_count, offers_count in rows]


@dataclass(frozen=True)
class NewPartner:
    organisation: Organisation
    manager: NewAccount


def create_partner(
    session: Session, *, slug: str, name: str, kind_code: str, manager_email: str, manager_name: str, actor: Actor
) -> NewPartner:
    """A partner organisation and its first manager (with a temporary password), both audited.

    Either refusal (a taken slug, a taken email...) leaves the caller to roll back: the request
    then writes neither, so an organisation never exists without its manager.
    """
    organisation = create_organisation(session, slug=slug, name=name, kind_code=kind_code, actor=actor)
    manager = add_staff_member(
        session, organisation, email=manager_email, display_name=manager_name, role=Role.PARTNER_MANAGER, actor=actor
    )
    return NewPartner(organisation, manager)


def withdrawals_in_force(session: Session) -> list[OfferWithdrawal]:
    """Offers withdrawn from cards and not given back, newest first, with offer, partner, card and holder."""
    return list(
        session.scalars(
            select(OfferWithdrawal)
            .where(OfferWithdrawal.lifted_at.is_(None))
            .options(
                joinedload(OfferWithdrawal.offer).joinedload(Offer.organisation),
                joinedload(OfferWithdrawal.card).joinedload(Card.artisan),
            )
            .order_by(OfferWithdrawal.withdrawn_at.desc(), OfferWithdrawal.id.desc())
        )
    )


def get_withdrawal(session: Session, withdrawal_id: int) -> OfferWithdrawal:
    """A withdrawal (in force or lifted), or RecordNotFound."""
    withdrawal = session.get(OfferWithdrawal, withdrawal_id)
    if withdrawal is None:
        raise RecordNotFound()
    return withdrawal


def offer_trail(session: Session, offer_id: int) -> list[AuditEvent]:
    """The audit events of one offer, oldest first (its story reads top to bottom)."""
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.offer_id == offer_id).order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
    )


def people_by_label(session: Session, labels: set[str]) -> dict[str, str]:
    """Display names of the people behind actor labels ("user:12" -> "Amina Tazi"); other labels
    (commands, API keys, the demo seed) have no person and are shown as they are."""
    ids = {int(match.group(1)) for label in labels if (match := _USER_LABEL.fullmatch(label))}
    if not ids:
        return {}
    users = session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {f"user:{user_id}": name for user_id, name in users}
