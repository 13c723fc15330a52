"""Account rules, tested without HTTP."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from lms.accounts import administration, organisation_changes, services
from lms.accounts.models import AccountToken, Role, User
from lms.clock import utcnow
from lms.errors import DomainError, NotAllowed
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from tests.conftest import PASSWORD, organisation


def signup(**changes) -> services.SignUp:
    data = {
        "email": "New.Person@Example.NHS.uk",
        "full_name": "  New   Person ",
        "job_title": "Analyst",
        "organisation_id": organisation("CW").id,
        "password": "a long enough password",
        "confirm": "a long enough password",
    }
    data.update(changes)
    return services.SignUp(**data)


def outbox_rows() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_sign_up_creates_an_unverified_learner_and_queues_a_confirmation(ctx):
    user = services.sign_up(signup())
    assert user.email == "new.person@example.nhs.uk"
    assert user.full_name == "New Person"
    assert user.roles == {Role.LEARNER}
    assert user.email_verified_at is None
    assert user.password_hash.startswith("scrypt:")
    [email] = outbox_rows()
    assert email.to_address == "new.person@example.nhs.uk"
    assert "/confirm-email/" in email.body_text


def test_sign_up_with_an_existing_email_in_any_case_creates_nothing_and_tells_the_owner(
    ctx, make_user
):
    make_user(email="taken@example.nhs.uk")
    assert services.sign_up(signup(email="TAKEN@example.nhs.uk")) is None
    assert user_count() == 1
    [email] = outbox_rows()
    assert email.to_address == "taken@example.nhs.uk"
    assert "already" in email.subject


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a" * 250 + "@x.uk"}, "email"),
        ({"full_name": "   "}, "full_name"),
        ({"full_name": "x" * 121}, "full_name"),
        ({"full_name": "Bad\x07Name"}, "full_name"),
        ({"organisation_id": None}, "organisation_id"),
        ({"organisation_id": 999999}, "organisation_id"),
        ({"password": "short", "confirm": "short"}, "password"),
        ({"password": "", "confirm": ""}, "password"),
        ({"confirm": "something else entirely"}, "confirm"),
    ],
)
def test_bad_sign_up_input_names_the_field_and_saves_nothing(ctx, changes, field):
    with pytest.raises(DomainError) as error:
        services.sign_up(signup(**changes))
    assert error.value.field == field
    assert user_count() == 0
    assert outbox_rows() == []


def _token_from(row: OutboxMessage, marker: str) -> str:
    return row.body_text.split(marker, 1)[1].split()[0]


def test_confirmation_link_works_once(ctx):
    user = services.sign_up(signup())
    token = _token_from(outbox_rows()[0], "/confirm-email/")
    assert services.verify_email(token) == user
    assert user.email_verified_at is not None
    with pytest.raises(DomainError, match="expired or has already been used"):
        services.verify_email(token)


def test_confirmation_link_expires_after_48_hours(ctx):
    services.sign_up(signup())
    token = _token_from(outbox_rows()[0], "/confirm-email/")
    with time_machine.travel(utcnow() + timedelta(hours=48, minutes=1)), \
            pytest.raises(DomainError):
        services.verify_email(token)


def test_an_unknown_email_and_a_wrong_password_get_the_same_message(ctx, make_user):
    make_user(email="known@example.nhs.uk")
    with pytest.raises(DomainError) as unknown:
        services.authenticate("nobody@example.nhs.uk", PASSWORD)
    with pytest.raises(DomainError) as wrong:
        services.authenticate("known@example.nhs.uk", "wrong password here")
    assert unknown.value.message == wrong.value.message == services.BAD_SIGN_IN
    assert type(unknown.value) is type(wrong.value) is DomainError


def test_sign_in_ignores_case_and_needs_a_confirmed_address(ctx, make_user):
    user = make_user(email="mixed@example.nhs.uk")
    assert services.authenticate("  MIXED@example.NHS.uk ", PASSWORD) == user
    make_user(email="pending@example.nhs.uk", verified=False)
    with pytest.raises(services.EmailNotVerified):
        services.authenticate("pending@example.nhs.uk", PASSWORD)
    # ...but only with the right password: otherwise the usual message.
    with pytest.raises(DomainError) as error:
        services.authenticate("pending@example.nhs.uk", "not the password!")
    assert not isinstance(error.value, services.EmailNotVerified)


def test_password_reset_link_is_single_use_and_ends_other_sessions(ctx, make_user):
    user = make_user(email="forgetful@example.nhs.uk")
    old_id = user.get_id()
    services.request_password_reset("Forgetful@example.nhs.uk")
    token = _token_from(outbox_rows()[-1], "/reset-password/")
    services.reset_password(token, "brand new password 1", "brand new password 1")
    assert services.authenticate(user.email, "brand new password 1") == user
    assert services.load_user_from_session(old_id) is None
    assert services.load_user_from_session(user.get_id()) == user
    with pytest.raises(DomainError):
        services.reset_password(token, "another new password", "another new password")
    assert outbox_rows()[-1].subject == "Your password has been changed"


def test_a_new_reset_link_cancels_nothing_but_a_used_one_cancels_the_others(ctx, make_user):
    make_user(email="twice@example.nhs.uk")
    services.request_password_reset("twice@example.nhs.uk")
    services.request_password_reset("twice@example.nhs.uk")
    first, second = (_token_from(r, "/reset-password/") for r in outbox_rows())
    services.reset_password(second, "brand new password 1", "brand new password 1")
    assert services.check_token(first, "reset_password") is None


def test_password_reset_link_expires_after_an_hour(ctx, make_user):
    make_user(email="slow@example.nhs.uk")
    services.request_password_reset("slow@example.nhs.uk")
    token = _token_from(outbox_rows()[-1], "/reset-password/")
    with time_machine.travel(utcnow() + timedelta(minutes=61)), pytest.raises(DomainError):
        services.reset_password(token, "brand new password 1", "brand new password 1")


def test_password_reset_for_an_unknown_email_sends_nothing(ctx):
    services.request_password_reset("ghost@example.nhs.uk")
    assert outbox_rows() == []
    assert db.session.scalar(select(func.count(AccountToken.id))) == 0


def test_a_bad_new_password_leaves_the_reset_link_usable(ctx, make_user):
    make_user(email="retry@example.nhs.uk")
    services.request_password_reset("retry@example.nhs.uk")
    token = _token_from(outbox_rows()[-1], "/reset-password/")
    with pytest.raises(DomainError):
        services.reset_password(token, "short", "short")
    assert services.check_token(token, "reset_password") is not None


def test_change_password_needs_the_current_one(ctx, make_user):
    user = make_user()
    with pytest.raises(DomainError) as error:
        services.change_password(user, "wrong", "a new long password", "a new long password")
    assert error.value.field == "current_password"
    services.change_password(user, PASSWORD, "a new long password", "a new long password")
    assert services.authenticate(user.email, "a new long password") == user
    assert user.session_version == 2


def test_profile_update_and_dsu_leads_cannot_move_themselves(ctx, make_user):
    learner = make_user(org="BSOL")
    services.update_profile(learner, "Renamed Person", "Lead Analyst", organisation("LLR").id)
    # The move is only asked for: the new ICS decides (tests/test_organisation_changes.py).
    assert (learner.full_name, learner.organisation.code) == ("Renamed Person", "BSOL")
    assert organisation_changes.pending_for(learner).to_organisation.code == "LLR"
    lead = make_user(Role.DSU_LEAD, org="BSOL")
    with pytest.raises(DomainError, match="DSU leads cannot"):
        services.update_profile(lead, lead.full_name, "", organisation("LLR").id)
    assert lead.organisation.code == "BSOL"


def test_admin_sets_roles_and_organisation(ctx, make_user):
    admin = make_user(Role.ADMIN, org="SU")
    person = make_user(org="BSOL")
    administration.set_roles_and_organisation(admin, person, {"dsu_lead", "faculty"},
                                        organisation("NOTTS").id)
    assert person.roles == {Role.LEARNER, Role.DSU_LEAD, Role.FACULTY}
    assert person.organisation.code == "NOTTS"
    administration.set_roles_and_organisation(admin, person, set(), organisation("NOTTS").id)
    assert person.roles == {Role.LEARNER}


@pytest.mark.parametrize(
    ("roles", "org", "message"),
    [
        ({"dsu_lead"}, "SU", "must belong to one of the 11 ICSs"),
        ({"superuser"}, "BSOL", "Choose roles"),
    ],
)
def test_admin_role_rules(ctx, make_user, roles, org, message):
    admin = make_user(Role.ADMIN, org="SU")
    person = make_user(org="BSOL")
    with pytest.raises(DomainError, match=message):
        administration.set_roles_and_organisation(admin, person, roles, organisation(org).id)
    assert person.roles == {Role.LEARNER}


def test_admins_cannot_demote_themselves_and_others_cannot_change_roles(ctx, make_user):
    admin = make_user(Role.ADMIN, org="SU")
    with pytest.raises(DomainError, match="your own admin role"):
        administration.set_roles_and_organisation(admin, admin, set(), organisation("SU").id)
    faculty = make_user(Role.FACULTY, org="SU")
    with pytest.raises(NotAllowed):
        administration.set_roles_and_organisation(faculty, faculty, {"admin"},
                                                  organisation("SU").id)


def test_find_users_by_text_role_and_organisation(ctx, make_user):
    make_user(name="Priya Patel", org="LLR")
    make_user(Role.FACULTY, name="Priya Shah", org="SU")
    make_user(name="Tom Jones", org="LLR", email="tj@example.nhs.uk")
    found, total = administration.find_users("priya")
    assert total == 2 and [u.full_name for u in found] == ["Priya Patel", "Priya Shah"]
    assert administration.find_users("priya", role="faculty")[1] == 1
    assert administration.find_users("", organisation_id=organisation("LLR").id)[1] == 2
    assert administration.find_users("TJ@example")[1] == 1
    assert administration.find_users("%")[1] == 3  # wildcards are not special


def test_ensure_organisations_is_idempotent(ctx):
    assert services.ensure_organisations() == 0
    codes = [o.code for o in services.organisations()]
    assert len(codes) == 14 and codes.index("OTHER") > codes.index("NOTTS")
