"""The vendored QR decoder in a real browser: the barcode-detector ponyfill reads a card's QR code
(a PNG written by the app's `cards qr-image` command) with its .wasm served by our own server, and
no request leaves our origin."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response
from flask.testing import FlaskCliRunner

from tests.browser.conftest import PageProblems
from webapp.access import public
from webapp.security import content_security_policy
from webapp.services.cards.tokens import qr_text
from webapp.settings import PROJECT_ROOT

DECODER_PAGE = "/_test/decoder"
# The same page with the CDN allowed by its CSP, so that a CDN request reaches the network (and the guard).
OPEN_DECODER_PAGE = "/_test/decoder-cdn-allowed"
CARD_PNG = "/_test/card.png"
WASM_PATH = "/static/vendor/zxing-wasm/zxing_reader.wasm"
CDN_WASM = "https://fastly.jsdelivr.net/npm/zxing-wasm@"
MANIFEST = PROJECT_ROOT / "static" / "vendor" / "manifest.json"

# Import the shared module, force the ponyfill (Linux Chromium has no native BarcodeDetector, but
# the test must not depend on that), and decode the PNG as the upload fallback would: as a Blob.
DECODE_WITH_OUR_MODULE = """async (pngUrl) => {
  const { createQrDetector, ZXING_WASM_URL } = await import("/static/js/lib/qr-decoder.js");
  const detector = await createQrDetector({ native: false });
  const png = await (await fetch(pngUrl)).blob();
  const codes = await detector.detect(png);
  return { texts: codes.map((code) => code.rawValue), wasmUrl: ZXING_WASM_URL };
}"""

# The ponyfill as npm ships it, without our locateFile override.
DECODE_WITHOUT_OVERRIDE = """async (pngUrl) => {
  const { BarcodeDetector } = await import("/static/vendor/barcode-detector/ponyfill.js");
  const png = await (await fetch(pngUrl)).blob();
  try {
    return (await new BarcodeDetector({ formats: ["qr_code"] }).detect(png)).map((code) => code.rawValue);
  } catch (error) {
    return String(error);
  }
}"""


@pytest.fixture
def card_qr(app: Flask, runner: FlaskCliRunner, make_card: Any, tmp_path: Path) -> str:
    """A card's QR code written as a PNG by the CLI, served with a page that may run WebAssembly
    (the CSP the verifier's scanning page will have); returns the QR code's text."""
    card = make_card()
    png = tmp_path / "card.png"
    result = runner.invoke(args=["cards", "qr-image", card.number, "--output", str(png)])
    assert result.exit_code == 0, result.output

    def page_with(additions: dict[str, list[str]]) -> Response:
        response = Response("<!doctype html><title>decoder</title><p>QR decoder test page</p>", mimetype="text/html")
        response.headers["Content-Security-Policy"] = content_security_policy(additions)
        return response

    @public
    def decoder_page() -> Response:
        return page_with({"script-src": ["'wasm-unsafe-eval'"]})

    @public
    def open_decoder_page() -> Response:
        return page_with({"script-src": ["'wasm-unsafe-eval'"], "connect-src": ["https://fastly.jsdelivr.net"]})

    @public
    def card_png() -> Response:
        return Response(png.read_bytes(), mimetype="image/png")

    app.add_url_rule(DECODER_PAGE, "test_decoder_page", decoder_page)
    app.add_url_rule(OPEN_DECODER_PAGE, "test_open_decoder_page", open_decoder_page)
    app.add_url_rule(CARD_PNG, "test_card_png", card_png)
    return qr_text(app.config["PUBLIC_BASE_URL"], card.token)


def manifest_sha256(path: str) -> str:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    files = [file for entry in manifest["packages"].values() for file in entry["files"]]
    return next(file["sha256"] for file in files if f"/static/vendor/{file['path']}" == path)


def test_the_ponyfill_decodes_a_card_with_the_wasm_from_our_server(
    live_server: str, page: Any, page_problems: PageProblems, foreign_requests: list[str], card_qr: str
) -> None:
    """The card's QR text is read back; the wasm is fetched from /static/vendor (200, application/wasm,
    the manifest's bytes) and no request goes to another origin (a CDN request would be aborted)."""
    wasm_responses: list[Any] = []
    page.on("response", lambda response: wasm_responses.append(response) if response.url.endswith(".wasm") else None)
    page.goto(f"{live_server}{DECODER_PAGE}")

    result = page.evaluate(DECODE_WITH_OUR_MODULE, CARD_PNG)

    assert result == {"texts": [card_qr], "wasmUrl": f"{live_server}{WASM_PATH}"}
    assert foreign_requests == []
    assert [response.url for response in wasm_responses] == [f"{live_server}{WASM_PATH}"]
    wasm = wasm_responses[0]
    assert wasm.status == 200 and wasm.headers["content-type"] == "application/wasm"
    assert hashlib.sha256(wasm.body()).hexdigest() == manifest_sha256(WASM_PATH)
    assert page.evaluate("window.__cspViolations") == []
    assert page_problems.page_errors == [] and page_problems.console_errors == []


@pytest.mark.parametrize("path", [DECODER_PAGE, OPEN_DECODER_PAGE], ids=["strict-csp", "cdn-allowed-by-csp"])
def test_without_our_override_the_ponyfill_reaches_for_a_cdn_and_is_stopped(
    live_server: str, page: Any, foreign_requests: list[str], card_qr: str, path: str
) -> None:
    """The control: the ponyfill as npm ships it asks a CDN for its wasm and decodes nothing. Our CSP
    refuses the request; where a page's CSP would let it through, the origin guard aborts it. So the
    test above did decode with our copy, and would have failed had the wasm come from elsewhere."""
    page.goto(f"{live_server}{path}")

    result = page.evaluate(DECODE_WITHOUT_OVERRIDE, CARD_PNG)

    assert result != [card_qr] and "NotSupportedError" in result
    if path == DECODER_PAGE:
        violations = page.evaluate("window.__cspViolations")
        assert any(CDN_WASM in violation for violation in violations), violations
    else:
        assert any(url.startswith(CDN_WASM) for url in foreign_requests), foreign_requests
