"""How features are wired together: each in its own ``init_app(app)``, nothing at import.

- Two apps in one process get the same pages, links, commands and listeners, once each, and
  share none of them.
- An app whose factory did not call a feature's ``init_app`` gets nothing from that feature,
  though the feature's modules are imported: no listener of it runs, not even the session
  listeners attached to the session factory every app shares.
- Importing every module of ``lms`` in a fresh interpreter connects nothing.
- No module keeps a registry: a module-level list, dict or set that code changes (other than
  the few caches named below), or a module-level call that changes another module's state.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

import lms.certificates
import lms.competencies
from lms import create_app
from lms.attendance.completion import Completed, complete_on_feedback
from lms.audit.models import AuditEntry
from lms.audit.services import acting_as
from lms.cache.models import CacheVersion
from lms.events.reminders import after_session_senders
from lms.extensions import db
from lms.feedback.services import FeedbackGiven
from lms.listeners import listeners_of
from lms.web import nav_items_of

ROOT = Path(__file__).resolve().parent.parent
SESSION_EVENTS = ("after_flush", "do_orm_execute", "before_commit", "after_transaction_end",
                  "before_flush", "after_commit", "after_rollback", "after_begin")


def lms_session_listeners() -> list[str]:
    """Every function from ``lms`` listening to ``db``'s sessions, once per attachment."""
    session = db.session.session_factory()
    try:
        return [f"{name}: {fn.__module__}.{fn.__qualname__}"
                for name in SESSION_EVENTS for fn in getattr(session.dispatch, name)
                if getattr(fn, "__module__", "").startswith("lms")]
    finally:
        session.close()


@pytest.fixture(scope="module")
def second_app(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return create_app("testing",
                      SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                      MAIL_OUTBOX_DIR=str(tmp_path_factory.mktemp("outbox")))


@pytest.fixture
def bare_app(app: Flask) -> Flask:
    """An app on the same database with no feature's ``init_app`` called."""
    bare = Flask("bare")
    bare.config.update(TESTING=True,
                       SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    db.init_app(bare)
    return bare


def test_two_apps_get_everything_once_and_share_nothing(app, second_app):
    for one in (app, second_app):
        endpoints = [item.endpoint for item in nav_items_of(one)]
        assert len(endpoints) == len(set(endpoints)) >= 10
        assert listeners_of(Completed, one) == [lms.certificates.issue_on_completion,
                                                lms.competencies.record_course_evidence]
        assert listeners_of(FeedbackGiven, one) == [complete_on_feedback]
        assert [s.kind for s in after_session_senders(one)] == ["feedback"]
        commands = one.cli.commands["lms"].commands
        assert {"feedback", "certificates", "seed-bench"} <= set(commands)
    links = [[(i.label, i.endpoint, i.order) for i in nav_items_of(one)]
             for one in (app, second_app)]
    assert links[0] == links[1]  # the same links, in the same order
    assert app.extensions["lms.listeners"] is not second_app.extensions["lms.listeners"]
    assert app.cli.commands["lms"] is not second_app.cli.commands["lms"]
    with app.app_context():
        attached = lms_session_listeners()
    assert [name for name, n in Counter(attached).items() if n > 1] == []
    assert any("lms.audit." in name for name in attached)
    assert any("lms.cache.versions." in name for name in attached)


def test_an_app_without_the_features_init_app_gets_nothing_from_them(app, bare_app,
                                                                      make_user):
    assert listeners_of(Completed, bare_app) == []
    assert listeners_of(FeedbackGiven, bare_app) == []
    assert nav_items_of(bare_app) == []
    assert after_session_senders(bare_app) == []
    assert "lms" not in bare_app.cli.commands
    person = make_user(name="Before")

    def rename(on: Flask, name: str) -> None:
        with on.app_context(), acting_as("a test"):
            db.session.get(type(person), person.id).full_name = name
            db.session.commit()

    def audited_and_stamped() -> tuple[int, str | None]:
        with app.app_context():
            return (db.session.scalar(select(func.count()).select_from(AuditEntry).where(
                        AuditEntry.table_name == "user_account")),
                    db.session.scalar(select(CacheVersion.version)
                                      .where(CacheVersion.scope == "offer")))

    # The audit and the cache's versions listen to the session factory both apps share: in
    # the bare app they do nothing, in the app that connected them they record the same change.
    _, stamp = audited_and_stamped()
    rename(bare_app, "Renamed in the bare app")
    assert audited_and_stamped() == (0, stamp)
    rename(app, "Renamed in the real app")
    audited, new_stamp = audited_and_stamped()
    assert audited == 1 and new_stamp != stamp


def test_importing_every_module_connects_nothing():
    """In a fresh interpreter, import all of ``lms`` and build no app: no session listener
    from ``lms`` is attached, and the shared command group holds only its own commands."""
    script = f"""
import importlib, json, pkgutil
import lms
for module in pkgutil.walk_packages(lms.__path__, "lms."):
    importlib.import_module(module.name)
from lms.cli import lms_cli
from lms.extensions import db, login_manager
session = db.session.session_factory()
print(json.dumps({{
    "session": [f"{{name}}: {{fn.__module__}}.{{fn.__qualname__}}"
                for name in {SESSION_EVENTS!r} for fn in getattr(session.dispatch, name)
                if getattr(fn, "__module__", "").startswith("lms")],
    "commands": sorted(lms_cli.commands),
    "login_view": login_manager.login_view,
}}))
"""
    found = json.loads(subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True,
                                      capture_output=True, text=True).stdout)
    assert found["session"] == []
    assert "feedback" not in found["commands"] and "certificates" not in found["commands"]
    assert found["login_view"] is None


# ---------------------------------------------------------------------------- no registries

# Module-level containers that are caches of the module's own work (built once, keyed by
# what they were built from), not places where other code signs things up.
CACHES = {
    "lms.extensions._compiled": "compiled statements read_row runs on a raw connection",
    "lms.extensions._IDLE": "each engine's idle own connections for hot reads (PostgreSQL)",
    "lms.extensions._INHERITED": "own connections a forked child must never close",
    "lms.events.calendars._owner": "the feed owner's statement, built once",
    "lms.events.calendars._validator": "the feed validator's statement, built once",
    "lms.offerings.feed._prebuilt": "the feed's two statements, built once",
    "lms.accounts.services._DUMMY_HASH_CACHE": "a dummy password hash per method",
    "lms.offerings.feed._feed_cache": "personal feeds' bodies by (person, ETag)",
}
MUTATING_METHODS = {"append", "extend", "insert", "add", "update", "setdefault", "pop",
                    "popitem", "remove", "discard", "clear", "sort", "__setitem__",
                    "connect", "connect_via"}
MUTABLE_CALLS = {"list", "dict", "set", "defaultdict", "OrderedDict", "deque", "Namespace",
                 "Signal", "signal"}
# Decorators that sign the function up somewhere when the module is imported.
REGISTERING_DECORATORS = {"listens_for", "exempt", "user_loader", "request_loader",
                          "connect_via", "connect"}


def modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted((ROOT / "lms").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(), str(path))
    return found


def is_mutable(value: ast.expr) -> bool:
    if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp,
                          ast.SetComp)):
        return True
    if isinstance(value, ast.Call):
        func_node = value.func
        name = func_node.attr if isinstance(func_node, ast.Attribute) else getattr(
            func_node, "id", "")
        return name in MUTABLE_CALLS
    return False


def module_containers(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign) else
                   [node.target] if isinstance(node, ast.AnnAssign) and node.value else [])
        if targets and is_mutable(node.value):
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def imported_names(tree: ast.Module) -> dict[str, str]:
    """Local name -> what it is (``module`` or ``module.attr``), for every import."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    names[alias.name.split(".")[0]] = alias.name.split(".")[0]
    return names


def qualified(node: ast.expr, module: str, local: set[str], imports: dict[str, str]) -> str:
    """``pkg.module.NAME`` for a name or dotted attribute, as far as it can be told."""
    if isinstance(node, ast.Name):
        if node.id in local:
            return f"{module}.{node.id}"
        return imports.get(node.id, "")
    if isinstance(node, ast.Attribute):
        base = qualified(node.value, module, local, imports)
        return f"{base}.{node.attr}" if base else ""
    return ""


def mutations(module: str, tree: ast.Module, containers: set[str]) -> list[tuple[str, int]]:
    """(what is changed, line) for every change, inside a function, to a module-level
    container of any module."""
    imports = imported_names(tree)
    local = module_containers(tree)
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            targets = []
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in MUTATING_METHODS):
                targets.append(node.func.value)
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
                for target in getattr(node, "targets", None) or [node.target]:
                    if isinstance(target, ast.Subscript):
                        targets.append(target.value)
            for target in targets:
                name = qualified(target, module, local, imports)
                if name in containers:
                    found.append((name, node.lineno))
    return found


def import_time_calls(module: str, tree: ast.Module) -> list[str]:
    """Calls made when the module is imported that reach into another module (``x.f(...)``
    or ``f(...)`` with ``f`` imported), and decorators that sign a function up somewhere."""
    imports = imported_names(tree)
    found = []
    for node in tree.body:
        statements = [node] + ([n for n in ast.walk(node) if isinstance(n, ast.Expr)]
                               if isinstance(node, (ast.For, ast.If, ast.With, ast.Try)) else [])
        for statement in statements:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
                root = statement.value.func
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in imports:
                    found.append(f"{module}:{statement.lineno}")
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Attribute) and target.attr in REGISTERING_DECORATORS:
                    found.append(f"{module}:{node.lineno} @{target.attr}")
    return found


def test_no_module_keeps_a_registry():
    trees = modules()
    containers = {f"{module}.{name}" for module, tree in trees.items()
                  for name in module_containers(tree)}
    allowed = set(CACHES)
    assert allowed <= containers, "a container named here is gone: take it off the list"
    changed = {name for module, tree in trees.items()
               for name, _line in mutations(module, tree, containers)}
    assert sorted(changed - allowed) == []
    assert [call for module, tree in trees.items()
            for call in import_time_calls(module, tree)] == []


def test_the_registry_scan_finds_the_kinds_it_forbids():
    """The scan above, on small examples of what it must catch (so it is not vacuous)."""
    registry = ast.parse("HOOKS = []\ndef sign_up(f):\n    HOOKS.append(f)\n")
    assert mutations("a", registry, {"a.HOOKS"}) == [("a.HOOKS", 3)]
    filler = ast.parse("from a import PAGES\ndef add(k, v):\n    PAGES[k] = v\n")
    assert mutations("b", filler, {"a.PAGES"}) == [("a.PAGES", 3)]
    at_import = ast.parse("from a import web\nweb.add_nav_item('Home', 'home.index')\n"
                          "@event.listens_for(Session, 'after_flush')\ndef f(s, c):\n    pass\n")
    assert import_time_calls("c", at_import) == ["c:2", "c:4 @listens_for"]
    assert is_mutable(ast.parse("x = Namespace()").body[0].value)
