"""Scaphandre ``json`` exporter output -> measured host (system) energy.

The format and every rule are in ``docs/formats/scaphandre.md``. In short: the file is a JSON array of
reports written incrementally (a killed exporter leaves it unterminated); each report's
``host.consumption`` (µW) is the host's average power since the previous report, so report *i* covers
``(t[i-1], t[i]]`` with ``energy = P[i] x (t[i] - t[i-1])``; the first report only opens the series.
Sockets, domains and consumers lie inside the host and are not counted. Reports are decoded one at a time
from a sliding buffer, so a large file is never held whole.
"""

from __future__ import annotations

import codecs
import json
import math
import zlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO, ClassVar, TypeGuard

from collectors._runs import Runs, series_start
from collectors.base import SourceContext, head_text
from sci.model import Action, Component, IssueKind, Item, QualityIssue, Record, Tier
from sci.units import J_PER_KWH, UW_PER_W

CHUNK = 1 << 20
_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"
_HINT = "check that this is the file `scaphandre json -f FILE` wrote, not damaged"


class ScaphandreJson:
    """Collector for ``scaphandre json -f FILE`` reports."""

    name: ClassVar[str] = "scaphandre"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = False
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {}

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """Starts with ``[`` or ``{`` and names two report keys: host, consumers, sockets."""
        text = head_text(head).lstrip()
        return (
            text[:1] in ("[", "{") and sum(key in text for key in ('"host"', '"consumers"', '"sockets"')) >= 2
        )

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        yield from _Parser(ctx).run()


class _Reader:
    """JSON values one after another from a byte stream, with the line each starts on."""

    def __init__(self, ctx: SourceContext, stream: BinaryIO) -> None:
        self.ctx = ctx
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buffer = ""
        self.pos = 0
        self.line = 1  # line of self.pos
        self.eof = False

    def _more(self) -> bool:
        if self.eof:
            return False
        try:
            chunk = self.stream.read(CHUNK)
        except (OSError, EOFError, zlib.error) as exc:
            raise self.ctx.error(
                self.line,
                f"cannot read on: the data is corrupt or cut off ({exc})",
                "re-copy the file, or decompress what is readable with `zcat FILE > FILE.json`",
            ) from None
        try:
            text = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise self.ctx.error(self.line, "the file is not UTF-8 text", _HINT) from None
        self.eof = not chunk
        if self.pos:
            self.buffer = self.buffer[self.pos :]
            self.pos = 0
        self.buffer += text.removeprefix("\ufeff") if not self.buffer and self.line == 1 else text
        return True

    def _advance(self, to: int) -> None:
        self.line += self.buffer.count("\n", self.pos, to)
        self.pos = to

    def peek(self) -> str:
        """The next non-space character ('' at the end), consumed up to it."""
        while True:
            end = len(self.buffer)
            at = self.pos
            while at < end and self.buffer[at] in _SPACE:
                at += 1
            self._advance(at)
            if at < end:
                return self.buffer[at]
            if not self._more():
                return ""

    def take(self) -> None:
        self._advance(self.pos + 1)

    def value(self) -> tuple[Any, int] | None:
        """The next JSON value and its first line; None when the file ends inside it (cut mid-write)."""
        while True:
            try:
                found, end = _DECODER.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                if self._more():
                    continue
                if "\n" not in self.buffer[exc.pos :].rstrip() and exc.pos >= len(self.buffer.rstrip()) - 64:
                    return None
                raise self.ctx.error(
                    self.line + self.buffer.count("\n", self.pos, exc.pos),
                    f"not valid JSON: {exc.msg}",
                    _HINT,
                ) from None
            except RecursionError:
                raise self.ctx.error(self.line, "JSON nested too deeply", _HINT) from None
            if end == len(self.buffer) and not self.eof and self._more():
                continue  # a number may go on in the next chunk
            line = self.line
            self._advance(end)
            return found, line


class _Parser:
    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.runs = Runs(ctx.device)
        self.anchor: datetime | None = None
        self.starts: list[tuple[int, str]] = []
        self.reports = 0

    def run(self) -> Iterator[Item]:
        with self.ctx.open_binary() as stream:
            reader = _Reader(self.ctx, stream)
            yield from self._reports(reader)
        yield from self.runs.close_all()
        issue = series_start(self.ctx.device, self.starts, "series (reports with a host timestamp)")
        if issue is not None:
            yield issue

    def _reports(self, reader: _Reader) -> Iterator[Item]:
        first = reader.peek()
        if first not in ("[", "{"):
            raise self.ctx.error(reader.line, "not a JSON array or object of Scaphandre reports", _HINT)
        in_array = False
        while True:
            char = reader.peek()
            if char == "":
                if in_array:
                    yield self._truncated(
                        reader.line,
                        "the closing ] is missing (the exporter was stopped): every complete report is read",
                        Action.KEPT,
                    )
                return
            if char == "[" and not in_array:
                reader.take()
                in_array = True
                continue
            if char == "]" and in_array:
                reader.take()
                in_array = False
                continue
            if char == ",":
                reader.take()
                continue
            start = reader.line
            decoded = reader.value()
            if decoded is None:
                yield self._truncated(
                    start,
                    "the last report is cut off mid-write: it is not read",
                    Action.DROPPED,
                    reader.line - start + 1,
                )
                return
            report, line = decoded
            if not isinstance(report, dict):
                raise self.ctx.error(line, "a report is not a JSON object", _HINT)
            yield from self._report(report, line)

    def _truncated(self, line: int, detail: str, action: Action, rows: int = 1) -> QualityIssue:
        return QualityIssue(IssueKind.TRUNCATED, action, line, line + rows - 1, rows, detail, self.ctx.device)

    def _report(self, report: dict[str, Any], line: int) -> Iterator[Item]:
        host = report.get("host")
        stamp, power_uw = None, None
        if isinstance(host, dict):
            stamp, power_uw = host.get("timestamp"), host.get("consumption")
        else:
            stamp = _any_timestamp(report)
        if not _is_number(stamp):
            yield from self.runs.note(
                IssueKind.MISSING_VALUE,
                Action.DROPPED,
                "a report without a timestamp (an old Scaphandre?): not read",
                line,
                key="host",
            )
            return
        try:
            utc = datetime.fromtimestamp(float(stamp), tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise self.ctx.error(line, f"timestamp {stamp!r} is not epoch seconds", _HINT) from None
        begin = self.anchor
        if begin is None:
            self.anchor = utc
            self.starts.append((line, "host"))
            return
        step_s = (utc - begin).total_seconds()
        if step_s <= 0:
            yield from self.runs.note(
                IssueKind.NON_MONOTONIC,
                Action.DROPPED,
                "timestamp not after the previous report: the report is dropped",
                line,
                key="host",
            )
            return
        self.anchor = utc
        if step_s > self.ctx.max_gap_s:
            yield from self.runs.note(
                IssueKind.GAP,
                Action.NOT_BRIDGED,
                f"reports more than max_gap_s = {self.ctx.max_gap_s:g} s apart: the time between is not "
                "covered",
                line,
                seconds=step_s,
                key="host",
            )
            return
        if not _is_number(power_uw):
            yield from self.runs.note(
                IssueKind.NO_POWER_DATA,
                Action.DROPPED,
                "no host consumption (Scaphandre omits host before it has two readings): the interval is "
                "dropped, never counted as 0 W",
                line,
                seconds=step_s,
                key="host",
            )
            return
        energy_kwh = float(power_uw) / UW_PER_W * step_s / J_PER_KWH
        if not math.isfinite(energy_kwh):
            raise self.ctx.error(line, f"host consumption {power_uw!r} uW is not a plausible power", _HINT)
        yield from self.runs.close("host")
        yield Record(
            device=self.ctx.device,
            component=Component.SYSTEM,
            start_utc=begin,
            end_utc=utc,
            tier=Tier.MEASURED,
            method="scaphandre/host",
            line=line,
            energy_kwh=energy_kwh,
        )


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _any_timestamp(report: dict[str, Any]) -> object:
    """A report without ``host``: the timestamp of its first socket or consumer, if any."""
    for key in ("sockets", "consumers"):
        items = report.get(key)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and _is_number(item.get("timestamp")):
                    return item["timestamp"]
    return None


__all__ = ["ScaphandreJson"]
