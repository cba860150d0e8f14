"""CarbonTracker's standard log (``..._carbontracker.log``) -> measured energy per epoch and component.

Per epoch the log has ``Epoch N:``, ``Duration: H:MM:SS.ss`` and ``Average power usage (W) for cpu: 60.0``
(a list ``[a, b]`` for several devices, ``None`` when not measured), logged when the epoch ends. Epoch
energy = average power x duration; that power is NOT multiplied by CarbonTracker's PUE (only its predicted
and actual totals in the ``_output.log`` are), so no PUE is divided out. Rules and findings:
``docs/formats/carbontracker.md``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Final

from collectors._chain import Back, ElapsedChain, us_of, utc_of
from collectors._localtime import LocalClock, describe
from collectors._runs import Runs
from collectors.base import SourceContext, cut_last_line, head_text, numbered_lines
from sci.model import Action, Component, IssueKind, Item, QualityIssue, Record, Tier
from sci.units import J_PER_KWH, US_PER_S

_LINE: Final = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) - (.*)", re.ASCII)
_EPOCH: Final = re.compile(r"Epoch (\d+):\s*")
_DURATION: Final = re.compile(r"Duration: (?:(\d+) days?, )?(\d+):(\d\d):(\d\d(?:\.\d+)?)\s*", re.ASCII)
_POWER: Final = re.compile(r"Average power usage \(W\) for (\w+): (.*)")
_DEVICES: Final = re.compile(r"(\w+) with device\(s\) (.*?)\.(?= \w+ with device\(s\) |\s*$)")
_SNIFF: Final = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - (carbontracker version|The following components were found|Epoch \d+:)"
)
_COMPONENTS: Final = {"cpu": Component.CPU, "gpu": Component.GPU}
_HINT: Final = "check the file against the original carbontracker log"


@dataclass(slots=True)
class _Epoch:
    number: int
    line: int
    stamp_utc: datetime
    duration_s: float | None = None
    powers: dict[str, tuple[list[float] | None, int]] = field(default_factory=dict)
    last_line: int = 0


class CarbontrackerLog:
    """Collector for CarbonTracker's standard log (``log_dir=...``), one file per tracker."""

    name: ClassVar[str] = "carbontracker"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = True  # log times are local time (datetime.fromtimestamp)
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {}

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        return any(_SNIFF.match(line) for line in head_text(head).splitlines()[:5])

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        yield from _Parser(ctx).run()


class _Parser:
    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.clock = LocalClock(ctx.timezone) if ctx.timezone is not None else None
        self.chain = ElapsedChain(max_gap_s=ctx.max_gap_s)
        self.runs = Runs(ctx.device)
        self.epoch: _Epoch | None = None
        self.devices: dict[str, list[str]] = {}
        self.seen_line = False
        self.seq = 0

    def run(self) -> Iterator[Item]:
        cut = False
        with numbered_lines(self.ctx) as lines:
            for number, text, ended in lines:
                if not ended:
                    yield cut_last_line(self.ctx, number)
                    cut = True
                    break
                match = _LINE.fullmatch(text)
                if match is not None:
                    yield from self._message(match, number)
        if not self.seen_line:
            raise self.ctx.error(
                1,
                "not a CarbonTracker standard log: no 'YYYY-MM-DD HH:MM:SS - message' line",
                "ingest the ..._carbontracker.log file (not _output.log or _err.log)",
            )
        if self.epoch is not None:
            yield from self._finish(self.epoch, cut=cut)
        yield from self.runs.close_all()

    def _note(
        self,
        kind: IssueKind,
        action: Action,
        detail: str,
        lines: tuple[int, int],
        seconds: float | None = None,
    ) -> Iterator[QualityIssue]:
        yield from self.runs.note(
            kind, action, detail, lines, key=(kind, action), at=self.seq, seconds=seconds, any_detail=True
        )

    def _message(self, match: re.Match[str], number: int) -> Iterator[Item]:
        self.seen_line = True
        message = match[7]
        if message.startswith("CarbonTracker: "):
            raise self.ctx.error(
                number,
                "this is CarbonTracker's _output.log (predicted and actual totals, PUE-multiplied)",
                "ingest the standard log ..._carbontracker.log beside it: its epoch lines are the figures",
            )
        epoch = self.epoch
        found = _EPOCH.fullmatch(message)
        if found is not None:
            if epoch is not None:
                yield from self._finish(epoch, cut=False)
            stamp, flagged = self._stamp(match, number)
            yield from flagged
            self.epoch = _Epoch(int(found[1]), number, stamp, last_line=number)
            return
        duration = _DURATION.fullmatch(message)
        power = _POWER.fullmatch(message)
        if epoch is not None and duration is not None:
            days, hours, minutes, seconds = duration.groups()
            epoch.duration_s = (
                int(days or 0) * 86_400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)
            )
            epoch.last_line = number
        elif epoch is not None and power is not None:
            epoch.powers[power[1]] = (self._values(power[2], number), number)
            epoch.last_line = number
        elif message.startswith("Training was interrupted"):
            yield QualityIssue(
                kind=IssueKind.TRUNCATED,
                action=Action.KEPT,
                line_start=number,
                line_end=number,
                rows=1,
                detail=f"{message.strip()} The monitored epochs are counted; the rest is not covered",
                device=self.ctx.device,
            )
        elif message.startswith("The following components were found:"):
            for name, devices in _DEVICES.findall(message):
                self.devices[name.lower()] = [d.strip() for d in devices.split(",") if d.strip()]

    def _values(self, text: str, number: int) -> list[float] | None:
        body = text.strip()
        if body == "None":
            return None
        cells = [c for c in re.split(r"[,\s]+", body.strip("[]")) if c]
        try:
            values = [float(c) for c in cells]
        except ValueError:
            values = []
        if not values or not all(math.isfinite(v) for v in values):
            raise self.ctx.error(
                number, f"average power {body!r} is not a number or a list of numbers", _HINT
            )
        return values

    def _stamp(self, match: re.Match[str], number: int) -> tuple[datetime, list[QualityIssue]]:
        clock = self.clock
        if clock is None:
            raise self.ctx.error(
                number,
                "the log times are local time without an offset, and no timezone is set",
                'set timezone = "Area/City" on this source in sci.toml (the zone of the training machine)',
            )
        try:
            y, mo, d, h, mi, sec = (int(match[i]) for i in range(1, 7))
            wall = datetime(y, mo, d, h, mi, sec)  # noqa: DTZ001 - local time, resolved below
            utc, flag = clock.to_utc(wall)
        except (ValueError, OverflowError):
            raise self.ctx.error(number, f"no such date and time: {match[0][:19]!r}", _HINT) from None
        if flag is None:
            return utc, []
        closed = self.runs.note(
            IssueKind.AMBIGUOUS_TIME,
            Action.KEPT,
            describe(flag, clock.zone),
            number,
            key=(IssueKind.AMBIGUOUS_TIME, Action.KEPT),
            at=self.seq + 1,
            any_detail=True,
        )
        return utc, closed

    def _finish(self, epoch: _Epoch, *, cut: bool) -> Iterator[Item]:
        self.seq += 1
        self.epoch = None
        lines = (epoch.line, epoch.last_line)
        if cut or epoch.duration_s is None or not epoch.powers:
            detail = (
                "the log ends inside this epoch's lines (cut off mid-write)"
                if cut
                else "an epoch without its Duration or power lines"
            )
            yield from self._note(
                IssueKind.TRUNCATED, Action.DROPPED, f"{detail}: the epoch is dropped", lines
            )
            return
        try:
            placed = self.chain.place(us_of(epoch.stamp_utc), round(epoch.duration_s * US_PER_S))
            if isinstance(placed, Back):
                yield from self._note(
                    IssueKind.NON_MONOTONIC,
                    Action.DROPPED,
                    f"epoch(s) starting before the previous epoch ended (by {placed.back_s:.2f} s): dropped",
                    lines,
                )
                return
            start_utc, end_utc = utc_of(placed.start_us), utc_of(placed.end_us)
        except OverflowError:
            raise self.ctx.error(epoch.line, "the epoch's time is out of range", _HINT) from None
        if placed.gap_s is not None:
            yield from self._note(
                IssueKind.GAP,
                Action.NOT_BRIDGED,
                "time between epochs (validation, data loading...) is not monitored by CarbonTracker",
                lines,
                seconds=placed.gap_s,
            )
        for name, (values, line) in epoch.powers.items():
            yield from self._component(epoch, name, values, line, (start_utc, end_utc))

    def _component(
        self, epoch: _Epoch, name: str, values: list[float] | None, line: int, span: tuple[datetime, datetime]
    ) -> Iterator[Item]:
        component = _COMPONENTS.get(name.lower())
        if component is None:
            yield from self._note(
                IssueKind.MALFORMED_ROW,
                Action.DROPPED,
                f"unknown component {name!r}: not counted",
                (line, line),
            )
            return
        if values is None:
            yield from self._note(
                IssueKind.MISSING_VALUE,
                Action.DROPPED,
                f"average {name} power is None (not measured in this epoch): not counted, never as 0",
                (line, line),
                seconds=epoch.duration_s or 0.0,
            )
            return
        devices = self.devices.get(name.lower(), [])
        if component is Component.CPU and devices and not any(ch.isdigit() for ch in "".join(devices)):
            yield from self._note(
                IssueKind.TOOL_ESTIMATE,
                Action.KEPT,
                f"CPU {', '.join(devices)!r} names no model: CarbonTracker then uses a generic TDP at 50 % "
                "load, so the cpu power is an estimate, not a meter reading",
                (line, line),
            )
        for i, power_w in enumerate(values):
            if component is Component.GPU:
                device = f"{self.ctx.device}/gpu{i}"
            else:
                device = self.ctx.device if len(values) == 1 else f"{self.ctx.device}/cpu{i}"
            yield Record(
                device=device,
                component=component,
                start_utc=span[0],
                end_utc=span[1],
                tier=Tier.MEASURED,
                method=f"carbontracker/{component.value}",
                line=line,
                energy_kwh=power_w * (epoch.duration_s or 0.0) / J_PER_KWH,
                device_model=devices[i] if i < len(devices) else None,
            )
