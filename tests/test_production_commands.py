"""Running in production from the installed package (issue 20, item 8): the configuration
is part of the package, so ``flask`` and ``create_app`` work from any folder; ``flask lms
create-admin`` makes the first admin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.accounts.services import authenticate
from lms.extensions import db
from tests.production import production_environment

FLASK = str(Path(sys.executable).parent / "flask")
GOOD = "kettle harbour violin 42"


def _elsewhere(tmp_path: Path, *command: str, **env) -> subprocess.CompletedProcess:
    """Run ``command`` in an empty folder, away from the repository, with no PYTHONPATH."""
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("LMS_") and k != "PYTHONPATH"}
    return subprocess.run(command, cwd=tmp_path, env={**environment, **env},
                          capture_output=True, text=True, timeout=120, check=False)


def test_flask_commands_work_outside_the_repository(tmp_path):
    result = _elsewhere(tmp_path, FLASK, "--app", "lms", "lms", "--help")
    assert result.returncode == 0, result.stderr
    for command in ("create-admin", "scheduler", "throttles", "backup", "restore"):
        assert command in result.stdout


def test_the_production_app_builds_outside_the_repository(tmp_path):
    """What gunicorn does (``lms:create_app()``), from another folder, with production's
    settings: the templates and migrations are found."""
    code = ("from lms import create_app; app = create_app(); "
            "print(app.config['LMS_CONFIG_NAME'], app.jinja_loader.searchpath[0], "
            "app.extensions['migrate'].directory)")
    result = _elsewhere(tmp_path, sys.executable, "-c", code, LMS_CONFIG="production",
                        **production_environment())
    assert result.returncode == 0, result.stderr
    name, templates, migrations = result.stdout.split()
    assert name == "production"
    assert (Path(templates) / "layout.html").is_file()
    assert (Path(migrations) / "env.py").is_file()


def test_create_admin_makes_the_first_admin_from_prompts(app, runner):
    result = runner.invoke(args=["lms", "create-admin"],
                           input=f"First.Admin@Example.nhs.uk\nAda Admin\nSU\n{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "Admin first.admin@example.nhs.uk created" in result.output
    assert "two-step verification" in result.output
    with app.app_context():
        person = authenticate("first.admin@example.nhs.uk", GOOD)
        assert person.roles == {Role.LEARNER, Role.ADMIN}
        assert person.organisation.code == "SU"
        assert person.email_verified_at is not None
        db.session.rollback()


def test_create_admin_refuses_a_weak_password_and_saves_nothing(app, runner):
    result = runner.invoke(args=["lms", "create-admin", "--email", "a@example.nhs.uk",
                                 "--name", "Ada", "--organisation", "SU",
                                 "--password", "password1234567"])
    assert result.exit_code != 0
    assert "too easy to guess" in result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "a@example.nhs.uk")) is None


def test_create_admin_a_second_time_says_one_exists_unless_forced(app, runner, make_user):
    first = ["lms", "create-admin", "--email", "one@example.nhs.uk", "--name", "One",
             "--organisation", "SU", "--password", GOOD]
    assert runner.invoke(args=first).exit_code == 0
    second = ["lms", "create-admin", "--email", "two@example.nhs.uk", "--name", "Two",
              "--organisation", "BSOL", "--password", GOOD]
    refused = runner.invoke(args=second)
    assert refused.exit_code != 0
    assert "An admin already exists (one@example.nhs.uk)" in refused.output
    assert runner.invoke(args=[*second, "--force"]).exit_code == 0

    learner = make_user(email="lena@example.nhs.uk")
    promoted = runner.invoke(args=["lms", "create-admin", "--email", "lena@example.nhs.uk",
                                   "--name", "x", "--organisation", "SU", "--password", GOOD,
                                   "--force"])
    assert "now an admin (password unchanged)" in promoted.output
    with app.app_context():
        assert db.session.get(User, learner.id).is_admin
        admins = db.session.scalars(select(User.email).where(
            User.role_rows.any(role=Role.ADMIN))).all()
        assert sorted(admins) == ["lena@example.nhs.uk", "one@example.nhs.uk",
                                  "two@example.nhs.uk"]
        db.session.rollback()


def test_create_admin_refuses_an_unknown_organisation(runner):
    result = runner.invoke(args=["lms", "create-admin", "--email", "o@example.nhs.uk",
                                 "--name", "O", "--organisation", "NOPE", "--password", GOOD])
    assert result.exit_code != 0
    assert "No organisation has the code 'NOPE'" in result.output
