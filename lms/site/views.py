"""Privacy notice, accessibility statement, cookies, help and contact: public pages, the
same for everyone, whose facts (cookies, retention, contact) come from ``lms.site.facts``."""

from __future__ import annotations

from flask import Blueprint, render_template

from lms.site import facts

bp = Blueprint("site", __name__)

# (label, endpoint): the footer of every page links to each.
FOOTER_LINKS = (
    ("Help", "site.help"),
    ("Contact us", "site.contact"),
    ("Privacy notice", "site.privacy"),
    ("Accessibility statement", "site.accessibility"),
    ("Cookies", "site.cookies"),
)


@bp.route("/privacy")
def privacy():
    """The privacy notice (UK GDPR): what is held, why, for how long, rights, contact."""
    return render_template("site/privacy.html", facts=facts.site_facts())


@bp.route("/accessibility")
def accessibility():
    """The accessibility statement, in the public-sector model form."""
    return render_template("site/accessibility.html", facts=facts.site_facts())


@bp.route("/cookies")
def cookies():
    """The cookies this service sets: strictly necessary ones only."""
    return render_template("site/cookies.html", facts=facts.site_facts())


@bp.route("/help")
def help():  # noqa: A001 - the page is called "Help"
    """Answers to the questions people ask most, and where to go next."""
    return render_template("site/help.html", facts=facts.site_facts())


@bp.route("/contact")
def contact():
    """How to reach the MDSN learning team."""
    return render_template("site/contact.html", facts=facts.site_facts())
