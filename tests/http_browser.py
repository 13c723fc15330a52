"""One person's browser, cut down: cookies kept over plain HTTP/1.1 connections to a server
a test started on 127.0.0.1 (gunicorn), forms posted as a browser posts them (with the
page's CSRF token where the page has one, and a ``Referer``)."""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlencode

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def go(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        """(status, body) of one request, keeping the cookies the answer sets."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            return response.status, text
        finally:
            conn.close()

    def page(self, path: str) -> str:
        """A page that must answer 200."""
        status, text = self.go("GET", path)
        assert status == 200, (path, status, text[:500])
        return text

    def sign_in(self, email: str, password: str) -> None:
        """Through the sign-in form (its CSRF token, where the app asks for one)."""
        _status, page = self.go("GET", "/sign-in")
        token = TOKEN.search(page)
        form = {"email": email, "password": password}
        if token:
            form["csrf_token"] = token.group(1)
        status, _ = self.go("POST", "/sign-in", form)
        assert status == 302, f"{email} could not sign in"
