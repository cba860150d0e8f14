"""The tdp-proxy collector (sci-report's runtime log) against its fixtures, bad input, and properties."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import file_bytes

from collectors.base import SourceContext
from collectors.tdp_proxy import METHOD, TdpProxy
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, QualityIssue, Record, Tier

FIXTURES = Path(__file__).parent / "fixtures" / "tdp_proxy"
BERLIN = ZoneInfo("Europe/Berlin")
EPYC = "AMD EPYC 7763 64-Core Processor"


def ctx_for(path: Path, **kw: Any) -> SourceContext:
    kw.setdefault("device", "ci")
    return SourceContext(path=path, **kw)


def parse(path: Path, **kw: Any) -> tuple[list[Record], list[QualityIssue]]:
    records: list[Record] = []
    issues: list[QualityIssue] = []
    for item in TdpProxy().parse(ctx_for(path, **kw)):
        if isinstance(item, Record):
            records.append(item)
        else:
            issues.append(item)
    return records, issues


def error_of(path: Path, **kw: Any) -> CollectorError:
    with pytest.raises(CollectorError) as caught:
        parse(path, **kw)
    return caught.value


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "jobs.csv"
    path.write_text(text, encoding="utf-8")
    return path


def z(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# -- fixtures --------------------------------------------------------------------------------------------


def test_ci_jobs_hand_computed() -> None:
    records, issues = parse(
        FIXTURES / "ci_jobs_ubuntu_latest.csv", options={"host_threads": 128, "utilisation_pct": 50.0}
    )
    assert issues == []
    assert [(r.line, r.device, r.runtime_s, r.utilisation) for r in records] == [
        (3, "GitHub Actions 12", 158.0, 0.35),  # 07:12:03 -> 07:14:41
        (4, "GitHub Actions 7", 585.0, 0.80),  # 07:12:05 -> 07:21:50
        (5, "GitHub Actions 31", 378.0, 0.65),  # 07:12:09 -> 07:18:27
        (6, "GitHub Actions 12", 382.0, 0.70),  # 09:44:40+02:00 -> 09:51:02+02:00
        (7, "GitHub Actions 3", 2271.0, 0.50),  # 13:02:11 -> 13:40:02, empty cell -> option
        (8, "GitHub Actions 19", 198.0, 0.20),  # 13:02:15 -> 13:05:33
    ]
    offset_row = records[3]
    assert (offset_row.start_utc, offset_row.end_utc) == (z(2026, 10, 5, 7, 44, 40), z(2026, 10, 5, 7, 51, 2))
    for record in records:
        assert record.tier is Tier.PROXY
        assert record.method == METHOD == "tdp-proxy/runtime-csv"
        assert record.component is Component.CPU
        assert record.device_model == EPYC
        assert record.tdp_w is None
        assert record.resource_share == 4 / 128 == 0.03125
        assert record.energy_kwh is None  # the engine computes proxy energy, not the collector
        assert record.runtime_s == record.duration_s


def test_vcpus_without_host_threads_is_an_error_not_the_whole_chip() -> None:
    # Charging a 4-vCPU job the whole 128-thread chip's TDP would overstate it 32 times.
    err = error_of(FIXTURES / "ci_jobs_ubuntu_latest.csv", options={"utilisation_pct": 50.0})
    assert err.line == 3  # the first row (line 1 is a comment, line 2 the header)
    assert "without host_threads" in err.message
    assert "host_threads = 128" in err.hint


def test_without_vcpus_the_share_is_the_whole_chip() -> None:
    path = FIXTURES / "github_jobs_api_example_job.csv"
    records, _ = parse(path, options={"utilisation_pct": 50.0, "device_model": "AMD EPYC 7763"})
    assert {r.resource_share for r in records} == {1.0}


def test_naive_times_need_a_timezone() -> None:
    err = error_of(FIXTURES / "runtime_naive_berlin_dst.csv", options={"tdp_w": 150.0})
    assert err.line == 3
    assert 'set timezone = "Area/City" on this source in sci.toml' in err.hint


def test_naive_times_across_dst_are_resolved_by_order() -> None:
    records, issues = parse(
        FIXTURES / "runtime_naive_berlin_dst.csv", device="batch-1", timezone=BERLIN, options={"tdp_w": 150.0}
    )
    assert [(r.line, r.start_utc, r.end_utc, r.runtime_s) for r in records] == [
        (3, z(2026, 3, 29, 0, 45), z(2026, 3, 29, 0, 55), 600.0),  # 01:45 CET
        (4, z(2026, 3, 29, 1, 30), z(2026, 3, 29, 1, 40), 600.0),  # 02:30 does not exist: read as CET
        (5, z(2026, 3, 29, 1, 45), z(2026, 3, 29, 2, 0), 900.0),  # 03:45-04:00 CEST
        (6, z(2026, 10, 24, 23, 50), z(2026, 10, 25, 0, 20), 1800.0),  # 01:50 CEST - first 02:20
        (7, z(2026, 10, 25, 0, 40), z(2026, 10, 25, 0, 50), 600.0),  # first 02:40
        (8, z(2026, 10, 25, 0, 50), z(2026, 10, 25, 1, 5), 900.0),  # first 02:50 - second 02:05
        (9, z(2026, 10, 25, 1, 10), z(2026, 10, 25, 1, 25), 900.0),  # second 02:10 (after a 02:50 start)
        (10, z(2026, 10, 25, 2, 30), z(2026, 10, 25, 2, 50), 1200.0),  # 03:30 CET
    ]
    assert all(r.device == "batch-1" and r.tdp_w == 150.0 and r.device_model is None for r in records)
    assert [(i.kind, i.action, i.line_start, i.line_end, i.rows) for i in issues] == [
        (IssueKind.AMBIGUOUS_TIME, Action.KEPT, 4, 4, 1),
        (IssueKind.AMBIGUOUS_TIME, Action.KEPT, 6, 9, 4),
    ]
    assert "does not exist" in issues[0].detail
    assert "twice" in issues[1].detail


def test_github_api_example_job_mixes_z_and_offset_times() -> None:
    (record,), issues = parse(
        FIXTURES / "github_jobs_api_example_job.csv", options={"utilisation_pct": 50, "tdp_w": 65}
    )
    assert issues == []
    assert (record.device, record.start_utc, record.end_utc) == (
        "my runner",
        z(2020, 1, 20, 17, 42, 40),
        z(2020, 1, 20, 17, 44, 39),
    )
    assert record.runtime_s == 119.0
    assert (record.utilisation, record.tdp_w, record.resource_share) == (0.5, 65.0, 1.0)


# -- rules -----------------------------------------------------------------------------------------------

HEADER = "start,end,device_model,utilisation_pct\n"


def test_every_row_needs_utilisation(tmp_path: Path) -> None:
    path = write(tmp_path, "start,duration_s,device_model\n2026-10-05T07:12:03Z,60,X\n")
    err = error_of(path)
    assert err.line == 2
    assert "utilisation_pct" in err.hint
    (record,), _ = parse(path, options={"utilisation_pct": 30})
    assert record.utilisation == 0.3


def test_every_row_needs_a_model_or_a_tdp(tmp_path: Path) -> None:
    path = write(tmp_path, "start,duration_s,utilisation_pct\n2026-10-05T07:12:03Z,60,10\n")
    err = error_of(path)
    assert err.line == 2
    assert "device_model" in err.hint
    assert "tdp_w" in err.hint
    (record,), _ = parse(path, options={"device_model": EPYC})
    assert (record.device_model, record.tdp_w) == (EPYC, None)


def test_columns_override_options_and_unknown_columns_are_ignored(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "job,Start,DURATION_S,tdp_w,vcpus,host_threads,device,utilisation_pct,device_model\n"
        'build,2026-10-05T07:12:03Z,60,280,8,160,"runner, 5",,"Intel(R) Xeon(R), 2S"\n',
    )
    (record,), _ = parse(
        path, options={"tdp_w": 1.0, "vcpus": 2, "host_threads": 4, "utilisation_pct": 25, "component": "gpu"}
    )
    assert (record.device, record.device_model, record.tdp_w) == ("runner, 5", "Intel(R) Xeon(R), 2S", 280.0)
    assert record.resource_share == 8 / 160
    assert record.utilisation == 0.25
    assert record.component is Component.GPU


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2026-10-05T07:12:03Z,2026-10-05T07:12:00Z,X,50", "before start"),
        ("2026-10-05T07:12:03Z,2026-10-05T07:12:03Z,X,50", "more than 0 s"),
        ("2026-10-05T07:12:03Z,2026-10-05T07:13:00Z,X,120", "outside 0-100"),
        ("2026-10-05T07:12:03Z,2026-10-05T07:13:00Z,X,-1", "outside 0-100"),
        ("2026-10-05T07:12:03Z,2026-10-05T07:13:00Z,X,lots", "not a number"),
        ("2026-10-05T07:12:03Z,2026-10-05T07:13:00Z,X,nan", "not a number"),
        ("2026-10-05,2026-10-05T07:13:00Z,X,50", "no time of day"),
        ("yesterday 7am,2026-10-05T07:13:00Z,X,50", "ISO 8601"),
        (",2026-10-05T07:13:00Z,X,50", "start is empty"),
        ("2026-10-05T07:12:03Z,,X,50", "neither end nor duration_s"),
        ("2026-10-05T07:12:03Z,2026-10-05T07:13:00Z,X", "3 fields"),
        ('2026-10-05T07:12:03Z,2026-10-05T07:13:00Z,"X,50', "CSV"),
        ("9999-12-31T23:59:59-05:00,9999-12-31T23:59:59-05:00,X,50", "out of range"),
    ],
)
def test_bad_rows_are_errors_naming_the_line(tmp_path: Path, row: str, message: str) -> None:
    err = error_of(write(tmp_path, HEADER + row + "\n"))
    assert err.line == 2
    assert message in err.message
    assert err.hint


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("start,duration_s,tdp_w,utilisation_pct\n2026-10-05T07:12:03Z,-5,100,50\n", "more than 0 s"),
        ("start,duration_s,tdp_w,utilisation_pct\n2026-10-05T07:12:03Z,0,100,50\n", "more than 0 s"),
        ("start,duration_s,tdp_w,utilisation_pct\n2026-10-05T07:12:03Z,1e300,100,50\n", "out of range"),
        ("start,duration_s,tdp_w,utilisation_pct\n2026-10-05T07:12:03Z,60,0,50\n", "positive power"),
        ("start,duration_s,tdp_w,utilisation_pct,vcpus\n2026-10-05T07:12:03Z,60,1,50,0\n", "whole number"),
        ("start,duration_s,tdp_w,utilisation_pct,vcpus\n2026-10-05T07:12:03Z,60,1,50,2.5\n", "whole number"),
        ("start,duration_s,tdp_w,utilisation_pct,vcpus\n2026-10-05T07:12:03Z,60,1,50,200\n", "host_threads"),
        (
            "start,end,duration_s,tdp_w,utilisation_pct\n2026-10-05T07:12:03Z,2026-10-05T07:13:03Z,90,1,50\n",
            "disagrees",
        ),
    ],
)
def test_bad_durations_and_loads_are_errors(tmp_path: Path, text: str, message: str) -> None:
    err = error_of(write(tmp_path, text), options={"host_threads": 128})
    assert err.line == 2
    assert message in err.message


def test_end_and_duration_may_agree_within_a_second(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "start,end,duration_s,tdp_w,utilisation_pct\n2026-10-05T07:12:03Z,2026-10-05T07:13:03Z,60.4,1,50\n",
    )
    (record,), _ = parse(path)
    assert record.runtime_s == 60.0  # end - start; duration_s only cross-checks


def test_header_must_name_start_and_an_end(tmp_path: Path) -> None:
    assert "no start column" in error_of(write(tmp_path, "begin,end\n")).message
    err = error_of(write(tmp_path, "start,stop\n"))
    assert "neither an end nor a duration_s" in err.message
    assert "docs/formats/tdp-proxy.md" in err.hint


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"component": "tpu"}, "component"),
        ({"utilisation_pct": 150}, "utilisation_pct"),
        ({"utilisation_pct": "half"}, "utilisation_pct"),
        ({"tdp_w": -1}, "tdp_w"),
        ({"vcpus": 0}, "vcpus"),
        ({"vcpus": 2.0}, "vcpus"),
        ({"host_threads": True}, "host_threads"),
        ({"vcpus": 8, "host_threads": 4}, "vcpus"),
        ({"device_model": " "}, "device_model"),
    ],
)
def test_options_are_checked(tmp_path: Path, options: dict[str, Any], key: str) -> None:
    err = error_of(write(tmp_path, HEADER), options=options)
    assert err.line is None
    assert key in err.message


def test_a_cut_off_last_line_is_truncated(tmp_path: Path) -> None:
    path = write(
        tmp_path, HEADER + "2026-10-05T07:12:03Z,2026-10-05T07:13:00Z,X,50\n2026-10-05T08:00:00Z,2026-10-0"
    )
    records, issues = parse(path)
    assert [r.line for r in records] == [2]
    assert [(i.kind, i.action, i.line_start, i.rows) for i in issues] == [
        (IssueKind.TRUNCATED, Action.DROPPED, 3, 1)
    ]


def test_repeated_and_changed_headers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "2026-10-05T07:12:03Z,2026-10-05T07:13:03Z,X,50\n"
        + HEADER
        + "2026-10-05T08:00:00Z,2026-10-05T08:01:00Z,X,50\n"
        + "utilisation_pct,duration_s,start,tdp_w\n"
        + "70,30,2026-10-05T09:00:00Z,100\n",
    )
    records, _ = parse(path)
    assert [(r.line, r.runtime_s, r.utilisation) for r in records] == [
        (2, 60.0, 0.5),
        (4, 60.0, 0.5),
        (6, 30.0, 0.7),
    ]
    assert records[2].tdp_w == 100.0


# -- properties ------------------------------------------------------------------------------------------


def _parse_bytes(data: bytes, **kw: Any) -> list[Record | QualityIssue]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "jobs.csv"
        path.write_bytes(data)
        try:
            return list(TdpProxy().parse(ctx_for(path, **kw)))
        except CollectorError:
            return []


@settings(max_examples=300)
@given(data=file_bytes(max_size=500))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    _parse_bytes(data)
    _parse_bytes(data, timezone=BERLIN, options={"utilisation_pct": 50.0, "tdp_w": 100.0})


CELLS = st.sampled_from(
    [
        "2026-10-25T02:30:00",
        "2026-03-29 02:30",
        "2026-10-05T07:12:03Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "2026-10-05",
        "60",
        "-1",
        "0",
        "1e308",
        "nan",
        "50",
        "128",
        "",
        '"',
        "AMD EPYC 7763",
    ]
)


@settings(max_examples=300)
@given(
    header=st.sampled_from(
        [
            "start,end,utilisation_pct,tdp_w",
            "start,duration_s,vcpus,device_model",
            "start,end,duration_s,device",
        ]
    ),
    rows=st.lists(st.lists(CELLS, min_size=1, max_size=4), max_size=6),
)
def test_csv_like_noise_gives_records_or_a_collector_error(header: str, rows: list[list[str]]) -> None:
    text = header + "\n" + "".join(",".join(row) + "\n" for row in rows)
    options = {"utilisation_pct": 50.0, "device_model": "X", "host_threads": 128}
    for item in _parse_bytes(text.encode(), timezone=BERLIN, options=options):
        if isinstance(item, Record):
            assert item.runtime_s is not None
            assert item.runtime_s > 0
            assert item.utilisation is not None
            assert 0.0 <= item.utilisation <= 1.0


@given(
    start=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
    runtime_ms=st.integers(min_value=1, max_value=10 * 86_400_000),
    offset_min=st.integers(min_value=-14 * 60, max_value=14 * 60),
    pct=st.integers(min_value=0, max_value=100),
)
def test_any_offset_gives_the_same_instants(
    start: datetime, runtime_ms: int, offset_min: int, pct: int
) -> None:
    end = start + timedelta(milliseconds=runtime_ms)
    zone = timezone(timedelta(minutes=offset_min))
    text = (
        "start,end,utilisation_pct,tdp_w\n"
        f"{start.astimezone(zone).isoformat()},{end.astimezone(zone).isoformat()},{pct},100\n"
    )
    items = _parse_bytes(text.encode())
    (record,) = items
    assert isinstance(record, Record)
    assert (record.start_utc, record.end_utc) == (start, end)
    assert record.runtime_s == runtime_ms / 1000
    assert record.utilisation == pct / 100
