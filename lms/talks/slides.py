"""A talk's slides: once a talk is accepted, its presenters add files to the talk's session
through the materials feature (``lms.learning.materials``), which asks
``lms.learning.policy.may_add_materials``; this module tells that policy who presents which
session (``is_presenter``, registered in ``lms.talks.init_app``)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import StringField

from lms.errors import ALLOWED, Decision, DomainError
from lms.extensions import db
from lms.learning import materials, storage
from lms.learning.materials_models import VISIBLE_AT_START
from lms.talks.models import CoPresenter, Proposal, ProposalState

KINDS = storage.ALL_KINDS


class SlidesForm(FlaskForm):
    title = StringField("Title (optional)")
    file = FileField("File")


def is_presenter(user, session) -> bool:
    """Whether ``user`` presents an accepted talk at ``session`` (the proposer, or a
    co-presenter who confirmed)."""
    confirmed = select(CoPresenter.proposal_id).where(CoPresenter.user_id == user.id,
                                                      CoPresenter.confirmed_at.is_not(None))
    return db.session.scalar(select(Proposal.id).where(
        Proposal.session_id == session.id, Proposal.state == ProposalState.ACCEPTED,
        (Proposal.proposer_id == user.id) | Proposal.id.in_(confirmed)).limit(1)) is not None


def may_upload(user, proposal: Proposal) -> Decision:
    """The presenters add slides once the talk is accepted into a session."""
    if proposal.state != ProposalState.ACCEPTED or proposal.session is None:
        return Decision(False, "Slides can be added once the talk has been accepted")
    if proposal.session.is_cancelled:
        return Decision(False, "The session of this talk has been cancelled")
    if not is_presenter(user, proposal.session):
        return Decision(False, "Only the talk's confirmed presenters can add its slides")
    return ALLOWED


def add_slides(user, proposal: Proposal, title: str | None, upload) -> object:
    """A file for the talk's session, seen by people with a place from the moment the talk
    starts; shown to everyone when the presenter said the slides may be shared and the
    event is open to all."""
    may_upload(user, proposal).enforce()
    if upload is None or not upload.filename:
        raise DomainError("Select a file", "file")
    session = proposal.session
    offering = session.offering
    return materials.add_material(user, offering, materials.MaterialDetails(
        kind="file", title=(title or "").strip() or f"Slides: {proposal.title}"[:200],
        session_id=session.id, visible_from=VISIBLE_AT_START,
        public=bool(proposal.slides_shareable and offering.booking_mode == "open"),
        upload=materials.Upload(upload.filename, upload.stream)))
