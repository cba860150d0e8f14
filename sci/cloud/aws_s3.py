"""Fetch AWS export files (Data Exports carbon table, CUR 2.0) from S3 into a local cache for ingest.

Fetching is separate from parsing: this module lists the objects under a bucket and prefix, keeps the
export data files (``.csv``, ``.csv.gz``, ``.parquet``; manifests and anything else are skipped and
counted), downloads each into ``<config dir>/.sci-cache/aws/<bucket>/<key>`` atomically, and hands the
local paths to ingest, which parses them like any other file.

Credentials come only from boto3's standard chain (environment, shared config and credentials files,
SSO, instance or container roles): sci-report never takes, stores or logs a secret. ``endpoint_url`` is
for S3-compatible endpoints and tests.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sci.errors import ConfigError, SciError

CACHE_DIR = Path(".sci-cache") / "aws"
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet")
S3_KEYS = frozenset({"bucket", "prefix", "region", "endpoint_url"})
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]")
_CREDENTIALS_HINT = (
    "sci-report uses boto3's standard credential chain: set AWS_PROFILE (or run `aws sso login`), or run "
    "where an instance or container role applies; it needs s3:ListBucket and s3:GetObject on the prefix"
)


@dataclass(frozen=True, slots=True)
class S3Location:
    bucket: str
    prefix: str = ""
    region: str | None = None
    endpoint_url: str | None = None

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True, slots=True)
class Fetched:
    paths: tuple[Path, ...]  # local copies of the export data files, in key order
    skipped: tuple[str, ...]  # keys that are not export data files (manifests, other files)
    downloaded: int  # how many were (re-)downloaded; the others were current in the cache


def location(options: Mapping[str, Any], key: str) -> S3Location:
    """The ``s3 = { bucket, prefix, region, endpoint_url }`` table of a source; ``key`` names it in errors."""
    raw = options["s3"]
    for name in raw:
        if name not in S3_KEYS:
            raise ConfigError(
                f"{key}.{name}", "unknown key", hint=f"allowed keys: {', '.join(sorted(S3_KEYS))}"
            )
    values: dict[str, str | None] = {}
    for name in sorted(S3_KEYS):
        value = raw.get(name)
        if value is not None and (not isinstance(value, str) or (name != "prefix" and not value.strip())):
            raise ConfigError(f"{key}.{name}", f"expected a non-empty string, got {value!r}")
        values[name] = value.strip() if isinstance(value, str) else None
    if not values["bucket"]:
        raise ConfigError(f"{key}.bucket", "missing required key", hint='e.g. s3 = { bucket = "my-exports" }')
    return S3Location(
        bucket=values["bucket"],
        prefix=(values["prefix"] or "").lstrip("/"),
        region=values["region"],
        endpoint_url=values["endpoint_url"],
    )


def is_data_file(key: str) -> bool:
    return key.lower().endswith(DATA_SUFFIXES)


def local_path(cache_root: Path, bucket: str, key: str) -> Path | None:
    """Where ``key`` is cached: below ``cache_root/bucket``, every part made safe; None if nothing is left."""
    parts = [_UNSAFE.sub("_", part) for part in [bucket, *key.split("/")] if part not in ("", ".", "..")]
    parts = [part.lstrip(".") or "_" for part in parts]
    if len(parts) < 2:
        return None
    root = cache_root.resolve()
    path = root.joinpath(*parts)
    return path if path.resolve().is_relative_to(root) else None


def fetch(where: S3Location, cache_root: Path, *, client: Any = None) -> Fetched:
    """Download the export data files under ``where`` into ``cache_root`` (see the module docstring)."""
    import botocore.exceptions

    s3 = client or _client(where)
    paths: list[Path] = []
    skipped: list[str] = []
    downloaded = 0
    try:
        for item in _objects(s3, where):
            key = str(item["Key"])
            target = local_path(cache_root, where.bucket, key)
            if not is_data_file(key) or target is None:
                skipped.append(key)
                continue
            if not _current(target, str(item.get("ETag", ""))):
                _download(s3, where.bucket, key, target, str(item.get("ETag", "")))
                downloaded += 1
            paths.append(target)
    except botocore.exceptions.NoCredentialsError:
        raise SciError(f"no AWS credentials to read {where.url}", hint=_CREDENTIALS_HINT) from None
    except botocore.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise SciError(f"S3 refused {where.url}: {code}", hint=_CREDENTIALS_HINT) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise SciError(
            f"cannot reach S3 for {where.url}: {type(exc).__name__}", hint=_CREDENTIALS_HINT
        ) from None
    if not paths:
        raise SciError(
            f"no export data files under {where.url} ({len(skipped)} other objects skipped)",
            hint="check bucket and prefix: sci-report reads .csv, .csv.gz and .parquet files there",
        )
    return Fetched(paths=tuple(paths), skipped=tuple(skipped), downloaded=downloaded)


def _client(where: S3Location) -> Any:
    import boto3

    from sci.cloud.redact import mask_in_sdk_logs

    session = boto3.session.Session(region_name=where.region)
    client = session.client("s3", endpoint_url=where.endpoint_url)
    credentials = session.get_credentials()
    if credentials is not None:  # botocore logs the session token with every request at DEBUG
        frozen = credentials.get_frozen_credentials()
        mask_in_sdk_logs((frozen.secret_key, frozen.token), ("botocore", "boto3", "s3transfer", "urllib3"))
    return client


def _objects(s3: Any, where: S3Location) -> list[dict[str, Any]]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=where.bucket, Prefix=where.prefix)
    found = [item for page in pages for item in page.get("Contents", [])]
    return sorted(found, key=lambda item: str(item["Key"]))


def _etag_file(target: Path) -> Path:
    return target.with_name(f".{target.name}.etag")


def _current(target: Path, etag: str) -> bool:
    marker = _etag_file(target)
    return bool(etag) and target.is_file() and marker.is_file() and marker.read_text(encoding="utf-8") == etag


def _download(s3: Any, bucket: str, key: str, target: Path, etag: str) -> None:
    """Download to a temporary file beside ``target`` and rename it into place (never a half file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            s3.download_fileobj(bucket, key, stream)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _etag_file(target).write_text(etag, encoding="utf-8")
