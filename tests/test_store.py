"""The DuckDB store: migrations, one transaction per file, locking."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from sci.errors import StoreError
from sci.model import Action, Component, IssueKind, Item, QualityIssue, Record, Tier
from sci.store import BATCH_ROWS, FileMeta, Store, migrations

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def meta(path: str = "a.log", sha: str = "0" * 64) -> FileMeta:
    return FileMeta(
        path=path,
        sha256=sha,
        size_bytes=10,
        collector="test",
        collector_version="1",
        platform="laptops",
        source_key="platforms[0].sources[0]",
        options_digest="x",
    )


def records(n: int, *, kwh: float = 0.001) -> Iterator[Item]:
    for i in range(n):
        start = T0 + timedelta(seconds=i)
        yield Record(
            device="alice",
            component=Component.CPU,
            start_utc=start,
            end_utc=start + timedelta(seconds=1),
            tier=Tier.MEASURED,
            method="test/cpu",
            line=i + 1,
            energy_kwh=kwh,
        )


def totals(path: Path) -> tuple[int, float, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute("SELECT count(*), coalesce(sum(energy_kwh), 0) FROM samples").fetchone()
        files = con.execute("SELECT count(*) FROM files").fetchone()
    assert row is not None
    assert files is not None
    return int(row[0]), float(row[1]), int(files[0])


def test_migrations_are_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        assert store.schema_version() == migrations()[-1][0]
    with Store(path) as store:  # reopening applies nothing twice
        assert store.schema_version() == migrations()[-1][0]
    with duckdb.connect(str(path)) as con:
        row = con.execute("SELECT count(*) FROM schema_migrations").fetchone()
        assert row is not None
        assert row[0] == len(migrations())


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store(path).close()
    with duckdb.connect(str(path)) as con:
        con.execute("INSERT INTO schema_migrations VALUES (999, 'future', now()::TIMESTAMP)")
    with pytest.raises(StoreError, match="schema version 999") as caught:
        Store(path)
    assert "upgrade" in caught.value.hint


def test_records_and_issues_go_in_as_batches(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    n = BATCH_ROWS * 2 + 17
    issue = QualityIssue(IssueKind.GAP, Action.NOT_BRIDGED, 5, 9, 2, "gap of 300 s", "alice", 300.0)
    with Store(path) as store:
        counts = store.replace_file(meta(), [*records(n), issue])
    assert (counts.records, counts.issues) == (n, 1)
    assert totals(path) == (n, pytest.approx(n * 0.001), 1)
    with duckdb.connect(str(path), read_only=True) as con:
        stored = con.execute(
            "SELECT kind, action, line_start, line_end, rows, seconds FROM quality_issues"
        ).fetchall()
        assert stored == [("gap", "not-bridged", 5, 9, 2, 300.0)]
        first = con.execute("SELECT start_utc, line FROM samples ORDER BY line LIMIT 1").fetchone()
        assert first == (datetime(2026, 10, 1, 0, 0), 1)  # naive UTC in the store


def test_a_failing_file_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"

    def breaks_midway() -> Iterator[Item]:
        yield from records(BATCH_ROWS + 5)  # one whole batch is already inserted when it breaks
        raise ValueError("malformed line 70000")

    with Store(path) as store:
        with pytest.raises(ValueError, match="malformed"):
            store.replace_file(meta(), breaks_midway())
        assert store.stored_file("a.log") is None
    assert totals(path) == (0, 0.0, 0)


def test_a_failing_new_version_keeps_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"

    def breaks() -> Iterator[Item]:
        yield from records(3, kwh=9.0)
        raise ValueError("bad")

    with Store(path) as store:
        store.replace_file(meta(sha="1" * 64), records(10))
        with pytest.raises(ValueError, match="bad"):
            store.replace_file(meta(sha="2" * 64), breaks())
        stored = store.stored_file("a.log")
        assert stored is not None
        assert stored.sha256 == "1" * 64
    assert totals(path) == (10, pytest.approx(0.01), 1)


def test_replacing_a_file_replaces_only_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.replace_file(meta("a.log"), records(10))
        store.replace_file(meta("b.log", sha="b" * 64), records(5))
        store.replace_file(meta("a.log", sha="c" * 64), records(2))
        assert store.holders_of("b" * 64, platforms=["laptops"]) == ["b.log"]
        assert store.holders_of("b" * 64, platforms=["ci"]) == []
    assert totals(path)[:1] == (7,)
    with Store(path) as store:
        assert store.remove_file("b.log")
        assert not store.remove_file("b.log")
    assert totals(path) == (2, pytest.approx(0.002), 1)


def test_a_second_process_gets_a_clear_lock_error(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, duckdb
                con = duckdb.connect({str(path)!r})
                print("ready", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError, match="store is locked") as caught:
            Store(path)
        assert "wait" in caught.value.hint
    finally:
        holder.communicate("")


def test_computations_round_trip(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        assert store.latest_computation() is None
        store.save_computation(computed_at=T0, config_path="sci.toml", result_json='{"a": 1}')
        store.save_computation(computed_at=T0, config_path="sci.toml", result_json='{"a": 2}')
        assert store.latest_computation() == '{"a": 2}'


def test_read_only_needs_an_existing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store"):
        Store(tmp_path / "missing.duckdb", read_only=True)


def test_a_file_that_is_not_duckdb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a readable DuckDB store"):
        Store(path)


def test_migration_2_moves_duplicate_marks_into_their_own_column(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with duckdb.connect(str(path)) as con:  # a store at schema 1, as sci-report 0.1.0 wrote it
        con.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
            "applied_at_utc TIMESTAMP NOT NULL)"
        )
        version, name, sql = migrations()[0]
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations VALUES ($1, $2, now()::TIMESTAMP)", [version, name])
        con.execute(
            "INSERT INTO files (path, sha256, size_bytes, collector, collector_version, platform, "
            "source_key, options_digest, record_count, issue_count, ingested_at_utc) VALUES "
            "('a.log', 'x', 1, 'c', '1', 'p', 'k', 'abc', 5, 0, now()::TIMESTAMP), "
            "('b.log', 'x', 1, 'c', '1', 'p', 'k', 'duplicate-of:a.log:abc', 0, 1, now()::TIMESTAMP)"
        )
    with Store(path) as store:
        assert store.schema_version() == len(migrations())
        a, b = store.stored_file("a.log"), store.stored_file("b.log")
        assert a is not None
        assert b is not None
        assert (a.options_digest, a.duplicate_of) == ("abc", None)
        assert (b.options_digest, b.duplicate_of) == ("abc", "a.log")
        assert store.holders_of("x", platforms=["p"]) == ["a.log"]


def test_provider_figures_of_different_scopes_are_not_overlaps(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from sci.model import Component, Record, Tier
    from sci.store import FileMeta, naive_utc

    start, end = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)

    def figure(scope: str) -> Record:
        return Record(
            device="gcp:proj/Compute/europe-west3",
            component=Component.SYSTEM,
            start_utc=start,
            end_utc=end,
            tier=Tier.PROVIDER,
            method="gcp-carbon/export",
            line=2,
            carbon_g=1000.0,
            scope=scope,
        )

    with Store(tmp_path / "s.duckdb") as store:
        for name, scope in (("scope1.csv", "1"), ("scope2.csv", "2"), ("scope2-copy.csv", "2")):
            meta = FileMeta(name, name, 1, "gcp-carbon", "1", "cloud", "k", "d")
            store.replace_file(meta, [figure(scope)])
        window = {"start_utc": naive_utc(start), "end_utc": naive_utc(end), "platforms": ["cloud"]}
        store.prepare_window(**window)
        rows = store.query("overlap_candidates", **window)
    # only the two scope-2 files cover the same part; scope 1 is another part of the same device
    assert sorted(r["path"] for r in rows) == ["scope2-copy.csv", "scope2.csv"]


def _logged(path: Path) -> int:
    """Bytes in the store's write-ahead log: what a checkpoint has not yet moved into the file."""
    wal = path.with_name(path.name + ".wal")
    return wal.stat().st_size if wal.exists() else 0


def test_small_files_are_checkpointed_together_and_at_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sci.store as store_module

    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        for name in ("a.log", "b.log"):
            store.replace_file(meta(name, sha=name[0] * 64), records(3))
        assert _logged(path) > 0  # six records: no checkpoint yet
        monkeypatch.setattr(store_module, "CHECKPOINT_ROWS", 5)
        store.replace_file(meta("c.log", sha="c" * 64), records(3))
        assert _logged(path) == 0  # nine since the last checkpoint: checkpointed after the file
        store.replace_file(meta("d.log", sha="d" * 64), records(3))
        assert _logged(path) > 0
    assert _logged(path) == 0  # closed checkpointed
    assert totals(path) == (12, pytest.approx(0.012), 4)


def test_leaving_on_an_error_keeps_that_error_and_the_stored_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.duckdb"

    def interrupted() -> None:
        with Store(path) as store:
            store.replace_file(meta("a.log", sha="a" * 64), records(3))
            monkeypatch.setattr(
                Store, "_checkpoint", lambda self: pytest.fail("no checkpoint on the way out")
            )
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert totals(path) == (3, pytest.approx(0.003), 1)  # committed, so kept: the log is replayed on open
