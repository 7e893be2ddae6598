"""Errors answered in one place: JSON with a reason code for machine clients (the API and the
trust endpoints), a page elsewhere; HTTP errors and the services' refusals (DomainError) alike."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from flask import Flask, current_app, has_request_context, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from webapp.formats import isolate
from webapp.i18n import current_language
from webapp.services.errors import DomainError
from webapp.services.register.reference_data import region_name

# Reason codes and messages for the HTTP errors the product can answer.
ERROR_CODES = {
    400: "bad_request",
    401: "login_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "rate_limited",
    500: "server_error",
    503: "service_unavailable",
}


def error_message(status: int) -> str:
    messages = {
        400: _("The request could not be processed. Please check it and try again."),
        401: _("Please sign in first."),
        403: _("You do not have access to this page."),
        404: _("This page does not exist."),
        405: _("This action is not allowed here."),
        413: _("The request is too large."),
        429: _("Too many requests. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Please try again."),
        503: _("The service is temporarily unavailable. Please try again in a few moments."),
    }
    return messages.get(status, messages[500])


# Paths read by programs, not people: they get JSON errors.
MACHINE_PATH_PREFIXES = ("/api/", "/.well-known/", "/statuslists/", "/offers/", "/card/api/")


def wants_json() -> bool:
    return request.path.startswith(MACHINE_PATH_PREFIXES)


# Placeholders of the services' sentences that hold a region's code ("03"): people read the
# region's name in their language instead (an unknown code stays as it is). Stored sentences
# (an import's problems) keep the code; it becomes a name only when shown.
REGION_PARAMS = frozenset({"region", "number_region", "other_region"})


def filled(message: str, params: Mapping[str, Any], translated: Collection[str] = (), *, isolated: bool = True) -> str:
    """A service's sentence in the reader's language with its values put in: vocabulary words
    (`translated`) translated, region codes named; for people (`isolated`) each value from the
    data is isolated (FSI ... PDI) so a Latin name, code or e-mail in an Arabic sentence keeps its
    place and its parentheses ("... (amina@example.ma)"). Programs get the plain values."""
    language = current_language()
    values: dict[str, Any] = {}
    for name, value in params.items():
        if name in translated and isinstance(value, str):
            values[name] = _(value)
            continue
        if name in REGION_PARAMS and isinstance(value, str):
            value = region_name(value, language) or value
        # A placeholder formatted as a number (%(count)d) takes the number itself.
        values[name] = isolate(str(value)) if isolated and f"%({name})s" in message else value
    return _(message, **values)


def translated_message(error: DomainError, *, isolated: bool | None = None) -> str:
    """The refusal's message in the user's language, its vocabulary placeholders translated too;
    its values isolated on pages for people, plain in the JSON answers of programs (`wants_json`)."""
    if isolated is None:
        isolated = not (has_request_context() and wants_json())
    return filled(error.message, error.params, error.translated_params, isolated=isolated)


def handle_domain_error(error: DomainError) -> tuple[Response | str, int]:
    """A refused operation reaches the user as a clear answer with its reason code."""
    message = translated_message(error)
    if wants_json():
        # `reason` is what the verify API has always sent; `message` is the same text under the
        # name the partner API documents.
        answer = {"error": error.code, "reason": message, "message": message}
        response = jsonify(answer | error.details(current_language(), _))
    else:
        response = make_response(render_template("errors/error.html", status=error.http_status, message=message))
    response.headers.update(error.headers())
    return response, error.http_status


def handle_http_error(error: HTTPException) -> tuple[Response | str, int]:
    status = error.code or 500
    if status not in ERROR_CODES:
        status = 500
    if wants_json():
        message = error_message(status)
        response = jsonify(error=ERROR_CODES[status], reason=message, message=message)
        # Headers the error itself carries (Retry-After on 429, Allow on 405) stay on the answer.
        response.headers.extend((name, value) for name, value in error.get_headers() if name.lower() != "content-type")
        return response, status
    return render_template("errors/error.html", status=status, message=error_message(status)), status


def handle_unexpected_error(error: Exception) -> tuple[Response | str, int]:
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError(original_exception=error))


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected_error)
