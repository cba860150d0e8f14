"""The DuckDB store: the one module that owns the database connection.

- Versioned migrations from ``sql/migrations/NNN_name.sql``, recorded in ``schema_migrations``.
- Named queries from ``sql/queries.sql`` with DuckDB ``$name`` parameters.
- An ingest is one transaction: a failure leaves nothing of that file behind.
- Records go in as Arrow batches, never row by row: what runs of records share into ``series``, each
  record's own values into ``sample_values`` (``sci/series.py``); the ``samples`` view joins them back.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sci.errors import StoreError
from sci.intervals import IntervalCheck
from sci.model import FLOAT_FIELDS, Item, QualityIssue, Record, RecordBatch
from sci.series import FileSeries

if TYPE_CHECKING:
    import pyarrow as pa

Digest = Callable[[], tuple[str, int]]
"""A file's ``(sha256, size_bytes)``, computed while its records are parsed."""

BATCH_ROWS = 65_536
INGEST_MEMORY_LIMIT = "512MB"
CHECKPOINT_ROWS = 1_000_000
"""After a file, the store checkpoints once this many records were stored since the last checkpoint; else
when it closes. Until then DuckDB holds the new blocks in memory (about 80 MiB a million records). A
checkpoint after every file cost 0.6 s of 6.9 s over 20 laptops' powermetrics logs (160k records each)."""
INSERT_ROWS = 1 << 19
"""Rows gathered before one INSERT (its chunks are appended in parallel); bounds ingest memory too."""
"""DuckDB's memory limit while a file is ingested: without it a 10M-row transaction keeps ~2 GB of appended
blocks in memory (the default limit is 80% of RAM); with it they are written out and RSS stays flat."""
_KEEP_JOIN = "LEFT JOIN (SELECT rid, keep FROM overlap_keep) k ON k.rid = s.rowid"
_KEEP_SHARE = "coalesce(k.keep, 1.0)"
_PERIOD = "{period}"
_NAME_RE = re.compile(r"^-- name: (\S+)\s*$", re.MULTILINE)
_MIGRATION_RE = re.compile(r"^(\d{3})_(\w+)\.sql$")

SAMPLE_COLUMNS = (
    "line",
    "device",
    "component",
    "tier",
    "method",
    "start_utc",
    "end_utc",
    "energy_kwh",
    "carbon_g",
    "runtime_s",
    "utilisation",
    "device_model",
    "tdp_w",
    "resource_share",
    "market_carbon_g",
    "reported_carbon_g",
    "pue_divided",
    "scope",
)
ISSUE_COLUMNS = ("kind", "action", "line_start", "line_end", "rows", "detail", "device", "seconds")


@dataclass(frozen=True, slots=True)
class FileMeta:
    """What is recorded about an ingested file."""

    path: str
    sha256: str
    size_bytes: int
    collector: str
    collector_version: str
    platform: str
    source_key: str
    options_digest: str
    duplicate_of: str | None = None  # the stored file whose records count for these same bytes


@dataclass(frozen=True, slots=True)
class StoredFile:
    file_id: int
    path: str
    sha256: str
    collector: str
    collector_version: str
    platform: str
    options_digest: str
    duplicate_of: str | None
    record_count: int


@dataclass(frozen=True, slots=True)
class IngestCounts:
    records: int
    issues: int


@cache
def queries() -> dict[str, str]:
    """The named queries of ``sql/queries.sql``."""
    text = (files("sci") / "sql" / "queries.sql").read_text(encoding="utf-8")
    parts = _NAME_RE.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def migrations() -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` for every migration, in order."""
    found = []
    for entry in (files("sci") / "sql" / "migrations").iterdir():
        match = _MIGRATION_RE.match(entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found)


class Store:
    """A DuckDB store file. Use as a context manager; it migrates on open."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        import duckdb

        self.path = path
        if read_only and not path.exists():
            raise StoreError(f"no store at {path}", hint="run `sci-report ingest` first")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            if "lock" in str(exc).lower():
                raise StoreError(
                    f"store is locked: {path} is open in another process",
                    hint="wait for the other sci-report command to finish, then run this one again",
                ) from None
            raise StoreError(
                f"{path} is not a readable DuckDB store: {exc}",
                hint="point --store at a sci-report store, or remove the file to start afresh",
            ) from None
        self._no_overlap = False  # True once set_overlap_ranks found no record to weigh
        self._unchecked = 0  # records stored since the last checkpoint (a file of none counts one)
        if not read_only:
            self._migrate()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(checkpoint=kind is None)  # leaving on an error: that error, not a checkpoint's

    def close(self, *, checkpoint: bool = True) -> None:
        """Close, with a checkpoint under the ingest memory limit first if files were stored since the last
        one (a checkpoint at close would hold every block of the log in memory at once). Without
        ``checkpoint`` DuckDB checkpoints on its own, at close or when the store is next opened."""
        try:
            if self._unchecked and checkpoint:
                self._checkpoint()
        finally:
            self._con.close()

    def _checkpoint(self) -> None:
        self._con.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
        try:
            self._con.execute("CHECKPOINT")
            self._unchecked = 0
        finally:
            self._con.execute("RESET memory_limit")

    # -- schema ---------------------------------------------------------------------------------

    def schema_version(self) -> int:
        exists = self._con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        ).fetchone()
        if not exists or not exists[0]:
            return 0
        row = self._con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at_utc TIMESTAMP NOT NULL)"
        )
        current = self.schema_version()
        known = migrations()
        if known and current > known[-1][0]:
            raise StoreError(
                f"{self.path} has schema version {current}; this sci-report knows up to {known[-1][0]}",
                hint="upgrade sci-report to read this store",
            )
        pending = [(version, name, sql) for version, name, sql in known if version > current]
        if not pending:
            return
        self._con.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")  # migration 6 rewrites every record
        try:
            for version, name, sql in pending:
                with self._transaction():
                    self._con.execute(sql)
                    self._con.execute(
                        "INSERT INTO schema_migrations VALUES ($1, $2, $3)", [version, name, _utc_now_naive()]
                    )
            self._con.execute("CHECKPOINT")
        finally:
            self._con.execute("RESET memory_limit")

    # -- queries --------------------------------------------------------------------------------

    def query(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """A named query's rows. A query with a month (``{period}``) takes ``months``: see ``_months_sql``."""
        sql = queries()[name]
        if self._no_overlap:  # nothing to join: every record counts whole (x * 1.0 is x)
            sql = sql.replace(_KEEP_JOIN, "").replace(_KEEP_SHARE, "1.0::DOUBLE")
        if _PERIOD in sql:
            expression, month_params = _months_sql(params.pop("months"))
            sql = sql.replace(_PERIOD, expression)
            params.update(month_params)
        cursor = self._con.execute(sql, params or None)
        columns = [d[0] for d in cursor.description or ()]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def stored_file(self, path: str) -> StoredFile | None:
        rows = self.query("file_by_path", path=path)
        return StoredFile(**rows[0]) if rows else None

    def holders_of(self, sha256: str, *, platforms: list[str]) -> list[str]:
        """Stored files of ``platforms`` whose records count for these bytes."""
        return [r["path"] for r in self.query("holders_of_sha", sha256=sha256, platforms=platforms)]

    # -- ingest ---------------------------------------------------------------------------------

    def replace_file(
        self, meta: FileMeta, items: Iterable[Item], *, digest: Digest | None = None
    ) -> IngestCounts:
        """Replace everything stored for ``meta.path`` with ``items``, in one transaction.

        If ``items`` raises (a malformed line), the transaction is rolled back and the store holds what
        it held before: the old version of the file, or nothing of it. With ``digest`` (a file hashed
        while it is parsed), its ``(sha256, size_bytes)``, taken once every item is stored, replace
        ``meta``'s in the same transaction.
        """
        issues: list[QualityIssue] = []

        def tables() -> Iterator[pa.Table]:
            for batch in _record_batches(items, issues):
                if isinstance(batch, RecordBatch):
                    yield batch.table.select(list(SAMPLE_COLUMNS))
                else:
                    yield _samples_table(batch)

        return self._store_file(meta, tables(), issues, digest)

    def import_file(
        self, meta: FileMeta, samples: Iterable[pa.Table], issues: list[QualityIssue]
    ) -> IngestCounts:
        """Replace everything stored for ``meta.path`` with already-parsed rows (a shard's batches), in one
        transaction, as ``replace_file`` does.

        ``samples`` have the ``SAMPLE_COLUMNS`` (naive UTC times).
        """
        return self._store_file(meta, (table.select(list(SAMPLE_COLUMNS)) for table in samples), issues)

    def _store_file(
        self,
        meta: FileMeta,
        tables: Iterable[pa.Table],
        issues: list[QualityIssue],
        digest: Digest | None = None,
    ) -> IngestCounts:
        """The one transaction of ``replace_file`` and ``import_file``: the file's row, its samples (as they
        come, gathered into INSERTs), then its issues (``issues`` is complete once ``tables`` is consumed)."""
        self._con.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")  # evict appended blocks early
        self._con.execute(f"SET threads = {ingest_threads()}")  # the parse in the helper thread gets the rest
        try:
            with self._transaction():
                old = self.stored_file(meta.path)
                if old is not None:
                    self._delete_file(old.file_id)
                row = self._con.execute(
                    queries()["insert_file"],
                    {**_meta_params(meta), "ingested_at_utc": _utc_now_naive()},
                ).fetchone()
                assert row is not None
                file_id = int(row[0])
                check = IntervalCheck()
                records = self._insert_tables(tables, check, self._file_series(file_id, meta.platform))
                self._insert_issues(issues, file_id)
                sha256, size_bytes = digest() if digest is not None else (None, None)
                self._con.execute(
                    queries()["finish_file"],
                    {
                        "file_id": file_id,
                        "record_count": records,
                        "issue_count": len(issues),
                        "distinct_intervals": check.ordered or None,
                        "sha256": sha256,
                        "size_bytes": size_bytes,
                    },
                )
        finally:
            self._con.execute("RESET threads")  # the parse is over: a checkpoint runs on every core
            self._con.execute("RESET memory_limit")
        self._unchecked += max(records, 1)
        if self._unchecked >= CHECKPOINT_ROWS:
            self._checkpoint()
        return IngestCounts(records=records, issues=len(issues))

    def remove_file(self, path: str) -> bool:
        """Remove a file and everything ingested from it; False if it was not stored."""
        with self._transaction():
            old = self.stored_file(path)
            if old is not None:
                self._delete_file(old.file_id)
        return old is not None

    def stored_sizes(self) -> set[int]:
        return {int(r["size_bytes"]) for r in self.query("stored_sizes")}

    def paths(self) -> list[str]:
        return [r["path"] for r in self.query("all_paths")]

    def _delete_file(self, file_id: int) -> None:
        for name in ("delete_file_samples", "delete_file_series", "delete_file_issues", "delete_file"):
            self._con.execute(queries()[name], {"file_id": file_id})

    def _file_series(self, file_id: int, platform: str) -> FileSeries:
        ((first_id,),) = self._con.execute("SELECT coalesce(max(series_id), 0) + 1 FROM series").fetchall()
        return FileSeries(file_id, platform, int(first_id))

    def _insert_tables(self, tables: Iterable[pa.Table], check: IntervalCheck, series: FileSeries) -> int:
        """Insert ``tables`` (``SAMPLE_COLUMNS``): their new series at once, their values gathered up to
        ``INSERT_ROWS`` an INSERT; the rows inserted."""
        records = 0
        pending: list[pa.Table] = []
        for table in tables:
            if not table.num_rows:
                continue
            check.add(table)
            split = series.split(table)
            if split.new_series is not None:
                self._con.from_arrow(split.new_series).insert_into("series")
            values = split.values
            if pending and (values.schema != pending[0].schema or _rows(pending) >= INSERT_ROWS):
                self._insert_values(pending)
                pending = []
            pending.append(values)
            records += table.num_rows
        if pending:
            self._insert_values(pending)
        return records

    def _insert_issues(self, issues: list[QualityIssue], file_id: int) -> None:
        if issues:
            self._con.register("_issues", _issues_table(issues, file_id))
            try:
                self._con.execute("INSERT INTO quality_issues SELECT * FROM _issues")
            finally:
                self._con.unregister("_issues")

    def _insert_values(self, tables: list[pa.Table]) -> None:
        """One INSERT of several batches: DuckDB scans and appends their chunks in parallel, in order (about
        twice as fast as one INSERT per batch on two cores; rows stay in line order, so sums over them are
        the same float in every run). A relation, not a registered view: a registered Arrow
        table stays referenced until the transaction ends (RSS grew ~200 MiB per million rows)."""
        import pyarrow as pa

        self._con.from_arrow(pa.concat_tables(tables)).insert_into("sample_values")

    def arrow_batches(self, name: str, **params: Any) -> Iterator[pa.RecordBatch]:
        """A named query's rows as Arrow batches of up to ``BATCH_ROWS`` * 4, read as they are taken (take
        them all before the next query on this store)."""
        reader = self._con.sql(queries()[name], params=params or None).to_arrow_reader(BATCH_ROWS * 4)
        yield from reader

    def arrow(self, name: str, **params: Any) -> pa.Table:
        """A named query's rows as an Arrow table (for shards: no Python objects per row)."""
        return self._con.sql(queries()[name], params=params or None).to_arrow_table()

    def prepare_window(self, **window: Any) -> None:
        """Fill the session's ``window_spans`` table (one scan of the window) that overlap_candidates and
        device_coverage read: call it first, with the same window."""
        self._con.execute(queries()["window_spans"], window)

    def set_overlap_ranks(self, ranks: list[tuple[str, str, str, int, int]], **window: Any) -> None:
        """Precedence for overlapping files: ``(platform, device, component, file_id, rank)``, rank 0 first.

        Fills the session's ``overlap_keep`` table, which the summing queries join: a record of a
        lower-ranked file counts with the share of its interval that higher-ranked files do not cover.
        """
        # A temporary table, not a registered Arrow table: compute then starts without importing pyarrow.
        self._con.execute(
            "CREATE OR REPLACE TEMP TABLE _file_rank (platform VARCHAR, device VARCHAR, component VARCHAR, "
            "file_id INTEGER, rank INTEGER)"
        )
        try:
            if ranks:
                self._con.executemany("INSERT INTO _file_rank VALUES (?, ?, ?, ?, ?)", ranks)
            self._con.execute(queries()["overlap_keep"], window)
            row = self._con.execute("SELECT count(*) FROM overlap_keep").fetchone()
            self._no_overlap = row is not None and row[0] == 0
        finally:
            self._con.execute("DROP TABLE IF EXISTS _file_rank")

    def save_computation(self, *, computed_at: datetime, config_path: str, result_json: str) -> int:
        with self._transaction():
            row = self._con.execute(
                queries()["insert_computation"],
                {
                    "computed_at_utc": naive_utc(computed_at),
                    "config_path": config_path,
                    "result_json": result_json,
                },
            ).fetchone()
        assert row is not None
        return int(row[0])

    def latest_computation(self) -> str | None:
        rows = self.query("latest_computation")
        return str(rows[0]["result_json"]) if rows else None

    def save_release_baseline(self, params: dict[str, Any]) -> None:
        """Store (or replace) one release's baseline for one platform (``release_baselines`` columns)."""
        with self._transaction():
            self._con.execute(
                queries()["delete_release_baseline"],
                {"release": params["release"], "platform": params["platform"]},
            )
            self._con.execute(queries()["insert_release_baseline"], params)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")


def ingest_threads() -> int:
    """DuckDB's threads while a file's records are inserted: half the cores. The collector parses in a
    helper thread at the same time (polars uses every core); on two cores, one DuckDB thread ingested 10M
    nvidia-smi rows in 8.3 s against 9.8 s with two, which fought the parse for the cores."""
    return max(1, (os.cpu_count() or 2) // 2)


def _months_sql(months: list[tuple[str, datetime | None]]) -> tuple[str, dict[str, Any]]:
    """A ``CASE`` on ``s.start_utc`` giving each record's month: ``months`` is ``(YYYY-MM, end)`` in order,
    each end the naive UTC instant the month ends, or ``None`` for a strftime of the local time instead
    (``(zone, None)``: used when wall time runs back near a month boundary)."""
    if len(months) == 1 and months[0][1] is None:
        return "strftime(timezone($_zone, timezone('UTC', s.start_utc)), '%Y-%m')", {"_zone": months[0][0]}
    params: dict[str, Any] = {}
    cases = []
    for i, (period, end) in enumerate(months[:-1]):
        params[f"_month_{i}"], params[f"_month_end_{i}"] = period, end
        cases.append(f"WHEN s.start_utc < $_month_end_{i} THEN $_month_{i}")
    params["_month_last"] = months[-1][0]
    if not cases:
        return "$_month_last", params
    return f"CASE {' '.join(cases)} ELSE $_month_last END", params


def _record_batches(
    items: Iterable[Item], issues: list[QualityIssue]
) -> Iterator[list[Record] | RecordBatch]:
    """Records in lists of up to ``BATCH_ROWS``, and each ``RecordBatch`` as it comes (after the records
    before it), so in the items' order; issues go to ``issues``. Rows keep no order in the table (queries
    order by line where it matters), but ``IntervalCheck`` needs the records in line order."""
    batch: list[Record] = []
    for item in items:
        if isinstance(item, Record):
            batch.append(item)
            if len(batch) >= BATCH_ROWS:
                yield batch
                batch = []
        elif isinstance(item, RecordBatch):
            if item.rows:
                if batch:
                    yield batch
                    batch = []
                yield item
        else:
            issues.append(item)
    if batch:
        yield batch


def _rows(tables: list[pa.Table]) -> int:
    return sum(t.num_rows for t in tables)


def _samples_table(batch: list[Record]) -> pa.Table:
    """Records as a table of the ``SAMPLE_COLUMNS``."""
    import pyarrow as pa

    columns: dict[str, Any] = {
        "line": pa.array([r.line for r in batch], pa.int32()),
        "device": pa.array([r.device for r in batch], pa.string()),
        "component": pa.array([str(r.component) for r in batch], pa.string()),
        "tier": pa.array([str(r.tier) for r in batch], pa.string()),
        "method": pa.array([r.method for r in batch], pa.string()),
        "start_utc": pa.array([naive_utc(r.start_utc) for r in batch], pa.timestamp("us")),
        "end_utc": pa.array([naive_utc(r.end_utc) for r in batch], pa.timestamp("us")),
    }
    for name in FLOAT_FIELDS:
        columns[name] = pa.array([getattr(r, name) for r in batch], pa.float64())
    columns["device_model"] = pa.array([r.device_model for r in batch], pa.string())
    columns["scope"] = pa.array([r.scope for r in batch], pa.string())
    return pa.table({name: columns[name] for name in SAMPLE_COLUMNS})


def _issues_table(issues: list[QualityIssue], file_id: int) -> pa.Table:
    import pyarrow as pa

    return pa.table(
        {
            "file_id": pa.array([file_id] * len(issues), pa.int32()),
            "kind": pa.array([str(i.kind) for i in issues], pa.string()),
            "action": pa.array([str(i.action) for i in issues], pa.string()),
            "line_start": pa.array([i.line_start for i in issues], pa.int32()),
            "line_end": pa.array([i.line_end for i in issues], pa.int32()),
            "rows": pa.array([i.rows for i in issues], pa.int64()),
            "detail": pa.array([i.detail for i in issues], pa.string()),
            "device": pa.array([i.device for i in issues], pa.string()),
            "seconds": pa.array([i.seconds for i in issues], pa.float64()),
        }
    )


def _meta_params(meta: FileMeta) -> dict[str, Any]:
    return {
        "path": meta.path,
        "sha256": meta.sha256,
        "size_bytes": meta.size_bytes,
        "collector": meta.collector,
        "collector_version": meta.collector_version,
        "platform": meta.platform,
        "source_key": meta.source_key,
        "options_digest": meta.options_digest,
        "duplicate_of": meta.duplicate_of,
    }


def naive_utc(moment: datetime) -> datetime:
    """A tz-aware time as the store keeps it: naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _utc_now_naive() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def aware_utc(moment: datetime) -> datetime:
    """A naive UTC timestamp from the store, made tz-aware."""
    return moment.replace(tzinfo=UTC)
