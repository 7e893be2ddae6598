"""The chambers' staff accounts, run by national administrators: registry officers (each of one
region) and administrators. An administrator creates an account, disables it, enables it again,
or resets its password; a created or reset account gets a temporary password, shown once, that
the person must replace at their next sign-in.

An administrator cannot disable their own account (nor reset their own password: they change it
from their account page), and the last enabled administrator stays
enabled (someone must be able to sign in and fix things). Every change is audited with the
account it concerns; a temporary password is never stored in clear nor written to the trail.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from webapp.models import AuditEvent, Region, Role, User, utcnow
from webapp.services.accounts.new_accounts import EmailTaken, NewAccount, is_email_address, normalise_email
from webapp.services.accounts.passwords import temporary_password
from webapp.services.audit import Actor, record_event
from webapp.services.errors import N_, DomainError
from webapp.services.scope import RecordNotFound

# The accounts run from the administration's staff screens (partner staff are their managers' affair).
STAFF_ROLES = (Role.OFFICER, Role.ADMIN)
# The account events an administrator reads on an account's page.
ACCOUNT_EVENTS_SHOWN = 20


class InvalidStaffAccount(DomainError):
    code = "invalid_staff_account"
    http_status = 422
    message = N_("Staff account: %(place)s: %(problem)s")
    translated_params = ("problem",)

    def __init__(self, place: str, problem: str) -> None:
        super().__init__(place=place, problem=problem)


class CannotDisableYourself(DomainError):
    code = "cannot_disable_yourself"
    http_status = 409
    message = N_("You cannot disable your own account: ask another administrator.")


class ResetYourOwnElsewhere(DomainError):
    code = "reset_your_own_elsewhere"
    http_status = 409
    message = N_("To change your own password, use your account page.")


class LastAdministrator(DomainError):
    code = "last_administrator"
    http_status = 409
    message = N_("This is the last enabled administrator: enable or create another administrator first.")


def list_staff_accounts(session: Session) -> list[User]:
    """Administrators, then officers by region, each by name."""
    return list(
        session.scalars(
            select(User)
            .where(User.role.in_(STAFF_ROLES))
            .options(joinedload(User.region))
            .order_by(User.role, User.region_code, User.display_name, User.id)
        )
    )


def get_staff_account(session: Session, account_id: int) -> User:
    """An officer's or administrator's account, or RecordNotFound (also for any other account)."""
    account = session.scalar(select(User).where(User.id == account_id, User.role.in_(STAFF_ROLES)))
    if account is None:
        raise RecordNotFound()
    return account


def create_staff_account(
    session: Session, *, email: str, display_name: str, role: Role | str, region_code: str | None, actor: Actor
) -> NewAccount:
    """A new officer (of a region) or administrator (national: no region), with a temporary password."""
    email, display_name = normalise_email(email), " ".join(display_name.split())
    if role not in {staff_role.value for staff_role in STAFF_ROLES}:
        raise InvalidStaffAccount("role", N_("a registry officer or a national administrator"))
    role = Role(role)
    if not is_email_address(email):
        raise InvalidStaffAccount("email", N_("not an email address"))
    if not 2 <= len(display_name) <= 120:
        raise InvalidStaffAccount("name", N_("2 to 120 characters"))
    if role == Role.OFFICER:
        if not region_code or session.get(Region, region_code) is None:
            raise InvalidStaffAccount("region", N_("an officer works for one region: choose it"))
    else:
        region_code = None  # administrators are national
    password = temporary_password()
    account = User(
        email=email, display_name=display_name, role=role, region_code=region_code, must_change_password=True
    )
    account.set_password(password)
    try:
        with session.begin_nested():  # a refused account leaves the session clean for the form
            session.add(account)
            session.flush()
    except IntegrityError:
        raise EmailTaken() from None
    record_event(
        session,
        actor,
        "account.create",
        account_id=account.id,
        after={"email": email, "role": role.value, "region": region_code},
    )
    return NewAccount(account, password)


def set_account_enabled(session: Session, account: User, enabled: bool, actor: Actor) -> User:
    """Disable an account (its sessions end, it can no longer sign in) or enable it again."""
    if account.is_enabled == enabled:
        return account
    if not enabled and account.id == actor.user_id:
        raise CannotDisableYourself()
    if not enabled and account.role == Role.ADMIN:
        # Rows locked (PostgreSQL): two administrators disabling each other at once cannot leave none.
        enabled_admins = session.scalars(
            select(User.id).where(User.role == Role.ADMIN, User.is_enabled.is_(True)).with_for_update()
        ).all()
        if set(enabled_admins) <= {account.id}:
            raise LastAdministrator()
    account.is_enabled = enabled
    session.flush()
    record_event(
        session,
        actor,
        "account.enable" if enabled else "account.disable",
        account_id=account.id,
        before={"enabled": not enabled},
        after={"enabled": enabled},
    )
    return account


def reset_password(session: Session, account: User, actor: Actor) -> NewAccount:
    """A new temporary password for the account, to replace at the next sign-in; it also opens a
    locked account and ends the account's sessions (their cookies carry the old password's mark)."""
    if account.id == actor.user_id:
        raise ResetYourOwnElsewhere()
    password = temporary_password()
    was_locked = account.locked_until is not None and utcnow() < account.locked_until
    account.set_password(password)
    account.must_change_password = True
    account.failed_sign_ins, account.last_failed_sign_in_at, account.locked_until = 0, None, None
    session.flush()
    record_event(session, actor, "account.reset_password", account_id=account.id, after={"was_locked": was_locked})
    return NewAccount(account, password)


def account_events(session: Session, account: User, limit: int = ACCOUNT_EVENTS_SHOWN) -> list[AuditEvent]:
    """The latest audit events about an account (sign-ins, failures, locks, changes), newest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.account_id == account.id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )
