"""The reflective log: dated entries (what happened, what I learned, what I will do
differently, and free text) linked to a session, an offering or a competency. An entry is
its writer's alone (everyone else gets 404, faculty too) until they share it with the
cohort's faculty, who may comment and accept it as competency evidence.

Services validate, raise domain errors and flush; views commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select

from lms.accounts.models import User
from lms.clock import date_text, to_london, utcnow
from lms.errors import DomainError, ErrorCollector, NotAllowed, NotFound
from lms.extensions import db
from lms.learning.reflection_models import ReflectionComment, ReflectionEntry
from lms.notifications.services import link, queue_email
from lms.offerings.models import Enrolment, Offering, Session
from lms.offerings.policy import can_manage

TEXT_LIMIT = 20_000
GUIDED = ("what_happened", "what_learned", "do_differently", "notes")


@dataclass
class EntryDetails:
    happened_on: date | None = None
    title: str | None = ""
    what_happened: str | None = ""
    what_learned: str | None = ""
    do_differently: str | None = ""
    notes: str | None = ""
    # "offering:<id>", "session:<id>" or "" (see ``link_choices``).
    link: str | None = ""
    competency_id: int | str | None = None


def own_entries(user: User) -> list[ReflectionEntry]:
    """The person's log, newest first (two queries)."""
    return list(db.session.scalars(select(ReflectionEntry).where(
        ReflectionEntry.user_id == user.id).order_by(
        ReflectionEntry.happened_on.desc(), ReflectionEntry.id.desc())))


def shared_entries(actor: User) -> list[ReflectionEntry]:
    """Entries shared with faculty, newest shared first (faculty and admins only)."""
    if not can_manage(actor):
        raise NotAllowed("Only faculty read shared reflections")
    return list(db.session.scalars(select(ReflectionEntry).where(
        ReflectionEntry.shared_at.is_not(None)).order_by(ReflectionEntry.shared_at.desc())
        .limit(200)))


def get_entry(user, entry_id: int) -> ReflectionEntry:
    """An entry for its writer, or for faculty once shared; 404 for everyone else."""
    entry = db.session.get(ReflectionEntry, entry_id)
    if entry is None or not user.is_authenticated:
        raise NotFound("No such entry")
    if entry.user_id == user.id or (entry.shared and can_manage(user, entry.offering)):
        return entry
    raise NotFound("No such entry")


def own_entry(user, entry_id: int) -> ReflectionEntry:
    """An entry only its writer may change (404 for everyone else)."""
    entry = db.session.get(ReflectionEntry, entry_id)
    if entry is None or not user.is_authenticated or entry.user_id != user.id:
        raise NotFound("No such entry")
    return entry


def link_choices(user: User) -> list[tuple[str, str]]:
    """What an entry may be linked to: the offerings the person has a place on, and their
    sessions (two queries)."""
    offerings = list(db.session.scalars(
        select(Offering).join(Enrolment, Enrolment.offering_id == Offering.id)
        .where(Enrolment.user_id == user.id,
               Enrolment.state.in_(("enrolled", "completed")))
        .order_by(Offering.title)))
    choices = [("", "Nothing in particular")]
    sessions = list(db.session.scalars(select(Session).where(
        Session.offering_id.in_([o.id for o in offerings]),
        Session.starts_at <= utcnow()).order_by(Session.starts_at)))
    for offering in offerings:
        choices.append((f"offering:{offering.id}", offering.title))
        for session in (s for s in sessions if s.offering_id == offering.id):
            day = date_text(session.starts_at)
            choices.append((f"session:{session.id}",
                            f"{offering.title}: {session.title or 'Session'} ({day})"))
    return choices


def _link(user: User, raw: str | None) -> tuple[int | None, int | None]:
    raw = (raw or "").strip()
    if not raw:
        return None, None
    if raw not in {value for value, _ in link_choices(user)}:
        raise DomainError("Choose one of your courses or sessions", "link")
    kind, _, number = raw.partition(":")
    if kind == "offering":
        return int(number), None
    session = db.session.get(Session, int(number))
    return session.offering_id, session.id


def _checked(user: User, details: EntryDetails) -> dict:
    from lms.competencies.services import get_competency

    errors = ErrorCollector()
    values: dict = {}
    if details.happened_on is None:
        errors.errors.append(("happened_on", "Enter the date, like 29/3/2027"))
    elif details.happened_on > to_london(utcnow()).date():
        errors.errors.append(("happened_on", "The date must be today or in the past"))
    values["happened_on"] = details.happened_on
    title = " ".join((details.title or "").split())
    if not title:
        errors.errors.append(("title", "Enter a title"))
    elif len(title) > 200:
        errors.errors.append(("title", "The title must be 200 characters or fewer"))
    values["title"] = title
    for name in GUIDED:
        text = (getattr(details, name) or "").strip()
        if len(text) > TEXT_LIMIT:
            errors.errors.append((name, f"This must be {TEXT_LIMIT:,} characters or fewer"))
        values[name] = text
    if not any(values[name] for name in GUIDED):
        errors.errors.append(("what_happened", "Write something in at least one box"))
    linked = errors.check(_link, user, details.link)
    values["offering_id"], values["session_id"] = linked or (None, None)
    values["competency_id"] = None
    if details.competency_id not in (None, "", "0", 0):
        competency = errors.check(get_competency, details.competency_id)
        values["competency_id"] = competency.id if competency else None
    errors.raise_any()
    return values


def write_entry(user: User, details: EntryDetails) -> ReflectionEntry:
    """A new private entry in the person's log."""
    entry = ReflectionEntry(user_id=user.id, **_checked(user, details))
    db.session.add(entry)
    db.session.flush()
    return entry


def change_entry(user: User, entry: ReflectionEntry, details: EntryDetails) -> None:
    """The writer changes their entry (not once it has been accepted as evidence)."""
    if entry.user_id != user.id:
        raise NotFound("No such entry")
    if entry.evidence_id is not None:
        raise DomainError("This entry has been accepted as evidence, so it can no longer "
                          "be changed")
    for name, value in _checked(user, details).items():
        setattr(entry, name, value)
    db.session.flush()


def share(user: User, entry: ReflectionEntry) -> None:
    """Share an entry with the faculty of the course or session it is linked to."""
    if entry.user_id != user.id:
        raise NotFound("No such entry")
    if entry.offering_id is None:
        raise DomainError("Link this entry to one of your courses or sessions to share it "
                          "with its faculty")
    if entry.shared_at is None:
        entry.shared_at = utcnow()
        db.session.flush()


def unshare(user: User, entry: ReflectionEntry) -> None:
    """Make an entry private again (comments stay with it)."""
    if entry.user_id != user.id:
        raise NotFound("No such entry")
    if entry.evidence_id is not None:
        raise DomainError("This entry has been accepted as evidence, so it stays shared")
    entry.shared_at = None
    db.session.flush()


def delete_entry(user: User, entry: ReflectionEntry) -> None:
    if entry.user_id != user.id:
        raise NotFound("No such entry")
    db.session.delete(entry)
    db.session.flush()


def comment(actor: User, entry: ReflectionEntry, text: str | None) -> ReflectionComment:
    """Faculty comment on a shared entry; the writer is emailed."""
    if not entry.shared or not can_manage(actor, entry.offering):
        raise NotFound("No such entry")
    text = (text or "").strip()
    if not text:
        raise DomainError("Write your comment", "text")
    if len(text) > TEXT_LIMIT:
        raise DomainError(f"A comment must be {TEXT_LIMIT:,} characters or fewer", "text")
    row = ReflectionComment(entry_id=entry.id, author_id=actor.id, text=text)
    db.session.add(row)
    queue_email(entry.user.email, "A comment on your reflection", "learning/reflection_comment",
                person=entry.user, entry=entry, author=actor,
                url=link("reflection.entry", id=entry.id))
    db.session.flush()
    return row


def accept_as_evidence(actor: User, entry: ReflectionEntry, competency_id, level) -> None:
    """Faculty accept a shared entry as evidence of a competency, at the level they choose."""
    from lms.competencies.services import rate

    if not entry.shared or not can_manage(actor, entry.offering):
        raise NotFound("No such entry")
    if entry.evidence_id is not None:
        raise DomainError("This entry has already been accepted as evidence")
    evidence = rate(actor, entry.user, competency_id or entry.competency_id, level,
                    f"Reflective log entry accepted: {entry.title}")
    entry.evidence_id = evidence.id
    db.session.flush()


def erase_reflections(person_id: int) -> None:
    """Everything the person wrote in their log (a comment by faculty goes with its entry;
    their own comments on others' entries go too)."""
    from sqlalchemy import delete

    db.session.execute(delete(ReflectionComment).where(or_(
        ReflectionComment.author_id == person_id,
        ReflectionComment.entry_id.in_(select(ReflectionEntry.id).where(
            ReflectionEntry.user_id == person_id)))))
    db.session.execute(delete(ReflectionEntry).where(ReflectionEntry.user_id == person_id))
