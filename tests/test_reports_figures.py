"""Every dashboard figure, counted by the database, equals the same figure worked out in plain
Python over every row.

The world is the benchmark's generator at a tiny scale (about 90 people in 14 organisations,
courses, cohorts with quotas, huddles, webinars, a festival, marks of every kind, cancelled
sessions, completions, competency evidence from courses, faculty and the people themselves),
so the SQL's joins, ``IN`` lists, covering indexes and conditional counts are checked against
a loop that anyone can read. Made to guard the dashboards' speed work: a faster query that
counts differently fails here.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from bench.generate import generate
from lms import create_app
from lms.accounts.models import Organisation, User
from lms.attendance.models import ATTENDED, Attendance, Completion
from lms.clock import to_london, utcnow
from lms.competencies.models import (
    LEVEL_LABELS,
    Competency,
    CompetencyEvidence,
    CourseCompetency,
    Level,
)
from lms.competencies.services import COUNTED_SOURCES
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.offerings.models import HOLDS_PLACE, Enrolment, Offering, OfferingQuota, Session
from lms.reports import matrices, regional
from lms.reports import services as reports
from lms.reports.exports import XLSX_MIMETYPE
from lms.reports.services import BOOKED, PENDING, WAITING, ReportFilters

S = reports.S


@pytest.fixture(scope="module")
def world_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """An app on a tiny benchmark database of its own."""
    folder: Path = tmp_path_factory.mktemp("figures")
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'f.sqlite3'}",
                     MAIL_OUTBOX_DIR=str(folder / "outbox"))
    with app.app_context():
        db.create_all()
        generate(0.03)
        # What the generator does not make: cancelled sessions (with marks still on them),
        # closed accounts and a retired competency that people have evidence of.
        for session in db.session.scalars(select(Session).where(Session.id % 7 == 0)):
            session.status = "cancelled"
        for user in db.session.scalars(select(User).where(User.id % 10 == 0)):
            user.is_active_account = False
        used = db.session.scalar(select(CompetencyEvidence.competency_id).limit(1))
        db.session.get(Competency, used).retired_at = utcnow()
        db.session.commit()
        db.session.remove()
    return app


@pytest.fixture
def world(world_app: Flask):
    with world_app.app_context():
        yield Rows.load()
        db.session.rollback()


def utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass
class Rows:
    """Every row the dashboards count, as plain tuples."""

    orgs: dict[int, Organisation]
    users: dict[int, tuple]  # id -> (organisation_id, active, name, job title)
    offerings: dict[int, tuple]  # id -> (kind, title, status, quotas released, release at)
    cohorts: dict[int, int]  # offering id -> course id
    courses: dict[int, str]
    sessions: dict[int, tuple]  # id -> (offering id, starts at, status)
    enrolments: dict[int, tuple]  # id -> (user, offering, state, quota organisation)
    attendances: list[tuple]  # (session, user, status)
    completions: list[tuple]  # (enrolment, completed at)
    quotas: list[tuple]  # (offering, organisation, places)
    evidence: list[tuple]  # (user, competency, level, source)
    competencies: list[Competency]
    mapping: list[tuple]  # (course, competency)

    @classmethod
    def load(cls) -> Rows:
        def rows(*columns):
            return db.session.execute(select(*columns)).tuples().all()

        return cls(
            orgs={o.id: o for o in db.session.scalars(select(Organisation))},
            users={i: rest for i, *rest in rows(User.id, User.organisation_id,
                                                User.is_active_account, User.full_name,
                                                User.job_title)},
            offerings={i: rest for i, *rest in rows(
                Offering.id, Offering.kind, Offering.title, Offering.status,
                Offering.quotas_released, Offering.quota_release_at)},
            cohorts=dict(rows(Cohort.id, Cohort.course_id)),
            courses=dict(rows(Course.id, Course.title)),
            sessions={i: (o, utc(s), st) for i, o, s, st in rows(
                Session.id, Session.offering_id, Session.starts_at, Session.status)},
            enrolments={i: rest for i, *rest in rows(
                Enrolment.id, Enrolment.user_id, Enrolment.offering_id, Enrolment.state,
                Enrolment.quota_organisation_id)},
            attendances=rows(Attendance.session_id, Attendance.user_id, Attendance.status),
            completions=[(e, utc(at)) for e, at in rows(Completion.enrolment_id,
                                                        Completion.completed_at)],
            quotas=rows(OfferingQuota.offering_id, OfferingQuota.organisation_id,
                        OfferingQuota.places),
            evidence=rows(CompetencyEvidence.user_id, CompetencyEvidence.competency_id,
                          CompetencyEvidence.level, CompetencyEvidence.source),
            competencies=list(db.session.scalars(select(Competency))),
            mapping=rows(CourseCompetency.course_id, CourseCompetency.competency_id),
        )

    # What the filters pick, by the rules the reports module documents.
    def session_in(self, session_id: int, f: ReportFilters) -> bool:
        offering_id, starts, status = self.sessions[session_id]
        start, end = f.window
        return (status != "cancelled"
                and (f.course_id is None or self.cohorts.get(offering_id) == f.course_id)
                and (start is None or starts >= start) and (end is None or starts < end))

    def offering_in(self, offering_id: int, f: ReportFilters) -> bool:
        if f.course_id is not None and self.cohorts.get(offering_id) != f.course_id:
            return False
        start, end = f.window
        if start is None and end is None:
            return True
        return any(o == offering_id and self.session_in(s, f)
                   for s, (o, _, _) in self.sessions.items())

    def completion_in(self, enrolment_id: int, at: datetime, f: ReportFilters) -> bool:
        offering_id = self.enrolments[enrolment_id][1]
        start, end = f.window
        return (offering_id in self.cohorts
                and (f.course_id is None or self.cohorts[offering_id] == f.course_id)
                and (start is None or at >= start) and (end is None or at < end))

    def staff(self, org_ids) -> int:
        return sum(1 for org, active, *_ in self.users.values() if active and org in org_ids)

    def levels(self) -> dict[tuple[int, int], int]:
        best: dict[tuple[int, int], int] = {}
        for user, competency, level, source in self.evidence:
            if source in COUNTED_SOURCES:
                best[(user, competency)] = max(best.get((user, competency), 0), level)
        return best


def pct(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def expected_ics(rows: Rows, org_id: int, f: ReportFilters) -> dict:
    ours = {u for u, (org, *_) in rows.users.items() if org == org_id}
    # Places, attendance and completions per offering (webinars together).
    per: dict[int, dict] = {}

    def entry(offering_id: int) -> dict:
        kind, title = rows.offerings[offering_id][:2]
        key = 0 if kind == "webinar" else offering_id
        return per.setdefault(key, {"title": "Webinars" if key == 0 else title,
                                    "kind": kind, "states": Counter(), "attended": 0,
                                    "people": set()})

    offering_ok = {o: rows.offering_in(o, f) for o in rows.offerings}
    for user, offering_id, state, _ in rows.enrolments.values():
        if user in ours and offering_ok[offering_id]:
            entry(offering_id)["states"][state] += 1
    attended = [(s, u) for s, u, status in rows.attendances
                if u in ours and status in ATTENDED and rows.session_in(s, f)]
    for session_id, user in attended:
        e = entry(rows.sessions[session_id][0])
        e["attended"] += 1
        e["people"].add(user)
    offerings = [[e["title"], reports._kind_label(e["kind"]),
                  sum(e["states"][s] for s in BOOKED), sum(e["states"][s] for s in WAITING),
                  sum(e["states"][s] for s in PENDING), e["states"][S.COMPLETED],
                  e["attended"], len(e["people"])]
                 for e in sorted(per.values(), key=lambda e: (e["kind"] != "cohort",
                                                              e["title"].lower()))]
    # Quotas.
    now = utcnow()
    quotas = []
    for offering_id, quota_org, places in sorted(rows.quotas, key=lambda q: -q[0]):
        _, title, status, released, release_at = rows.offerings[offering_id]
        if quota_org != org_id or status == "cancelled" or not offering_ok[offering_id]:
            continue
        mine = [state for _, o, state, q in rows.enrolments.values()
                if o == offering_id and q == org_id]
        used = sum(1 for s in mine if s in HOLDS_PLACE)
        in_force = not released and (release_at is None or now < utc(release_at))
        quotas.append([title, places, used, sum(1 for s in mine if s in (S.NOMINATED,
                                                                          S.APPROVED)),
                       max(0, places - used),
                       "Reserved" if in_force else "Released to the region"])
    # People.
    people: dict[int, list] = {}
    for user, offering_id, state, _ in rows.enrolments.values():
        if user in ours and offering_ok[offering_id]:
            _, _, name, job = rows.users[user]
            row = people.setdefault(user, [name, job, 0, 0, 0, 0])
            row[2] += state in BOOKED
            row[3] += state in WAITING + PENDING
            row[4] += state == S.COMPLETED
    for _, user in attended:
        _, _, name, job = rows.users[user]
        people.setdefault(user, [name, job, 0, 0, 0, 0])[5] += 1
    # Coverage against the region's ICSs.
    ics = {o for o, org in rows.orgs.items() if org.is_ics}
    counted = [(u, c, level) for (u, c), level in rows.levels().items()
               if rows.users[u][1] and rows.users[u][0] in ics]
    chosen = {c for course, c in rows.mapping if course == f.course_id}
    ics_staff, region_staff = rows.staff({org_id}), rows.staff(ics)
    coverage = []
    for competency in sorted(rows.competencies, key=lambda c: c.name):
        if competency.retired_at is not None or (f.course_id is not None
                                                 and competency.id not in chosen):
            continue
        here = [(u, level) for u, c, level in counted if c == competency.id]
        ics_any = sum(1 for u, _ in here if rows.users[u][0] == org_id)
        ics_high = sum(1 for u, level in here
                       if rows.users[u][0] == org_id and level >= Level.PRACTITIONER)
        region_high = sum(1 for _, level in here if level >= Level.PRACTITIONER)
        coverage.append([competency.name, competency.domain_label, ics_any,
                         pct(ics_any, ics_staff), pct(len(here), region_staff), ics_high,
                         pct(ics_high, ics_staff), pct(region_high, region_staff)])
    return {"offerings": offerings, "quotas": quotas, "people": sorted(people.values()),
            "coverage": coverage,
            "summary": [ics_staff, region_staff, sum(r[2] + r[5] for r in offerings),
                        sum(r[6] for r in offerings), sum(r[5] for r in offerings)]}


def expected_region(rows: Rows, f: ReportFilters) -> dict:
    ics = sorted((o for o in rows.orgs.values() if o.is_ics), key=lambda o: o.name)
    groups = [(o.name, {o.id}) for o in ics]
    groups.append(("Other organisations", {o for o, org in rows.orgs.items()
                                            if not org.is_ics}))
    months = regional._months(f.starts, f.ends)
    attended = [(s, u) for s, u, status in rows.attendances
                if status in ATTENDED and rows.session_in(s, f)]
    done = [(rows.enrolments[e][0], rows.cohorts[rows.enrolments[e][1]])
            for e, at in rows.completions if rows.completion_in(e, at, f)]
    participation, over_time = [], []
    for name, ids in groups:
        mine = [(s, u) for s, u in attended if rows.users[u][0] in ids]
        people = {u for _, u in mine}
        network = sum(1 for s, _ in mine if rows.offerings[rows.sessions[s][0]][0] == "network")
        staff = rows.staff(ids)
        participation.append([name, staff, len(people), pct(len(people), staff), len(mine),
                              network, sum(1 for u, _ in done if rows.users[u][0] in ids)])
        by_month = Counter(to_london(rows.sessions[s][1]).strftime("%Y-%m") for s, _ in mine)
        over_time.append([name, *[by_month[m] for m in months]])
    totals = [sum(r[i] for r in participation) for i in (1, 2)]
    participation.append(["All organisations", totals[0], totals[1], pct(totals[1], totals[0]),
                          *[sum(r[i] for r in participation) for i in (4, 5, 6)]])
    over_time.append(["All organisations", *[sum(r[i] for r in over_time)
                                             for i in range(1, len(months) + 1)]])
    per_course: dict[int, list] = {}
    for user, course in done:
        entry = per_course.setdefault(course, [rows.courses[course], 0, set()])
        entry[1] += 1
        if rows.orgs[rows.users[user][0]].is_ics:
            entry[2].add(rows.users[user][0])
    completions = [[title, n, len(orgs)] for title, n, orgs in
                   sorted(per_course.values(), key=lambda e: e[0].lower())]
    uptake = []
    for o in ics:
        reserved = taken = 0
        for offering_id, quota_org, places in rows.quotas:
            if (quota_org != o.id or rows.offerings[offering_id][2] == "cancelled"
                    or not rows.offering_in(offering_id, f)):
                continue
            reserved += places
            taken += sum(1 for _, off, state, q in rows.enrolments.values()
                         if off == offering_id and q == o.id and state in HOLDS_PLACE)
        uptake.append([o.name, reserved, taken, pct(taken, reserved)])
    return {"participation": participation, "over-time": over_time,
            "completions": completions, "quota-uptake": uptake}


def filters_for(rows: Rows) -> list[ReportFilters]:
    """Unfiltered; the last year and the year ahead; a short window; the course with the
    most cohorts over three years."""
    today = to_london(utcnow()).date()
    busiest = Counter(rows.cohorts.values()).most_common(1)[0][0]
    return [ReportFilters(None, None, None),
            ReportFilters(None, today - timedelta(days=365), today + timedelta(days=365)),
            ReportFilters(None, today - timedelta(days=45), today),
            ReportFilters(busiest, today - timedelta(days=730), today + timedelta(days=365))]


def test_the_world_has_something_of_everything_to_count(world):
    statuses = Counter(status for *_, status in world.attendances)
    assert set(statuses) == {"present", "late", "absent", "excused"}
    assert {kind for kind, *_ in world.offerings.values()} >= {"cohort", "webinar", "network"}
    assert any(status == "cancelled" for *_, status in world.sessions.values())
    assert len({state for _, _, state, _ in world.enrolments.values()}) >= 5
    assert world.completions and world.quotas and world.evidence
    assert {source for *_, source in world.evidence} >= set(COUNTED_SOURCES)
    assert not all(active for _, active, *_ in world.users.values())
    assert any(c.retired_at for c in world.competencies)


def test_every_ics_dashboard_figure_equals_a_count_over_the_rows(world):
    checked = 0
    for organisation in sorted(world.orgs.values(), key=lambda o: o.code):
        if not organisation.is_ics:
            continue
        for f in filters_for(world):
            board = reports.ics_dashboard(organisation, f)
            want = expected_ics(world, organisation.id, f)
            where = (organisation.code, f)
            assert board.offerings.rows == want["offerings"], where
            assert board.quotas.rows == want["quotas"], where
            assert sorted(board.people.rows) == want["people"], where
            assert board.coverage.rows == want["coverage"], where
            assert [board.staff, board.region_staff, board.bookings, board.attendances,
                    board.completions] == want["summary"], where
            checked += bool(want["offerings"] and want["people"])
    assert checked >= 11  # figures to compare, not empty tables


def test_every_region_dashboard_figure_equals_a_count_over_the_rows(world):
    filled = Counter()
    for f in filters_for(world)[1:]:  # the region's dates are filled in, so give them
        board = regional.region_dashboard(f)
        want = expected_region(world, f)
        for key, rows in want.items():
            assert board.tables[key].rows == rows, (key, f)
            filled[key] += any(any(isinstance(c, int) and c for c in r[1:]) for r in rows)
    assert all(filled[key] for key in ("participation", "over-time", "completions",
                                        "quota-uptake")), filled


def test_people_are_listed_by_name_whatever_order_the_database_returns(world):
    organisation = next(o for o in world.orgs.values() if o.code == "BSOL")
    names = [row[0].lower() for row in reports.ics_dashboard(
        organisation, filters_for(world)[0]).people.rows]
    assert names == sorted(names) and names


def test_a_cohort_matrix_equals_each_persons_best_counted_evidence(world):
    levels = world.levels()
    cohort_id = max(world.cohorts, key=lambda c: sum(
        1 for _, o, state, _ in world.enrolments.values() if o == c and state in HOLDS_PLACE))
    matrix = matrices.cohort_matrix(db.session.get(Cohort, cohort_id))
    members = {u for u, o, state, _ in world.enrolments.values()
               if o == cohort_id and state in HOLDS_PLACE}
    assert {row.user_id for row in matrix.rows} == members
    for row in matrix.rows:
        assert row.levels == [levels.get((row.user_id, c.competency.id)) for c in
                              matrix.columns]
    assert any(level for row in matrix.rows for level in row.levels)
    assert all(LEVEL_LABELS[Level(v)] for row in matrix.rows for v in row.levels if v)


def test_a_date_range_that_selects_nothing_gives_empty_tables_not_errors(world):
    far = ReportFilters(None, date(2001, 1, 1), date(2001, 1, 31))
    organisation = next(o for o in world.orgs.values() if o.code == "BSOL")
    board = reports.ics_dashboard(organisation, far)
    assert board.offerings.rows == board.people.rows == board.quotas.rows == []
    region = regional.region_dashboard(far)
    assert region.participation.rows[-1][2:7] == [0, 0, 0, 0, 0]


# ---------------------------------------------------------------------------- charts, downloads


def test_every_chart_shows_the_numbers_of_its_table(world):
    """Issue #7, point 8: each bar is a number of the table beside it."""
    today = to_london(utcnow()).date()
    region = regional.region_dashboard(ReportFilters(None, today - timedelta(days=365), today))
    participation = region.participation.rows[:-1]
    assert [(b.label, b.value) for b in region.participation_bars] == [
        (row[0], row[4]) for row in participation]
    assert [b.value for b in region.month_bars] == region.over_time.rows[-1][1:]
    assert [(b.label, b.value) for b in region.uptake_bars] == [
        (row[0], row[3]) for row in region.quota_uptake.rows]
    latest = {}
    for course, _, _, _, agree, _ in region.feedback.rows:  # oldest first per course
        if agree is not None:
            latest[course] = agree
    assert {b.label: b.value for b in region.feedback_bars} == latest
    organisation = next(o for o in world.orgs.values() if o.code == "BSOL")
    board = reports.ics_dashboard(organisation, ReportFilters())
    assert [(b.label, b.first, b.second) for b in board.coverage_bars] == [
        (row[0], row[3], row[4]) for row in board.coverage.rows]
    assert any(b.value for b in region.participation_bars) and board.coverage_bars


def _svg_texts(page: str, chart_id: str) -> list[str]:
    svg = re.search(rf'<svg[^>]*aria-labelledby="{chart_id}".*?</svg>', page, re.S).group(0)
    return re.findall(r'<text x="\d+" y="\d+" font-size="\d+" fill="[^"]+">([^<]*)</text>',
                      svg)


def test_the_region_page_draws_its_charts_from_the_tables_figures(world_app):
    from bench.generate import FACULTY
    from bench.pages import signed_in_client

    client = signed_in_client(world_app, FACULTY)
    today = to_london(utcnow()).date()
    starts = today - timedelta(days=365)
    page = client.get(f"/reports?starts={starts}&ends={today}").get_data(as_text=True)
    with world_app.app_context():
        region = regional.region_dashboard(ReportFilters(None, starts, today))
        for chart_id, bars in (("chart-participation", region.participation_bars),
                               ("chart-months", region.month_bars),
                               ("chart-uptake", region.uptake_bars)):
            texts = [html.unescape(t) for t in _svg_texts(page, chart_id)]
            assert texts == [x for b in bars for x in (reports_short(b.label), b.text)], \
                chart_id
        db.session.rollback()


def reports_short(label: str) -> str:
    from lms.reports.charts import _short

    return _short(label)


def _numbers(cells) -> list[float]:
    return [c for c in cells if isinstance(c, int | float) and not isinstance(c, bool)]


def test_every_table_downloads_as_csv_and_excel_cell_for_cell(world_app):
    """Issue #7, point 8: every table of every dashboard, in both formats, with the rows the
    page shows (numbers as numbers in Excel)."""
    from bench.generate import FACULTY
    from bench.pages import signed_in_client

    client = signed_in_client(world_app, FACULTY)
    with world_app.app_context():
        organisation = db.session.scalar(select(Organisation).where(
            Organisation.code == "BSOL"))
        ics = reports.ics_dashboard(organisation, ReportFilters(
            None, *reports.ics_dates(None, None)))
        region = regional.region_dashboard(ReportFilters(None, *reports.region_dates(None,
                                                                                    None)))
        cohort = db.session.get(Cohort, max(
            db.session.scalars(select(Enrolment.offering_id).where(
                Enrolment.offering_id.in_(select(Cohort.id)),
                Enrolment.state.in_(HOLDS_PLACE)))))
        matrix = matrices.cohort_matrix(cohort).table
        cohort_id = cohort.id
        db.session.rollback()
    wanted = [(f"/ics/BSOL/{key}", table) for key, table in ics.tables.items()]
    wanted += [(f"/reports/{key}", table) for key, table in region.tables.items()]
    wanted.append((f"/reports/cohorts/{cohort_id}/matrix", matrix))
    assert len(wanted) == len(reports.ICS_TABLES) + len(regional.REGION_TABLES) + 1
    for path, table in wanted:
        text = client.get(f"{path}.csv").get_data().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == table.header, path
        assert len(rows) == 1 + len(table.rows), path
        book = client.get(f"{path}.xlsx")
        assert book.mimetype == XLSX_MIMETYPE, path
        sheet = list(load_workbook(io.BytesIO(book.get_data())).active.iter_rows(
            values_only=True))
        assert list(sheet[0]) == table.header, path
        for got, row in zip(sheet[1:], table.rows, strict=True):
            # Every number, whole or not: Excel hands a mean of 4.0 back as 4, and whether a
            # mean comes out whole depends on the data, which depends on the day.
            assert _numbers(got) == _numbers(row), path
    assert any(len(table.rows) for _, table in wanted)
