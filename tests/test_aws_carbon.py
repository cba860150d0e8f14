"""The aws-carbon collector (AWS Data Exports CARBON_EMISSIONS) on its fixtures, bad input and properties."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from aws_helpers import FIXTURES, config, ingest_and_compute, parse
from hypothesis import given, settings
from strategies import file_bytes

from collectors.aws_carbon_export import METHOD, AwsCarbonExport
from collectors.base import SourceContext, head_bytes
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, Tier
from sci.store import Store

DIR = FIXTURES / "aws_carbon"
V3 = DIR / "carbon_emissions_v3_scopes.csv"
MARCH = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))


def test_v3_scopes_are_separate_records_in_grams() -> None:
    records, issues = parse(AwsCarbonExport, V3)
    assert issues == []
    assert len(records) == 12  # 4 rows x scopes 1, 2, 3
    ec2 = [r for r in records if r.line == 2]
    assert [(r.scope, r.carbon_g, r.market_carbon_g) for r in ec2] == [
        ("1", pytest.approx(123.0), pytest.approx(123.0)),  # 0.000123 MTCO2e; scope 1 is one figure
        ("2", pytest.approx(10_000.0), pytest.approx(1_000.0)),
        ("3", pytest.approx(2_222.0), pytest.approx(2_222.0)),
    ]
    assert {r.device for r in records} == {
        "aws:111122223333/AmazonEC2/us-east-1",
        "aws:111122223333/AmazonS3/us-east-1",
        "aws:444455556666/AWSLambda/eu-west-1",
        "aws:111122223333/AmazonCloudFront/Global",  # no region_code: the location
    }
    for r in records:
        assert (r.tier, r.component, r.method) == (Tier.PROVIDER, Component.SYSTEM, METHOD)
        assert (r.start_utc, r.end_utc) == MARCH
        assert r.energy_kwh is None
    total_t = 0.012345 + 0.0005 + 0.000071 + 0.00035
    assert sum(r.carbon_g or 0 for r in records) == pytest.approx(total_t * 1e6)


def test_v2_totals_gzip_give_one_record_per_row() -> None:
    records, issues = parse(AwsCarbonExport, DIR / "carbon_emissions_v2_totals.csv.gz")
    assert issues == []
    assert [(r.line, r.scope, r.carbon_g, r.market_carbon_g) for r in records] == [
        (2, None, pytest.approx(12_000.0), pytest.approx(3_000.0)),
        (3, None, pytest.approx(450.0), pytest.approx(80.0)),
    ]


def test_parquet_gives_the_same_records_with_row_numbers(tmp_path: Path) -> None:
    table = pacsv.read_csv(V3)
    assert pa.types.is_timestamp(table.schema.field("usage_period_start").type)
    path = tmp_path / "export.parquet"
    pq.write_table(table, path, row_group_size=2)
    records, issues = parse(AwsCarbonExport, path)
    csv_records, _ = parse(AwsCarbonExport, V3)
    assert issues == []
    assert [r.line for r in records] == [line - 1 for line in (r.line for r in csv_records)]
    assert [(r.device, r.scope, r.carbon_g, r.start_utc) for r in records] == [
        (r.device, r.scope, r.carbon_g, r.start_utc) for r in csv_records
    ]
    assert AwsCarbonExport.sniff(head_bytes(path))


def test_sniff_refuses_a_runtime_log() -> None:  # fixtures' detection: tests/test_detect.py
    assert not AwsCarbonExport.sniff(b"start,end,utilisation_pct\n")


def test_mixed_model_versions_are_an_error_naming_both_and_the_option() -> None:
    path = DIR / "carbon_emissions_mixed_versions.csv"
    with pytest.raises(CollectorError) as caught:
        parse(AwsCarbonExport, path)
    err = caught.value
    assert err.line == 4
    assert "v2.0.0" in err.message
    assert "v3.0.0" in err.message
    assert 'model_version = "v3.0.0"' in err.hint
    records, issues = parse(AwsCarbonExport, path, model_version="v3.0.0")
    assert {r.line for r in records} == {2, 3}
    assert [(i.kind, i.action, i.line_start, i.line_end, i.rows) for i in issues] == [
        (IssueKind.EXCLUDED, Action.DROPPED, 4, 4, 1)
    ]
    assert "v2.0.0" in issues[0].detail


def test_an_unknown_unit_is_an_error() -> None:
    with pytest.raises(CollectorError) as caught:
        parse(AwsCarbonExport, DIR / "carbon_emissions_unknown_unit.csv")
    assert caught.value.line == 3
    assert "'kgCO2e'" in caught.value.message
    assert "MTCO2e" in caught.value.message


def test_missing_columns_are_listed() -> None:
    with pytest.raises(CollectorError) as caught:
        parse(AwsCarbonExport, DIR / "carbon_emissions_missing_columns.csv")
    assert caught.value.line == 1
    assert caught.value.message == "missing required columns: usage_account_id, usage_period_end"


def test_partial_months_are_kept_and_flagged() -> None:
    records, issues = parse(AwsCarbonExport, DIR / "carbon_emissions_partial_month.csv")
    assert len(records) == 6
    assert [(i.kind, i.action, i.line_start, i.line_end) for i in issues] == [
        (IssueKind.PARTIAL_PERIOD, Action.KEPT, 2, 2),
        (IssueKind.PARTIAL_PERIOD, Action.KEPT, 3, 3),
    ]
    assert "had not ended" in issues[0].detail
    assert "part of its calendar month" in issues[1].detail


def test_scopes_not_adding_up_to_the_total_are_kept_and_flagged() -> None:
    records, issues = parse(AwsCarbonExport, DIR / "carbon_emissions_scope_mismatch.csv")
    assert len(records) == 12
    assert [(i.kind, i.action, i.line_start, i.rows) for i in issues] == [
        (IssueKind.TOTAL_MISMATCH, Action.KEPT, 2, 1)
    ]
    assert sum(r.carbon_g or 0 for r in records if r.line == 2) == pytest.approx(12_345.0)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("v3.0.0,1,2025-03-01,2025-04-01,lots,MTCO2e", "not a number"),
        ("v3.0.0,1,2025-03-01,2025-02-01,1,MTCO2e", "not after"),
        ("v3.0.0,1,March,2025-04-01,1,MTCO2e", "not a date"),
        (",1,2025-03-01,2025-04-01,1,MTCO2e", "model_version is empty"),
        ("v3.0.0,1,2025-03-01,2025-04-01,1", "fields"),
    ],
)
def test_bad_rows_are_errors_naming_the_line(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        "model_version,usage_account_id,usage_period_start,usage_period_end,total_lbm_emissions_value,"
        f"total_lbm_emissions_unit\n{row}\n",
        encoding="utf-8",
    )
    with pytest.raises(CollectorError) as caught:
        parse(AwsCarbonExport, path)
    assert caught.value.line == 2
    assert message in caught.value.message


def test_an_empty_total_is_a_dropped_missing_value(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        "model_version,usage_account_id,usage_period_start,usage_period_end,total_lbm_emissions_value,"
        "total_lbm_emissions_unit\nv3.0.0,1,2025-03-01,2025-04-01,,MTCO2e\nv3.0.0,1,2025-03-01,2025-04-01,,MTCO2e\n",
        encoding="utf-8",
    )
    records, issues = parse(AwsCarbonExport, path)
    assert records == []
    found = [(i.kind, i.line_start, i.line_end, i.rows) for i in issues]
    assert found == [(IssueKind.MISSING_VALUE, 2, 3, 2)]


# -- the real ingest path -------------------------------------------------------------------------------


def test_ingest_and_compute_count_the_lbm_total_and_keep_mbm_beside(tmp_path: Path) -> None:
    shutil.copy(V3, tmp_path / V3.name)
    result = ingest_and_compute(config(tmp_path, f'collector = "aws-carbon"\npaths = ["{V3.name}"]'))
    (cloud,) = result.platforms
    assert cloud.provider_carbon_g == pytest.approx(13_266.0)
    assert cloud.provider_market_carbon_g == pytest.approx(3_345.0 + 100.0 + 21.0 + 150.0)
    assert cloud.it_energy_kwh == 0.0


@pytest.mark.parametrize(
    "name",
    [
        "carbon_emissions_mixed_versions.csv",
        "carbon_emissions_unknown_unit.csv",
        "carbon_emissions_missing_columns.csv",
    ],
)
def test_a_bad_file_stores_nothing(tmp_path: Path, name: str) -> None:
    shutil.copy(DIR / name, tmp_path / name)
    cfg = config(tmp_path, f'collector = "aws-carbon"\npaths = ["{name}"]')
    from sci import app

    with pytest.raises(CollectorError):
        app.run_ingest(cfg)
    with Store(cfg.store_path) as store:
        assert store.stored_file(name) is None
        assert store.paths() == []


# -- properties -----------------------------------------------------------------------------------------


@settings(max_examples=200)
@given(data=file_bytes(max_size=500))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for head in (b"", b"PAR1", V3.read_bytes()[:300]):
            path = Path(tmp) / "x.csv"
            path.write_bytes(head + data)
            with contextlib.suppress(CollectorError):
                list(AwsCarbonExport().parse(SourceContext(path=path, device="x")))
