"""A network's shared resources: links and files members add, with a description and tags."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime, utcnow
from lms.extensions import db


class NetworkResource(db.Model):
    __tablename__ = "network_resource"
    __table_args__ = (
        CheckConstraint("kind IN ('file', 'link')", name="kind_known"),
        CheckConstraint("(kind = 'file') = (file_key IS NOT NULL)", name="file_has_key"),
        CheckConstraint("(kind = 'link') = (url IS NOT NULL)", name="link_has_url"),
        Index("ix_network_resource_network_pinned", "network_id", "pinned"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(4))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Lower-case tags, each between commas (",nhs,forecasting,"), so one tag is one LIKE.
    tags: Mapped[str] = mapped_column(String(400), default="")
    url: Mapped[str | None] = mapped_column(String(500))
    file_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    filename: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[int | None] = mapped_column()
    members_only: Mapped[bool] = mapped_column(default=True)
    pinned: Mapped[bool] = mapped_column(default=False)
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    added_by: Mapped[User | None] = relationship()

    @property
    def is_file(self) -> bool:
        return self.kind == "file"

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]
