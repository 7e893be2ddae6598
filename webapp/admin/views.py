"""Administration views: parse, call a service, render. National administrators only; they see
every partner (national scope) and run the chambers' staff accounts. A refused operation is shown
in the reader's language on the page it came from, with status 422, and nothing is written (the
request commits only below 400)."""

from __future__ import annotations

import json
from collections import defaultdict

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from webapp.access import current_actor, restrict_blueprint
from webapp.admin.forms import NewPartnerForm, StaffAccountForm, WithdrawalForm
from webapp.db import get_session
from webapp.errors import translated_message
from webapp.forms_once import created as once_created
from webapp.forms_once import replayed
from webapp.i18n import current_language
from webapp.models import Offer, OfferState, OfferWithdrawal, Role, User, utcnow
from webapp.partner.forms import ActionForm
from webapp.services.accounts import staff as staff_accounts
from webapp.services.accounts.new_accounts import NewAccount
from webapp.services.accounts.sign_in import is_locked
from webapp.services.cards.lifecycle import CardNotFound, get_card, state_of
from webapp.services.concurrency import EditConflict, parse_version
from webapp.services.errors import N_, DomainError, ReasonRequired, ReasonTooLong
from webapp.services.partners import administration
from webapp.services.partners import offers as offer_service
from webapp.services.partners.api_keys import list_api_keys
from webapp.services.partners.organisations import (
    EmailTaken,
    InvalidOrganisation,
    InvalidStaffMember,
    get_organisation,
    list_staff,
)
from webapp.services.register.reference_data import REGIONS, region_name
from webapp.services.scope import Scope

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
restrict_blueprint(blueprint, Role.ADMIN)

DEFAULT_QUEUE = OfferState.SUBMITTED
# What each administrator's action is called on its button, and whether its form asks why.
ACTION_LABELS = {
    "approve": N_("Approve"),
    "send_back": N_("Send back to draft"),
    "pause": N_("Pause"),
    "resume": N_("Resume"),
    "retire": N_("Retire"),
}
ACTION_KINDS = {"approve": "primary", "resume": "primary", "retire": "danger"}
# Each decision is a form of its own: what it does, and for those that need one, a reason field
# labelled with the question it answers (the partner reads the answer).
ACTION_HELP = {
    "approve": N_("Card holders who meet its conditions can use it from its start date."),
    "send_back": N_("The partner's manager can edit it again and submit it anew."),
    "pause": N_("Card holders can no longer use it until it is resumed."),
    "resume": N_("Card holders can use it again."),
    "retire": N_("Over for good: it can be neither used nor resumed."),
}
REASON_LABELS = {
    "send_back": N_("Why send it back? Say what to change"),
    "pause": N_("Why pause it?"),
    "retire": N_("Why retire it?"),
}
# Submitting is the partner's step: the administration decides on what is submitted.
ADMIN_DECISIONS = frozenset(ACTION_LABELS) & offer_service.ADMIN_ACTIONS
# The offer's trail in words (other actions are shown by their code).
TRAIL_WORDS = {
    "offer.create": N_("created"),
    "offer.update": N_("edited"),
    "offer.submit": N_("submitted for approval"),
    "offer.approve": N_("approved"),
    "offer.send_back": N_("sent back to draft"),
    "offer.pause": N_("paused"),
    "offer.resume": N_("resumed"),
    "offer.retire": N_("retired"),
    "offer.withdraw_from_card": N_("withdrawn from a card"),
    "offer.lift_withdrawal": N_("given back to a card"),
    "offer.delete": N_("draft deleted"),
    "redemption.void": N_("a redemption voided"),
}


@blueprint.get("/")
def home() -> str:
    """The figures an administrator starts from, each a link to its list."""
    return render_template("admin/home.html", overview=administration.overview(get_session()))


# Types of the fields a redemption records, in words.
FIELD_TYPES = {
    "number": N_("number"),
    "integer": N_("whole number"),
    "country": N_("country"),
    "text": N_("text"),
    "choice": N_("choice"),
}


def pretty_json(value: object) -> str:
    """JSON for people to read (a condition's JsonLogic): indented, Arabic left as it is."""
    return json.dumps(value, ensure_ascii=False, indent=2)


@blueprint.context_processor
def administration_vocabulary() -> dict[str, object]:
    return {"pretty_json": pretty_json, "field_types": FIELD_TYPES}


# Partners


@blueprint.get("/partners")
def partners() -> str:
    return render_template("admin/partners.html", partners=administration.partner_summaries(get_session()))


def _kind_choices() -> list[tuple[str, str]]:
    language = current_language()
    return [(kind.code, getattr(kind, f"name_{language}")) for kind in administration.partner_kinds(get_session())]


# Which form field a refusal of the partner services is about.
_PARTNER_FIELDS = {
    (InvalidOrganisation, "slug"): "slug",
    (InvalidOrganisation, "name"): "name",
    (InvalidOrganisation, "kind"): "kind",
    (InvalidStaffMember, "email"): "manager_email",
    (InvalidStaffMember, "name"): "manager_name",
}


@blueprint.route("/partners/new", methods=["GET", "POST"])
def new_partner() -> Response | tuple[str, int]:
    """Create an organisation and its first manager; the manager's temporary password is shown once."""
    form = NewPartnerForm()
    form.kind.choices = _kind_choices()
    if not form.validate_on_submit():
        return render_template("admin/new_partner.html", form=form), 422 if form.is_submitted() else 200
    if (replay := replayed(form, "admin.new_partner", url_for("admin.partners"))) is not None:
        return replay
    try:
        created = administration.create_partner(
            get_session(),
            slug=form.slug.data or "",
            name=form.name.data or "",
            kind_code=form.kind.data or "",
            manager_email=form.manager_email.data or "",
            manager_name=form.manager_name.data or "",
            actor=current_actor(),
        )
    except DomainError as error:
        place = _PARTNER_FIELDS.get((type(error), error.params.get("place", "")))
        if isinstance(error, EmailTaken):
            place = "manager_email"
        target = form[place].errors if place else form.form_errors
        target.append(translated_message(error))
        return render_template("admin/new_partner.html", form=form), 422
    once_created(form, url_for("admin.partner", slug=created.organisation.slug))
    # Rendered, not redirected: the password exists only in this answer (never stored in clear),
    # and no cache keeps it.
    response = make_response(render_template("admin/partner_created.html", created=created))
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/partners/<slug>")
def partner(slug: str) -> str:
    """A partner's staff, offers and API keys (prefixes and states only: secrets are never stored)."""
    session = get_session()
    organisation = get_organisation(session, slug)
    own = Scope(organisation_id=organisation.id)
    return render_template(
        "admin/partner.html",
        organisation=organisation,
        people=list_staff(session, organisation.id),
        offers=offer_service.list_offers(session, own),
        keys=list_api_keys(session, own),
        now=utcnow(),
    )


# Offers


@blueprint.get("/offers")
def offers() -> str:
    """The offers in one state, newest first (by default those waiting for approval)."""
    requested = request.args.get("state", DEFAULT_QUEUE.value)
    if requested not in {state.value for state in OfferState}:
        abort(400)
    state = OfferState(requested)
    found = offer_service.list_offers(get_session(), state=state)
    return render_template("admin/offers.html", offers=found, state=state, states=list(OfferState))


def _offer_page(offer: Offer, refusal: str | None = None, refused_action: str | None = None) -> str:
    session = get_session()
    trail = [event for event in administration.offer_trail(session, offer.id) if event.action.startswith("offer.")]
    return render_template(
        "admin/offer.html",
        offer=offer,
        actions=offer_service.available_actions(offer.state, ADMIN_DECISIONS),
        reason_required=offer_service.REASON_REQUIRED,
        action_labels=ACTION_LABELS,
        action_kinds=ACTION_KINDS,
        action_help=ACTION_HELP,
        reason_labels=REASON_LABELS,
        refused_action=refused_action,
        button_form=ActionForm(),
        trail=trail,
        trail_words=TRAIL_WORDS,
        people=administration.people_by_label(session, {event.actor for event in trail}),
        refusal=refusal,
    )


@blueprint.get("/offers/<int:offer_id>")
def offer(offer_id: int) -> str:
    return _offer_page(offer_service.get_offer(get_session(), offer_id))


@blueprint.post("/offers/<int:offer_id>/<any(approve, send_back, pause, resume, retire):action>")
def change_offer(offer_id: int, action: str) -> Response | tuple[str, int]:
    """Approve, send back, pause, resume or retire an offer (send back, pause and retire say why)."""
    session = get_session()
    found = offer_service.get_offer(session, offer_id)
    reason = (request.form.get("reason") or "").strip() or None
    try:
        offer_service.change_offer_state(
            session,
            found,
            action,
            current_actor(),
            reason=reason,
            # The version the page showed: an offer changed since is not decided on unseen.
            expected_version=parse_version(request.form.get("version")) or 0,
        )
    except EditConflict as error:
        session.refresh(found)  # nothing was written: show the offer as it now stands, to decide again
        return _offer_page(found, refusal=translated_message(error)), error.http_status
    except (ReasonRequired, ReasonTooLong) as error:  # shown under that decision's reason field
        return _offer_page(found, refusal=translated_message(error), refused_action=action), 422
    except DomainError as error:
        return _offer_page(found, refusal=translated_message(error)), 422
    flash(_("The offer is now %(state)s.", state=_(offer_service.STATE_WORDS[found.state])), "success")
    return redirect(url_for("admin.offer", offer_id=offer_id))


# Withdrawals of one offer from one card


def _offer_choices() -> dict[str, list[tuple[int, str]]]:
    """Approved offers grouped by partner (an optgroup each), partners by name."""
    language = current_language()
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    approved = offer_service.list_offers(get_session(), state=OfferState.APPROVED)
    for found in sorted(approved, key=lambda offer: (offer.organisation.name, offer.name(language))):
        groups[found.organisation.name].append((found.id, found.name(language)))
    return dict(groups)


def _withdrawals_page(form: WithdrawalForm, refusal: str | None = None) -> str:
    session = get_session()
    in_force = administration.withdrawals_in_force(session)
    return render_template(
        "admin/withdrawals.html",
        form=form,
        withdrawals=in_force,
        people=administration.people_by_label(session, {withdrawal.withdrawn_by for withdrawal in in_force}),
        button_form=ActionForm(),
        refusal=refusal,
    )


@blueprint.get("/withdrawals")
def withdrawals() -> str:
    form = WithdrawalForm()
    form.offer.choices = _offer_choices()
    return _withdrawals_page(form)


@blueprint.post("/withdrawals")
def withdraw() -> Response | tuple[str, int]:
    """Withdraw one approved offer from one card (typed as printed); the card itself is not changed."""
    session = get_session()
    form = WithdrawalForm()
    form.offer.choices = _offer_choices()
    if not form.validate_on_submit():
        return _withdrawals_page(form), 422
    if (replay := replayed(form, "admin.withdraw", url_for("admin.withdrawals"))) is not None:
        return replay
    try:
        card = get_card(session, form.card.data or "")
        found = offer_service.get_offer(session, form.offer.data)
        withdrawal = offer_service.withdraw_offer_from_card(
            session, found, card, form.reason.data or "", current_actor()
        )
    except CardNotFound as error:
        form.card.errors.append(translated_message(error))
        return _withdrawals_page(form), 422
    except ReasonRequired as error:
        form.reason.errors.append(translated_message(error))
        return _withdrawals_page(form), 422
    except DomainError as error:
        return _withdrawals_page(form, refusal=translated_message(error)), 422
    target = url_for("admin.withdrawal", withdrawal_id=withdrawal.id)
    once_created(form, target)
    return redirect(target)


@blueprint.get("/withdrawals/<int:withdrawal_id>")
def withdrawal(withdrawal_id: int) -> str:
    """One withdrawal: whose card, which offer, why, by whom; given back or still in force."""
    session = get_session()
    found: OfferWithdrawal = administration.get_withdrawal(session, withdrawal_id)
    return render_template(
        "admin/withdrawal.html",
        withdrawal=found,
        # What the withdrawal leaves of the card: valid, or suspended, revoked, expired on its own.
        card_state=state_of(found.card.status, found.card.expires_at, utcnow()),
        people=administration.people_by_label(session, {found.withdrawn_by}),
        button_form=ActionForm(),
    )


@blueprint.post("/withdrawals/<int:withdrawal_id>/lift")
def lift(withdrawal_id: int) -> Response | tuple[str, int]:
    """Give the offer back to the card."""
    session = get_session()
    found = administration.get_withdrawal(session, withdrawal_id)
    try:
        offer_service.lift_withdrawal(session, found.offer, found.card, current_actor())
    except DomainError as error:
        form = WithdrawalForm(formdata=None)
        form.offer.choices = _offer_choices()
        return _withdrawals_page(form, refusal=translated_message(error)), 422
    flash(_("The offer is given back to card %(number)s.", number=found.card.number), "success")
    return redirect(url_for("admin.withdrawals"))


# Staff accounts: registry officers and national administrators

# What happened to an account, in words (the audit trail's actions and sign-in failure reasons).
ACCOUNT_EVENT_WORDS = {
    "auth.sign_in": N_("signed in"),
    "auth.sign_in_failed": N_("sign-in refused"),
    "auth.account_locked": N_("locked after repeated failures"),
    "auth.sign_out": N_("signed out"),
    "auth.password_change": N_("chose a new password"),
    "account.create": N_("account created"),
    "account.disable": N_("account disabled"),
    "account.enable": N_("account enabled again"),
    "account.reset_password": N_("password reset"),
    "staff.create": N_("account created"),
    "staff.disable": N_("account disabled"),
    "staff.enable": N_("account enabled again"),
}
SIGN_IN_FAILURE_WORDS = {
    "wrong_password": N_("wrong password"),
    "disabled": N_("account disabled"),
    "account_locked": N_("while locked"),
    "client_locked": N_("connection locked"),
}
ROLE_WORDS = {Role.OFFICER: N_("Registry officer"), Role.ADMIN: N_("National administrator")}


def _region_choices() -> list[tuple[str, str]]:
    language = current_language()
    return [("", "—"), *((code, region_name(code, language) or code) for code, *_names in REGIONS)]


def _no_store(page: str) -> Response:
    """A page that shows a temporary password: rendered once, kept by no cache."""
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.context_processor
def staff_vocabulary() -> dict[str, object]:
    return {"role_words": ROLE_WORDS, "is_locked": is_locked}


@blueprint.get("/staff")
def staff() -> str:
    """Administrators and officers: role, region, whether they can sign in, their last sign-in."""
    return render_template("admin/staff.html", accounts=staff_accounts.list_staff_accounts(get_session()), now=utcnow())


# Which form field a refusal of the staff service is about.
_STAFF_FIELDS = {"email": "email", "name": "display_name", "role": "role", "region": "region"}


@blueprint.route("/staff/new", methods=["GET", "POST"])
def new_staff_account() -> Response | tuple[str, int]:
    """Create an officer or an administrator; the temporary password is shown once, on the answer."""
    form = StaffAccountForm()
    form.region.choices = _region_choices()
    if form.validate_on_submit():
        if (replay := replayed(form, "admin.new_staff_account", url_for("admin.staff"))) is not None:
            return replay
        try:
            created = staff_accounts.create_staff_account(
                get_session(),
                email=form.email.data or "",
                display_name=form.display_name.data or "",
                role=form.role.data or "",
                region_code=form.region.data or None,
                actor=current_actor(),
            )
        except EmailTaken as error:
            form.email.errors.append(translated_message(error))
        except staff_accounts.InvalidStaffAccount as error:
            form[_STAFF_FIELDS.get(error.params["place"], "email")].errors.append(translated_message(error))
        else:
            once_created(form, url_for("admin.staff_account", account_id=created.user.id))
            return _no_store(render_template("admin/staff_password.html", account=created, created=True))
    return render_template("admin/staff_form.html", form=form), 422 if form.is_submitted() else 200


def _staff_account_page(account: User, refusal: str | None = None) -> str:
    session = get_session()
    events = staff_accounts.account_events(session, account)
    return render_template(
        "admin/staff_account.html",
        account=account,
        events=events,
        people=administration.people_by_label(session, {event.actor for event in events}),
        event_words=ACCOUNT_EVENT_WORDS,
        failure_words=SIGN_IN_FAILURE_WORDS,
        button_form=ActionForm(),
        refusal=refusal,
        now=utcnow(),
    )


@blueprint.get("/staff/<int:account_id>")
def staff_account(account_id: int) -> str:
    """One account: who, its state, its actions, and its latest sign-ins and changes."""
    return _staff_account_page(staff_accounts.get_staff_account(get_session(), account_id))


@blueprint.post("/staff/<int:account_id>/<any(disable, enable):action>")
def change_staff_account(account_id: int, action: str) -> Response | tuple[str, int]:
    """Disable an account (its sessions end at once) or enable it again."""
    session = get_session()
    account = staff_accounts.get_staff_account(session, account_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        staff_accounts.set_account_enabled(session, account, action == "enable", current_actor())
    except DomainError as error:
        return _staff_account_page(account, refusal=translated_message(error)), 422
    if account.is_enabled:
        flash(_("%(name)s can sign in again.", name=account.display_name), "success")
    else:
        flash(_("%(name)s can no longer sign in.", name=account.display_name), "success")
    return redirect(url_for("admin.staff_account", account_id=account_id))


@blueprint.post("/staff/<int:account_id>/reset-password")
def reset_staff_password(account_id: int) -> Response | tuple[str, int]:
    """A new temporary password, shown once; the account's sessions end and a lock opens."""
    session = get_session()
    account = staff_accounts.get_staff_account(session, account_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        reset: NewAccount = staff_accounts.reset_password(session, account, current_actor())
    except DomainError as error:
        return _staff_account_page(account, refusal=translated_message(error)), 422
    return _no_store(render_template("admin/staff_password.html", account=reset, created=False))
