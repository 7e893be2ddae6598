"""The public verdict page (/v) works offline once visited: its service worker keeps the page's shell
(never a verdict) and the page keeps the signed trust material, so a card is verified on the phone;
with nothing kept, the page says plainly that it is offline. Screenshots go to tests/artifacts/."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.browser.conftest import PageProblems
from tests.browser.test_verdict_page import qr_url, settled_verdict
from webapp.services.cards.numbers import format_card_number
from webapp.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts" / "verdict-offline"
OFFLINE_TEXTS = {
    "fr": ("Pas de réseau", "Hors ligne, et aucune donnée sur ce téléphone"),
    "ar": ("لا توجد شبكة", "غير متصل بالشبكة، ولا توجد على هذا الهاتف معطيات"),
}
VALID_TITLES = {"fr": "Valide", "ar": "صالحة"}

# What the page's worker and the page kept: the cache's URLs and bodies, the trust record.
KEPT = """async () => {
  const kept = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      kept.push({ cache: name, url: request.url, body: await response.clone().text() });
    }
  }
  const trust = await new Promise((resolve) => {
    const opening = indexedDB.open("carte-verdict-page");
    opening.onsuccess = () => {
      const db = opening.result;
      if (!db.objectStoreNames.contains("trust")) return resolve(null);
      const get = db.transaction("trust").objectStore("trust").get("material");
      get.onsuccess = () => resolve(get.result ? Object.keys(get.result).sort() : null);
      get.onerror = () => resolve(null);
    };
    opening.onerror = () => resolve(null);
  });
  return { kept, trust };
}"""


def visit_online(page: Any, url: str, language: str) -> dict[str, Any]:
    """Open the page online and wait until its worker kept the page and the page kept its trust."""
    page.goto(url)
    settled_verdict(page)
    for _attempt in range(100):  # the worker installs and fetches the page after the first paint
        state = page.evaluate(KEPT)
        if state["trust"] and any(entry["url"].endswith("/v") for entry in state["kept"]):
            return state
        page.wait_for_timeout(100)
    pytest.fail(f"nothing kept for offline use after the online visit ({language})")


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_visited_verdict_page_verifies_offline(
    app: Flask, live_server: str, page: Any, page_problems: PageProblems, make_card: Any, language: str
) -> None:
    """After one online visit, the same page opened offline verifies a card on the phone (valid, the
    holder's name) and says it was checked without network; no verdict is in any cache."""
    first, second = make_card(), make_card()
    state = visit_online(page, f"{qr_url(app, first).replace('/v#', f'/v?lang={language}#')}", language)
    for entry in state["kept"]:
        assert "/api/" not in entry["url"] and "jwks" not in entry["url"], entry["url"]
        assert first.number not in entry["body"] and "Khadija" not in entry["body"], entry["url"]
        if entry["url"].endswith("/v"):
            assert 'data-verdict="' not in entry["body"].split("<template", 1)[0]  # the shell only

    page.goto("about:blank")  # a new load of the page, not a hash change in the online one
    page.context.set_offline(True)
    try:
        page.goto(qr_url(app, second).replace("/v#", f"/v?lang={language}#"))
        section = page.locator("#verdict")
        expect(section).to_have_attribute("data-verdict", "valid")
        expect(section.locator("[data-verdict-title]")).to_have_text(VALID_TITLES[language])
        expect(page.locator('#card-details [data-field="number"]')).to_have_text(format_card_number(second.number))
        expect(page.locator("#offline-note")).to_be_visible()
        assert page.locator("html").get_attribute("lang") == language
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"offline-valid-{language}.png"), full_page=True)
    finally:
        page.context.set_offline(False)
    assert page_problems.page_errors == []


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_offline_without_kept_data_says_it_is_offline(
    app: Flask, live_server: str, page: Any, make_card: Any, language: str
) -> None:
    """Opened offline with the page's shell kept but no trust data on the phone: a clear 'no network'
    verdict in the page's language, not the browser's error page and not 'valid'."""
    card = make_card()
    url = qr_url(app, card).replace("/v#", f"/v?lang={language}#")
    visit_online(page, url, language)
    page.evaluate(
        """() => new Promise((resolve) => {
          const deleting = indexedDB.deleteDatabase("carte-verdict-page");
          deleting.onsuccess = deleting.onerror = deleting.onblocked = () => resolve(true);
        })"""
    )
    page.goto("about:blank")
    page.context.set_offline(True)
    try:
        page.goto(url)
        section = page.locator("#verdict")
        title, message = OFFLINE_TEXTS[language]
        expect(section).to_have_attribute("data-verdict", "offline")
        expect(section.locator("[data-verdict-title]")).to_have_text(title)
        expect(section.locator("[data-verdict-reason]")).to_contain_text(message)
        expect(page.locator("#card-details")).to_be_hidden()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"offline-no-data-{language}.png"), full_page=True)
    finally:
        page.context.set_offline(False)
