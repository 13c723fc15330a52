"""The DSU lead's ICS against the region on attendance and completion: the summary at the
top of the ICS dashboard, counted with the one definition of "attended" and "completed"."""

from __future__ import annotations

from datetime import timedelta

from lms.attendance.models import Attendance, Completion
from lms.clock import utcnow
from lms.extensions import db
from lms.reports import comparison
from lms.reports.services import ReportFilters
from tests import catalogue_builders as build
from tests.conftest import organisation


def _region(app) -> dict:
    """One cohort with two held sessions: in BSOL Asha came to both and completed, Ben to
    one; in BC Cal came to neither. A cohort still running (one of two sessions held) adds a
    BSOL place that counts for attendance but not yet for completion."""
    with app.app_context():
        now = utcnow()
        course = build.course("Forecasting in practice")
        done = build.cohort(course, "Spring", status="finished",
                            starts=[now - timedelta(days=20), now - timedelta(days=13)])
        running = build.cohort(course, "Summer", status="running",
                               starts=[now - timedelta(days=6), now + timedelta(days=1)])
        asha, ben = build.person("BSOL"), build.person("BSOL")
        cal, dee = build.person("BC"), build.person("BSOL")
        places = {who: build.enrol(done, who) for who in (asha, ben, cal)}
        late = build.enrol(running, dee)
        for who, sessions in ((asha, done.sessions), (ben, done.sessions[:1]),
                              (dee, running.sessions[:1])):
            for s in sessions:
                db.session.add(Attendance(session_id=s.id, user_id=who.id, status="present",
                                          source="register"))
        for s in done.sessions:
            db.session.add(Attendance(session_id=s.id, user_id=cal.id, status="absent",
                                      source="register"))
        db.session.add(Completion(enrolment_id=places[asha].id, attendance_percent=100))
        db.session.commit()
        return {"late": late.id}


def test_the_ics_is_set_against_the_region_on_attendance_and_completion(app):
    _region(app)
    with app.app_context():
        against = comparison.ics_against_region(organisation("BSOL"), ReportFilters())
    # BSOL: Asha 100%, Ben 50%, Dee 100% (1 of 1 held); the region adds Cal at 0%.
    assert (against.ics.places, against.ics.attendance) == (3, 83)
    assert (against.region.places, against.region.attendance) == (4, 62)
    # Completion only over the finished cohort: BSOL 1 of 2, the region 1 of 3.
    assert (against.ics.finished_places, against.ics.completion) == (2, 50)
    assert (against.region.finished_places, against.region.completion) == (3, 33)
    assert [(b.label, b.first, b.second) for b in against.bars] == [
        ("Attendance", 83, 62), ("Completion", 50, 33)]


def test_the_dashboard_opens_with_the_summary_and_folds_its_tables(app, client, login,
                                                                   make_user):
    _region(app)
    lead = make_user("dsu_lead", org="BSOL")
    login(lead)
    page = client.get("/ics/BSOL").get_data(as_text=True)
    summary = page.index('id="summary"')
    assert summary < page.index("Attendance against the region") < page.index(
        'id="chart-against-region"') < page.index('id="offerings"')
    assert "83% in Birmingham and Solihull; 62% across the region" in page
    assert "50% in Birmingham and Solihull; 33% across the region" in page
    # Every long table is folded under its heading, inside a labelled region of its own.
    assert page.count('<details class="nhsuk-details lms-table-details">') == 4
    assert page.count('class="lms-table-scroll" role="region"') == page.count("<table")
    assert 'tabindex="0"' in page


def test_a_chart_key_gives_each_name_its_own_line_so_long_names_never_overlap():
    import re

    from lms.reports.charts import PairedBar, paired_bar_chart
    svg = str(paired_bar_chart("c", "t", [PairedBar("Attendance", 80, 60)],
                               ("Birmingham and Solihull Integrated Care System", "Region")))
    keys = re.findall(r'<text x="22" y="(\d+)"[^>]*>([^<]*)</text>', svg)
    # A name too long for the width is shortened, never run on into the next.
    assert [name for _, name in keys] == ["Birmingham and Solihull Integrated Care Sys…",
                                          "Region"]
    assert int(keys[1][0]) - int(keys[0][0]) >= 20  # a line apart, one above the other
    first_bar = int(re.search(r'<text x="0" y="(\d+)"', svg).group(1))
    assert first_bar > int(keys[1][0])  # the bars start below the key
