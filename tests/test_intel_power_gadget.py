"""The Intel Power Gadget collector against the real layouts, named variants, and arbitrary bytes."""

from __future__ import annotations

import contextlib
import itertools
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
from collectors.intel_power_gadget import IntelPowerGadget
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, QualityIssue, Record, Tier

FIXTURES = Path(__file__).parent / "fixtures" / "intel_power_gadget"
BERLIN = ZoneInfo("Europe/Berlin")
DATE = {"date": "2026-10-01"}


def parse(
    path: Path, tz: ZoneInfo | None = BERLIN, **options: Any
) -> tuple[list[Record], list[QualityIssue]]:
    records: list[Record] = []
    issues: list[QualityIssue] = []
    ctx = SourceContext(path=path, device="laptop", timezone=tz, options=options or DATE)
    for item in IntelPowerGadget().parse(ctx):
        (records if isinstance(item, Record) else issues).append(item)  # type: ignore[arg-type]
    return records, issues


def of(issues: list[QualityIssue], kind: IssueKind) -> list[QualityIssue]:
    return [i for i in issues if i.kind is kind]


def joules(records: list[Record], component: Component) -> float:
    return math.fsum((r.energy_kwh or 0.0) * 3_600_000 for r in records if r.component is component)


def test_codecarbon_rows_cumulative_deltas() -> None:
    records, issues = parse(FIXTURES / "codecarbon_mock_pandas_index.csv")
    package = [r for r in records if r.component is Component.PACKAGE]
    dram = [r for r in records if r.component is Component.DRAM]
    assert len(package) == len(dram) == 12
    # Row 1 (line 2) covers the 0.102 s since the log started: 0.145 J of the processor counter.
    first = package[0]
    assert first.end_utc == datetime(2026, 10, 1, 12, 55, 35, 726000, tzinfo=UTC)  # 14:55:35.726 CEST
    assert first.start_utc == first.end_utc - timedelta(seconds=0.102)
    assert first.energy_kwh == pytest.approx(0.145 / 3_600_000, rel=1e-12)
    # Row 2: 0.353 - 0.145 J over 14:55:35.726 -> .836.
    assert package[1].energy_kwh == pytest.approx((0.353 - 0.145) / 3_600_000, rel=1e-9)
    assert package[1].start_utc == first.end_utc
    # Sums telescope to the last cumulative values: 3.141 J processor, 1.426 J DRAM (IA not counted).
    assert joules(records, Component.PACKAGE) == pytest.approx(3.141, rel=1e-12)
    assert joules(records, Component.DRAM) == pytest.approx(1.426, rel=1e-12)
    assert {r.method for r in records} == {"ipg/cumulative-processor-energy", "ipg/cumulative-dram-energy"}
    assert all(r.tier is Tier.MEASURED for r in records)
    assert "IA" in of(issues, IssueKind.OVERLAP)[0].detail
    (no_footer,) = of(issues, IssueKind.TRUNCATED)
    assert no_footer.action is Action.KEPT


def test_raw_quoted_layout_with_a_matching_footer() -> None:
    records, issues = parse(FIXTURES / "codecarbon_rows_raw_layout_footer.csv")
    assert joules(records, Component.PACKAGE) == pytest.approx(3.141, rel=1e-12)
    assert not of(issues, IssueKind.MALFORMED_ROW)
    assert not of(issues, IssueKind.TRUNCATED)


def test_footer_mismatch_is_kept_and_reported() -> None:
    records, issues = parse(FIXTURES / "codecarbon_rows_raw_layout_footer_mismatch.csv")
    assert joules(records, Component.PACKAGE) == pytest.approx(3.141, rel=1e-12)
    (mismatch,) = of(issues, IssueKind.MALFORMED_ROW)
    assert mismatch.action is Action.KEPT
    assert "4.5 J" in mismatch.detail
    assert "3.141 J" in mismatch.detail


def test_midnight_rollover() -> None:
    records, issues = parse(FIXTURES / "codecarbon_rows_midnight.csv")
    package = [r for r in records if r.component is Component.PACKAGE]
    assert package[0].end_utc == datetime(2026, 10, 1, 21, 59, 59, 726000, tzinfo=UTC)
    assert package[-1].end_utc == datetime(2026, 10, 1, 22, 0, 0, 876000, tzinfo=UTC)  # next local day
    assert all(a.end_utc == b.start_utc for a, b in itertools.pairwise(package))
    assert not of(issues, IssueKind.NON_MONOTONIC)


def test_truncated_file_counts_the_complete_rows() -> None:
    records, issues = parse(FIXTURES / "codecarbon_rows_truncated.csv")
    assert joules(records, Component.PACKAGE) == pytest.approx(2.206, rel=1e-12)
    cut = [i for i in of(issues, IssueKind.TRUNCATED) if i.action is Action.DROPPED]
    assert cut[0].line_start == 8


def test_mozpower_footer_only_gives_one_record_per_counter() -> None:
    records, _ = parse(FIXTURES / "mozpower_uncleaned_ipg_example.csv")
    package, dram = records
    # First row 12:11:05.769 CEST at elapsed 2.002 s: the log started 12:11:03.767; it ran 10.029232 s.
    assert package.start_utc == datetime(2026, 10, 1, 10, 11, 3, 767000, tzinfo=UTC)
    assert package.end_utc == package.start_utc + timedelta(seconds=10.029232)
    assert package.energy_kwh == pytest.approx(142.337524 / 3_600_000, rel=1e-12)
    assert dram.energy_kwh == pytest.approx(7.453308 / 3_600_000, rel=1e-12)
    assert package.method == "ipg/cumulative-processor-energy/footer"


def test_two_packages(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "System Time,RDTSC,Elapsed Time (sec),Cumulative Processor Energy_0(Joules),"
        "Cumulative Processor Energy_1(Joules)\n"
        "10:00:00:000,1,1.000,2.0,3.0\n10:00:01:000,2,2.000,5.0,7.0\n"
    )
    records, _ = parse(path)
    assert [(r.method, round(r.energy_kwh * 3_600_000, 9)) for r in records if r.line == 3] == [  # type: ignore[operator]
        ("ipg/cumulative-processor-energy", 3.0),
        ("ipg/cumulative-processor-energy_1", 4.0),
    ]


def test_errors_with_hints() -> None:
    path = FIXTURES / "codecarbon_mock_pandas_index.csv"
    with pytest.raises(CollectorError, match="timezone"):
        parse(path, tz=None)
    with pytest.raises(CollectorError, match="no date") as caught:
        parse(path, foo=1)
    assert "date =" in caught.value.hint
    with pytest.raises(CollectorError, match="YYYY-MM-DD"):
        parse(path, date="01.10.2026")


@settings(max_examples=300)
@given(data=file_bytes(max_size=600))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.csv"
        header = b"System Time,RDTSC,Elapsed Time (sec),Cumulative Processor Energy_0(Joules)\n"
        for prefix in (b"", header):
            path.write_bytes(prefix + data)
            with contextlib.suppress(CollectorError):
                list(
                    IntelPowerGadget().parse(
                        SourceContext(path=path, device="d", timezone=BERLIN, options=DATE)
                    )
                )
