"""The powermetrics text collector against real logs, their documented variants, and its properties.

Expected numbers are worked out by hand from the lines of the fixture files; each test names the lines.
Energy: mW x ms = microjoules, so E[kWh] = (P_mW / 1000) * (t_ms / 1000) / 3_600_000.
"""

from __future__ import annotations

import gzip
import itertools
import math
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import collectors
from collectors.base import DEFAULT_MAX_GAP_S, SourceContext
from collectors.powermetrics_text import PowermetricsText
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, Item, QualityIssue, Record, Tier

FIXTURES = Path(__file__).parent / "fixtures" / "powermetrics"
M1 = "m1_monterey_text_codecarbon.txt"
M4 = "m4max_sequoia_text_default_samplers.txt"
M2 = "m2_air_sonoma_text_excerpt_applegpuinfo_issue6.txt"
INTEL = "intel_mavericks_text_excerpt_randomfoo.txt"

# The ten samples of the real M1 log: header line, elapsed ms, and the power lines (mW) as printed.
M1_HEADERS = (8, 60, 112, 164, 216, 268, 320, 372, 424, 476)
M1_ELAPSED_MS = (104.51, 104.81, 105.93, 108.22, 109.24, 108.45, 108.38, 106.72, 108.88, 108.92)
M1_PACKAGE_MW = (1473, 773, 396, 120, 284, 618, 434, 450, 303, 321)
M1_PARTS_MW = (  # ANE + DRAM + CPU + GPU, from the lines just above each Package Power line
    0 + 220 + 947 + 153,
    0 + 162 + 420 + 67,
    0 + 66 + 208 + 28,
    0 + 37 + 102 + 9,  # 148 > Package 120: a negative residual (sample 4)
    0 + 64 + 156 + 9,
    0 + 148 + 369 + 46,
    0 + 83 + 231 + 28,
    0 + 94 + 272 + 19,
    0 + 64 + 202 + 18,
    0 + 83 + 239 + 9,  # 331 > Package 321: a negative residual (sample 10)
)


def kwh(power_mw: float, elapsed_ms: float) -> float:
    """Energy by hand: W x s = J, and 3.6 MJ per kWh."""
    return (power_mw / 1000) * (elapsed_ms / 1000) / 3_600_000


def utc(
    year: int, month: int, day: int, hour: int, minute: int, second: int, microsecond: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)


def parse(path: Path, max_gap_s: float = DEFAULT_MAX_GAP_S) -> list[Item]:
    return list(PowermetricsText().parse(SourceContext(path=path, device="mac", max_gap_s=max_gap_s)))


def parse_fixture(name: str, max_gap_s: float = DEFAULT_MAX_GAP_S) -> list[Item]:
    return parse(FIXTURES / name, max_gap_s)


def records(items: list[Item]) -> list[Record]:
    return [item for item in items if isinstance(item, Record)]


def issues(items: list[Item]) -> list[QualityIssue]:
    return [item for item in items if isinstance(item, QualityIssue)]


def samples(items: list[Item]) -> list[list[Record]]:
    """Records grouped by interval, in file order."""
    groups: dict[tuple[datetime, datetime], list[Record]] = {}
    for record in records(items):
        groups.setdefault((record.start_utc, record.end_utc), []).append(record)
    return list(groups.values())


def by_component(group: list[Record]) -> dict[Component, Record]:
    found = {record.component: record for record in group}
    assert len(found) == len(group), "one record per component per sample"
    return found


def total_kwh(items: list[Item]) -> float:
    return math.fsum(record.energy_kwh or 0.0 for record in records(items))


# -- derived variants: how each one is made from a real file (the README says the same) ------------------


def _read(name: str) -> list[str]:
    return (FIXTURES / name).read_text(encoding="utf-8").splitlines(keepends=True)


def _edit(lines: list[str], line: int, old: str, new: str) -> list[str]:
    assert old in lines[line - 1], (line, old)
    return [*lines[: line - 1], lines[line - 1].replace(old, new), *lines[line:]]


def _truncated() -> str:
    lines = _read(M1)
    return "".join(lines[:522]) + lines[522][: len("CPU Power: 23")]


def _truncated_at_line_end() -> str:
    return "".join(_read(M1)[:521])


def _cut_in_header() -> str:
    lines = _read(M1)
    return "".join(lines[:475]) + lines[475][:44]


def _non_monotonic() -> str:
    lines = _edit(_read(M1), 216, "12:37:08", "12:37:05")
    return "".join(_edit(lines, 268, "12:37:08", "12:37:05"))


def _gap() -> str:
    lines = _read(M1)
    for line in (268, 320, 372, 424, 476):
        lines = _edit(lines, line, "12:37:", "12:39:")
    return "".join(lines)


def _no_power() -> str:
    lines = _read(M1)
    return "".join(line for i, line in enumerate(lines, 1) if not (157 <= i <= 161 or 209 <= i <= 213))


def _bad_header() -> str:
    return "".join(_edit(_read(M1), 60, "12:37:08 2023", "12:37 2023"))


def _bad_value() -> str:
    return "".join(_edit(_read(M1), 55, "947 mW", "947 mJ"))


def _negative() -> str:
    return "".join(_edit(_read(M1), 108, "GPU Power: 67 mW", "GPU Power: -67 mW"))


def _combined_mismatch() -> str:
    return "".join(_edit(_read(M4), 188, ": 983 mW", ": 1983 mW"))


def _m2_header_first() -> str:
    lines = _read(M2)
    return lines[22] + "".join(lines[:22])


INTEL_HEADER = "*** Sampled system activity (Fri Nov  8 10:15:42 2013 -0800) (5003.12ms elapsed) ***\n"


def _intel_wrapped() -> str:
    return INTEL_HEADER + "\n" + "".join(_read(INTEL))


def _m1_then_m4max() -> str:
    return "".join(_read(M1)) + "".join(_read(M4))


VARIANTS: dict[str, Callable[[], str]] = {
    "m1_monterey_text_truncated.txt": _truncated,
    "m1_monterey_text_truncated_at_line_end.txt": _truncated_at_line_end,
    "m1_monterey_text_cut_in_header.txt": _cut_in_header,
    "m1_monterey_text_non_monotonic.txt": _non_monotonic,
    "m1_monterey_text_gap.txt": _gap,
    "m1_monterey_text_no_power.txt": _no_power,
    "m1_monterey_text_bad_header.txt": _bad_header,
    "m1_monterey_text_bad_value.txt": _bad_value,
    "m1_monterey_text_negative.txt": _negative,
    "m4max_sequoia_text_combined_mismatch.txt": _combined_mismatch,
    "m2_air_sonoma_text_header_first.txt": _m2_header_first,
    "intel_mavericks_text_wrapped.txt": _intel_wrapped,
    "m1_then_m4max_concatenated.txt": _m1_then_m4max,
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_is_derived_as_documented(name: str) -> None:
    assert (FIXTURES / name).read_bytes() == VARIANTS[name]().encode("utf-8")
    assert f"`{name}`" in (FIXTURES / "README.md").read_text(encoding="utf-8")


def test_collector_contract() -> None:
    assert collectors.load("powermetrics") is PowermetricsText
    assert PowermetricsText.name == "powermetrics"
    assert PowermetricsText.version == "1"
    assert PowermetricsText.OPTIONS == {}
    assert PowermetricsText.needs_timezone is False


# -- the real M1 (macOS 12) log ---------------------------------------------------------------------------


def test_m1_parts_table_matches_the_file() -> None:
    # Guards the hand-copied table above against the file itself.
    text = (FIXTURES / M1).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert [i for i, line in enumerate(lines, 1) if line.startswith("*** Sampled")] == list(M1_HEADERS)
    blocks = text.split("*** Sampled system activity")[1:]
    assert len(blocks) == 10
    for i, block in enumerate(blocks):
        values = {
            m[1]: int(m[2]) for m in re.finditer(r"^(ANE|DRAM|CPU|GPU|Package) Power: (\d+) mW", block, re.M)
        }
        assert values["Package"] == M1_PACKAGE_MW[i]
        assert values["ANE"] + values["DRAM"] + values["CPU"] + values["GPU"] == M1_PARTS_MW[i]
        assert f"({M1_ELAPSED_MS[i]:.2f}ms elapsed)" in block


def test_m1_first_sample_per_component() -> None:
    # Lines 53-57 of the first sample (104.51 ms): ANE 0, DRAM 220, CPU 947, GPU 153, Package 1473 mW.
    # soc-other = 1473 - (947 + 153 + 0 + 220) = 153 mW, charged to the Package Power line.
    first = by_component(samples(parse_fixture(M1))[0])
    expected = {
        Component.CPU: (947, 55),
        Component.GPU: (153, 56),
        Component.ANE: (0, 53),
        Component.DRAM: (220, 54),
        Component.SOC_OTHER: (153, 57),
    }
    assert set(first) == set(expected)
    for component, (power_mw, line) in expected.items():
        record = first[component]
        assert record.energy_kwh == pytest.approx(kwh(power_mw, 104.51), rel=1e-12)
        assert record.line == line
        assert record.method == f"powermetrics/{component.value}-power"
        assert record.tier is Tier.MEASURED
        assert record.device == "mac"
        assert record.device_model == "MacBookAir10,1"
    # CPU: 0.947 W x 0.10451 s = 0.09897097 J = 2.7491936e-8 kWh.
    assert first[Component.CPU].energy_kwh == pytest.approx(0.09897097 / 3_600_000, rel=1e-12)


def test_m1_cluster_lines_are_never_added() -> None:
    # E-Cluster 105 + P-Cluster 842 = 947 = CPU Power (lines 13, 32, 55): the clusters are parts of CPU.
    items = parse_fixture(M1)
    assert all(record.line not in (13, 32) for record in records(items))
    assert {record.component for record in records(items)} == {
        Component.CPU,
        Component.GPU,
        Component.ANE,
        Component.DRAM,
        Component.SOC_OTHER,
    }


def test_m1_device_total_equals_package_power() -> None:
    # Package Power is the whole SoC on macOS 12: CPU + GPU + ANE + DRAM + soc-other = Package x elapsed,
    # except where Package is below the parts (samples 4 and 10), where no soc-other is emitted.
    groups = samples(parse_fixture(M1))
    assert len(groups) == 10
    for i, group in enumerate(groups):
        total = math.fsum(record.energy_kwh or 0.0 for record in group)
        if i in (3, 9):
            assert Component.SOC_OTHER not in by_component(group)
            assert total == pytest.approx(kwh(M1_PARTS_MW[i], M1_ELAPSED_MS[i]), rel=1e-12)
        else:
            assert total == pytest.approx(kwh(M1_PACKAGE_MW[i], M1_ELAPSED_MS[i]), rel=1e-12)


def test_m1_negative_residuals_are_reported_and_kept() -> None:
    found = issues(parse_fixture(M1))
    assert [(i.kind, i.action, i.line_start, i.line_end, i.rows) for i in found] == [
        (IssueKind.NEGATIVE_VALUE, Action.KEPT, 213, 213, 1),  # 120 - 148 = -28 mW
        (IssueKind.NEGATIVE_VALUE, Action.KEPT, 525, 525, 1),  # 321 - 331 = -10 mW
    ]
    assert "28 mW" in found[0].detail
    assert "10 mW" in found[1].detail
    assert all(issue.device == "mac" for issue in found)


def test_m1_intervals_are_chained_in_utc() -> None:
    # Seven headers say 12:37:08 and three 12:37:09 (+0100): each sample's end is the previous end plus its
    # own elapsed time, starting from the first header, 11:37:08 UTC.
    groups = samples(parse_fixture(M1))
    first_end = utc(2023, 11, 10, 11, 37, 8)
    assert groups[0][0].end_utc == first_end
    assert groups[0][0].start_utc == first_end - timedelta(milliseconds=104.51)
    end = first_end
    for i, group in enumerate(groups[1:], start=1):
        assert group[0].start_utc == end  # contiguous: no gap, no overlap
        end = end + timedelta(milliseconds=M1_ELAPSED_MS[i])
        assert group[0].end_utc == end
        assert all(record.start_utc.tzinfo is UTC for record in group)
    # 104.81 + 105.93 + 108.22 + 109.24 + 108.45 + 108.38 + 106.72 + 108.88 + 108.92 ms = 969.55 ms
    assert end == utc(2023, 11, 10, 11, 37, 8, 969550)


# -- the real M4 Max (macOS 15) and M2 (macOS 14) output --------------------------------------------------


def test_m4max_gpu_counted_once_and_utc() -> None:
    # GPU Power: 28 mW is printed at line 186 (CPU summary) and again at line 197 (GPU section).
    items = parse_fixture(M4)
    assert issues(items) == []  # Combined 983 vs 954 + 28 + 0 = 982 mW: within rounding
    found = by_component(records(items))
    assert set(found) == {Component.CPU, Component.GPU, Component.ANE}
    assert found[Component.GPU].line == 186
    assert found[Component.GPU].energy_kwh == pytest.approx(kwh(28, 5021.96), rel=1e-12)
    assert found[Component.CPU].energy_kwh == pytest.approx(kwh(954, 5021.96), rel=1e-12)
    assert found[Component.ANE].energy_kwh == 0.0
    # "Sat Nov  8 15:54:21 2025 +0900" (day padded with a space) = 06:54:21 UTC.
    assert found[Component.CPU].end_utc == utc(2025, 11, 8, 6, 54, 21)
    assert found[Component.CPU].duration_s == pytest.approx(5.02196, abs=1e-6)
    assert found[Component.CPU].device_model == "Mac16,6"


def test_m4max_combined_power_mismatch_is_reported() -> None:
    items = parse_fixture("m4max_sequoia_text_combined_mismatch.txt")
    assert records(items) == records(parse_fixture(M4))
    (issue,) = issues(items)
    assert (issue.kind, issue.action, issue.line_start, issue.line_end, issue.rows) == (
        IssueKind.MALFORMED_ROW,
        Action.KEPT,
        188,
        188,
        1,
    )
    assert "+1001 mW" in issue.detail  # 1983 - (954 + 28 + 0)


def test_m2_excerpt_has_orphan_lines_and_a_cut_last_sample() -> None:
    # Lines 7-10 and 19 (CPU, GPU, ANE, Combined, GPU) come before the only header (line 23), which is
    # the last line: the excerpt stops right after it.
    items = parse_fixture(M2)
    assert records(items) == []
    orphan, truncated = issues(items)
    assert (orphan.kind, orphan.action, orphan.line_start, orphan.line_end, orphan.rows) == (
        IssueKind.ORPHAN_LINES,
        Action.DROPPED,
        7,
        19,
        5,
    )
    assert (truncated.kind, truncated.action, truncated.line_start, truncated.line_end) == (
        IssueKind.TRUNCATED,
        Action.DROPPED,
        23,
        23,
    )
    assert truncated.seconds == pytest.approx(5.02483)


def test_m2_with_its_header_first_counts_gpu_once() -> None:
    items = parse_fixture("m2_air_sonoma_text_header_first.txt")
    assert issues(items) == []  # Combined 89 = 85 + 4 + 0
    found = by_component(records(items))
    assert {c: (r.line, r.energy_kwh) for c, r in found.items()} == {
        Component.CPU: (8, pytest.approx(kwh(85, 5024.83), rel=1e-12)),
        Component.GPU: (9, pytest.approx(kwh(4, 5024.83), rel=1e-12)),  # not the GPU section's line 20
        Component.ANE: (10, 0.0),
    }
    # "Fri Mar 22 14:54:38 2024 -0500" = 19:54:38 UTC; no Machine model line in the excerpt.
    assert found[Component.CPU].end_utc == utc(2024, 3, 22, 19, 54, 38)
    assert found[Component.CPU].device_model is None


# -- Intel ------------------------------------------------------------------------------------------------


def test_intel_excerpt_without_header_is_not_a_log() -> None:
    with pytest.raises(CollectorError, match="not a powermetrics text log") as caught:
        parse_fixture(INTEL)
    assert caught.value.path == FIXTURES / INTEL
    assert caught.value.line == 8
    assert "-f plist" in caught.value.hint


def test_intel_wrapped_gives_package_power() -> None:
    # "Intel energy model derived package power (CPUs+GT+SA): 0.58W" is line 5 of the wrapped file
    # (header, blank, then the excerpt's lines 1-3): watts, held for 5003.12 ms.
    items = parse_fixture("intel_mavericks_text_wrapped.txt")
    assert issues(items) == []
    (record,) = records(items)
    assert record.component is Component.PACKAGE
    assert record.method == "powermetrics/package-power"
    assert record.line == 5
    assert record.energy_kwh == pytest.approx(kwh(580, 5003.12), rel=1e-12)
    # "Fri Nov  8 10:15:42 2013 -0800" = 18:15:42 UTC.
    assert record.end_utc == utc(2013, 11, 8, 18, 15, 42)
    assert record.start_utc == utc(2013, 11, 8, 18, 15, 36, 996880)


# -- data-quality variants --------------------------------------------------------------------------------


def test_truncated_mid_line_drops_the_last_sample() -> None:
    # Cut after "CPU Power: 23" (of 239 mW) on line 523, without a newline: sample 10 (lines 476-523) is
    # dropped, not counted with a misread 23 mW.
    items = parse_fixture("m1_monterey_text_truncated.txt")
    assert len(samples(items)) == 9
    assert all(record.line < 476 for record in records(items))
    truncated = [i for i in issues(items) if i.kind is IssueKind.TRUNCATED]
    assert [(i.action, i.line_start, i.line_end, i.rows) for i in truncated] == [
        (Action.DROPPED, 476, 523, 1)
    ]
    assert truncated[0].seconds == pytest.approx(0.10892)
    assert "no newline" in truncated[0].detail
    # The negative residual of sample 10 (line 525) is gone with it; sample 4's remains.
    assert [i.line_start for i in issues(items) if i.kind is IssueKind.NEGATIVE_VALUE] == [213]


def test_truncated_at_a_line_end_drops_a_last_sample_missing_lines() -> None:
    # The file ends with "ANE Power: 0 mW\n" (line 521): the last sample lacks DRAM, CPU, GPU, Package.
    items = parse_fixture("m1_monterey_text_truncated_at_line_end.txt")
    assert len(samples(items)) == 9
    (truncated,) = [i for i in issues(items) if i.kind is IssueKind.TRUNCATED]
    assert (truncated.action, truncated.line_start, truncated.line_end) == (Action.DROPPED, 476, 521)
    assert "CPU, DRAM, GPU, Package" in truncated.detail


def test_cut_inside_a_header_line() -> None:
    items = parse_fixture("m1_monterey_text_cut_in_header.txt")
    assert len(samples(items)) == 9
    (truncated,) = [i for i in issues(items) if i.kind is IssueKind.TRUNCATED]
    assert (truncated.line_start, truncated.line_end, truncated.seconds) == (476, 476, None)


def test_non_monotonic_samples_are_dropped_and_merged() -> None:
    # Headers of samples 5 and 6 (lines 216, 268) say 12:37:05 instead of 12:37:08. Sample 4 ends at
    # 11:37:08.318960Z; sample 5 re-anchors at 11:37:05 and would start 3.4282 s before that.
    items = parse_fixture("m1_monterey_text_non_monotonic.txt")
    (issue,) = [i for i in issues(items) if i.kind is IssueKind.NON_MONOTONIC]
    assert (issue.action, issue.line_start, issue.line_end, issue.rows) == (Action.DROPPED, 216, 319, 2)
    assert "3.428 s" in issue.detail
    groups = samples(items)
    assert len(groups) == 8
    assert all(not 216 <= record.line <= 319 for record in records(items))
    # Sample 7 (header 12:37:08 again) continues the chain from sample 4: 08.318960 + 108.38 ms.
    sample7 = groups[4]
    assert sample7[0].line > 320
    assert sample7[0].start_utc == utc(2023, 11, 10, 11, 37, 8, 318960)
    assert sample7[0].end_utc == utc(2023, 11, 10, 11, 37, 8, 427340)


def test_gap_is_reported_not_bridged() -> None:
    # Samples 6-10 moved two minutes later (lines 268...476). Sample 5 ends at 08.428200; sample 6
    # re-anchors at 12:39:08 (+0100) and starts 108.45 ms earlier: a gap of 120 - 0.428200 - 0.10845 s.
    items = parse_fixture("m1_monterey_text_gap.txt")
    (gap,) = [i for i in issues(items) if i.kind is IssueKind.GAP]
    assert (gap.action, gap.line_start, gap.line_end, gap.rows) == (Action.NOT_BRIDGED, 268, 268, 1)
    assert gap.seconds == pytest.approx(119.46335, abs=1e-9)
    groups = samples(items)
    assert groups[5][0].end_utc == utc(2023, 11, 10, 11, 39, 8)
    assert groups[6][0].start_utc == groups[5][0].end_utc  # chained again after the jump
    assert total_kwh(items) == pytest.approx(total_kwh(parse_fixture(M1)), rel=1e-12)
    assert not [
        i
        for i in issues(parse_fixture("m1_monterey_text_gap.txt", max_gap_s=200.0))
        if i.kind is IssueKind.GAP
    ]


def test_samples_without_power_lines_are_merged() -> None:
    # Samples 3 and 4 lost their ANE/DRAM/CPU/GPU/Package lines (five lines each): the samples now span
    # lines 112-205 (sample 5's header moved up to line 206). Their cluster lines are not used instead.
    items = parse_fixture("m1_monterey_text_no_power.txt")
    (issue,) = [i for i in issues(items) if i.kind is IssueKind.NO_POWER_DATA]
    assert (issue.action, issue.line_start, issue.line_end, issue.rows) == (Action.NOT_BRIDGED, 112, 205, 2)
    assert issue.seconds == pytest.approx((105.93 + 108.22) / 1000)
    groups = samples(items)
    assert len(groups) == 8
    # The chain still advances through them: sample 5 starts where sample 4 ended, 08.318960.
    assert groups[2][0].start_utc == utc(2023, 11, 10, 11, 37, 8, 318960)


def test_a_negative_power_drops_its_sample() -> None:
    items = parse_fixture("m1_monterey_text_negative.txt")
    dropped = [i for i in issues(items) if i.action is Action.DROPPED]
    assert [(i.kind, i.line_start, i.line_end, i.rows) for i in dropped] == [
        (IssueKind.NEGATIVE_VALUE, 108, 108, 1)
    ]
    groups = samples(items)
    assert len(groups) == 9
    assert groups[1][0].start_utc == utc(2023, 11, 10, 11, 37, 8, 104810)  # sample 3 after sample 2's time
    assert total_kwh(items) == pytest.approx(total_kwh(parse_fixture(M1)) - kwh(773, 104.81), rel=1e-12)


def test_concatenated_logs_keep_their_machine_and_start_a_new_run() -> None:
    # The M4 Max log (2025) appended to the M1 log (2023): its Machine model line (526) closes the M1 log;
    # its header (line 533) is two years later. A restarted powermetrics (a new header block) is a new
    # run, not a gap in one: time between runs was not being logged, and coverage shows it.
    items = parse_fixture("m1_then_m4max_concatenated.txt")
    assert [i for i in issues(items) if i.kind is IssueKind.GAP] == []
    m4 = [r for r in records(items) if r.line > 525]
    assert m4[0].end_utc == records(parse_fixture(M4))[0].end_utc  # anchored at its own header
    assert {r.device_model for r in m4} == {"Mac16,6"}
    assert {r.device_model for r in records(items) if r.line <= 525} == {"MacBookAir10,1"}
    assert [r.energy_kwh for r in m4] == [r.energy_kwh for r in records(parse_fixture(M4))]
    assert total_kwh(items) == pytest.approx(total_kwh(parse_fixture(M1)) + total_kwh(parse_fixture(M4)))


# -- errors -----------------------------------------------------------------------------------------------


def test_bad_header_names_the_line() -> None:
    path = FIXTURES / "m1_monterey_text_bad_header.txt"
    with pytest.raises(CollectorError, match="unreadable sample header") as caught:
        parse(path)
    assert (caught.value.path, caught.value.line) == (path, 60)
    assert str(caught.value).startswith(f"{path}:60: ")
    assert "Sampled system activity" in caught.value.hint


def test_bad_power_value_names_the_line() -> None:
    path = FIXTURES / "m1_monterey_text_bad_value.txt"
    with pytest.raises(CollectorError, match="unreadable power value") as caught:
        parse(path)
    assert (caught.value.path, caught.value.line) == (path, 55)


def write(tmp: Path, text: str | bytes) -> Path:
    path = tmp / "powermetrics.txt"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


HEADER = "*** Sampled system activity (Fri Nov 10 12:37:08 2023 +0100) (104.51ms elapsed) ***\n"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (HEADER.replace("Fri", "Sat"), "weekday does not match"),
        (HEADER.replace("Nov 10", "Nov 31"), "no such date"),
        (HEADER.replace("12:37:08", "25:37:08"), "no such time"),
        (HEADER.replace("+0100", "+0175"), "no such time"),
        (HEADER.replace("Nov 10", "Nov 10 "), "unreadable sample header"),
        (HEADER.replace("104.51ms", "104,51ms"), "unreadable sample header"),
    ],
)
def test_header_errors(tmp_path: Path, header: str, message: str) -> None:
    path = write(tmp_path, "Machine model: X\n" + header + "CPU Power: 5 mW\n")
    with pytest.raises(CollectorError, match=message) as caught:
        parse(path)
    assert caught.value.line == 2


def test_plist_output_gets_its_own_hint(tmp_path: Path) -> None:
    path = write(tmp_path, '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>\x00')
    with pytest.raises(CollectorError, match="not a powermetrics text log") as caught:
        parse(path)
    assert "-f plist" in caught.value.hint


@pytest.mark.parametrize("content", [b"", b"\n\n", b"CPU Power: 5 mW\n"])
def test_files_without_a_header_are_refused(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(CollectorError, match="not a powermetrics text log"):
        parse(write(tmp_path, content))


def test_undecodable_bytes_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(CollectorError) as caught:
        parse(write(tmp_path, HEADER.encode() + b"CPU Power: \xff mW\n"))
    assert caught.value.line == 2


def test_mixed_intel_and_apple_lines_are_refused(tmp_path: Path) -> None:
    text = HEADER + "Intel energy model derived package power (CPUs+GT+SA): 0.58W\nCPU Power: 5 mW\n"
    with pytest.raises(CollectorError, match="both the Intel package power line") as caught:
        parse(write(tmp_path, text))
    assert caught.value.line == 2


# -- small synthetic logs for rules the real files do not exercise -------------------------------------


def test_watt_values_and_crlf_line_ends(tmp_path: Path) -> None:
    text = HEADER + "CPU Power: 1.5 W\r\nGPU Power: .25W\r\nANE Power: 0 mW\r\n"
    found = by_component(records(parse(write(tmp_path, text.replace("***\n", "***\r\n")))))
    assert found[Component.CPU].energy_kwh == pytest.approx(kwh(1500, 104.51), rel=1e-12)
    assert found[Component.GPU].energy_kwh == pytest.approx(kwh(250, 104.51), rel=1e-12)


def test_crlf_copy_of_a_real_log_gives_the_same_records(tmp_path: Path) -> None:
    crlf = (FIXTURES / M4).read_bytes().replace(b"\n", b"\r\n")
    assert records(parse(write(tmp_path, crlf))) == records(parse_fixture(M4))


def test_a_lone_combined_line_is_no_power_data(tmp_path: Path) -> None:
    items = parse(write(tmp_path, HEADER + "Combined Power (CPU + GPU + ANE): 89 mW\n"))
    (issue,) = issues(items)
    assert (issue.kind, issue.action, issue.rows) == (IssueKind.NO_POWER_DATA, Action.NOT_BRIDGED, 1)
    assert "Combined Power line alone" in issue.detail
    assert records(items) == []


def test_package_equal_to_its_parts_gives_a_zero_residual(tmp_path: Path) -> None:
    text = (
        HEADER
        + "ANE Power: 0 mW\nDRAM Power: 37 mW\nCPU Power: 102 mW\nGPU Power: 9 mW\nPackage Power: 148 mW\n"
    )
    items = parse(write(tmp_path, text))
    assert issues(items) == []
    assert by_component(records(items))[Component.SOC_OTHER].energy_kwh == 0.0


# -- properties -------------------------------------------------------------------------------------------

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def c_date(moment: datetime) -> str:
    """``date`` in the C locale: %a %b %e %H:%M:%S %Y %z (day padded with a space)."""
    return (
        f"{WEEKDAYS[moment.weekday()]} {MONTHS[moment.month - 1]} {moment.day:2d} "
        f"{moment:%H:%M:%S} {moment.year} {moment:%z}"
    )


Powers = tuple[int, int, int, int, int]  # CPU, GPU, ANE, DRAM, Package in mW


def write_log(
    *, model: str, first_end_us: int, offset_min: int, run: list[tuple[int, Powers]]
) -> tuple[str, int]:
    """A log as powermetrics writes it: the header shows each sample's true end, truncated to the second.

    ``run`` holds (elapsed in units of 10 us, powers). Returns the text and the true end of the last sample.
    """
    zone = timezone(timedelta(minutes=offset_min))
    parts = [f"Machine model: {model}\nOS version: 21G115\nBoot arguments: \nBoot time: x\n\n\n\n"]
    end_us = first_end_us
    for i, (elapsed_10us, (cpu, gpu, ane, dram, package)) in enumerate(run):
        if i:
            end_us += elapsed_10us * 10
        shown = (EPOCH + timedelta(seconds=end_us // 1_000_000)).astimezone(zone)
        parts.append(
            f"*** Sampled system activity ({c_date(shown)}) ({elapsed_10us / 100:.2f}ms elapsed) ***\n\n\n"
            f"**** Processor usage ****\n\nE-Cluster Power: {cpu // 2} mW\nCPU 0 frequency: 1392 MHz\n\n"
            f"ANE Power: {ane} mW\nDRAM Power: {dram} mW\nCPU Power: {cpu} mW\nGPU Power: {gpu} mW\n"
            f"Package Power: {package} mW\n\n\n"
        )
    return "".join(parts), end_us


def parse_text(text: str | bytes) -> list[Item]:
    with tempfile.TemporaryDirectory() as tmp:
        return parse(write(Path(tmp), text))


power_mw = st.integers(min_value=0, max_value=200_000)
sample_runs = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=2_000_000),
        st.tuples(power_mw, power_mw, power_mw, power_mw, power_mw),
    ),
    min_size=1,
    max_size=6,
)
first_ends = st.integers(min_value=946_684_800 * 10**6, max_value=2_524_608_000 * 10**6)  # 2000-2050
offsets = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda quarter: quarter * 15)


@settings(max_examples=60, deadline=None)
@given(
    first=sample_runs,
    second=sample_runs,
    start_us=first_ends,
    pause_us=st.integers(min_value=0, max_value=10**10),
    offset_a=offsets,
    offset_b=offsets,
)
def test_concatenated_logs_integrate_to_the_sum_of_their_parts(
    first: list[tuple[int, Powers]],
    second: list[tuple[int, Powers]],
    start_us: int,
    pause_us: int,
    offset_a: int,
    offset_b: int,
) -> None:
    log_a, end_a = write_log(model="MacBookAir10,1", first_end_us=start_us, offset_min=offset_a, run=first)
    log_b, _ = write_log(
        model="Mac16,6", first_end_us=end_a + pause_us + second[0][0] * 10, offset_min=offset_b, run=second
    )
    alone_a, alone_b, both = parse_text(log_a), parse_text(log_b), parse_text(log_a + log_b)
    assert not [i for i in issues(alone_a) + issues(alone_b) if i.action is Action.DROPPED]
    assert not [i for i in issues(both) if i.action is Action.DROPPED]
    assert total_kwh(both) == pytest.approx(total_kwh(alone_a) + total_kwh(alone_b), rel=1e-12, abs=1e-300)
    assert len(records(both)) == len(records(alone_a)) + len(records(alone_b))
    # Each log alone is contiguous; the two chains never overlap when joined.
    groups = samples(both)
    for before, after in itertools.pairwise(groups):
        assert after[0].start_utc >= before[0].end_utc


@settings(max_examples=40, deadline=None)
@given(factor=st.integers(min_value=0, max_value=1_000_000))
def test_energy_scales_linearly_with_the_milliwatts(factor: int) -> None:
    text = (FIXTURES / M1).read_text(encoding="utf-8")
    scaled = re.sub(
        r"^((?:ANE|DRAM|CPU|GPU|Package) Power: )(\d+)( mW)$",
        lambda m: f"{m[1]}{int(m[2]) * factor}{m[3]}",
        text,
        flags=re.M,
    )
    base, items = parse_text(text), parse_text(scaled)
    assert [(r.start_utc, r.end_utc) for r in samples(items)[0]] == [
        (r.start_utc, r.end_utc) for r in samples(base)[0]
    ]
    for component in Component:
        expected = math.fsum(r.energy_kwh or 0.0 for r in records(base) if r.component is component)
        got = math.fsum(r.energy_kwh or 0.0 for r in records(items) if r.component is component)
        assert got == pytest.approx(factor * expected, rel=1e-12, abs=1e-300)


REAL_LINES = sorted(
    {
        line
        for name in (M1, M4, M2, INTEL)
        for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    }
)
REAL_HEADERS = [line for line in REAL_LINES if line.startswith("*** Sampled")] + [INTEL_HEADER.rstrip("\n")]
REAL_POWER = [line for line in REAL_LINES if re.match(r"^(CPU|GPU|ANE|DRAM|Package|Combined|Intel) ", line)]
REAL_SAMPLES = [  # whole samples, header to last line
    "*** Sampled" + block.rstrip("\n")
    for name in (M1, M4, "intel_mavericks_text_wrapped.txt")
    for block in (FIXTURES / name).read_text(encoding="utf-8").split("*** Sampled")[1:]
]
fragments = st.one_of(
    st.sampled_from(REAL_SAMPLES),
    st.sampled_from(REAL_HEADERS),
    st.sampled_from(REAL_POWER),
    st.sampled_from(REAL_LINES),
    st.sampled_from(["Machine model: Mac16,6", ""]),
    st.builds(
        lambda line, at, junk: line[:at] + junk + line[at:],
        st.sampled_from([*REAL_HEADERS, *REAL_POWER]),
        st.integers(min_value=0, max_value=90),
        st.text(max_size=4),
    ),
    st.text(max_size=30),
)
GZIP_MAGIC = b"\x1f\x8b"
line_ends = st.sampled_from(["\n", "\r\n", "\r"])


def check_items(items: list[Item], data: bytes) -> None:
    """What any parse must satisfy: typed items, sane numbers, lines inside the file, time moving forward."""
    lines = data.count(b"\n") + 1
    previous_end: datetime | None = None
    for item in items:
        if isinstance(item, Record):
            assert item.energy_kwh is not None
            assert item.energy_kwh >= 0.0
            assert math.isfinite(item.energy_kwh)
            assert 1 <= item.line <= lines
            assert item.start_utc.utcoffset() == timedelta(0)
            if previous_end is not None and item.end_utc != previous_end:
                assert item.start_utc >= previous_end
            previous_end = item.end_utc
        else:
            assert isinstance(item, QualityIssue)
            assert 1 <= item.line_start <= item.line_end <= lines
            assert item.rows >= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.lists(fragments, max_size=40).map(lambda ls: "\n".join(ls).encode()),
        st.binary(max_size=200).map(lambda b: GZIP_MAGIC + b),  # looks compressed, is not
        st.lists(fragments, max_size=20).map(lambda ls: gzip.compress("\n".join(ls).encode())),
    )
)
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    failure: CollectorError | None = None
    try:
        items = parse_text(data)
    except CollectorError as error:
        failure = error
    if failure is not None:
        assert failure.path.name == "powermetrics.txt"
        assert failure.message
    else:
        text = gzip.decompress(data) if data.startswith(GZIP_MAGIC) else data  # read as the collector did
        check_items(items, text)
