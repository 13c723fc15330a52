"""Presenter certificates for a talk given: one for the proposer and each confirmed
co-presenter, issued by faculty in the event's own certificate template
(``lms.certificates.presenters``)."""

from __future__ import annotations

from datetime import datetime

from lms.certificates.presenters import issue_for_presenting, live_presenter_certificate
from lms.clock import to_london, utcnow
from lms.errors import ALLOWED, Decision, DomainError, NotAllowed
from lms.talks import policy
from lms.talks.models import Proposal, ProposalState
from lms.talks.schedule import presenters


def may_certify(user, proposal: Proposal, now: datetime | None = None) -> Decision:
    """Faculty issue presenter certificates once the talk has been given."""
    if not policy.runs_calls(user):
        return Decision(False, "Only faculty can issue certificates", NotAllowed)
    session = proposal.session
    if proposal.state != ProposalState.ACCEPTED or session is None:
        return Decision(False, "Presenter certificates are for accepted talks")
    if session.is_cancelled:
        return Decision(False, "The session of this talk was cancelled")
    if session.ends_at > (now or utcnow()):
        return Decision(False, "Presenter certificates can be issued once the talk has been "
                               "given")
    return ALLOWED


def issue_presenter_certificates(actor, proposal: Proposal) -> int:
    """A certificate for each presenter who has none for this talk; returns how many."""
    may_certify(actor, proposal).enforce()
    session = proposal.session
    offering = session.offering
    issued = 0
    for person in presenters(proposal):
        if live_presenter_certificate(person, offering, proposal.title) is None:
            issue_for_presenting(actor, person, offering, proposal.title,
                                 to_london(session.starts_at).date(), proposal.length_minutes)
            issued += 1
    if not issued:
        raise DomainError("Every presenter already has a certificate for this talk")
    return issued
