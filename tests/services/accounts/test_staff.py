"""Administrators run the officers' and administrators' accounts: create, disable, enable, reset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.fixtures.support import TEST_ACTOR, TEST_PASSWORD
from webapp.models import AuditEvent, Role, User, utcnow
from webapp.services.accounts import staff
from webapp.services.accounts.new_accounts import EmailTaken
from webapp.services.audit import Actor
from webapp.services.scope import RecordNotFound


def actor_for(user: User) -> Actor:
    return Actor(f"user:{user.id}", user.id)


def trail(session, account: User) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.account_id == account.id)))


def test_a_new_officer_has_a_region_a_temporary_password_and_must_change_it(session):
    """Created with a working temporary password, forced to change it; audited without the password."""
    created = staff.create_staff_account(
        session,
        email=" Hind@Chambre.MA ",
        display_name="Hind  Alami",
        role="officer",
        region_code="07",
        actor=TEST_ACTOR,
    )
    account = created.user
    assert (account.email, account.display_name, account.role, account.region_code) == (
        "hind@chambre.ma",
        "Hind Alami",
        Role.OFFICER,
        "07",
    )
    assert account.must_change_password and account.check_password(created.temporary_password)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "account.create")).one()
    assert event.account_id == account.id and created.temporary_password not in repr(event.after)


def test_an_administrator_has_no_region(session):
    """A region chosen for an administrator is not kept: administrators are national."""
    created = staff.create_staff_account(
        session, email="n@chambre.ma", display_name="Nadia", role="admin", region_code="03", actor=TEST_ACTOR
    )
    assert created.user.role == Role.ADMIN and created.user.region_code is None


@pytest.mark.parametrize(
    ("changes", "place"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"display_name": "H"}, "name"),
        ({"display_name": "x" * 121}, "name"),
        ({"role": "partner_manager"}, "role"),
        ({"role": "artisan"}, "role"),
        ({"region_code": None}, "region"),
        ({"region_code": "99"}, "region"),
    ],
    ids=[
        "bad-email",
        "no-domain",
        "short-name",
        "long-name",
        "partner-role",
        "artisan-role",
        "no-region",
        "bad-region",
    ],
)
def test_bad_accounts_are_refused_on_their_field(session, changes, place):
    """Each bad input is refused, naming the field, and no account is made."""
    values = {"email": "hind@chambre.ma", "display_name": "Hind Alami", "role": "officer", "region_code": "07"}
    with pytest.raises(staff.InvalidStaffAccount) as refused:
        staff.create_staff_account(session, **(values | changes), actor=TEST_ACTOR)
    assert refused.value.params["place"] == place
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_a_taken_email_is_refused_and_the_session_stays_usable(session, make_user):
    """Whatever the case of the address; the next flush does not retry the refused account."""
    make_user(Role.OFFICER, email="hind@chambre.ma")
    with pytest.raises(EmailTaken):
        staff.create_staff_account(
            session, email="HIND@chambre.ma", display_name="Twin", role="officer", region_code="07", actor=TEST_ACTOR
        )
    session.commit()
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_disable_and_enable_are_audited(session, make_user):
    """Disable then enable: the account follows, two events name it."""
    admin, officer = make_user(Role.ADMIN), make_user(Role.OFFICER)
    staff.set_account_enabled(session, officer, False, actor_for(admin))
    assert not officer.is_enabled
    staff.set_account_enabled(session, officer, True, actor_for(admin))
    assert officer.is_enabled and trail(session, officer) == ["account.disable", "account.enable"]


def test_an_administrator_cannot_disable_themselves(session, make_user):
    """Refused, even with other administrators around."""
    admin = make_user(Role.ADMIN)
    make_user(Role.ADMIN)
    with pytest.raises(staff.CannotDisableYourself):
        staff.set_account_enabled(session, admin, False, actor_for(admin))
    assert admin.is_enabled


def test_the_last_enabled_administrator_stays(session, make_user):
    """With one enabled administrator left (a disabled one does not count), disabling it is refused."""
    last, gone = make_user(Role.ADMIN), make_user(Role.ADMIN)
    staff.set_account_enabled(session, gone, False, TEST_ACTOR)
    with pytest.raises(staff.LastAdministrator):
        staff.set_account_enabled(session, last, False, TEST_ACTOR)
    assert last.is_enabled


def test_a_reset_gives_a_new_temporary_password_and_opens_a_lock(session, make_user):
    """The old password stops working, the new one works and must be changed; a lock is lifted."""
    admin, officer = make_user(Role.ADMIN), make_user(Role.OFFICER)
    officer.failed_sign_ins, officer.locked_until = 2, utcnow() + timedelta(minutes=10)
    reset = staff.reset_password(session, officer, actor_for(admin))
    assert not officer.check_password(TEST_PASSWORD) and officer.check_password(reset.temporary_password)
    assert officer.must_change_password and officer.locked_until is None and officer.failed_sign_ins == 0
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "account.reset_password")).one()
    assert event.after == {"was_locked": True} and event.actor_user_id == admin.id


def test_an_administrator_resets_their_own_password_elsewhere(session, make_user):
    """Their own account's reset is refused: they change it from their account page."""
    admin = make_user(Role.ADMIN)
    with pytest.raises(staff.ResetYourOwnElsewhere):
        staff.reset_password(session, admin, actor_for(admin))
    assert admin.check_password(TEST_PASSWORD)


def test_only_officers_and_administrators_are_staff_accounts(session, make_user):
    """Partner staff and artisans are neither listed nor found."""
    admin, officer = make_user(Role.ADMIN), make_user(Role.OFFICER)
    agent, artisan = make_user(Role.PARTNER_AGENT), make_user(Role.ARTISAN)
    assert {account.id for account in staff.list_staff_accounts(session)} == {admin.id, officer.id}
    for other in (agent, artisan):
        with pytest.raises(RecordNotFound):
            staff.get_staff_account(session, other.id)
