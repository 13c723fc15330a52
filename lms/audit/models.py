"""One row per change made by a faculty member, an admin or someone at the command line."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime, utcnow
from lms.extensions import db


class AuditAction(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    ERASED = "erased"  # a person's personal data was erased (UK GDPR)
    RESTORED = "restored"  # the database was restored from a backup


ACTION_LABELS = {
    AuditAction.CREATED: "Created",
    AuditAction.UPDATED: "Changed",
    AuditAction.DELETED: "Deleted",
    AuditAction.ERASED: "Personal data erased",
    AuditAction.RESTORED: "Database restored",
}

_ACTIONS_SQL = ", ".join(f"'{a.value}'" for a in AuditAction)


class AuditEntry(db.Model):
    """A change to one row: who (a person, or the command line), what (the model and its
    key), when, and the values of the changed columns before and after. Written in the same
    transaction as the change, so a change and its entry commit or vanish together.

    ``subject_user_id`` is the person the row is about (a user, or the owner of a place,
    mark or certificate), so a person's history can be listed and, on erasure, scrubbed.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        CheckConstraint(f"action IN ({_ACTIONS_SQL})", name="action_known"),
        Index("ix_audit_entry_at", "at"),
        Index("ix_audit_entry_actor_at", "actor_id", "at"),
        Index("ix_audit_entry_model_at", "model", "at"),
        Index("ix_audit_entry_subject_user", "subject_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    # For changes made without a signed-in person: "Command line (flask lms restore)".
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    # The request that made the change, e.g. "POST /admin/users/12".
    request: Mapped[str] = mapped_column(String(300), default="")
    action: Mapped[str] = mapped_column(String(10))
    model: Mapped[str] = mapped_column(String(64))
    table_name: Mapped[str] = mapped_column(String(64))
    row_key: Mapped[str] = mapped_column(String(200), default="")
    subject_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_user_id], lazy="joined")

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[AuditAction(self.action)]

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for every field either side mentions, in name order."""
        before, after = self.before or {}, self.after or {}
        return [(key, before.get(key), after.get(key))
                for key in sorted(set(before) | set(after))]

    @property
    def who(self) -> str:
        return self.actor.full_name if self.actor is not None else self.actor_label
