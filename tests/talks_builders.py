"""Builders for the calls-for-talks tests (no tests here): a huddle call and proposals made
through the real services, inside the caller's app context."""

from __future__ import annotations

from lms.events.models import NetworkSeries
from lms.talks import services
from lms.talks.models import Call, Proposal
from tests.test_events_support import faculty, london_day, make_network, person


def huddle_call(network: NetworkSeries | None = None, meetings: int = 3,
                hide_scores: bool = True, closes_in: int = 14) -> Call:
    """An open call on a fortnightly huddle series, offering its first ``meetings``."""
    network = network or make_network(count=6)
    free = services.free_meetings(network)[:meetings]
    return services.open_call(faculty(), network, services.CallDetails(
        title="Huddle talks for spring", wanted="Local projects, **any size**.",
        strands=[], lengths=["20", "30"], closes_on=london_day(closes_in),
        hide_scores=hide_scores, session_ids=[str(s.id) for s in free]))


def proposal(call: Call, who=None, co: str = "", title: str = "Forecasting A&E demand",
             strand: str = "analytical_capability", length: str = "30") -> Proposal:
    return services.propose(who or person("proposer"), call, services.ProposalDetails(
        title=title, abstract="We *forecast* demand.", strand=strand, length=length,
        co_presenters=co, preferred_dates="Any Wednesday", slides_shareable=True))
