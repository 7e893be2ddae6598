"""What the two installable apps (the verifier at /scan/, the artisan's card at /card/) share: their
colours and their web app manifest. Each keeps its own worker and shell files."""

from __future__ import annotations

import json
from typing import Any

from flask import url_for
from werkzeug.wrappers import Response

from webapp.i18n import current_language

THEME_COLOUR = "#0b5c4a"  # --accent in static/css/app.css
BACKGROUND_COLOUR = "#fbf8f3"  # --paper


def manifest_response(app_endpoint: str, icon_folder: str, *, name: str, short_name: str, description: str) -> Response:
    """The app's manifest in the page's language (the page links it with ?lang=): its scope and start
    are the app page; icons from static/icons/<icon_folder>/. Revalidated on every use (no-cache)."""
    language = current_language()

    def icon(file_name: str) -> str:
        return url_for("static", filename=f"icons/{icon_folder}/{file_name}")

    app_page = url_for(app_endpoint)
    document: dict[str, Any] = {
        "id": app_page,
        "name": name,
        "short_name": short_name,
        "description": description,
        "lang": language,
        "dir": "rtl" if language == "ar" else "ltr",
        "start_url": app_page,
        "scope": app_page,
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {"src": icon("icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": icon("icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": icon("maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ],
    }
    response = Response(json.dumps(document, ensure_ascii=False), mimetype="application/manifest+json")
    response.cache_control.no_cache = True
    return response
