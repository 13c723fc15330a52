"""Pages separate from rules (issue 15, item 5), held by the layout of the code.

- No module of the app is over 500 lines: a module that grows past that mixes things (rules
  with page-building, usually) and is split into modules named for what they hold.
- A view module is thin: it defines no dataclass (what a page shows is built in the feature's
  ``pages``-like modules) and runs no query (services and page modules do).

The exceptions on ``main`` today are listed by name. Each list only shrinks: an entry that no
longer breaks the rule fails the test too, so it is taken off when its module is fixed.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "lms"
MAX_LINES = 500

# View modules that define a dataclass or run a query, each with its reason.
THICK_VIEWS = {
    "lms/home/views.py": "the health check's SELECT 1, which is the point of it",
}

QUERY_CALLS = {"select", "execute", "scalar", "scalars", "query"}


def _modules() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "static" not in p.parts)


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _view_faults(path: Path) -> list[str]:
    """What in a view module builds pages or queries: dataclasses defined, and calls to
    ``select(...)`` or to a session's ``execute``/``scalar(s)``/``query``."""
    faults = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = getattr(target, "id", None) or getattr(target, "attr", None)
                if name == "dataclass":
                    faults.append(f"dataclass {node.name} (line {node.lineno})")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "select":
                faults.append(f"select(...) (line {node.lineno})")
            elif (isinstance(func, ast.Attribute) and func.attr in QUERY_CALLS
                  and "session" in ast.unparse(func.value)):
                faults.append(f"{ast.unparse(func)}(...) (line {node.lineno})")
    return faults


def test_the_checks_see_what_they_look_for(tmp_path):
    """The view check finds a dataclass and a query when there is one (so an empty answer
    below means something)."""
    thick = tmp_path / "views.py"
    thick.write_text(
        "from dataclasses import dataclass\n"
        "@dataclass(frozen=True)\nclass Row:\n    x: int\n"
        "def page():\n    return db.session.scalars(select(User))\n")
    faults = _view_faults(thick)
    assert any(f.startswith("dataclass Row") for f in faults)
    assert any(f.startswith("select(") for f in faults)
    assert any(f.startswith("db.session.scalars(") for f in faults)
    thin = tmp_path / "thin.py"
    thin.write_text("def page():\n    return render_template('x.html', rows=pages.rows())\n")
    assert _view_faults(thin) == []


def test_no_module_is_over_500_lines():
    """No module in lms/ is over 500 lines: rules apart from page-building, in modules named
    for what they hold."""
    long = {_name(p): _lines(p) for p in _modules() if _lines(p) > MAX_LINES}
    assert not long, (
        f"over {MAX_LINES} lines: {long}. Split rules from page-building, into modules "
        "named for what they hold")


def test_views_define_no_dataclass_and_run_no_query():
    views = [p for p in _modules() if p.name == "views.py" or p.name.endswith("_views.py")]
    assert len(views) >= 10
    faults = {_name(p): _view_faults(p) for p in views}
    unexpected = {name: found for name, found in faults.items()
                  if found and name not in THICK_VIEWS}
    assert not unexpected, (
        f"views building pages or querying: {unexpected}. Move view-models to the "
        "feature's page module and queries to its services")
    stale = [name for name in THICK_VIEWS if not faults.get(name)]
    assert not stale, f"no longer thick, take them off THICK_VIEWS: {stale}"


# Features that project work (``lms.learning``) builds on: they ask it nothing by importing it
# (not even inside a function); what they need from it is a hook it sets in its ``init_app``
# (the completion rule's question about work: ``completion.set_work_requirement``).
UNDER_LEARNING = ("accounts", "offerings", "attendance", "notifications", "feedback",
                  "certificates")


def _imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_features_learning_builds_on_never_import_it():
    faults = [f"{_name(path)} imports {module}"
              for package in UNDER_LEARNING for path in sorted((APP / package).rglob("*.py"))
              for module in _imports_of(path)
              if module == "lms.learning" or module.startswith("lms.learning.")]
    assert not faults, faults
