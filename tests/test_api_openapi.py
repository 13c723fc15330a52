"""The OpenAPI document matches the code, and the documentation page is readable."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from lms.api import openapi

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def routes_of_the_blueprint(app) -> set[tuple[str, str]]:
    """(method, OpenAPI path) for every route of the ``api`` blueprint."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        assert path.startswith(openapi.SERVER)
        path = path.removeprefix(openapi.SERVER)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((method.lower(), path))
    return found


def described(doc: dict) -> set[tuple[str, str]]:
    return {(method, path) for path, item in doc["paths"].items() for method in item
            if method in HTTP_METHODS}


def test_every_route_is_described_and_every_description_is_a_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    routes, paths = routes_of_the_blueprint(app), described(doc)
    assert routes - paths == set(), "routes missing from the OpenAPI document"
    assert paths - routes == set(), "the OpenAPI document describes routes that do not exist"
    assert len(routes) == 21  # with materials and the two of assignments (lms.learning)


def test_path_parameters_are_declared_as_they_appear(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    parameters = doc["components"]["parameters"]
    for path, item in doc["paths"].items():
        named = set(re.findall(r"{([^}]+)}", path))
        declared = set()
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for p in [*item.get("parameters", []), *operation["parameters"]]:
                p = parameters[p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p
                if p["in"] == "path":
                    declared.add(p["name"])
        assert declared == named, path


def test_every_reference_resolves(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    text = client.get("/api/v1/openapi.json").get_data(as_text=True)
    for kind, name in re.findall(r'"\$ref":\s*"#/components/(\w+)/(\w+)"', text):
        assert name in doc["components"][kind], (kind, name)
    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": app.config["BASE_URL"].rstrip("/") + "/api/v1"}]


def test_every_operation_is_documented_for_people(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    ids = set()
    for item in doc["paths"].values():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            assert operation["summary"] and operation["description"] and operation["x-access"]
            assert "429" in operation["responses"] and "401" in operation["responses"]
            ids.add(operation["operationId"])
    assert len(ids) == 21  # with materials and the two of assignments (lms.learning)


class Page(HTMLParser):
    """Headings, ids, scripts and stylesheets of a page."""

    def __init__(self):
        super().__init__()
        self.h1 = 0
        self.ids: list[str] = []
        self.sources: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h1":
            self.h1 += 1
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag in ("script", "link", "img") and (attrs.get("src") or attrs.get("href")):
            self.sources.append(attrs.get("src") or attrs.get("href"))
        self._in_title = tag == "title"

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False


def test_the_docs_page_shows_every_operation_from_this_site_only(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    page = Page()
    page.feed(html)
    assert page.h1 == 1 and page.title.startswith("API documentation")
    assert len(page.ids) == len(set(page.ids)), "ids on the page must be unique"
    assert all(src.startswith("/") and not src.startswith("//") for src in page.sources)
    doc = openapi.document()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                assert f"operation-{operation['operationId']}" in page.ids
                assert f"<code>/api/v1{path}</code>" in html
    for kind in doc["x-problem-types"]:
        assert f"problem-{kind['slug']}" in page.ids
    assert "/profile/api-tokens" in html
