"""Erasure of what a person wrote in calls for talks (``lms.privacy``'s ``Erasing`` event,
connected in ``lms.talks.init_app``)."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from lms.extensions import db
from lms.talks.models import CallReviewer, CoPresenter, Proposal, ProposalState, Review


def erase_person_talks(event) -> None:
    """Their proposals not given go (with their reviews and co-presenters); a talk given or
    scheduled stays on the programme (it happened, and the session shows it) but loses its
    abstract, preferred dates and messages. Their reviews, co-presenting and reviewer
    invitations go. Names typed into sessions and speakers are swept by the erasure itself."""
    person_id = event.person_id
    own = select(Proposal.id).where(Proposal.proposer_id == person_id,
                                    Proposal.state != ProposalState.ACCEPTED)
    db.session.execute(delete(Review).where(Review.proposal_id.in_(own)))
    db.session.execute(delete(CoPresenter).where(CoPresenter.proposal_id.in_(own)))
    db.session.execute(delete(Proposal).where(Proposal.id.in_(own)))
    db.session.execute(update(Proposal).where(Proposal.proposer_id == person_id).values(
        abstract="", preferred_dates="", decided_message=""))
    db.session.execute(delete(Review).where(Review.reviewer_id == person_id))
    db.session.execute(delete(CoPresenter).where(CoPresenter.user_id == person_id))
    db.session.execute(delete(CallReviewer).where(CallReviewer.user_id == person_id))
    db.session.flush()
