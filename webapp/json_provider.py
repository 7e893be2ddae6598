"""The app's JSON: Flask's own provider, except that JSON nested too deep for Python's parser is
refused like any other text that is not JSON.

`json.loads` raises RecursionError (not ValueError) past about a thousand nested arrays or objects:
4 KB of "[" is enough. Werkzeug's `get_json(silent=True)` and its 400 for bad JSON catch only
ValueError, so without this every JSON endpoint answered such a body with a 500. Every parse of a
request body goes through `app.json` (request.get_json, flask.json.loads), so this one place covers
them all.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider


class NestedTooDeep(ValueError):
    """JSON whose nesting is deeper than Python's parser can follow."""


class JSONProvider(DefaultJSONProvider):
    """Flask's default JSON, with too-deep nesting a ValueError (400 or `None` with `silent`)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise NestedTooDeep("JSON nested too deep") from None


def init_app(app: Flask) -> None:
    app.json = JSONProvider(app)
