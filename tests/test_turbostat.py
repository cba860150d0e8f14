"""The turbostat collector against real output, its named variants, and arbitrary bytes."""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from strategies import file_bytes

from collectors.base import SourceContext
from collectors.turbostat import Turbostat, header_cells
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, QualityIssue, Record, Tier

FIXTURES = Path(__file__).parent / "fixtures" / "turbostat"
INTEL = FIXTURES / "intel_client_all_columns_netdata_pr2704_excerpt.tsv"
AMD = FIXTURES / "amd_7950x_corwatt_pkgwatt_mangohud_issue1390_excerpt.txt"
TIMED = {"interval_s": 5.0, "start": "2026-09-21T16:13:15+02:00"}


def parse(path: Path, **options: Any) -> tuple[list[Record], list[QualityIssue]]:
    records: list[Record] = []
    issues: list[QualityIssue] = []
    for item in Turbostat().parse(SourceContext(path=path, device="srv", options=options)):
        (records if isinstance(item, Record) else issues).append(item)  # type: ignore[arg-type]
    return records, issues


def of(issues: list[QualityIssue], kind: IssueKind) -> list[QualityIssue]:
    return [i for i in issues if i.kind is kind]


def joules(record: Record) -> float:
    return (record.energy_kwh or 0.0) * 3_600_000


def test_intel_summary_row_package_and_ram_only() -> None:
    records, issues = parse(INTEL, **TIMED)
    # Summary row (line 3): PkgWatt 4.98, CorWatt 0.92, GFXWatt 0.06, RAMWatt 1.30 (after the glued header
    # cell GFXWattRAMWatt is split). E = package + dram over 5 s: 4.98 x 5 = 24.9 J, 1.30 x 5 = 6.5 J.
    assert [(r.method, r.component, r.line) for r in records] == [
        ("turbostat/PkgWatt", Component.PACKAGE, 3),
        ("turbostat/RAMWatt", Component.DRAM, 3),
    ]
    assert joules(records[0]) == pytest.approx(24.9, rel=1e-12)
    assert joules(records[1]) == pytest.approx(6.5, rel=1e-12)
    assert records[0].start_utc == datetime(2026, 9, 21, 14, 13, 15, tzinfo=UTC)
    assert records[0].end_utc == datetime(2026, 9, 21, 14, 13, 20, tzinfo=UTC)
    assert all(r.tier is Tier.MEASURED for r in records)
    (glued,) = of(issues, IssueKind.MALFORMED_ROW)
    assert (glued.action, glued.line_start) == (Action.KEPT, 2)
    assert "GFXWattRAMWatt" in glued.detail
    (inside,) = of(issues, IssueKind.OVERLAP)
    assert "CorWatt, GFXWatt" in inside.detail


def test_amd_space_separated_after_the_config_dump() -> None:
    records, issues = parse(AMD, **TIMED)
    (package,) = records  # per-CPU rows (CorWatt 6.33, PkgWatt 152.57 on CPU 0) are never added
    assert (package.method, package.line) == ("turbostat/PkgWatt", 24)
    assert joules(package) == pytest.approx(152.59 * 5, rel=1e-12)
    assert "CorWatt" in of(issues, IssueKind.OVERLAP)[0].detail


def test_time_of_day_blocks() -> None:
    records, issues = parse(FIXTURES / "amd_7950x_time_of_day.tsv")
    # Three blocks at 5 s; the first only opens the series (no interval_s given).
    assert [(r.line, round(joules(r), 9)) for r in records] == [(9, 750.0), (16, 747.5)]
    assert records[0].start_utc == datetime.fromtimestamp(1790000000, tz=UTC)
    assert of(issues, IssueKind.SERIES_START)[0].line_start == 2
    with_interval, issues = parse(FIXTURES / "amd_7950x_time_of_day.tsv", interval_s=5.0)
    assert [round(joules(r), 9) for r in with_interval] == [762.95, 750.0, 747.5]
    assert not of(issues, IssueKind.SERIES_START)


def test_joules_columns_are_the_interval_energy() -> None:
    records, _ = parse(FIXTURES / "amd_7950x_time_of_day_joules.tsv")
    assert [(r.method, round(joules(r), 9)) for r in records] == [
        ("turbostat/Pkg_J", 750.0),
        ("turbostat/Pkg_J", 747.5),
    ]


def test_gap_and_non_monotonic() -> None:
    records, issues = parse(FIXTURES / "amd_7950x_time_of_day_gap.tsv")
    (gap,) = of(issues, IssueKind.GAP)
    assert (gap.line_start, gap.seconds, gap.action) == (16, 120.0, Action.NOT_BRIDGED)
    assert [round(joules(r), 9) for r in records] == [750.0, 755.0]
    records, issues = parse(FIXTURES / "amd_7950x_time_of_day_non_monotonic.tsv")
    (back,) = of(issues, IssueKind.NON_MONOTONIC)
    assert back.line_start == 16
    assert [(r.line, round(joules(r), 9)) for r in records] == [(9, 750.0), (23, 755.0)]  # 151 W x (10 - 5) s


def test_truncated_summary_row_is_not_read() -> None:
    records, issues = parse(FIXTURES / "amd_7950x_time_of_day_truncated.tsv")
    assert [r.line for r in records] == [9]
    assert of(issues, IssueKind.TRUNCATED)[0].line_start == 16


def test_without_summary_row_first_cpu_of_each_package() -> None:
    records, _ = parse(FIXTURES / "intel_client_cpu_list_no_summary.tsv", **TIMED)
    assert [(r.method, r.line, round(joules(r), 9)) for r in records] == [
        ("turbostat/PkgWatt", 2, 24.9),
        ("turbostat/RAMWatt", 2, 6.5),
    ]


def test_two_packages_without_summary_are_summed_once_each(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    rows = [
        "Package\tCore\tCPU\tBusy%\tPkgWatt\tRAMWatt",
        "0\t0\t0\t10\t50.00\t5.00",
        "0\t1\t1\t10",
        "1\t0\t8\t10\t40.00\t4.00",
        "1\t0\t9\t10\t40.00\t4.00",  # a repeated package cell is not added again
    ]
    path.write_text("\n".join(rows) + "\n")
    records, _ = parse(path, **TIMED)
    assert [round(joules(r), 9) for r in records] == [450.0, 45.0]


def test_core_and_gfx_when_there_is_no_package_column(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("Core\tCPU\tBusy%\tCorWatt\tGFXWatt\n-\t-\t5\t2.00\t0.50\n0\t0\t5\t1.00\n")
    records, issues = parse(path, **TIMED)
    assert [(r.component, round(joules(r), 9)) for r in records] == [
        (Component.CPU, 10.0),
        (Component.GPU, 2.5),
    ]
    assert not of(issues, IssueKind.OVERLAP)


def test_missing_summary_value_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("Core\tCPU\tBusy%\tPkgWatt\tRAMWatt\n-\t-\t5\t2.00\n")
    records, issues = parse(path, **TIMED)
    assert [r.method for r in records] == ["turbostat/PkgWatt"]
    assert of(issues, IssueKind.MISSING_VALUE)[0].detail.startswith("RAMWatt")


def test_errors_with_hints() -> None:
    with pytest.raises(CollectorError, match="no power column"):
        parse(FIXTURES / "manpage_periodic_interval_example.tsv", **TIMED)
    with pytest.raises(CollectorError, match="interval_s or start") as caught:
        parse(INTEL)
    assert "Time_Of_Day_Seconds" in caught.value.hint
    with pytest.raises(CollectorError, match="UTC offset"):
        parse(INTEL, interval_s=5.0, start="2026-09-21T16:13:15")
    with pytest.raises(CollectorError, match="interval_s"):
        parse(INTEL, interval_s=0, start="2026-09-21T16:13:15+02:00")


def test_header_detection() -> None:
    assert header_cells("Core\tCPU\tPkgWatt") == ["Core", "CPU", "PkgWatt"]
    assert header_cells("PkgWatt\tGFXWattRAMWatt") == ["PkgWatt", "GFXWatt", "RAMWatt"]
    assert header_cells("-\t-\t4.98") is None
    assert header_cells("CPUID(7): No-SGX") is None


@settings(max_examples=300)
@given(data=file_bytes(max_size=600))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.tsv"
        for prefix in (b"", b"Core\tCPU\tTime_Of_Day_Seconds\tPkgWatt\tRAMWatt\n"):
            path.write_bytes(prefix + data)
            try:
                for item in Turbostat().parse(
                    SourceContext(path=path, device="d", options={"interval_s": 1.0})
                ):
                    if isinstance(item, Record):
                        assert math.isfinite(item.energy_kwh or 0.0)
            except CollectorError:
                pass
