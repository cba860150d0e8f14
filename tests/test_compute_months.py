"""Months by comparison with the window's month ends give every record the month its local start time has,
also across DST changes, and without the overlap join when precedence weighs nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sci.compute import Window
from sci.model import Component, Item, Record, Tier
from sci.store import FileMeta, Store, naive_utc

STEP = timedelta(minutes=15)
WINDOWS = [
    ("Europe/Berlin", "2026-03-01", "2026-05-01"),  # spring forward on 29 March, inside March
    ("Europe/Berlin", "2026-10-01", "2026-12-01"),  # fall back on 25 October
    ("Europe/Berlin", "2027-10-01", "2027-12-01"),  # fall back on 31 October, a day before November
    ("America/Santiago", "2028-03-01", "2028-05-01"),  # the clock runs back at the April boundary
    ("Asia/Kolkata", "2026-01-01", "2026-03-01"),  # half-hour offset
    ("UTC", "2026-01-01", "2026-02-01"),
]


def _window(zone_name: str, first: str, end: str) -> Window:
    zone = ZoneInfo(zone_name)
    start = datetime.fromisoformat(first).replace(tzinfo=zone).astimezone(UTC)
    stop = datetime.fromisoformat(end).replace(tzinfo=zone).astimezone(UTC)
    return Window(start, stop, zone, inferred=False)


def _records(window: Window) -> Iterator[Item]:
    moment, line = window.start, 1
    while moment < window.end:
        yield Record(
            device="node/gpu0",
            component=Component.GPU,
            start_utc=moment,
            end_utc=moment + STEP,
            tier=Tier.MEASURED,
            method="test/gpu",
            line=line,
            energy_kwh=0.001,
        )
        moment, line = moment + STEP, line + 1


@pytest.mark.parametrize(("zone", "first", "end"), WINDOWS)
def test_each_record_counts_in_the_month_of_its_local_start(
    tmp_path: Path, zone: str, first: str, end: str
) -> None:
    window = _window(zone, first, end)
    starts = [r.start_utc for r in _records(window) if isinstance(r, Record)]
    expected = Counter(start.astimezone(window.zone).strftime("%Y-%m") for start in starts)
    meta = FileMeta("a.csv", "0" * 64, 1, "test", "1", "p", "platforms[0].sources[0]", "x")
    params = {"start_utc": naive_utc(window.start), "end_utc": naive_utc(window.end), "platforms": ["p"]}
    with Store(tmp_path / "sci.duckdb") as store:
        store.replace_file(meta, _records(window))
        store.set_overlap_ranks([], **params)
        rows = store.query("energy_by_period", **params, months=window.month_ends())
    assert {r["period"]: r["records"] for r in rows} == dict(expected)
    assert [p for p, _ in window.months()] == sorted(expected)


def test_a_clock_running_back_at_a_month_boundary_converts_each_record() -> None:
    santiago = _window("America/Santiago", "2028-03-01", "2028-05-01")
    assert santiago.month_ends() == [("America/Santiago", None)]
    ends = _window("Europe/Berlin", "2026-03-01", "2026-05-01").month_ends()
    assert ends == [("2026-03", datetime(2026, 3, 31, 22)), ("2026-04", datetime(2026, 4, 30, 22))]
