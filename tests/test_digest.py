"""sci/digest.py and ingest's hashing: a file whose size nothing else has is hashed while it is parsed, and
the store records the same sha256 and size as hashing it first would; files that might be equal (same
size as a stored file or as another of the run) are hashed first, so unchanged files and duplicates are
still found; a failed parse leaves no thread and nothing stored."""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path

import duckdb
import pytest
from team_helpers import add_job, copy_team

from sci import app
from sci.config import load_config
from sci.digest import Digest, fingerprint
from sci.errors import CollectorError
from sci.ingest import Outcome


@pytest.fixture
def team(tmp_path: Path) -> Path:
    return copy_team(tmp_path)


def _stored(team: Path) -> dict[str, tuple[str, int]]:
    with duckdb.connect(str(load_config(team / "sci.toml").store_path), read_only=True) as con:
        rows = con.execute("SELECT path, sha256, size_bytes FROM files").fetchall()
    return {path: (sha, size) for path, sha, size in rows}


def _expected(team: Path, names: list[str]) -> dict[str, tuple[str, int]]:
    return {
        name: (hashlib.sha256((team / name).read_bytes()).hexdigest(), (team / name).stat().st_size)
        for name in names
    }


def test_files_hashed_while_parsed_get_their_true_sha256_and_size(team: Path) -> None:
    outcomes = app.run_ingest(load_config(team / "sci.toml"))
    assert {o.outcome for o in outcomes} == {Outcome.INGESTED}
    stored = _stored(team)
    assert stored == _expected(team, list(stored))
    again = app.run_ingest(load_config(team / "sci.toml"))  # every size is stored now: hashed first
    assert {o.outcome for o in again} == {Outcome.UNCHANGED}


def test_a_file_grown_is_replaced_and_hashed_anew(team: Path) -> None:
    config = load_config(team / "sci.toml")
    app.run_ingest(config)
    add_job(team)
    outcomes = {o.name: o.outcome for o in app.run_ingest(config)}
    assert outcomes["ci/jobs-2026-10.csv"] == Outcome.REPLACED
    assert (
        _stored(team)["ci/jobs-2026-10.csv"]
        == _expected(team, ["ci/jobs-2026-10.csv"])["ci/jobs-2026-10.csv"]
    )


def test_two_new_files_with_the_same_bytes_are_found_in_one_run(team: Path) -> None:
    original = team / "laptops" / "alice" / "powermetrics-2026-10.txt.gz"
    shutil.copy(original, original.with_name("powermetrics-2026-10-copy.txt.gz"))
    outcomes = {o.name: o.outcome for o in app.run_ingest(load_config(team / "sci.toml"))}
    # the first by name holds the records ("-copy" sorts before ".txt")
    assert outcomes["laptops/alice/powermetrics-2026-10-copy.txt.gz"] == Outcome.INGESTED
    assert outcomes["laptops/alice/powermetrics-2026-10.txt.gz"] == Outcome.DUPLICATE


def test_a_failed_parse_stops_the_hash_and_stores_nothing(team: Path) -> None:
    jobs = team / "ci" / "jobs-2026-10.csv"
    lines = jobs.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(3, "2026-10-05T10:00:00Z,not-a-time,GitHub Actions 3,r,ci.yml,lint,12\n")
    jobs.write_text("".join(lines), encoding="utf-8")
    threads = threading.active_count()
    with pytest.raises(CollectorError, match=r"jobs-2026-10\.csv"):
        app.run_ingest(load_config(team / "sci.toml"))
    assert threading.active_count() == threads
    assert "ci/jobs-2026-10.csv" not in _stored(team)


def test_digest_equals_fingerprint_and_reports_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 10_000)
    with Digest(path) as digest:
        assert digest.result() == fingerprint(path)
    with Digest(tmp_path / "missing") as digest, pytest.raises(Exception, match="cannot read"):
        digest.result()
