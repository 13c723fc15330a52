"""My certificates as kept in the page cache (``lms.cache``): one person's list, under
their version (a certificate issued, revoked or reissued renews it, ``certificate`` being
watched per person), per whether they are staff (the faculty's way to the issuing page).
Nothing on it changes with time alone, and it holds no form."""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from lms.cache import cached, person
from lms.certificates import pages


def my_certificates_page(user) -> Markup:
    """The person's certificates, kept for them."""
    staff = bool(user.is_faculty or user.is_admin)
    body = cached("my_certificates", (user.id, staff), depends_on=person(user.id),
                  build=lambda: _build(user, staff), size=2048)
    return Markup(body)  # noqa: S704 - a kept page, rendered by Jinja


def _build(user, staff: bool) -> tuple[str, None]:
    return render_template("certificates/_mine_main.html", staff=staff,
                           certificates=pages.my_certificates(user)), None
