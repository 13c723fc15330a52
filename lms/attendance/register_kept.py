"""A session's register as kept in the page cache (``lms.cache``): per session, roles (they
decide whether the viewer may mark it) and name filter, under the session's offering's
version (the session, the places on it), the ``register:<session>`` version (a mark saved
or changed: ``watch_tables``) and the ``people`` version (the names, emails and
organisations shown), until the session starts (marking opens). The register is a form:
its CSRF tokens are filled in per request, and a failed "add a person" is rendered afresh
with its errors (``register_page(..., add_form=...)``); flashes are the layout's."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, render_template
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import select

from lms import cache
from lms.attendance import policy, services
from lms.attendance.forms import AddPersonForm
from lms.attendance.models import MARK_LABELS
from lms.attendance.register_rows import matching
from lms.cache.kept import CSRF_SLOT, earliest_after, with_csrf
from lms.clock import utcnow
from lms.errors import NotFound
from lms.extensions import db
from lms.offerings.models import Session
from lms.web import page_number, shown_page


def watch_tables(app: Flask) -> None:
    """A mark saved, changed or removed renews its session's ``register:<id>``."""
    cache.also_renews(app, "attendance", "register:{session_id}")


@dataclass(frozen=True)
class RegisterPage:
    """The page's title and back link, and its main part (with this request's token)."""

    session_id: int
    offering_id: int
    title: Markup
    offering_title: str
    body: Markup


# People a page of a register shows: a network's register (3,000 members at national scale)
# is read and saved a page at a time, so its page stays the same size however many join.
REGISTER_PAGE_SIZE = 500


def register_page(user, session_id: int, query: str = "",
                  add_form: AddPersonForm | None = None, page: str | None = None
                  ) -> RegisterPage:
    """The register of a session as ``user`` sees it, filtered by name with ``query``,
    kept; ``NotFound`` when there is no such session. With ``add_form`` (a failed "add a
    person", its errors shown), built afresh. One query before the versions (which
    offering)."""
    offering_id = db.session.scalar(select(Session.offering_id).where(Session.id == session_id))
    if offering_id is None:
        raise NotFound("No such session")
    asked = page_number(page)
    if add_form is not None:
        (title, offering_title, body), _ = _build(user, session_id, query, asked, add_form,
                                                  generate_csrf())
        return RegisterPage(session_id, offering_id, Markup(title),  # noqa: S704 - ours
                            offering_title, Markup(body))  # noqa: S704 - our template
    depends_on = (cache.offering(offering_id) + cache.named(f"register:{session_id}")
                  + cache.PEOPLE)
    key = (session_id, tuple(sorted(user.roles)), query, asked)
    title, offering_title, body = cache.cached(
        "register_page", key, depends_on=depends_on, size=256,
        build=lambda: _build(user, session_id, query, asked, AddPersonForm(formdata=None),
                             CSRF_SLOT))
    return RegisterPage(session_id, offering_id, Markup(title),  # noqa: S704 - ours
                        offering_title, with_csrf(body))


def _build(user, session_id: int, query: str, asked: int, add_form: AddPersonForm,
           token: str):
    session = services.get_session(session_id)
    everyone = services.register(session)
    may_mark = policy.may_take_register(user, session)
    shown = shown_page(matching(everyone, query), asked, REGISTER_PAGE_SIZE,
                       {"id": session_id, **({"q": query} if query else {})})
    body = render_template("attendance/_register_main.html", session=session,
                           rows=shown.entries, shown=shown, everyone=everyone, query=query,
                           labels=MARK_LABELS, add_form=add_form, may_mark=may_mark,
                           token=token)
    title = render_template("attendance/_register_title.html", session=session).strip()
    return ((title, session.offering.title, body),
            earliest_after((session.starts_at,), utcnow()))
