"""The CodeCarbon emissions.csv collector against real 2.1.3, 2.4.3 and 3.3.2 files, edge cases, and bytes."""

from __future__ import annotations

import contextlib
import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from strategies import file_bytes

from collectors.base import SourceContext
from collectors.codecarbon_csv import CodecarbonCsv
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, QualityIssue, Record, Tier

FIXTURES = Path(__file__).parent / "fixtures" / "codecarbon"
PARIS = ZoneInfo("Europe/Paris")
UTC_ZONE = ZoneInfo("UTC")
V3 = FIXTURES / "emissions_v3.3.2_generated.csv"
V24 = FIXTURES / "emissions_v2.4.3_example.csv"
V21 = FIXTURES / "emissions_v2.1.3_valid_headers.csv"
HEADER_V2 = (
    "timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,"
    "gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,"
    "python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,"
    "tracking_mode,on_cloud,pue\n"
)


def parse(path: Path, **kw: Any) -> tuple[list[Record], list[QualityIssue]]:
    kw.setdefault("timezone", PARIS)
    records: list[Record] = []
    issues: list[QualityIssue] = []
    for item in CodecarbonCsv().parse(SourceContext(path=path, device="laptop", **kw)):
        (records if isinstance(item, Record) else issues).append(item)  # type: ignore[arg-type]
    return records, issues


def of_kind(issues: list[QualityIssue], kind: IssueKind) -> list[QualityIssue]:
    return [i for i in issues if i.kind is kind]


def test_v3_rows_hand_computed() -> None:
    records, issues = parse(V3, timezone=UTC_ZONE)  # generated on a UTC machine
    assert [(r.line, r.component) for r in records[:3]] == [
        (2, Component.CPU),
        (2, Component.GPU),
        (2, Component.DRAM),
    ]
    cpu, gpu, ram = records[:3]
    assert cpu.energy_kwh == 8.499771252076855e-06  # pue 1.0: divided out, unchanged
    assert gpu.energy_kwh == 0.0
    assert ram.energy_kwh == 2.2002330705555236e-05
    assert cpu.end_utc == datetime(2026, 11, 22, 3, 51, 27, tzinfo=UTC)
    assert cpu.start_utc == cpu.end_utc - timedelta(seconds=4.007924160000016)
    # emissions 1.7093072916037447e-06 kg split by energy: cpu share 8.4998e-6 / 3.0502e-5.
    total = 8.499771252076855e-06 + 2.2002330705555236e-05
    assert cpu.reported_carbon_g == pytest.approx(
        1.7093072916037447e-03 * 8.499771252076855e-06 / total, rel=1e-12
    )
    assert math.fsum(r.reported_carbon_g or 0.0 for r in records[:3]) == pytest.approx(1.7093072916037447e-03)
    for record in records:
        assert (record.tier, record.pue_divided, record.carbon_g) == (Tier.MEASURED, 1.0, None)
        assert record.method == f"codecarbon/{record.component.value}"
        assert record.device == "laptop"
    (estimate,) = issues
    assert (estimate.kind, estimate.action, estimate.rows, estimate.line_start, estimate.line_end) == (
        IssueKind.TOOL_ESTIMATE,
        Action.KEPT,
        2,
        2,
        3,
    )
    assert "AMD EPYC" in estimate.detail


def test_v21_38_columns_emissions_all_on_the_only_energy() -> None:
    records, issues = parse(V21, timezone=ZoneInfo("Africa/Casablanca"))
    assert [r.energy_kwh for r in records] == [0.0, 0.0, 0.00057442898176]
    assert records[2].reported_carbon_g == pytest.approx(0.4490989249167, rel=1e-12)
    assert not issues


def test_v24_cumulative_rows_keep_the_last_of_each_run() -> None:
    records, issues = parse(V24)
    dupes = of_kind(issues, IssueKind.DUPLICATE_ROW)
    assert [(i.line_start, i.line_end, i.rows, i.action) for i in dupes] == [
        (4, 6, 3, Action.DROPPED),  # no run_id, same start (10:44:44.5 +- 1 s): periodic flushes of one run
        (8, 12, 5, Action.DROPPED),  # run 8a1d9822
        (16, 16, 1, Action.DROPPED),
        (18, 18, 1, Action.DROPPED),
    ]
    run = [r for r in records if r.line == 13]
    cpu = next(r for r in run if r.component is Component.CPU)
    assert cpu.energy_kwh == 1.581150643351343e-05
    # 11:10:56 CEST = 09:10:56 UTC, duration 91.82258701324464 s before it
    assert cpu.end_utc == datetime(2024, 5, 31, 9, 10, 56, tzinfo=UTC)
    assert cpu.start_utc == cpu.end_utc - timedelta(seconds=91.82258701324464)
    (missing,) = of_kind(issues, IssueKind.MISSING_VALUE)
    assert (missing.line_start, missing.action) == (7, Action.DROPPED)
    assert "cpu" in missing.detail
    assert {r.component for r in records if r.line == 7} == {Component.GPU, Component.DRAM}
    assert not of_kind(issues, IssueKind.TOOL_ESTIMATE)  # Apple M1 names its model


def test_pue_is_divided_out(tmp_path: Path) -> None:
    path = tmp_path / "emissions.csv"
    row = "2024-05-31T10:39:13,p,r1,100,0.0009,,,,,0.003,0.0,0.0015,0.0045,"
    row += ",,,,,,,,8,Apple M1,,,,,,machine,N,1.5\n"
    path.write_text(HEADER_V2 + row, encoding="utf-8")
    records, _ = parse(path)
    cpu, _gpu, ram = records
    assert cpu.energy_kwh == pytest.approx(0.002, rel=1e-12)  # 0.003 kWh / PUE 1.5
    assert ram.energy_kwh == pytest.approx(0.001, rel=1e-12)
    assert {r.pue_divided for r in records} == {1.5}
    assert math.fsum(r.reported_carbon_g or 0.0 for r in records) == pytest.approx(0.9)  # as reported


def test_no_pue_column_means_one(tmp_path: Path) -> None:
    path = tmp_path / "emissions.csv"
    header = HEADER_V2.replace(",pue\n", "\n")
    path.write_text(
        header + "2024-05-31T10:39:13,p,r1,10,,,,,,0.001,,,,,,,,,,,,8,Apple M1,,,,,,machine,N\n",
        encoding="utf-8",
    )
    records, issues = parse(path)
    assert [(r.component, r.energy_kwh, r.pue_divided, r.reported_carbon_g) for r in records] == [
        (Component.CPU, 0.001, 1.0, None)
    ]
    assert of_kind(issues, IssueKind.MISSING_VALUE)[0].detail.startswith("empty gpu/dram")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n", "not a CodeCarbon"),
        (HEADER_V2 + "yesterday,p,r,1" + ",x" * 27 + "\n", "timestamp"),
        (HEADER_V2 + "2024-05-31T10:39:13,p,r,-1" + ",x" * 27 + "\n", "duration"),
        (HEADER_V2 + "2024-05-31T10:39:13,p,r,1\n", "fields"),
        (HEADER_V2 + "2024-05-31T10:39:13,p,r,1,,,,,,lots" + "," * 21 + "\n", "cpu_energy"),
        (HEADER_V2 + "2024-05-31T10:39:13,p,r,1,,,,,,1" + "," * 21 + "0\n", "pue"),
    ],
)
def test_bad_files_are_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "emissions.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CollectorError) as caught:
        parse(path)
    assert message in caught.value.message


def test_no_timezone_is_an_error() -> None:
    with pytest.raises(CollectorError) as caught:
        parse(V3, timezone=None)
    assert "timezone" in caught.value.hint


def test_a_cut_last_line_is_truncated(tmp_path: Path) -> None:
    path = tmp_path / "emissions.csv"
    lines = V24.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:3]) + lines[3][:40], encoding="utf-8")
    records, issues = parse(path)
    assert {r.line for r in records} == {2, 3}
    assert of_kind(issues, IssueKind.TRUNCATED)[0].line_start == 4


@settings(max_examples=300)
@given(data=file_bytes(max_size=600))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "emissions.csv"
        for head in (b"", HEADER_V2.encode()):
            path.write_bytes(head + data)
            with contextlib.suppress(CollectorError):
                list(CodecarbonCsv().parse(SourceContext(path=path, device="d", timezone=PARIS)))


def test_a_run_id_restarted_with_a_new_start_is_a_new_run(tmp_path: Path) -> None:
    path = tmp_path / "emissions.csv"
    rows = [
        "2024-05-31T10:00:10,p,r1,10,,,,,,0.001,,,,,,,,,,,,8,Apple M1,,,,,,machine,N,1.0\n",
        "2024-05-31T10:00:20,p,r1,20,,,,,,0.002,,,,,,,,,,,,8,Apple M1,,,,,,machine,N,1.0\n",
        "2024-05-31T11:00:05,p,r1,5,,,,,,0.0005,,,,,,,,,,,,8,Apple M1,,,,,,machine,N,1.0\n",
    ]
    path.write_text(HEADER_V2 + "".join(rows), encoding="utf-8")
    records, issues = parse(path)
    cpu = [(r.line, r.energy_kwh) for r in records if r.component is Component.CPU]
    assert cpu == [(3, 0.002), (4, 0.0005)]  # the cumulative row 2 drops row 1; row 3 starts again at 11:00
    (dupe,) = of_kind(issues, IssueKind.DUPLICATE_ROW)
    assert (dupe.line_start, dupe.rows) == (2, 1)
