"""Reading the register within a scope: an officer sees only their own region."""

import pytest

from webapp.services.register.artisans import get_artisan, list_artisans
from webapp.services.scope import NATIONAL, NOTHING, RecordNotFound, Scope


def test_an_officer_reads_only_their_region(session, make_artisan):
    """Another region's artisan is not found (404), exactly like one that does not exist."""
    fes = make_artisan(region_code="03")
    marrakech = make_artisan(region_code="07")
    session.commit()
    officer_of_fes = Scope(region_code="03")
    assert get_artisan(session, fes.id, officer_of_fes).id == fes.id
    with pytest.raises(RecordNotFound) as refusal:
        get_artisan(session, marrakech.id, officer_of_fes)
    assert refusal.value.http_status == 404
    assert get_artisan(session, marrakech.id, NATIONAL).id == marrakech.id


def test_lists_are_filtered_by_scope(session, make_artisan):
    """A list in an officer's scope holds only their region; a national one holds all; nothing holds none."""
    ids = {region: make_artisan(region_code=region).id for region in ("03", "07", "03")}
    session.commit()
    assert {a.region_code for a in list_artisans(session, Scope(region_code="03"))} == {"03"}
    assert {a.id for a in list_artisans(session, NATIONAL)} >= set(ids.values())
    assert list_artisans(session, NOTHING) == []
