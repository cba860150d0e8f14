"""sci/digest.py and ingest's hashing: a file whose size nothing else has is hashed while it is parsed, and
the store records the same sha256 and size as hashing it first would; files that might be equal (same
size as a stored file or as another of the run) are hashed first, so unchanged files and duplicates are
still found; a failed parse leaves no thread and nothing stored. A collector that reads its file once
(``READS_ONCE``) is hashed from the bytes it read, not by a second reader."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import threading
from pathlib import Path

import duckdb
import pytest
from team_helpers import add_job, copy_team

from collectors.base import ReadHash, SourceContext
from collectors.powermetrics_text import PowermetricsText
from sci import app, ingest
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


def test_files_read_once_are_hashed_from_the_bytes_their_collector_read(
    team: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """powermetrics declares READS_ONCE (with the C line scan): no hash thread reads its logs again."""
    monkeypatch.setattr(PowermetricsText, "READS_ONCE", True)
    results: list[tuple[str, int] | None] = []
    real = ReadHash.result

    def result(self: ReadHash) -> tuple[str, int] | None:
        results.append(real(self))
        return results[-1]

    monkeypatch.setattr(ReadHash, "result", result)
    started: list[Path] = []
    real_init = Digest.__init__

    def init(self: Digest, path: Path) -> None:
        started.append(path)
        real_init(self, path)

    monkeypatch.setattr(Digest, "__init__", init)
    app.run_ingest(load_config(team / "sci.toml"))
    stored = _stored(team)
    assert stored == _expected(team, list(stored))
    read_once = [n for n in stored if "powermetrics" in n]
    assert len(results) == len(read_once) > 0
    assert None not in results  # each was read whole, once
    assert not any(path.name in {Path(n).name for n in read_once} for path in started)


def _read(ctx: SourceContext, size: int = -1) -> None:
    with ctx.open_binary() as stream:
        stream.read(size)
        if size < 0:
            assert stream.read(1) == b""


def test_a_read_hash_is_whole_only_for_one_whole_read(tmp_path: Path) -> None:
    plain = tmp_path / "log.txt"
    plain.write_bytes(b"CPU Power: 1 mW\n" * 100_000)
    packed = tmp_path / "log.txt.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, packed):  # a gzip file: the hash of its own (compressed) bytes
        whole = ReadHash()
        _read(SourceContext(path=path, device="d", read_hash=whole))
        assert whole.result() == (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size)
    part = ReadHash()
    _read(SourceContext(path=plain, device="d", read_hash=part), 1000)
    assert part.result() is None
    twice = ReadHash()
    for _ in range(2):
        _read(SourceContext(path=plain, device="d", read_hash=twice))
    assert twice.result() is None
    assert ingest._late(plain, None, part) is not None
    assert ingest._late(plain, None, part)() == (hashlib.sha256(plain.read_bytes()).hexdigest(), 1_600_000)
    assert ingest._late(plain, None, None) is None
