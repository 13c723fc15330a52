"""Materials in the API: read-only, the same rule as the pages, described in the OpenAPI
document."""

from __future__ import annotations

import io

from lms.accounts.models import Role
from lms.extensions import db
from lms.learning import materials
from lms.offerings import services as engine
from tests.test_learning_storage import PDF


def test_people_with_a_place_read_materials_and_others_do_not(app, client, login, make_user,
                                                              make_cohort):
    from lms.accounts.models import User
    from lms.courses.models import Cohort

    cohort = make_cohort()
    lena, otto = make_user(), make_user()
    faculty = make_user(Role.FACULTY)
    with app.app_context():
        offering = db.session.get(Cohort, cohort.id)
        engine.book(db.session.get(User, lena.id), offering)
        author = db.session.get(User, faculty.id)
        materials.add_material(author, offering, materials.MaterialDetails(
            kind="file", title="Slides", upload=materials.Upload("s.pdf", io.BytesIO(PDF))))
        materials.add_material(author, offering, materials.MaterialDetails(
            kind="link", title="Later", url="https://example.org/later", visible_from="after"))
        db.session.commit()
    url = f"/api/v1/offerings/{cohort.id}/materials"

    login(lena)
    body = client.get(url).get_json()
    assert [m["title"] for m in body["data"]] == ["Slides"]
    [slides] = body["data"]
    assert slides["kind"] == "file" and slides["size"] == len(PDF) and slides["url"] is None
    assert slides["download_url"].endswith(f"/materials/{slides['id']}/file")
    assert body["meta"]["total"] == 1

    login(faculty)
    assert [m["title"] for m in client.get(url).get_json()["data"]] == ["Slides", "Later"]
    login(otto)
    assert client.get(url).get_json()["data"] == []
    assert client.get("/api/v1/offerings/999999/materials").status_code == 404


def test_the_openapi_document_describes_materials(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/offerings/{offering_id}/materials"]["get"]
    assert operation["operationId"] == "materials"
    assert "Material" in document["components"]["schemas"]
