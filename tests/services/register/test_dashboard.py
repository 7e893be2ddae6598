"""The register at a glance: counts by region, trade, gender, CNSS-AMO and card state, per month."""

from datetime import UTC, datetime, timedelta

from tests.conftest import TEST_ACTOR
from webapp.models import CnssStatus, Gender, RevocationReason, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.register.dashboard import CARD_STATES, MONTHS_SHOWN, register_overview
from webapp.services.scope import NATIONAL, Scope


def test_an_empty_register_has_zeros_everywhere(session):
    """No artisan: every figure is zero, every card state and month is there."""
    overview = register_overview(session, NATIONAL, utcnow())
    assert overview.artisans == 0 and overview.women == 0 and overview.cards_in_force == 0
    assert overview.cards_by_state == dict.fromkeys(CARD_STATES, 0)
    assert len(overview.issued_per_month) == MONTHS_SHOWN and all(n == 0 for _m, n in overview.issued_per_month)


def test_figures_count_artisans_and_cards_by_state(session, make_artisan, make_card):
    """Artisans by region, trade, gender and CNSS; cards active, suspended, expired and revoked;
    artisans without a card in force."""
    make_card(make_artisan(region_code="03", trade_code="ZEL", gender=Gender.FEMALE))
    suspended = make_card(make_artisan(region_code="03", trade_code="TAP", gender=Gender.MALE))
    card_service.suspend_card(session, suspended, "inquiry", TEST_ACTOR)
    revoked = make_card(make_artisan(region_code="07", trade_code="TAP", cnss_status=CnssStatus.NOT_REGISTERED))
    card_service.revoke_card(session, revoked, RevocationReason.LOST, TEST_ACTOR)
    make_card(make_artisan(region_code="07"), now=utcnow() - timedelta(days=6 * 366))  # expired
    make_artisan(region_code="07")  # no card
    session.commit()

    overview = register_overview(session, NATIONAL, utcnow())

    assert overview.artisans == 5
    assert overview.by_region == [("07", 3), ("03", 2)]
    assert dict(overview.by_trade) == {"ZEL": 3, "TAP": 2}
    assert overview.by_gender == {"female": 4, "male": 1} and overview.women == 4
    assert overview.by_cnss == {"registered": 4, "not_registered": 1}
    assert overview.cards_by_state == {"active": 1, "suspended": 1, "expired": 1, "revoked": 1}
    assert overview.cards_in_force == 1
    assert overview.artisans_without_card == 2  # the revoked card's holder and the one never carded


def test_an_officer_sees_only_their_region(session, make_artisan, make_card):
    """A region's scope counts that region's artisans and cards only."""
    make_card(make_artisan(region_code="03"))
    make_card(make_artisan(region_code="07"))
    make_card(make_artisan(region_code="07"))
    overview = register_overview(session, Scope(region_code="07"), utcnow())
    assert overview.artisans == 2 and overview.by_region == [("07", 2)]
    assert overview.cards_by_state["active"] == 2


def test_cards_issued_per_month_cover_the_last_twelve_months(session, make_artisan, make_card):
    """Cards issued this month and three months ago are counted in their month; older ones are not."""
    now = datetime(2026, 12, 2, 10, tzinfo=UTC)
    make_card(now=datetime(2026, 12, 1, 9, tzinfo=UTC))
    make_card(now=datetime(2026, 12, 1, 23, tzinfo=UTC))
    make_card(now=datetime(2026, 9, 15, tzinfo=UTC))
    make_card(now=datetime(2025, 11, 30, tzinfo=UTC))  # thirteen months ago: not shown
    months = dict(register_overview(session, NATIONAL, now).issued_per_month)
    assert list(months) == [f"2026-{month:02d}" for month in range(1, 13)]
    assert months["2026-12"] == 2 and months["2026-09"] == 1 and sum(months.values()) == 3
