"""Which source counts when two cover the same device, component and time.

The documented precedence (docs/methodology.md, "No double counting"): measured before provider-reported
before proxy-estimated; among the same tier, the finer source first (the shorter median record); then the
file that covers more time (a full log before a snapshot of it); then the path, so the order is total and
the same on every run. The lower-ranked file's records count only for the part of their interval that no
higher-ranked file covers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sci.model import Tier

TIER_ORDER: Mapping[str, int] = {Tier.MEASURED: 0, Tier.PROVIDER: 1, Tier.PROXY: 2}
RULE = (
    "measured before provider-reported before proxy-estimated, then the finer source (shorter median "
    "record), then the longer span, then the path"
)


def precedence_key(row: Mapping[str, Any]) -> tuple[int, float, float, str]:
    """The sort key of one file within a group: lower counts first."""
    return (
        TIER_ORDER.get(str(row["tier"]), len(TIER_ORDER)),
        float(row["median_s"]),
        -float(row["span_s"]),
        str(row["path"]),
    )


def ranks(candidates: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str, int, int]]:
    """``(platform, device, component, file_id, rank)`` for every file of every overlapping group."""
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in candidates:
        groups[row["platform"], row["device"], row["component"]].append(row)
    ranked = []
    for (platform, device, component), rows in sorted(groups.items()):
        for rank, row in enumerate(sorted(rows, key=precedence_key)):
            ranked.append((platform, device, component, int(row["file_id"]), rank))
    return ranked


def line_ranges(lines: Iterable[int]) -> list[str]:
    """``[3, 4, 5, 9]`` -> ``["3-5", "9"]``."""
    found: list[list[int]] = []
    for line in sorted(set(lines)):
        if found and line == found[-1][1] + 1:
            found[-1][1] = line
        else:
            found.append([line, line])
    return [f"{a}" if a == b else f"{a}-{b}" for a, b in found]
