"""Unit constants. Conversions happen once, at the edge, with exact constants."""

from __future__ import annotations

from typing import Final

J_PER_KWH: Final = 3_600_000.0
MS_PER_S: Final = 1_000.0
MW_PER_W: Final = 1_000.0  # milliwatts in one watt
UW_PER_W: Final = 1_000_000.0  # microwatts in one watt
MJ_PER_J: Final = 1_000.0  # millijoules in one joule
UJ_PER_J: Final = 1_000_000.0  # microjoules in one joule
S_PER_MINUTE: Final = 60.0
# Whole numbers, for the integer microsecond time lines (collectors/_chain.py)
US_PER_S: Final = 1_000_000
NS_PER_US: Final = 1_000
G_PER_KG: Final = 1_000.0
G_PER_TONNE: Final = 1_000_000.0
S_PER_HOUR: Final = 3_600.0
S_PER_DAY: Final = 86_400.0
HOURS_PER_YEAR: Final = 8_760.0  # 365 days: the SCI guide's year
HOURS_PER_MONTH: Final = HOURS_PER_YEAR / 12  # 730 h: the SCI guide's month
DAYS_PER_YEAR: Final = 365.0
