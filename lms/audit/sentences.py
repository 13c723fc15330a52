"""The audit log read as sentences: "Fiona Faculty moved Ben Green to Derby and Derbyshire".

One place says, for each kind of change (a model and what was done to it), how it reads; a
kind with no sentence of its own reads generically ("Ada Admin changed the check-in code
12: code"). The values before and after stay available, written for people (dates in the
NHS.UK style), for the page's "Details".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from lms.accounts.models import ROLE_LABELS, Organisation, Role, User
from lms.audit.models import AuditAction, AuditEntry
from lms.clock import date_text, time_text, when_text
from lms.competencies.models import Competency
from lms.extensions import db
from lms.offerings.models import Enrolment, Offering, Session

OFFERING_KINDS = {"Offering": "offering", "Cohort": "cohort", "Webinar": "webinar",
                  "NetworkSeries": "network series", "Festival": "festival"}

# What a place's new state says was done to its holder ({name}) on an offering ({offering}).
PLACE_STATES = {
    "requested": "asked for a place for {name} on {offering}",
    "nominated": "nominated {name} for {offering}",
    "approved": "approved {poss} nomination for {offering}",
    "enrolled": "gave {name} a place on {offering}",
    "waitlisted": "put {name} on the waiting list for {offering}",
    "offered": "offered {name} a place on {offering}",
    "withdrawn": "withdrew {name} from {offering}",
    "declined": "recorded that {name} declined a place on {offering}",
    "rejected": "turned down {poss} place on {offering}",
    "lapsed": "let {poss} offer of a place on {offering} lapse",
    "cancelled": "cancelled {poss} place on {offering}",
    "completed": "recorded that {name} completed {offering}",
}
MOVE_DECISIONS = {"approved": "approved", "declined": "turned down", "withdrawn": "withdrew"}
FIELD_NAMES = {"role_rows": "roles", "starts_at": "start", "ends_at": "end",
               "full_name": "name", "email": "email address", "join_url": "joining link",
               "is_active_account": "account status", "password_hash": "password",
               "totp_secret": "two-step sign-in", "nomination_opens_at": "nomination opening",
               "nomination_closes_at": "nomination closing", "quota_release_at": "quota release",
               "competency_ids": "competencies", "cpd_hours": "CPD hours"}
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_CLOCK = re.compile(r"\d{2}:\d{2}(:\d{2})?")


@dataclass(frozen=True)
class Line:
    """One entry as the page shows it: the sentence, and (field, before, after) as text."""

    entry: AuditEntry
    sentence: str
    changes: list[tuple[str, str, str]]


@dataclass
class Names:
    """The names of the rows entries point at, looked up once for a page of entries."""

    people: dict[int, str] = field(default_factory=dict)
    organisations: dict[int, str] = field(default_factory=dict)
    offerings: dict[int, str] = field(default_factory=dict)
    sessions: dict[int, tuple[int, dt.datetime]] = field(default_factory=dict)
    places: dict[int, tuple[int, int]] = field(default_factory=dict)  # enrolment: person, offering
    competencies: dict[int, str] = field(default_factory=dict)

    def offering(self, offering_id) -> str:
        title = self.offerings.get(_int(offering_id))
        return f"“{title}”" if title else f"offering {offering_id}"

    def session(self, session_id) -> str:
        found = self.sessions.get(_int(session_id))
        if not found:
            return f"session {session_id}"
        offering_id, starts = found
        return f"the session of {self.offering(offering_id)} on {when_text(starts)}"


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ids(entries: list[AuditEntry], keys: tuple[str, ...], models: tuple[str, ...] = ()
         ) -> set[int]:
    found = set()
    for entry in entries:
        values = {**(entry.before or {}), **(entry.after or {})}
        found |= {_int(values.get(key)) for key in keys}
        if entry.model in models:
            found.add(_int(entry.row_key))
    return found - {None}


def _lookup(entries: list[AuditEntry]) -> Names:
    names = Names()
    places = _ids(entries, ("enrolment_id",), ("Enrolment",))
    if places:
        names.places = {row.id: (row.user_id, row.offering_id) for row in db.session.execute(
            select(Enrolment.id, Enrolment.user_id, Enrolment.offering_id)
            .where(Enrolment.id.in_(places)))}
    sessions = _ids(entries, ("session_id",), ("Session",))
    if sessions:
        names.sessions = {row.id: (row.offering_id, row.starts_at) for row in db.session.execute(
            select(Session.id, Session.offering_id, Session.starts_at)
            .where(Session.id.in_(sessions)))}
    offerings = _ids(entries, ("offering_id", "series_id", "festival_id"),
                     tuple(OFFERING_KINDS)) | {o for _, o in names.places.values()} | {
        o for o, _ in names.sessions.values()}
    if offerings:
        names.offerings = dict(db.session.execute(
            select(Offering.id, Offering.title).where(Offering.id.in_(offerings))).all())
    people = _ids(entries, ("user_id", "matched_user_id"), ("User",)) | {
        p for p, _ in names.places.values()}
    if people:
        names.people = dict(db.session.execute(
            select(User.id, User.full_name).where(User.id.in_(people))).all())
    organisations = _ids(entries, ("organisation_id", "from_organisation_id",
                                   "to_organisation_id", "quota_organisation_id"))
    if organisations:
        names.organisations = dict(db.session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.id.in_(organisations))).all())
    competencies = _ids(entries, ("competency_id",), ("Competency",))
    if competencies:
        names.competencies = dict(db.session.execute(
            select(Competency.id, Competency.name).where(Competency.id.in_(competencies))).all())
    return names


# ---------------------------------------------------------------------------- values


def value_text(value) -> str:
    """A value from an entry, written for people: moments and days in the NHS.UK style."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value) or "(none)"
    if isinstance(value, str):
        try:
            if ISO_MOMENT.match(value):
                moment = dt.datetime.fromisoformat(value)
                return when_text(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))
            if ISO_DAY.fullmatch(value):
                return date_text(dt.date.fromisoformat(value))
            if ISO_CLOCK.fullmatch(value):
                return time_text(dt.time.fromisoformat(value))
        except ValueError:
            return value
        return value
    return str(value)


def field_name(key: str) -> str:
    return FIELD_NAMES.get(key, key.removesuffix("_id").replace("_", " "))


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


# ---------------------------------------------------------------------------- sentences


@dataclass(frozen=True)
class Change:
    """What a sentence builder reads: the entry, its values and the names around it."""

    entry: AuditEntry
    names: Names
    before: dict
    after: dict

    @property
    def row(self) -> dict:
        return {**self.before, **self.after}

    @property
    def changed(self) -> list[str]:
        return sorted(k for k in set(self.before) | set(self.after)
                      if self.before.get(k) != self.after.get(k))

    @property
    def is_self(self) -> bool:
        entry = self.entry
        return entry.actor_id is not None and entry.actor_id == entry.subject_user_id

    def person(self, user_id=None) -> str:
        user_id = _int(user_id) if user_id is not None else self.entry.subject_user_id
        if user_id is not None and user_id == self.entry.actor_id and user_id == (
                self.entry.subject_user_id):
            return "themselves"
        if user_id is not None and user_id == self.entry.subject_user_id and self.entry.subject:
            return self.entry.subject.full_name
        return self.names.people.get(user_id) or self.row.get("full_name") or "a person"

    def possessive(self, user_id=None) -> str:
        name = self.person(user_id)
        return "their own" if name == "themselves" else f"{name}’s"


def _user(c: Change) -> str | None:
    action, name, poss = c.entry.action, c.person(), c.possessive()
    if action == AuditAction.CREATED:
        return "created their account" if c.is_self else f"created an account for {name}"
    if action == AuditAction.DELETED:
        return f"deleted {poss} account"
    parts = []
    for key in c.changed:
        old, new = c.before.get(key), c.after.get(key)
        if key == "organisation_id":
            to = c.names.organisations.get(_int(new), "another organisation")
            parts.append(f"moved {name} to {to}")
        elif key == "role_rows":
            added = sorted(set(new or []) - set(old or []))
            gone = sorted(set(old or []) - set(new or []))
            if added:
                parts.append(f"gave {name} the {_and([_role(r) for r in added])} "
                             f"{'role' if len(added) == 1 else 'roles'}")
            if gone:
                parts.append(f"took the {_and([_role(r) for r in gone])} "
                             f"{'role' if len(gone) == 1 else 'roles'} from {name}")
        elif key == "is_active_account":
            parts.append(f"{'reopened' if new else 'closed'} {poss} account")
        elif key == "email_verified_at" and new:
            parts.append(f"confirmed {poss} email address")
        elif key == "totp_enabled_at":
            parts.append(f"turned {'on' if new else 'off'} two-step sign-in for {name}")
        else:
            parts.append(f"changed {poss} {field_name(key)}")
    return _and(parts) if parts else None


def _role(value: str) -> str:
    try:
        return ROLE_LABELS[Role(value)].lower().replace("dsu lead", "DSU lead")
    except ValueError:
        return value


def _user_role(c: Change) -> str | None:
    role = _role(str(c.row.get("role", "")))
    if c.entry.action == AuditAction.CREATED:
        return f"gave {c.person()} the {role} role"
    if c.entry.action == AuditAction.DELETED:
        return f"took the {role} role from {c.person()}"
    return None


def _place(c: Change) -> str | None:
    person_id, offering_id = c.names.places.get(_int(c.entry.row_key), (None, None))
    person_id = c.row.get("user_id", person_id)
    offering = c.names.offering(c.row.get("offering_id", offering_id))
    name, poss = c.person(person_id), c.possessive(person_id)
    if c.entry.action == AuditAction.DELETED:
        return f"deleted {poss} place on {offering}"
    state = c.after.get("state")
    if state in PLACE_STATES:
        return PLACE_STATES[state].format(name=name, poss=poss, offering=offering)
    if "waitlist_position" in c.after and c.after["waitlist_position"] is not None:
        return (f"moved {name} to number {c.after['waitlist_position']} on the waiting list "
                f"for {offering}")
    return None


def _offering(c: Change) -> str | None:
    kind = OFFERING_KINDS.get(c.entry.model) or "course"
    title = c.row.get("title") or (c.names.offerings.get(_int(c.entry.row_key))
                                   if kind != "course" else None)
    what = f"the {kind} “{title}”" if title else f"{kind} {c.entry.row_key}"
    if c.entry.action == AuditAction.CREATED:
        return f"created {what}"
    if c.entry.action == AuditAction.DELETED:
        return f"deleted {what}"
    changed = c.changed
    if changed == ["status"] and c.after.get("status") == "cancelled":
        return f"cancelled {what}"
    if changed == ["published"]:
        return f"{'published' if c.after['published'] else 'unpublished'} {what}"
    if "status" in changed:
        rest = [field_name(k) for k in changed if k != "status"]
        said = f"changed the status of {what} to {value_text(c.after.get('status'))}"
        return said + (f" and changed its {_and(rest)}" if rest else "")
    return f"changed the {_and([field_name(k) for k in changed])} of {what}" if changed else None


def _session(c: Change) -> str | None:
    offering_id, starts = c.names.sessions.get(_int(c.entry.row_key), (None, None))
    offering = c.names.offering(c.row.get("offering_id", offering_id))
    old_start = c.before.get("starts_at") or c.row.get("starts_at")
    on = value_text(old_start) if old_start else (when_text(starts) if starts else "")
    what = f"the session of {offering}" + (f" on {on}" if on else "")
    if c.entry.action == AuditAction.CREATED:
        return f"added a session to {offering} on {value_text(c.after.get('starts_at'))}"
    if c.entry.action == AuditAction.DELETED:
        return f"removed {what}"
    changed = c.changed
    if c.after.get("status") == "cancelled":
        return f"cancelled {what}"
    if "starts_at" in changed and c.before.get("starts_at"):
        return f"moved {what} to {value_text(c.after.get('starts_at'))}"
    return f"changed the {_and([field_name(k) for k in changed])} of {what}" if changed else None


def _move_request(c: Change) -> str | None:
    name = c.person(c.row.get("user_id"))
    to = c.names.organisations.get(_int(c.row.get("to_organisation_id")), "another organisation")
    if c.entry.action == AuditAction.CREATED:
        frm = c.names.organisations.get(_int(c.row.get("from_organisation_id")), "their own")
        if c.is_self:
            return f"asked to move from {frm} to {to}"
        return f"asked to move {name} from {frm} to {to}"
    decision = MOVE_DECISIONS.get(c.after.get("status"))
    if decision:
        return f"{decision} {c.possessive(c.row.get('user_id'))} move to {to}"
    return None


def _attendance(c: Change) -> str | None:
    name = c.person(c.row.get("user_id"))
    session = c.names.session(c.row.get("session_id"))
    if c.entry.action == AuditAction.DELETED:
        return f"removed {c.possessive(c.row.get('user_id'))} mark at {session}"
    status = c.after.get("status")
    return f"marked {name} as {value_text(status)} at {session}" if status else None


def _certificate(c: Change) -> str | None:
    title, serial = c.row.get("title"), c.row.get("serial")
    what = (f"the certificate “{title}”" if title else "a certificate") + (
        f" ({serial})" if serial else "")
    name = c.person(c.row.get("user_id"))
    if c.entry.action == AuditAction.CREATED:
        return f"issued {name} {what}"
    if c.after.get("revoked_at"):
        reason = c.after.get("revoked_reason")
        return f"revoked {c.possessive(c.row.get('user_id'))} {what.removeprefix('the ')}" + (
            f": {reason}" if reason else "")
    return None


def _quota(c: Change) -> str | None:
    organisation = c.names.organisations.get(_int(c.row.get("organisation_id")), "an ICS")
    offering = c.names.offering(c.row.get("offering_id"))
    if c.entry.action == AuditAction.DELETED:
        return f"removed {organisation}’s quota on {offering}"
    places = c.after.get("places")
    return f"set {organisation}’s quota on {offering} to {places} " \
           f"{'place' if places == 1 else 'places'}"


def _evidence(c: Change) -> str | None:
    competency = c.names.competencies.get(_int(c.row.get("competency_id")), "a competency")
    if c.entry.action == AuditAction.CREATED:
        return (f"recorded {c.possessive(c.row.get('user_id'))} level on “{competency}” as "
                f"{c.row.get('level')}")
    return None


def _lead(c: Change) -> str | None:
    name, offering = c.person(c.row.get("user_id")), c.names.offering(c.row.get("offering_id"))
    if c.entry.action == AuditAction.CREATED:
        return f"made {name} a lead of {offering}"
    return f"removed {name} as a lead of {offering}"


def _sign_off(c: Change) -> str | None:
    person_id, offering_id = c.names.places.get(_int(c.row.get("enrolment_id")), (None, None))
    if c.entry.action == AuditAction.CREATED:
        return f"signed off {c.person(person_id)} on {c.names.offering(offering_id)}"
    return None


def _completion(c: Change) -> str | None:
    person_id, offering_id = c.names.places.get(_int(c.row.get("enrolment_id")), (None, None))
    if c.entry.action == AuditAction.CREATED:
        return (f"recorded that {c.person(person_id)} completed "
                f"{c.names.offering(offering_id)}")
    return None


def _titled(kind: str) -> Callable[[Change], str | None]:
    def builder(c: Change) -> str | None:
        name = c.row.get("title") or c.row.get("name")
        what = f"the {kind} “{name}”" if name else f"{kind} {c.entry.row_key}"
        if c.entry.action == AuditAction.CREATED:
            return f"created {what}"
        if c.entry.action == AuditAction.DELETED:
            return f"deleted {what}"
        if c.after.get("revoked_at"):
            return f"revoked {what}"
        changed = c.changed
        return f"changed the {_and([field_name(k) for k in changed])} of {what}" if changed \
            else None
    return builder


# One sentence builder per kind of record; each returns what the actor did (or None for the
# generic sentence).
BUILDERS: dict[str, Callable[[Change], str | None]] = {
    "User": _user, "UserRole": _user_role, "Enrolment": _place, "Session": _session,
    "OrganisationChange": _move_request, "Attendance": _attendance,
    "Certificate": _certificate, "OfferingQuota": _quota, "CompetencyEvidence": _evidence,
    "OfferingLead": _lead, "SignOff": _sign_off, "Completion": _completion,
    "Course": _offering, **dict.fromkeys(OFFERING_KINDS, _offering),
    "Survey": _titled("survey"), "ApiToken": _titled("API token"),
    "Competency": _titled("competency"), "Organisation": _titled("organisation"),
}
VERBS = {AuditAction.CREATED: "created", AuditAction.UPDATED: "changed",
         AuditAction.DELETED: "deleted"}


def _words(model: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", model).lower()


def sentence(entry: AuditEntry, names: Names) -> str:
    """What happened, as a sentence starting with who did it."""
    who = entry.who or "Someone"
    change = Change(entry, names, entry.before or {}, entry.after or {})
    if entry.action == AuditAction.ERASED:
        return f"{who} erased the personal data of person {entry.row_key}"
    if entry.action == AuditAction.RESTORED:
        return f"{who} restored the database from a backup"
    builder = BUILDERS.get(entry.model)
    done = builder(change) if builder else None
    if done:
        return f"{who} {done}"
    verb = VERBS.get(AuditAction(entry.action), entry.action)
    what = f"{_words(entry.model)}{' ' + entry.row_key if entry.row_key else ''}"
    fields = change.changed if entry.action == AuditAction.UPDATED else []
    said = f"{who} {verb} {what}"
    return said + (f": {_and([field_name(k) for k in fields])}" if fields else "")


def describe(entries: Iterable[AuditEntry]) -> list[Line]:
    """The page's lines for ``entries``: a sentence each, and the values behind it."""
    entries = list(entries)
    names = _lookup(entries)
    return [Line(entry, sentence(entry, names),
                 [(field_name(key), value_text(old), value_text(new))
                  for key, old, new in entry.changes])
            for entry in entries]
