"""The register screens: the artisans of an officer's region (every region for administrators),
each artisan's page (record, card in force with its preview, card history, audit trail), the
create and edit forms, and the card actions, each confirmed on a page of its own that says exactly
what will happen.

Views parse, call a service and render. Another region's artisan answers 404 (services/scope.py).
A refusal is shown on the page it came from, on the field it names, with status 422: the request
then commits nothing (webapp/db.py commits only below 400), so nothing is ever half-written."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from webapp import edit_conflicts, formats
from webapp.access import current_actor, current_scope
from webapp.backoffice import activation as backoffice_activation
from webapp.backoffice.register_forms import (
    CARD_STATE_WORDS,
    CNSS_WORDS,
    FIELD_LABELS,
    GENDER_WORDS,
    LEGAL_STATUS_WORDS,
    REPLACEMENT_CHOICES,
    REVOCATION_CHOICES,
    REVOCATION_WORDS,
    ArtisanFilterForm,
    ArtisanForm,
    CardActionForm,
    artisan_form_data,
)
from webapp.backoffice.views import blueprint
from webapp.db import get_session
from webapp.errors import translated_message
from webapp.forms_once import created as once_created
from webapp.forms_once import replayed
from webapp.i18n import current_language
from webapp.keyring import current_keyring
from webapp.models import (
    Artisan,
    AuditEvent,
    Card,
    CardStatus,
    Region,
    RevocationReason,
    SupportProgramme,
    Trade,
    utcnow,
)
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards import requests as card_requests
from webapp.services.cards.numbers import format_card_number
from webapp.services.cards.qr import card_qr_svg
from webapp.services.cards.tokens import qr_text
from webapp.services.concurrency import EditConflict, last_change
from webapp.services.errors import DomainError, ReasonRequired, ReasonTooLong
from webapp.services.partners.rules import moroccan_today
from webapp.services.printing.batches import print_history
from webapp.services.printing.card_faces import card_face_for, render_cards_pdf
from webapp.services.register import artisans as register
from webapp.services.register import photos, search
from webapp.services.register.artisan_fields import (
    FIELDS,
    InvalidArtisan,
    clean_artisan_record,
    reference_codes,
)
from webapp.services.register.duplicates import LikelyDuplicate
from webapp.services.register.provinces import province_choices, province_of_region
from webapp.services.scope import RecordNotFound, Scope
from webapp.settings import current_settings

FORM_REFUSED = 422
EDIT_CONFLICT = 409
ARTISAN = f"/artisans/<int(max={register.MAX_ID}):artisan_id>"
CARD = ARTISAN + "/cards/<string(length=10):number>"
CARD_ACTIONS = tuple(card_service.ACTIONS_FROM)
# A private cache may keep a card's QR image; its URL names the token's version, so a renewed
# card's page asks for a new image.
QR_CACHE_SECONDS = 86_400

# What the audit trail says each action was.
ACTION_WORDS = {
    "artisan.create": _l("Registered in the register"),
    "artisan.update": _l("Record changed"),
    "artisan.photo_set": _l("Photo added or replaced"),
    "artisan.photo_remove": _l("Photo removed"),
    "card.issue": _l("Card issued"),
    "card.suspend": _l("Card suspended"),
    "card.reinstate": _l("Card reinstated"),
    "card.revoke": _l("Card revoked"),
    "card.renew": _l("Card renewed"),
    "card.reissue": _l("Card re-signed with a new key"),
    "offer.withdraw_from_card": _l("An offer withdrawn from the card"),
    "offer.lift_withdrawal": _l("An offer given back to the card"),
    "card.request": _l("A request from the holder"),
    "card.request_take": _l("The holder's request taken by an officer"),
    "card.request_close": _l("The holder's request closed"),
    "card.activation_code_issue": _l("Activation code issued"),
    "card.reprint": _l("Put in a print batch again (a reprint: nothing revoked)"),
    "card.activation_code_use": _l("Card activated on a phone"),
    "card.activation_failed": _l("Failed activation attempt"),
    "card.activation_locked": _l("Activation paused after failed attempts"),
}
# What is out of date on a card whose holder's record changed.
OUT_OF_DATE_WORDS = {"name": _l("the Latin name"), "trade": _l("the trade"), "region": _l("the region")}


def _name(row: Region | Trade | SupportProgramme) -> str:
    return str(getattr(row, f"name_{current_language()}"))


def _regions(session: Session, scope: Scope) -> list[SelectChoice]:
    regions = session.scalars(scope.filter_region(select(Region).order_by(Region.code), Region.code))
    return [SelectChoice(region.code, _name(region)) for region in regions]


def _trades(session: Session) -> list[SelectChoice]:
    """Trades in the alphabetical order of the reader's language."""
    names = sorted((_name(trade), trade.code) for trade in session.scalars(select(Trade)))
    return [SelectChoice(code, name) for name, code in names]


def _programmes(session: Session) -> list[SelectChoice]:
    programmes = session.scalars(select(SupportProgramme).order_by(SupportProgramme.code))
    return [SelectChoice(programme.code, _name(programme)) for programme in programmes]


def display_value(session: Session, field: str, value: Any) -> str:
    """A register value of the audit trail as the reader reads it (names, not codes)."""
    if value is None or value == "" or value == []:
        return "—"
    words = {"gender": GENDER_WORDS, "legal_status": LEGAL_STATUS_WORDS, "cnss_status": CNSS_WORDS}.get(field)
    if words is not None:
        return str(words.get(value, value))
    model = {"region_code": Region, "trade_code": Trade}.get(field)
    if model is not None:
        row = session.get(model, value)
        return _name(row) if row is not None else str(value)
    if field == "programmes":
        rows = [session.get(SupportProgramme, code) for code in value]
        return ", ".join(_name(row) if row is not None else code for row, code in zip(rows, value, strict=True))
    if field == "birth_date":
        return formats.day(datetime.fromisoformat(value).date())
    return str(value)


def _card_reason(reason: str | None) -> str:
    """A card's stored reason in the reader's language: a revocation's code ("lost: note") in
    words, the replacement's note translated; an officer's own words as they wrote them."""
    if not reason:
        return ""
    if reason in card_service.SUSPENSION_WORDS:
        return _(card_service.SUSPENSION_WORDS[reason])
    code, _colon, note = reason.partition(": ")
    if code in REVOCATION_WORDS:
        note = _("replaced by a new card") if note == card_service.REPLACEMENT_NOTE else note
        return f"{REVOCATION_WORDS[code]}: {formats.isolate(note)}" if note else str(REVOCATION_WORDS[code])
    return reason


def _changes(session: Session, event: AuditEvent) -> list[tuple[str, str, str]]:
    """(field, before, after) of a change to the record, in the reader's language."""
    if event.action != "artisan.update" or not event.after:
        return []
    before = event.before or {}
    return [
        (
            str(FIELD_LABELS.get(field, field)),
            display_value(session, field, before.get(field)),
            display_value(session, field, value),
        )
        for field, value in event.after.items()
    ]


@blueprint.context_processor
def register_vocabulary() -> dict[str, object]:
    return {
        "card_state_words": CARD_STATE_WORDS,
        "gender_words": GENDER_WORDS,
        "legal_status_words": LEGAL_STATUS_WORDS,
        "cnss_words": CNSS_WORDS,
        "action_words": ACTION_WORDS,
        "card_reason": _card_reason,
        "card_state": card_service.card_state,
        "place_name": _name,
        "format_number": format_number,
    }


# The list -------------------------------------------------------------------------------------


def filter_form(session: Session, scope: Scope, formdata: Any = None) -> ArtisanFilterForm:
    """The list's search and filters from the query string, or from `formdata` (the export form
    posts them)."""
    form = ArtisanFilterForm(formdata=request.args if formdata is None else formdata)
    form.region.choices = [SelectChoice("", _("All regions")), *_regions(session, scope)]
    form.trade.choices = [SelectChoice("", _("All trades")), *_trades(session)]
    form.programme.choices = [SelectChoice("", _("All programmes")), *_programmes(session)]
    return form


FILTER_NAMES = ("q", "region", "trade", "card", "cnss", "gender", "programme")


def chosen_query(form: ArtisanFilterForm) -> tuple[dict[str, str], register.ArtisanQuery]:
    """The filters chosen in a validated form (as query arguments) and the query they make."""
    filters = {name: form[name].data.strip() for name in FILTER_NAMES if (form[name].data or "").strip()}
    return filters, register.ArtisanQuery.from_filters(filters)


@blueprint.get("/artisans")
def artisans() -> tuple[str, int]:
    """Search and filter the register, newest first, one keyset page at a time."""
    session, scope = get_session(), current_scope()
    form = filter_form(session, scope)
    context: dict[str, Any] = {
        "form": form,
        "rows": [],
        "card_states": {},
        "total": None,
        "next_url": None,
        "show_region": scope.region_code is None,
    }
    if not form.validate():
        return render_template("backoffice/register/artisans.html", **context), FORM_REFUSED
    filters, query = chosen_query(form)
    try:
        page = search.search_artisans(session, scope, query, after=form.after.data or None, limit=register.PAGE_SIZE)
    except (search.InvalidCursor, search.InvalidSearchFilter) as error:
        context["refusal"] = translated_message(error)
        context["first_page_url"] = url_for("backoffice.artisans", **filters)
        return render_template("backoffice/register/artisans.html", **context), 400
    # The page's artisans, in the search's order (one look-up by id), each with its latest card's state.
    by_id = {artisan.id: artisan for artisan in register.artisans_by_id(session, [row.id for row in page.rows])}
    total = search.count_artisans(session, scope, query)
    context |= {
        "rows": [by_id[row.id] for row in page.rows if row.id in by_id],
        "card_states": {row.id: row.card_state for row in page.rows},
        "total": total,
        "total_capped": total >= search.COUNT_CAP,
        "next_url": url_for("backoffice.artisans", **filters, after=page.next_cursor) if page.next_cursor else None,
        "first_page_url": url_for("backoffice.artisans", **filters) if form.after.data else None,
        "filters": filters,
    }
    return render_template("backoffice/register/artisans.html", **context), 200


# One artisan ----------------------------------------------------------------------------------


def _card_in_force(cards: list[Card]) -> Card | None:
    return next((card for card in cards if card.status != CardStatus.REVOKED), None)


def _token_version(card: Card) -> str:
    return hashlib.sha256(card.token.encode("ascii")).hexdigest()[:16]


@blueprint.get(ARTISAN)
def artisan(artisan_id: int) -> str:
    """An artisan's record, their card in force (preview, actions), every card and the trail."""
    session = get_session()
    found = register.get_artisan(session, artisan_id, current_scope())
    cards = register.artisan_cards(session, found)
    card = _card_in_force(cards)
    photo = photos.photo_of(session, found.id)  # shown on the card face (backoffice/photos.py)
    context: dict[str, Any] = {"artisan": found, "cards": cards, "card": card, "photo": photo}
    if card is not None:
        context |= {
            "state": card_service.card_state(card),
            "actions": card_service.allowed_actions(card),
            "out_of_date": [OUT_OF_DATE_WORDS[detail] for detail in card_service.out_of_date_details(card)],
            "qr_url": url_for("backoffice.card_qr", artisan_id=found.id, number=card.number, v=_token_version(card)),
            "verify_url": qr_text(current_settings().PUBLIC_BASE_URL, card.token),
        }
    context["pending_requests"] = card_requests.pending_requests_of(session, found.id)
    context["print_history"] = print_history(session, found.id)  # backoffice/print_batches.py
    trail = register.artisan_trail(session, found)
    context["trail"] = [(entry, _changes(session, entry.event)) for entry in trail]
    return render_template("backoffice/register/artisan.html", **context)


def _card_of(session: Session, artisan: Artisan, number: str) -> Card:
    """The artisan's card with this number; another's, or none, is not found."""
    card = session.scalar(select(Card).where(Card.number == number, Card.artisan_id == artisan.id))
    if card is None:
        raise RecordNotFound()
    return card


@blueprint.get(CARD + "/qr.svg")
def card_qr(artisan_id: int, number: str) -> Response:
    """The QR code of an artisan's card in force, as printed (SVG), privately cacheable."""
    session = get_session()
    card = _card_of(session, register.get_artisan(session, artisan_id, current_scope()), number)
    if card.status == CardStatus.REVOKED:
        raise RecordNotFound()  # a revoked card's code is never shown again
    response = make_response(card_qr_svg(current_settings().PUBLIC_BASE_URL, card.token))
    response.mimetype = "image/svg+xml"
    response.set_etag(_token_version(card))
    response.headers["Cache-Control"] = f"private, max-age={QR_CACHE_SECONDS}"
    return response.make_conditional(request)


@blueprint.get(CARD + "/card.pdf")
def card_pdf(artisan_id: int, number: str) -> Response:
    """The card, print-ready (front and back, ID-1 with bleed), for a card a verifier accepts today.
    One card renders in the request (~20 ms); batches are jobs. A download changes nothing: no audit."""
    session = get_session()
    card = _card_of(session, register.get_artisan(session, artisan_id, current_scope()), number)
    card_service.require_valid_today(card)
    buffer = io.BytesIO()
    render_cards_pdf([card_face_for(session, card, public_base_url=current_settings().PUBLIC_BASE_URL)], buffer)
    response = make_response(buffer.getvalue())
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="card-{card.number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# Create and edit ------------------------------------------------------------------------------


def _artisan_form(
    session: Session,
    scope: Scope,
    data: dict[str, Any] | None = None,
    kept_province: str | None = None,
    formdata: Any = None,
) -> ArtisanForm:
    form = ArtisanForm(formdata=formdata, data=data) if formdata is not None else ArtisanForm(data=data)
    regions = _regions(session, scope)
    # An officer's only region is chosen already; an administrator chooses.
    form.region_code.choices = regions if scope.region_code else [SelectChoice("", _("Choose")), *regions]
    form.trade_code.choices = [SelectChoice("", _("Choose")), *_trades(session)]
    form.programmes.choices = _programmes(session)
    by_region = province_choices(current_language())
    groups: dict[str | None, list[SelectChoice]] = {}
    if kept_province:
        # A province typed before the list existed stays choosable until it is changed.
        groups[_("As recorded")] = [SelectChoice(kept_province, kept_province)]
    for choice in regions:
        groups[str(choice.label)] = [SelectChoice(value, label) for value, label in by_region.get(choice.value, [])]
    form.province.choices = {None: [SelectChoice("", _("Choose"))], **groups}
    form.province.render_kw = {
        "data-provinces": json.dumps(by_region, ensure_ascii=False),
        "data-region-field": "region_code",
    }
    return form


def _save(
    form: ArtisanForm,
    save: Callable[[Any, list[int] | None], Any],
    kept_place: tuple[str, str] | None = None,
    once: bool = False,
) -> Any | None:
    """Read the form through the register's field rules and save; None when the form goes back
    with every problem on its field, or with the likely duplicates to confirm (form.duplicates).
    `once`: a create form, whose one-time token makes a second sending lead to the artisan the
    first registered (a Response then)."""
    form.duplicates = []  # type: ignore[attr-defined]
    if not form.validate_on_submit():
        return None
    if once and (replay := replayed(form, "backoffice.new_artisan", url_for("backoffice.artisans"))) is not None:
        return replay
    session = get_session()
    try:
        record = clean_artisan_record(
            form.raw_record(), reference_codes(session), moroccan_today(), kept_place=kept_place
        )
        return save(record, form.confirmed_duplicates())
    except LikelyDuplicate as duplicate:
        form.duplicates = duplicate.candidates  # type: ignore[attr-defined]
        form.duplicates_shown.data = ",".join(str(artisan_id) for artisan_id in duplicate.ids)
        form.confirm_duplicates.data = False
        return None
    except InvalidArtisan as error:
        for field, problem in error.problems.items():
            message = translated_message(problem)
            if field in form:
                form[field].errors = [*form[field].errors, message]
            else:  # the RNA number, given by the system: said above the form
                form.form_errors.append(message)
        return None


def _form_page(
    form: ArtisanForm, artisan: Artisan | None, conflict: edit_conflicts.Conflict | None = None
) -> tuple[str, int]:
    status = (EDIT_CONFLICT if conflict else FORM_REFUSED) if request.method == "POST" else 200
    page = render_template("backoffice/register/artisan_form.html", form=form, artisan=artisan, conflict=conflict)
    return page, status


@blueprint.route("/artisans/new", methods=["GET", "POST"])
def new_artisan() -> Response | tuple[str, int]:
    """Register an artisan (an officer: in their own region)."""
    session, scope = get_session(), current_scope()
    form = _artisan_form(session, scope, {"region_code": scope.region_code or ""})
    created = _save(
        form,
        lambda record, confirmed: register.create_artisan(
            session, record, scope, current_actor(), confirmed_duplicates=confirmed
        ),
        once=True,
    )
    if created is None:
        return _form_page(form, None)
    if isinstance(created, Response):  # the same form sent again: to the artisan it registered
        return created
    target = url_for("backoffice.artisan", artisan_id=created.id)
    once_created(form, target)
    flash(_("%(name)s is registered.", name=formats.isolate(created.name_latin)), "success")
    return redirect(target)


@blueprint.route(ARTISAN + "/edit", methods=["GET", "POST"])
def edit_artisan(artisan_id: int) -> Response | tuple[str, int]:
    """Correct an artisan's record; a change of what the card carries is flagged on their page.
    The save names the version the form showed: a record saved meanwhile by someone else comes
    back as a conflict to resolve field by field (webapp/edit_conflicts.py), never overwritten."""
    session, scope = get_session(), current_scope()
    found = register.get_artisan(session, artisan_id, scope)
    kept = None if province_of_region(found.region_code, found.province) else found.province
    shown = artisan_form_data(found)
    form = _artisan_form(session, scope, shown, kept, edit_conflicts.chosen_formdata(FIELDS))
    edit_conflicts.show(form, found.version, shown)
    kept_place = (found.region_code, found.province)

    def update(record: Any, confirmed: list[int] | None) -> Any:
        version = edit_conflicts.submitted_version(form)
        return register.update_artisan(
            session,
            found.id,
            record,
            scope,
            current_actor(),
            confirmed_duplicates=confirmed,
            expected_version=version,
        )

    try:
        change = _save(form, update, kept_place=kept_place)
    except EditConflict:
        session.refresh(found)  # nothing was written: read what was saved meanwhile
        conflict = _artisan_conflict(session, form, found)
        if not conflict.retry:
            return _form_page(form, found, conflict=conflict)
        # Saved meanwhile without touching a value of this form: save against the new version.
        change = _save(form, update, kept_place=kept_place)
    if change is None:
        return _form_page(form, found)
    flash(_("The record is saved.") if change.changed else _("Nothing changed."), "success")
    return redirect(url_for("backoffice.artisan", artisan_id=found.id))


def _artisan_conflict(session: Session, form: ArtisanForm, found: Artisan) -> edit_conflicts.Conflict:
    """The fields saved meanwhile on the artisan, against what the officer typed."""

    def display(field: str, value: Any) -> str:
        try:
            return display_value(session, field, value)
        except ValueError:  # a date typed wrong: shown as typed
            return str(value)

    return edit_conflicts.conflict(
        form,
        version=found.version,
        theirs=artisan_form_data(found),
        fields=tuple(field for field in FIELDS if field in form),  # the RNA number is the system's
        label=lambda field: str(FIELD_LABELS.get(field, field)),
        display=display,
        last_change=last_change(
            session, AuditEvent.artisan_id == found.id, actions=("artisan.update", "register.import")
        ),
    )


# Card actions ---------------------------------------------------------------------------------


class _FieldRefusal(Exception):
    """A refusal to show on one field of the confirmation form."""

    def __init__(self, field: Any, message: str) -> None:
        self.field, self.message = field, message


def _validity_years() -> int:
    return int(current_settings().CARD_VALIDITY_YEARS)


def _new_expiry() -> datetime:
    return card_service.default_expiry(utcnow(), _validity_years())


def _chosen_reason(field: Any, allowed: list[RevocationReason]) -> RevocationReason:
    if field.data not in {reason.value for reason in allowed}:
        raise _FieldRefusal(field, _("Choose a reason."))
    return RevocationReason(field.data)


def _change_card(session: Session, card: Card, action: str, form: CardActionForm) -> str:
    """Apply the confirmed action; the sentence that says it was done."""
    actor, number = current_actor(), formats.isolate(format_card_number(card.number))
    note = (form.reason.data or "").strip() or None
    if action == "suspend":
        card_service.suspend_card(session, card, form.reason.data or "", actor)
        return _("Card %(number)s is suspended.", number=number)
    if action == "reinstate":
        card_service.reinstate_card(session, card, actor, note)
        return _("Card %(number)s is valid again.", number=number)
    if action == "revoke":
        reason = _chosen_reason(form.revocation_reason, REVOCATION_CHOICES)
        card_service.revoke_card(session, card, reason, actor, note=note)
        return _("Card %(number)s is revoked.", number=number)
    signer = current_keyring().require_signer()
    if action == "renew":
        card_service.renew_card(session, card, signer, actor, validity_years=_validity_years())
        return _(
            "Card %(number)s is renewed until %(date)s: print its new QR code.",
            number=number,
            date=formats.day(card.expires_at),
        )
    reason = _chosen_reason(form.replacement_reason, REPLACEMENT_CHOICES)
    new_card = card_service.replace_card(session, card, signer, actor, validity_years=_validity_years(), reason=reason)
    return _(
        "Card %(old)s is revoked and replaced by card %(new)s.",
        old=number,
        new=formats.isolate(format_card_number(new_card.number)),
    )


def _confirm(form: CardActionForm, run: Callable[[], str], artisan: Artisan) -> tuple[Response | None, str | None]:
    """Run a confirmed card change; a redirect to the artisan's page, or the refusal to show (on a
    field of the form, or as a message: the second value)."""
    if not form.validate_on_submit():
        return None, None
    try:
        done = run()
    except RecordNotFound:
        raise
    except (_FieldRefusal, DomainError) as error:
        if isinstance(error, DomainError) and error.http_status >= 500:
            raise  # not the officer's input: the service cannot (a signing key's file missing), a 503 page
        # Undo now what a refused change did before its refusal (a replacement's revocation), so the
        # page shows the card as it stays; the request would be rolled back anyway (status 422).
        get_session().rollback()
        return None, _show_refusal(form, error)
    flash(done, "success")
    return redirect(url_for("backoffice.artisan", artisan_id=artisan.id)), None


def _show_refusal(form: CardActionForm, error: Exception) -> str | None:
    """Put a refusal on the field it concerns; the message to show above the form otherwise."""
    if isinstance(error, _FieldRefusal):
        error.field.errors = [*error.field.errors, error.message]
    elif isinstance(error, (ReasonRequired, ReasonTooLong)):
        form.reason.errors = [*form.reason.errors, translated_message(error)]
    elif isinstance(error, card_service.NotAReplacementReason):
        form.replacement_reason.errors = [*form.replacement_reason.errors, translated_message(error)]
    elif isinstance(error, DomainError):
        return translated_message(error)
    return None


def _confirm_page(**context: Any) -> tuple[str, int]:
    form = context["form"]
    refused = request.method == "POST" and (context.get("refusal") or form.errors)
    return render_template("backoffice/register/card_action.html", **context), FORM_REFUSED if refused else 200


@blueprint.route(CARD + f"/<any({', '.join(CARD_ACTIONS)}):action>", methods=["GET", "POST"])
def card_action(artisan_id: int, number: str, action: str) -> Response | tuple[str, int]:
    """Suspend, reinstate, revoke, renew or replace an artisan's card, once confirmed."""
    session = get_session()
    found = register.get_artisan(session, artisan_id, current_scope())
    card = _card_of(session, found, number)
    form = CardActionForm()
    issued: dict[str, Any] = {}

    def change() -> str:
        done = _change_card(session, card, action, form)
        if action == "replace" and card.replaced_by is not None:
            # The new card's activation code, shown once on the answer (the old card's codes died with it).
            issued["card"] = card.replaced_by
            issued["code"] = backoffice_activation.issue_code(session, card.replaced_by)
        return done

    done, refusal = _confirm(form, change, found)
    if done is not None:
        if issued:
            return backoffice_activation.code_page(found, issued["card"], *issued["code"], new_card=True)
        return done
    if refusal is None and action not in card_service.allowed_actions(card):
        refusal = translated_message(card_service.IllegalTransition(card, action))
    return _confirm_page(
        form=form,
        artisan=found,
        card=card,
        action=action,
        refusal=refusal,
        can_confirm=action in card_service.allowed_actions(card),
        new_expiry=_new_expiry(),
    )


@blueprint.route(ARTISAN + "/cards/issue", methods=["GET", "POST"])
def issue_card(artisan_id: int) -> Response | tuple[str, int]:
    """Issue a card to an artisan who has none in force (after a revocation for cause, only with a
    reason for overriding it)."""
    session = get_session()
    found = register.get_artisan(session, artisan_id, current_scope())
    barred = card_service.last_revocation_for_cause(session, found.id)
    form = CardActionForm()
    issued: dict[str, Any] = {}

    def issue() -> str:
        card = card_service.issue_card(
            session,
            found,
            current_keyring().require_signer(),
            current_actor(),
            validity_years=_validity_years(),
            override_reason=(form.reason.data or "") if barred else None,
        )
        # Its activation code, shown once on the answer to this confirmation.
        issued["card"], issued["code"] = card, backoffice_activation.issue_code(session, card)
        return _("Card %(number)s is issued.", number=formats.isolate(format_card_number(card.number)))

    done, refusal = _confirm(form, issue, found)
    if done is not None:
        return backoffice_activation.code_page(found, issued["card"], *issued["code"], new_card=True)
    in_force = _card_in_force(register.artisan_cards(session, found))
    if refusal is None and in_force is not None:
        refusal = translated_message(card_service.ArtisanAlreadyHasCard(found, in_force.number))
    return _confirm_page(
        form=form,
        artisan=found,
        card=None,
        action="issue",
        refusal=refusal,
        can_confirm=in_force is None,
        barred=barred,
        barred_reason=REVOCATION_WORDS[barred[1].value] if barred else None,
        new_expiry=_new_expiry(),
    )
