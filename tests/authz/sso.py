"""Routes of signing in with an NHS account (lms/sso). The suite's app has no identity
provider configured, so the provider's own pages are no pages; the steps after it, without a
sign-in from a provider in the session, send everyone back to sign in."""

from flask import Flask

from lms.accounts.sso_domains import require_sso
from lms.extensions import db
from tests.authz import ADMIN_ONLY, BAD, FORBIDDEN, MISSING, OK, REDIRECT, Route
from tests.conftest import ROLES


def world(app: Flask, people) -> dict:
    with app.app_context():
        row = require_sso("example.org")
        db.session.commit()
        return {"domain": row.id}


ALL_MISSING = dict.fromkeys(ROLES, MISSING)
ALL_REDIRECT = dict.fromkeys(ROLES, REDIRECT)
ADMIN_POST = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": FORBIDDEN,
              "dsu_other": FORBIDDEN, "faculty": FORBIDDEN, "admin": REDIRECT}

ROUTES: list[Route] = [
    Route("sso.start", lambda p, w: "/sign-in/nhs/nhsmail", ALL_MISSING),
    Route("sso.callback", lambda p, w: "/sign-in/nhs/nhsmail/callback?code=x&state=y",
          ALL_MISSING),
    Route("sso.link", lambda p, w: "/sign-in/nhs/link", ALL_REDIRECT),
    Route("sso.email_link", lambda p, w: "/sign-in/nhs/link/email", ALL_REDIRECT,
          method="POST"),
    Route("sso.link_by_email", lambda p, w: "/sign-in/nhs/link/not-a-token",
          dict.fromkeys(ROLES, BAD)),
    Route("sso.join", lambda p, w: "/sign-in/nhs/join", ALL_REDIRECT),
    # Signed out, the page says so (and offers the provider's sign-out, when there was one).
    Route("sso.signed_out", lambda p, w: "/signed-out",
          {"anonymous": OK, **dict.fromkeys(ROLES[1:], REDIRECT)}),
    Route("sso.domains", lambda p, w: "/admin/sso-domains", ADMIN_ONLY),
    Route("sso.remove_domain", lambda p, w: f"/admin/sso-domains/{w['domain']}/remove",
          ADMIN_POST, method="POST"),
]
