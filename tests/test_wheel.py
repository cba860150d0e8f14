"""The built wheel, not the checkout: it must carry its templates, SQL and factor data.

Builds the wheel, installs it into a fresh virtual environment, and runs the example team from a folder
outside the repository. Needs the package registry (or pip's cache) for the dependencies.
"""

from __future__ import annotations

import os
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


def test_the_wheel_carries_the_c_line_scan_where_it_can_be_built(wheel: Path, tmp_path: Path) -> None:
    import hatch_build

    problem = hatch_build.compile_module(ROOT / hatch_build.SOURCE, tmp_path / "_linescan_c.so")
    if problem is not None:
        pytest.skip(f"this machine cannot build it: {problem}")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(name.startswith("collectors/_linescan_c.") and name.endswith(".so") for name in names)
    assert "-py3-none-any" not in wheel.name  # a wheel with a compiled module is tagged for its Python


def test_without_a_compiler_the_wheel_is_pure_python(tmp_path: Path) -> None:
    env = {**os.environ, "CC": str(tmp_path / "no-such-cc")}
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    (built,) = tmp_path.glob("sci_report-*.whl")
    assert built.name.endswith("-py3-none-any.whl")
    names = zipfile.ZipFile(built).namelist()
    assert "collectors/_linescan.py" in names
    assert not any(name.endswith(".so") for name in names)
    assert "installing the numpy line scan instead" in done.stdout + done.stderr


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
    if "-py3-none-any" not in wheel.name:
        scan = "import collectors._linescan as s; assert s.NATIVE, 'the C line scan is not imported'"
        subprocess.run([str(python), "-c", scan], check=True, cwd=tmp_path)
