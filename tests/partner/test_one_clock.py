"""One clock (issue 17, item 5): the portal's redemptions page, its CSV and XLSX exports and the API
answer give one redemption the same time in Morocco, from the pinned tzdata package.

The instant: 15 November 2026, 11:29 UTC. Morocco keeps UTC+0 from 20 September 2026 in the pinned
tzdata (2026f); Debian 12's older tzdata (2025b) still says UTC+1 there, 12:29: the hour the
export showed while the screen said 11:29.
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from datetime import UTC, datetime

import openpyxl

from webapp import clock
from webapp.services.partners.redemptions import redemption_json

INSTANT = datetime(2026, 11, 15, 11, 29, tzinfo=UTC)


def test_the_pinned_zone_gives_11_29_for_the_instant():
    """Morocco's zone comes from the pinned tzdata package: UTC+0 on 15 November 2026."""
    assert clock.in_morocco(INSTANT).strftime("%H:%M") == "11:29"


def test_after_create_app_zoneinfo_reads_only_the_pinned_tzdata(app):
    """create_app empties zoneinfo's search path: any ZoneInfo(key) is the pinned package's, not the system's."""
    assert zoneinfo.TZPATH == ()
    assert INSTANT.astimezone(zoneinfo.ZoneInfo("Africa/Casablanca")).strftime("%H:%M") == "11:29"


def test_screen_exports_and_api_show_the_same_time(client, auth, partner, make_offer, make_card, make_redemption):
    """The redemptions page, the CSV and XLSX exports and the API answer all say 11:29 for the instant."""
    card = make_card()
    redemption = make_redemption(make_offer(partner.organisation), card, partner.agent, made_at=INSTANT)
    auth.login(partner.manager)
    page = client.get("/partner/redemptions?lang=fr").get_data(as_text=True)
    assert "15 novembre 2026, 11:29" in page and "12:29" not in page
    text = client.get("/partner/redemptions.csv").get_data().decode("utf-8-sig")
    [row] = [row for row in csv.reader(io.StringIO(text)) if card.number in row]
    assert row[1] == "2026-11-15 11:29"
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/partner/redemptions.xlsx").get_data()), read_only=True)
    [cells] = [list(r) for r in workbook.active.iter_rows(values_only=True) if card.number in r]
    workbook.close()
    assert cells[1] == "2026-11-15 11:29"
    answer = redemption_json(redemption, None)  # what POST /api/v1/redemptions answers
    assert answer["made_at"] == "2026-11-15T11:29:00Z" and answer["made_at_local"] == "2026-11-15T11:29:00+00:00"


def test_babel_gets_the_zoneinfo_zone(app):
    """Flask-Babel's time zone in a request is the pinned zoneinfo zone, never a pytz one."""
    from flask_babel import get_timezone

    with app.test_request_context("/"):
        assert get_timezone() is clock.MOROCCO
