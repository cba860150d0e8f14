"""Fleets: shards collected on three machines, to a folder and to S3 (moto on 127.0.0.1), give the same SCI
totals as ingesting the same files on one machine; the SQL in docs/fleet.md runs over the dataset."""

from __future__ import annotations

import json
import logging
import re
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fleet_helpers import MACHINES, TEAM, assert_same_totals, direct, lead, machine
from moto.server import ThreadedMotoServer

from sci import app, shards
from sci.cli import main
from sci.config import Config, load_config
from sci.errors import ConfigError, SciError
from sci.results import ComputeResult

DOCS = Path(__file__).resolve().parents[1] / "docs" / "fleet.md"
SECRET = "fake-Secret-Do-Not-Leak-0123456789abcdef"
BUCKET = "acme-sci"


@dataclass(frozen=True)
class Direct:
    config: Config
    result: ComputeResult


@pytest.fixture(scope="module")
def want(tmp_path_factory: pytest.TempPathFactory) -> Direct:
    root = tmp_path_factory.mktemp("direct") / "team"
    result = direct(root)
    return Direct(load_config(root / "sci.toml"), result)


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
    boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket=BUCKET)
    try:
        yield url
    finally:
        server.stop()


def _collect_all(root: Path, fleet: str) -> dict[str, list[str]]:
    """Collect on every machine; the outcome of each file, by machine."""
    done = {}
    for name in MACHINES:
        home = root / name
        config = load_config(home / "sci.toml") if home.exists() else machine(root, name, fleet)
        done[name] = [str(o.outcome) for o in app.run_collect(config).outcomes]
    return done


def _recollected(root: Path, fleet: str) -> set[str]:
    """The outcomes of collecting again on every machine."""
    return {outcome for outcomes in _collect_all(root, fleet).values() for outcome in outcomes}


def _files(folder: Path) -> dict[str, bytes]:
    found = sorted(folder.rglob("*"))
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in found if p.is_file()}


def test_three_machines_into_a_shared_folder_equal_a_direct_ingest(tmp_path: Path, want: Direct) -> None:
    shared = tmp_path / "shared"
    fleet = f'destination = "{shared}"'
    done = _collect_all(tmp_path / "machines", fleet)
    assert done == {
        "laptop-fleet": ["ingested"] * 5,
        "gpu-node-1": ["ingested"],
        "ci-box": ["ingested", "unchanged"],  # bob's log: its shard is there already
    }
    written = _files(shared)
    assert len([k for k in written if k.startswith("_shards/")]) == 7
    assert any(k.startswith("platform=gpu-servers/month=2026-09/") for k in written)  # Berlin's 1 Oct, in UTC
    config = lead(tmp_path / "lead", fleet)
    loaded = app.run_ingest_dataset(config)
    assert sorted(str(o.outcome) for o in loaded) == ["ingested"] * 7
    assert "laptop-fleet:laptops/alice/powermetrics-2026-10.txt.gz" in {o.name for o in loaded}
    assert_same_totals(app.run_compute(config), want.result)

    assert _recollected(tmp_path / "machines", fleet) == {"unchanged"}
    assert _files(shared) == written  # re-collecting writes nothing
    assert {str(o.outcome) for o in app.run_ingest_dataset(config)} == {"unchanged"}
    app.run_ingest(config)  # a plain ingest keeps the fleet's files
    assert_same_totals(app.run_compute(config), want.result)


def test_three_machines_into_s3_equal_a_direct_ingest(
    tmp_path: Path, want: Direct, endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fleet = f'destination = "s3://{BUCKET}/fleet/2026"\nendpoint_url = "{endpoint}"\nregion = "us-east-1"'
    _collect_all(tmp_path / "machines", fleet)
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")

    def objects() -> dict[str, str]:
        listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        return {o["Key"]: f"{o['ETag']} {o['LastModified']}" for o in listed}

    before = objects()
    assert len([k for k in before if "/_shards/" in k]) == 7
    assert len(before) == 15  # 7 manifests + 8 parts (one per file and UTC month)
    assert all(k.startswith("fleet/2026/") for k in before)
    s3.put_object(Bucket=BUCKET, Key="fleet/2026/../../../../escape.parquet", Body=b"hostile")
    before = objects()
    config = lead(tmp_path / "lead", fleet)
    assert sorted(str(o.outcome) for o in app.run_ingest_dataset(config)) == ["ingested"] * 7
    assert_same_totals(app.run_compute(config), want.result)
    cache = tmp_path / "lead" / ".sci-cache" / "fleet"
    outside = [p for p in tmp_path.rglob("escape.parquet") if not p.is_relative_to(cache)]
    assert outside == []
    assert [p.relative_to(cache).as_posix() for p in cache.rglob("escape.parquet")] == [
        f"{BUCKET}/fleet/2026/escape.parquet"
    ]
    mirror = tmp_path / "lead" / ".sci-cache" / "fleet" / BUCKET / "fleet" / "2026" / "_shards"
    assert len(list(mirror.glob("*.parquet"))) == 7

    assert _recollected(tmp_path / "machines", fleet) == {"unchanged"}
    assert objects() == before
    assert {str(o.outcome) for o in app.run_ingest_dataset(config)} == {"unchanged"}
    assert SECRET not in caplog.text


def test_an_exported_store_loads_back_and_the_same_bytes_count_once(tmp_path: Path, want: Direct) -> None:
    exported = app.export_dataset(want.config, str(tmp_path / "exported"))
    assert (exported.shards, exported.records) == (7, 48_962)
    config = lead(tmp_path / "lead")
    app.run_ingest_dataset(config, str(tmp_path / "exported"))
    assert_same_totals(app.run_compute(config), want.result)
    _collect_all(tmp_path / "machines", f'destination = "{tmp_path / "shared"}"')
    again = app.run_ingest_dataset(config, str(tmp_path / "shared"))
    assert {str(o.outcome) for o in again} == {"duplicate"}  # the machines' files: stored already
    assert_same_totals(app.run_compute(config), want.result)


def test_a_grown_log_supersedes_its_older_shard(tmp_path: Path, want: Direct) -> None:
    fleet = f'destination = "{tmp_path / "shared"}"'
    box = machine(tmp_path / "machines", "ci-box", fleet)
    log = tmp_path / "machines" / "ci-box" / "ci" / "jobs-2026-10.csv"
    full = log.read_bytes()
    log.write_bytes(b"".join(full.splitlines(keepends=True)[:900]))
    app.run_collect(box, now=datetime(2026, 10, 20, tzinfo=UTC))
    config = lead(tmp_path / "lead", fleet)
    assert [str(o.outcome) for o in app.run_ingest_dataset(config)] == ["ingested", "ingested"]
    log.write_bytes(full)
    app.run_collect(box, now=datetime(2026, 11, 1, 3, tzinfo=UTC))
    loaded = {(o.name, str(o.outcome), o.detail[:13]) for o in app.run_ingest_dataset(config)}
    assert loaded == {
        ("ci-box:ci/jobs-2026-10.csv", "unchanged", "superseded by"),
        ("ci-box:ci/jobs-2026-10.csv", "replaced", ""),
        ("ci-box:laptops/bob/powermetrics-2026-10.txt.gz", "unchanged", ""),
    }
    got = {p.platform: p for p in app.run_compute(config).platforms}
    assert got["ci"].carbon_g == pytest.approx(want.result.platforms[2].carbon_g, rel=1e-12)


def _docs_sql(name: str) -> str:
    match = re.search(rf"<!-- sql:{name} -->\n```sql\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert match, name
    return match[1]


def _store_sums(want: Direct, sql: str) -> dict[tuple[Any, ...], float]:
    with duckdb.connect(str(want.config.store_path), read_only=True) as con:
        return {tuple(r[:-1]): r[-1] for r in con.sql(sql).fetchall()}


def _grouped(rows: list[dict[str, Any]], value: str) -> dict[tuple[Any, ...], float]:
    sums: dict[tuple[Any, ...], float] = {}
    for row in rows:
        key = (row["platform"], row["period"])
        sums[key] = sums.get(key, 0.0) + (row[value] or 0.0)
    return sums


def _assert_sums(got: dict[tuple[Any, ...], float], expected: dict[tuple[Any, ...], float]) -> None:
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        if value is None:  # e.g. energy of a platform with provider carbon only
            assert got[key] in (None, 0.0), key
        else:
            assert got[key] == pytest.approx(value, rel=1e-12), key


ENERGY_BY_MONTH = """SELECT platform, strftime(start_utc, '%Y-%m'), sum(energy_kwh) FROM samples
    WHERE energy_kwh IS NOT NULL OR carbon_g IS NOT NULL GROUP BY ALL"""
RUNTIME_BY_MONTH = """SELECT platform, strftime(start_utc, '%Y-%m'), sum(runtime_s) FROM samples
    WHERE tier = 'proxy-estimated' AND energy_kwh IS NULL AND carbon_g IS NULL GROUP BY ALL"""


@pytest.fixture(scope="module")
def dataset(want: Direct, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dataset")
    app.export_dataset(want.config, str(folder))
    return folder


def test_the_duckdb_queries_in_the_docs_match_the_store(dataset: Path, want: Direct) -> None:
    with duckdb.connect() as con:
        con.execute(_docs_sql("duckdb-view").replace("DATASET", str(dataset)))
        energy = con.sql(_docs_sql("energy")).to_arrow_table().to_pylist()
        proxy = con.sql(_docs_sql("proxy")).to_arrow_table().to_pylist()
    _assert_sums(_grouped(energy, "energy_kwh"), _store_sums(want, ENERGY_BY_MONTH))
    _assert_sums(_grouped(proxy, "runtime_s"), _store_sums(want, RUNTIME_BY_MONTH))
    assert {r["device"] for r in energy if r["platform"] == "laptops"} == {"alice", "bob", "carol"}


def test_spark_runs_the_same_aggregation(dataset: Path, want: Direct) -> None:
    pyspark_sql = pytest.importorskip("pyspark.sql")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17")
    spark = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("sci-report-fleet-test")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    try:
        spark.sql(_docs_sql("spark-view").replace("DATASET", str(dataset)))
        energy = [r.asDict() for r in spark.sql(_docs_sql("energy")).collect()]
        proxy = [r.asDict() for r in spark.sql(_docs_sql("proxy")).collect()]
    finally:
        spark.stop()
    _assert_sums(_grouped(energy, "energy_kwh"), _store_sums(want, ENERGY_BY_MONTH))
    _assert_sums(_grouped(proxy, "runtime_s"), _store_sums(want, RUNTIME_BY_MONTH))


def _rewrite_manifest(path: Path, change: dict[str, Any]) -> None:
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[shards.META_KEY])
    meta.update(change)
    pq.write_table(table.replace_schema_metadata({shards.META_KEY: json.dumps(meta).encode()}), path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"parts": ["../../outside.parquet"]}, "names parts outside the dataset layout"),
        ({"records": "many"}, "'many' where a int belongs"),
        ({"platform": "mainframes"}, "platforms sci.toml does not have: mainframes"),
        ({"records": 7}, "7 records listed"),
    ],
)
def test_a_bad_manifest_is_an_error_naming_it(
    tmp_path: Path, dataset: Path, change: dict[str, Any], message: str
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(dataset, copy)
    _rewrite_manifest(sorted((copy / "_shards").glob("*.parquet"))[0], change)
    config = lead(tmp_path / "lead")
    with pytest.raises(SciError, match=re.escape(message)):
        app.run_ingest_dataset(config, str(copy))


def test_a_shard_that_fails_after_its_first_batches_leaves_nothing_of_it(
    tmp_path: Path, dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shards are read in batches (a month of a GPU server is never in memory whole), so a shard can fail
    after rows of it went in: its transaction rolls back and the store holds none of it."""
    monkeypatch.setattr(shards, "READ_BATCH_ROWS", 1000)  # many batches before the count is checked
    copy = tmp_path / "copy"
    shutil.copytree(dataset, copy)
    manifests = sorted((copy / "_shards").glob("*.parquet"))
    big = max((shards.read_manifest(p) for p in manifests), key=lambda m: m.records)
    assert big.records > 3000
    _rewrite_manifest(copy / shards.manifest_key(big.shard), {"records": big.records + 1})
    config = lead(tmp_path / "lead")
    with pytest.raises(SciError, match=re.escape(f"{big.records + 1} records listed, {big.records} found")):
        app.run_ingest_dataset(config, str(copy))
    with duckdb.connect(str(config.store_path), read_only=True) as con:
        assert (big.source,) not in con.execute("SELECT path FROM files").fetchall()
        orphans = "SELECT count(*) FROM samples WHERE file_id NOT IN (SELECT file_id FROM files)"
        assert con.execute(orphans).fetchall() == [(0,)]


def test_a_manifest_that_is_not_parquet_is_an_error(tmp_path: Path, dataset: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(dataset, copy)
    sorted((copy / "_shards").glob("*.parquet"))[0].write_bytes(b"not parquet")
    with pytest.raises(SciError, match="not a readable Parquet file"):
        app.run_ingest_dataset(lead(tmp_path / "lead"), str(copy))


def test_collect_needs_a_destination(tmp_path: Path) -> None:
    config = lead(tmp_path)
    with pytest.raises(ConfigError, match=r"fleet\.destination"):
        app.run_collect(config)


def test_the_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared"
    home = machine(tmp_path / "machines", "gpu-node-1", f'destination = "{shared}"').base_dir
    main(["collect", "-c", str(home)])
    assert "collect: 1 files of gpu-node-1: 1 new shards (35,619 records)" in capsys.readouterr().out
    config = lead(tmp_path / "lead")
    main(["ingest", "-c", str(config.path), "--dataset", str(shared)])
    assert "ingest: 1 files (1 ingested); 35,619 new records" in capsys.readouterr().out
    main(["export", "-c", str(config.path), "--dataset", str(tmp_path / "again")])
    assert "export: 1 shards (3 objects, 35,619 records)" in capsys.readouterr().out
    assert _files(tmp_path / "again").keys() == _files(shared).keys()
    with pytest.raises(SystemExit):
        main(["export", "-c", str(config.path)])
    assert "give one of --audit DIR or --dataset DIR" in capsys.readouterr().err
    assert TEAM.is_dir()


def _second_copy(dataset: Path, want: Direct, folder: Path) -> Path:
    """The dataset plus one file's shard again, from another machine under another collector version."""
    from sci.store import Store

    shutil.copytree(dataset, folder)
    with Store(want.config.store_path, read_only=True) as store:
        row = next(r for r in store.query("files_to_share") if r["collector"] == "tdp-proxy")
        built = shards.build(
            {**row, "collector_version": "0-older"},
            [store.arrow("file_samples", file_id=row["file_id"])],
            store.arrow("file_issues", file_id=row["file_id"]),
            source="old-runner:ci/jobs-2026-10.csv",
            at=datetime(2026, 11, 2, tzinfo=UTC),
        )
    for key, data in built.items():
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        (folder / key).write_bytes(data)
    return folder


def test_the_same_bytes_under_two_sources_count_once_in_sql_and_in_the_store(
    tmp_path: Path, dataset: Path, want: Direct
) -> None:
    twice = _second_copy(dataset, want, tmp_path / "twice")
    assert len(list((twice / "_shards").glob("*.parquet"))) == 8
    with duckdb.connect() as con:
        con.execute(_docs_sql("duckdb-view").replace("DATASET", str(twice)))
        proxy = con.sql(_docs_sql("proxy")).to_arrow_table().to_pylist()
    _assert_sums(_grouped(proxy, "runtime_s"), _store_sums(want, RUNTIME_BY_MONTH))
    config = lead(tmp_path / "lead")
    outcomes = {o.name: str(o.outcome) for o in app.run_ingest_dataset(config, str(twice))}
    twins = sorted(name for name in outcomes if name.endswith(":ci/jobs-2026-10.csv"))
    assert [outcomes[name] for name in twins] == ["ingested", "duplicate"]  # the first source holds them
    assert_same_totals(app.run_compute(config), want.result)


def test_a_file_with_no_records_is_a_manifest_alone(tmp_path: Path) -> None:
    import pyarrow as pa

    issues = pa.table(
        {
            name: [value]
            for name, value in zip(
                ("kind", "action", "line_start", "line_end", "rows", "detail", "device", "seconds"),
                ("truncated", "dropped", 2, 2, 1, "cut off", "box", None),
                strict=True,
            )
        }
    )
    row = {
        "sha256": "ab" * 32,
        "size_bytes": 10,
        "collector": "tdp-proxy",
        "collector_version": "1",
        "platform": "ci",
        "source_key": "platforms[2].sources[0]",
        "options_digest": "x",
    }
    empty = shards.part_schema().empty_table().drop_columns(list(shards.EXTRA_COLUMNS))
    built = shards.build(row, [empty], issues, source="box:jobs.csv", at=datetime(2026, 10, 1, tzinfo=UTC))
    assert list(built) == [f"_shards/{'ab' * 32}-tdp-proxy-1.parquet"]
    (tmp_path / "_shards").mkdir()
    (tmp_path / next(iter(built))).write_bytes(next(iter(built.values())))
    (meta,) = shards.manifests(tmp_path)
    assert (meta.records, meta.issues, meta.parts) == (0, 1, ())
    assert list(shards.read_records(tmp_path, meta)) == []
    (issue,) = shards.read_issues(tmp_path, meta)
    assert (issue.kind, issue.line_start, issue.detail, issue.seconds) == ("truncated", 2, "cut off", None)


def test_force_rewrites_shards_after_a_settings_change(tmp_path: Path) -> None:
    fleet = f'destination = "{tmp_path / "shared"}"'
    node = machine(tmp_path / "machines", "gpu-node-1", fleet)
    app.run_collect(node)
    config = lead(tmp_path / "lead", fleet)
    app.run_ingest_dataset(config)
    toml = node.path.read_text(encoding="utf-8").replace('device = "gpu-node-1"', 'device = "gpu-node-one"')
    node.path.write_text(toml, encoding="utf-8")
    node = load_config(node.path)
    assert [str(o.outcome) for o in app.run_collect(node).outcomes] == ["unchanged"]  # same bytes, same name
    assert [str(o.outcome) for o in app.run_collect(node, force=True).outcomes] == ["ingested"]
    assert [str(o.outcome) for o in app.run_ingest_dataset(config)] == ["replaced"]
    (gpus,) = [p for p in app.run_compute(config).top_devices if p.platform == "gpu-servers"][:1]
    assert gpus.device.startswith("gpu-node-one")


def test_a_shard_built_batch_by_batch_equals_one_built_from_the_whole_table(want: Direct) -> None:
    from sci.store import Store

    with Store(want.config.store_path, read_only=True) as store:
        row = max(store.query("files_to_share"), key=lambda r: r["record_count"])
        table = store.arrow("file_samples", file_id=row["file_id"])
        issues = store.arrow("file_issues", file_id=row["file_id"])
    assert table.num_rows > 3000
    at = datetime(2026, 11, 2, tzinfo=UTC)
    whole = shards.build(row, [table], issues, source="box:f", at=at)
    pieces = shards.build(row, table.to_batches(max_chunksize=777), issues, source="box:f", at=at)
    assert list(pieces) == list(whole)
    for key, data in whole.items():
        assert pq.read_table(pa.BufferReader(pieces[key])).equals(pq.read_table(pa.BufferReader(data))), key
