"""One time line for samples stamped with a coarse end time and an exact duration.

``powermetrics`` (text and plist) stamps each sample with its end time truncated to whole seconds and its
exact elapsed time; CarbonTracker logs each epoch's duration at a whole-second log time. Sample *i* ends at
``prev_end + elapsed`` when that agrees with its stamp within ``tolerance`` (the stamp is truncated),
else at its stamp; it covers ``[end - elapsed, end)``. A start more than ``backwards`` before the previous
end is time going back (the sample is not placed); a start more than ``max_gap_s`` after it is a gap.
Times are integer microseconds since the Unix epoch, so chaining never accumulates float error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sci.units import US_PER_S

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Placed:
    start_us: int
    end_us: int
    gap_s: float | None  # the time since the previous sample's end, when more than max_gap_s


@dataclass(frozen=True, slots=True)
class Back:
    back_s: float  # how far before the previous end the sample would start


def us_of(moment: datetime) -> int:
    """A tz-aware time as integer microseconds since the epoch."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * US_PER_S + delta.microseconds


def utc_of(us: int) -> datetime:
    """Microseconds since the epoch as a tz-aware UTC datetime; ``OverflowError`` out of range."""
    return EPOCH + timedelta(microseconds=us)


class ElapsedChain:
    """Places samples in file order; ``prev_end_us`` is the end of the last sample placed."""

    def __init__(
        self, *, max_gap_s: float, tolerance_us: int = US_PER_S, backwards_us: int = US_PER_S
    ) -> None:
        self.max_gap_us = max_gap_s * US_PER_S
        self.tolerance_us = tolerance_us
        self.backwards_us = backwards_us
        self.prev_end_us: int | None = None

    def place(self, stamp_us: int, elapsed_us: int) -> Placed | Back:
        prev = self.prev_end_us
        if prev is None:
            self.prev_end_us = stamp_us
            return Placed(stamp_us - elapsed_us, stamp_us, None)
        predicted_us = prev + elapsed_us
        end_us = predicted_us if abs(stamp_us - predicted_us) <= self.tolerance_us else stamp_us
        start_us = end_us - elapsed_us
        if start_us < prev - self.backwards_us:
            return Back((prev - start_us) / US_PER_S)
        gap_us = start_us - prev
        self.prev_end_us = end_us
        return Placed(start_us, end_us, gap_us / US_PER_S if gap_us > self.max_gap_us else None)
