"""Naive local times to UTC: DST folds resolved by order, gaps read with the offset before them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors._localtime import LocalClock, TimeFlag, describe, resolve

BERLIN = ZoneInfo("Europe/Berlin")
# Zones with different DST habits: 1 h shifts in either hemisphere, a 30-minute shift (Lord Howe), "negative"
# DST (Dublin's winter time is the DST period in tzdata), transitions at midnight (Santiago, Havana), none.
ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Europe/Dublin",
    "America/Santiago",
    "America/Havana",
    "Asia/Kolkata",
    "UTC",
]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_plain_time_is_shifted_by_its_offset() -> None:
    assert resolve(datetime(2026, 7, 1, 12, 0), BERLIN, previous=None) == (utc(2026, 7, 1, 10, 0), None)
    assert resolve(datetime(2026, 1, 15, 12, 0), BERLIN, previous=None) == (utc(2026, 1, 15, 11, 0), None)


def test_a_log_crossing_the_fall_back_fold_stays_continuous() -> None:
    # Europe/Berlin 2026-10-25: 03:00 CEST -> 02:00 CET, so 02:00-02:59 happens twice.
    walls = [(1, 30), (2, 0), (2, 30), (2, 0), (2, 30), (3, 0)]
    clock = LocalClock(BERLIN)
    got = [clock.to_utc(datetime(2026, 10, 25, h, m)) for h, m in walls]
    assert [t for t, _ in got] == [
        utc(2026, 10, 24, 23, 30),
        utc(2026, 10, 25, 0, 0),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 1, 0),
        utc(2026, 10, 25, 1, 30),
        utc(2026, 10, 25, 2, 0),
    ]
    amb = TimeFlag.AMBIGUOUS
    assert [flag for _, flag in got] == [None, amb, amb, amb, amb, None]
    assert clock.last_utc == utc(2026, 10, 25, 2, 0)


def test_an_ambiguous_time_without_history_is_the_first_occurrence() -> None:
    assert resolve(datetime(2026, 10, 25, 2, 30), BERLIN, previous=None) == (
        utc(2026, 10, 25, 0, 30),
        TimeFlag.AMBIGUOUS,
    )


def test_an_equal_timestamp_in_the_fold_does_not_jump_an_hour() -> None:
    # Several GPUs share a tick: the second row at the same wall time is the same instant.
    first, _ = resolve(datetime(2026, 10, 25, 2, 15), BERLIN, previous=utc(2026, 10, 25, 0, 10))
    again, flag = resolve(datetime(2026, 10, 25, 2, 15), BERLIN, previous=first)
    assert first == again == utc(2026, 10, 25, 0, 15)
    assert flag is TimeFlag.AMBIGUOUS


def test_a_nonexistent_time_reads_with_the_offset_before_the_gap() -> None:
    # Europe/Berlin 2026-03-29: 02:00 CET -> 03:00 CEST, 02:30 never shows on a correct clock.
    got, flag = resolve(datetime(2026, 3, 29, 2, 30), BERLIN, previous=utc(2026, 3, 29, 0, 59))
    assert (got, flag) == (utc(2026, 3, 29, 1, 30), TimeFlag.NONEXISTENT)
    assert got.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 29, 3, 30)


def test_resolve_wants_a_naive_time() -> None:
    with pytest.raises(ValueError, match="naive"):
        resolve(utc(2026, 1, 1), BERLIN, previous=None)


def test_describe_names_the_zone_and_the_rule() -> None:
    assert "Europe/Berlin" in describe(TimeFlag.AMBIGUOUS, BERLIN)
    assert "twice" in describe(TimeFlag.AMBIGUOUS, BERLIN)
    assert "does not exist" in describe(TimeFlag.NONEXISTENT, BERLIN)


def test_hour_offset_is_none_exactly_for_transition_hours() -> None:
    clock = LocalClock(BERLIN)
    assert clock.hour_offset(2026, 10, 25, 1) == timedelta(hours=2)
    assert clock.hour_offset(2026, 10, 25, 2) is None  # the fold
    assert clock.hour_offset(2026, 10, 25, 3) == timedelta(hours=1)
    assert clock.hour_offset(2026, 3, 29, 2) is None  # the gap
    assert clock.hour_offset(2026, 3, 29, 3) == timedelta(hours=2)
    with pytest.raises(ValueError, match="day"):
        clock.hour_offset(2026, 2, 30, 0)


@pytest.mark.parametrize("zone", ZONES)
def test_hour_offset_over_a_whole_year(zone: str) -> None:
    """Every local hour of 2026, against offsets sampled every 15 minutes in both folds."""
    tz = ZoneInfo(zone)
    clock = LocalClock(tz)
    marks = [timedelta(minutes=m) for m in (0, 15, 30, 45)] + [
        timedelta(minutes=59, seconds=59, microseconds=999_999)
    ]
    hour = datetime(2026, 1, 1)
    transitions = 0
    while hour.year == 2026:
        sampled = {
            (hour + mark).replace(tzinfo=tz, fold=fold).utcoffset() for mark in marks for fold in (0, 1)
        }
        expected = sampled.pop() if len(sampled) == 1 else None
        transitions += expected is None
        assert clock.hour_offset(hour.year, hour.month, hour.day, hour.hour) == expected, hour
        hour += timedelta(hours=1)
    assert transitions == (0 if zone in ("Asia/Kolkata", "UTC") else 2)


walls = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 12, 31))


@given(wall=walls, zone=st.sampled_from(ZONES))
def test_the_hour_cache_agrees_with_full_resolution(wall: datetime, zone: str) -> None:
    """Where ``hour_offset`` gives an offset (the collectors' fast path), there is no doubt to resolve."""
    tz = ZoneInfo(zone)
    offset = LocalClock(tz).hour_offset(wall.year, wall.month, wall.day, wall.hour)
    exact, flag = resolve(wall, tz, previous=None)
    if offset is not None:
        assert flag is None
        assert (wall - offset).replace(tzinfo=UTC) == exact
    else:
        start = wall.replace(minute=0, second=0, microsecond=0)
        flags = {resolve(start + timedelta(minutes=m), tz, previous=None)[1] for m in range(0, 60, 5)}
        flags.add(resolve(start + timedelta(minutes=59, seconds=59), tz, previous=None)[1])
        assert flags != {None}, "an hour marked as holding a transition has no doubtful time"


@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
    ),
    steps=st.lists(st.integers(min_value=0, max_value=29 * 60 * 1_000_000), min_size=1, max_size=80),
)
def test_a_clock_logging_in_local_time_is_read_back_exactly(
    zone: str, start: datetime, steps: list[int]
) -> None:
    """Instants in order, printed as local wall time, come back unchanged when steps are < the fold (30 min).

    This is the rule's promise: the second pass of a fold is recognised because its earlier reading would
    go back before the previous sample. Steps of several hours around a fold cannot be recovered, which is
    why the collectors report every ambiguous row.
    """
    tz = ZoneInfo(zone)
    instants = [start]
    for step in steps:
        instants.append(instants[-1] + timedelta(microseconds=step))
    clock = LocalClock(tz)
    for instant in instants:
        wall = instant.astimezone(tz).replace(tzinfo=None)
        got, flag = clock.to_utc(wall)
        assert got == instant
        assert flag is not TimeFlag.NONEXISTENT  # a real clock never prints a time in a gap
