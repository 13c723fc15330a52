"""A network's resources page: members share links and files and search them; faculty pin
and remove; members-only items answer 404 to everyone else."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from lms.accounts.models import Role, User
from lms.extensions import db
from lms.learning.resources_models import NetworkResource
from lms.offerings import services as engine
from lms.offerings.models import Offering
from tests.test_events_support import make_network
from tests.test_learning_storage import PDF


@pytest.fixture
def network(app, make_user):
    """A network Mia is a member of; Nell is not; Fay is faculty."""
    mia, nell = make_user(name="Mia Member"), make_user(name="Nell Nonmember")
    fay = make_user(Role.FACULTY, name="Fay Faculty")
    with app.app_context():
        series = make_network()
        engine.book(db.session.get(User, mia.id), series)
        db.session.commit()
        return series.id, mia, nell, fay


def share(client, network_id, **fields):
    data = {"kind": "link", "title": "Waiting list model", "description": "An R model",
            "tags": "R, Forecasting", "url": "https://github.com/example/model",
            "members_only": "y", **fields}
    return client.post(f"/networks/{network_id}/resources/new", data=data,
                       content_type="multipart/form-data")


def test_members_share_and_search_and_others_see_only_open_items(app, client, login, network,
                                                                 any_storage):
    network_id, mia, nell, fay = network
    login(mia)
    assert share(client, network_id).status_code == 302
    assert share(client, network_id, kind="file", title="Slides on queues", tags="queues",
                 description="Open to all", url="", members_only="",
                 file=(io.BytesIO(PDF), "queues.pdf")).status_code == 302
    page = client.get(f"/networks/{network_id}/resources?q=forecasting").get_data(as_text=True)
    assert ">Waiting list model</a>" in page and ">Slides on queues</a>" not in page
    page = client.get(f"/networks/{network_id}/resources?q=queues").get_data(as_text=True)
    assert ">Slides on queues</a>" in page and ">Waiting list model</a>" not in page

    with app.app_context():
        rows = {r.title: r.id for r in db.session.scalars(select(NetworkResource))}
    login(nell)
    page = client.get(f"/networks/{network_id}/resources").get_data(as_text=True)
    assert ">Slides on queues</a>" in page and ">Waiting list model</a>" not in page
    assert client.get(f"/resources/{rows['Slides on queues']}/file").data == PDF
    # Not a member: she cannot share, and a members-only file is not there for her.
    assert share(client, network_id).status_code == 403
    login(mia)
    file_share = share(client, network_id, kind="file", title="Members' data", url="",
                       file=(io.BytesIO(PDF), "data.pdf"))
    assert file_share.status_code == 302
    with app.app_context():
        members_file = db.session.scalar(select(NetworkResource.id).where(
            NetworkResource.title == "Members' data"))
    assert client.get(f"/resources/{members_file}/file").status_code == 200
    login(nell)
    assert client.get(f"/resources/{members_file}/file").status_code == 404
    login(None)
    assert client.get(f"/resources/{members_file}/file").status_code == 404


def test_a_wrong_file_is_refused_and_nothing_is_saved(app, client, login, network,
                                                      any_storage):
    network_id, mia, *_ = network
    login(mia)
    response = share(client, network_id, kind="file", url="",
                     file=(io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "a.svg"))
    assert response.status_code == 200 and "The file must be" in response.get_data(True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(NetworkResource)) == 0


def test_faculty_pin_and_remove(app, client, login, network):
    network_id, mia, _, fay = network
    login(mia)
    share(client, network_id, title="Older")
    share(client, network_id, title="Newer")
    with app.app_context():
        older = db.session.scalar(select(NetworkResource.id).where(
            NetworkResource.title == "Older"))
    assert client.post(f"/faculty/resources/{older}/pin").status_code == 403
    login(fay)
    client.post(f"/faculty/resources/{older}/pin")
    page = client.get(f"/networks/{network_id}/resources").get_data(as_text=True)
    assert page.index(">Older</a>") < page.index(">Newer</a>")
    assert client.post(f"/faculty/resources/{older}/remove").status_code == 302
    assert ">Older</a>" not in client.get(f"/networks/{network_id}/resources").get_data(True)


def test_a_course_is_not_a_network(app, client, login, make_cohort, network):
    cohort = make_cohort()
    _, mia, *_ = network
    login(mia)
    with app.app_context():
        assert db.session.get(Offering, cohort.id).kind == "cohort"
    assert client.get(f"/networks/{cohort.id}/resources").status_code == 404
