"""``nvidia-smi dmon`` logs -> measured GPU energy.

A log is ``#`` header lines (column names, then units) and whitespace-aligned rows, one per GPU per tick;
unsupported metrics are ``-``. The header is re-printed periodically and newer drivers rename and add
columns, so every names line re-maps the columns. ``pwr`` is integer W. Each GPU is a series: sample ``i``
covers ``(t[i-1], t[i]]`` with its power, as for the ``--query-gpu`` CSV collector. Time comes from the
``Date``/``Time`` columns of ``dmon -o DT`` (local time), else from the ``start`` and ``interval_s``
options. Rules and findings: ``docs/formats/nvidia-smi-dmon.md``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final

from collectors._localtime import LocalClock, describe
from collectors._runs import Runs, series_start
from collectors.base import SourceContext, cut_last_line, head_text, numbered_lines
from sci.model import Action, Component, IssueKind, Item, QualityIssue, Record, Tier
from sci.units import J_PER_KWH

METHOD: Final = "nvidia-smi-dmon/pwr"
_SPLIT: Final = re.compile(r"[,\s]+")
_MISSING: Final = "-"
_START_HINT: Final = (
    'this dmon log has no Date and Time columns: set start = "2026-10-01T08:00:00+02:00" (the time of its '
    "first row, with its UTC offset) and interval_s (the dmon -d value, default 1) on this source in "
    "sci.toml, or log with `nvidia-smi dmon -o DT` so that every row carries its time"
)
_VALUE_HINT: Final = (
    "dmon writes whole numbers, or - for an unsupported metric; check that the file is not damaged"
)


def _tokens(text: str) -> list[str]:
    return [t for t in _SPLIT.split(text.strip()) if t]


@dataclass(frozen=True, slots=True)
class _Layout:
    names: tuple[str, ...]
    gpu: int
    pwr: int
    sm: int
    date: int
    time: int

    @property
    def timed(self) -> bool:
        return self.date >= 0 and self.time >= 0


def _layout(names: list[str]) -> _Layout | None:
    lowered = [n.lower() for n in names]
    if "gpu" not in lowered or "pwr" not in lowered:
        return None

    def at(name: str) -> int:
        return lowered.index(name) if name in lowered else -1

    return _Layout(tuple(lowered), at("gpu"), at("pwr"), at("sm"), at("date"), at("time"))


@dataclass(slots=True)
class _Series:
    device: str
    anchor: datetime | None = None
    seq: int = 0


@dataclass(slots=True)
class _Ticks:
    """Synthetic time for logs without Date/Time: tick k is ``start + k * interval_s``."""

    start: datetime
    interval_s: float
    tick: int = -1
    seen: set[str] = field(default_factory=set)

    def time_of(self, gpu: str) -> datetime:
        if self.tick < 0 or gpu in self.seen:  # a GPU already in this tick: the next tick begins
            self.tick += 1
            self.seen = set()
        self.seen.add(gpu)
        return self.start + timedelta(seconds=self.tick * self.interval_s)


class NvidiaSmiDmon:
    """Collector for ``nvidia-smi dmon`` output (``-s p`` at least, so that ``pwr`` is printed)."""

    name: ClassVar[str] = "nvidia-smi-dmon"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = True  # -o DT times are local time without an offset
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {
        "start": (str, "ISO 8601 time with UTC offset of the first row, for logs without -o DT"),
        "interval_s": (float, "seconds between ticks (the dmon -d value), for logs without -o DT; default 1"),
    }

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """The first line is a ``#`` names line with ``gpu`` and ``pwr``."""
        for line in head_text(head).splitlines()[:3]:
            if line.strip():
                return line.startswith("#") and _layout(_tokens(line.lstrip("#"))) is not None
        return False

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        yield from _Parser(ctx).run()


class _Parser:
    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.start, self.interval_s = _options(ctx)
        self.clock = LocalClock(ctx.timezone) if ctx.timezone is not None else None
        self.ticks: _Ticks | None = None
        self.series: dict[str, _Series] = {}
        self.runs = Runs(ctx.device)
        self.starts: list[tuple[int, str]] = []
        self.row_seq = 0

    def run(self) -> Iterator[Item]:
        layout: _Layout | None = None
        rows = 0
        with numbered_lines(self.ctx) as lines:
            for number, text, ended in lines:
                if not text.strip():
                    continue
                if text.startswith("#"):
                    names = _tokens(text.lstrip("#"))
                    header = _layout(names)
                    if header is not None:
                        layout = header
                    elif layout is not None and len(names) == len(layout.names):
                        self._check_units(names, layout, number)
                    continue
                if not ended:
                    yield cut_last_line(self.ctx, number)
                    break
                if layout is None:
                    raise self.ctx.error(
                        number,
                        "a data row before any # header line naming gpu and pwr",
                        "keep the # header lines dmon prints first; log with `nvidia-smi dmon -s pu -o DT`",
                    )
                rows += 1
                yield from self._row(_tokens(text), layout, number)
        if rows == 0 and layout is None:
            raise self.ctx.error(
                1,
                "not an nvidia-smi dmon log: no # header line naming gpu and pwr",
                "log with `nvidia-smi dmon -s pu -o DT > gpu.txt` and keep its # header lines",
            )
        yield from self._finish()

    def _check_units(self, units: list[str], layout: _Layout, number: int) -> None:
        unit = units[layout.pwr]
        if unit != "W":
            raise self.ctx.error(
                number, f"the pwr column is in {unit!r}, not W", "this collector reads dmon's pwr column in W"
            )

    def _note(
        self, kind: IssueKind, action: Action, detail: str, series: _Series, line: int, **kw: Any
    ) -> Iterator[QualityIssue]:
        yield from self.runs.note(
            kind,
            action,
            detail,
            line,
            key=(kind, action, series.device),
            at=series.seq,
            device=series.device,
            any_detail=True,
            **kw,
        )

    def _row(self, tokens: list[str], layout: _Layout, number: int) -> Iterator[Item]:
        if len(tokens) != len(layout.names):
            raise self.ctx.error(
                number,
                f"{len(tokens)} fields where the # header has {len(layout.names)}",
                "each row needs one value per header column; check for a damaged line",
            )
        gpu = tokens[layout.gpu]
        if not (gpu.isascii() and gpu.isdigit() and len(gpu) <= 9):
            raise self.ctx.error(number, f"GPU index {gpu!r} is not a whole number", _VALUE_HINT)
        name = f"{self.ctx.device}/gpu{int(gpu)}"
        series = self.series.get(name)
        if series is None:
            series = self.series[name] = _Series(name)
        series.seq += 1
        self.row_seq += 1
        utc, flagged = self._time(tokens, layout, name, number)
        yield from flagged
        power = _number(tokens[layout.pwr])
        sm = _number(tokens[layout.sm]) if layout.sm >= 0 else None
        if power is False or sm is False:
            raise self.ctx.error(number, "pwr or sm is not a number", _VALUE_HINT)
        anchor = series.anchor
        if anchor is None:
            series.anchor = utc
            self.starts.append((number, name))
            return
        step_s = (utc - anchor).total_seconds()
        if step_s <= 0:
            yield from self._note(
                IssueKind.NON_MONOTONIC,
                Action.DROPPED,
                "time not after the previous sample of this GPU: the sample is dropped",
                series,
                number,
            )
            return
        series.anchor = utc
        if step_s > self.ctx.max_gap_s:
            gap = self.ctx.max_gap_s
            detail = f"samples more than max_gap_s = {gap:g} s apart: the time between is not covered"
            yield from self._note(IssueKind.GAP, Action.NOT_BRIDGED, detail, series, number, seconds=step_s)
        elif power is None:
            detail = "pwr is - (unsupported or not read): the interval is dropped, never counted as 0 W"
            yield from self._note(
                IssueKind.MISSING_VALUE, Action.DROPPED, detail, series, number, seconds=step_s
            )
        else:
            utilisation = sm / 100.0 if isinstance(sm, float) and 0.0 <= sm <= 100.0 else None
            yield Record(
                device=name,
                component=Component.GPU,
                start_utc=anchor,
                end_utc=utc,
                tier=Tier.MEASURED,
                method=METHOD,
                line=number,
                energy_kwh=power * step_s / J_PER_KWH,
                utilisation=utilisation,
            )

    def _time(
        self, tokens: list[str], layout: _Layout, device: str, number: int
    ) -> tuple[datetime, list[QualityIssue]]:
        if layout.timed:
            return self._wall(tokens[layout.date], tokens[layout.time], number)
        if self.ticks is None:
            if self.start is None:
                raise self.ctx.error(
                    number, "no Date/Time columns and no start option: the rows cannot be timed", _START_HINT
                )
            self.ticks = _Ticks(self.start, self.interval_s)
        try:
            return self.ticks.time_of(device), []
        except OverflowError:
            raise self.ctx.error(
                number, "the row's time (start + ticks x interval_s) is out of range"
            ) from None

    def _wall(self, date: str, time: str, number: int) -> tuple[datetime, list[QualityIssue]]:
        clock = self.clock
        if clock is None:
            raise self.ctx.error(
                number,
                "the Date/Time columns are local time, and no timezone is set",
                'set timezone = "Area/City" on this source in sci.toml (the zone of the machine that logged)',
            )
        try:
            wall = datetime.strptime(f"{date} {time}", "%Y%m%d %H:%M:%S")  # noqa: DTZ007 - local time, resolved below
            utc, flag = clock.to_utc(wall)
        except (ValueError, OverflowError):
            raise self.ctx.error(
                number,
                f"Date/Time {date} {time} is not YYYYMMDD HH:MM:SS",
                "check that the file is not damaged",
            ) from None
        if flag is None:
            return utc, []
        closed = self.runs.note(
            IssueKind.AMBIGUOUS_TIME,
            Action.KEPT,
            describe(flag, clock.zone),
            number,
            key=(IssueKind.AMBIGUOUS_TIME, Action.KEPT, self.ctx.device),
            at=self.row_seq,
            any_detail=True,
        )
        return utc, closed

    def _finish(self) -> Iterator[QualityIssue]:
        yield from self.runs.close_all()
        issue = series_start(self.ctx.device, self.starts, "GPU series", reading="sample")
        if issue is not None:
            yield issue


def _number(token: str) -> float | bool | None:
    """A cell as a float, None for ``-``, False when it is neither."""
    if token == _MISSING:
        return None
    try:
        value = float(token)
    except ValueError:
        return False
    return value if math.isfinite(value) else False


def _options(ctx: SourceContext) -> tuple[datetime | None, float]:
    start_text = ctx.options.get("start")
    start = None
    if start_text is not None:
        try:
            start = datetime.fromisoformat(start_text) if isinstance(start_text, str) else None
        except ValueError:
            start = None
        if start is None or start.tzinfo is None:
            raise ctx.error(
                None,
                f"option start must be an ISO 8601 time with a UTC offset, got {start_text!r}",
                'write it like start = "2026-10-01T08:00:00+02:00" in sci.toml',
            )
    interval = ctx.options.get("interval_s", 1.0)
    if (
        isinstance(interval, bool)
        or not isinstance(interval, int | float)
        or not math.isfinite(interval)
        or interval <= 0
    ):
        raise ctx.error(
            None,
            f"option interval_s must be a number of seconds > 0, got {interval!r}",
            "fix interval_s in sci.toml",
        )
    return start, float(interval)
