"""The bundled example team, copied for a test, and the edits tests make to it."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JOBS = Path("ci") / "jobs-2026-10.csv"


def copy_team(tmp_path: Path) -> Path:
    """examples/team in ``tmp_path``, without its outputs and store."""
    target = tmp_path / "team"
    shutil.copytree(ROOT / "examples" / "team", target, ignore=shutil.ignore_patterns("out", "*.duckdb*"))
    return target


def add_job(team: Path) -> Path:
    """One more 10-minute CI job (999 s of runner time) at the end of the team's jobs file; its path."""
    jobs = team / JOBS
    jobs.write_text(
        jobs.read_text(encoding="utf-8")
        + "2026-10-31T20:00:00Z,2026-10-31T20:10:00Z,GitHub Actions 1,r,ci.yml,lint,999\n",
        encoding="utf-8",
    )
    return jobs
