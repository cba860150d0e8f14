"""Shards: one input file's parsed records as compact Parquet, for fleets that outgrow one machine.

The layout (under a folder, or ``s3://bucket/prefix``) is a Hive-partitioned Parquet dataset that
DuckDB, Spark and Trino/Athena read as it is (docs/fleet.md)::

    platform=<name>/month=<YYYY-MM>/part-<shard>.parquet   the file's records starting in that UTC month
    _shards/<shard>.parquet                                 the file's data-quality issues (one row each),
                                                            with its ``files`` row as key-value metadata

``<shard>`` is ``<sha256 of the file's bytes>-<collector>-<collector version>``: the same bytes read by the
same collector always get the same names, so collecting again writes nothing new and two machines that
hold the same file write the same objects. The manifest (``_shards/``) is written last: parts without one
are an unfinished shard, and a loader ignores them. Query engines skip ``_``-prefixed folders.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sci.errors import SciError
from sci.model import FLOAT_FIELDS, Action, IssueKind, QualityIssue
from sci.store import ISSUE_COLUMNS, SAMPLE_COLUMNS

if TYPE_CHECKING:
    import pyarrow as pa

FORMAT = "sci-shard/1"
META_KEY = b"sci.shard"
MANIFEST_DIR = "_shards"
EXTRA_COLUMNS = ("sha256", "source", "collected_at_utc")
"""Columns every part carries besides the records': which bytes, which machine's file, and when."""
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
_SHARD_RE = r"[0-9a-f]{64}-[A-Za-z0-9._-]+"
_PART_RE = re.compile(rf"^platform=[A-Za-z0-9._-]+/month=\d{{4}}-\d{{2}}/part-{_SHARD_RE}\.parquet$")
_MANIFEST_RE = re.compile(rf"^{_SHARD_RE}$")


@dataclass(frozen=True, slots=True)
class ShardMeta:
    """A shard's manifest: the ``files`` row of its input file, and the parts that hold its records."""

    shard: str
    sha256: str
    size_bytes: int
    collector: str
    collector_version: str
    platform: str
    source_key: str
    options_digest: str
    source: str  # "<machine>:<path as that machine's store names it>"
    collected_at_utc: str  # ISO 8601
    records: int
    issues: int
    parts: tuple[str, ...]  # keys relative to the dataset's root


def shard_name(sha256: str, collector: str, version: str) -> str:
    return f"{sha256}-{_SAFE.sub('_', collector)}-{_SAFE.sub('_', version)}"


def partition_value(text: str) -> str:
    """A platform name as a Hive partition value: characters outside ``[A-Za-z0-9._-]`` become ``_``."""
    return _SAFE.sub("_", text) or "_"


def manifest_key(shard: str) -> str:
    return f"{MANIFEST_DIR}/{shard}.parquet"


def build(
    row: Mapping[str, Any],
    samples: Iterable[pa.RecordBatch | pa.Table],
    issues: pa.Table,
    *,
    source: str,
    at: datetime,
) -> dict[str, bytes]:
    """The objects of one stored file's shard, keyed by their path in the dataset; the manifest last.

    ``row`` is a ``files_to_share`` row; ``samples`` its ``file_samples`` in batches and ``issues`` its
    ``file_issues`` (naive UTC times, as the store keeps them). Batches are written as they come into one
    zstd Parquet part per UTC month, so only the compressed parts are held, never the file's rows whole.
    """
    shard = shard_name(row["sha256"], row["collector"], row["collector_version"])
    parts, n = _parts(row, samples, shard=shard, source=source, at=at)
    meta = ShardMeta(
        shard=shard,
        sha256=row["sha256"],
        size_bytes=int(row["size_bytes"]),
        collector=row["collector"],
        collector_version=row["collector_version"],
        platform=row["platform"],
        source_key=row["source_key"],
        options_digest=row["options_digest"],
        source=source,
        collected_at_utc=at.astimezone(UTC).isoformat(),
        records=n,
        issues=issues.num_rows,
        parts=tuple(parts),
    )
    manifest = issues.cast(issue_schema()).replace_schema_metadata(
        {META_KEY: json.dumps({"format": FORMAT, **asdict(meta)}, sort_keys=True).encode()}
    )
    return {**parts, manifest_key(shard): _parquet(manifest)}


def _parts(
    row: Mapping[str, Any],
    samples: Iterable[pa.RecordBatch | pa.Table],
    *,
    shard: str,
    source: str,
    at: datetime,
) -> tuple[dict[str, bytes], int]:
    """The month parts of a shard (keys in month order) and the records written."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    schema = part_schema()
    writers: dict[str, tuple[pa.BufferOutputStream, pq.ParquetWriter]] = {}
    n = 0
    try:
        for batch in samples:
            table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
            if table.num_rows == 0:
                continue
            months = pc.strftime(table["start_utc"], format="%Y-%m")
            rows = table.num_rows
            table = table.append_column("sha256", pa.array([row["sha256"]] * rows, pa.string()))
            table = table.append_column("source", pa.array([source] * rows, pa.string()))
            table = table.append_column(
                "collected_at_utc", pa.array([at] * rows, pa.timestamp("us", tz="UTC"))
            )
            table = table.cast(schema)
            for month in pc.unique(months).to_pylist():
                if month not in writers:
                    sink = pa.BufferOutputStream()
                    writers[month] = (sink, pq.ParquetWriter(sink, schema, compression="zstd"))
                writers[month][1].write_table(table.filter(pc.equal(months, month)))
            n += rows
    finally:
        for _, writer in writers.values():
            writer.close()
    platform = partition_value(row["platform"])
    return {
        f"platform={platform}/month={month}/part-{shard}.parquet": writers[month][0].getvalue().to_pybytes()
        for month in sorted(writers)
    }, n


def part_schema() -> pa.Schema:
    import pyarrow as pa

    utc = pa.timestamp("us", tz="UTC")
    kinds: dict[str, pa.DataType] = {name: pa.string() for name in (*SAMPLE_COLUMNS, *EXTRA_COLUMNS)}
    kinds.update({name: pa.float64() for name in FLOAT_FIELDS})
    kinds.update({"line": pa.int32(), "start_utc": utc, "end_utc": utc, "collected_at_utc": utc})
    return pa.schema([(name, kinds[name]) for name in (*SAMPLE_COLUMNS, *EXTRA_COLUMNS)])


def issue_schema() -> pa.Schema:
    import pyarrow as pa

    kinds: dict[str, pa.DataType] = {name: pa.string() for name in ISSUE_COLUMNS}
    kinds.update(
        {"line_start": pa.int32(), "line_end": pa.int32(), "rows": pa.int64(), "seconds": pa.float64()}
    )
    return pa.schema([(name, kinds[name]) for name in ISSUE_COLUMNS])


def _parquet(table: pa.Table) -> bytes:
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


# -- reading ------------------------------------------------------------------------------------------


def manifests(root: Path) -> list[ShardMeta]:
    """Every complete shard under ``root`` (a dataset folder), by shard name."""
    folder = root / MANIFEST_DIR
    found = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    return [read_manifest(path) for path in found if _MANIFEST_RE.match(path.name.removesuffix(".parquet"))]


def read_manifest(path: Path) -> ShardMeta:
    """A shard's manifest; anything but a well-formed one is an error naming the file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        raw = (pq.read_schema(path).metadata or {}).get(META_KEY)
        meta = json.loads(raw) if raw else None
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _bad(path, f"not a readable Parquet file ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _bad(path, f"no {FORMAT} manifest in its key-value metadata")
    return _meta(path, meta)


def _meta(path: Path, meta: dict[str, Any]) -> ShardMeta:
    texts = (
        *("shard", "sha256", "collector", "collector_version", "platform"),
        *("source_key", "options_digest", "source", "collected_at_utc"),
    )
    try:
        found = ShardMeta(
            **{name: _typed(meta[name], str) for name in texts},
            size_bytes=_typed(meta["size_bytes"], int),
            records=_typed(meta["records"], int),
            issues=_typed(meta["issues"], int),
            parts=tuple(_typed(p, str) for p in _typed(meta["parts"], list)),
        )
    except KeyError as exc:
        raise _bad(path, f"its manifest lacks {exc.args[0]!r}") from None
    except TypeError as exc:
        raise _bad(path, f"its manifest has {exc}") from None
    if path.name != f"{found.shard}.parquet" or not all(_PART_RE.match(p) for p in found.parts):
        raise _bad(path, "its manifest names parts outside the dataset layout")
    try:
        datetime.fromisoformat(found.collected_at_utc)
    except ValueError:
        raise _bad(path, f"collected_at_utc {found.collected_at_utc!r} is not an ISO 8601 time") from None
    return found


def _typed(value: Any, kind: type) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"{value!r} where a {kind.__name__} belongs")
    return value


READ_BATCH_ROWS = 1 << 18
"""Rows a shard is read in: a month's part of a GPU server (20M rows) never sits in memory whole."""


def read_records(root: Path, meta: ShardMeta) -> Iterator[pa.Table]:
    """A shard's records in batches, checked against its manifest, in the store's columns (naive UTC
    times). A part that cannot be read, or a count other than the manifest's, raises when it is reached
    (the store's transaction then rolls back)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _store_schema()
    found = 0
    for part in meta.parts:
        path = root / part
        try:
            reader = pq.ParquetFile(path)
            for batch in reader.iter_batches(batch_size=READ_BATCH_ROWS, columns=list(SAMPLE_COLUMNS)):
                table = pa.Table.from_batches([batch]).select(list(SAMPLE_COLUMNS)).cast(schema)
                found += table.num_rows
                yield table
        except (pa.ArrowException, OSError, KeyError) as exc:
            raise _bad(path, f"not a readable part of shard {meta.shard} ({exc})") from None
    if found != meta.records:
        raise _bad(root / manifest_key(meta.shard), f"{meta.records} records listed, {found} found")


def read_issues(root: Path, meta: ShardMeta) -> list[QualityIssue]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = root / manifest_key(meta.shard)
    try:
        rows = pq.read_table(path).cast(issue_schema()).to_pylist()
        return [
            QualityIssue(**{**r, "kind": IssueKind(r["kind"]), "action": Action(r["action"])}) for r in rows
        ]
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _bad(path, f"its data-quality issues are not readable ({exc})") from None


def _store_schema() -> pa.Schema:
    import pyarrow as pa

    schema = part_schema()
    fields = [schema.field(name) for name in SAMPLE_COLUMNS]
    naive = pa.timestamp("us")
    return pa.schema([f.with_type(naive) if f.name.endswith("_utc") else f for f in fields])


def _bad(path: Path, message: str) -> SciError:
    return SciError(
        f"{path}: {message}",
        hint="write the shard again with `sci-report collect` on its machine, or remove it from the dataset",
    )
