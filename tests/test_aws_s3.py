"""Fetching AWS exports from S3 (moto's server on 127.0.0.1) into the cache, through the real ingest path."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from aws_helpers import FIXTURES, config, ingest_and_compute
from moto.server import ThreadedMotoServer

from sci.cloud import aws_s3
from sci.errors import ConfigError, SciError

SECRET = "fake-Secret-Do-Not-Leak-0123456789abcdef"
BUCKET = "team-exports"
PREFIX = "carbon/data"
V3 = FIXTURES / "aws_carbon" / "carbon_emissions_v3_scopes.csv"
V2 = FIXTURES / "aws_carbon" / "carbon_emissions_v2_totals.csv.gz"


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).close()
    try:
        yield url
    finally:
        server.stop()


def _bucket(endpoint: str, objects: dict[str, bytes]) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    for key, body in objects.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)


def _source(endpoint: str, collector: str = "aws-carbon") -> str:
    return (
        f'collector = "{collector}"\n'
        f's3 = {{ bucket = "{BUCKET}", prefix = "{PREFIX}", region = "us-east-1", '
        f'endpoint_url = "{endpoint}" }}'
    )


def test_a_bucket_with_exports_and_unrelated_files(
    tmp_path: Path, endpoint: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _bucket(
        endpoint,
        {
            f"{PREFIX}/carbon-export/metadata/Manifest.json": b'{"files": []}',
            f"{PREFIX}/carbon-export/data/BILLING_PERIOD=2025-03/part-0.csv": V3.read_bytes(),
            f"{PREFIX}/README.txt": b"not an export",
            "elsewhere/other.csv": b"not under the prefix",
        },
    )
    cfg = config(tmp_path, _source(endpoint))
    result = ingest_and_compute(cfg)
    (cloud,) = result.platforms
    assert cloud.provider_carbon_g == pytest.approx(13_266.0)
    part = "carbon-export/data/BILLING_PERIOD=2025-03/part-0.csv"
    cached = tmp_path / ".sci-cache/aws" / BUCKET / PREFIX / part
    assert cached.read_bytes() == V3.read_bytes()
    where = aws_s3.location(cfg.platforms[0].sources[0].options, "s3")
    fetched = aws_s3.fetch(where, tmp_path / ".sci-cache/aws")
    assert fetched.paths == (cached,)
    manifest = f"{PREFIX}/carbon-export/metadata/Manifest.json"
    assert sorted(fetched.skipped) == [f"{PREFIX}/README.txt", manifest]
    assert fetched.downloaded == 0  # current in the cache (same ETag)
    leaks = [p for p in tmp_path.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaks == []
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err + caplog.text


def test_a_changed_object_is_downloaded_again_and_replaces_its_rows(tmp_path: Path, endpoint: str) -> None:
    key = f"{PREFIX}/export.csv.gz"
    _bucket(endpoint, {key: V3.read_bytes()})
    cfg = config(tmp_path, _source(endpoint))
    ingest_and_compute(cfg)
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").put_object(
        Bucket=BUCKET, Key=key, Body=V2.read_bytes()
    )
    (cloud,) = ingest_and_compute(cfg).platforms
    assert cloud.provider_carbon_g == pytest.approx(12_450.0)


def test_a_prefix_without_export_files_is_an_error(tmp_path: Path, endpoint: str) -> None:
    _bucket(endpoint, {f"{PREFIX}/Manifest.json": b"{}"})
    with pytest.raises(SciError, match=r"no export data files under s3://team-exports/carbon/data \(1 other"):
        ingest_and_compute(config(tmp_path, _source(endpoint)))


def test_a_missing_bucket_names_the_error_code(tmp_path: Path, endpoint: str) -> None:
    with pytest.raises(SciError, match="NoSuchBucket") as caught:
        ingest_and_compute(config(tmp_path, _source(endpoint)))
    assert "credential chain" in caught.value.hint
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("a/b.csv", "bkt/a/b.csv"),
        ("../../etc/passwd.csv", "bkt/etc/passwd.csv"),
        ("a/./../b c?.csv", "bkt/a/b_c_.csv"),
        ("/abs/x.parquet", "bkt/abs/x.parquet"),
        ("..hidden.csv", "bkt/hidden.csv"),
    ],
)
def test_keys_never_escape_the_cache(tmp_path: Path, key: str, expected: str) -> None:
    path = aws_s3.local_path(tmp_path, "bkt", key)
    assert path == tmp_path.resolve() / expected
    assert aws_s3.local_path(tmp_path, "bkt", "../..") is None


def test_s3_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown key"):
        aws_s3.location({"s3": {"bucket": "b", "secret_access_key": "x"}}, "s3")
    with pytest.raises(ConfigError, match="missing required key"):
        aws_s3.location({"s3": {"prefix": "p"}}, "s3")
    with pytest.raises(ConfigError, match="expected a table"):
        config(tmp_path, 'collector = "aws-carbon"\ns3 = "bucket"')
