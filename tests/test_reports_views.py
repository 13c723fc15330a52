"""Dashboard pages: what each person sees, filters that make no sense, downloads that a
spreadsheet cannot run, the header's links, and the same queries at ten times the data."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook

from lms.accounts.models import Role
from lms.extensions import db
from tests.conftest import reset_database
from tests.test_reports_services import build_region, person


@dataclass
class Who:
    """Enough of a person to sign in as them on the test client."""

    id: int
    session_id: str

    def get_id(self) -> str:
        return self.session_id


def _who(user) -> Who:
    return Who(user.id, user.get_id())


@dataclass
class World:
    faculty: Who
    lead: Who
    other_lead: Who
    learner: Who
    cohort_id: int


def make_world(app, scale: int = 1, **names) -> World:
    """The region of ``build_region`` (fresh tables), with DSU leads of BSOL and BC."""
    with app.app_context():
        reset_database()
        region = build_region(scale)
        lead = person("BSOL", Role.DSU_LEAD, name="Dee Lead")
        other = person("BC", Role.DSU_LEAD, name="Bea Otherlead")
        for code, (name, job) in names.items():
            person(code, name=name, job=job)
        db.session.commit()
        return World(_who(region.faculty), _who(lead), _who(other),
                     _who(region.people["BSOL"][0]), region.cohort.id)


def title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.get_data(as_text=True), re.S).group(1)


def test_a_dsu_lead_sees_their_ics_and_another_ics_is_not_found(app, client, login):
    world = make_world(app)
    login(world.lead)
    assert client.get("/ics").location.endswith("/ics/BSOL")
    page = client.get("/ics/BSOL")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert title(page).startswith("Birmingham and Solihull: ICS dashboard")
    assert "Forecasting in practice: Spring" in text
    assert 'role="img"' in text and "Competency coverage" in text
    # Only the ICS's own four people, each once.
    people = client.get("/ics/BSOL/people.csv").get_data().decode("utf-8-sig").splitlines()
    assert len(people) == 1 + 4
    for url in ("/ics/BC", "/ics/bc", "/ics/BC/people.csv", "/ics/SU", "/ics/NOPE"):
        assert client.get(url).status_code == 404, url
    login(world.faculty)
    assert client.get("/ics/BC").status_code == 200
    assert client.get("/ics/BSOL/nothing.csv").status_code == 404


def test_a_range_ending_before_it_starts_gets_a_clear_message_and_no_figures(app, client,
                                                                             login):
    world = make_world(app)
    login(world.lead)
    page = client.get("/ics/BSOL?starts=2027-03-01&ends=2027-02-01")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert title(page).startswith("Error: ")
    assert '<a href="#ends">The end date must be the same as or after the start date</a>' \
        in text
    assert 'id="offerings"' not in text and "Correct the filters to see the figures" in text
    download = client.get("/ics/BSOL/people.csv?starts=2027-03-01&ends=2027-02-01")
    assert download.location.endswith("/ics/BSOL?starts=2027-03-01&ends=2027-02-01")
    page = client.get("/ics/BSOL?starts=31/02/2027")
    assert title(page).startswith("Error: ")
    assert "The start date must be a real date" in page.get_data(as_text=True)
    for url in ("/ics/BSOL?ends=9999-12-31", "/ics/BSOL?starts=0001-01-01"):
        page = client.get(url)
        assert title(page).startswith("Error: ")
        assert "Enter a date between 2000 and 2099" in page.get_data(as_text=True)
    login(world.faculty)
    assert title(client.get("/reports?starts=0001-01-01")).startswith("Error: ")
    page = client.get("/reports?starts=2020-01-01&ends=2027-01-01")
    assert title(page).startswith("Error: ")
    assert "no more than 3 years apart" in page.get_data(as_text=True)


def test_the_region_shows_every_ics_with_huddles_and_charts_beside_tables(app, client, login):
    world = make_world(app)
    login(world.faculty)
    page = client.get("/reports")
    text = page.get_data(as_text=True)
    assert title(page).startswith("Reports: the region")
    assert text.count("<h1") == 1
    # Participation, months, feedback and quota uptake.
    assert text.count('class="lms-chart" width="100%" viewBox') == 4
    assert 'href="/ics/BSOL"' in text and 'href="/ics/LINCS"' in text
    assert "Of which at network meetings (huddles)" in text
    assert "/reports/participation.csv" in text and "/reports/quota-uptake.xlsx" in text


def test_the_cohort_matrix_links_people_to_their_record(app, client, login):
    world = make_world(app)
    login(world.faculty)
    assert f'/reports/cohorts/{world.cohort_id}"' in client.get("/reports/cohorts").get_data(
        as_text=True)
    page = client.get(f"/reports/cohorts/{world.cohort_id}")
    text = page.get_data(as_text=True)
    assert "Forecasting (builds to Practitioner)" in text
    assert f'href="/faculty/people/{world.learner.id}/learning-record"' in text
    assert "3 of 9 people have reached Practitioner" in text


def test_downloads_neutralise_formulae_and_keep_numbers(app, client, login):
    world = make_world(app, BSOL=("=HYPERLINK(\"http://x\")", "@SUM(A1:A2)"))
    with app.app_context():
        from sqlalchemy import select

        from lms.accounts.models import User
        from lms.offerings.models import Enrolment

        sneaky = db.session.scalar(select(User).where(User.full_name.startswith("=")))
        db.session.add(Enrolment(offering_id=world.cohort_id, user_id=sneaky.id,
                                 state="requested"))
        other = db.session.scalar(select(User).where(User.full_name == "Bea Otherlead"))
        other.full_name = "-2+3"
        db.session.commit()
    login(world.lead)
    response = client.get("/ics/BSOL/people.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][0] == "Name"
    sneaky_row = next(r for r in rows if "HYPERLINK" in r[0])
    assert sneaky_row[:2] == ["'=HYPERLINK(\"http://x\")", "'@SUM(A1:A2)"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)

    response = client.get("/ics/BSOL/people.xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = list(sheet.iter_rows(values_only=True))
    sneaky_row = next(r for r in values if r[0] and "HYPERLINK" in r[0])
    assert sneaky_row[:3] == ("'=HYPERLINK(\"http://x\")", "'@SUM(A1:A2)", 0)
    assert all(isinstance(v, int) for v in sneaky_row[2:])
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)

    login(world.faculty)
    response = client.get("/reports/participation.xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert [c.value for c in sheet[1]][:2] == ["Organisation", "People with accounts"]
    rows = list(csv.reader(io.StringIO(client.get("/reports/feedback.csv").get_data()
                                       .decode("utf-8-sig"))))
    assert rows[1][:2] == ["Forecasting in practice", "Spring"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[1][2])


@pytest.mark.parametrize("page", ["ics", "region", "matrix", "cohorts", "people-csv"])
def test_pages_cost_the_same_queries_at_ten_times_the_data(app, client, login, count_queries,
                                                            page):
    counts = []
    for scale in (1, 10):
        world = make_world(app, scale)
        url = {"ics": "/ics/BSOL", "region": "/reports",
               "matrix": f"/reports/cohorts/{world.cohort_id}", "cohorts": "/reports/cohorts",
               "people-csv": "/ics/BSOL/people.csv"}[page]
        login(world.lead if page in ("ics", "people-csv") else world.faculty)
        with count_queries() as counted:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(counted.n)
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize(("role", "shown", "hidden"), [
    ("learner", ["My learning"], ["My ICS", "Reports"]),
    ("dsu_same", ["My learning", "My ICS"], ["Reports"]),
    ("faculty", ["My learning", "Reports"], ["My ICS"]),
    ("admin", ["My learning", "Reports"], ["My ICS"]),
    ("anonymous", [], ["My learning", "My ICS", "Reports"]),
])
def test_the_header_offers_each_role_its_own_links(client, login, people, role, shown, hidden):
    login(people.by_role(role))
    menu = client.get("/").get_data(as_text=True).split('aria-label="Menu"')[1].split(
        "</nav>")[0]
    labels = re.findall(r">\s*(?:<strong[^>]*>)?([^<>]+?)(?:</strong>)?\s*</a>", menu)
    for label in shown:
        assert label in labels, (role, label, labels)
    for label in hidden:
        assert label not in labels, (role, label)
