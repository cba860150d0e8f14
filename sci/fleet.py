"""Beyond one machine: collect shards on every machine, load them into one store (docs/fleet.md).

- ``collect``: plan and parse this machine's files exactly as ``ingest`` does (into a temporary store),
  and write one shard per file not yet at the destination (sci/shards.py).
- ``export_dataset``: the same shards for every file of a store.
- ``load``: shards into a store, by file sha256 (the same bytes from two machines count once), one
  transaction per shard; of two shards of one machine's file (a log that grew), the newer counts.

A destination is a folder or ``s3://bucket/prefix`` (boto3's standard credential chain only; sci-report
never takes, stores or logs a secret). S3 is read by mirroring the dataset into a local cache first.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import collectors
from sci import shards
from sci.cloud import aws_s3
from sci.config import FleetConfig
from sci.errors import SciError
from sci.files import write_atomically
from sci.ingest import FLEET_SOURCE_KEY, FileOutcome, Outcome, PlannedFile, file_sha256, ingest
from sci.store import FileMeta, Store, StoredFile, aware_utc

CACHE_DIR = Path(".sci-cache") / "fleet"
_S3_HINT = (
    "sci-report uses boto3's standard credential chain (AWS_PROFILE, `aws sso login`, an instance or "
    "container role); it needs s3:ListBucket, s3:GetObject and, to collect, s3:PutObject on the prefix"
)


class Folder:
    """A dataset in a local (or mounted shared) folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def existing(self) -> set[str]:
        return {
            meta.name.removesuffix(".parquet") for meta in (self.root / shards.MANIFEST_DIR).glob("*.parquet")
        }

    def put(self, key: str, data: bytes) -> None:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, data)

    def local_root(self, cache_root: Path) -> Path:
        if not self.root.is_dir():
            raise SciError(
                f"no dataset folder at {self.root}", hint="check the path (or [fleet] destination)"
            )
        return self.root


class S3Prefix:
    """A dataset under ``s3://bucket/prefix``."""

    def __init__(self, where: aws_s3.S3Location, client: Any = None) -> None:
        self.where = where
        self.url = where.url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            session = boto3.session.Session(region_name=self.where.region)
            self._client = session.client("s3", endpoint_url=self.where.endpoint_url)
        return self._client

    def existing(self) -> set[str]:
        folder = f"{self.where.prefix}{shards.MANIFEST_DIR}/"
        with _s3_errors(self.url):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.where.bucket, Prefix=folder
            )
            keys = [str(item["Key"]) for page in pages for item in page.get("Contents", [])]
        return {key.removeprefix(folder).removesuffix(".parquet") for key in keys if key.endswith(".parquet")}

    def put(self, key: str, data: bytes) -> None:
        with _s3_errors(self.url):
            self.client.put_object(Bucket=self.where.bucket, Key=f"{self.where.prefix}{key}", Body=data)

    def local_root(self, cache_root: Path) -> Path:
        """Mirror the Parquet files into ``cache_root`` (sanitised keys); the dataset root there."""
        aws_s3.fetch(self.where, cache_root, client=self.client)
        mirror = aws_s3.local_path(cache_root, self.where.bucket, f"{self.where.prefix}{shards.MANIFEST_DIR}")
        assert mirror is not None  # bucket and _shards are two parts
        return mirror.parent


Destination = Folder | S3Prefix


def destination(text: str, *, base: Path, fleet: FleetConfig) -> Destination:
    """``s3://bucket/prefix`` or a folder (relative to ``base``, the sci.toml's folder)."""
    if not text.startswith("s3://"):
        return Folder(base / Path(text).expanduser())
    bucket, _, prefix = text.removeprefix("s3://").partition("/")
    if not bucket:
        raise SciError(f"{text!r} names no bucket", hint='write it as "s3://bucket/prefix"')
    prefix = prefix.strip("/")
    where = aws_s3.S3Location(
        bucket=bucket,
        prefix=f"{prefix}/" if prefix else "",
        region=fleet.region,
        endpoint_url=fleet.endpoint_url,
    )
    return S3Prefix(where)


@dataclass(frozen=True, slots=True)
class Written:
    shards: int
    objects: int
    records: int


def collect(
    files: Sequence[PlannedFile],
    target: Destination,
    *,
    platforms: list[str],
    machine: str,
    at: datetime,
    force: bool = False,
) -> list[FileOutcome]:
    """Parse ``files`` as ingest does and write a shard for each one ``target`` does not hold yet (or, with
    ``force``, for every one: a shard's name does not change with the source's device, zone or options)."""
    present = set() if force else target.existing()
    outcomes: list[FileOutcome] = []
    todo: list[PlannedFile] = []
    for planned in files:
        cls = collectors.load(planned.collector)
        name = shards.shard_name(file_sha256(planned.path), cls.name, cls.version)
        if name in present:
            outcomes.append(
                FileOutcome(planned.name, Outcome.UNCHANGED, detail=f"shard {name[:12]}… is there")
            )
        else:
            todo.append(planned)
    with (
        tempfile.TemporaryDirectory(prefix="sci-collect-") as folder,
        Store(Path(folder) / "collect.duckdb") as store,
    ):
        outcomes += ingest(store, todo, platforms=platforms)
        share(store, target, machine=machine, at=at)
    return sorted(outcomes, key=lambda o: o.name)


def share(store: Store, target: Destination, *, machine: str, at: datetime | None = None) -> Written:
    """Write a shard for every file of ``store`` (manifest last, so a shard is complete or ignored)."""
    count = objects = records = 0
    for row in store.query("files_to_share"):
        source = row["path"] if row["source_key"] == FLEET_SOURCE_KEY else f"{machine}:{row['path']}"
        issues = store.arrow("file_issues", file_id=row["file_id"])  # first: the batches hold the connection
        built = shards.build(
            row,
            store.arrow_batches("file_samples", file_id=row["file_id"]),
            issues,
            source=source,
            at=at or aware_utc(row["ingested_at_utc"]),
        )
        for key, data in built.items():
            target.put(key, data)
        count, objects, records = count + 1, objects + len(built), records + int(row["record_count"])
    return Written(shards=count, objects=objects, records=records)


def load(store: Store, root: Path, *, platforms: list[str]) -> list[FileOutcome]:
    """Load every shard under ``root`` into ``store`` (see the module docstring); one transaction each."""
    found = shards.manifests(root)
    unknown = sorted({m.platform for m in found} - set(platforms))
    if unknown:
        raise SciError(
            f"{root} holds shards of platforms sci.toml does not have: {', '.join(unknown)}",
            hint="add a [[platforms]] table for each (its location, PUE and unit), then load again",
        )
    latest: dict[str, shards.ShardMeta] = {}
    for meta in sorted(found, key=lambda m: (datetime.fromisoformat(m.collected_at_utc), m.shard)):
        latest[meta.source] = meta
    outcomes = [
        FileOutcome(m.source, Outcome.UNCHANGED, detail=f"superseded by a newer shard of {m.source}")
        for m in found
        if latest[m.source] is not m
    ]
    return outcomes + [
        _load_one(store, root, meta) for meta in sorted(latest.values(), key=lambda m: m.source)
    ]


def _load_one(store: Store, root: Path, meta: shards.ShardMeta) -> FileOutcome:
    stored = store.stored_file(meta.source)
    if stored is not None and _same(stored, meta):
        return FileOutcome(meta.source, Outcome.UNCHANGED, records=stored.record_count)
    twins = [
        path
        for path in store.query("holders_of_sha_anywhere", sha256=meta.sha256)
        if path["path"] != meta.source
    ]
    if twins:
        twin = twins[0]["path"]
        return FileOutcome(
            meta.source, Outcome.DUPLICATE, detail=f"same bytes as {twin}: counted once, there"
        )
    file_meta = FileMeta(
        path=meta.source,
        sha256=meta.sha256,
        size_bytes=meta.size_bytes,
        collector=meta.collector,
        collector_version=meta.collector_version,
        platform=meta.platform,
        source_key=FLEET_SOURCE_KEY,
        options_digest=meta.options_digest,
    )
    counts = store.import_file(file_meta, shards.read_records(root, meta), shards.read_issues(root, meta))
    kind = Outcome.REPLACED if stored is not None else Outcome.INGESTED
    return FileOutcome(meta.source, kind, records=counts.records, issues=counts.issues)


def _same(stored: StoredFile, meta: shards.ShardMeta) -> bool:
    fields = ("sha256", "collector", "collector_version", "options_digest")
    return all(getattr(stored, name) == getattr(meta, name) for name in fields)


@contextmanager
def _s3_errors(url: str) -> Iterator[None]:
    """botocore's errors as one-line SciErrors naming the destination (never a credential)."""
    import botocore.exceptions

    try:
        yield
    except botocore.exceptions.NoCredentialsError:
        raise SciError(f"no AWS credentials for {url}", hint=_S3_HINT) from None
    except botocore.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise SciError(f"S3 refused {url}: {code}", hint=_S3_HINT) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise SciError(f"cannot reach S3 for {url}: {type(exc).__name__}", hint=_S3_HINT) from None
