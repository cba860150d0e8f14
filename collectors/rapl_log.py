"""sci-report's RAPL counter log (CSV) -> measured package and DRAM energy.

The format and every rule are in ``docs/formats/rapl.md``. In short: one row per zone per reading
(``timestamp,zone,name,energy_uj,max_energy_range_uj``); each zone is a series of a cumulative counter; a
reading's interval energy is the counter delta since the zone's previous reading, corrected for a wrap at
``max_energy_range_uj``. Only ``package-N`` top-level zones (package) and ``dram`` zones (dram) are
counted: psys contains the packages and core/uncore lie inside them. ``intel-rapl-mmio:*`` copies of an
``intel-rapl:*`` zone with the same name are dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from collectors._runs import Runs, series_start
from collectors.base import SourceContext, cut_last_line, head_text, numbered_lines
from sci.model import Action, Component, IssueKind, Item, QualityIssue, Record, Tier
from sci.units import J_PER_KWH, UJ_PER_J

HEADER = "timestamp,zone,name,energy_uj,max_energy_range_uj"
MAX_WRAP_POWER_W = 2_000.0
"""A wrapped delta implying more than this (per zone) is not a wrap: the counter was reset (reboot)."""

MMIO_PREFIX = "intel-rapl-mmio:"
_ZONE = re.compile(r"[a-z][a-z-]*(?::[0-9a-f]+)+")
_PACKAGE = re.compile(r"package-[0-9a-f]+")
_ROW_HINT = f"each row is {HEADER.replace(',', ', ')}: epoch seconds, a powercap zone, two whole numbers"


@dataclass(slots=True)
class _Zone:
    """One zone's series: what it counts as, its last reading, and held-back mmio items."""

    zone: str
    name: str
    component: Component | None
    method: str
    anchor: tuple[datetime, int] | None = None
    held: list[Item] | None = None  # an mmio zone's items until we know whether it is a copy
    skipped_rows: int = 0
    skipped_lines: tuple[int, int] = (0, 0)
    duplicate: bool = False


def _classify(zone: str, name: str) -> tuple[Component | None, str]:
    top_level = zone.count(":") == 1
    index = zone.split(":")[1]
    if top_level and _PACKAGE.fullmatch(name):
        return Component.PACKAGE, f"rapl/{name}"
    if name == "dram":
        return Component.DRAM, f"rapl/dram-{index}"
    return None, ""


class RaplLog:
    """Collector for the RAPL counter log written by a powercap shell loop or sci-report's sampler."""

    name: ClassVar[str] = "rapl"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = False
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {}

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """The exact header on the first non-blank line."""
        for line in head_text(head).splitlines():
            if line.strip():
                return line.strip().replace(" ", "") == HEADER
        return False

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        yield from _Parser(ctx).run()


class _Parser:
    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.runs = Runs(ctx.device)
        self.zones: dict[str, _Zone] = {}
        self.names: dict[str, str] = {}  # name -> intel-rapl zone holding it
        self.starts: list[tuple[int, str]] = []

    def run(self) -> Iterator[Item]:
        with numbered_lines(self.ctx) as lines:
            header_seen = False
            for number, text, ended in lines:
                if not text.strip():
                    continue
                if not header_seen:
                    if text.strip().replace(" ", "") != HEADER:
                        raise self.ctx.error(
                            number,
                            f"the first line is not the RAPL log header {HEADER!r}",
                            "write the header first (see docs/formats/rapl.md for the logging loop)",
                        )
                    header_seen = True
                    continue
                if text.strip().replace(" ", "") == HEADER:
                    continue  # an appended run
                if not ended:
                    yield cut_last_line(self.ctx, number)
                    break
                yield from self._row(text, number)
        yield from self._finish()

    def _fields(self, text: str, number: int) -> tuple[datetime, str, str, int | None, int]:
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 5:
            raise self.ctx.error(number, f"{len(parts)} fields where the header has 5", _ROW_HINT)
        stamp, zone, name, energy, top = parts
        try:
            seconds = float(stamp)
            utc = datetime.fromtimestamp(seconds, tz=UTC)
            max_uj = int(top)
            energy_uj = int(energy) if energy else None
        except (ValueError, OverflowError, OSError):
            raise self.ctx.error(number, f"cannot read the row {text.strip()!r}", _ROW_HINT) from None
        if not math.isfinite(seconds) or not _ZONE.fullmatch(zone) or not name or max_uj <= 0:
            raise self.ctx.error(number, f"cannot read the row {text.strip()!r}", _ROW_HINT)
        return utc, zone, name, energy_uj, max_uj

    def _zone(self, zone: str, name: str, number: int) -> _Zone:
        found = self.zones.get(zone)
        if found is not None:
            if found.name != name:
                raise self.ctx.error(
                    number,
                    f"zone {zone} is named {name!r} here and {found.name!r} before",
                    "a log holds one machine; write each machine's readings to its own file",
                )
            return found
        component, method = _classify(zone, name)
        found = self.zones[zone] = _Zone(zone, name, component, method)
        if zone.startswith(MMIO_PREFIX):
            found.held = []
            found.duplicate = name in self.names
        else:
            self.names.setdefault(name, zone)
            for other in self.zones.values():  # an mmio copy seen before its original
                if other.held is not None and other.name == name and not other.duplicate:
                    self._discard(other)
        return found

    def _discard(self, copy: _Zone) -> None:
        """An mmio zone turned out to copy an intel-rapl zone: forget what it held."""
        copy.duplicate = True
        if copy.held is not None:
            copy.held.clear()
        self.runs.close(copy.zone)
        self.starts = [(line, label) for line, label in self.starts if not label.startswith(copy.zone + " ")]

    def _row(self, text: str, number: int) -> Iterator[Item]:
        utc, zone_id, name, energy_uj, max_uj = self._fields(text, number)
        zone = self._zone(zone_id, name, number)
        if zone.component is None or zone.held is not None:
            zone.skipped_lines = (zone.skipped_lines[0] or number, number)
            zone.skipped_rows += 1
        if zone.component is None or zone.duplicate:
            return
        items = self._reading(zone, utc, energy_uj, max_uj, number)
        if zone.held is not None:
            zone.held.extend(items)
            return
        yield from items

    def _reading(
        self, zone: _Zone, utc: datetime, energy_uj: int | None, max_uj: int, number: int
    ) -> Iterator[Item]:
        runs = self.runs
        if energy_uj is None or not 0 <= energy_uj <= max_uj:
            detail = (
                "energy_uj is empty (unreadable: see CVE-2020-8694 in docs/formats/rapl.md): the reading "
                "is skipped, the next one covers its time"
                if energy_uj is None
                else "energy_uj is outside 0..max_energy_range_uj: the reading is skipped"
            )
            kind = IssueKind.MISSING_VALUE if energy_uj is None else IssueKind.MALFORMED_ROW
            yield from runs.note(kind, Action.DROPPED, detail, number, key=zone.zone)
            return
        if zone.anchor is None:
            zone.anchor = (utc, energy_uj)
            self.starts.append((number, f"{zone.zone} ({zone.name})"))
            return
        before, e1 = zone.anchor
        step_s = (utc - before).total_seconds()
        if step_s <= 0:
            detail = "timestamp not after the zone's previous reading: the reading is dropped"
            yield from runs.note(IssueKind.NON_MONOTONIC, Action.DROPPED, detail, number, key=zone.zone)
            return
        zone.anchor = (utc, energy_uj)
        if step_s > self.ctx.max_gap_s:
            detail = (
                f"readings more than max_gap_s = {self.ctx.max_gap_s:g} s apart: the counter may have "
                "wrapped unseen, the time between is not covered"
            )
            yield from runs.note(
                IssueKind.GAP, Action.NOT_BRIDGED, detail, number, seconds=step_s, key=zone.zone
            )
            return
        delta_uj = energy_uj - e1
        if delta_uj < 0:
            delta_uj = (max_uj - e1) + energy_uj
            if delta_uj / UJ_PER_J / step_s > MAX_WRAP_POWER_W:
                detail = (
                    f"the counter went down and a wrap at {max_uj} uJ would mean over "
                    f"{MAX_WRAP_POWER_W:g} W: reset (reboot, driver reload), the interval is dropped"
                )
                yield from runs.note(
                    IssueKind.COUNTER_RESET, Action.DROPPED, detail, number, seconds=step_s, key=zone.zone
                )
                return
            detail = f"the counter wrapped at max_energy_range_uj = {max_uj}: delta = (max - e1) + e2"
            yield from runs.note(IssueKind.COUNTER_WRAP, Action.KEPT, detail, number, key=zone.zone)
        else:
            yield from runs.close(zone.zone)
        assert zone.component is not None
        yield Record(
            device=self.ctx.device,
            component=zone.component,
            start_utc=before,
            end_utc=utc,
            tier=Tier.MEASURED,
            method=zone.method,
            line=number,
            energy_kwh=delta_uj / UJ_PER_J / J_PER_KWH,
        )

    def _finish(self) -> Iterator[Item]:
        yield from self.runs.close_all()
        for zone in self.zones.values():
            if zone.held is not None and not zone.duplicate:
                yield from zone.held
        for zone in self.zones.values():
            issue = self._skipped(zone)
            if issue is not None:
                yield issue
        issue = series_start(self.ctx.device, self.starts, "zone")
        if issue is not None:
            yield issue

    def _skipped(self, zone: _Zone) -> QualityIssue | None:
        if not zone.skipped_rows or (zone.component is not None and not zone.duplicate):
            return None
        if zone.duplicate:
            original = self.names.get(zone.name, "")
            kind, why = (
                IssueKind.DUPLICATE_ROW,
                f"{zone.zone} ({zone.name}) is a copy of {original} with the same name: not counted twice",
            )
        else:
            kind, why = IssueKind.OVERLAP, _overlap_reason(zone)
        return QualityIssue(
            kind=kind,
            action=Action.DROPPED,
            line_start=zone.skipped_lines[0],
            line_end=zone.skipped_lines[1],
            rows=zone.skipped_rows,
            detail=why,
            device=self.ctx.device,
        )


def _overlap_reason(zone: _Zone) -> str:
    label = f"{zone.zone} ({zone.name})"
    if zone.name == "psys":
        return f"{label} covers the packages and more of the platform: not counted beside package + dram"
    if zone.zone.count(":") > 1:
        return f"{label} lies inside its package zone: not counted (package + dram are)"
    return f"{label} is not a package-N or dram zone: not counted"


__all__ = ["HEADER", "RaplLog"]
