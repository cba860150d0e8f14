"""The nvidia-smi --query-gpu CSV collector against real logs, their named variants, and properties."""

from __future__ import annotations

import itertools
import math
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import file_bytes

from collectors.base import SourceContext
from collectors.nvidia_smi_csv import NvidiaSmiCsv, read_number
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, QualityIssue, Record, Tier

FIXTURES = Path(__file__).parent / "fixtures" / "nvidia_smi"
REAL_2GPU = FIXTURES / "query_gpu_csv_nounits_2gpu_l1.csv"
BERLIN = ZoneInfo("Europe/Berlin")
LONDON = ZoneInfo("Europe/London")
REAL_2GPU_COLUMNS = [
    "timestamp",
    "utilization.gpu [%]",
    "utilization.memory [%]",
    "memory.total [MiB]",
    "memory.used [MiB]",
    "memory.free [MiB]",
    "temperature.gpu",
    "power.draw [W]",
    "pstate",
]
OMNIOPT_COLUMNS = [  # as the OmniOpt docs give the header of gpu_usage_*.csv
    "timestamp",
    "name",
    "pci.bus_id",
    "driver_version",
    "pstate",
    "pcie.link.gen.max",
    "pcie.link.gen.current",
    "temperature.gpu",
    "utilization.gpu [%]",
    "utilization.memory [%]",
    "memory.total [MiB]",
    "memory.free [MiB]",
    "memory.used [MiB]",
]


def ctx_for(path: Path, **kw: Any) -> SourceContext:
    kw.setdefault("device", "node")
    kw.setdefault("timezone", BERLIN)
    return SourceContext(path=path, **kw)


def parse(path: Path, **kw: Any) -> tuple[list[Record], list[QualityIssue]]:
    records: list[Record] = []
    issues: list[QualityIssue] = []
    for item in NvidiaSmiCsv().parse(ctx_for(path, **kw)):
        (records if isinstance(item, Record) else issues).append(item)  # type: ignore[arg-type]
    return records, issues


def error_of(path: Path, **kw: Any) -> CollectorError:
    with pytest.raises(CollectorError) as caught:
        parse(path, **kw)
    return caught.value


def write(tmp_path: Path, text: str, name: str = "gpu.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def by_kind(issues: Iterable[QualityIssue], kind: IssueKind) -> list[QualityIssue]:
    return [issue for issue in issues if issue.kind is kind]


def kwh(records: Iterable[Record], device: str | None = None) -> float:
    return math.fsum(r.energy_kwh or 0.0 for r in records if device is None or r.device == device)


def oracle_kwh(path: Path, *, skip_lines: frozenset[int] = frozenset()) -> dict[str, float]:
    """Energy per GPU of a 2-GPU log without identity, computed independently of the collector.

    GPU = data-row parity; each row's power over the time since the previous row of the same GPU; rows in
    ``skip_lines`` (missing power) drop their interval but still move the anchor.
    """
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    anchor: dict[int, datetime] = {}
    total = {0: 0.0, 1: 0.0}
    for number, row in enumerate(rows, start=2):
        cells = row.split(", ")
        gpu = number % 2  # line 2 is GPU 0's first row
        t = datetime.strptime(cells[0], "%Y/%m/%d %H:%M:%S.%f").replace(tzinfo=UTC)  # only differences
        if gpu in anchor and number not in skip_lines:
            total[gpu] += float(cells[7]) * (t - anchor[gpu]).total_seconds() / 3_600_000
        anchor[gpu] = t
    return {f"node/gpu{gpu}": value for gpu, value in total.items()}


# -- real samples ---------------------------------------------------------------------------------------


def test_h100_block_hand_computed() -> None:
    records, issues = parse(FIXTURES / "query_gpu_csv_units_h100.csv")
    assert [(r.device, r.line) for r in records] == [("node/gpu3", 4), ("node/gpu2", 5)]
    gpu3, gpu2 = records
    # GPU 2: opened at 06:17:26.305 (CEST = UTC+2), next sample 06:17:29.306 with 150.74 W:
    # 150.74 W x 3.001 s = 452.37074 J = 452.37074 / 3 600 000 kWh.
    assert gpu2.start_utc == datetime(2026, 9, 12, 4, 17, 26, 305000, tzinfo=UTC)
    assert gpu2.end_utc == datetime(2026, 9, 12, 4, 17, 29, 306000, tzinfo=UTC)
    assert gpu2.energy_kwh == pytest.approx(1.256585388888889e-4, rel=1e-12)
    # GPU 3: 162.00 W x 2.001 s = 324.162 J.
    assert gpu3.energy_kwh == pytest.approx(9.0045e-5, rel=1e-12)
    for record in records:
        assert record.component is Component.GPU
        assert record.tier is Tier.MEASURED
        assert record.method == "nvidia-smi/power.draw"
        assert record.device_model == "NVIDIA H100 80GB HBM3"
        assert record.utilisation == 1.0
    (start,) = issues
    assert (start.kind, start.action, start.rows, start.line_start, start.line_end) == (
        IssueKind.SERIES_START,
        Action.DROPPED,
        2,
        2,
        3,
    )


def test_timestamps_are_local_time_of_the_configured_zone() -> None:
    records, _ = parse(FIXTURES / "query_gpu_csv_units_h100.csv", timezone=ZoneInfo("America/New_York"))
    assert records[1].start_utc == datetime(2026, 9, 12, 10, 17, 26, 305000, tzinfo=UTC)  # EDT = UTC-4
    assert all(r.start_utc.tzinfo is UTC and r.end_utc.tzinfo is UTC for r in records)


def test_two_gpus_without_identity_are_told_apart_by_row_order() -> None:
    records, issues = parse(REAL_2GPU, timezone=LONDON)
    assert len(records) == 214  # 216 rows, two series, each opened by its first row
    assert {r.device for r in records} == {"node/gpu0", "node/gpu1"}
    assert all(r.device == ("node/gpu0" if r.line % 2 == 0 else "node/gpu1") for r in records)
    first = records[0]
    # Line 4: 13:25:38.154 BST after line 2's 13:25:37.146, 12.03 W -> 12.03 x 1.008 J.
    assert (first.device, first.line) == ("node/gpu0", 4)
    assert first.start_utc == datetime(2020, 6, 22, 12, 25, 37, 146000, tzinfo=UTC)
    assert first.energy_kwh == pytest.approx(12.12624 / 3_600_000, rel=1e-12)
    busy = next(r for r in records if r.line == 20)  # 97 %, 297.25 W, 1.004 s after line 18
    assert busy.utilisation == pytest.approx(0.97)
    assert busy.energy_kwh == pytest.approx(297.25 * 1.004 / 3_600_000, rel=1e-12)
    for device, expected in oracle_kwh(REAL_2GPU).items():
        assert kwh(records, device) == pytest.approx(expected, rel=1e-12)
    (inferred,) = by_kind(issues, IssueKind.INFERRED_DEVICE)
    assert (inferred.action, inferred.rows, inferred.line_start, inferred.line_end) == (
        Action.KEPT,
        216,
        2,
        217,
    )
    assert "2 rows x 108" in inferred.detail
    assert "index,uuid" in inferred.detail
    (start,) = by_kind(issues, IssueKind.SERIES_START)
    assert start.rows == 2
    assert len(issues) == 2


def test_header_less_log_needs_columns() -> None:
    path = FIXTURES / "query_gpu_csv_nounits_2gpu_l1_noheader.csv"
    err = error_of(path)
    assert err.line == 1
    assert "noheader" in err.message
    assert "columns" in err.hint
    records, _ = parse(path, timezone=LONDON, options={"columns": REAL_2GPU_COLUMNS})
    headed, _ = parse(REAL_2GPU, timezone=LONDON)
    assert [(r.device, r.start_utc, r.end_utc, r.energy_kwh, r.line + 1) for r in records] == [
        (r.device, r.start_utc, r.end_utc, r.energy_kwh, r.line) for r in headed
    ]


def test_omniopt_a100_rows_have_no_power_field() -> None:
    path = FIXTURES / "query_gpu_csv_units_a100_omniopt_noheader.csv"
    assert "columns" in error_of(path).hint
    err = error_of(path, options={"columns": OMNIOPT_COLUMNS})
    assert "no power field" in err.message
    assert "add power.draw to --query-gpu" in err.hint


def test_a_header_without_timestamp_is_an_error() -> None:
    err = error_of(FIXTURES / "query_gpu_csv_units_rtx4060_na.csv")
    assert err.line == 1
    assert "timestamp" in err.message
    assert "timestamp" in err.hint


def test_no_timezone_is_an_error_with_the_config_hint() -> None:
    err = error_of(REAL_2GPU, timezone=None)
    assert 'set timezone = "Area/City" on this source in sci.toml' in err.hint


# -- named variants --------------------------------------------------------------------------------------


def test_appended_runs_skip_the_repeated_header() -> None:
    records, issues = parse(FIXTURES / "query_gpu_csv_nounits_2gpu_l1_appended.csv", timezone=LONDON)
    whole, _ = parse(REAL_2GPU, timezone=LONDON)
    expected = [(r.device, r.energy_kwh, r.line + (r.line >= 12)) for r in whole if r.line <= 21]
    assert [(r.device, r.energy_kwh, r.line) for r in records] == expected
    (inferred,) = by_kind(issues, IssueKind.INFERRED_DEVICE)
    assert inferred.rows == 20


def test_non_monotonic_samples_are_dropped_and_the_anchor_kept() -> None:
    records, issues = parse(FIXTURES / "query_gpu_csv_nounits_2gpu_l1_non_monotonic.csv", timezone=LONDON)
    back = by_kind(issues, IssueKind.NON_MONOTONIC)
    assert [(i.device, i.line_start, i.rows, i.action) for i in back] == [
        ("node/gpu0", 8, 1, Action.DROPPED),
        ("node/gpu1", 9, 1, Action.DROPPED),
    ]
    assert len(records) == 8  # per GPU: 6 samples - 1 opening - 1 dropped
    after = next(r for r in records if r.line == 10)
    # Anchor stays at line 6 (13:25:39.162); line 10 is 13:25:41.176 with 11.07 W.
    assert after.start_utc == datetime(2020, 6, 22, 12, 25, 39, 162000, tzinfo=UTC)
    assert after.energy_kwh == pytest.approx(11.07 * 2.014 / 3_600_000, rel=1e-12)


def test_a_gap_is_not_bridged_and_the_series_reanchors() -> None:
    records, issues = parse(FIXTURES / "query_gpu_csv_nounits_2gpu_l1_gap.csv", timezone=LONDON)
    gaps = by_kind(issues, IssueKind.GAP)
    assert [(i.device, i.line_start, i.action) for i in gaps] == [
        ("node/gpu0", 22, Action.NOT_BRIDGED),
        ("node/gpu1", 23, Action.NOT_BRIDGED),
    ]
    assert gaps[0].seconds == pytest.approx(89.792)  # 13:25:46.218 -> 13:27:16.010
    assert gaps[1].seconds == pytest.approx(89.808)  # 13:25:46.222 -> 13:27:16.030
    assert len(records) == 36  # per GPU: 20 samples - 1 opening - 1 gap
    assert max(r.duration_s for r in records) < 2.0
    assert "max_gap_s = 60" in gaps[0].detail
    records, issues = parse(
        FIXTURES / "query_gpu_csv_nounits_2gpu_l1_gap.csv", timezone=LONDON, max_gap_s=120
    )
    assert not by_kind(issues, IssueKind.GAP)
    assert len(records) == 38


def test_missing_values_are_dropped_never_zero() -> None:
    path = FIXTURES / "query_gpu_csv_nounits_2gpu_l1_na_heavy.csv"
    records, issues = parse(path, timezone=LONDON)
    missing = by_kind(issues, IssueKind.MISSING_VALUE)
    # Consecutive rows of one GPU merge, even with the other GPU's rows in between.
    assert sorted((i.device, i.line_start, i.line_end, i.rows) for i in missing) == [
        ("node/gpu0", 26, 28, 2),
        ("node/gpu0", 32, 32, 1),
        ("node/gpu1", 13, 21, 5),
    ]
    assert all(i.action is Action.DROPPED and "never counted as 0 W" in i.detail for i in missing)
    missing_lines = frozenset({13, 15, 17, 19, 21, 26, 28, 32})
    assert not missing_lines & {r.line for r in records}
    assert len(records) == 40 - 2 - len(missing_lines)
    # The dropped intervals are device time not covered: each one is its step (about 1 s at -l 1).
    for issue in missing:
        assert issue.seconds is not None
        assert issue.seconds == pytest.approx(issue.rows * 1.0, abs=0.05 * issue.rows)
    # The anchor moved on at each missing row: line 23 covers only the time since line 21.
    after = next(r for r in records if r.line == 23)
    assert after.duration_s == pytest.approx(1.004)
    assert after.energy_kwh == pytest.approx(88.92 * 1.004 / 3_600_000, rel=1e-12)
    no_util = next(r for r in records if r.line == 30)
    assert no_util.utilisation is None
    assert no_util.energy_kwh == pytest.approx(255.78 * 1.005 / 3_600_000, rel=1e-12)
    for device, expected in oracle_kwh(path, skip_lines=missing_lines).items():
        assert kwh(records, device) == pytest.approx(expected, rel=1e-12)


def test_a_cut_off_last_line_is_truncated_not_an_error() -> None:
    records, issues = parse(FIXTURES / "query_gpu_csv_nounits_2gpu_l1_truncated.csv", timezone=LONDON)
    (cut,) = by_kind(issues, IssueKind.TRUNCATED)
    assert (cut.line_start, cut.rows, cut.action) == (12, 1, Action.DROPPED)
    assert len(records) == 8
    assert max(r.line for r in records) == 11


def test_a_garbage_row_is_an_error_naming_its_line() -> None:
    err = error_of(FIXTURES / "query_gpu_csv_nounits_2gpu_l1_malformed.csv", timezone=LONDON)
    assert err.line == 7
    assert "12 fields" in err.message
    assert err.hint


def test_dst_fall_back_log_is_continuous_in_utc() -> None:
    path = FIXTURES / "query_gpu_csv_units_h100_dst_fall_back.csv"
    records, issues = parse(path)
    for device, first_w, second_w in (("node/gpu2", 154.88, 150.74), ("node/gpu3", 158.86, 162.00)):
        series = [r for r in records if r.device == device]
        assert len(series) == 244
        assert all(r.duration_s == 30.0 for r in series)
        assert series[0].start_utc == datetime(2026, 10, 24, 23, 59, 0, 305000, tzinfo=UTC)
        assert series[-1].end_utc == datetime(2026, 10, 25, 2, 1, 0, 305000, tzinfo=UTC)
        assert all(a.end_utc == b.start_utc for a, b in itertools.pairwise(series))
        # Ticks 1..244: odd ticks carry the second real reading, even ticks the first; 122 of each.
        assert kwh(series) == pytest.approx(30 * 122 * (first_w + second_w) / 3_600_000, rel=1e-12)
    ambiguous = by_kind(issues, IssueKind.AMBIGUOUS_TIME)
    assert [(i.device, i.line_start, i.line_end, i.rows, i.action) for i in ambiguous] == [
        ("node/gpu2", 6, 484, 240, Action.KEPT),
        ("node/gpu3", 7, 485, 240, Action.KEPT),
    ]
    assert "Europe/Berlin" in ambiguous[0].detail
    assert not by_kind(issues, IssueKind.NON_MONOTONIC)
    # Read as if the clock had no DST, the second 02:00-03:00 goes back in time and an hour is lost.
    naive_records, naive_issues = parse(path, timezone=ZoneInfo("UTC"))
    assert len([r for r in naive_records if r.device == "node/gpu2"]) == 124
    assert sum(i.rows for i in by_kind(naive_issues, IssueKind.NON_MONOTONIC)) == 240


# -- format details (small files written here, from the real rows) ---------------------------------------

H100_HEADER = (
    "timestamp, index, uuid, name, utilization.gpu [%], utilization.memory [%], memory.used [MiB], "
    "memory.total [MiB], temperature.gpu, power.draw [W]\n"
)


def h100_row(
    stamp: str,
    power: str = "154.88 W",
    util: str = "100 %",
    index: str = "2",
    uuid: str = "GPU-107f0d10-2c02-7c73-7b9f-680acd29b484",
) -> str:
    return (
        f"{stamp}, {index}, {uuid}, NVIDIA H100 80GB HBM3, {util}, 1 %, 29089 MiB, 81559 MiB, 35, {power}\n"
    )


@pytest.mark.parametrize("second_header", ["timestamp, power.draw [W]", "power.draw [W], timestamp"])
def test_a_header_line_starts_a_new_tick(tmp_path: Path, second_header: str) -> None:
    """A run appended right after another (header repeated or changed) starts again with GPU 0."""
    first = "2026/09/12 06:17:26.000, 10.00\n2026/09/12 06:17:27.000, 10.00\n"
    second = (
        "2026/09/12 06:17:27.100, 20.00\n2026/09/12 06:17:28.100, 20.00\n"
        if second_header.startswith("timestamp")
        else "20.00, 2026/09/12 06:17:27.100\n20.00, 2026/09/12 06:17:28.100\n"
    )
    path = write(tmp_path, f"timestamp, power.draw [W]\n{first}{second_header}\n{second}")
    records, issues = parse(path)
    assert [(r.device, r.line) for r in records] == [("node/gpu0", 3), ("node/gpu0", 5), ("node/gpu0", 6)]
    assert records[1].energy_kwh == pytest.approx(20.0 * 0.1 / 3_600_000)
    (inferred,) = by_kind(issues, IssueKind.INFERRED_DEVICE)
    assert inferred.rows == 4


def test_a_name_with_commas_is_rejoined(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timestamp, index, name, power.draw [W]\n"
        "2026/09/12 06:17:26.305, 0, NVIDIA RTX A5000, 16GB, 50.00 W\n"
        "2026/09/12 06:17:27.305, 0, NVIDIA RTX A5000, 16GB, 60.00 W\n",
    )
    (record,), _ = parse(path)
    assert record.device_model == "NVIDIA RTX A5000, 16GB"
    assert record.energy_kwh == pytest.approx(60.0 / 3_600_000)


def test_a_different_header_mid_file_remaps_the_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timestamp, index, power.draw [W]\n"
        "2026/09/12 06:17:26.000, 0, 100.00 W\n"
        "index, power.draw.average [W], timestamp, utilization.gpu [%]\n"
        "0, 200.00 W, 2026/09/12 06:17:27.000, 50 %\n",
    )
    (record,), issues = parse(path)
    assert record.energy_kwh == pytest.approx(200.0 / 3_600_000)
    assert record.method == "nvidia-smi/power.draw.average"
    assert record.utilisation == 0.5
    assert record.line == 4
    assert by_kind(issues, IssueKind.SERIES_START)[0].rows == 1


def test_header_fields_are_read_by_name_with_any_case_after_the_first_letter(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "encoder.stats.sessionCount, timestamp, clocks.sm [MHz], index, power.draw [W]\n"
        "0, 2026/09/12 06:17:26.000, 1410 MHz, 0, 10.00 W\n"
        "0, 2026/09/12 06:17:27.000, 1410 MHz, 0, 30.00 W\n",
    )
    (record,), _ = parse(path)
    assert record.energy_kwh == pytest.approx(30.0 / 3_600_000)


def test_power_draw_average_is_preferred(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timestamp, index, power.draw.instant [W], power.draw [W], power.draw.average [W]\n"
        "2026/09/12 06:17:26.000, 0, 1.00 W, 2.00 W, 3.00 W\n"
        "2026/09/12 06:17:27.000, 0, 10.00 W, 20.00 W, 30.00 W\n",
    )
    (record,), _ = parse(path)
    assert record.method == "nvidia-smi/power.draw.average"
    assert record.energy_kwh == pytest.approx(30.0 / 3_600_000)
    path = write(
        tmp_path,
        "timestamp, index, power.draw.instant [W]\n"
        "2026/09/12 06:17:26.000, 0, 1.00 W\n"
        "2026/09/12 06:17:28.000, 0, 4.00 W\n",
    )
    (record,), _ = parse(path)
    assert record.method == "nvidia-smi/power.draw.instant"
    assert record.energy_kwh == pytest.approx(8.0 / 3_600_000)


def test_gpu_identity_uuid_then_bus_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timestamp, uuid, power.draw [W]\n"
        "2026/09/12 06:17:26.000, GPU-aaa, 10.00 W\n"
        "2026/09/12 06:17:26.003, GPU-bbb, 20.00 W\n"
        "2026/09/12 06:17:27.000, GPU-aaa, 10.00 W\n"
        "2026/09/12 06:17:27.003, GPU-bbb, 20.00 W\n",
    )
    records, issues = parse(path)
    assert [r.device for r in records] == ["node/GPU-aaa", "node/GPU-bbb"]
    assert not by_kind(issues, IssueKind.INFERRED_DEVICE)
    path = write(
        tmp_path,
        "timestamp, name, pci.bus_id, power.draw [W]\n"
        "2024/06/01 11:27:05.177, NVIDIA A100-SXM4-40GB, 00000000:3B:00.0, 50.00 W\n"
        "2024/06/01 11:27:06.177, NVIDIA A100-SXM4-40GB, 00000000:3B:00.0, 50.00 W\n",
    )
    (record,), _ = parse(path)
    assert record.device == "node/00000000:3B:00.0"
    assert record.device_model == "NVIDIA A100-SXM4-40GB"


def test_negative_power_is_dropped(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        H100_HEADER
        + h100_row("2026/09/12 06:17:26.305")
        + h100_row("2026/09/12 06:17:27.305", power="-0.50 W")
        + h100_row("2026/09/12 06:17:28.305", power="100.00 W"),
    )
    (record,), issues = parse(path)
    (negative,) = by_kind(issues, IssueKind.NEGATIVE_VALUE)
    assert (negative.line_start, negative.action, negative.device) == (3, Action.DROPPED, "node/gpu2")
    assert record.duration_s == pytest.approx(1.0)  # the anchor moved on past the negative sample


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (h100_row("2026/13/12 06:17:27.305"), "timestamp"),
        (h100_row("2026/09/12 6:17:27.305"), "timestamp"),
        (h100_row("12.09.2026 06:17:27"), "timestamp"),
        (h100_row("2026/09/12 06:17:27.305", power="lots W"), "power.draw value"),
        (h100_row("2026/09/12 06:17:27.305", power="nan"), "power.draw value"),
        (h100_row("2026/09/12 06:17:27.305", util="150 %"), "outside 0-100"),
        (h100_row("2026/09/12 06:17:27.305", index="x", uuid="GPU-8c958eaa"), "index"),
        (h100_row("2026/09/12 06:17:27.305", uuid="[N/A]"), "uuid"),
        (h100_row("2026/09/12 06:17:27.305")[:-1] + ", 1\n", "11 fields"),
        ("2026/09/12 06:17:27.305, 2\n", "2 fields"),
    ],
)
def test_malformed_rows_are_errors(tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path, H100_HEADER + h100_row("2026/09/12 06:17:26.305", index="3") + row)
    err = error_of(path)
    assert err.line == 3
    assert message in err.message
    assert err.hint


def test_a_spring_forward_gap_time_is_flagged_and_kept(tmp_path: Path) -> None:
    stamps = ["2026/03/29 01:59:30.000", "2026/03/29 02:00:00.000", "2026/03/29 02:00:30.000"]
    path = write(tmp_path, H100_HEADER + "".join(h100_row(s) for s in stamps))
    records, issues = parse(path)
    assert [r.end_utc for r in records] == [
        datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, 30, tzinfo=UTC),
    ]
    (flagged,) = by_kind(issues, IssueKind.AMBIGUOUS_TIME)
    assert (flagged.line_start, flagged.line_end, flagged.rows, flagged.action) == (3, 4, 2, Action.KEPT)
    assert "does not exist" in flagged.detail


def test_timestamps_without_milliseconds_or_with_microseconds(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timestamp, index, power.draw [W]\n"
        "2026/09/12 06:17:26, 0, 10.00 W\n"
        "2026/09/12 06:17:27.500001, 0, 10.00 W\n",
    )
    (record,), _ = parse(path)
    assert record.duration_s == 1.500001


def test_options_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "x\n")
    assert "columns" in error_of(path, options={"columns": "timestamp, power.draw"}).message
    assert "columns" in error_of(path, options={"columns": []}).message
    assert "tick_gap_s" in error_of(path, options={"tick_gap_s": 0}).message
    assert "tick_gap_s" in error_of(path, options={"tick_gap_s": True}).message


def test_too_many_rows_in_one_tick_is_an_error(tmp_path: Path) -> None:
    # A single GPU logged with -lms 100 and no index: every row is within 0.25 s of the previous one.
    start = datetime(2026, 9, 12, 6, 0, 0)
    rows = "".join(
        f"{(start + timedelta(milliseconds=100 * i)).strftime('%Y/%m/%d %H:%M:%S.%f')[:-3]}, 10.00\n"
        for i in range(80)
    )
    path = write(tmp_path, "timestamp, power.draw [W]\n" + rows)
    err = error_of(path)
    assert "tick_gap_s" in err.hint
    records, issues = parse(path, options={"tick_gap_s": 0.05})
    assert {r.device for r in records} == {"node/gpu0"}
    assert len(records) == 79
    assert "1 rows x 80" in by_kind(issues, IssueKind.INFERRED_DEVICE)[0].detail


def test_read_number_tokens() -> None:
    assert read_number(" 154.88 W") == 154.88
    assert read_number("100 %") == 100.0
    assert read_number(" 12.43") == 12.43
    for missing in ("[N/A]", "[Not Supported]", "N/A", "[Unknown Error]", "", "  "):
        assert read_number(missing) is None
    for bad in ("abc", "1 2 W", "inf", "nan", "1e999", "[N/A", "12 3"):
        with pytest.raises(ValueError, match="number"):
            read_number(bad)


# -- properties ------------------------------------------------------------------------------------------


def _parse_bytes(data: bytes, **kw: Any) -> list[Record | QualityIssue]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gpu.csv"
        path.write_bytes(data)
        try:
            return list(NvidiaSmiCsv().parse(ctx_for(path, **kw)))
        except CollectorError:
            return []


@settings(max_examples=300)
@given(data=file_bytes(max_size=600))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    _parse_bytes(data)
    _parse_bytes(data, options={"columns": ["timestamp", "index", "power.draw"]})


TOKENS = st.sampled_from(
    [
        "2026/10/25 02:30:00.305",
        "2026/03/29 02:30:00.000",
        "2026/09/12 06:17:26.305",
        "9999/12/31 23:59:59.999",
        "0001/01/01 00:00:00.000",
        "2026/02/30 00:00:00.000",
        "0",
        "1",
        "-1",
        "154.88 W",
        "100 %",
        "[N/A]",
        "N/A",
        "1e308",
        "GPU-aaa",
        "NVIDIA H100",
        "",
        " ",
        "[",
        "99999999999",
    ]
)
HEADERS = st.sampled_from(
    [
        "timestamp, index, power.draw [W], utilization.gpu [%]",
        "timestamp, power.draw [W]",
        "timestamp, uuid, name, power.draw [W]",
        "timestamp, pci.bus_id, power.draw.average [W]",
    ]
)


@settings(max_examples=300)
@given(
    header=HEADERS,
    rows=st.lists(st.lists(TOKENS, min_size=1, max_size=5), max_size=8),
    ended=st.booleans(),
)
def test_csv_like_noise_gives_records_or_a_collector_error(
    header: str, rows: list[list[str]], ended: bool
) -> None:
    text = header + "\n" + "\n".join(", ".join(row) for row in rows) + ("\n" if ended else "")
    for item in _parse_bytes(text.encode()):
        if isinstance(item, Record):
            assert item.energy_kwh is not None
            assert math.isfinite(item.energy_kwh)
            assert item.energy_kwh >= 0


def _series_log(times_ms: list[int], centiwatts: list[int]) -> str:
    start = datetime(2026, 9, 12, 6, 0, 0)
    lines = ["timestamp, index, power.draw [W]"]
    for t_ms, cw in zip(times_ms, centiwatts, strict=True):
        stamp = (start + timedelta(milliseconds=t_ms)).strftime("%Y/%m/%d %H:%M:%S.%f")[:-3]
        lines.append(f"{stamp}, 0, {cw // 100}.{cw % 100:02d}")
    return "\n".join(lines) + "\n"


def _energy(text: str) -> list[float]:
    items = _parse_bytes(text.encode(), timezone=ZoneInfo("UTC"))
    return [item.energy_kwh or 0.0 for item in items if isinstance(item, Record)]


series_strategy = st.integers(min_value=2, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(min_value=1, max_value=30_000), min_size=n - 1, max_size=n - 1),
        st.lists(st.integers(min_value=0, max_value=100_000), min_size=n, max_size=n),
    )
)


@given(series=series_strategy, split=st.integers(min_value=1, max_value=39))
def test_a_series_split_in_two_files_loses_exactly_the_step_at_the_split(
    series: tuple[list[int], list[int]], split: int
) -> None:
    """Each file is integrated on its own, so the second file's first sample only opens its series: the
    interval (t[k-1], t[k]] between the files' last and first samples belongs to neither. Nothing else may
    change - no interval is counted twice and none is lost elsewhere."""
    steps, centiwatts = series
    times = [0]
    for step in steps:
        times.append(times[-1] + step)
    k = min(split, len(times) - 1)
    whole = _energy(_series_log(times, centiwatts))
    first = _energy(_series_log(times[:k], centiwatts[:k]))
    second = _energy(_series_log(times[k:], centiwatts[k:]))
    lost = centiwatts[k] / 100 * (times[k] - times[k - 1]) / 1000 / 3_600_000
    assert len(first) + len(second) == len(whole) - 1
    assert math.fsum(first) + math.fsum(second) == pytest.approx(math.fsum(whole) - lost, rel=1e-9, abs=1e-15)


@given(series=series_strategy, factor=st.integers(min_value=0, max_value=50))
def test_energy_scales_with_power(series: tuple[list[int], list[int]], factor: int) -> None:
    steps, centiwatts = series
    times = [0]
    for step in steps:
        times.append(times[-1] + step)
    base = _energy(_series_log(times, centiwatts))
    scaled = _energy(_series_log(times, [cw * factor for cw in centiwatts]))
    assert len(base) == len(scaled) == len(times) - 1
    for b, s in zip(base, scaled, strict=True):
        assert s == pytest.approx(factor * b, rel=1e-12, abs=1e-18)


# -- logs the dmon work added fixtures for (the collector itself is unchanged) ---------------------------


def test_a_log_spanning_a_driver_format_change_is_remapped() -> None:
    """-l log whose header switches from power.draw to power.draw.average mid-file (a driver upgrade)."""
    records, issues = parse(FIXTURES / "query_gpu_csv_units_h100_driver_change.csv")
    assert [(r.device, r.line, r.method) for r in records] == [
        ("node/gpu3", 4, "nvidia-smi/power.draw"),
        ("node/gpu2", 5, "nvidia-smi/power.draw"),
        ("node/gpu2", 7, "nvidia-smi/power.draw.average"),
        ("node/gpu3", 8, "nvidia-smi/power.draw.average"),
        ("node/gpu3", 9, "nvidia-smi/power.draw.average"),
        ("node/gpu2", 10, "nvidia-smi/power.draw.average"),
    ]
    # Each GPU's series runs on across the header: GPU 2 from 06:17:29.306 to 06:17:36.305 = 6.999 s at
    # 154.88 W; GPU 3 from 06:17:28.306 to 06:17:36.305 = 7.999 s at 158.86 W; then as in the first block.
    by_line = {r.line: r.energy_kwh for r in records}
    assert by_line[7] == pytest.approx(154.88 * 6.999 / 3_600_000, rel=1e-12)
    assert by_line[8] == pytest.approx(158.86 * 7.999 / 3_600_000, rel=1e-12)
    assert by_line[9] == pytest.approx(162.00 * 2.001 / 3_600_000, rel=1e-12)
    assert by_line[10] == pytest.approx(150.74 * 3.001 / 3_600_000, rel=1e-12)
    assert [i.kind for i in issues] == [IssueKind.SERIES_START]


def test_a_uuid_keyed_log_without_index() -> None:
    records, issues = parse(FIXTURES / "query_gpu_csv_units_h100_uuid_only.csv")
    indexed, _ = parse(FIXTURES / "query_gpu_csv_units_h100.csv")
    assert [r.device for r in records] == [
        "node/GPU-8c958eaa-b244-64cb-6283-d37792aac963",
        "node/GPU-107f0d10-2c02-7c73-7b9f-680acd29b484",
    ]
    assert [(r.line, r.energy_kwh, r.start_utc, r.end_utc) for r in records] == [
        (r.line, r.energy_kwh, r.start_utc, r.end_utc) for r in indexed
    ]
    assert not by_kind(issues, IssueKind.INFERRED_DEVICE)
