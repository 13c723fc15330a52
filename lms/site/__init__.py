"""The pages every public-sector service has: privacy notice, accessibility statement,
cookies, help and contact. Public, linked from every page's footer."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The public pages and the footer links to them."""
    from lms.site import views

    app.register_blueprint(views.bp)
    app.jinja_env.globals["site_footer_links"] = views.FOOTER_LINKS
