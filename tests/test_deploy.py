"""The example deployment files (issue 20, item 10): the systemd units pass
``systemd-analyze verify`` (with the install folder, /opt/mdsn-lms, pointed at this
checkout, so the programs they start exist), and gunicorn's config starts /metrics' folder
empty."""

from __future__ import annotations

import runpy
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))


def verify(folder: Path, *units: Path) -> subprocess.CompletedProcess:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: scripts/system-packages.sh test installs it"
    return subprocess.run([analyze, "verify", "--man=no", *map(str, units)], cwd=folder,
                          capture_output=True, text=True, timeout=60, check=False)


def installed(unit: Path, folder: Path, change: tuple[str, str] | None = None) -> Path:
    text = unit.read_text().replace("/opt/mdsn-lms", str(ROOT))
    if change:
        text = text.replace(*change)
    copy = folder / unit.name
    copy.write_text(text)
    return copy


def test_there_is_a_unit_for_the_app_and_one_for_the_scheduler():
    assert [unit.name for unit in UNITS] == ["mdsn-lms-scheduler.service", "mdsn-lms.service"]
    scheduler = (ROOT / "deploy/systemd/mdsn-lms-scheduler.service").read_text()
    assert "ExecStart=/opt/mdsn-lms/.venv/bin/flask --app lms lms scheduler" in scheduler
    assert "KillSignal=SIGTERM" in scheduler


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_systemd_analyze_verify_passes_with_no_warning(unit, tmp_path):
    result = verify(tmp_path, installed(unit, tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stderr


def test_the_check_catches_a_broken_unit(tmp_path):
    """Not vacuous: a misspelt setting and a missing program are both reported."""
    app = UNITS[1]
    misspelt = verify(tmp_path, installed(app, tmp_path, ("Restart=", "Restartt=")))
    assert "Unknown key" in misspelt.stderr
    missing = verify(tmp_path, installed(app, tmp_path, ("bin/gunicorn", "bin/no-such")))
    assert missing.returncode != 0


def test_gunicorn_config_starts_the_metrics_folder_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "histogram_123.db").write_bytes(b"old run")
    settings = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert settings["bind"] == "127.0.0.1:8000" and settings["accesslog"] is None
    settings["on_starting"](None)
    assert list(tmp_path.iterdir()) == []
