"""Regional chambers in the reference data: seeded with their names and seat cities, completed
by the ministry, and never overwritten by a later sync."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.fixtures.support import TEST_ACTOR
from webapp.models import AuditEvent, Region
from webapp.services.register.reference_data import REGIONS, UnknownRegion, set_chamber, sync_reference_data


def test_every_region_has_its_chamber(session):
    """All 12 regions carry a chamber name and an address in French and Arabic."""
    regions = session.scalars(select(Region)).all()
    assert len(regions) == len(REGIONS) == 12
    for region in regions:
        assert region.chamber_name_fr.startswith("Chambre d'Artisanat de la Région ")
        assert region.chamber_name_ar.startswith("غرفة الصناعة التقليدية لجهة ")
        assert region.chamber_address_fr.endswith(", Maroc") and region.chamber_address_ar.endswith("، المغرب")


def test_a_changed_address_is_audited_and_survives_a_sync(session):
    """The ministry's address is kept by the next sync; the change is an audit event."""
    set_chamber(session, "07", TEST_ACTOR, chamber_address_fr="Bab Doukkala, 40000 Marrakech")
    sync_reference_data(session)
    session.commit()
    assert session.get(Region, "07").chamber_address_fr == "Bab Doukkala, 40000 Marrakech"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "region.chamber_changed")).one()
    assert event.reason == "07"


def test_an_unknown_region_is_refused(session):
    with pytest.raises(UnknownRegion):
        set_chamber(session, "99", TEST_ACTOR, chamber_name_fr="x")
