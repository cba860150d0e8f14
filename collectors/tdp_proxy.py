"""sci-report's runtime log (CSV) -> proxy records, for platforms with no power meter.

Each row is one stretch of work on one device (a CI job, a batch run): when it ran, how busy the chip was,
and what chip it was. The collector turns each row into one ``Tier.PROXY`` record and computes no energy:
the engine turns runtime x load curve(utilisation) x TDP x resource share into energy at compute time,
with the factors of the bundle it names in the report. Format and rules: ``docs/formats/tdp-proxy.md``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from collectors._localtime import LocalClock, TimeFlag, describe, resolve
from collectors._runs import Runs
from collectors.base import SourceContext, cut_last_line, head_text, numbered_lines
from sci.model import Action, Component, IssueKind, Item, QualityIssue, Record, Tier

METHOD = "tdp-proxy/runtime-csv"
DURATION_TOLERANCE_S = 1.0
"""When a row gives both ``end`` and ``duration_s``, they may differ by this much (rounding), no more."""

_COLUMNS = ("start", "end", "duration_s", "device", "utilisation_pct", "device_model", "tdp_w", "vcpus")
_COMPONENTS = {"cpu": Component.CPU, "gpu": Component.GPU}
_TIME_HINT = "write ISO 8601 with a time of day, e.g. 2026-10-01T06:50:17Z or 2026-10-01T08:50:17+02:00"
_FORMAT_HINT = (
    "the runtime log needs a header line: start, and end or duration_s, then optional device, "
    "utilisation_pct, device_model, tdp_w, vcpus (see docs/formats/tdp-proxy.md)"
)


@dataclass(frozen=True, slots=True)
class _Defaults:
    """The source's options: values for columns a log does not have (or leaves empty)."""

    utilisation_pct: float | None
    device_model: str | None
    tdp_w: float | None
    vcpus: int | None
    host_threads: int | None
    component: Component


@dataclass(frozen=True, slots=True)
class _Header:
    text: str
    columns: dict[str, int]  # known column name -> position
    n: int


class TdpProxy:
    """Collector for the runtime log of platforms without a meter (CI runners, rented VMs)."""

    name: ClassVar[str] = "tdp-proxy"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = False  # times with an offset need none; naive times use ``timezone``

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """A CSV whose first non-comment line is a header naming start, and end or duration_s."""
        for line in head_text(head).splitlines():
            if line.strip() and not line.startswith("#"):
                cells = next(csv.reader([line]), [])
                return _looks_like_header(cells)
        return False

    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {
        "utilisation_pct": (float, "average CPU/GPU utilisation in % (0-100) for rows without one"),
        "device_model": (str, "CPU or GPU model for rows without one, looked up in the TDP tables"),
        "tdp_w": (float, "TDP in W of the whole chip for rows without one (instead of a table lookup)"),
        "vcpus": (int, "vCPUs (hardware threads) reserved, for rows without a vcpus value"),
        "host_threads": (int, "hardware threads of the host chip: resource share = vcpus / host_threads"),
        "component": (str, 'what the rows measure: "cpu" (default) or "gpu"'),
    }

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        yield from _Parser(ctx).run()


def _number_option(ctx: SourceContext, key: str, *, low: float, high: float, whole: bool) -> Any:
    value = ctx.options.get(key)
    if value is None:
        return None
    ok = isinstance(value, int) if whole else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or not math.isfinite(value) or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        raise ctx.error(
            None, f"option {key} must be {kind} in {low:g}..{high:g}, got {value!r}", f"fix {key} in sci.toml"
        )
    return value if whole else float(value)


def _defaults(ctx: SourceContext) -> _Defaults:
    model = ctx.options.get("device_model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise ctx.error(
            None, f"option device_model must be a model name, got {model!r}", "fix device_model in sci.toml"
        )
    component = ctx.options.get("component", "cpu")
    if component not in _COMPONENTS:
        raise ctx.error(
            None, f"option component must be 'cpu' or 'gpu', got {component!r}", "fix component in sci.toml"
        )
    defaults = _Defaults(
        utilisation_pct=_number_option(ctx, "utilisation_pct", low=0.0, high=100.0, whole=False),
        device_model=model.strip() if model is not None else None,
        tdp_w=_number_option(ctx, "tdp_w", low=math.ulp(0.0), high=math.inf, whole=False),
        vcpus=_number_option(ctx, "vcpus", low=1, high=math.inf, whole=True),
        host_threads=_number_option(ctx, "host_threads", low=1, high=math.inf, whole=True),
        component=_COMPONENTS[component],
    )
    if (
        defaults.vcpus is not None
        and defaults.host_threads is not None
        and defaults.vcpus > defaults.host_threads
    ):
        raise ctx.error(
            None,
            f"option vcpus = {defaults.vcpus} is more than host_threads = {defaults.host_threads}",
            "vcpus is the part of the host chip reserved; host_threads is the whole chip's hardware threads",
        )
    return defaults


def _looks_like_header(cells: list[str]) -> bool:
    """A header line mid-file (logs with other columns appended): it names start and end or duration_s."""
    names = {c.strip().lower() for c in cells}
    return "start" in names and ("end" in names or "duration_s" in names)


class _Parser:
    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.defaults = _defaults(ctx)
        # Naive starts are resolved in file order against the previous start.
        self.start_clock = LocalClock(ctx.timezone) if ctx.timezone is not None else None
        self.time_runs = Runs(ctx.device)  # open AMBIGUOUS_TIME run per device

    # -- cells ------------------------------------------------------------------------------------------

    def _time(self, cell: str, column: str, line: int) -> datetime:
        """A cell as a datetime: aware when it has an offset, else naive (local)."""
        text = cell.strip()
        if "T" not in text.upper() and " " not in text:
            raise self.ctx.error(line, f"{column} {text!r} has no time of day", _TIME_HINT)
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise self.ctx.error(
                line, f"{column} {text!r} is not an ISO 8601 date and time", _TIME_HINT
            ) from None

    def _utc(
        self, value: datetime, column: str, line: int, *, start_utc: datetime | None
    ) -> tuple[datetime, TimeFlag | None]:
        """``value`` in UTC; a naive value is local time in ``ctx.timezone``, resolved by order.

        A start is resolved against the previous row's start (rows in start order); an end against its
        own row's start.
        """
        try:
            if value.tzinfo is not None:
                return value.astimezone(UTC), None
            clock = self.start_clock  # set when the source has a timezone
            if clock is None:
                raise self.ctx.error(
                    line,
                    f"{column} {value.isoformat()} has no UTC offset, and no timezone is set",
                    'set timezone = "Area/City" on this source in sci.toml, or write times with an offset '
                    "(2026-10-01T06:50:17Z)",
                )
            if start_utc is not None:
                return resolve(value, clock.zone, previous=start_utc)
            return clock.to_utc(value)
        except OverflowError:
            raise self.ctx.error(line, f"{column} {value.isoformat()} is out of range", _TIME_HINT) from None

    def _float(self, cell: str, column: str, line: int) -> float | None:
        text = cell.strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise self.ctx.error(
                line, f"{column} {text!r} is not a number", f"write {column} as a plain number"
            )
        return value

    def _int(self, cell: str, column: str, line: int) -> int | None:
        text = cell.strip()
        if not text:
            return None
        if not (text.isascii() and text.isdigit()) or len(text) > 9 or int(text) < 1:
            raise self.ctx.error(
                line, f"{column} {text!r} is not a whole number >= 1", f"write {column} like 4"
            )
        return int(text)

    # -- rows -------------------------------------------------------------------------------------------

    def _header(self, cells: list[str], text: str, line: int) -> _Header:
        names = [c.strip().lower() for c in cells]
        columns = {name: names.index(name) for name in (*_COLUMNS, "host_threads") if name in names}
        if "start" not in columns:
            raise self.ctx.error(line, f"the header has no start column: {text!r}", _FORMAT_HINT)
        if "end" not in columns and "duration_s" not in columns:
            raise self.ctx.error(line, "the header has neither an end nor a duration_s column", _FORMAT_HINT)
        return _Header(text=text, columns=columns, n=len(names))

    def _cells(self, text: str, line: int) -> list[str]:
        try:
            return next(csv.reader([text], strict=True))
        except csv.Error as exc:
            raise self.ctx.error(
                line, f"cannot read this CSV line: {exc}", "check the quoting of this line"
            ) from None

    @staticmethod
    def _cell(cells: list[str], header: _Header, name: str) -> str:
        position = header.columns.get(name)
        return cells[position].strip() if position is not None else ""

    def _span(
        self, cells: list[str], header: _Header, line: int
    ) -> tuple[datetime, datetime, float, TimeFlag | None]:
        """Start and end (UTC), runtime in s, and the doubt on a local time, if any."""
        ctx = self.ctx
        start_text = self._cell(cells, header, "start")
        if not start_text:
            raise ctx.error(line, "start is empty", _TIME_HINT)
        start_utc, flag = self._utc(self._time(start_text, "start", line), "start", line, start_utc=None)
        end_text = self._cell(cells, header, "end")
        duration_text = self._cell(cells, header, "duration_s")
        if end_text:
            end_utc, end_flag = self._utc(self._time(end_text, "end", line), "end", line, start_utc=start_utc)
            flag = flag or end_flag
            runtime_s = (end_utc - start_utc).total_seconds()
            if runtime_s < 0:
                raise ctx.error(line, f"end {end_text} is before start {start_text}", "swap or fix the times")
            given = self._float(duration_text, "duration_s", line)
            if given is not None and abs(given - runtime_s) > DURATION_TOLERANCE_S:
                raise ctx.error(
                    line,
                    f"duration_s {given:g} s disagrees with end - start = {runtime_s:g} s",
                    "give end or duration_s, or make them agree",
                )
        elif duration_text:
            runtime_s = self._float(duration_text, "duration_s", line) or 0.0
            try:
                end_utc = start_utc + timedelta(seconds=max(runtime_s, 0.0))
            except OverflowError:
                raise ctx.error(
                    line, f"duration_s {duration_text} is out of range", "write it in seconds"
                ) from None
        else:
            raise ctx.error(line, "this row has neither end nor duration_s", "fill one of them")
        if runtime_s <= 0:
            raise ctx.error(
                line, f"the run lasts {runtime_s:g} s: it must last more than 0 s", "fix the times"
            )
        return start_utc, end_utc, runtime_s, flag

    def _row(self, cells: list[str], header: _Header, line: int) -> tuple[Record, TimeFlag | None]:
        ctx = self.ctx
        d = self.defaults
        start_utc, end_utc, runtime_s, flag = self._span(cells, header, line)

        utilisation_pct = self._float(self._cell(cells, header, "utilisation_pct"), "utilisation_pct", line)
        if utilisation_pct is None:
            utilisation_pct = d.utilisation_pct
        if utilisation_pct is None:
            raise ctx.error(
                line,
                "no utilisation for this row",
                "fill the utilisation_pct column, or set utilisation_pct = 50 (an assumed average, in %) "
                "on this source in sci.toml",
            )
        if not 0.0 <= utilisation_pct <= 100.0:
            raise ctx.error(line, f"utilisation_pct {utilisation_pct:g} is outside 0-100", "write it in %")

        device_model = self._cell(cells, header, "device_model") or d.device_model
        tdp_w = self._float(self._cell(cells, header, "tdp_w"), "tdp_w", line)
        if tdp_w is None:
            tdp_w = d.tdp_w
        elif tdp_w <= 0:
            raise ctx.error(line, f"tdp_w {tdp_w:g} is not a positive power", "write the chip's TDP in W")
        if device_model is None and tdp_w is None:
            raise ctx.error(
                line,
                "no device_model or tdp_w for this row",
                'fill a device_model or tdp_w column, or set device_model = "AMD EPYC 7763" (or tdp_w = 280) '
                "on this source in sci.toml",
            )

        vcpus = self._int(self._cell(cells, header, "vcpus"), "vcpus", line) or d.vcpus
        host_threads = (
            self._int(self._cell(cells, header, "host_threads"), "host_threads", line) or d.host_threads
        )
        resource_share = 1.0
        if vcpus is not None and host_threads is None:
            # Without the chip's size, vcpus alone would charge the whole chip's TDP to one job.
            raise ctx.error(
                line,
                f"vcpus = {vcpus} without host_threads: the share of the chip is unknown",
                "set host_threads (all hardware threads of the host chip) on this source or in a column, "
                "e.g. host_threads = 128 for an AMD EPYC 7763",
            )
        if vcpus is not None and host_threads is not None:
            if vcpus > host_threads:
                raise ctx.error(
                    line,
                    f"vcpus {vcpus} is more than host_threads {host_threads}",
                    "vcpus is the part of the host chip reserved; host_threads is all of its threads",
                )
            resource_share = vcpus / host_threads

        record = Record(
            device=self._cell(cells, header, "device") or ctx.device,
            component=d.component,
            start_utc=start_utc,
            end_utc=end_utc,
            tier=Tier.PROXY,
            method=METHOD,
            line=line,
            runtime_s=runtime_s,
            utilisation=utilisation_pct / 100.0,
            device_model=device_model,
            tdp_w=tdp_w,
            resource_share=resource_share,
        )
        return record, flag

    def _note_time(self, device: str, flag: TimeFlag | None, line: int) -> list[QualityIssue]:
        """Merge AMBIGUOUS_TIME rows of one device while they are consecutive; return a closed run."""
        if flag is None:
            return self.time_runs.close(device)
        zone = self.ctx.timezone
        detail = describe(flag, zone) if zone is not None else flag.value
        return self.time_runs.note(
            IssueKind.AMBIGUOUS_TIME, Action.KEPT, detail, line, key=device, device=device
        )

    def run(self) -> Iterator[Item]:
        with numbered_lines(self.ctx) as lines:
            yield from self._rows(lines)

    def _rows(self, lines: Iterator[tuple[int, str, bool]]) -> Iterator[Item]:
        ctx = self.ctx
        header: _Header | None = None
        for number, text, ended in lines:
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            if not ended:
                yield cut_last_line(ctx, number)
                break
            cells = self._cells(text, number)
            if header is not None and text == header.text:  # a repeated header: logs appended
                continue
            if header is None or _looks_like_header(cells):
                header = self._header(cells, text, number)
                continue
            if len(cells) != header.n:
                raise ctx.error(
                    number,
                    f"{len(cells)} fields where the header has {header.n}",
                    "check this line's commas and quotes",
                )
            record, flag = self._row(cells, header, number)
            yield from self._note_time(record.device, flag, number)
            yield record
        yield from self.time_runs.close_all()


__all__ = ["METHOD", "TdpProxy"]
