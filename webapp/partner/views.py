"""Partner portal views: parse, call a service, render. Every query is scoped to the signed-in
person's organisation (another partner's record answers 404, like a missing one).

A refusal of a service on a form (an invalid rule, a taken email) is shown on the field it names,
with status 422; the request then commits nothing (webapp/db.py commits only below 400).
Secrets (a temporary password, an API key) are shown once, on the answer to the POST that made
them, never stored in the session or in a flash, and that answer is not cached."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from webapp import edit_conflicts, formats
from webapp.access import current_scope, restrict_blueprint, roles_required
from webapp.clock import MOROCCO
from webapp.db import get_session
from webapp.errors import translated_message
from webapp.faults import long_request
from webapp.forms_once import created, replayed
from webapp.i18n import current_language
from webapp.models import PARTNER_ROLES, AuditEvent, Offer, OfferState, QuotaPeriod, Role
from webapp.partner.forms import (
    MAX_JSON_LENGTH,
    ActionForm,
    ApiKeyForm,
    ExampleForm,
    OfferForm,
    RedemptionFilterForm,
    StaffMemberForm,
    VoidRedemptionForm,
)
from webapp.security import accepts_upload
from webapp.services.audit import Actor
from webapp.services.concurrency import EditConflict, last_change, parse_version
from webapp.services.errors import DomainError, ReasonRequired, ReasonTooLong
from webapp.services.partners import offers as offer_service
from webapp.services.partners.api_keys import (
    SCOPE_WORDS,
    ExpiryInThePast,
    NoScope,
    UnknownScope,
    create_api_key,
    get_api_key,
    list_api_keys,
    revoke_api_key,
)
from webapp.services.partners.demo import OFFER_EXAMPLES
from webapp.services.partners.eligibility import count_admitted
from webapp.services.partners.offer_fields import InvalidFieldSpec, readable_values
from webapp.services.partners.offers import MAX_OFFER_ID, InvalidOffer, OfferDraft, OfferNotEditable
from webapp.services.partners.organisations import (
    EmailTaken,
    InvalidStaffMember,
    LastManager,
    add_staff_member,
    get_staff_member,
    list_staff,
    set_staff_enabled,
)
from webapp.services.partners.redemptions import AlreadyVoided, get_redemption
from webapp.services.partners.redemptions import void_redemption as void_redemption_service
from webapp.services.partners.reports import (
    EXPORT_COLUMNS,
    PAGE_SIZE,
    RedemptionFilter,
    count_redemptions,
    export_rows,
    list_redemptions,
    per_region,
    per_week,
    recorded_by_name,
)
from webapp.services.partners.rule_words import describe_conditions, editor_vocabulary
from webapp.services.partners.rules import InvalidRule, moroccan_today
from webapp.services.register.reference_data import REGION_CODES, region_name
from webapp.services.spreadsheets import XLSX_MIME_TYPE, csv_chunks, file_chunks, xlsx_spool

blueprint = Blueprint("partner", __name__, url_prefix="/partner")
restrict_blueprint(blueprint, *PARTNER_ROLES)
manager_only = roles_required(Role.PARTNER_MANAGER)

RECENT = 20
# Ids are SQL integers: a larger number in a URL names nothing (404), and never reaches a query.
MAX_ID = MAX_OFFER_ID
FORM_REFUSED = 422
EDIT_CONFLICT = 409
NO_STORE = {"Cache-Control": "no-store"}
# An offer's form and its rule preview carry the conditions and fields as JSON (each up to
# MAX_JSON_LENGTH characters; a form-encoded Arabic letter takes 6 bytes): far above the app's 8 KB.
OFFER_BODY_LIMIT = 4 * MAX_JSON_LENGTH


def actor() -> Actor:
    return Actor(f"user:{current_user.id}", current_user.id)


def _status(form: Any) -> int:
    """200 for a form shown, 422 for a form sent back with errors."""
    return FORM_REFUSED if request.method == "POST" and form.errors else 200


def _refuse_on(field: Any, error: DomainError) -> None:
    """Show a service's refusal under the field it concerns."""
    field.errors = [*field.errors, translated_message(error)]


@blueprint.get("/")
def home() -> str:
    """Managers: the organisation at a glance; agents: the redemptions they recorded lately."""
    session = get_session()
    mine = RedemptionFilter(recorded_by_user_id=current_user.id)
    context = {
        "recent": list_redemptions(session, current_scope(), mine, limit=RECENT),
        "my_count": count_redemptions(session, current_scope(), mine),
    }
    if current_user.role == Role.PARTNER_MANAGER:
        context["offers"] = offer_service.list_offers(session, current_scope())
        context["total"] = count_redemptions(session, current_scope(), RedemptionFilter())
    return render_template("partner/home.html", **context)


# Offers ---------------------------------------------------------------------------------------


@blueprint.get("/offers")
@manager_only
def offers() -> str:
    return render_template("partner/offers.html", offers=offer_service.list_offers(get_session(), current_scope()))


@blueprint.get(f"/offers/<int(max={MAX_ID}):offer_id>")
@manager_only
def offer(offer_id: int) -> str:
    session = get_session()
    found = offer_service.get_offer(session, offer_id, current_scope())
    deletable = offer_service.can_delete_offer(session, found)
    return render_template("partner/offer.html", offer=found, button_form=ActionForm(), deletable=deletable)


@blueprint.route(f"/offers/<int(max={MAX_ID}):offer_id>/delete", methods=["GET", "POST"])
@manager_only
def delete_offer(offer_id: int) -> Response | tuple[str, int]:
    """Confirm, then delete a draft never submitted and never used (the others are retired)."""
    session = get_session()
    found = offer_service.get_offer(session, offer_id, current_scope())
    form = ActionForm()
    if form.validate_on_submit():
        try:
            offer_service.delete_offer(session, found, actor())
        except offer_service.OfferNotDeletable as error:
            flash(translated_message(error), "error")
            return redirect(url_for("partner.offer", offer_id=offer_id))
        flash(_("The draft %(name)s is deleted.", name=found.name(current_language())), "success")
        return redirect(url_for("partner.offers"))
    deletable = offer_service.can_delete_offer(session, found)
    page = render_template("partner/offer_delete.html", offer=found, button_form=form, deletable=deletable)
    return page, 200 if deletable else 409


def _example_form() -> ExampleForm:
    form = ExampleForm(formdata=request.args)
    language = current_language()
    form.example.choices = [SelectChoice("", _("Choose an example"))] + [
        SelectChoice(kind, example["name"].get(language) or example["name"]["fr"])
        for kind, example in OFFER_EXAMPLES.items()
    ]
    return form


def _example_data(with_texts: bool) -> dict[str, Any]:
    """The form data of the example chosen with ?example=<partner kind> (none if unknown). A draft
    being edited takes only the example's conditions and fields: its texts stay its own."""
    example = OFFER_EXAMPLES.get(request.args.get("example", ""))
    if example is None:
        return {}
    data: dict[str, Any] = {"conditions": example["conditions"], "fields": example["fields"]}
    if with_texts:
        for what in ("name", "benefit"):
            data |= {f"{what}_{language}": text for language, text in example[what].items()}
        count, period = example["quota"] or (None, "")
        data |= {"quota_count": count, "quota_period": period}
    return data


def _offer_data(offer: Offer) -> dict[str, Any]:
    columns = [f"{what}_{language}" for what in ("name", "benefit", "description") for language in ("fr", "ar", "en")]
    data = {column: getattr(offer, column) for column in columns}
    return data | {
        "valid_from": offer.valid_from,
        "valid_until": offer.valid_until,
        "quota_count": offer.quota_count,
        "quota_period": offer.quota_period.value if offer.quota_period else "",
        "conditions": offer.conditions,
        "fields": offer.fields,
    }


def _draft(form: Any, usable_only: bool = False) -> OfferDraft:
    """The draft the form holds. `usable_only`: for a form the form layer refused, only the values
    it accepted (a refused one is neutral), so the service adds the problems of the others."""

    def usable(name: str, neutral: Any) -> Any:
        return neutral if usable_only and form[name].errors else form[name].data

    def texts(what: str) -> dict[str, str]:
        return {language: usable(f"{what}_{language}", "x") or "" for language in ("fr", "ar", "en")}

    quota_count = usable("quota_count", None)
    quota_period = usable("quota_period", "") or None
    if usable_only and (form.quota_count.errors or form.quota_period.errors):
        quota_count, quota_period = None, None  # one problem of the quota is enough
    return OfferDraft(
        name=texts("name"),
        benefit=texts("benefit"),
        description=texts("description"),
        valid_from=usable("valid_from", None),
        valid_until=usable("valid_until", None),
        conditions=usable("conditions", []),
        quota_count=quota_count,
        quota_period=quota_period,
        fields=usable("fields", []),
    )


_TEXT_PLACE = re.compile(r"(name|benefit|description) \((fr|ar|en)\)")


def _offer_error_field(form: Any, error: InvalidOffer | InvalidRule | InvalidFieldSpec) -> Any:
    """The form field a refusal of the offer service names (its `place`)."""
    if isinstance(error, InvalidRule):
        return form.conditions
    if isinstance(error, InvalidFieldSpec):
        return form.fields
    place = str(error.params.get("place", ""))
    if match := _TEXT_PLACE.fullmatch(place):
        return form[f"{match[1]}_{match[2]}"]
    return {"valid_until": form.valid_until, "quota": form.quota_count}.get(place, form.valid_from)


def _show_problems(form: Any, problems: Any) -> None:
    """Every problem under its field (the service gathers them all), each message once."""
    for problem in problems:
        field = _offer_error_field(form, problem)
        message = _offer_problem_text(problem)
        if message not in field.errors:
            field.errors = [*field.errors, message]


def _offer_problem_text(error: DomainError) -> str:
    """A problem as shown under its field: the field's label says where, so an offer's own problem is
    only its words ("the end of the window is before its start"), never its key (`valid_until`)."""
    if isinstance(error, InvalidOffer):
        return _(str(error.params["problem"]))
    return translated_message(error)


def _save_offer(form: Any, save: Any, once: str | None = None) -> Response | None:
    """Validate the form and save the draft with `save(draft)`; a redirect to the offer, or None
    when the form goes back to the manager with its errors. `once`: the create form's name, whose
    one-time token makes a second sending lead to the draft the first created."""
    if not form.validate_on_submit():
        if form.is_submitted():
            _show_problems(form, offer_service.offer_problems(_draft(form, usable_only=True))[0])
        return None
    if once is not None and (replay := replayed(form, once, url_for("partner.offers"))) is not None:
        return replay
    try:
        saved = save(_draft(form))
    except (InvalidOffer, InvalidRule, InvalidFieldSpec) as error:
        _show_problems(form, getattr(error, "problems", (error,)))
        return None
    target = url_for("partner.offer", offer_id=saved.id)
    if once is not None:
        created(form, target)
    flash(_("The draft is saved. Submit it for approval when it is ready."), "success")
    return redirect(target)


def _form_context(form: Any, offer: Offer | None) -> dict[str, Any]:
    """The offer form's page: the form, the examples, and what the condition editor needs (its
    vocabulary, the rule in words as it stands)."""
    conditions = form.conditions.data if isinstance(form.conditions.data, list) else []
    return {
        "form": form,
        "examples": _example_form(),
        "offer": offer,
        "condition_vocabulary": editor_vocabulary(current_language()),
        "rule_words": describe_conditions(conditions, current_language()),
    }


@blueprint.route("/offers/new", methods=["GET", "POST"])
@accepts_upload(OFFER_BODY_LIMIT)
@manager_only
def new_offer() -> Response | tuple[str, int]:
    """A new draft offer, optionally started from an example (?example=lender)."""
    session = get_session()
    data = {"valid_from": moroccan_today()} | _example_data(with_texts=True)
    form = OfferForm(data=data)
    saved = _save_offer(
        form,
        lambda draft: offer_service.create_offer(session, current_user.organisation, draft, actor()),
        once="partner.new_offer",
    )
    if saved is not None:
        return saved
    page = render_template("partner/offer_form.html", **_form_context(form, offer=None))
    return page, _status(form)


@blueprint.route(f"/offers/<int(max={MAX_ID}):offer_id>/edit", methods=["GET", "POST"])
@accepts_upload(OFFER_BODY_LIMIT)
@manager_only
def edit_offer(offer_id: int) -> Response | tuple[str, int]:
    """Rewrite a draft (only a draft can be edited: the service refuses the others). The save names
    the version the form showed: a draft saved meanwhile comes back as a conflict to resolve field
    by field (webapp/edit_conflicts.py), never overwritten."""
    session = get_session()
    found = offer_service.get_offer(session, offer_id, current_scope())
    if found.state != OfferState.DRAFT:
        raise OfferNotEditable()
    shown = _offer_data(found)
    form = OfferForm(
        formdata=edit_conflicts.chosen_formdata(OFFER_FIELDS), data=shown | _example_data(with_texts=False)
    )
    edit_conflicts.show(form, found.version, shown)

    def update(draft: OfferDraft) -> Offer:
        version = edit_conflicts.submitted_version(form)
        return offer_service.update_offer(session, found, draft, actor(), expected_version=version)

    conflict = None
    try:
        saved = _save_offer(form, update)
    except EditConflict:
        session.refresh(found)  # nothing was written: read what was saved meanwhile
        if found.state != OfferState.DRAFT:
            raise OfferNotEditable() from None  # submitted meanwhile: no longer a draft to edit
        conflict = _offer_conflict(session, form, found)
        if conflict.retry:
            # Saved meanwhile without touching a value of this form: save against the new version.
            conflict, saved = None, _save_offer(form, update)
        else:
            saved = None
    if saved is not None:
        return saved
    page = render_template("partner/offer_form.html", **_form_context(form, offer=found), conflict=conflict)
    return page, EDIT_CONFLICT if conflict else _status(form)


# The offer form's fields a conflict compares (the version and CSRF token are not the offer's).
OFFER_FIELDS = (
    *(f"{what}_{language}" for what in ("name", "benefit", "description") for language in ("fr", "ar", "en")),
    "valid_from",
    "valid_until",
    "quota_count",
    "quota_period",
    "conditions",
    "fields",
)


# The rule and the fields are compared as JSON but named as the offer page names them.
JSON_FIELD_TITLES = {"conditions": _l("Who is eligible"), "fields": _l("What a redemption records")}


def _offer_conflict(session: Any, form: OfferForm, found: Offer) -> edit_conflicts.Conflict:
    """The fields of the draft saved meanwhile, against what the manager typed."""
    return edit_conflicts.conflict(
        form,
        version=found.version,
        theirs=_offer_data(found),
        fields=OFFER_FIELDS,
        label=lambda field: (
            str(JSON_FIELD_TITLES.get(field) or form[field].label.text)
            + (f" ({field.rsplit('_', 1)[1]})" if field.rsplit("_", 1)[-1] in ("fr", "ar", "en") else "")
        ),
        display=_conflict_value,
        last_change=last_change(session, AuditEvent.offer_id == found.id, actions=("offer.create", "offer.update")),
    )


def _conflict_value(field: str, value: Any) -> str | list[str]:
    """A value on the conflict page as the manager reads it: the rule in plain words, the
    redemption fields by their labels with type and limits; the choice itself carries the JSON
    (edit_conflicts.chosen_formdata). JSON that does not read as a list is shown as typed."""
    if field not in JSON_FIELD_TITLES:
        return str(value) if value not in ("", None, []) else "—"
    parsed = value
    if isinstance(value, str):
        try:
            parsed = json.loads(value) if value.strip() else []
        except ValueError:
            return value
    if not isinstance(parsed, list):
        return str(value)
    if field == "conditions":
        return rule_in_words(parsed) or [_("Every holder of a valid card.")]
    return [field_in_words(spec) for spec in parsed] or [_("Nothing beyond the card and the time.")]


FIELD_TYPE_WORDS = {
    "number": _l("number"),
    "integer": _l("whole number"),
    "country": _l("country"),
    "text": _l("text"),
    "choice": _l("choice"),
}


def field_in_words(spec: Any) -> str:
    """One redemption field as the offer page names it, with what it takes in words:
    "Poids (nombre, obligatoire, au moins 0,1, au plus 30)"."""
    if not isinstance(spec, dict):
        return json.dumps(spec, ensure_ascii=False)
    label = spec.get("label")
    language = current_language()
    name = (label.get(language) or label.get("fr")) if isinstance(label, dict) else None
    kind = spec.get("type")
    words = [str(FIELD_TYPE_WORDS[kind])] if kind in FIELD_TYPE_WORDS else []
    words.append(_("required") if spec.get("required", True) else _("optional"))
    if kind in ("number", "integer"):
        if isinstance(spec.get("min"), int | float):
            words.append(_("at least %(minimum)s", minimum=format_decimal(spec["min"])))
        if isinstance(spec.get("max"), int | float):
            words.append(_("at most %(maximum)s", maximum=format_decimal(spec["max"])))
    if kind == "text" and isinstance(spec.get("max_length"), int):
        words.append(_("at most %(count)s characters", count=format_decimal(spec["max_length"])))
    if kind == "choice":
        for option in spec.get("options") or []:
            option_label = option.get("label") if isinstance(option, dict) else None
            if isinstance(option_label, dict):
                words.append(option_label.get(language) or option_label.get("fr") or "")
    separator = "، " if language == "ar" else ", "  # the Arabic comma in Arabic
    return f"{name or spec.get('name') or '—'} ({separator.join(word for word in words if word)})"


@blueprint.post(f"/offers/<int(max={MAX_ID}):offer_id>/<any(submit, retire):action>")
@manager_only
def change_offer(offer_id: int, action: str) -> Response:
    """A manager submits a draft for approval, or retires an offer (with a reason). The button names
    the version its page showed: an offer changed since is not submitted unseen."""
    form = ActionForm()
    session = get_session()
    found = offer_service.get_offer(session, offer_id, current_scope())
    if form.validate_on_submit():
        try:
            offer_service.change_offer_state(
                session,
                found,
                action,
                actor(),
                reason=request.form.get("reason"),
                expected_version=parse_version(request.form.get("version")) or 0,
            )
        except EditConflict as error:
            flash(translated_message(error), "error")
            return redirect(url_for("partner.offer", offer_id=offer_id))
        flash(_("The offer is now %(state)s.", state=_(offer_service.STATE_WORDS[found.state])), "success")
    return redirect(url_for("partner.offer", offer_id=offer_id))


def _preview_refusal(error: str, reason: str, message: str) -> tuple[Response, int]:
    return jsonify(error=error, reason=reason, message=message), 400


@blueprint.post("/offers/preview")
@accepts_upload(OFFER_BODY_LIMIT)
@manager_only
def preview_rule() -> tuple[Response, int]:
    """How many card holders a rule being written admits today, and the rule in words (JSON, for
    the offer form's condition editor). Body: {"conditions": [...]}, CSRF token in X-CSRFToken.
    A rule that cannot be saved answers 400 with the checker's reason (docs/offers.md)."""
    if (request.content_length or 0) > MAX_JSON_LENGTH:
        return _preview_refusal("bad_request", "too_large", _("At most %(count)s characters.", count=MAX_JSON_LENGTH))
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "conditions" not in body:
        return _preview_refusal("bad_request", "bad_request", _('Send the conditions as JSON: {"conditions": [...]}.'))
    conditions = body["conditions"]
    try:
        counted = count_admitted(get_session(), conditions)
    except InvalidRule as error:
        return _preview_refusal("invalid_rule", error.reason, translated_message(error))
    language = current_language()
    answer = {
        "admitted": counted.admitted,
        "valid_cards": counted.valid_cards,
        "summary": ngettext(
            "%(count)s card holder of %(total)s is admitted today.",
            "%(count)s card holders of %(total)s are admitted today.",
            counted.admitted,
            count=format_decimal(counted.admitted),
            total=format_decimal(counted.valid_cards),
        ),
        "words": describe_conditions(conditions, language),
    }
    return jsonify(answer), 200


# Redemptions ----------------------------------------------------------------------------------


def _filter_form() -> RedemptionFilterForm:
    """The filters from the query string, with this organisation's offers and the 12 regions."""
    language = current_language()
    form = RedemptionFilterForm(formdata=request.args)
    offers = offer_service.list_offers(get_session(), current_scope())
    form.offer.choices = [SelectChoice("", _("All offers"))] + [
        SelectChoice(str(offer.id), offer.name(language)) for offer in offers
    ]
    form.region.choices = [SelectChoice("", _("All regions"))] + [
        SelectChoice(code, region_name(code, language) or code) for code in sorted(REGION_CODES)
    ]
    return form


def _chosen(form: RedemptionFilterForm) -> RedemptionFilter:
    return RedemptionFilter(
        offer_id=int(form.offer.data) if form.offer.data else None,
        region_code=form.region.data or None,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        over_quota={"yes": True, "no": False}.get(form.over_quota.data or ""),
    )


def _filter_args(form: RedemptionFilterForm) -> dict[str, str]:
    """The chosen filters as query arguments (for the "Older" link and the exports)."""
    args = {
        "offer": form.offer.data,
        "region": form.region.data,
        "date_from": form.date_from.data.isoformat() if form.date_from.data else "",
        "date_to": form.date_to.data.isoformat() if form.date_to.data else "",
        "over_quota": form.over_quota.data,
    }
    return {name: value for name, value in args.items() if value}


@blueprint.get("/redemptions")
@manager_only
def redemptions() -> tuple[str, int]:
    """Filtered redemptions (newest first, keyset pages), their count, and two charts."""
    session, scope, language = get_session(), current_scope(), current_language()
    form = _filter_form()
    context: dict[str, Any] = {"form": form, "filter_args": {}, "recent": [], "next_url": None}
    if not form.validate():
        return render_template("partner/redemptions.html", **context), FORM_REFUSED
    chosen = _chosen(form)
    page = list_redemptions(session, scope, chosen, before_id=form.before.data, limit=PAGE_SIZE + 1)
    filter_args = _filter_args(form)
    if len(page) > PAGE_SIZE:
        page = page[:PAGE_SIZE]
        context["next_url"] = url_for("partner.redemptions", **filter_args, before=page[-1].id)
    context |= {
        "recent": page,
        "filter_args": filter_args,
        "total": count_redemptions(session, scope, chosen),
        "weeks": [
            (formats.day(monday), count) for monday, count in per_week(session, scope, chosen, today=moroccan_today())
        ],
        "regions": [(region_name(code, language) or code, count) for code, count in per_region(session, scope, chosen)],
    }
    return render_template("partner/redemptions.html", **context), 200


@blueprint.route(f"/redemptions/<int(max={MAX_ID}):redemption_id>/void", methods=["GET", "POST"])
@manager_only
def void_redemption(redemption_id: int) -> Response | tuple[str, int]:
    """Confirm, then void a redemption recorded by mistake, with a reason (another partner's: 404)."""
    session = get_session()
    found = get_redemption(session, redemption_id, current_scope())
    form = VoidRedemptionForm()
    if form.validate_on_submit():
        try:
            void_redemption_service(session, found, current_user.id, form.reason.data, actor())
        except AlreadyVoided as error:
            flash(translated_message(error), "error")
            return redirect(url_for("partner.redemptions"))
        except (ReasonRequired, ReasonTooLong) as error:
            _refuse_on(form.reason, error)
        else:
            flash(_("The redemption is voided; the card has its quota back."), "success")
            return redirect(url_for("partner.redemptions"))
    return render_template("partner/redemption_void.html", redemption=found, form=form), _status(form)


EXPORT_HEADERS = {
    "id": _l("Number"),
    "made_at": _l("Made at"),
    "recorded_at": _l("Recorded at"),
    "offer": _l("Offer"),
    "card": _l("Card"),
    "holder": _l("Holder"),
    "region": _l("Region"),
    "region_code": _l("Region code"),
    "fields": _l("Details"),
    "over_quota": _l("Over quota"),
    "offline": _l("Made offline"),
    "recorded_by": _l("Recorded by"),
    "voided_at": _l("Voided at"),
    "void_reason": _l("Reason for voiding"),
}


def _export(extension: str) -> tuple[Iterator[list[Any]], list[str], str]:
    """The rows (cells neutralised by the service), translated headers and file name of an export
    with the filters of the query string; bad filters answer 400."""
    form = _filter_form()
    if not form.validate():
        abort(400)
    rows = export_rows(get_session(), current_scope(), _chosen(form), current_language())
    headers = [str(EXPORT_HEADERS[column]) for column in EXPORT_COLUMNS]
    filename = f"redemptions-{current_user.organisation.slug}-{moroccan_today().isoformat()}.{extension}"
    return rows, headers, filename


def _cell(value: Any) -> Any:
    """A cell as people read it: yes/no rather than True/False."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value


@blueprint.get("/redemptions.csv")
@long_request  # REQUEST_LONG_DEADLINE_SECONDS: a whole region's rows, or a large upload
@manager_only
def redemptions_csv() -> Response:
    """The filtered redemptions as CSV, written row by row as the database pages come."""
    rows, headers, filename = _export("csv")

    session = get_session()

    def lines() -> Iterator[str]:
        try:
            yield from csv_chunks(headers, ([_cell(value) for value in row] for row in rows), rows_per_chunk=1)
        finally:
            # The request's teardown closed its session when the view returned; the rows are read
            # after that, in a transaction of their own that only this generator can end.
            session.close()

    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE},
    )


@blueprint.get("/redemptions.xlsx")
@long_request  # REQUEST_LONG_DEADLINE_SECONDS: a whole region's rows, or a large upload
@manager_only
def redemptions_xlsx() -> Response:
    """The filtered redemptions as an Excel workbook, built in a spooled temporary file (openpyxl's
    write-only mode keeps no row in memory) and sent from there in chunks."""
    rows, headers, filename = _export("xlsx")
    spool = xlsx_spool(headers, ([_cell(value) for value in row] for row in rows), _("Redemptions"))
    return Response(
        file_chunks(spool),
        mimetype=XLSX_MIME_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE},
    )


# Staff ----------------------------------------------------------------------------------------


@blueprint.get("/staff")
@manager_only
def staff() -> str:
    people = list_staff(get_session(), current_user.organisation_id)
    return render_template("partner/staff.html", people=people, button_form=ActionForm())


@blueprint.route("/staff/new", methods=["GET", "POST"])
@manager_only
def new_staff_member() -> Response | tuple[str, int]:
    """Add a manager or a counter agent; the temporary password is shown once, on the answer."""
    form = StaffMemberForm()
    if form.validate_on_submit():
        if (replay := replayed(form, "partner.new_staff_member", url_for("partner.staff"))) is not None:
            return replay
        try:
            account = add_staff_member(
                get_session(),
                current_user.organisation,
                email=form.email.data,
                display_name=form.display_name.data,
                role=Role(form.role.data),
                actor=actor(),
            )
        except EmailTaken as error:
            _refuse_on(form.email, error)
        except InvalidStaffMember as error:
            place = {"email": form.email, "name": form.display_name, "role": form.role}
            _refuse_on(place.get(error.params["place"], form.email), error)
        else:
            created(form, url_for("partner.staff"))
            page = render_template("partner/staff_created.html", account=account)
            return make_response(page, 200, NO_STORE)
    return render_template("partner/staff_form.html", form=form), _status(form)


@blueprint.post(f"/staff/<int(max={MAX_ID}):user_id>/<any(enable, disable):action>")
@manager_only
def change_staff_member(user_id: int, action: str) -> Response:
    """Disable an account (the person can no longer sign in) or enable it again."""
    form = ActionForm()
    session = get_session()
    person = get_staff_member(session, user_id, current_scope())
    if form.validate_on_submit():
        try:
            set_staff_enabled(session, person, action == "enable", actor())
        except LastManager as error:
            flash(translated_message(error), "error")
        else:
            if person.is_enabled:
                flash(_("%(name)s can sign in again.", name=person.display_name), "success")
            else:
                flash(_("%(name)s can no longer sign in.", name=person.display_name), "success")
    return redirect(url_for("partner.staff"))


# API keys -------------------------------------------------------------------------------------


@blueprint.get("/api-keys")
@manager_only
def api_keys() -> str:
    keys = list_api_keys(get_session(), current_scope())
    return render_template("partner/api_keys.html", keys=keys)


@blueprint.route("/api-keys/new", methods=["GET", "POST"])
@manager_only
def new_api_key() -> Response | tuple[str, int]:
    """A key for one of the organisation's systems; the key is shown once, on the answer."""
    form = ApiKeyForm()
    if form.validate_on_submit():
        if (replay := replayed(form, "partner.new_api_key", url_for("partner.api_keys"))) is not None:
            return replay
        # A key expiring "on" a day works through that whole day in Morocco.
        expires_at = (
            datetime.combine(form.expires_on.data + timedelta(days=1), time.min, MOROCCO)
            if form.expires_on.data
            else None
        )
        try:
            new_key = create_api_key(
                get_session(),
                current_user.organisation,
                form.label.data,
                actor(),
                scopes=form.scopes.data,
                expires_at=expires_at,
            )
        except ReasonRequired as error:
            _refuse_on(form.label, error)
        except (UnknownScope, NoScope) as error:
            _refuse_on(form.scopes, error)
        except ExpiryInThePast as error:
            _refuse_on(form.expires_on, error)
        else:
            created(form, url_for("partner.api_keys"))
            page = render_template("partner/api_key_created.html", new_key=new_key)
            return make_response(page, 200, NO_STORE)
    return render_template("partner/api_key_form.html", form=form), _status(form)


@blueprint.route("/api-keys/<prefix>/revoke", methods=["GET", "POST"])
@manager_only
def revoke_key(prefix: str) -> Response | str:
    """Confirm, then revoke a key of the organisation at once (another's answers 404)."""
    session = get_session()
    api_key = get_api_key(session, prefix, current_scope())
    form = ActionForm()
    if form.validate_on_submit():
        revoke_api_key(session, prefix, actor(), current_scope())
        flash(_("The key %(prefix)s is revoked: systems using it are refused from now on.", prefix=prefix), "success")
        return redirect(url_for("partner.api_keys"))
    return render_template("partner/api_key_revoke.html", api_key=api_key, button_form=form)


@blueprint.app_context_processor
def offer_vocabulary() -> dict[str, object]:
    """Words of the offers' vocabulary for every template (portal and administration)."""
    return {
        "state_words": offer_service.STATE_WORDS,
        "quota_text": quota_text,
        "redemption_details": redemption_details,
        "recorded_by_name": recorded_by_name,
        "scope_words": scope_words,
        "region_name_of": region_name_of,
        "rule_in_words": rule_in_words,
    }


def region_name_of(code: str) -> str:
    """A region's name in the reader's language (its code if it names none)."""
    return region_name(code, current_language()) or code


def scope_words(scopes: str) -> str:
    """An API key's scopes ("eligibility redeem verify") as people read them, in their language."""
    return ", ".join(_(SCOPE_WORDS[code]) if code in SCOPE_WORDS else code for code in scopes.split())


def redemption_details(redemption: Any) -> list[tuple[str, str]]:
    """A redemption's values by their labels, formatted for the reader's language."""
    return readable_values(redemption.offer.fields, redemption.fields, current_language())


def rule_in_words(conditions: Any) -> list[str]:
    """An offer's rule in plain words in the reader's language, one sentence per condition."""
    return describe_conditions(conditions, current_language())


def quota_text(offer: Offer) -> str:
    """ "20 redemptions a month", in the reader's language."""
    count, period = offer.quota_count or 0, offer.quota_period
    if period == QuotaPeriod.DAY:
        return ngettext("%(num)s redemption a day", "%(num)s redemptions a day", count)
    if period == QuotaPeriod.MONTH:
        return ngettext("%(num)s redemption a month", "%(num)s redemptions a month", count)
    return ngettext("%(num)s redemption a year", "%(num)s redemptions a year", count)
