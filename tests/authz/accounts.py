"""Routes of accounts, admin and home."""

from tests.authz import (
    ADMIN_ONLY,
    ANONYMOUS_ONLY,
    BAD,
    EVERYONE_OK,
    FORBIDDEN,
    OK,
    REDIRECT,
    SIGNED_IN_OK,
    Route,
)
from tests.conftest import ROLES


def world(app, people) -> dict:
    """Nothing beyond the people is needed."""
    return {}


ROUTES: list[Route] = [
    Route("home.index", lambda p, w: "/", EVERYONE_OK),
    Route("home.healthz", lambda p, w: "/healthz", EVERYONE_OK),
    Route("accounts.sign_up", lambda p, w: "/sign-up", ANONYMOUS_ONLY),
    Route("accounts.check_email", lambda p, w: "/sign-up/check-your-email", EVERYONE_OK),
    Route("accounts.verify_email", lambda p, w: "/confirm-email/not-a-token",
          dict.fromkeys(ROLES, BAD)),
    Route("accounts.resend_verification", lambda p, w: "/confirm-email/resend", EVERYONE_OK),
    Route("accounts.sign_in", lambda p, w: "/sign-in", ANONYMOUS_ONLY),
    Route("accounts.sign_out", lambda p, w: "/sign-out", dict.fromkeys(ROLES, REDIRECT),
          method="POST"),
    Route("accounts.forgot_password", lambda p, w: "/forgot-password", EVERYONE_OK),
    Route("accounts.reset_password", lambda p, w: "/reset-password/not-a-token",
          dict.fromkeys(ROLES, BAD)),
    Route("accounts.profile", lambda p, w: "/profile", SIGNED_IN_OK),
    Route("accounts.change_password", lambda p, w: "/profile/password", SIGNED_IN_OK),
    # Without a password just given, the code step sends everyone back to sign in.
    Route("accounts.sign_in_code", lambda p, w: "/sign-in/code", dict.fromkeys(ROLES, REDIRECT)),
    Route("accounts.two_factor", lambda p, w: "/profile/two-step-verification", SIGNED_IN_OK),
    # Admins, faculty and DSU leads may turn it on; the admin has it on already (admins must),
    # so is sent back to the page that says so.
    Route("accounts.two_factor_set_up", lambda p, w: "/profile/two-step-verification/set-up",
          {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": OK, "dsu_other": OK,
           "faculty": OK, "admin": REDIRECT}),
    Route("admin.users", lambda p, w: "/admin/users", ADMIN_ONLY),
    Route("admin.user", lambda p, w: f"/admin/users/{p.learner.id}", ADMIN_ONLY),
]
