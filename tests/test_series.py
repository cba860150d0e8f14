"""sci/series.py: a batch split into its series and its values joins back into the same rows, and migration 6
moves a schema-5 store's samples into that layout unchanged."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from sci.series import SERIES_COLUMNS, VALUE_COLUMNS, FileSeries
from sci.store import SAMPLE_COLUMNS, Store, migrations

T0 = datetime(2026, 6, 1)
STRINGS = ("device", "component", "tier", "method")
NULLABLE_STRINGS = ("device_model", "scope")


def _row(draw: st.DrawFn, line: int) -> dict[str, Any]:
    floats = st.sampled_from([None, 0.0, -0.0, 1.5, 350.0])
    start = T0 + timedelta(seconds=draw(st.integers(0, 10_000)))
    row: dict[str, Any] = {"line": line, "start_utc": start, "end_utc": start + timedelta(seconds=1)}
    for name in STRINGS:
        row[name] = draw(st.sampled_from(["a", "b", "gpu/0"]))
    for name in NULLABLE_STRINGS:
        row[name] = draw(st.sampled_from([None, "", "x"]))
    for name in ("tdp_w", "resource_share", "pue_divided"):
        row[name] = draw(floats)
    for name in VALUE_COLUMNS[3:]:
        row[name] = draw(st.one_of(st.none(), st.floats(0, 1e6)))
    return row


@st.composite
def batches(draw: st.DrawFn) -> list[pa.Table]:
    sizes = draw(st.lists(st.integers(1, 40), min_size=1, max_size=4))
    coded = draw(st.booleans())  # string columns as collectors' dictionary arrays
    tables, line = [], 1
    for size in sizes:
        rows = [_row(draw, line + i) for i in range(size)]
        line += size
        tables.append(_table(rows, coded=coded))
    return tables


def _table(rows: list[dict[str, Any]], *, coded: bool = False) -> pa.Table:
    kinds = {"line": pa.int32(), "start_utc": pa.timestamp("us"), "end_utc": pa.timestamp("us")}
    kinds.update({name: pa.string() for name in (*STRINGS, *NULLABLE_STRINGS)})
    columns = {
        name: pa.array([r[name] for r in rows], kinds.get(name, pa.float64())) for name in SAMPLE_COLUMNS
    }
    if coded:
        columns.update(
            {name: _twice_coded(columns[name].to_pylist()) for name in (*STRINGS, *NULLABLE_STRINGS)}
        )
    return pa.table(columns)


def _twice_coded(values: list[str | None]) -> pa.DictionaryArray:
    """A dictionary array holding every value twice in its dictionary, the rows alternating between the
    two (a collector's dictionary need not be unique), nulls as null indices."""
    once = sorted({v for v in values if v is not None})
    at = {v: i for i, v in enumerate(once)}
    indices = [None if v is None else at[v] + len(once) * (i % 2) for i, v in enumerate(values)]
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(once + once, pa.string()))


def _exact_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    """Rows with floats by their bits, so 0.0 and -0.0 differ."""
    return [
        tuple(v.hex() if isinstance(v, float) else v for v in row.values())
        for row in table.select(list(SAMPLE_COLUMNS)).to_pylist()
    ]


@given(batches(), st.integers(1, 1000))
def test_series_and_values_join_back_into_the_batches(tables: list[pa.Table], first_id: int) -> None:
    series = FileSeries(file_id=7, platform="p", first_id=first_id)
    known: dict[int, dict[str, Any]] = {}
    for table in tables:
        split = series.split(table)
        if split.new_series is not None:
            for row in split.new_series.to_pylist():
                assert row["series_id"] not in known
                assert (row["file_id"], row["platform"]) == (7, "p")
                known[row["series_id"]] = row
        values = split.values.to_pylist()
        joined = [
            {**{c: known[v["series_id"]][c] for c in SERIES_COLUMNS}, **{c: v[c] for c in VALUE_COLUMNS}}
            for v in values
        ]
        assert _exact_rows(_table(joined)) == _exact_rows(table)
    assert sorted(known) == list(range(first_id, first_id + len(known)))  # consecutive, from first_id
    at = [SAMPLE_COLUMNS.index(c) for c in SERIES_COLUMNS]
    distinct = {tuple(row[i] for i in at) for t in tables for row in _exact_rows(t)}
    assert len(known) == len(distinct)


def test_a_series_seen_in_an_earlier_batch_keeps_its_id() -> None:
    series = FileSeries(file_id=1, platform="p", first_id=10)
    times = {"line": 1, "start_utc": T0, "end_utc": T0}
    one = dict.fromkeys(SAMPLE_COLUMNS) | times | dict.fromkeys(STRINGS, "a")
    first = series.split(_table([one]))
    second = series.split(_table([one | {"line": 2}, one | {"line": 3, "device": "b"}]))
    assert first.new_series is not None
    assert first.new_series["series_id"].to_pylist() == [10]
    assert second.new_series is not None
    assert second.new_series["series_id"].to_pylist() == [11]
    assert second.values["series_id"].to_pylist() == [10, 11]


def _schema_5_store(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
            "applied_at_utc TIMESTAMP NOT NULL)"
        )
        for version, name, sql in migrations()[:5]:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES ($1, $2, now()::TIMESTAMP)", [version, name])
        for file_id in (1, 2):
            con.execute(
                "INSERT INTO files (file_id, path, sha256, size_bytes, collector, collector_version, "
                "platform, source_key, options_digest, record_count, issue_count, ingested_at_utc) VALUES "
                f"({file_id}, 'f{file_id}.log', 'x{file_id}', 1, 'c', '1', 'p', 'k', 'o', 4, 0, "
                "now()::TIMESTAMP)"
            )
        rows = [  # file_id, line, device, tdp_w, scope, energy: repeats, nulls and -0.0 among them
            (2, 1, "gpu1", 300.0, None, 0.5),
            (1, 1, "gpu0", None, None, 0.25),
            (1, 2, "gpu0", None, None, None),
            (1, 3, "gpu0", 0.0, "2", 1.0),
            (1, 4, "gpu0", -0.0, "2", 2.0),
            (2, 2, "gpu1", 300.0, None, 0.75),
        ]
        for file_id, line, device, tdp, scope, kwh in rows:
            con.execute(
                "INSERT INTO samples (file_id, line, platform, device, component, tier, method, start_utc, "
                "end_utc, energy_kwh, tdp_w, scope) VALUES (?, ?, 'p', ?, 'gpu', 'measured', 'm', "
                "TIMESTAMP '2026-06-01', TIMESTAMP '2026-06-01 00:00:01', ?, ?, ?)",
                [file_id, line, device, kwh, tdp, scope],
            )


def test_migration_6_keeps_every_record_and_its_order(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    _schema_5_store(path)
    with duckdb.connect(str(path)) as con:
        before = con.execute("SELECT * FROM samples ORDER BY rowid").fetchall()
    with Store(path) as store:
        assert store.schema_version() == len(migrations()) == 6
        con = store._con  # the tables behind the view
        after = con.execute("SELECT * EXCLUDE (rowid) FROM samples ORDER BY rowid").fetchall()
        series = con.execute("SELECT series_id, file_id FROM series ORDER BY series_id").fetchall()
    assert [tuple(_bits(r)) for r in after] == [tuple(_bits(r)) for r in before]
    assert [file_id for _, file_id in series] == [1, 1, 1, 2]  # each file's series consecutive
    assert [sid for sid, _ in series] == [1, 2, 3, 4]


def test_a_migrated_file_is_replaced_without_touching_the_other(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    _schema_5_store(path)
    with Store(path) as store:
        assert store.remove_file("f1.log")
        con = store._con
        left = con.execute("SELECT file_id, line, energy_kwh FROM samples ORDER BY rowid").fetchall()
        orphans = con.execute(
            "SELECT count(*) FROM sample_values WHERE series_id NOT IN (SELECT series_id FROM series)"
        )
        assert orphans.fetchall() == [(0,)]
    assert left == [(2, 1, 0.5), (2, 2, 0.75)]


def _bits(row: tuple[Any, ...]) -> list[Any]:
    return [math.copysign(1.0, v) if isinstance(v, float) and v == 0 else v for v in row] + [
        v.hex() if isinstance(v, float) else v for v in row
    ]
