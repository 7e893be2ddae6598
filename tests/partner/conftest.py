"""Fixtures of the partner portal's tests: a partner with a manager and an agent, its redemptions."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import AuditEvent, Card, Offer, Organisation, Redemption, Role, User


@dataclass
class Partner:
    organisation: Organisation
    manager: User
    agent: User


@pytest.fixture
def make_partner(make_organisation, make_user):
    """Factory: an organisation with one manager and one counter agent."""

    def make(name: str | None = None) -> Partner:
        organisation = make_organisation(name)
        return Partner(
            organisation,
            make_user(Role.PARTNER_MANAGER, organisation=organisation),
            make_user(Role.PARTNER_AGENT, organisation=organisation),
        )

    return make


@pytest.fixture
def partner(make_partner) -> Partner:
    return make_partner()


@pytest.fixture
def make_redemption(session: Session):
    """Factory: a committed redemption of an offer by a card, recorded by a person."""

    def make(
        offer: Offer,
        card: Card,
        recorded_by: User,
        *,
        made_at: datetime | None = None,
        over_quota: bool = False,
        fields: dict[str, Any] | None = None,
    ) -> Redemption:
        redemption = Redemption(
            offer_id=offer.id,
            card_id=card.id,
            made_at=made_at or datetime.now(UTC) - timedelta(hours=1),
            fields={"weight_kg": 2.5, "destination": "FR"} if fields is None else fields,
            over_quota=over_quota,
            recorded_by_user_id=recorded_by.id,
        )
        session.add(redemption)
        session.commit()
        return redemption

    return make


@pytest.fixture
def audit_actions(session: Session):
    """The actions of the audit trail that change something, oldest first (read afresh); sign-ins and
    sign-outs ("auth.*") are left out."""

    def read() -> list[str]:
        session.expire_all()
        statement = select(AuditEvent.action).where(AuditEvent.action.not_like("auth.%")).order_by(AuditEvent.id)
        return list(session.scalars(statement))

    return read


def field_errors(page: str, field_id: str) -> list[str]:
    """The error messages shown under one form field, unescaped (empty when it has none)."""
    block = re.search(rf'<ul class="errors" id="{re.escape(field_id)}-errors">(.*?)</ul>', page, re.S)
    return [html.unescape(error) for error in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)] if block else []
