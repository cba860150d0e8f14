"""The powermetrics -f plist collector against the real M1 Pro document, its derived variants, and bytes."""

from __future__ import annotations

import contextlib
import itertools
import math
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import plist_variants
import pytest
from hypothesis import given, settings
from strategies import file_bytes

from collectors.base import SourceContext
from collectors.powermetrics_plist import PowermetricsPlist
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, QualityIssue, Record, Tier

FIXTURES = plist_variants.FOLDER
J_PER_KWH = 3_600_000


def parse(path: Path, **kw: Any) -> tuple[list[Record], list[QualityIssue]]:
    records: list[Record] = []
    issues: list[QualityIssue] = []
    for item in PowermetricsPlist().parse(SourceContext(path=path, device="mac", **kw)):
        (records if isinstance(item, Record) else issues).append(item)  # type: ignore[arg-type]
    return records, issues


def kwh(records: list[Record], component: Component) -> float:
    return math.fsum(r.energy_kwh or 0.0 for r in records if r.component is component)


@pytest.mark.parametrize("name", sorted(plist_variants.VARIANTS))
def test_variant_is_derived_as_documented(name: str) -> None:
    derive = plist_variants.VARIANTS[name]
    assert (FIXTURES / name).read_bytes() == derive(plist_variants.REAL.read_bytes())


def test_real_document_hand_computed() -> None:
    records, issues = parse(plist_variants.REAL)
    assert not issues
    assert [(r.component, r.line) for r in records] == [
        (Component.CPU, 1),
        (Component.GPU, 1),
        (Component.ANE, 1),
    ]
    cpu, gpu, ane = records
    # cpu_energy 297 mJ = 0.297 J; gpu_energy 36 mJ; ane_energy 0 (never cpu_power 2422.19 mW x time).
    assert cpu.energy_kwh == pytest.approx(0.297 / J_PER_KWH, rel=1e-12)
    assert gpu.energy_kwh == pytest.approx(0.036 / J_PER_KWH, rel=1e-12)
    assert ane.energy_kwh == 0.0
    # timestamp 13:33:44Z is the end; elapsed_ns 132 882 041 -> 132 882 us before it.
    assert cpu.end_utc == datetime(2024, 12, 26, 13, 33, 44, tzinfo=UTC)
    assert cpu.start_utc == datetime(2024, 12, 26, 13, 33, 43, 867118, tzinfo=UTC)
    for record in records:
        assert (record.device, record.tier, record.device_model) == ("mac", Tier.MEASURED, "MacBookPro18,3")
        assert record.method == f"powermetrics/{record.component.value}-energy"


def test_samples_sharing_a_second_are_chained_by_elapsed_ns() -> None:
    records, issues = parse(FIXTURES / "m1pro_sonoma_plist_stream.plist")
    assert not issues
    cpu = [r for r in records if r.component is Component.CPU]
    assert [r.line for r in cpu] == [1 + 180 * k for k in range(10)]
    # cpu_energy 297 + k mJ for k = 0..9: 3015 mJ; gpu 10 x 36 mJ.
    assert kwh(records, Component.CPU) == pytest.approx(3.015 / J_PER_KWH, rel=1e-12)
    assert kwh(records, Component.GPU) == pytest.approx(0.360 / J_PER_KWH, rel=1e-12)
    for earlier, later in itertools.pairwise(cpu):
        assert later.start_utc == earlier.end_utc  # contiguous although 8 stamps read 13:33:44
    assert cpu[-1].end_utc == datetime(2024, 12, 26, 13, 33, 45, 195938, tzinfo=UTC)  # 44 s + 9 x 132 882 us


def test_truncated_last_document_is_an_issue_not_an_error() -> None:
    records, issues = parse(FIXTURES / "m1pro_sonoma_plist_truncated.plist")
    assert len(records) == 12
    (cut,) = issues
    assert (cut.kind, cut.action, cut.line_start, cut.rows) == (IssueKind.TRUNCATED, Action.DROPPED, 721, 1)


def test_a_cut_document_followed_by_a_restarted_log() -> None:
    records, issues = parse(FIXTURES / "m1pro_sonoma_plist_restarted.plist")
    assert sorted({r.line for r in records}) == [1, 281]
    (cut,) = issues
    assert (cut.kind, cut.line_start, cut.line_end) == (IssueKind.TRUNCATED, 181, 281)


def test_time_going_back_drops_the_sample() -> None:
    records, issues = parse(FIXTURES / "m1pro_sonoma_plist_non_monotonic.plist")
    (back,) = issues
    assert (back.kind, back.action, back.line_start, back.rows) == (
        IssueKind.NON_MONOTONIC,
        Action.DROPPED,
        901,
        1,
    )
    assert len(records) == 27
    # sample k = 5 (cpu_energy 297 + 5 = 302 mJ) is the one dropped
    assert kwh(records, Component.CPU) == pytest.approx((3.015 - 0.302) / J_PER_KWH, rel=1e-12)


def test_a_gap_is_reported_and_not_bridged() -> None:
    records, issues = parse(FIXTURES / "m1pro_sonoma_plist_gap.plist")
    (gap,) = issues
    assert (gap.kind, gap.action, gap.line_start) == (IssueKind.GAP, Action.NOT_BRIDGED, 901)
    # previous end 13:33:44.531528; next sample ends at its stamp 13:35:44 and starts 132 882 us before.
    assert gap.seconds == pytest.approx(119.33559)
    assert len(records) == 30


def test_samples_without_energy_are_not_covered() -> None:
    records, issues = parse(FIXTURES / "m1pro_sonoma_plist_no_energy.plist")
    (none,) = issues
    assert (none.kind, none.action, none.rows, none.line_start, none.line_end) == (
        IssueKind.NO_POWER_DATA,
        Action.NOT_BRIDGED,
        2,
        541,
        870,
    )
    assert none.seconds == pytest.approx(2 * 0.132882)
    assert len(records) == 12


def test_a_package_figure_is_the_only_record() -> None:
    records, _ = parse(FIXTURES / "m1pro_sonoma_plist_package_joules.plist")
    assert {r.component for r in records} == {Component.PACKAGE}
    assert [r.energy_kwh for r in records] == [pytest.approx(0.25 / J_PER_KWH, rel=1e-12)] * 3


def test_text_and_other_files_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.plist"
    path.write_bytes(
        b'<?xml version="1.0"?><plist version="1.0"><dict><key>a</key><integer>1</integer></dict></plist>\0'
    )
    with pytest.raises(CollectorError) as caught:
        parse(path)
    assert "powermetrics" in caught.value.hint


def test_a_bad_energy_value_is_dropped(tmp_path: Path) -> None:
    real = plist_variants.REAL.read_bytes()
    path = tmp_path / "bad.plist"
    path.write_bytes(
        real.replace(b"<integer>297</integer>", b"<string>x</string>") + plist_variants.document(real, 1)
    )
    records, issues = parse(path)
    assert [i.kind for i in issues] == [IssueKind.MALFORMED_ROW]
    assert len(records) == 3


@settings(max_examples=300)
@given(data=file_bytes(max_size=600))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pm.plist"
        path.write_bytes(data)
        with contextlib.suppress(CollectorError):
            list(PowermetricsPlist().parse(SourceContext(path=path, device="mac")))


@settings(max_examples=100)
@given(data=file_bytes(max_size=300))
def test_plist_shaped_noise_gives_records_or_a_collector_error(data: bytes) -> None:
    real = plist_variants.REAL.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pm.plist"
        path.write_bytes(real[: len(data) * 8] + data + real)
        with contextlib.suppress(CollectorError):
            list(PowermetricsPlist().parse(SourceContext(path=path, device="mac")))


def test_a_damaged_date_is_a_malformed_document(tmp_path: Path) -> None:
    real = plist_variants.REAL.read_bytes()
    path = tmp_path / "bad.plist"
    path.write_bytes(
        real.replace(b"<date>2024-12-26T13:33:44Z", b"<date>garbage") + plist_variants.document(real, 1)
    )
    records, issues = parse(path)
    assert [(i.kind, i.line_start) for i in issues] == [(IssueKind.MALFORMED_ROW, 1)]
    assert {r.line for r in records} == {181}
