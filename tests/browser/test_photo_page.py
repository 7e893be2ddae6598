"""The holder's photo page in a real browser, on a 360 px phone, in French and Arabic: an officer
chooses a photo, frames it with the crop tool (zoom, arrow keys), saves it, and the card face shows
it; the stored photo is the part framed. No CSP violation, no script error. Screenshots of the
page go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from tests.browser.conftest import PageProblems
from tests.browser.test_backoffice import assert_no_page_problems
from tests.fixtures.photos import drawn_image
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import ArtisanPhoto, Role
from webapp.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
TEXTS = {
    "fr": {"direction": "ltr", "save": "Enregistrer la photo", "saved": "La photo est enregistrée."},
    "ar": {"direction": "rtl", "save": "حفظ الصورة", "saved": "حُفظت الصورة."},
}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_an_officer_frames_and_saves_a_photo_on_a_phone(
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    session: Session,
    make_user: Any,
    make_artisan: Any,
    make_card: Any,
    tmp_path: Any,
    language: str,
) -> None:
    """Zoomed in and moved to the top left corner, the frame keeps the red corner of the photo."""
    officer = make_user(Role.OFFICER, region="03")
    artisan = make_artisan(region_code="03", first_name_latin="Khadija", last_name_latin="Bennani")
    make_card(artisan)
    upload = tmp_path / "portrait.jpg"
    upload.write_bytes(drawn_image((1200, 1600)))
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{live_server}/login?lang={language}")
    page.fill("input[name=email]", officer.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server}/office/artisans/{artisan.id}/photo?lang={language}")
    expect(page.locator("html")).to_have_attribute("dir", TEXTS[language]["direction"])
    page.screenshot(path=str(ARTIFACTS / f"photo-{language}-1-empty.png"), full_page=True)

    page.set_input_files("input[name=photo]", str(upload))
    frame = page.locator("[data-crop-frame]")
    expect(frame).to_be_visible()
    expect(page.locator("[data-photo-chosen]")).to_have_text("portrait.jpg")
    page.locator("[data-crop-zoom]").evaluate("zoom => { zoom.value = '4'; zoom.dispatchEvent(new Event('input')); }")
    assert page.input_value("input[name=crop_x]") == "0.375000"  # zoomed in, still centred
    frame.scroll_into_view_if_needed()
    box = frame.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    # Dragged to the right, the photo shows more of its left side.
    assert 0 < float(page.input_value("input[name=crop_x]")) < 0.375
    assert float(page.input_value("input[name=crop_y]")) == pytest.approx((800 - 187.5) / 1600, abs=1e-6)
    frame.focus()
    for _ in range(60):
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowUp")
    assert page.input_value("input[name=crop_x]") == "0.000000"
    assert page.input_value("input[name=crop_y]") == "0.000000"
    assert page.input_value("input[name=crop_width]") == "0.250000"
    page.screenshot(path=str(ARTIFACTS / f"photo-{language}-2-framed.png"), full_page=True)

    page.get_by_role("button", name=TEXTS[language]["save"]).click()
    expect(page.locator(".flash-success")).to_have_text(TEXTS[language]["saved"])
    expect(page.locator("img.card-face-photo")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / f"photo-{language}-3-card.png"), full_page=True)
    assert_no_page_problems(page, page_problems)

    session.expire_all()
    stored = Image.open(io.BytesIO(session.get(ArtisanPhoto, artisan.id).jpeg))
    red, green, blue = stored.getpixel((40, 40))
    assert red > 200 and green < 60 and blue < 60  # the drawn photo's red top left corner
