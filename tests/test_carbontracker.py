"""The CarbonTracker standard-log collector against the real 2.4.7 log, derived variants, and bytes."""

from __future__ import annotations

import contextlib
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import carbontracker_variants
import pytest
from hypothesis import given, settings
from strategies import file_bytes

from collectors.base import SourceContext
from collectors.carbontracker_log import CarbontrackerLog
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, QualityIssue, Record, Tier

FIXTURES = carbontracker_variants.FOLDER
REAL = carbontracker_variants.REAL
UTC_ZONE = ZoneInfo("UTC")  # the sample was generated on a machine whose local time is UTC
J_PER_KWH = 3_600_000


def parse(path: Path, **kw: Any) -> tuple[list[Record], list[QualityIssue]]:
    kw.setdefault("timezone", UTC_ZONE)
    records: list[Record] = []
    issues: list[QualityIssue] = []
    for item in CarbontrackerLog().parse(SourceContext(path=path, device="trainer", **kw)):
        (records if isinstance(item, Record) else issues).append(item)  # type: ignore[arg-type]
    return records, issues


@pytest.mark.parametrize("name", sorted(carbontracker_variants.VARIANTS))
def test_variant_is_derived_as_documented(name: str) -> None:
    real = REAL.read_text(encoding="utf-8")
    assert (FIXTURES / name).read_text(encoding="utf-8") == carbontracker_variants.VARIANTS[name](real)


def test_real_log_hand_computed() -> None:
    records, issues = parse(REAL)
    first, second = records
    # 60.0 W x 2.50 s = 150 J per epoch; not PUE-multiplied, so nothing is divided out.
    assert first.energy_kwh == pytest.approx(150 / J_PER_KWH, rel=1e-12)
    assert second.energy_kwh == pytest.approx(150 / J_PER_KWH, rel=1e-12)
    # Epoch 1 logged at 03:55:36 -> [03:55:33.5, 03:55:36]; epoch 2 logged at 03:55:38 (whole seconds) chains
    # on: 36 + 2.5 = 38.5 is within 1 s of its stamp -> [03:55:36, 03:55:38.5], no overlap.
    assert (first.start_utc, first.end_utc) == (
        datetime(2026, 11, 22, 3, 55, 33, 500000, tzinfo=UTC),
        datetime(2026, 11, 22, 3, 55, 36, tzinfo=UTC),
    )
    assert (second.start_utc, second.end_utc) == (
        datetime(2026, 11, 22, 3, 55, 36, tzinfo=UTC),
        datetime(2026, 11, 22, 3, 55, 38, 500000, tzinfo=UTC),
    )
    assert [r.line for r in records] == [7, 10]
    for record in records:
        assert (record.device, record.component, record.tier) == ("trainer", Component.CPU, Tier.MEASURED)
        assert (record.method, record.device_model, record.pue_divided) == (
            "carbontracker/cpu",
            "AMD EPYC",
            None,
        )
    kinds = {(i.kind, i.action): i for i in issues}
    interrupted = kinds[IssueKind.TRUNCATED, Action.KEPT]
    assert interrupted.line_start == 11
    assert "Training was interrupted" in interrupted.detail
    estimate = kinds[IssueKind.TOOL_ESTIMATE, Action.KEPT]
    assert (estimate.line_start, estimate.line_end, estimate.rows) == (7, 10, 2)
    assert len(issues) == 2


def test_agrees_with_carbontrackers_own_parser() -> None:
    """parse_all_logs on the same directory gave 150 J per epoch (its JSON is in the fixtures)."""
    (result,) = json.loads((FIXTURES / "parse_all_logs_result.json").read_text(encoding="utf-8"))
    expected_j = [row[0] for row in result["components"]["cpu"]["avg_energy_usages (J)"]]
    records, _ = parse(REAL)
    assert [r.energy_kwh * J_PER_KWH for r in records if r.energy_kwh is not None] == pytest.approx(
        expected_j
    )
    # its actual total (kWh) is PUE-multiplied: 300 J x 1.58 = 0.000131666... kWh
    assert result["actual"]["energy (kWh)"] == pytest.approx(300 * 1.58 / J_PER_KWH, rel=1e-4)


def test_cut_log_drops_the_open_epoch() -> None:
    records, issues = parse(FIXTURES / "sci_truncated_carbontracker.log")
    assert [r.line for r in records] == [7]
    cut = [(i.action, i.line_start, i.line_end) for i in issues if i.kind is IssueKind.TRUNCATED]
    assert cut == [(Action.DROPPED, 10, 10), (Action.DROPPED, 8, 9)]


def test_device_lists_and_none() -> None:
    records, issues = parse(FIXTURES / "sci_gpu_list_none_carbontracker.log")
    gpus = [r for r in records if r.component is Component.GPU]
    assert [(r.device, r.line, r.device_model) for r in gpus] == [
        ("trainer/gpu0", 8, "NVIDIA A100-SXM4-40GB"),
        ("trainer/gpu1", 8, "NVIDIA A100-SXM4-40GB"),
    ]
    assert [r.energy_kwh for r in gpus] == [
        pytest.approx(250.5 * 2.5 / J_PER_KWH, rel=1e-12),
        pytest.approx(240.0 * 2.5 / J_PER_KWH, rel=1e-12),
    ]
    (missing,) = [i for i in issues if i.kind is IssueKind.MISSING_VALUE]
    assert (missing.line_start, missing.action, missing.seconds) == (12, Action.DROPPED, 2.5)
    assert not [i for i in issues if i.kind is IssueKind.TOOL_ESTIMATE]  # the CPU names its model


def test_local_time_needs_a_timezone_and_uses_it() -> None:
    with pytest.raises(CollectorError) as caught:
        parse(REAL, timezone=None)
    assert "timezone" in caught.value.hint
    records, _ = parse(REAL, timezone=ZoneInfo("Europe/Copenhagen"))
    assert records[0].end_utc == datetime(2026, 11, 22, 2, 55, 36, tzinfo=UTC)


def test_other_carbontracker_logs_are_errors() -> None:
    for name in ("_output.log", "_err.log"):
        path = FIXTURES / REAL.name.replace(".log", name)
        with pytest.raises(CollectorError):
            parse(path)


def test_a_bad_power_value_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "x_carbontracker.log"
    path.write_text(
        "2026-11-22 03:55:36 - Epoch 1:\n2026-11-22 03:55:36 - Average power usage (W) for cpu: lots\n",
        encoding="utf-8",
    )
    with pytest.raises(CollectorError) as caught:
        parse(path)
    assert caught.value.line == 2


@settings(max_examples=300)
@given(data=file_bytes(max_size=600))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x_carbontracker.log"
        for head in (b"", b"2026-11-22 03:55:36 - Epoch 1:\n2026-11-22 03:55:36 - Duration: 0:00:02.50\n"):
            path.write_bytes(head + data)
            with contextlib.suppress(CollectorError):
                list(CarbontrackerLog().parse(SourceContext(path=path, device="t", timezone=UTC_ZONE)))
