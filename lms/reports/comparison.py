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
from lms.extensions import db
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


def _rates(places: list, shares: dict, completed: set[int]) -> Rates:
    held = [shares[p.id].percent for p in places if shares[p.id].percent is not None]
    finished = [p for p in places if shares[p.id].total and shares[p.id].held ==
                shares[p.id].total]
    return Rates(
        places=len(places),
        attendance=round(sum(held) / len(held)) if held else None,
        finished_places=len(finished),
        completion=round(100 * sum(p.id in completed for p in finished) / len(finished))
        if finished else None)


def ics_against_region(organisation: Organisation, filters: ReportFilters) -> Comparison:
    """The ICS's and the region's attendance and completion for the dashboard's filters
    (places on the offerings the filters pick). Four queries, whatever the numbers."""
    places = db.session.execute(
        select(Enrolment.id, Enrolment.user_id, Enrolment.offering_id,
               User.organisation_id)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.state.in_(HOLDS_PLACE), User.organisation_id.in_(_ics_ids()),
               *_offering_conditions(filters, Enrolment.offering_id))).all()
    shares = standing.shares(places)
    completed = set(standing.completions(p.id for p in places))
    mine = [p for p in places if p.organisation_id == organisation.id]
    return Comparison(ics=_rates(mine, shares, completed),
                      region=_rates(list(places), shares, completed))
