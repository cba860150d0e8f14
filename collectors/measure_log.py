"""sci-report's own measurement log (``*.scimeasure.jsonl``, written by ``sci-report measure`` and
``sci.measure.Tracker``) -> one record per sample per device component.

Line 1 is a header object (``"format": "sci-report-measure"``), then one object per sample and device
component with its own interval and energy, and a final ``{"end": ..., "exit_code": ...}`` line. A run
without the end line was killed: its records are kept and a ``truncated`` issue says so. Format and rules:
``docs/formats/measure.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from collectors.base import SourceContext, cut_last_line, head_text, numbered_lines
from sci.measure.log import FORMAT, VERSION
from sci.measure.readings import METHODS, PROXY_METHODS
from sci.model import Action, Component, IssueKind, Item, QualityIssue, Record, Tier
from sci.units import J_PER_KWH

_COMPONENTS = {c.value: c for c in Component}
_HINT = "this is sci-report's measurement log; re-run `sci-report measure`, or remove the damaged line"


def _is_header(value: object) -> bool:
    return isinstance(value, dict) and value.get("format") == FORMAT


class MeasureLog:
    """Collector for the log of ``sci-report measure`` and of ``sci.measure.Tracker``."""

    name: ClassVar[str] = "measure"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = False  # epoch seconds
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {}

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """The first line is a JSON object whose ``format`` is ``sci-report-measure``."""
        first = head_text(head).partition("\n")[0]
        if not first.startswith("{"):
            return False
        try:
            return _is_header(json.loads(first))
        except ValueError:
            return False

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        yield from _Parser(ctx).run()


class _Parser:
    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.run_line: int | None = None  # the header line of the open run (None: no run open)
        self.last_line = 0
        self.last_t_end: float | None = None
        self.tdp_w: float | None = None
        self.cpu_model: str | None = None
        self.models: dict[str, str] = {}  # device -> GPU model, from the header
        self.ends: dict[tuple[str, str], tuple[float, int]] = {}  # series -> last t_end and its line

    def run(self) -> Iterator[Item]:
        with numbered_lines(self.ctx) as lines:
            for number, text, ended in lines:
                if not text.strip():
                    continue
                try:
                    value = json.loads(text)
                except ValueError:
                    if not ended:
                        yield cut_last_line(self.ctx, number)
                        break
                    raise self.ctx.error(number, "this line is not a JSON object", _HINT) from None
                yield from self._line(value, number)
        truncated = self._close_run()
        if truncated is not None:
            yield truncated

    def _line(self, value: object, number: int) -> Iterator[Item]:
        if not isinstance(value, dict):
            raise self.ctx.error(number, "this line is not a JSON object", _HINT)
        if "format" in value:
            issue = self._close_run()
            if issue is not None:
                yield issue
            self._header(value, number)
        elif self.run_line is None:
            what = "an end line" if "end" in value else "a sample"
            raise self.ctx.error(number, f"{what} outside a run (no header before it)", _HINT)
        elif "end" in value:
            self._number(value, "end", number)
            self.run_line = None
        else:
            yield from self._sample(value, number)
        self.last_line = number

    def _header(self, value: dict[str, Any], number: int) -> None:
        if value.get("format") != FORMAT:
            raise self.ctx.error(number, f"format {value.get('format')!r} is not {FORMAT!r}", _HINT)
        version = value.get("version")
        if version != VERSION:
            raise self.ctx.error(
                number,
                f"log version {version!r} is not {VERSION}",
                "a newer sci-report wrote it: upgrade sci-report to read it",
            )
        self.run_line = number
        tdp = _finite(value.get("tdp_w"))
        self.tdp_w = tdp if tdp is not None and tdp > 0 else None
        model = value.get("cpu_model")
        self.cpu_model = model if isinstance(model, str) and model else None
        self.models = dict(_gpu_models(value.get("backends")))

    def _close_run(self) -> QualityIssue | None:
        if self.run_line is None:
            return None
        line, self.run_line = self.run_line, None
        return QualityIssue(
            kind=IssueKind.TRUNCATED,
            action=Action.KEPT,
            line_start=line,
            line_end=max(self.last_line, line),
            rows=max(self.last_line - line, 0),
            detail="the run has no end line (the command was killed, or is still running): its samples "
            "are kept; the time after the last sample is not covered",
            device=self.ctx.device,
        )

    def _number(self, value: dict[str, Any], key: str, number: int) -> float:
        found = _finite(value.get(key))
        if found is None:
            raise self.ctx.error(number, f"{key} {value.get(key)!r} is not a finite number", _HINT)
        return found

    def _text(self, value: dict[str, Any], key: str, number: int) -> str:
        found = value.get(key)
        if not isinstance(found, str) or not found:
            raise self.ctx.error(number, f"{key} {found!r} is not a name", _HINT)
        return found

    def _time(self, seconds: float, number: int) -> datetime:
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise self.ctx.error(number, f"time {seconds!r} is out of range", _HINT) from None

    def _sample(self, value: dict[str, Any], number: int) -> Iterator[Item]:
        ctx = self.ctx
        t_start, t_end = self._number(value, "t_start", number), self._number(value, "t_end", number)
        if t_end < t_start:
            raise ctx.error(number, f"t_end {t_end} is before t_start {t_start}", _HINT)
        device, component = self._text(value, "device", number), self._text(value, "component", number)
        method = self._text(value, "method", number)
        if component not in _COMPONENTS:
            raise ctx.error(number, f"unknown component {component!r}", _HINT)
        if method not in METHODS:
            raise ctx.error(number, f"unknown method {method!r}", "a newer sci-report wrote it: upgrade")
        energy_j = self._number(value, "energy_j", number)
        utilisation = value.get("utilisation")
        if utilisation is not None:
            utilisation = self._number(value, "utilisation", number)
        previous = self.ends.get((device, component))
        if previous is not None and t_start < previous[0]:
            yield QualityIssue(
                kind=IssueKind.NON_MONOTONIC,
                action=Action.DROPPED,
                line_start=number,
                line_end=number,
                rows=1,
                detail=f"this sample starts before the previous one of {device} {component} ended "
                f"(line {previous[1]}): it is not counted",
                device=self._device(device),
            )
            return
        self.ends[(device, component)] = (t_end, number)
        if value.get("wrapped") is True:
            yield QualityIssue(
                kind=IssueKind.COUNTER_WRAP,
                action=Action.KEPT,
                line_start=number,
                line_end=number,
                rows=1,
                detail=f"the {method} counter wrapped at its range in this sample; the delta is corrected",
                device=self._device(device),
            )
        proxy = method in PROXY_METHODS
        yield Record(
            device=self._device(device),
            component=_COMPONENTS[component],
            start_utc=self._time(t_start, number),
            end_utc=self._time(t_end, number),
            tier=Tier.PROXY if proxy else Tier.MEASURED,
            method=method,
            line=number,
            energy_kwh=energy_j / J_PER_KWH,
            utilisation=utilisation,
            device_model=self.cpu_model if proxy else self.models.get(device),
            tdp_w=self.tdp_w if proxy else None,
        )

    def _device(self, device: str) -> str:
        return f"{self.ctx.device}/{device}" if self.ctx.device else device


def _finite(value: object) -> float | None:
    """``value`` as a finite float; None for anything else (text, bool, NaN, an int too large)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _gpu_models(backends: object) -> Iterator[tuple[str, str]]:
    if not isinstance(backends, list):
        return
    for backend in backends:
        devices = backend.get("devices") if isinstance(backend, dict) else None
        for entry in devices if isinstance(devices, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("device"), str):
                model = entry.get("model")
                if isinstance(model, str) and model:
                    yield entry["device"], model
