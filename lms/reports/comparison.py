"""An ICS against the region on attendance and completion, for the top of its dashboard.

Both figures come from ``lms.attendance.standing``, the one home of "attended" and
"completed": no second definition here.

- **Attendance**: the average attendance share of the places held by the ICS's people (of
  the sessions held so far, leaving out those a person was excused from), over places whose
  offering has held a session.
- **Completion**: of the places on offerings whose sessions have all been held, the share
  that were completed.

The region is every ICS's people together (the regional team and the Strategy Unit are not
an ICS).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lms.accounts.models import Organisation, User
from lms.attendance import standing
from lms.offerings.models import HOLDS_PLACE, Enrolment
from lms.reports.charts import PairedBar
from lms.reports.services import ReportFilters, _ics_ids, _offering_conditions


@dataclass(frozen=True)
class Rates:
    """One group's attendance and completion (None when nothing can be said yet)."""

    places: int
    attendance: int | None
    finished_places: int
    completion: int | None


@dataclass(frozen=True)
class Comparison:
    """An ICS's rates beside the region's, and the chart bars of both."""

    ics: Rates
    region: Rates

    @property
    def bars(self) -> list[PairedBar]:
        rows = [("Attendance", self.ics.attendance, self.region.attendance),
                ("Completion", self.ics.completion, self.region.completion)]
        return [PairedBar(label, first or 0, second or 0) for label, first, second in rows
                if first is not None or second is not None]


def _rates(tallies: list[standing.Tallied]) -> Rates:
    """Attendance: the average of the places' shares (those with a session held);
    completion: of the places whose sessions have all been held, the share completed."""
    held = [(t.share.percent, t.places) for t in tallies if t.share.percent is not None]
    finished = [t for t in tallies if t.share.total and t.share.held == t.share.total]
    counted = sum(n for _, n in held)
    done = sum(t.places for t in finished)
    return Rates(
        places=sum(t.places for t in tallies),
        attendance=round(sum(p * n for p, n in held) / counted) if counted else None,
        finished_places=done,
        completion=round(100 * sum(t.places for t in finished if t.completed) / done)
        if done else None)


def ics_against_region(organisation: Organisation, filters: ReportFilters) -> Comparison:
    """The ICS's and the region's attendance and completion for the dashboard's filters
    (places on the offerings the filters pick). One query, whatever the numbers: the places'
    shares are tallied in the database (``standing.tallied``), per ICS or not."""
    places = (
        select(Enrolment.id.label("id"), Enrolment.user_id.label("user_id"),
               Enrolment.offering_id.label("offering_id"),
               (User.organisation_id == organisation.id).label("group"))
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.state.in_(HOLDS_PLACE), User.organisation_id.in_(_ics_ids()),
               *_offering_conditions(filters, Enrolment.offering_id))).cte()
    tallies = standing.tallied(places)
    return Comparison(ics=_rates([t for t in tallies if t.group]), region=_rates(tallies))
