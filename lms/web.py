"""What every feature's views share: role checks, the navigation, form errors, filters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial, wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import TextAreaField

from lms.accounts.models import Role
from lms.cache import fragment_cache
from lms.cache.kept import CSRF_SLOT, with_csrf
from lms.clock import date_text, span_text, time_text, utcnow, when_text
from lms.errors import DomainError, InvalidInput, NotAllowed, NotFound
from lms.formatted_text import formatted


class EmptyForm(FlaskForm):
    """A form with nothing but the CSRF token, for POST-only buttons."""


class ConfirmForm(FlaskForm):
    """A confirmation page's form: the CSRF token, and a reason when one is asked for."""

    reason = TextAreaField("Reason")


@dataclass(frozen=True)
class ReasonBox:
    """The reason a confirmation page asks for, and who will see it (the hint)."""

    label: str
    hint: str
    required: bool = False


@dataclass(frozen=True)
class Confirmation:
    """A destructive action's "Are you sure?" page: the question (its ``h1``), what follows
    (worked out by the feature's rules, not written per page), the button that does it, where
    "No" goes back to, and the reason asked for, if any. Built by the feature (e.g.
    ``lms.offerings.consequences``) and shown by ``confirm_page``."""

    question: str
    consequences: tuple[str, ...]
    button: str
    back: str
    caption: str = ""
    reason: ReasonBox | None = None
    keep: str = "No, go back"


def confirm_page(confirmation: Confirmation, form: ConfirmForm | None = None,
                 action: str | None = None):
    """The one confirmation page (``templates/confirm.html``): GET shows it, and its form
    POSTs to ``action`` (the same address by default), where the view does the action."""
    from flask import render_template

    return render_template("confirm.html", confirmation=confirmation,
                           form=form or ConfirmForm(),
                           action=action or request.full_path.rstrip("?"))


def confirm_then(confirmation: Confirmation, action: Callable[[], Any], *,
                 done: str | Callable[[Any], str], back: str):
    """A destructive action behind the one confirmation page: GET asks, POST does it
    (``do_confirmed``). For actions whose page needs nothing from the request."""
    form = ConfirmForm()
    if request.method == "GET":
        return confirm_page(confirmation, form)
    return do_confirmed(form, lambda: confirmation, action, done=done, back=back)


def reason_given(form: ConfirmForm) -> str:
    """The reason typed on a confirmation page (spaces tidied; empty when none)."""
    return " ".join((form.reason.data or "").split())


def role_required(*roles: Role):
    """Signed-in people holding any of ``roles`` get in; others signed in get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not any(current_user.has_role(role) for role in roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's error on the form field it names, or on the form as a whole."""
    pairs = error.errors if isinstance(error, InvalidInput) else [(error.field, error.message)]
    for name, message in pairs:
        field = getattr(form, name, None) if name else None
        if field is not None:
            field.errors = [*(field.errors or []), message]
        else:
            form.form_errors.append(message)


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    visible: Callable[[object], bool]
    order: int = 50


_NAV = "lms.nav"
_OFFERING_PAGES = "lms.offering_pages"


def add_nav_item(app: Flask, label: str, endpoint: str, visible: Callable[[object], bool],
                 order: int = 50) -> None:
    """A feature adds one of its links to ``app``'s header navigation (from its
    ``init_app``); the same endpoint twice keeps the first."""
    items: list[NavItem] = app.extensions.setdefault(_NAV, [])
    if all(item.endpoint != endpoint for item in items):
        items.append(NavItem(label, endpoint, visible, order))
        items.sort(key=lambda item: item.order)


def nav_items_of(app: Flask) -> list[NavItem]:
    """``app``'s header navigation, in order (a copy)."""
    return list(app.extensions.get(_NAV, []))


def everyone(user) -> bool:
    return True


def signed_in(user) -> bool:
    return bool(user.is_authenticated)


def signed_out(user) -> bool:
    return not user.is_authenticated


def holds(role: Role) -> Callable[[object], bool]:
    return lambda user: bool(user.is_authenticated and user.has_role(role))




def register_template_helpers(app: Flask) -> None:
    """Navigation and filters available to every template."""
    # The NHS.UK style (lms.clock): {{ x | date }}, {{ x | full_date }}, {{ x | time }},
    # {{ x | when }}, {{ starts | span(ends) }}.
    app.jinja_env.filters["date"] = date_text
    app.jinja_env.filters["full_date"] = partial(date_text, weekday=True)
    app.jinja_env.filters["time"] = time_text
    app.jinja_env.filters["when"] = when_text
    app.jinja_env.filters["span"] = span_text
    app.jinja_env.filters["formatted"] = formatted  # Markdown, sanitised (lms.formatted_text)
    app.jinja_env.globals["offering_url"] = offering_url
    app.jinja_env.globals["now_utc"] = utcnow

    # The menu's addresses take no arguments, so they are the same on every request under
    # one script root: built once, not ~8 times per page.
    hrefs: dict[tuple[str, str], str] = {}

    def href_of(endpoint: str) -> str:
        key = (endpoint, request.script_root)
        if key not in hrefs:
            hrefs[key] = url_for(endpoint)
        return hrefs[key]

    nav = app.extensions.setdefault(_NAV, [])

    def nav_items() -> tuple[MenuLink, ...]:
        user = current_user._get_current_object()  # the proxy resolved once, not per item
        path = request.path
        items = []
        for item in nav:
            if item.visible(user):
                href = href_of(item.endpoint)
                current = path == href or (href != "/" and path.startswith(href))
                items.append(MenuLink(item.label, href, current, current and path == href))
        return tuple(items)

    # The layout's parts that are the same for everyone with the same name and menu (the
    # header), or for everyone (the head's links, the footer): made once per process and
    # kept, not made on every request (that was a sixth of a kept page's time, issue 19).
    def page_header() -> Markup:
        user = current_user._get_current_object()
        name = user.full_name if user.is_authenticated else None
        items = nav_items()
        html = _kept_part(("header", request.script_root, name, items), lambda: render_template(
            "_layout_header.html", name=name, items=items, csrf_slot=CSRF_SLOT))
        # Signed in, its sign-out form carries the session's token; signed out it has none.
        return with_csrf(html) if name is not None else Markup(html)  # noqa: S704 - ours

    def page_head() -> Markup:
        return Markup(_kept_part(("head", request.script_root),  # noqa: S704 - as above
                                 lambda: render_template("_layout_head.html")))

    def page_footer() -> Markup:
        return Markup(_kept_part(("footer", request.script_root),  # noqa: S704 - as above
                                 lambda: render_template("_layout_footer.html")))

    @app.context_processor
    def navigation():
        return {"page_header": page_header, "page_head": page_head, "page_footer": page_footer,
                "Role": Role}


# One kept part per signed-in name and menu: about a worker's people active at once.
_KEPT_PARTS = 4096


def _kept_part(key: tuple, render: Callable[[], str]) -> str:
    """A part of the layout made from ``key`` alone, kept in this process (``lms.cache``)."""
    return fragment_cache("layout_parts", size=_KEPT_PARTS).get_or_build(
        (), key, lambda: (render(), None))


@dataclass(frozen=True)
class MenuLink:
    """One link of the menu as a request sees it: is it the current section, and is it the
    very page (``aria-current="page"``)?"""

    label: str
    href: str
    current: bool
    here: bool


# Page numbers past this are not page numbers (a pasted id, a payload).
_MAX_PAGE_DIGITS = 5


def page_number(asked: str | None) -> int:
    """The page of a paged list an address asks for (``?page=``), from 1: anything but a
    page number (a typo, a payload) asks for the first; ``shown_page`` takes one past the
    end (an old link) to the last."""
    asked = asked or ""
    return max(int(asked), 1) if asked.isdigit() and len(asked) <= _MAX_PAGE_DIGITS else 1


def page_count(total: int, size: int) -> int:
    """How many pages of ``size`` hold ``total`` things (one, when there are none)."""
    return max(1, -(-total // size))


@dataclass(frozen=True)
class Shown:
    """One page of a list: its ``entries``, how many there are in all (``total``), the
    number of the first shown from 1 (0 when none), page ``page`` of ``pages``, and the
    address's arguments its page links keep (``_macros/pagination.html``)."""

    entries: list
    total: int
    first: int
    page: int
    pages: int
    args: dict

    @property
    def last(self) -> int:
        """The number of the last entry shown (0 when none)."""
        return self.first + len(self.entries) - 1 if self.entries else 0


def shown_page(entries: Sequence, asked: int, size: int, args: Mapping) -> Shown:
    """Page ``asked`` (``page_number``; one past the end gives the last) of ``entries``,
    ``size`` a page."""
    pages = page_count(len(entries), size)
    page = min(asked, pages)
    start = (page - 1) * size
    return Shown(list(entries[start:start + size]), len(entries), start + 1 if entries else 0,
                 page, pages, dict(args))


def add_offering_page(app: Flask, kind: str, endpoint: str) -> None:
    """Each kind of offering (cohort, webinar, ...) says which page of ``app`` shows it,
    taking ``id`` (from its feature's ``init_app``)."""
    app.extensions.setdefault(_OFFERING_PAGES, {})[kind] = endpoint


def offering_page(kind: str) -> str | None:
    """The endpoint of the current app's page for offerings of ``kind`` (taking ``id``)."""
    return current_app.extensions.get(_OFFERING_PAGES, {}).get(kind)


def offering_url(offering) -> str:
    """The public page of an offering of any kind."""
    endpoint = offering_page(offering.kind)
    return url_for(endpoint, id=offering.id) if endpoint else "#"


def absolute_url(path: str) -> str:
    """``path`` (from ``url_for``) on the configured address of the service (``BASE_URL``,
    set by ``LMS_BASE_URL``), never on the request's ``Host``, which the caller chooses."""
    return current_app.config["BASE_URL"].rstrip("/") + path


# The longest ``next`` kept: a page on this site, not a payload.
MAX_NEXT = 2000


def local_path(target: object, default: str) -> str:
    """``target`` when it is a path on this site, else ``default``: the one check of every
    ``next`` (a form's hidden field, the sign-in link's query, the second step's session).

    Browsers drop tabs and line breaks inside a URL and read a backslash as a slash, so
    "/\\t/evil.example" or "/\\evil.example" would leave the site, and a line break in a
    ``Location`` header is refused by the server (a 500 after the action was saved). So only
    printable ASCII without spaces or backslashes is kept, starting with one slash."""
    if not isinstance(target, str) or not 1 <= len(target) <= MAX_NEXT:
        return default
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(not "!" <= ch <= "~" for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def next_page(default: str) -> str:
    """Where this request asks to go afterwards (its ``next`` field or query), checked by
    ``local_path``; ``default`` when it asks for nothing or somewhere off the site. Read it
    at the start of a view, before anything is saved."""
    return local_path(request.values.get("next"), default)


@dataclass
class Done:
    """A service ran and its change was committed; ``value`` is what it returned."""

    value: Any


def attempt(action: Callable[..., Any], *args: Any,
            on_refusal: Callable[[DomainError], None] | None = None) -> Done | DomainError:
    """Run one service call for a view: commit once and return ``Done``, or, when a rule
    says no, roll back and return the ``DomainError`` for the page to show. ``NotFound`` and
    ``NotAllowed`` go on to the app's handlers (404 and 403 pages). ``on_refusal`` writes
    what a refusal itself must leave behind (a throttle's count), committed after the
    rollback."""
    from lms.extensions import db

    try:
        value = action(*args)
    except (NotFound, NotAllowed):
        raise
    except DomainError as error:
        db.session.rollback()
        if on_refusal is not None:
            on_refusal(error)
            db.session.commit()
        return error
    db.session.commit()
    return Done(value)


def submit(form: FlaskForm, action: Callable[[], Any], *,
           every_problem_at_once: bool = False,
           on_refusal: Callable[[DomainError], None] | None = None) -> Done | None:
    """A form's POST: when it validates run ``action`` and commit once; on a ``DomainError``
    roll back and put its messages on the form. ``None`` means show the form (again).
    ``NotFound`` and ``NotAllowed`` go on to the app's handlers (404 and 403 pages).

    With ``every_problem_at_once``, boxes the form itself could not read (a date like
    31/2/2027) are passed to the service as empty, so the person sees every problem at once,
    not one round at a time; nothing is saved while any box is wrong.
    """

    if every_problem_at_once:
        if request.method != "POST":
            return None
        form.validate()
        unreadable = {name for name, field in form._fields.items() if field.errors}
        if "csrf_token" in unreadable:
            return None
    elif form.validate_on_submit():
        unreadable = set()
    else:
        return None
    typed = {name: form[name].data for name in unreadable}
    for name in unreadable:
        form[name].data = None
    outcome = attempt(action, on_refusal=on_refusal) if not unreadable \
        else _without_saving(action)
    if isinstance(outcome, Done):
        return outcome
    if outcome is not None:
        pairs = outcome.errors if isinstance(outcome, InvalidInput) else [(outcome.field,
                                                                           outcome.message)]
        kept = [(field, message) for field, message in pairs if field not in unreadable]
        if kept:
            show_error(form, InvalidInput(kept))
    for name, data in typed.items():
        form[name].data = data
    return None


def _without_saving(action: Callable[[], Any]) -> DomainError | None:
    """Run ``action`` only for the problems it finds, then roll back whatever it did."""
    from lms.extensions import db

    try:
        action()
    except (NotFound, NotAllowed):
        raise
    except DomainError as error:
        return error
    finally:
        db.session.rollback()
    return None


def perform(action: Callable, *args, done: str | Callable[[Any], str]) -> bool:
    """Run one service call for a POST-only button: on a domain error roll back and show its
    message (a ``NotAllowed`` too: the button's page says why it was refused); otherwise
    commit once and show ``done`` (or ``done(what the call returned)``). Returns whether it
    worked. ``NotFound`` goes on to the app's handler (the 404 page)."""
    from lms.extensions import db

    try:
        outcome = attempt(action, *args)
    except NotAllowed as error:
        db.session.rollback()
        outcome = error
    if not isinstance(outcome, Done):
        flash(outcome.message, "error")
        return False
    flash(done(outcome.value) if callable(done) else done, "success")
    return True


def do_confirmed(form: ConfirmForm, confirmation: Callable[[], Confirmation],
                 action: Callable[[], Any], *, done: str | Callable[[Any], str], back: str):
    """A confirmation page's POST: run ``action`` as ``perform`` does (commit once, or roll
    back and say why on ``back``); a problem with the reason (too long, or missing where it
    is required) shows the page again with the message on the reason box."""
    from flask import redirect

    from lms.extensions import db

    if not form.validate_on_submit():
        abort(400)
    try:
        outcome = attempt(action)
    except NotAllowed as error:
        db.session.rollback()
        outcome = error
    if isinstance(outcome, Done):
        flash(done(outcome.value) if callable(done) else done, "success")
        return redirect(back)
    if outcome.field == "reason":
        show_error(form, outcome)
        return confirm_page(confirmation(), form), 200
    flash(outcome.message, "error")
    return redirect(back)
