"""The nvidia-smi dmon collector against the real 4-GPU sample, its derived variants, and bytes."""

from __future__ import annotations

import contextlib
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dmon_variants
import pytest
from hypothesis import given, settings
from strategies import file_bytes

from collectors.base import SourceContext
from collectors.nvidia_smi_dmon import METHOD, NvidiaSmiDmon
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, QualityIssue, Record, Tier

FIXTURES = dmon_variants.FOLDER
BERLIN = ZoneInfo("Europe/Berlin")
START = {"start": "2024-01-05T10:15:01+01:00"}
J_PER_KWH = 3_600_000
TICK_J = 111 + 111 + 112 + 86  # the real rows' pwr, W: one second of all four GPUs, in J


def parse(path: Path, **kw: Any) -> tuple[list[Record], list[QualityIssue]]:
    kw.setdefault("timezone", BERLIN)
    records: list[Record] = []
    issues: list[QualityIssue] = []
    for item in NvidiaSmiDmon().parse(SourceContext(path=path, device="node", **kw)):
        (records if isinstance(item, Record) else issues).append(item)  # type: ignore[arg-type]
    return records, issues


def joules(records: list[Record]) -> float:
    return sum(r.energy_kwh or 0.0 for r in records) * J_PER_KWH


def error_of(path: Path, **kw: Any) -> CollectorError:
    with pytest.raises(CollectorError) as caught:
        parse(path, **kw)
    return caught.value


@pytest.mark.parametrize("name", sorted(dmon_variants.VARIANTS))
def test_variant_is_derived_as_documented(name: str) -> None:
    real = dmon_variants.REAL.read_text(encoding="utf-8")
    assert (FIXTURES / name).read_text(encoding="utf-8") == dmon_variants.VARIANTS[name](real)


def test_real_single_tick_only_opens_the_series() -> None:
    records, issues = parse(dmon_variants.REAL, options=START)
    assert records == []
    (start,) = issues
    assert (start.kind, start.rows, start.line_start, start.line_end) == (IssueKind.SERIES_START, 4, 3, 6)


def test_without_date_time_start_is_required() -> None:
    err = error_of(FIXTURES / "dmon_4gpu_ticks.txt")
    assert err.line == 3
    assert "start" in err.hint
    assert "interval_s" in err.hint
    assert "-o DT" in err.hint


def test_ticks_from_start_and_interval() -> None:
    records, issues = parse(FIXTURES / "dmon_4gpu_ticks.txt", options=START)
    # 3 ticks (the header re-printed before the third is skipped): 2 intervals of 1 s per GPU.
    assert len(records) == 8
    assert joules(records) == pytest.approx(2 * TICK_J, rel=1e-12)
    gpu0 = [r for r in records if r.device == "node/gpu0"]
    assert [(r.start_utc, r.end_utc, r.line) for r in gpu0] == [
        (datetime(2024, 1, 5, 9, 15, 1, tzinfo=UTC), datetime(2024, 1, 5, 9, 15, 2, tzinfo=UTC), 7),
        (datetime(2024, 1, 5, 9, 15, 2, tzinfo=UTC), datetime(2024, 1, 5, 9, 15, 3, tzinfo=UTC), 13),
    ]
    assert gpu0[0].energy_kwh == pytest.approx(111 / J_PER_KWH, rel=1e-12)
    assert gpu0[0].utilisation == 0.25  # sm 25 %
    for record in records:
        assert (record.component, record.tier, record.method) == (Component.GPU, Tier.MEASURED, METHOD)
    assert [i.kind for i in issues] == [IssueKind.SERIES_START]
    records, _ = parse(FIXTURES / "dmon_4gpu_ticks.txt", options={**START, "interval_s": 2})
    assert joules(records) == pytest.approx(4 * TICK_J, rel=1e-12)


def test_date_time_columns_are_local_time() -> None:
    records, _ = parse(FIXTURES / "dmon_4gpu_dt.txt")
    assert len(records) == 8
    assert joules(records) == pytest.approx(2 * 2 * TICK_J, rel=1e-12)  # -d 2: 2 s steps
    assert records[0].start_utc == datetime(2024, 1, 5, 9, 15, 1, tzinfo=UTC)  # 10:15:01 CET
    err = error_of(FIXTURES / "dmon_4gpu_dt.txt", timezone=None)
    assert "timezone" in err.hint


def test_time_going_back_drops_the_sample_and_keeps_the_anchor() -> None:
    records, issues = parse(FIXTURES / "dmon_4gpu_dt_non_monotonic.txt")
    back = [i for i in issues if i.kind is IssueKind.NON_MONOTONIC]
    assert [(i.device, i.line_start, i.action) for i in back] == [
        (f"node/gpu{g}", 11 + g, Action.DROPPED) for g in range(4)
    ]
    # anchor stays at 10:15:03; the 10:15:05 tick covers 2 s
    assert joules(records) == pytest.approx(4 * TICK_J, rel=1e-12)


def test_dash_is_missing_never_zero() -> None:
    records, issues = parse(FIXTURES / "dmon_4gpu_na_heavy.txt", options=START)
    assert joules(records) == pytest.approx(111 + 112 + 86 + 111 + 112, rel=1e-12)
    missing = [
        (i.device, i.line_start, i.line_end, i.rows, i.seconds)
        for i in issues
        if i.kind is IssueKind.MISSING_VALUE
    ]
    assert missing == [("node/gpu1", 8, 12, 2, 2.0), ("node/gpu3", 14, 14, 1, 1.0)]


def test_cut_last_row_is_truncated() -> None:
    records, issues = parse(FIXTURES / "dmon_4gpu_truncated.txt", options=START)
    assert joules(records) == pytest.approx(TICK_J, rel=1e-12)
    assert [(i.kind, i.line_start) for i in issues if i.kind is IssueKind.TRUNCATED] == [
        (IssueKind.TRUNCATED, 11)
    ]


def test_a_driver_format_change_remaps_the_columns() -> None:
    records, _ = parse(FIXTURES / "dmon_4gpu_driver_change.txt", options=START)
    assert len(records) == 12
    assert joules(records) == pytest.approx(3 * TICK_J, rel=1e-12)
    after = [r for r in records if r.line >= 13]
    assert [r.utilisation for r in after[:4]] == [0.25, 0.18, 0.24, 0.18]  # sm moved from 4th to 5th


@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"start": "2024-01-05T10:15:01"}, "offset"),
        ({"start": "soon"}, "start"),
        ({"interval_s": 0}, "interval_s"),
    ],
)
def test_options_are_checked(tmp_path: Path, options: dict[str, Any], word: str) -> None:
    assert word in error_of(FIXTURES / "dmon_4gpu_ticks.txt", options=options).message


@pytest.mark.parametrize(
    ("row", "message"),
    [("    x   111\n", "GPU index"), ("    0   lots\n", "not a number"), ("    0\n", "fields")],
)
def test_malformed_rows_are_errors(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "dmon.txt"
    path.write_text("# gpu   pwr\n# Idx     W\n    0   111\n" + row, encoding="utf-8")
    err = error_of(path, options=START)
    assert err.line == 4
    assert message in err.message


def test_pwr_in_another_unit_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "dmon.txt"
    path.write_text("# gpu   pwr\n# Idx    mW\n    0   111\n", encoding="utf-8")
    assert "not W" in error_of(path, options=START).message


@settings(max_examples=300)
@given(data=file_bytes(max_size=600))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dmon.txt"
        for head in (b"", b"# gpu pwr sm\n", b"#Date Time gpu pwr\n"):
            path.write_bytes(head + data)
            with contextlib.suppress(CollectorError):
                list(
                    NvidiaSmiDmon().parse(
                        SourceContext(path=path, device="n", timezone=BERLIN, options=START)
                    )
                )
