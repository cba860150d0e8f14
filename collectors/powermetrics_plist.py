"""macOS ``powermetrics -f plist`` output: NUL-separated XML property lists -> measured energy.

Each document is one sample. The figures read are the **energies** of the ``processor`` dict, integrated
directly (summed), never ``*_power`` x time: ``cpu_power`` is not ``cpu_energy / elapsed_ns`` in real data
(it is over ``all_tasks.interval_ns``), so mixing the two would be inconsistent. Interval and component
rules, and every data-quality finding, are in ``docs/formats/powermetrics-plist.md``.
"""

from __future__ import annotations

import binascii
import itertools
import math
import plistlib
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Final
from xml.parsers.expat import ExpatError

from collectors._chain import Back, ElapsedChain, us_of, utc_of
from collectors._runs import Runs
from collectors.base import SourceContext, head_text
from sci.model import Action, Component, IssueKind, Item, QualityIssue, Record, Tier
from sci.units import J_PER_KWH, NS_PER_US

_BLOCK_BYTES: Final = 1 << 20
_MJ_PER_KWH: Final = 1_000 * J_PER_KWH
_XML_START: Final = b"<?xml"
_APPLE: Final = (("cpu_energy", Component.CPU), ("gpu_energy", Component.GPU), ("ane_energy", Component.ANE))
_PACKAGE: Final = (("package_energy", _MJ_PER_KWH), ("package_joules", J_PER_KWH))  # key, unit per kWh
# What plistlib.loads raises on damaged XML: its parser indexes its stack and regex matches unchecked.
_PLIST_ERRORS: Final = (
    plistlib.InvalidFileException,
    ExpatError,
    ValueError,
    TypeError,
    OverflowError,
    AttributeError,
    LookupError,  # an unknown encoding in the XML declaration
    IndexError,
    KeyError,
)
_MALFORMED: Final = (
    "document(s) that are not a powermetrics sample (unreadable XML, or no elapsed_ns/timestamp)"
)


@dataclass(frozen=True, slots=True)
class _Piece:
    """One document's bytes, where it sits, and whether a NUL byte ended it."""

    data: bytes
    line_start: int
    line_end: int
    ended: bool


class PowermetricsPlist:
    """Energy per component and sample from ``powermetrics -f plist`` (Apple Silicon or Intel Macs)."""

    name: ClassVar[str] = "powermetrics-plist"
    version: ClassVar[str] = "1"
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {}
    needs_timezone: ClassVar[bool] = False  # <date> values are UTC

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        text = head_text(head).lstrip()
        return text.startswith(("<?xml", "<plist")) and (
            "<key>elapsed_ns</key>" in text or "<key>hw_model</key>" in text
        )

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        yield from _Parser(ctx).run()


class _Parser:
    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.device = ctx.device
        self.chain = ElapsedChain(max_gap_s=ctx.max_gap_s)
        self.runs = Runs(ctx.device)
        self.samples = 0  # documents read as samples
        self.seq = 0

    def run(self) -> Iterator[Item]:
        for piece in _pieces(self.ctx):
            self.seq += 1
            yield from self._document(piece)
        if self.samples == 0:
            raise self.ctx.error(
                1,
                "not a powermetrics plist: no document with elapsed_ns and timestamp",
                "this collector reads `powermetrics -f plist` output (NUL-separated XML property lists); "
                'for the default text output use collector = "powermetrics"',
            )
        yield from self.runs.close_all()

    def _note(
        self, kind: IssueKind, action: Action, detail: str, piece: _Piece, seconds: float | None = None
    ) -> Iterator[QualityIssue]:
        lines = (piece.line_start, piece.line_end)
        yield from self.runs.note(
            kind, action, detail, lines, key=(kind, action), at=self.seq, seconds=seconds, any_detail=True
        )

    def _document(self, piece: _Piece) -> Iterator[Item]:
        try:
            doc = plistlib.loads(piece.data, fmt=plistlib.FMT_XML)
        except (*_PLIST_ERRORS, binascii.Error, RecursionError):
            doc = None
        sample = _sample_of(doc)
        if sample is None:
            if not piece.ended:
                yield self._truncated(piece)
            else:
                yield from self._note(IssueKind.MALFORMED_ROW, Action.DROPPED, _MALFORMED, piece)
            return
        self.samples += 1
        stamp, elapsed_ns, model, processor = sample
        elapsed_us = round(elapsed_ns / NS_PER_US)
        figures = _figures(processor)
        if figures is None:
            yield from self._note(
                IssueKind.MALFORMED_ROW, Action.DROPPED, "an energy value is not a number", piece
            )
            return
        try:
            placed = self.chain.place(us_of(stamp), elapsed_us)
            if isinstance(placed, Back):
                yield from self._note(
                    IssueKind.NON_MONOTONIC,
                    Action.DROPPED,
                    f"sample(s) start before the previous sample ended (by {placed.back_s:.3f} s at first): "
                    "dropped. Was the clock changed, or were logs concatenated out of order?",
                    piece,
                )
                return
            start_utc, end_utc = utc_of(placed.start_us), utc_of(placed.end_us)
        except OverflowError:
            raise self.ctx.error(piece.line_start, "sample time is out of the supported range") from None
        seconds = elapsed_us / 1_000_000
        if placed.gap_s is not None:
            yield from self._note(
                IssueKind.GAP,
                Action.NOT_BRIDGED,
                f"no sample between documents (more than max_gap_s = {self.ctx.max_gap_s:g} s): the time "
                "is not bridged. Was the Mac asleep, or were logs concatenated?",
                piece,
                seconds=placed.gap_s,
            )
        if not figures:
            yield from self._note(
                IssueKind.NO_POWER_DATA,
                Action.NOT_BRIDGED,
                "sample(s) without cpu_energy/gpu_energy/ane_energy (or package) in processor: their time "
                "is not covered. Run powermetrics with --samplers cpu_power,gpu_power",
                piece,
                seconds=seconds,
            )
            return
        if any(kwh < 0 for _, kwh in figures):
            yield from self._note(
                IssueKind.NEGATIVE_VALUE,
                Action.DROPPED,
                "sample(s) with a negative energy: dropped whole",
                piece,
            )
            return
        for component, energy_kwh in figures:
            yield Record(
                device=self.device,
                component=component,
                start_utc=start_utc,
                end_utc=end_utc,
                tier=Tier.MEASURED,
                method=f"powermetrics/{component.value}-energy",
                line=piece.line_start,
                energy_kwh=energy_kwh,
                device_model=model,
            )

    def _truncated(self, piece: _Piece) -> QualityIssue:
        return QualityIssue(
            kind=IssueKind.TRUNCATED,
            action=Action.DROPPED,
            line_start=piece.line_start,
            line_end=piece.line_end,
            rows=1,
            detail=(
                "an unfinished document (no closing </plist> and NUL byte: powermetrics was stopped "
                "mid-write): the sample is dropped rather than counted in part"
            ),
            device=self.device,
        )


def _sample_of(doc: Any) -> tuple[datetime, int, str | None, Mapping[str, Any]] | None:
    """(timestamp UTC, elapsed_ns, hw_model, processor) of a sample document, or None."""
    if not isinstance(doc, dict):
        return None
    stamp, elapsed = doc.get("timestamp"), doc.get("elapsed_ns")
    if not isinstance(stamp, datetime) or not isinstance(elapsed, int) or isinstance(elapsed, bool):
        return None
    if elapsed < 0:
        return None
    model = doc.get("hw_model")
    processor = doc.get("processor")
    merged: dict[str, Any] = dict(processor) if isinstance(processor, dict) else {}
    gpu = doc.get("gpu")
    if "gpu_energy" not in merged and isinstance(gpu, dict) and "gpu_energy" in gpu:
        merged["gpu_energy"] = gpu["gpu_energy"]  # the gpu sampler repeats it
    utc = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    name = (model.strip() or None) if isinstance(model, str) else None
    return utc, elapsed, name, merged


def _figures(processor: Mapping[str, Any]) -> list[tuple[Component, float]] | None:
    """The (component, kWh) figures of a sample; None if a value is not a number.

    A package figure (older macOS ``package_energy`` in mJ, Intel ``package_joules`` in J) covers CPU,
    GPU and more: it is the sample's only record. ``combined_power`` is the sum of cpu, gpu and ane and is
    never read.
    """
    for key, per_kwh in _PACKAGE:
        if key in processor:
            value = _number(processor[key])
            return None if value is None else [(Component.PACKAGE, value / per_kwh)]
    figures: list[tuple[Component, float]] = []
    for key, component in _APPLE:
        if key in processor:
            value = _number(processor[key])
            if value is None:
                return None
            figures.append((component, value / _MJ_PER_KWH))
    return figures


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value) if not isinstance(value, int) or abs(value) < 2**1000 else math.inf
    return number if math.isfinite(number) else None


def _pieces(ctx: SourceContext) -> Iterator[_Piece]:
    """The documents of the stream, split on NUL bytes (and on a new ``<?xml`` inside one chunk)."""
    line = 1
    buffer = b""
    with ctx.open_binary() as stream:
        while True:
            try:
                block = stream.read(_BLOCK_BYTES)
            except (OSError, EOFError, zlib.error) as exc:
                raise ctx.error(
                    None,
                    f"cannot read on: the data is corrupt or cut off ({exc})",
                    "re-copy the file, or decompress what is readable with `zcat FILE > FILE.plist`",
                ) from None
            if not block:
                break
            buffer += block
            *complete, buffer = buffer.split(b"\x00")
            for chunk in complete:
                yield from _split(chunk, line, ended=True)
                line += chunk.count(b"\n")
    if buffer.strip():
        yield from _split(buffer, line, ended=False)


def _split(chunk: bytes, line: int, *, ended: bool) -> Iterator[_Piece]:
    """A NUL-separated chunk as documents: a log cut mid-document and restarted has two in one chunk."""
    starts = [i for i in _find_all(chunk, _XML_START) if chunk[:i].strip()]
    bounds = [0, *starts, len(chunk)]
    for n, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        part = chunk[lo:hi]
        body = part.strip()
        if not body:
            continue
        first = line + chunk[: lo + part.index(body[:1])].count(b"\n")
        last = first + body.count(b"\n")
        yield _Piece(body, first, last, ended and n == len(bounds) - 2)


def _find_all(data: bytes, needle: bytes) -> Iterator[int]:
    i = data.find(needle)
    while i >= 0:
        yield i
        i = data.find(needle, i + 1)
