"""Naive local wall-clock times to tz-aware UTC, with DST folds and gaps resolved by order.

A log that writes local time without an offset is ambiguous twice a year in zones with daylight saving:

- in the autumn *fold* a wall time occurs twice (Europe/Berlin 2026-10-25 02:30 is 00:30 UTC in CEST and
  01:30 UTC in CET);
- in the spring *gap* a wall time never occurs (Europe/Berlin 2026-03-29 02:30 does not exist).

The rule, applied to a log read from top to bottom:

- the last UTC time produced is kept;
- an ambiguous wall time takes its earlier reading (``fold=0``) unless that reading would go back before the
  previous time, then its later reading (``fold=1``). A log crossing the fold therefore reads the first
  pass of 02:00-03:00 as summer time and the second pass as winter time. A timestamp equal to the previous
  one stays on ``fold=0`` (several GPUs share one tick);
- a nonexistent wall time is read with the offset in force before the gap (``fold=0``, as Python does): a
  clock that printed it had not moved forward yet, so the log stays continuous.

Both cases are reported (:class:`TimeFlag`), so the collector can emit ``IssueKind.AMBIGUOUS_TIME`` with
``Action.KEPT``: the rows are counted, but their time rests on this rule.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

_LAST_MICROSECOND = timedelta(minutes=59, seconds=59, microseconds=999_999)


class TimeFlag(StrEnum):
    """Why a converted time is doubtful."""

    AMBIGUOUS = "ambiguous"  # the wall time occurs twice (DST fold); resolved by order
    NONEXISTENT = "nonexistent"  # the wall time is skipped (DST gap); read with the offset before the gap


def resolve(wall: datetime, zone: ZoneInfo, *, previous: datetime | None) -> tuple[datetime, TimeFlag | None]:
    """The UTC time of the naive local ``wall`` time in ``zone``, given the ``previous`` UTC time (or None).

    Raises ``ValueError`` if ``wall`` is not naive, ``OverflowError`` at the ends of the datetime range.
    """
    if wall.tzinfo is not None:
        raise ValueError(f"expected a naive local time, got {wall.isoformat()}")
    offset_0 = wall.replace(tzinfo=zone, fold=0).utcoffset()
    offset_1 = wall.replace(tzinfo=zone, fold=1).utcoffset()
    if offset_0 is None or offset_1 is None:  # pragma: no cover - a ZoneInfo always has an offset
        raise ValueError(f"{zone.key} gives no UTC offset for {wall.isoformat()}")
    utc_0 = (wall - offset_0).replace(tzinfo=UTC)
    if offset_0 == offset_1:
        return utc_0, None
    utc_1 = (wall - offset_1).replace(tzinfo=UTC)
    if utc_0 < utc_1:  # a fold: fold=0 is the earlier of the two instants
        if previous is not None and utc_0 < previous:
            return utc_1, TimeFlag.AMBIGUOUS
        return utc_0, TimeFlag.AMBIGUOUS
    return utc_0, TimeFlag.NONEXISTENT  # a gap: fold=0 reads it with the offset before the transition


def describe(flag: TimeFlag, zone: ZoneInfo) -> str:
    """A one-line explanation of ``flag`` for a data-quality issue."""
    if flag is TimeFlag.AMBIGUOUS:
        return (
            f"local time occurs twice in {zone.key} (daylight-saving fold): read as the first occurrence "
            "unless that goes back in time, then as the second"
        )
    return (
        f"local time does not exist in {zone.key} (daylight-saving gap): read with the UTC offset in force "
        "before the gap"
    )


class LocalClock:
    """Converts the naive local times of one log, in file order, keeping the last UTC time seen.

    ``hour_offset`` lets a hot loop skip the zone lookup: for an hour with a single unambiguous UTC offset
    it returns that offset (cached), so ``UTC = wall - offset``; a caller using it sets ``last_utc`` to the
    time it computed. Hours holding a transition return None and go through :meth:`to_utc`.
    """

    __slots__ = ("_hours", "last_utc", "zone")

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.last_utc: datetime | None = None
        self._hours: dict[tuple[int, int, int, int], timedelta | None] = {}

    def to_utc(self, wall: datetime) -> tuple[datetime, TimeFlag | None]:
        """The UTC time of ``wall`` (naive local time), resolved against the previous time converted."""
        utc, flag = resolve(wall, self.zone, previous=self.last_utc)
        self.last_utc = utc
        return utc, flag

    def hour_offset(self, year: int, month: int, day: int, hour: int) -> timedelta | None:
        """The UTC offset of every wall time in this local hour, or None if the hour holds a transition.

        Raises ``ValueError`` for a date or hour that does not exist in the calendar.
        """
        key = (year, month, day, hour)
        try:
            return self._hours[key]
        except KeyError:
            pass
        start = datetime(year, month, day, hour, tzinfo=self.zone)
        end = start + _LAST_MICROSECOND  # wall-clock arithmetic: same tzinfo, fold=0
        offsets = {
            start.utcoffset(),
            start.replace(fold=1).utcoffset(),
            end.utcoffset(),
            end.replace(fold=1).utcoffset(),
        }
        offset = offsets.pop() if len(offsets) == 1 else None
        self._hours[key] = offset
        return offset
