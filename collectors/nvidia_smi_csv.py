"""``nvidia-smi --query-gpu=... --format=csv[,nounits][,noheader]`` logs -> measured GPU energy.

The format, the integration rule and every data-quality finding are documented in
``docs/formats/nvidia-smi.md``. In short: columns are read by header name; each GPU is a series; sample
``i`` covers ``(t[i-1], t[i]]`` with the power it reports (``power.draw`` is the average over the last
second on Ampere and newer), so ``energy_kwh = P[i] * (t[i] - t[i-1]) / J_PER_KWH``; the first sample of a
series only opens it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from collectors._blocks import Block, BlockSource, Entry
from collectors._localtime import LocalClock, TimeFlag, describe
from collectors._nvidia_fast import Details, fast_block
from collectors._runs import Runs, series_start
from collectors.base import SourceContext, cut_last_line, head_text, numbered_lines
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, Item, QualityIssue, Record, Tier
from sci.units import J_PER_KWH

POWER_FIELDS = ("power.draw.average", "power.draw", "power.draw.instant")
"""Power fields in order of preference (W)."""

DEFAULT_TICK_GAP_S = 0.25
"""Rows of one tick (one row per GPU) are this close; ticks are about the logging interval apart."""

MAX_TICK_ROWS = 64
"""More rows than this in one inferred tick means the ticks were not told apart (see ``tick_gap_s``)."""

_FIELD_NAME = re.compile(r"[a-z][A-Za-z0-9_.]*(?: \[[^\[\]]*\])?")  # encoder.stats.sessionCount
_DIGITS = "0123456789"
_TIMEZONE_HINT = 'set timezone = "Area/City" on this source in sci.toml (the zone of the machine that logged)'
_POWER_HINT = (
    "add power.draw to --query-gpu, e.g. "
    "--query-gpu=timestamp,index,uuid,name,power.draw,utilization.gpu --format=csv -l 1"
)
_TIMESTAMP_HINT = "add timestamp to --query-gpu (first), e.g. --query-gpu=timestamp,index,uuid,power.draw"
_VALUE_HINT = (
    "nvidia-smi writes a number, optionally with a unit (154.88 W, 100 %), or a missing token "
    "([N/A], [Not Supported], N/A); check that the file is not damaged"
)


def field_name(column: str) -> str:
    """``"power.draw [W]"`` -> ``"power.draw"``: a header or ``columns`` entry without its unit."""
    return column.split(" [", 1)[0].strip()


def read_number(token: str) -> float | None:
    """A value cell as a float, or None for a missing token; ``ValueError`` if it is neither.

    Missing: an empty cell, ``N/A`` and any bracketed token (``[N/A]``, ``[Not Supported]``,
    ``[Unknown Error]``). A trailing unit token is dropped (``154.88 W``, ``100 %``, ``29089 MiB``).
    """
    text = token.strip()
    if not text:
        return None
    number = text
    if text[-1] not in _DIGITS:
        if text == "N/A" or (text[0] == "[" and text[-1] == "]"):
            return None
        number, space, unit = text.rpartition(" ")
        if not space or not (unit.isalpha() or unit == "%"):
            raise ValueError(f"not a number: {text!r}")
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text!r}")
    return value


def _is_name_part(fragment: str) -> bool:
    """Whether a fragment after a comma can belong to a GPU name (``"NVIDIA RTX A5000, 16GB"``).

    A number, a number with a unit or a missing token cannot: a row with such extra fields is damaged, and
    re-joining them into the name would shift every later column.
    """
    try:
        read_number(fragment)
    except ValueError:
        return True
    return False


def _read_text(token: str) -> str | None:
    text = token.strip()
    if not text or text == "N/A" or (text[0] == "[" and text[-1] == "]"):
        return None
    return text


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where the fields this collector reads sit in a row (-1: absent)."""

    n: int
    text: str | None  # the header line as written, or None when the layout comes from ``columns``
    ts: int
    power: int
    power_field: str
    util: int
    uuid: int
    index: int
    bus: int
    name: int
    key: int  # the column that tells GPUs apart: uuid, else index, else pci.bus_id; -1: by row order

    @property
    def inferred(self) -> bool:
        return self.key < 0


@dataclass(slots=True)
class _Series:
    """One GPU: its name, the time its next interval starts at, and its open issue runs."""

    device: str
    model: str | None
    anchor: datetime | None = None
    # open issue runs: "outcome" (gap / missing / negative / non-monotonic), "clock" (ambiguous local time)
    runs: Runs = field(init=False)

    def __post_init__(self) -> None:
        self.runs = Runs(self.device)


@dataclass(slots=True)
class _Inference:
    """GPUs told apart by row order within a tick: the running state and what to report."""

    gap: timedelta
    previous: datetime | None = None
    position: int = -1
    line_start: int = 0
    line_end: int = 0
    rows: int = 0
    tick_sizes: Counter[int] = field(default_factory=Counter)

    def place(self, utc: datetime, line: int) -> int:
        """The position in its tick of the row at ``utc``: a tick ends at a step >= gap or backwards."""
        previous = self.previous
        if previous is None or utc < previous or utc - previous >= self.gap:
            if self.position >= 0:
                self.tick_sizes[self.position + 1] += 1
            self.position = 0
        else:
            self.position += 1
        self.previous = utc
        if self.rows == 0:
            self.line_start = line
        self.line_end = line
        self.rows += 1
        return self.position

    def new_run(self) -> None:
        """A header line starts a new nvidia-smi run: its next row is the first GPU of a tick."""
        self.previous = None

    def issue(self, device: str) -> QualityIssue | None:
        if self.rows == 0:
            return None
        if self.position >= 0:
            self.tick_sizes[self.position + 1] += 1
        sizes = ", ".join(f"{size} rows x {count}" for size, count in sorted(self.tick_sizes.items()))
        issue = QualityIssue(
            kind=IssueKind.INFERRED_DEVICE,
            action=Action.KEPT,
            line_start=self.line_start,
            line_end=self.line_end,
            rows=self.rows,
            detail=(
                "no uuid, index or pci.bus_id column: each row's GPU is its position in its tick "
                f"(rows less than {self.gap.total_seconds():g} s apart; nvidia-smi lists GPUs in index "
                f"order); ticks: {sizes}. Add index,uuid to --query-gpu"
            ),
            device=device,
        )
        self.previous = None
        self.position = -1
        self.rows = 0
        self.tick_sizes = Counter()
        return issue


class NvidiaSmiCsv:
    """Collector for ``nvidia-smi --query-gpu`` CSV logs (``-l``/``-lms`` loops, ``-f`` files)."""

    name: ClassVar[str] = "nvidia-smi"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = True

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """A ``--query-gpu`` CSV header naming a power field among other fields (a log without
        ``timestamp`` is recognised too, so that parsing it says what to add)."""
        for line in head_text(head).splitlines()[:5]:
            fields = [field_name(cell) for cell in line.split(",")]
            if len(fields) > 1 and any(f in POWER_FIELDS for f in fields):
                return True
        return False

    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {
        "columns": (
            list,
            "field names of a header-less log (--format=csv,noheader), as written in --query-gpu, in order",
        ),
        "tick_gap_s": (
            float,
            "only for logs without uuid/index/pci.bus_id: rows closer than this are one tick, one row per "
            f"GPU (default {DEFAULT_TICK_GAP_S}; keep it below half the logging interval)",
        ),
    }

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        yield from _Parser(ctx).run()


class _Parser:
    """The state of one file's parse."""

    def __init__(self, ctx: SourceContext) -> None:
        if ctx.timezone is None:
            raise ctx.error(
                None,
                "nvidia-smi timestamps are local time without a zone, and no timezone is set",
                _TIMEZONE_HINT,
            )
        self.ctx = ctx
        self.clock = LocalClock(ctx.timezone)
        self.hours: dict[str, tuple[int, int, int, int, timedelta | None]] = {}  # by YYYY/MM/DD HH
        self.columns = self._columns_option(ctx.options)
        self.inference = _Inference(gap=timedelta(seconds=self._tick_gap_option(ctx.options)))
        self.series: dict[str, _Series] = {}  # by device name
        self.by_token: dict[str, _Series] = {}  # by the raw identity cell of the current layout
        self.starts: list[tuple[int, str]] = []
        self.flag_details = {flag: describe(flag, ctx.timezone) for flag in TimeFlag}

    # -- options ----------------------------------------------------------------------------------------

    def _columns_option(self, options: Mapping[str, Any]) -> list[str] | None:
        columns = options.get("columns")
        if columns is None:
            return None
        if (
            not isinstance(columns, Sequence)
            or isinstance(columns, str)
            or not columns
            or not all(isinstance(c, str) and field_name(c) for c in columns)
        ):
            raise self.ctx.error(
                None,
                f"option columns must be a non-empty list of field names, got {columns!r}",
                'write columns = ["timestamp", "index", "uuid", "power.draw"], the --query-gpu fields',
            )
        return [str(c) for c in columns]

    def _tick_gap_option(self, options: Mapping[str, Any]) -> float:
        gap = options.get("tick_gap_s", DEFAULT_TICK_GAP_S)
        if isinstance(gap, bool) or not isinstance(gap, int | float) or not 0 < gap < math.inf:
            raise self.ctx.error(
                None,
                f"option tick_gap_s must be a positive number of seconds, got {gap!r}",
                f"remove it to use {DEFAULT_TICK_GAP_S}, or set it below half the logging interval",
            )
        return float(gap)

    # -- layout -----------------------------------------------------------------------------------------

    def _layout(self, columns: Sequence[str], text: str | None, line: int | None) -> _Layout:
        names = [field_name(c) for c in columns]
        where = "the header" if text is not None else "option columns"

        def find(name: str) -> int:
            return names.index(name) if name in names else -1

        ts = find("timestamp")
        if ts < 0:
            raise self.ctx.error(line, f"{where} has no timestamp field: {', '.join(names)}", _TIMESTAMP_HINT)
        power_field = next((p for p in POWER_FIELDS if p in names), "")
        if not power_field:
            raise self.ctx.error(
                line,
                f"{where} has no power field ({', '.join(POWER_FIELDS)}): {', '.join(names)}",
                _POWER_HINT,
            )
        uuid, index, bus = find("uuid"), find("index"), find("pci.bus_id")
        return _Layout(
            n=len(names),
            text=text,
            ts=ts,
            power=names.index(power_field),
            power_field=power_field,
            util=find("utilization.gpu"),
            uuid=uuid,
            index=index,
            bus=bus,
            name=find("name"),
            key=next((column for column in (uuid, index, bus) if column >= 0), -1),
        )

    def _header_layout(self, text: str, line: int) -> _Layout | None:
        """The layout of a header line, or None if ``text`` is not a header."""
        columns = [c.strip() for c in text.split(",")]
        if not all(_FIELD_NAME.fullmatch(c) for c in columns):
            return None
        return self._layout(columns, text, line)

    # -- rows -------------------------------------------------------------------------------------------

    def _hour(self, stamp: str) -> tuple[int, int, int, int, timedelta | None]:
        prefix = stamp[:13]
        if (
            len(prefix) != 13
            or prefix[4] != "/"
            or prefix[7] != "/"
            or prefix[10] != " "
            or not prefix.isascii()
            or not (prefix[:4] + prefix[5:7] + prefix[8:10] + prefix[11:13]).isdigit()
        ):
            raise ValueError(stamp)
        year, month, day, hour = int(prefix[:4]), int(prefix[5:7]), int(prefix[8:10]), int(prefix[11:13])
        known = (year, month, day, hour, self.clock.hour_offset(year, month, day, hour))
        self.hours[prefix] = known
        return known

    def _utc(self, token: str, line: int) -> tuple[datetime, TimeFlag | None]:
        """The UTC time of a ``YYYY/MM/DD HH:MM:SS[.ffffff]`` local timestamp, and its doubt if any.

        The local hour (``YYYY/MM/DD HH``) is validated and its UTC offset looked up once, then cached; the
        rest is parsed by ``datetime.fromisoformat`` (C, strict about ranges), with ``+00:00`` appended so
        it yields UTC directly: ``UTC = wall - offset``.
        """
        stamp = token.strip()
        if 19 <= len(stamp) <= 26 and stamp[13] == ":" and stamp[16] == ":":
            try:
                offset = (self.hours.get(stamp[:13]) or self._hour(stamp))[4]
                if offset is not None:
                    utc = datetime.fromisoformat(stamp.replace("/", "-") + "+00:00") - offset
                    self.clock.last_utc = utc
                    return utc, None
                # A local hour holding a DST transition: resolve the naive wall time by order.
                return self.clock.to_utc(datetime.fromisoformat(stamp.replace("/", "-")))
            except (ValueError, OverflowError):
                pass
        raise self.ctx.error(
            line,
            f"cannot read the timestamp {stamp!r}",
            "nvidia-smi writes local time as YYYY/MM/DD HH:MM:SS.mmm; check that the file is not damaged",
        )

    def _bad_value(self, parts: list[str], layout: _Layout, line: int) -> CollectorError:
        """The error for a row whose power or utilisation cell is not a number."""
        for label, column in ((layout.power_field, layout.power), ("utilization.gpu", layout.util)):
            if column >= 0:
                try:
                    read_number(parts[column])
                except ValueError:
                    return self.ctx.error(
                        line, f"{label} value {parts[column].strip()!r} is not a number", _VALUE_HINT
                    )
        raise AssertionError("a value failed to parse, then parsed")  # pragma: no cover

    def _named(self, device: str, model: str | None) -> _Series:
        series = self.series.get(device)
        if series is None:
            series = self.series[device] = _Series(device, model)
        elif series.model is None:
            series.model = model
        return series

    def _series(self, parts: list[str], layout: _Layout, utc: datetime, line: int) -> _Series:
        """The GPU series of a row: by its uuid, index or pci.bus_id, else by its position in the tick."""
        if layout.key < 0:
            position = self.inference.place(utc, line)
            if position >= MAX_TICK_ROWS:
                raise self.ctx.error(
                    line,
                    f"over {MAX_TICK_ROWS} rows less than tick_gap_s apart: the GPUs cannot be told apart",
                    "add index,uuid to --query-gpu, or set tick_gap_s below half the logging interval",
                )
            return self._named(f"{self.ctx.device}/gpu{position}", None)
        token = parts[layout.key]
        series = self.by_token.get(token)
        if series is None:
            series = self.by_token[token] = self._identify(parts, layout, line)
        return series

    def _identify(self, parts: list[str], layout: _Layout, line: int) -> _Series:
        identity = _read_text(parts[layout.key])
        if identity is None:
            label = ("uuid", "index", "pci.bus_id")[(layout.uuid, layout.index, layout.bus).index(layout.key)]
            raise self.ctx.error(
                line,
                f"this row has no {label} value: its GPU is unknown",
                "check that the file is not damaged",
            )
        index_text = _read_text(parts[layout.index]) if layout.index >= 0 else None
        if index_text is None:
            name = identity
        elif index_text.isascii() and index_text.isdigit() and len(index_text) <= 9:
            name = f"gpu{int(index_text)}"
        else:
            raise self.ctx.error(line, f"GPU index {index_text!r} is not a whole number", _VALUE_HINT)
        model = _read_text(parts[layout.name]) if layout.name >= 0 else None
        return self._named(f"{self.ctx.device}/{name}", model)

    def _truncated(self, line: int) -> QualityIssue:
        return cut_last_line(self.ctx, line)

    def run(self) -> Iterator[Item]:
        if self.ctx.batches:  # whole blocks of plain rows go the vectorised way (collectors/_nvidia_fast.py)
            from collectors._blocks import BlockSource

            with self.ctx.open_binary() as stream:
                yield from self._rows(BlockSource(self.ctx, stream))
            return
        with numbered_lines(self.ctx) as lines:
            yield from self._rows(lines)

    def _rows(self, lines: Iterator[Entry]) -> Iterator[Item]:  # noqa: PLR0912, PLR0915 - the hot loop is kept in one frame
        ctx = self.ctx
        max_gap_s = ctx.max_gap_s
        layout: _Layout | None = None
        utc_of = self._utc
        series_of = self._series
        flag_details = self.flag_details
        gap_detail = f"samples more than max_gap_s = {max_gap_s:g} s apart: the time between is not covered"
        back_detail = "timestamp not after the previous sample of this GPU: the sample is dropped"
        missing_detail = ""
        negative_detail = ""
        method = ""

        for entry in lines:
            if isinstance(entry, Block):
                assert isinstance(lines, BlockSource)
                fast = (
                    fast_block(
                        self,
                        entry,
                        layout,
                        Details(method, gap_detail, missing_detail, negative_detail, back_detail, max_gap_s),
                    )
                    if layout is not None and missing_detail
                    else None
                )
                if fast is None:
                    lines.unroll(entry)
                else:
                    yield from fast
                continue
            number, text, ended = entry
            if not text or text.isspace():
                continue
            if layout is not None and text == layout.text:  # a repeated header: an appended run
                self.inference.new_run()
                continue
            first = text[0]
            if "a" <= first <= "z":
                header = self._header_layout(text, number)
                if header is not None:
                    if layout is not None and layout.inferred and not header.inferred:
                        issue = self.inference.issue(ctx.device)
                        if issue is not None:
                            yield issue
                    layout = header
                    self.by_token.clear()
                    self.inference.new_run()
                    missing_detail = ""
                    continue
            if not ended:
                yield self._truncated(number)
                break
            if layout is None:
                if self.columns is None:
                    raise ctx.error(
                        number,
                        "no header line: this looks like a --format=csv,noheader log",
                        'set columns = ["timestamp", "index", ...] on this source in sci.toml (the '
                        "--query-gpu fields, in order), or log without noheader",
                    )
                layout = self._layout(self.columns, None, None)
            if not missing_detail:
                power_field = layout.power_field
                method = f"nvidia-smi/{power_field}"
                missing_detail = (
                    f"{power_field} is missing ([N/A], [Not Supported], N/A or empty): the interval "
                    "is dropped, never counted as 0 W"
                )
                negative_detail = f"{power_field} is negative: the interval is dropped"

            parts = text.split(",")
            if len(parts) != layout.n:
                extra = len(parts) - layout.n
                k = layout.name
                if extra > 0 and k >= 0 and all(_is_name_part(p) for p in parts[k + 1 : k + extra + 1]):
                    parts[k : k + extra + 1] = [",".join(parts[k : k + extra + 1])]  # a name with commas
                else:
                    raise ctx.error(
                        number,
                        f"{len(parts)} fields where the header has {layout.n}",
                        "each row needs one value per header field; check for a damaged line, or a header "
                        "line missing before a run with other --query-gpu fields",
                    )

            utc, flag = utc_of(parts[layout.ts], number)
            try:
                power = read_number(parts[layout.power])
                utilisation = read_number(parts[layout.util]) if layout.util >= 0 else None
            except ValueError:
                raise self._bad_value(parts, layout, number) from None
            if utilisation is not None:
                if not 0.0 <= utilisation <= 100.0:
                    raise ctx.error(
                        number, f"utilization.gpu {utilisation:g} % is outside 0-100 %", _VALUE_HINT
                    )
                utilisation /= 100.0
            series = series_of(parts, layout, utc, number)

            if flag is not None:
                yield from series.runs.note(
                    IssueKind.AMBIGUOUS_TIME, Action.KEPT, flag_details[flag], number, key="clock"
                )
            else:
                yield from series.runs.close("clock")

            anchor = series.anchor
            if anchor is None:
                series.anchor = utc
                self.starts.append((number, series.device))
                continue
            step_s = (utc - anchor).total_seconds()
            if step_s <= 0.0:
                closed = series.runs.note(
                    IssueKind.NON_MONOTONIC, Action.DROPPED, back_detail, number, key="outcome"
                )
            elif step_s > max_gap_s:
                series.anchor = utc
                closed = series.runs.note(
                    IssueKind.GAP, Action.NOT_BRIDGED, gap_detail, number, key="outcome", seconds=step_s
                )
            elif power is None:
                series.anchor = utc
                closed = series.runs.note(
                    IssueKind.MISSING_VALUE,
                    Action.DROPPED,
                    missing_detail,
                    number,
                    key="outcome",
                    seconds=step_s,
                )
            elif power < 0.0:
                series.anchor = utc
                closed = series.runs.note(
                    IssueKind.NEGATIVE_VALUE,
                    Action.DROPPED,
                    negative_detail,
                    number,
                    key="outcome",
                    seconds=step_s,
                )
            else:
                series.anchor = utc
                energy_kwh = power * step_s / J_PER_KWH
                if not math.isfinite(energy_kwh):
                    raise ctx.error(
                        number, f"{layout.power_field} {power:g} W is not a plausible power", _VALUE_HINT
                    )
                yield from series.runs.close("outcome")
                yield Record(
                    device=series.device,
                    component=Component.GPU,
                    start_utc=anchor,
                    end_utc=utc,
                    tier=Tier.MEASURED,
                    method=method,
                    line=number,
                    energy_kwh=energy_kwh,
                    utilisation=utilisation,
                    device_model=series.model,
                )
                continue
            yield from closed

        yield from self._finish()

    def _finish(self) -> Iterator[QualityIssue]:
        ctx = self.ctx
        for series in self.series.values():
            yield from series.runs.close("outcome")
            yield from series.runs.close("clock")
        inferred = self.inference.issue(ctx.device)
        if inferred is not None:
            yield inferred
        issue = series_start(ctx.device, self.starts, "GPU series", reading="sample")
        if issue is not None:
            yield issue


__all__ = ["POWER_FIELDS", "NvidiaSmiCsv", "field_name", "read_number"]
