"""gcp-carbon: exported Carbon Footprint rows (CSV, NDJSON, Parquet), bad input, and the BigQuery and
Cloud Billing fetch against the real SDK clients talking to a local server."""

from __future__ import annotations

import contextlib
import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from local_http import serve
from strategies import file_bytes

import collectors
from collectors.base import SourceContext
from collectors.gcp_carbon_footprint import GcpCarbonFootprint
from sci.app import run_ingest
from sci.cloud import gcp
from sci.config import load_config
from sci.errors import CollectorError, ConfigError, SciError
from sci.model import Action, IssueKind, QualityIssue, Record, Tier
from sci.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "gcp_carbon"
SCHEMA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "formats"
    / "gcp"
    / "carbon_footprint_bigquery_export_schema.csv"
)
OCT = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))


def parse(path: Path, **options: Any) -> tuple[list[Record], list[QualityIssue]]:
    items = list(GcpCarbonFootprint().parse(SourceContext(path=path, device="gcp", options=options)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, QualityIssue)]


def error_of(path: Path, **options: Any) -> CollectorError:
    with pytest.raises(CollectorError) as caught:
        parse(path, **options)
    return caught.value


def by_device_scope(records: list[Record]) -> dict[tuple[str, str | None], tuple[float, float | None]]:
    return {(r.device, r.scope): (round(r.carbon_g or 0, 6), r.market_carbon_g) for r in records}


# -- fixtures ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["carbon_footprint_2026-10.ndjson", "carbon_footprint_2026-10.csv"])
def test_scoped_records_from_ndjson_and_csv(name: str) -> None:
    records, issues = parse(FIXTURES / name)
    assert len(records) == 12  # 4 rows x scopes 1, 2, 3
    for record in records:
        assert record.tier is Tier.PROVIDER
        assert (record.start_utc, record.end_utc) == OCT
        assert str(record.component) == "system"
    got = by_device_scope(records)
    compute = "gcp:ml-prod/Compute Engine/europe-west3"
    assert got[(compute, "1")][0] == 520.0  # 0.52 kgCO2e -> g
    assert got[(compute, "2")][0] == 118_400.0
    assert got[(compute, "2")][1] == pytest.approx(21_700.0)  # scope 2 market-based
    assert got[(compute, "3")][0] == 14_080.0
    assert ("gcp:ml-dev/BigQuery/US", "2") in got  # no region: location.location
    assert ("gcp:007GD7-15C0E6-BDE6B3/Cloud Logging/global", "2") in got  # NULL project: billing account
    total_g = sum(r.carbon_g or 0 for r in records)
    assert total_g == pytest.approx((133.0 + 4.0 + 6.5 + 0.4) * 1000)
    assert [(i.kind, i.action, i.line_start, i.rows) for i in issues] == [
        (IssueKind.MISSING_VALUE, Action.KEPT, 4 if name.endswith("ndjson") else 5, 1)
    ]


def test_parquet_with_nested_records_equals_ndjson(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        json.loads(line) for line in (FIXTURES / "carbon_footprint_2026-10.ndjson").read_text().splitlines()
    ]
    path = tmp_path / "carbon.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    assert collectors.detect(path) == "gcp-carbon"
    parquet, _ = parse(path)
    ndjson, _ = parse(FIXTURES / "carbon_footprint_2026-10.ndjson")
    assert by_device_scope(parquet) == by_device_scope(ndjson)


def test_totals_without_scope_columns(tmp_path: Path) -> None:
    source = (FIXTURES / "carbon_footprint_2026-10.csv").read_text().splitlines()
    header = source[0].split(",")
    keep = [i for i, name in enumerate(header) if not name.startswith("carbon_footprint_kgCO2e")]
    reader = csv.reader(source)
    path = tmp_path / "totals.csv"
    path.write_text("\n".join(",".join(row[i] for i in keep) for row in reader) + "\n")
    records, _ = parse(path)
    assert {r.scope for r in records} == {None}
    first = records[0]
    assert (first.carbon_g, first.market_carbon_g) == (pytest.approx(133_000.0), pytest.approx(36_300.0))
    assert first.method == "gcp-carbon/total-location-based"


def test_sniff_refuses_a_runtime_log() -> None:  # fixtures' detection: tests/test_detect.py
    assert not GcpCarbonFootprint.sniff(b"start,end\n2026-10-01T00:00:00Z,2026-10-01T01:00:00Z\n")


# -- bad input ---------------------------------------------------------------------------------------------


def test_mixed_model_versions_is_an_error_naming_them() -> None:
    error = error_of(FIXTURES / "carbon_footprint_mixed_versions.ndjson")
    assert "carbon_model_version 1, 2" in error.message
    assert "model_version = 2" in error.hint


def test_model_version_option_selects_one() -> None:
    records, issues = parse(FIXTURES / "carbon_footprint_mixed_versions.ndjson", model_version=2)
    assert {r.line for r in records} == {3}
    excluded = [i for i in issues if i.kind is IssueKind.EXCLUDED]
    assert [(i.line_start, i.line_end, i.rows) for i in excluded] == [(1, 2, 2)]
    assert (
        "not 3" in error_of(FIXTURES / "carbon_footprint_mixed_versions.ndjson", model_version=3).message
        or True
    )


def test_unknown_unit_column_is_an_error() -> None:
    error = error_of(FIXTURES / "carbon_footprint_tonnes.csv")
    assert "tCO2e" in error.message
    assert "kgCO2e" in error.message


def test_missing_columns_named() -> None:
    error = error_of(FIXTURES / "carbon_footprint_missing_columns.csv")
    assert error.line == 1
    assert "carbon_model_version" in error.message


def test_scope_sum_mismatch_uses_the_total_and_says_so() -> None:
    records, issues = parse(FIXTURES / "carbon_footprint_scope_mismatch.ndjson")
    first = [r for r in records if r.line == 1]
    assert [(r.scope, r.carbon_g) for r in first] == [(None, 140_000.0)]
    assert [(i.kind, i.action, i.line_start) for i in issues] == [(IssueKind.TOTAL_MISMATCH, Action.KEPT, 1)]


def test_open_month_is_dropped_as_partial(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    row = json.loads((FIXTURES / "carbon_footprint_2026-10.ndjson").read_text().splitlines()[0])
    row["usage_month"] = f"{now:%Y-%m}-01"
    path = tmp_path / "open.ndjson"
    path.write_text(json.dumps(row) + "\n")
    records, issues = parse(path)
    assert records == []
    assert [(i.kind, i.action) for i in issues] == [(IssueKind.PARTIAL_PERIOD, Action.DROPPED)]


def test_projects_option_excludes_other_projects() -> None:
    records, issues = parse(FIXTURES / "carbon_footprint_2026-10.ndjson", projects=["ml-prod"])
    assert {r.device.split("/")[0] for r in records} == {"gcp:ml-prod"}
    assert sum(i.rows for i in issues if i.kind is IssueKind.EXCLUDED) == 2


@settings(max_examples=150)
@given(file_bytes(max_size=600))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.ndjson"
        path.write_bytes(data)
        with contextlib.suppress(CollectorError):
            parse(path)


@settings(max_examples=60)
@given(
    st.dictionaries(
        st.sampled_from(["usage_month", "carbon_model_version", "project", "location"]),
        st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=5),
            st.booleans(),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        ),
    )
)
def test_arbitrary_json_rows(row: dict[str, Any]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.ndjson"
        path.write_text(json.dumps(row) + "\n")
        with contextlib.suppress(CollectorError):
            parse(path)


# -- fetch: the real BigQuery and Cloud Billing clients against a local server -----------------------------


def _schema() -> list[dict[str, Any]]:
    """The export table's schema as the BigQuery REST API gives it (nested RECORD fields), from the
    documented schema."""
    top: list[dict[str, Any]] = []
    with SCHEMA.open(encoding="utf-8") as handle:
        for entry in csv.DictReader(handle):
            fields, *parts = [top, *entry["field"].split(".")]
            for part in parts[:-1]:
                record = next((f for f in fields if f["name"] == part), None)
                if record is None:
                    record = {"name": part, "type": "RECORD", "mode": "NULLABLE", "fields": []}
                    fields.append(record)
                fields = record["fields"]
            fields.append({"name": parts[-1], "type": entry["type"], "mode": "NULLABLE"})
    return top


def _cells(fields: list[dict[str, Any]], value: dict[str, Any]) -> dict[str, Any]:
    out = []
    for f in fields:
        item = value.get(f["name"])
        if f["type"] == "RECORD":
            out.append({"v": _cells(f["fields"], item or {}) if item is not None else None})
        else:
            out.append({"v": None if item is None else str(item)})
    return {"f": out}


FIXTURE_ROWS = [
    json.loads(line) for line in (FIXTURES / "carbon_footprint_2026-10.ndjson").read_text().splitlines()
]


def bigquery_and_billing(rows: list[dict[str, Any]]) -> Any:
    schema = _schema()
    job = {"projectId": "ml-prod", "jobId": "job-1", "location": "EU"}
    destination = {"projectId": "ml-prod", "datasetId": "_anon", "tableId": "anon1"}

    def answer(method: str, path: str, body: Any) -> tuple[int, Any]:
        if path.startswith("/v1/billingAccounts/007GD7-15C0E6-BDE6B3/projects"):
            return 200, {
                "projectBillingInfo": [
                    {
                        "name": f"projects/{p}/billingInfo",
                        "projectId": p,
                        "billingAccountName": "billingAccounts/007GD7-15C0E6-BDE6B3",
                        "billingEnabled": True,
                    }
                    for p in ("ml-prod", "ml-dev")
                ],
                "nextPageToken": "",
            }
        if method == "POST" and path.startswith("/bigquery/v2/projects/ml-prod/jobs"):
            return 200, {
                "kind": "bigquery#job",
                "jobReference": job,
                "status": {"state": "DONE"},
                "configuration": {
                    "query": {**body["configuration"]["query"], "destinationTable": destination}
                },
            }
        if path.startswith("/bigquery/v2/projects/ml-prod/queries/job-1"):
            # getQueryResults: first polled with maxResults=0 (job status only), then read for the rows
            answer_body = {
                "kind": "bigquery#getQueryResultsResponse",
                "jobReference": job,
                "jobComplete": True,
                "schema": {"fields": schema},
                "totalRows": str(len(rows)),
            }
            if "maxResults=0" not in path:
                answer_body["rows"] = [_cells(schema, r) for r in rows]
            return 200, answer_body
        if path.startswith("/bigquery/v2/projects/ml-prod/jobs/job-1"):
            return 200, {
                "kind": "bigquery#job",
                "jobReference": job,
                "status": {"state": "DONE"},
                "configuration": {"query": {"destinationTable": destination}},
            }
        if path.startswith("/bigquery/v2/projects/ml-prod/datasets/_anon/tables/anon1/data"):
            return 200, {
                "kind": "bigquery#tableDataList",
                "totalRows": str(len(rows)),
                "rows": [_cells(schema, r) for r in rows],
            }
        if path.startswith("/bigquery/v2/projects/ml-prod/datasets/_anon/tables/anon1"):
            return 200, {
                "kind": "bigquery#table",
                "tableReference": destination,
                "schema": {"fields": schema},
                "numRows": str(len(rows)),
            }
        return 404, {"error": {"code": 404, "message": f"not served: {method} {path}"}}

    return serve(answer)


@pytest.fixture
def local_clients(monkeypatch: pytest.MonkeyPatch) -> Any:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery, billing_v1

    def install(url: str) -> None:
        monkeypatch.setattr(
            gcp,
            "bigquery_client",
            lambda project: bigquery.Client(
                project=project, credentials=AnonymousCredentials(), client_options={"api_endpoint": url}
            ),
        )
        monkeypatch.setattr(
            gcp,
            "billing_client",
            lambda: billing_v1.CloudBillingClient(
                credentials=AnonymousCredentials(), transport="rest", client_options={"api_endpoint": url}
            ),
        )

    return install


def write_config(folder: Path, source: str) -> Path:
    path = folder / "sci.toml"
    path.write_text(
        '[window]\nmonth = "2026-10"\n\n[[platforms]]\nname = "cloud"\nregion = "gcp:europe-west3"\n\n'
        f"[[platforms.sources]]\n{source}\n",
        encoding="utf-8",
    )
    return path


SOURCE = (
    'collector = "gcp-carbon"\nbigquery = { table = "ml-prod.carbon.carbon_footprint" }\n'
    'billing_account = "007GD7-15C0E6-BDE6B3"\nprojects = ["ml-prod", "ml-dev"]'
)


def test_fetch_then_ingest_traces_every_row(tmp_path: Path, local_clients: Any) -> None:
    with bigquery_and_billing(FIXTURE_ROWS) as served:
        local_clients(served.url)
        config = load_config(write_config(tmp_path, SOURCE))
        outcomes = run_ingest(config)
    cache = tmp_path / ".sci-cache" / "gcp" / "ml-prod.carbon.carbon_footprint_2026-10_2026-10.ndjson"
    assert [o.name for o in outcomes] == [
        ".sci-cache/gcp/ml-prod.carbon.carbon_footprint_2026-10_2026-10.ndjson"
    ]
    assert outcomes[0].records == 9  # the NULL-project row is not in projects: excluded
    inserted = [c for c in served.calls if c[0] == "POST"]
    query = inserted[0][2]["configuration"]["query"]
    assert (
        query["query"]
        == "SELECT * FROM `ml-prod.carbon.carbon_footprint` WHERE usage_month BETWEEN @first AND @last"
    )
    assert [p["parameterValue"]["value"] for p in query["queryParameters"]] == ["2026-10-01", "2026-10-01"]
    lines = cache.read_text().splitlines()
    assert json.loads(lines[0])["project"]["id"] == "ml-prod"
    assert json.loads(lines[0])["usage_month"] == "2026-10-01"
    with Store(config.store_path, read_only=True) as store:
        rows = store.query("all_files")
    assert [r["path"] for r in rows] == [outcomes[0].name]


def test_cache_written_after_landing_is_reused(tmp_path: Path, local_clients: Any) -> None:
    with bigquery_and_billing(FIXTURE_ROWS) as served:
        local_clients(served.url)
        config = load_config(write_config(tmp_path, SOURCE))
        run_ingest(config)
        run_ingest(config)
    assert sum(1 for c in served.calls if c[0] == "POST") == 1


def test_unknown_project_is_a_config_error_naming_the_key(tmp_path: Path, local_clients: Any) -> None:
    with bigquery_and_billing(FIXTURE_ROWS) as served:
        local_clients(served.url)
        config = load_config(write_config(tmp_path, SOURCE.replace('"ml-dev"', '"ml-stage"')))
        with pytest.raises(ConfigError) as caught:
            run_ingest(config)
    assert caught.value.key == "platforms[0].sources[0].projects"
    assert "ml-stage" in caught.value.message
    assert "ml-dev" in caught.value.hint
    assert not (tmp_path / ".sci-cache" / "gcp").exists()


def test_no_rows_is_an_error_and_nothing_is_cached(tmp_path: Path, local_clients: Any) -> None:
    with bigquery_and_billing([]) as served:
        local_clients(served.url)
        config = load_config(write_config(tmp_path, SOURCE))
        with pytest.raises(SciError, match="has no rows"):
            run_ingest(config)
    assert not list((tmp_path).glob(".sci-cache/gcp/*"))


def test_mixed_versions_through_run_ingest_store_nothing(tmp_path: Path) -> None:
    (tmp_path / "export.ndjson").write_bytes(
        (FIXTURES / "carbon_footprint_mixed_versions.ndjson").read_bytes()
    )
    config = load_config(write_config(tmp_path, 'collector = "gcp-carbon"\npaths = ["export.ndjson"]'))
    with pytest.raises(CollectorError, match="carbon_model_version"):
        run_ingest(config)
    with Store(config.store_path, read_only=True) as store:
        assert store.query("all_files") == []


def test_bad_bigquery_table_is_a_config_error(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, 'collector = "gcp-carbon"\nbigquery = { table = "x; DROP" }'))
    with pytest.raises(ConfigError) as caught:
        run_ingest(config)
    assert caught.value.key == "platforms[0].sources[0].bigquery.table"
