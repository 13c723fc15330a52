"""Personal API tokens, and the fixed-window counters that rate-limit API calls."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime, utcnow
from lms.extensions import db


class TokenScope(enum.StrEnum):
    READ = "read"
    READ_WRITE = "read_write"

    @property
    def label(self) -> str:
        return SCOPE_LABELS[self]


SCOPE_LABELS = {
    TokenScope.READ: "Read only",
    TokenScope.READ_WRITE: "Read and write (can book and withdraw)",
}


class ApiToken(db.Model):
    """A personal API token. Only the SHA-256 of the whole token is stored; the short public
    ``prefix`` finds the row, so a token is checked with one indexed look-up."""

    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint("scope IN ('read', 'read_write')", name="scope_known"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        Index("ix_api_token_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.READ_WRITE

    @property
    def scope_label(self) -> str:
        return TokenScope(self.scope).label

    def is_live(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or utcnow())

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}>"


class ApiRateWindow(db.Model):
    """How many API calls one caller (a token, a signed-in person or an address) made in one
    fixed window, for reads or writes. Counted in the database so a limit holds across every
    worker and host."""

    __tablename__ = "api_rate_window"
    __table_args__ = (Index("ix_api_rate_window_window_start", "window_start"),)

    bucket: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    hits: Mapped[int] = mapped_column(default=0)
