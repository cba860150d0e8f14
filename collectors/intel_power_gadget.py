"""Intel Power Gadget CSV logs -> measured package and DRAM energy from the cumulative energy columns.

The format and every rule are in ``docs/formats/intel-power-gadget.md``. In short: columns are read by
header name (quoted, left-padded and pandas-indexed layouts alike); ``Cumulative Processor Energy_N
(Joules)`` is package N, ``Cumulative DRAM Energy_N`` is its DRAM; IA (cores) and GT (graphics) lie inside
the package and are not counted. Row *i*'s energy is the cumulative delta since row *i-1*; the first row
covers the time since the log started (``Elapsed Time``). ``System Time`` has no date: the ``date`` option
and the source's ``timezone`` place it, with midnight rollover. The summary footer is checked against the
rows; a file without rows but with a footer gives one record per counter from the footer.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from collectors._localtime import LocalClock, describe
from collectors._runs import Runs
from collectors.base import SourceContext, cut_last_line, head_text, numbered_lines
from sci.model import Action, Component, IssueKind, Item, QualityIssue, Record, Tier
from sci.units import J_PER_KWH

_COUNTER = re.compile(r"Cumulative (Processor|IA|DRAM|GT) Energy_(\d+) ?\(Joules\)")
_ELAPSED = re.compile(r"Total Elapsed Time \(sec\)")
_TIME = re.compile(r"(\d{1,2}):(\d{2}):(\d{2}):(\d{3})")
_COUNTED = {"Processor": (Component.PACKAGE, "processor"), "DRAM": (Component.DRAM, "dram")}
FOOTER_TOLERANCE_J = 0.01
"""Footer and rows may differ by print rounding and the last partial interval; beyond this (and 1 %)
the difference is reported."""

_DATE_HINT = 'set date = "2026-10-01" on this source: the day the log started (System Time has no date)'


def _method(kind: str, package: int) -> str:
    suffix = "" if package == 0 else f"_{package}"
    return f"ipg/cumulative-{_COUNTED[kind][1]}-energy{suffix}"


def _cells(text: str) -> list[str]:
    return [cell.strip() for cell in next(csv.reader([text]))]


@dataclass(slots=True)
class _Counter:
    kind: str
    package: int
    column: int
    last: float | None = None
    total_j: float = 0.0


class IntelPowerGadget:
    """Collector for Intel Power Gadget's CSV log (``PowerLog*.csv``)."""

    name: ClassVar[str] = "intel-power-gadget"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = True
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {
        "date": (str, "YYYY-MM-DD: the local date of the first row (System Time has no date)"),
    }

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """The header naming ``System Time``, ``RDTSC`` and ``Elapsed Time (sec)`` in this order."""
        for line in head_text(head).splitlines()[:5]:
            if re.search(r'System Time"?\s*,\s*"?RDTSC"?\s*,\s*"?Elapsed Time \(sec\)', line):
                return True
        return False

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        yield from _Parser(ctx).run()


class _Parser:
    def __init__(self, ctx: SourceContext) -> None:
        if ctx.timezone is None:
            raise ctx.error(
                None,
                "Intel Power Gadget's System Time is local time without a zone, and no timezone is set",
                'set timezone = "Area/City" on this source in sci.toml (the zone of the machine that logged)',
            )
        self.ctx = ctx
        self.day = self._date(ctx.options.get("date"))
        self.clock = LocalClock(ctx.timezone)
        self.runs = Runs(ctx.device)
        self.counters: list[_Counter] = []
        self.footer: dict[str, float] = {}
        self.first: tuple[datetime, float, int] | None = None  # first row: UTC, elapsed s, line
        self.anchor: tuple[datetime, datetime, float] | None = None  # wall, UTC, elapsed of the last row
        self.elapsed_last = 0.0
        self.rows = 0

    def _date(self, value: Any) -> date:
        if value is None:
            raise self.ctx.error(None, "no date: Intel Power Gadget's System Time has no date", _DATE_HINT)
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.ctx.error(None, f"option date {value!r} is not YYYY-MM-DD", _DATE_HINT) from None

    def run(self) -> Iterator[Item]:
        columns: dict[str, int] | None = None
        cut = False
        with numbered_lines(self.ctx) as lines:
            for number, text, ended in lines:
                if not text.strip():
                    continue
                try:
                    cells = _cells(text)
                except csv.Error:
                    raise self.ctx.error(
                        number, "cannot read this line as CSV", "check that the file is not damaged"
                    ) from None
                if len(cells) == 1 and "=" in cells[0]:
                    self._footer(cells[0], number)
                    continue
                if columns is None:
                    columns = self._header(cells, number)
                    yield from self._inside(cells, number)
                    continue
                if not ended:
                    yield cut_last_line(self.ctx, number)
                    cut = True
                    break
                if self.footer:
                    raise self.ctx.error(number, "a data row after the summary footer", "one log per file")
                yield from self._row(cells, columns, number)
        if columns is None:
            raise self.ctx.error(
                1, "no header line with System Time", "this is not an Intel Power Gadget log"
            )
        yield from self.runs.close_all()
        yield from self._end(cut)

    def _header(self, cells: list[str], number: int) -> dict[str, int]:
        where = {name: i for i, name in enumerate(cells) if name}
        if "System Time" not in where or "Elapsed Time (sec)" not in where:
            raise self.ctx.error(
                number,
                "the first line is not the header (System Time, RDTSC, Elapsed Time (sec), ...)",
                "this is not an Intel Power Gadget log",
            )
        for name, i in where.items():
            match = _COUNTER.fullmatch(name)
            if match and match[1] in _COUNTED:
                self.counters.append(_Counter(match[1], int(match[2]), i))
        return where

    def _inside(self, cells: list[str], number: int) -> Iterator[QualityIssue]:
        inside = [c for c in cells if (m := _COUNTER.fullmatch(c)) and m[1] not in _COUNTED]
        if inside:
            yield QualityIssue(
                IssueKind.OVERLAP,
                Action.DROPPED,
                number,
                number,
                1,
                f"{', '.join(inside)}: IA (cores) and GT (graphics) lie inside the processor package, not "
                "counted beside it",
                self.ctx.device,
            )

    def _footer(self, entry: str, number: int) -> None:
        key, _, value = entry.partition("=")
        try:
            self.footer[key.strip()] = float(value)
        except ValueError:
            raise self.ctx.error(
                number,
                f"footer value {value.strip()!r} is not a number",
                "check that the file is not damaged",
            ) from None

    def _wall(self, text: str, number: int) -> datetime:
        match = _TIME.fullmatch(text)
        try:
            hour, minute, second, milli = (int(g) for g in (match.groups() if match else ("x",) * 4))
            wall = datetime(self.day.year, self.day.month, self.day.day, hour, minute, second, milli * 1000)  # noqa: DTZ001 - local wall time, resolved below
        except ValueError:
            raise self.ctx.error(number, f"cannot read System Time {text!r}", "it is HH:MM:SS:mmm") from None
        if self.anchor is not None:
            while wall < self.anchor[0] - timedelta(hours=12):  # past midnight
                wall += timedelta(days=1)
        return wall

    def _number(self, cells: list[str], index: int, number: int, what: str) -> float:
        try:
            value = float(cells[index])
        except (ValueError, IndexError):
            raise self.ctx.error(
                number,
                f"{what} {cells[index] if index < len(cells) else ''!r} is not a number",
                "check that the file is not damaged",
            ) from None
        if not math.isfinite(value):
            raise self.ctx.error(
                number, f"{what} is not a finite number", "check that the file is not damaged"
            )
        return value

    def _row(self, cells: list[str], columns: dict[str, int], number: int) -> Iterator[Item]:
        if len(cells) < max(columns.values()) + 1:
            raise self.ctx.error(
                number,
                f"{len(cells)} fields where the header has {max(columns.values()) + 1}",
                "check that the file is not damaged",
            )
        wall = self._wall(cells[columns["System Time"]], number)
        elapsed = self._number(cells, columns["Elapsed Time (sec)"], number, "Elapsed Time")
        if self.anchor is not None and wall <= self.anchor[0]:
            yield from self.runs.note(
                IssueKind.NON_MONOTONIC,
                Action.DROPPED,
                "System Time not after the previous row: the row is dropped",
                number,
                key="time",
            )
            return
        utc, flag = self.clock.to_utc(wall)
        if flag is not None:
            yield from self.runs.note(
                IssueKind.AMBIGUOUS_TIME, Action.KEPT, describe(flag, self.clock.zone), number, key="clock"
            )
        begin = self.anchor[1] if self.anchor is not None else utc - timedelta(seconds=max(elapsed, 0.0))
        self.anchor = (wall, utc, elapsed)
        self.elapsed_last = elapsed
        self.rows += 1
        if self.first is None:
            self.first = (utc, elapsed, number)
        yield from self.runs.close("time")
        for counter in self.counters:
            value = self._number(cells, counter.column, number, "a cumulative energy")
            before = 0.0 if counter.last is None else counter.last
            counter.last = value
            if value < before:
                yield from self.runs.note(
                    IssueKind.COUNTER_RESET,
                    Action.DROPPED,
                    "a cumulative energy went down (a new log run?): the interval is dropped",
                    number,
                    key=f"c{counter.column}",
                )
                continue
            counter.total_j += value - before
            yield Record(
                device=self.ctx.device,
                component=_COUNTED[counter.kind][0],
                start_utc=begin,
                end_utc=utc,
                tier=Tier.MEASURED,
                method=_method(counter.kind, counter.package),
                line=number,
                energy_kwh=(value - before) / J_PER_KWH,
            )

    def _end(self, cut: bool) -> Iterator[Item]:
        if not self.footer:
            if self.rows:
                yield QualityIssue(
                    IssueKind.TRUNCATED,
                    Action.KEPT,
                    1,
                    1,
                    1,
                    "no summary footer (the log was stopped before Intel Power Gadget wrote it): "
                    "the rows are counted, the footer check is not possible",
                    self.ctx.device,
                )
            return
        if not self.counters:
            yield from self._from_footer()
            return
        total_s = self.footer.get("Total Elapsed Time (sec)")
        for counter in self.counters:
            key = f"Cumulative {counter.kind} Energy_{counter.package} (Joules)"
            stated = self.footer.get(key)
            if stated is None or cut:
                continue
            if abs(stated - counter.total_j) > max(FOOTER_TOLERANCE_J, 0.01 * abs(stated)):
                yield QualityIssue(
                    IssueKind.MALFORMED_ROW,
                    Action.KEPT,
                    1,
                    1,
                    self.rows,
                    f"the footer's {key} = {stated:g} J but the rows sum to {counter.total_j:g} J "
                    f"(footer {total_s} s, rows {self.elapsed_last:g} s): the rows are counted",
                    self.ctx.device,
                )

    def _from_footer(self) -> Iterator[Item]:
        total_s = self.footer.get("Total Elapsed Time (sec)")
        if self.first is None or total_s is None:
            raise self.ctx.error(
                None,
                "no cumulative energy columns and no rows to place the footer in time",
                "log with the energy columns (Intel Power Gadget writes them by default)",
            )
        utc, elapsed, line = self.first
        start = utc - timedelta(seconds=elapsed)
        for key, value in self.footer.items():
            match = _COUNTER.fullmatch(key)
            if match is None or match[1] not in _COUNTED:
                continue
            yield Record(
                device=self.ctx.device,
                component=_COUNTED[match[1]][0],
                start_utc=start,
                end_utc=start + timedelta(seconds=total_s),
                tier=Tier.MEASURED,
                method=_method(match[1], int(match[2])) + "/footer",
                line=line,
                energy_kwh=value / J_PER_KWH,
            )


__all__ = ["IntelPowerGadget"]
