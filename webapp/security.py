"""Security headers on every response: a strict CSP with no inline script, and friends."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.settings import current_settings

View = TypeVar("View", bound=Callable[..., Any])

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def content_security_policy(additions: Mapping[str, Iterable[str]]) -> str:
    """The strict policy with a few sources added, for the one page that needs them (a view sets it
    as its response's Content-Security-Policy; every other page keeps the strict one). E.g. a page
    that decodes QR codes with WebAssembly: {"script-src": ["'wasm-unsafe-eval'"]}."""
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    for directive, sources in additions.items():
        added = " ".join(sources)
        directives[directive] = f"{directives[directive]} {added}" if directive in directives else added
    return "; ".join(f"{directive} {sources}" for directive, sources in directives.items())


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    # Same origin only: other sites get no Referer (our URLs may carry ids and search terms; the
    # verify page's token is in the fragment, never sent), and our own forms carry theirs, which
    # CSRF checks over HTTPS (WTF_CSRF_SSL_STRICT): with no-referrer every form post answered 400.
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(self), geolocation=(), microphone=()"),
)


def add_security_headers(response: Response) -> Response:
    """Each header unless the view set its own (a page may widen its CSP). One pass over the
    response's headers rather than a setdefault (a scan) per header: this runs on every response."""
    present = {name.lower() for name, _value in response.headers}  # (name, value) pairs
    response.headers.extend([(name, value) for name, value in SECURITY_HEADERS if name.lower() not in present])
    return response


# Room for a multipart body's boundaries and form fields around an uploaded file.
UPLOAD_OVERHEAD_BYTES = 64 * 1024
UPLOAD_LIMIT_ATTRIBUTE = "upload_limit_setting"


def accepts_upload(limit: str | int) -> Callable[[View], View]:
    """The view takes a file upload up to the size named by a setting, or a fixed number of bytes
    (the app's body limit, MAX_CONTENT_LENGTH, is a few kilobytes: every other request is small)."""

    def decorator(view: View) -> View:
        setattr(view, UPLOAD_LIMIT_ATTRIBUTE, limit)
        return view

    return decorator


def apply_upload_limit() -> None:
    """Before anything reads the body (CSRF reads the form): a view that accepts an upload gets
    its own body limit for this request."""
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, UPLOAD_LIMIT_ATTRIBUTE, None)
    if limit is not None:
        size = int(current_app.config[limit]) if isinstance(limit, str) else limit
        request.max_content_length = size + UPLOAD_OVERHEAD_BYTES


def refuse_oversized_streamed_body() -> None:
    """A chunked body has no Content-Length for Werkzeug to check before reading, and reading it
    stops silently at MAX_CONTENT_LENGTH (a cut body would then be "invalid JSON"). Read it now,
    through the limit and one byte past: over the limit answers 413, exactly as a sized body does.
    The body stays cached for the view (JSON and forms parse from the cache)."""
    if request.content_length is None and "wsgi.input_terminated" in request.environ and request.max_content_length:
        request.get_data(cache=True)
        request.stream.read(1)  # raises RequestEntityTooLarge once the limit is reached


def init_app(app: Flask) -> None:
    app.before_request(apply_upload_limit)
    app.before_request(refuse_oversized_streamed_body)
    app.after_request(add_security_headers)
    proxies = current_settings(app).TRUSTED_PROXY_COUNT
    if proxies:
        # Behind a reverse proxy, the client address (used by the rate limits) is in X-Forwarded-For.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
