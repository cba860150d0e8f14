"""IntervalCheck: a file's series start strictly later each record, across batches; device time counted
with or without looking for repeated intervals is the same."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from sci.intervals import IntervalCheck

T0 = datetime(2026, 6, 1)


def _table(rows: list[tuple[str, str, int]]) -> pa.Table:
    return pa.table(
        {
            "device": [d for d, _, _ in rows],
            "component": [c for _, c, _ in rows],
            "start_utc": pa.array([T0 + timedelta(seconds=s) for _, _, s in rows], pa.timestamp("us")),
        }
    )


def _ordered(*batches: list[tuple[str, str, int]]) -> bool:
    check = IntervalCheck()
    for batch in batches:
        check.add(_table(batch))
    return check.ordered


@pytest.mark.parametrize("devices", [2, 19, 70_000])
def test_interleaved_increasing_series_are_ordered(devices: int) -> None:
    rows = [(f"gpu{i % devices}", "gpu", i // devices) for i in range(devices * 5)]
    assert _ordered(rows[:7], rows[7:])
    assert _ordered(
        [*rows, *((f"gpu{d}", "cpu", 0) for d in range(devices))]
    )  # another component: own series


@pytest.mark.parametrize("devices", [2, 19, 70_000])
def test_a_repeat_or_a_step_back_is_not_ordered(devices: int) -> None:
    rows = [(f"gpu{i % devices}", "gpu", i // devices) for i in range(devices * 5)]
    assert not _ordered([*rows, ("gpu1", "gpu", 4)])  # the same start again
    assert not _ordered(rows, [("gpu0", "gpu", 2)])  # back in time in a later batch
    assert not _ordered([("a", "gpu", 3), ("a", "gpu", 1)])
