"""turbostat output (TAB- or space-separated) -> measured package, DRAM (or core, GPU) energy.

The format, the integration rule and every finding are in ``docs/formats/turbostat.md``. In short: each
block is a header line and one row per CPU; only the system summary row (``-`` in Package/Core/CPU) is
read, or, without one, the package-scoped cells of the first CPU of each package. ``PkgWatt`` (+
``RAMWatt``) is counted when present; ``CorWatt`` and ``GFXWatt`` lie inside the package and are counted
only when there is no package column. ``*Watt`` is the average over the interval: energy = W x interval;
``--Joules`` columns (``Pkg_J``...) are the interval's energy.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from collectors._runs import Runs, series_start
from collectors.base import SourceContext, cut_last_line, head_text, numbered_lines
from sci.model import Action, Component, IssueKind, Item, QualityIssue, Record, Tier
from sci.units import J_PER_KWH

TOPOLOGY = ("Package", "Die", "Node", "Core", "CPU")
POWER = {  # column -> (component, is energy in J)
    "PkgWatt": (Component.PACKAGE, False),
    "Pkg_J": (Component.PACKAGE, True),
    "CorWatt": (Component.CPU, False),
    "Cor_J": (Component.CPU, True),
    "GFXWatt": (Component.GPU, False),
    "GFX_J": (Component.GPU, True),
    "RAMWatt": (Component.DRAM, False),
    "RAM_J": (Component.DRAM, True),
}
TIME_COLUMN = "Time_Of_Day_Seconds"
_TELLING = frozenset({"Avg_MHz", "Busy%", "Bzy_MHz", "TSC_MHz", TIME_COLUMN, *POWER})
_KNOWN = frozenset({*_TELLING, *TOPOLOGY, "PKG_%", "RAM_%", "IPC", "IRQ", "SMI", "PkgTmp", "CoreTmp"})
_INSIDE_PACKAGE = ("CorWatt", "Cor_J", "GFXWatt", "GFX_J")
_OPTIONS_HINT = (
    'set interval_s (the --interval, default 5) and start = "2026-10-01T09:00:00+02:00" (when turbostat '
    "started) on this source, or log with --enable Time_Of_Day_Seconds"
)


def _cells(text: str) -> list[str]:
    line = text.rstrip()
    return [c.strip() for c in line.split("\t")] if "\t" in line else line.split()


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _split_glued(cell: str) -> list[str]:
    """``GFXWattRAMWatt`` (a TAB missing in some turbostat versions) -> ``["GFXWatt", "RAMWatt"]``."""
    for cut in range(1, len(cell)):
        if cell[:cut] in _KNOWN and cell[cut:] in _KNOWN:
            return [cell[:cut], cell[cut:]]
    return [cell]


def header_cells(text: str) -> list[str] | None:
    """The column names of a header line, or None when ``text`` is not one."""
    cells = _cells(text)
    named = [c for c in cells if c]
    if not named or any(c == "-" or _is_number(c) for c in named):
        return None
    if not (_TELLING & set(named) or {"Core", "CPU"} <= set(named)):
        return None
    return [part for c in cells for part in (_split_glued(c) if c not in _KNOWN else [c])]


@dataclass(frozen=True, slots=True)
class _Header:
    columns: list[str]
    topology: list[int]
    power: dict[str, int]  # counted columns -> position
    time: int  # -1: no Time_Of_Day_Seconds
    package: int  # -1: no Package column


def _layout(columns: list[str]) -> _Header:
    where = {name: i for i, name in enumerate(columns) if name}
    has_package = any(name in where for name in ("PkgWatt", "Pkg_J"))
    counted = {
        name: where[name]
        for name, (component, _) in POWER.items()
        if name in where and (not has_package or component in (Component.PACKAGE, Component.DRAM))
    }
    return _Header(
        columns=columns,
        topology=[where[name] for name in TOPOLOGY if name in where],
        power=counted,
        time=where.get(TIME_COLUMN, -1),
        package=where.get("Package", -1),
    )


def _cell(cells: Sequence[str], index: int) -> str | None:
    if index < 0 or index >= len(cells) or not cells[index]:
        return None
    return cells[index]


class Turbostat:
    """Collector for turbostat's periodic output (``turbostat --interval N --out FILE``)."""

    name: ClassVar[str] = "turbostat"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = False
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {
        "interval_s": (float, "turbostat's --interval in s: required without Time_Of_Day_Seconds"),
        "start": (
            str,
            "ISO 8601 time with offset when turbostat started: required without Time_Of_Day_Seconds",
        ),
    }

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """A header line naming turbostat columns (Avg_MHz, Busy%, PkgWatt, CorWatt...) and more than one."""
        for line in head_text(head).splitlines()[:200]:
            columns = header_cells(line)
            if columns is not None and len(_TELLING & set(columns)) >= 2:
                return True
        return False

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        yield from _Parser(ctx).run()


class _Parser:
    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.interval = self._interval(ctx.options.get("interval_s"))
        self.start = self._start(ctx.options.get("start"))
        self.runs = Runs(ctx.device)
        self.anchor: datetime | None = None
        self.readings = 0
        self.starts: list[tuple[int, str]] = []
        self.noted: set[str] = set()

    def _interval(self, value: Any) -> timedelta | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e6:
            raise self.ctx.error(
                None, f"option interval_s must be a positive number, got {value!r}", _OPTIONS_HINT
            )
        return timedelta(seconds=float(value))

    def _start(self, value: Any) -> datetime | None:
        if value is None:
            return None
        try:
            start = datetime.fromisoformat(str(value))
        except ValueError:
            start = None
        if start is None or start.tzinfo is None:
            raise self.ctx.error(
                None, f"option start must be an ISO 8601 time with a UTC offset, got {value!r}", _OPTIONS_HINT
            )
        return start.astimezone(UTC)

    def run(self) -> Iterator[Item]:
        header: _Header | None = None
        block: list[tuple[int, list[str]]] = []
        orphans: list[int] = []
        with numbered_lines(self.ctx) as lines:
            for number, text, ended in lines:
                columns = header_cells(text)
                if columns is not None:
                    if header is not None:
                        yield from self._block(header, block)
                    header, block = self._header(columns, text, number), []
                    yield from self._noted(columns, text, number)
                    continue
                cells = _cells(text)
                first = next((c for c in cells if c), "")
                if not first:
                    continue
                if not ended:
                    yield cut_last_line(self.ctx, number)
                    break
                if not (first == "-" or first[0].isdigit()):
                    if header is not None:
                        detail = "not a turbostat row (stderr interleaved?): the line is skipped"
                        yield from self.runs.note(
                            IssueKind.MALFORMED_ROW, Action.DROPPED, detail, number, key="noise"
                        )
                    continue  # before the first header: the system-configuration dump
                if header is None:
                    orphans.append(number)
                    continue
                block.append((number, cells))
        if header is not None:
            yield from self._block(header, block)
        elif not orphans:
            raise self.ctx.error(1, "no turbostat header line", "log turbostat's own output, header included")
        yield from self._finish(orphans)

    def _header(self, columns: list[str], text: str, number: int) -> _Header:
        header = _layout(columns)
        if not header.power:
            raise self.ctx.error(
                number,
                "the header has no power column (PkgWatt, CorWatt, GFXWatt, RAMWatt or their _J forms)",
                "run turbostat with power columns shown, e.g. --show PkgWatt,RAMWatt,Time_Of_Day_Seconds",
            )
        if header.time < 0 and (self.interval is None or self.start is None):
            raise self.ctx.error(
                number, f"no {TIME_COLUMN} column, and interval_s or start is not set", _OPTIONS_HINT
            )
        return header

    def _noted(self, columns: list[str], text: str, number: int) -> Iterator[QualityIssue]:
        glued = [c for c in _cells(text) if c and c not in _KNOWN and len(_split_glued(c)) == 2]
        inside = [c for c in _INSIDE_PACKAGE if c in columns and ("PkgWatt" in columns or "Pkg_J" in columns)]
        for key, kind, action, detail in (
            (
                "glued",
                IssueKind.MALFORMED_ROW,
                Action.KEPT,
                f"header cells {', '.join(glued)} read as two "
                "columns each (a TAB missing in the header, a known turbostat glitch)",
            ),
            (
                "inside",
                IssueKind.OVERLAP,
                Action.DROPPED,
                f"{', '.join(inside)} inside the package column: not "
                "counted beside it (E uses the package and RAM columns)",
            ),
        ):
            if (glued if key == "glued" else inside) and key not in self.noted:
                self.noted.add(key)
                yield QualityIssue(kind, action, number, number, 1, detail, self.ctx.device)

    def _block(self, header: _Header, block: list[tuple[int, list[str]]]) -> Iterator[Item]:
        if not block:
            return
        if not header.topology:  # --Summary or no topology columns: every row is the system
            for number, cells in block:
                yield from self._reading(
                    header, number, cells, {n: _cell(cells, i) for n, i in header.power.items()}
                )
            return
        summary = [(n, c) for n, c in block if all(_cell(c, i) == "-" for i in header.topology)]
        if summary:
            number, cells = summary[0]
            yield from self._reading(
                header, number, cells, {n: _cell(cells, i) for n, i in header.power.items()}
            )
            return
        yield from self._per_package(header, block)

    def _per_package(self, header: _Header, block: list[tuple[int, list[str]]]) -> Iterator[Item]:
        """No summary row (--cpu lists): package columns summed over the first CPU of each package."""
        totals: dict[str, str | None] = {}
        seen: dict[str, set[str]] = {name: set() for name in header.power}
        for _, cells in block:
            for name, index in header.power.items():
                value = _cell(cells, index)
                package = _cell(cells, header.package) or str(len(seen[name]))
                if value is None or package in seen[name]:
                    continue
                seen[name].add(package)
                try:
                    total = float(totals.get(name) or 0.0) + float(value)
                except ValueError:
                    total = math.nan
                totals[name] = repr(total)
        number, cells = block[0]
        yield from self._reading(header, number, cells, {n: totals.get(n) for n in header.power})

    def _time(self, header: _Header, number: int, cells: list[str]) -> datetime:
        if header.time < 0:
            assert self.start is not None
            assert self.interval is not None
            return self.start + self.interval * (self.readings + 1)
        stamp = _cell(cells, header.time)
        try:
            return datetime.fromtimestamp(float(stamp or ""), tz=UTC)
        except (ValueError, OverflowError, OSError):
            raise self.ctx.error(
                number, f"cannot read {TIME_COLUMN} {stamp!r}", "it is epoch seconds, e.g. 1790000000.123456"
            ) from None

    def _reading(
        self, header: _Header, number: int, cells: list[str], values: dict[str, str | None]
    ) -> Iterator[Item]:
        end = self._time(header, number, cells)
        self.readings += 1
        begin = self.anchor
        if begin is None and self.interval is not None:
            begin = end - self.interval
        if begin is None:
            self.anchor = end
            self.starts.append((number, "turbostat"))
            return
        step_s = (end - begin).total_seconds()
        if step_s <= 0:
            detail = f"{TIME_COLUMN} not after the previous reading: the reading is dropped"
            yield from self.runs.note(IssueKind.NON_MONOTONIC, Action.DROPPED, detail, number, key="time")
            return
        self.anchor = end
        if header.time >= 0 and self.ctx.max_gap_s < step_s:
            detail = (
                f"readings more than max_gap_s = {self.ctx.max_gap_s:g} s apart: "
                "the time between is not covered"
            )
            yield from self.runs.note(
                IssueKind.GAP, Action.NOT_BRIDGED, detail, number, seconds=step_s, key="time"
            )
            return
        yield from self.runs.close("time")
        for name, value in values.items():
            yield from self._record(name, value, begin, end, number)

    def _record(
        self, name: str, value: str | None, begin: datetime, end: datetime, number: int
    ) -> Iterator[Item]:
        component, joules = POWER[name]
        step_s = (end - begin).total_seconds()
        if value is None:
            detail = f"{name} is empty on the summary row: the interval is dropped, never counted as 0"
            yield from self.runs.note(
                IssueKind.MISSING_VALUE, Action.DROPPED, detail, number, seconds=step_s, key=name
            )
            return
        try:
            amount = float(value)
        except ValueError:
            amount = math.nan
        energy_j = amount if joules else amount * step_s
        if not math.isfinite(energy_j):
            detail = f"{name} {value!r} is not a number: the interval is dropped"
            yield from self.runs.note(
                IssueKind.MALFORMED_ROW, Action.DROPPED, detail, number, seconds=step_s, key=name
            )
            return
        yield from self.runs.close(name)
        yield Record(
            device=self.ctx.device,
            component=component,
            start_utc=begin,
            end_utc=end,
            tier=Tier.MEASURED,
            method=f"turbostat/{name}",
            line=number,
            energy_kwh=energy_j / J_PER_KWH,
        )

    def _finish(self, orphans: list[int]) -> Iterator[QualityIssue]:
        yield from self.runs.close_all()
        if orphans:
            yield QualityIssue(
                IssueKind.ORPHAN_LINES,
                Action.DROPPED,
                orphans[0],
                orphans[-1],
                len(orphans),
                "rows before the first header line (a cut log): their columns are unknown, not read",
                self.ctx.device,
            )
        issue = series_start(self.ctx.device, self.starts, "log (set interval_s to count the first block)")
        if issue is not None:
            yield issue


__all__ = ["POWER", "Turbostat", "header_cells"]
