"""Organisations, users, their roles and the one-time tokens emailed to them."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import UTCDateTime, utcnow
from lms.extensions import db


class OrganisationKind(enum.StrEnum):
    ICS = "ics"
    REGION = "region"
    STRATEGY_UNIT = "strategy_unit"
    OTHER = "other"


class Role(enum.StrEnum):
    LEARNER = "learner"
    DSU_LEAD = "dsu_lead"
    FACULTY = "faculty"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.LEARNER: "Learner",
    Role.DSU_LEAD: "DSU lead",
    Role.FACULTY: "Faculty",
    Role.ADMIN: "Admin",
}


class Organisation(db.Model):
    """One of the 11 Midlands ICSs, the regional team, the Strategy Unit, or other."""

    __tablename__ = "organisation"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('ics', 'region', 'strategy_unit', 'other')", name="kind_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))

    @property
    def is_ics(self) -> bool:
        return self.kind == OrganisationKind.ICS

    def __repr__(self) -> str:
        return f"<Organisation {self.code}>"


class User(UserMixin, db.Model):
    """A person: a learner always, and perhaps a DSU lead, faculty or admin."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("session_version >= 1", name="session_version_positive"),
        # The admin's people list pages through everyone in name order: read from the
        # index, not by sorting every person on each page (15,000 at national scale).
        Index("ix_user_account_full_name_id", "full_name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case (a check constraint holds it), so "unique" is unique regardless of case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    job_title: Mapped[str] = mapped_column(String(120), default="")
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_active_account: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Two-step verification (admins may turn it on): the TOTP secret, when it was turned on,
    # and the last 30-second step whose code was used, so no code works twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column()

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin="unnested")
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> set[Role]:
        return {Role(row.role) for row in self.role_rows}

    def has_role(self, role: Role) -> bool:
        return any(row.role == role for row in self.role_rows)

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    @property
    def is_faculty(self) -> bool:
        return self.has_role(Role.FACULTY)

    @property
    def is_dsu_lead(self) -> bool:
        return self.has_role(Role.DSU_LEAD)

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def get_id(self) -> str:
        # The session version is part of the id, so bumping it signs out every session.
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class UserRole(db.Model):
    """A role held by a user. Everyone holds ``learner``."""

    __tablename__ = "user_role"
    __table_args__ = (
        CheckConstraint(
            "role IN ('learner', 'dsu_lead', 'faculty', 'admin')", name="role_known"
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class ChangeStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class OrganisationChange(db.Model):
    """A person's request to move to another organisation. Until the new ICS's DSU lead (or
    an admin) approves it, they stay in the old one: places, quotas and nominations follow
    ``User.organisation_id``, which only an approval changes."""

    __tablename__ = "organisation_change"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'declined', 'withdrawn')",
                        name="status_known"),
        Index("ix_organisation_change_to_status", "to_organisation_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    from_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    to_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    status: Mapped[str] = mapped_column(String(10), default=ChangeStatus.PENDING)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))

    person: Mapped[User] = relationship(foreign_keys=[user_id])
    from_organisation: Mapped[Organisation] = relationship(foreign_keys=[from_organisation_id])
    to_organisation: Mapped[Organisation] = relationship(foreign_keys=[to_organisation_id])


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose, not a password


class AccountToken(db.Model):
    """A single-use, expiring link emailed to a person. Only its SHA-256 is stored."""

    __tablename__ = "account_token"
    __table_args__ = (
        CheckConstraint(
            "purpose IN ('verify_email', 'reset_password')", name="purpose_known"
        ),
        Index("ix_account_token_user_purpose", "user_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A single-use code that stands in for the authenticator app, given when two-step
    verification is turned on. Only its SHA-256 is stored."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def count_users() -> int:
    """How many people have accounts."""
    return db.session.scalar(db.select(func.count(User.id))) or 0


class SignInAttempt(db.Model):
    """One hit on a throttled door (``lms.accounts.throttle``): a failed sign-in or check-in
    code, a password-reset, sign-up or confirmation request. Counted per bucket, per account
    (the canonical email) and per address; kept in the database so the limit holds across
    every worker and host."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (
        Index("ix_sign_in_attempt_email_at", "email", "at"),
        Index("ix_sign_in_attempt_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(24), default="sign_in", server_default="sign_in")
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SsoOnlyDomain(db.Model):
    """An email domain whose people sign in only with their NHS account (``lms.sso``): an
    admin's setting, so passwords (sign-in, reset, sign-up) are refused for it."""

    __tablename__ = "sso_only_domain"
    __table_args__ = (CheckConstraint("domain = lower(domain)", name="domain_lowercase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
