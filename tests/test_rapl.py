"""The RAPL counter log collector and the powercap sysfs reader, against fixtures and properties."""

from __future__ import annotations

import contextlib
import math
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from strategies import file_bytes

from collectors._rapl_sysfs import RaplAccessError, RaplZone, parent_of, read_zones
from collectors.base import SourceContext
from collectors.rapl_log import HEADER, RaplLog
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, QualityIssue, Record, Tier

FIXTURES = Path(__file__).parent / "fixtures" / "rapl"
MAX = 262143328850


def parse(path: Path, **kw: Any) -> tuple[list[Record], list[QualityIssue]]:
    records: list[Record] = []
    issues: list[QualityIssue] = []
    for item in RaplLog().parse(SourceContext(path=path, device="laptop", **kw)):
        (records if isinstance(item, Record) else issues).append(item)  # type: ignore[arg-type]
    return records, issues


def of(issues: list[QualityIssue], kind: IssueKind) -> list[QualityIssue]:
    return [i for i in issues if i.kind is kind]


def joules(records: list[Record], component: Component) -> float:
    return math.fsum((r.energy_kwh or 0.0) * 3_600_000 for r in records if r.component is component)


def test_package_and_dram_only_from_the_laptop_loop() -> None:
    records, issues = parse(FIXTURES / "powercap_loop_laptop.csv")
    # 5 readings 1 s apart: package-0 +8 500 000 uJ per s, dram +1 125 000 uJ per s; 4 intervals each.
    assert len(records) == 8
    assert joules(records, Component.PACKAGE) == pytest.approx(4 * 8.5, rel=1e-12)
    assert joules(records, Component.DRAM) == pytest.approx(4 * 1.125, rel=1e-12)
    first = records[0]
    assert (first.method, first.line, first.tier) == ("rapl/package-0", 7, Tier.MEASURED)
    assert first.start_utc == datetime(2026, 9, 21, 14, 13, 20, tzinfo=UTC)
    assert first.energy_kwh == pytest.approx(8.5 / 3_600_000, rel=1e-12)
    assert {r.method for r in records} == {"rapl/package-0", "rapl/dram-0"}
    overlap = of(issues, IssueKind.OVERLAP)
    assert sorted(i.detail.split(" ")[0] for i in overlap) == [
        "intel-rapl:0:0",
        "intel-rapl:0:1",
        "intel-rapl:1",
    ]
    assert all(i.rows == 5 and i.action is Action.DROPPED for i in overlap)
    (start,) = of(issues, IssueKind.SERIES_START)
    assert start.rows == 2


def test_a_wrap_is_corrected_and_kept() -> None:
    records, issues = parse(FIXTURES / "powercap_loop_laptop_wrap.csv")
    (wrap,) = of(issues, IssueKind.COUNTER_WRAP)
    assert (wrap.line_start, wrap.action) == (6, Action.KEPT)
    wrapped = next(r for r in records if r.line == 6)
    # (262143328850 - 262141828850) + 7000000 = 8 500 000 uJ
    assert wrapped.energy_kwh == pytest.approx(8.5 / 3_600_000, rel=1e-12)
    assert joules(records, Component.PACKAGE) == pytest.approx(3 * 8.5, rel=1e-12)


def test_a_reset_drops_its_interval() -> None:
    records, issues = parse(FIXTURES / "powercap_loop_laptop_reset.csv")
    resets = of(issues, IssueKind.COUNTER_RESET)
    assert [(i.line_start, i.action, i.seconds) for i in resets] == [
        (6, Action.DROPPED, 1.0),
        (7, Action.DROPPED, 1.0),
    ]
    assert joules(records, Component.PACKAGE) == pytest.approx(2 * 8.5, rel=1e-12)
    assert joules(records, Component.DRAM) == pytest.approx(2 * 1.125, rel=1e-12)


def test_an_mmio_copy_is_not_counted_twice() -> None:
    records, issues = parse(FIXTURES / "powercap_loop_laptop_mmio_duplicate.csv")
    assert [r.line for r in records] == [5, 7]
    (dup,) = of(issues, IssueKind.DUPLICATE_ROW)
    assert (dup.line_start, dup.line_end, dup.rows) == (2, 6, 3)
    assert "intel-rapl-mmio:0" in dup.detail
    assert of(issues, IssueKind.SERIES_START)[0].rows == 1


def test_an_mmio_zone_alone_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        HEADER + "\n1.0,intel-rapl-mmio:0,package-0,10,100\n2.0,intel-rapl-mmio:0,package-0,20,100\n"
    )
    records, issues = parse(path)
    assert [(r.method, r.energy_kwh) for r in records] == [("rapl/package-0", 10 / 1e6 / 3_600_000)]
    assert not of(issues, IssueKind.DUPLICATE_ROW)


def test_names_not_positions_decide(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    rows = [
        "1.0,intel-rapl:0:0,dram,0,1000000000",
        "1.0,intel-rapl:0,package-0,0,1000000000",
        "2.0,intel-rapl:0,package-0,3000000,1000000000",
        "2.0,intel-rapl:0:0,dram,1000000,1000000000",
    ]
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    records, _ = parse(path)
    assert [(r.component, r.method, r.line) for r in records] == [
        (Component.PACKAGE, "rapl/package-0", 4),
        (Component.DRAM, "rapl/dram-0", 5),
    ]


def test_a_cut_last_line_is_truncated() -> None:
    records, issues = parse(FIXTURES / "powercap_loop_laptop_truncated.csv")
    (cut,) = of(issues, IssueKind.TRUNCATED)
    assert cut.line_start == 8
    assert len(records) == 4


def test_gap_missing_and_backwards(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    rows = [
        "0,intel-rapl:0,package-0,0,1000000000",
        "1,intel-rapl:0,package-0,,1000000000",
        "2,intel-rapl:0,package-0,2000000,1000000000",
        "1.5,intel-rapl:0,package-0,2500000,1000000000",
        "100,intel-rapl:0,package-0,9000000,1000000000",
    ]
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    records, issues = parse(path)
    assert [(r.line, r.energy_kwh) for r in records] == [(4, 2.0 / 3_600_000)]  # across the empty reading
    assert [i.kind for i in issues if i.kind is not IssueKind.SERIES_START] == [
        IssueKind.MISSING_VALUE,
        IssueKind.NON_MONOTONIC,
        IssueKind.GAP,
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timestamp,zone\n", "header"),
        (HEADER + "\nx,intel-rapl:0,package-0,1,2\n", "cannot read"),
        (HEADER + "\n1,intel-rapl:0,package-0,1\n", "4 fields"),
        (HEADER + "\n1,intel-rapl:0,package-0,1,2\n2,intel-rapl:0,core,1,2\n", "named"),
    ],
)
def test_malformed_files_are_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(CollectorError, match=message) as caught:
        parse(path)
    assert caught.value.hint


@settings(max_examples=300)
@given(data=file_bytes(max_size=600))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.csv"
        path.write_bytes(data)
        with contextlib.suppress(CollectorError):
            list(RaplLog().parse(SourceContext(path=path, device="d")))
        path.write_bytes(HEADER.encode() + b"\n" + data)
        with contextlib.suppress(CollectorError):
            list(RaplLog().parse(SourceContext(path=path, device="d")))


# -- sysfs reader ----------------------------------------------------------------------------------------


def test_read_zones_of_the_real_dump() -> None:
    assert read_zones(FIXTURES / "sysfs") == [
        RaplZone("intel-rapl:0", "package-0", 52649883221, MAX, None),
        RaplZone("intel-rapl:0:0", "core", 36233947890, MAX, "intel-rapl:0"),
        RaplZone("intel-rapl:0:1", "uncore", 4003931217, MAX, "intel-rapl:0"),
        RaplZone("intel-rapl:0:2", "dram", 10642772192, MAX, "intel-rapl:0"),
        RaplZone("intel-rapl:1", "psys", 117870082040, MAX, None),
    ]
    assert parent_of("intel-rapl:0:2") == "intel-rapl:0"
    assert parent_of("intel-rapl-mmio:0") is None


def test_flat_class_layout_lists_each_zone_once(tmp_path: Path) -> None:
    tree = tmp_path / "intel-rapl"
    shutil.copytree(FIXTURES / "sysfs", tree)
    (tmp_path / "intel-rapl:0").symlink_to(tree / "intel-rapl:0")  # as /sys/class/powercap holds them
    (tmp_path / "intel-rapl:0:2").symlink_to(tree / "intel-rapl:0" / "intel-rapl:0:2")
    (tmp_path / "intel-rapl:1").symlink_to(tree / "intel-rapl:1")
    assert [z.zone for z in read_zones(tmp_path)] == [
        "intel-rapl:0",
        "intel-rapl:0:0",
        "intel-rapl:0:1",
        "intel-rapl:0:2",
        "intel-rapl:1",
    ]


def test_unreadable_energy_names_the_cve(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.read_text

    def denied(self: Path, *args: Any, **kw: Any) -> str:
        if self.name == "energy_uj":
            raise PermissionError(13, "Permission denied")
        return real(self, *args, **kw)

    monkeypatch.setattr(Path, "read_text", denied)  # root (CI) could read a chmod 0200 file
    with pytest.raises(RaplAccessError) as caught:
        read_zones(FIXTURES / "sysfs")
    assert "energy_uj" in caught.value.message
    assert "CVE-2020-8694" in caught.value.hint
    assert "chmod a+r" in caught.value.hint
