"""Materials faculty attach to an offering or one of its sessions: a file (kept in the
storage, ``lms.learning.storage``) or a link, with when it becomes visible."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime, utcnow
from lms.extensions import db
from lms.offerings.models import Offering, Session

# When a material becomes visible to people with a place.
VISIBLE_NOW = "now"
VISIBLE_AT_START = "start"
VISIBLE_AFTER = "after"
VISIBILITY_LABELS = {
    VISIBLE_NOW: "Now",
    VISIBLE_AT_START: "When the session starts",
    VISIBLE_AFTER: "After the session has ended",
}


class Material(db.Model):
    """Slides, pre-reading, a data set or a link, for an offering or one of its sessions."""

    __tablename__ = "learning_material"
    __table_args__ = (
        CheckConstraint("kind IN ('file', 'link')", name="kind_known"),
        CheckConstraint("visible_from IN ('now', 'start', 'after')", name="visible_from_known"),
        CheckConstraint("(kind = 'file') = (file_key IS NOT NULL)", name="file_has_key"),
        CheckConstraint("(kind = 'link') = (url IS NOT NULL)", name="link_has_url"),
        CheckConstraint("size IS NULL OR size >= 0", name="size_not_negative"),
        Index("ix_learning_material_offering_position", "offering_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("offering_session.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(4))
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))
    file_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    filename: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[int | None] = mapped_column()
    visible_from: Mapped[str] = mapped_column(String(5), default=VISIBLE_NOW)
    # Open events may show a material to everyone, signed in or not.
    public: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    offering: Mapped[Offering] = relationship(lazy="joined", innerjoin=True)
    session: Mapped[Session | None] = relationship(lazy="joined")
    added_by: Mapped[User | None] = relationship()

    @property
    def is_file(self) -> bool:
        return self.kind == "file"

    def visible_at(self) -> datetime | None:
        """When people with a place may see it (``None``: from the start)."""
        if self.visible_from == VISIBLE_NOW:
            return None
        if self.session is not None:
            return (self.session.starts_at if self.visible_from == VISIBLE_AT_START
                    else self.session.ends_at)
        offering = self.offering
        return offering.starts_at if self.visible_from == VISIBLE_AT_START else offering.ends_at
