"""The aws-cur collector (CUR 2.0 instance usage, Cloud Carbon Footprint estimate) and its CCF tables."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from aws_helpers import FIXTURES, config, ingest_and_compute, parse
from hypothesis import given, settings
from strategies import file_bytes

from collectors.aws_cur_usage import METHOD, AwsCurUsage
from collectors.base import SourceContext
from sci import app
from sci.cloud import ccf
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, Tier
from sci.store import Store

DIR = FIXTURES / "aws_cur"
HOURLY = DIR / "cur2_ec2_hourly.csv"
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "formats" / "emission_factors"
MEAN_MIN_W = 1.0112775416888362  # mean Min Watts of the 20 architectures of coefficients-aws-use.csv
MEAN_MAX_W = 3.8127864730593606
W_AT_50 = MEAN_MIN_W + 0.5 * (MEAN_MAX_W - MEAN_MIN_W)


def test_instance_hours_become_ccf_cpu_energy() -> None:
    records, issues = parse(AwsCurUsage, HOURLY)
    assert [(r.line, r.device, r.energy_kwh) for r in records] == [
        (2, "aws:111122223333/m5.large/us-east-1", pytest.approx(1 * 2 * W_AT_50 / 1000)),
        (3, "aws:111122223333/m5.large/us-east-1", pytest.approx(1 * 2 * W_AT_50 / 1000)),
        (4, "aws:111122223333/c6g.xlarge/us-east-1", pytest.approx(1 * 4 * W_AT_50 / 1000)),
        (7, "aws:111122223333/r5.2xlarge/us-east-1", pytest.approx(1 * 8 * W_AT_50 / 1000)),
    ]
    for r in records:
        assert (r.tier, r.component, r.method) == (Tier.PROXY, Component.CPU, METHOD)
        assert r.carbon_g is None
        assert r.duration_s == 3600.0
    assert [(i.kind, i.action, i.line_start, i.line_end, i.rows) for i in issues] == [
        (IssueKind.EXCLUDED, Action.DROPPED, 5, 6, 2)  # S3 storage and tax
    ]


def test_architecture_and_utilisation_options() -> None:
    records, _ = parse(AwsCurUsage, HOURLY, architecture="Graviton3", utilisation_pct=100.0)
    graviton3 = ccf.vcpu_power("aws", "graviton3")
    assert graviton3 is not None
    assert records[0].energy_kwh == pytest.approx(2 * graviton3.max_w / 1000)
    with pytest.raises(CollectorError, match="not in Cloud Carbon Footprint"):
        parse(AwsCurUsage, HOURLY, architecture="Pentium")
    with pytest.raises(CollectorError, match="utilisation_pct"):
        parse(AwsCurUsage, HOURLY, utilisation_pct=150.0)


def test_two_regions_are_an_error_unless_one_is_chosen() -> None:
    path = DIR / "cur2_two_regions.csv"
    with pytest.raises(CollectorError) as caught:
        parse(AwsCurUsage, path)
    assert caught.value.line == 4
    assert "us-east-1 and eu-west-1" in caught.value.message
    assert 'region = "us-east-1"' in caught.value.hint
    records, issues = parse(AwsCurUsage, path, region="eu-west-1")
    assert [r.line for r in records] == [4]
    assert [(i.kind, i.line_start, i.line_end, i.rows) for i in issues] == [(IssueKind.EXCLUDED, 2, 3, 2)]


def test_an_unknown_pricing_unit_is_dropped_and_counted() -> None:
    records, issues = parse(AwsCurUsage, DIR / "cur2_unknown_unit.csv")
    assert [r.line for r in records] == [2]
    assert [(i.kind, i.action, i.line_start, i.rows) for i in issues] == [
        (IssueKind.UNKNOWN_UNIT, Action.DROPPED, 3, 1)
    ]
    assert "'Minutes'" in issues[0].detail


def test_missing_columns_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "cur.csv"
    header = "line_item_usage_start_date,line_item_usage_amount,product_instance_type\n"
    path.write_text(header, encoding="utf-8")
    with pytest.raises(CollectorError) as caught:
        parse(AwsCurUsage, path)
    assert "line_item_usage_end_date" in caught.value.message
    assert "one of product_vcpu" in caught.value.message


def test_parquet_with_a_product_map(tmp_path: Path) -> None:
    table = pacsv.read_csv(HOURLY).drop_columns(["product"])
    vcpus = [[("vcpu", "2")], [("vcpu", "2")], [("vcpu", "4")], [], [], [("vcpu", "8")]]
    table = table.append_column("product", pa.array(vcpus, type=pa.map_(pa.string(), pa.string())))
    path = tmp_path / "cur.parquet"
    pq.write_table(table, path)
    records, _ = parse(AwsCurUsage, path)
    assert [(r.line, r.energy_kwh) for r in records] == [
        (line, pytest.approx(n * W_AT_50 / 1000)) for line, n in ((1, 2), (2, 2), (3, 4), (6, 8))
    ]


def test_ingest_and_compute_apply_pue_once_and_the_region_grid(tmp_path: Path) -> None:
    shutil.copy(HOURLY, tmp_path / HOURLY.name)
    result = ingest_and_compute(config(tmp_path, f'collector = "aws-cur"\npaths = ["{HOURLY.name}"]'))
    (cloud,) = result.platforms
    it_kwh = 16 * W_AT_50 / 1000
    assert cloud.it_energy_by_tier_kwh == {"proxy-estimated": pytest.approx(it_kwh)}
    assert cloud.pue == 1.135
    assert cloud.energy_kwh == pytest.approx(it_kwh * 1.135)
    assert cloud.operational_g == pytest.approx(it_kwh * 1.135 * 415.755)


def test_a_file_with_two_regions_stores_nothing(tmp_path: Path) -> None:
    name = "cur2_two_regions.csv"
    shutil.copy(DIR / name, tmp_path / name)
    cfg = config(tmp_path, f'collector = "aws-cur"\npaths = ["{name}"]')
    with pytest.raises(CollectorError):
        app.run_ingest(cfg)
    with Store(cfg.store_path) as store:
        assert store.paths() == []


def test_ccf_tables_carry_provenance_and_embodied_lookups() -> None:
    m5 = ccf.aws_embodied("m5.large")
    assert m5 is not None
    assert m5.total_kgco2e > 1000.0
    assert "Apache-2.0" in m5.licence
    assert ccf.aws_embodied("no.such") is None
    average = ccf.vcpu_power("aws")
    assert average is not None
    assert (average.min_w, average.max_w) == (pytest.approx(MEAN_MIN_W), pytest.approx(MEAN_MAX_W))
    assert "Graviton4" in ccf.architectures("aws")


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"needs the shared CCF snapshot at {SHARED}")
def test_committed_ccf_tables_equal_a_fresh_build(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "tools" / "build_ccf.py"), str(SHARED), "--out", str(tmp_path)],
        check=True,
    )
    committed = REPO / "sci" / "data" / "ccf"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in committed.iterdir())
    for built in tmp_path.iterdir():
        assert built.read_bytes() == (committed / built.name).read_bytes(), built.name


@settings(max_examples=200)
@given(data=file_bytes(max_size=500))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for head in (b"", b"PAR1", HOURLY.read_bytes()[:400]):
            path = Path(tmp) / "x.csv"
            path.write_bytes(head + data)
            with contextlib.suppress(CollectorError):
                list(AwsCurUsage().parse(SourceContext(path=path, device="x")))
