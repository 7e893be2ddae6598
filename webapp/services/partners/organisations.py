"""Partner organisations and their people: national administrators create an organisation and its
first manager; managers add and disable their staff (managers and counter agents).

A new account gets a temporary password, shown once to whoever created it and handed to the
person; every change is audited with the organisation it concerns.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.models import PARTNER_ROLES, Organisation, PartnerKind, Role, User
from webapp.services.accounts.new_accounts import EmailTaken, NewAccount, is_email_address, normalise_email
from webapp.services.accounts.passwords import temporary_password
from webapp.services.audit import Actor, record_event
from webapp.services.errors import N_, DomainError
from webapp.services.scope import NATIONAL, RecordNotFound, Scope

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,38}[a-z0-9]")  # 2 to 40, no hyphen at either end


class InvalidOrganisation(DomainError):
    code = "invalid_organisation"
    http_status = 422
    message = N_("Partner organisation: %(place)s: %(problem)s")
    translated_params = ("problem",)

    def __init__(self, place: str, problem: str) -> None:
        super().__init__(place=place, problem=problem)


class OrganisationTaken(DomainError):
    code = "organisation_taken"
    http_status = 409
    message = N_("An organisation with this short name or name already exists.")


class InvalidStaffMember(DomainError):
    code = "invalid_staff_member"
    http_status = 422
    message = N_("Staff member: %(place)s: %(problem)s")
    translated_params = ("problem",)

    def __init__(self, place: str, problem: str) -> None:
        super().__init__(place=place, problem=problem)


class LastManager(DomainError):
    code = "last_manager"
    http_status = 409
    message = N_("This is the organisation's last active manager: add another manager first.")


def create_organisation(session: Session, *, slug: str, name: str, kind_code: str, actor: Actor) -> Organisation:
    """A new partner organisation, audited."""
    slug, name = slug.strip().lower(), " ".join(name.split())
    if not _SLUG.fullmatch(slug):
        raise InvalidOrganisation("slug", N_("2 to 40 lower-case letters, digits and hyphens"))
    if not 2 <= len(name) <= 120:
        raise InvalidOrganisation("name", N_("2 to 120 characters"))
    if session.get(PartnerKind, kind_code) is None:
        raise InvalidOrganisation("kind", N_("unknown partner kind"))
    organisation = Organisation(slug=slug, name=name, kind_code=kind_code)
    try:
        # Added inside the savepoint, so a refusal takes it out of the session again (the caller
        # can go on using the session, e.g. to show the form again).
        with session.begin_nested():
            session.add(organisation)
            session.flush()
    except IntegrityError:
        raise OrganisationTaken() from None
    record_event(
        session,
        actor,
        "organisation.create",
        organisation_id=organisation.id,
        after={"slug": slug, "name": name, "kind": kind_code},
    )
    return organisation


def add_staff_member(
    session: Session, organisation: Organisation, *, email: str, display_name: str, role: Role, actor: Actor
) -> NewAccount:
    """A manager or counter agent of the organisation, with a temporary password they must replace
    at their first sign-in, audited."""
    email, display_name = normalise_email(email), " ".join(display_name.split())
    if role not in PARTNER_ROLES:
        raise InvalidStaffMember("role", N_("a partner manager or a partner agent"))
    if not is_email_address(email):
        raise InvalidStaffMember("email", N_("not an email address"))
    if not 2 <= len(display_name) <= 120:
        raise InvalidStaffMember("name", N_("2 to 120 characters"))
    password = temporary_password()
    user = User(email=email, display_name=display_name, role=role, organisation=organisation, must_change_password=True)
    user.set_password(password)
    try:
        with session.begin_nested():  # as above: a refused account leaves the session clean
            session.add(user)
            session.flush()
    except IntegrityError:
        raise EmailTaken() from None
    record_event(
        session,
        actor,
        "staff.create",
        organisation_id=organisation.id,
        account_id=user.id,
        after={"user": user.id, "email": email, "role": role.value},
    )
    return NewAccount(user, password)


def set_staff_enabled(session: Session, user: User, enabled: bool, actor: Actor) -> User:
    """Disable (or enable again) a staff member's account; the last active manager stays."""
    if user.is_enabled == enabled:
        return user
    if not enabled and user.role == Role.PARTNER_MANAGER and _active_managers(session, user.organisation_id) <= 1:
        raise LastManager()
    user.is_enabled = enabled
    session.flush()
    record_event(
        session,
        actor,
        "staff.enable" if enabled else "staff.disable",
        organisation_id=user.organisation_id,
        account_id=user.id,
        before={"user": user.id, "enabled": not enabled},
        after={"user": user.id, "enabled": enabled},
    )
    return user


def _active_managers(session: Session, organisation_id: int | None) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(
                User.organisation_id == organisation_id,
                User.role == Role.PARTNER_MANAGER,
                User.is_enabled.is_(True),
            )
        )
        or 0
    )


def get_organisation(session: Session, slug: str, scope: Scope = NATIONAL) -> Organisation:
    statement = scope.filter_organisation(select(Organisation).where(Organisation.slug == slug), Organisation.id)
    organisation = session.scalar(statement)
    if organisation is None:
        raise RecordNotFound()
    return organisation


def list_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def list_staff(session: Session, organisation_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User).where(User.organisation_id == organisation_id).order_by(User.role, User.display_name)
        )
    )


def get_staff_member(session: Session, user_id: int, scope: Scope) -> User:
    """A staff member within the scope (a manager sees their organisation's people only)."""
    statement = scope.filter_organisation(
        select(User).where(User.id == user_id, User.role.in_(PARTNER_ROLES)), User.organisation_id
    )
    user = session.scalar(statement)
    if user is None:
        raise RecordNotFound()
    return user
