"""The built wheel, not the checkout: it must carry its templates, SQL and factor data.

Builds the wheel, installs it into a fresh virtual environment, and runs the example team from a folder
outside the repository. Needs the package registry (or pip's cache) for the dependencies.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("sci_report-*.whl")
    return built


def test_the_wheel_carries_its_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "reports/templates/report.html.j2",
        "reports/templates/report.css",
        "sci/sql/queries.sql",
        "sci/sql/migrations/001_initial.sql",
        "sci/data/starter.toml",
        "sci/data/factors/BUNDLE.toml",
        "collectors/powermetrics_text.py",
    ):
        assert required in names, f"{required} is missing from {wheel.name}"
    assert not any(name.startswith(("tests/", "examples/")) for name in names)


def test_the_installed_wheel_runs_the_example(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    team = tmp_path / "team"
    shutil.copytree(ROOT / "examples" / "team", team, ignore=shutil.ignore_patterns("out", "*.duckdb*"))
    result = subprocess.run(
        [str(env_dir / "bin" / "sci-report"), "run", str(team)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "report:" in result.stdout
    assert (team / "out" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert "gpu-servers" in (team / "out" / "report.html").read_text(encoding="utf-8")
