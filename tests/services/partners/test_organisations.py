"""Organisations and their staff: a refused duplicate leaves the session usable for the rest of the work."""

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from webapp.models import Organisation, Role, User
from webapp.models.partner import TRANSPORTER
from webapp.services.partners.organisations import (
    EmailTaken,
    OrganisationTaken,
    add_staff_member,
    create_organisation,
)


def test_a_taken_email_leaves_the_session_usable(session, make_organisation, make_user):
    """After EmailTaken, the next flush does not retry the refused account, and the transaction commits."""
    organisation = make_organisation()
    existing = make_user(Role.PARTNER_AGENT, organisation=organisation)
    with pytest.raises(EmailTaken):
        add_staff_member(
            session, organisation, email=existing.email, display_name="Twin", role=Role.PARTNER_AGENT, actor=TEST_ACTOR
        )
    session.flush()
    session.commit()
    assert session.scalar(select(func.count()).select_from(User).where(User.email == existing.email)) == 1


def test_a_taken_organisation_name_leaves_the_session_usable(session, make_organisation):
    """After OrganisationTaken, the next flush does not retry the refused organisation."""
    taken = make_organisation()
    with pytest.raises(OrganisationTaken):
        create_organisation(session, slug=taken.slug, name="Another name", kind_code=TRANSPORTER, actor=TEST_ACTOR)
    session.flush()
    session.commit()
    assert session.scalar(select(func.count()).select_from(Organisation)) == 1
