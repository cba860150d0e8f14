"""macOS ``powermetrics`` text logs (the default ``-f text`` output).

A log is a run of samples, each opened by a header line::

    *** Sampled system activity (Fri Nov 10 12:37:08 2023 +0100) (104.51ms elapsed) ***

followed by the sampler sections. The power lines read are::

    CPU Power: 947 mW                 Apple Silicon          -> Component.CPU
    GPU Power: 153 mW                 (first occurrence)     -> Component.GPU
    ANE Power: 0 mW                                          -> Component.ANE
    DRAM Power: 220 mW                macOS 12 only          -> Component.DRAM
    Package Power: 1473 mW            macOS 12 only          -> Component.SOC_OTHER (the residual)
    Combined Power (CPU + GPU + ANE): 983 mW                 -> a consistency check, never a record
    Intel energy model derived package power (CPUs+GT+SA): 0.58W   -> Component.PACKAGE

Cluster lines (``E-Cluster Power``, ``P0-Cluster Power`` ...) are parts of ``CPU Power`` and are never
read. The energy of a sample is its power times the sample's own elapsed time from its header.
``docs/formats/powermetrics.md`` describes the timing and data-quality rules in full.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, KeysView, Mapping, Set
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Final

import collectors._linescan as linescan
from collectors._chain import Back, ElapsedChain
from collectors._runs import Runs
from collectors.base import SourceContext, head_text, numbered_lines
from sci.model import Action, Component, IssueKind, Item, QualityIssue, Record, Tier
from sci.units import J_PER_KWH, MS_PER_S, MW_PER_W

if TYPE_CHECKING:
    from collectors._powermetrics_fast import Columns

_HEADER_PREFIX: Final = "*** Sampled system activity"
_MODEL_PREFIX: Final = "Machine model:"
_HEADER_RE: Final = re.compile(
    r"\*\*\* Sampled system activity \("
    r"(?P<when>(?P<wday>Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
    r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?P<day>[ \d]\d) "
    r"(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d) (?P<y>\d{4}) (?P<sign>[+-])(?P<oh>\d\d)(?P<om>\d\d))\) "
    r"\((?P<ms>\d+(?:\.\d+)?)ms elapsed\) \*\*\*",
    re.ASCII,
)
_HEADER_EXAMPLE: Final = "*** Sampled system activity (Fri Nov 10 12:37:08 2023 +0100) (104.51ms elapsed) ***"
_VALUE_RE: Final = re.compile(r" *(?P<value>-?(?:\d+(?:\.\d*)?|\.\d+)) ?(?P<unit>m?W)", re.ASCII)
_WEEKDAYS: Final = {name: i for i, name in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))}
_MONTHS: Final = {
    name: i
    for i, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}

_US_PER_S: Final = 1_000_000
_US_PER_MS: Final = 1_000
_S_PER_DAY: Final = 86_400
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL: Final = _EPOCH.date().toordinal()
_MIN_US: Final = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_MAX_US: Final = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_MW_MS_PER_KWH: Final = MW_PER_W * MS_PER_S * J_PER_KWH  # mW x ms in one kWh
_RESIDUAL_EPSILON_MW: Final = 1e-6  # float noise in Package - parts (values in W are not exact)
_COMBINED_TOLERANCE_MW: Final = 2.0  # four values each rounded to the nearest mW
_COMBINED_TOLERANCE_REL: Final = 0.01

# Power-line keys. Each maps to one component, except Package (a residual) and Combined (a check).
_CPU: Final = "CPU"
_GPU: Final = "GPU"
_ANE: Final = "ANE"
_DRAM: Final = "DRAM"
_PACKAGE: Final = "Package"
_COMBINED: Final = "Combined"
_INTEL: Final = "Intel"

# First character -> (line prefix, key). The first-character lookup keeps the per-line cost to a dict get.
_POWER_PREFIXES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "C": (("CPU Power:", _CPU), ("Combined Power (CPU + GPU + ANE):", _COMBINED)),
    "G": (("GPU Power:", _GPU),),
    "A": (("ANE Power:", _ANE),),
    "D": (("DRAM Power:", _DRAM),),
    "P": (("Package Power:", _PACKAGE),),
    "I": (("Intel energy model derived package power (CPUs+GT+SA):", _INTEL),),
}
_PARTS: Final = (_CPU, _GPU, _ANE, _DRAM)  # the parts of Package Power that are printed
_COMBINED_PARTS: Final = (_CPU, _GPU, _ANE)
_DIRECT: Final = (
    (_CPU, Component.CPU),
    (_GPU, Component.GPU),
    (_ANE, Component.ANE),
    (_DRAM, Component.DRAM),
)
_RECORD_KEYS: Final = frozenset((_CPU, _GPU, _ANE, _DRAM, _PACKAGE, _INTEL))
_APPLE_KEYS: Final = frozenset((_CPU, _GPU, _ANE, _DRAM, _PACKAGE, _COMBINED))


_SNIFF_MARKERS = (
    "*** Sampled system activity (",
    "**** Processor usage ****",
    "Intel energy model derived package power",
)


class PowermetricsText:
    """Energy per component and sample from a ``powermetrics`` text log (Apple Silicon or Intel Macs)."""

    name: ClassVar[str] = "powermetrics"
    version: ClassVar[str] = "1"
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {}
    needs_timezone: ClassVar[bool] = False  # every sample header carries its own UTC offset
    # parse reads the file once, start to end (base.reads_once): hashed as read, when the C line scan leaves
    # the read-ahead thread time to spare (with the numpy scan it does not: 6.5 s against 6.2 s at 1M)
    READS_ONCE: ClassVar[bool] = linescan.NATIVE

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        text = head_text(head)
        return any(marker in text for marker in _SNIFF_MARKERS) or (
            text.startswith("Machine model:") and "Boot time:" in text
        )

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        state = _State(ctx)
        if ctx.batches:  # blocks of plain lines, records as columns (collectors/_powermetrics_fast.py)
            from collectors._powermetrics_fast import parse_blocks

            yield from parse_blocks(state, dispatch)
            return
        out = state.out  # items are collected at sample boundaries and handed on here
        number = 0
        ended = True
        prefixes_of = _POWER_PREFIXES.get
        # The hot loop: one first-character test per line; a regex only on header and power lines.
        with numbered_lines(ctx) as lines:
            for number, text, ended in lines:
                if not text:
                    continue
                first = text[0]
                if first == "*":
                    if text.startswith(_HEADER_PREFIX):
                        state.header(number, text, ended)
                        if out:
                            yield from out
                            out.clear()
                    continue
                candidates = prefixes_of(first)
                if candidates is not None:
                    for prefix, key in candidates:
                        if text.startswith(prefix):
                            state.power(number, text, ended, key, len(prefix))
                            break
                elif first == "M" and text.startswith(_MODEL_PREFIX):
                    state.new_log(number, text)
        state.end(number, ended)
        yield from out


def dispatch(state: _State, number: int, text: str, ended: bool) -> None:
    """One line, as the hot loop of ``PowermetricsText.parse`` reads it (the block path's line handler)."""
    if not text:
        return
    first = text[0]
    if first == "*":
        if text.startswith(_HEADER_PREFIX):
            state.header(number, text, ended)
        return
    candidates = _POWER_PREFIXES.get(first)
    if candidates is not None:
        for prefix, key in candidates:
            if text.startswith(prefix):
                state.power(number, text, ended, key, len(prefix))
                return
    elif first == "M" and text.startswith(_MODEL_PREFIX):
        state.new_log(number, text)


# Every line prefix the line loop acts on (the block path keeps only lines that start with one of them).
LINE_PREFIXES: Final = (
    _HEADER_PREFIX,
    _MODEL_PREFIX,
    *(prefix for candidates in _POWER_PREFIXES.values() for prefix, _ in candidates),
)


class _Sample:
    """One sample while its lines are read. ``powers`` maps a key to (power in mW, line)."""

    __slots__ = ("cut", "elapsed_ms", "elapsed_us", "header_us", "index", "line", "powers")

    def __init__(self, index: int, line: int, header_us: int | None, elapsed_ms: float) -> None:
        self.index = index  # 1-based position among the samples of the file
        self.line = line  # the header line
        self.header_us = header_us  # None: a header cut off at the end of the file
        self.elapsed_ms = elapsed_ms
        self.elapsed_us = round(elapsed_ms * _US_PER_MS)
        self.powers: dict[str, tuple[float, int]] = {}
        self.cut = header_us is None  # the file ends inside this sample


class _State:
    """What the line loop hands over: the open sample, the timing chain, issues, the header block."""

    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.device = ctx.device
        self.out: list[Item] = []
        self.runs = _Runs(ctx.device, self.out)
        self.columns: Columns | None = None  # set by the block path: records go there as columns
        self.sample: _Sample | None = None
        self.model: str | None = None
        self.seen_header = False
        self.samples = 0
        self.chain = ElapsedChain(max_gap_s=ctx.max_gap_s)  # the end of the last sample placed
        self.prev_end_utc: datetime | None = None
        self.prev_end_us: int | None = None  # the time of prev_end_utc
        self.expected: Set[str] = frozenset()  # the power lines of the previous sample
        self.orphan_lines: list[int] = []
        self.orphan_keys: set[str] = set()
        self.new_run = False
        self.last_when = ""  # cache: consecutive headers often share the same second
        self.last_when_us = 0

    # -- line handlers ---------------------------------------------------------------------------------

    def header(self, number: int, text: str, ended: bool) -> None:
        """A ``*** Sampled system activity`` line: the open sample is complete, a new one starts."""
        if self.sample is not None:
            self.finish(self.sample, number - 1, last_of_log=False)
        else:
            self.close_orphans()
        self.sample = self.start(number, text, ended)

    def power(self, number: int, text: str, ended: bool, key: str, skip: int) -> None:
        sample = self.sample
        if sample is None:
            self.orphan_lines.append(number)
            self.orphan_keys.add(key)
        elif not ended:
            sample.cut = True  # the value itself may be cut short
        elif key not in sample.powers:  # first occurrence: GPU Power is printed twice on macOS 13+
            sample.powers[key] = (self.power_mw(number, text, skip), number)

    def new_log(self, number: int, text: str) -> None:
        """A ``Machine model:`` line: a log (perhaps one of several concatenated) opens its header block."""
        if self.sample is not None:
            self.finish(self.sample, number - 1, last_of_log=True)
            self.sample = None
        self.model = text[len(_MODEL_PREFIX) :].strip() or None
        self.expected = frozenset()
        self.new_run = True  # powermetrics was (re)started: time before it is not a gap in this log

    def end(self, number: int, ended: bool) -> None:
        if not self.seen_header:
            raise self.ctx.error(
                max(number, 1),
                f"not a powermetrics text log: no sample header line in {number:,} lines",
                self._not_a_log_hint(),
            )
        sample = self.sample
        if sample is not None:
            if not ended:
                sample.cut = True
            self.finish(sample, number, last_of_log=True)
        self.runs.close()

    def _not_a_log_hint(self) -> str:
        with self.ctx.path.open("rb") as stream:
            head = stream.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith((b"<?xml", b"<plist", b"bplist")):
            return (
                "this is a property list: it was written with powermetrics -f plist, so read it with a "
                "plist collector; this one reads the default text output"
            )
        return (
            "this collector reads the default text output of powermetrics, where each sample opens with "
            f"a line like {_HEADER_EXAMPLE!r}. Was it written with -f plist? An excerpt without its "
            "sample header lines cannot be timed: keep the header line of each sample"
        )

    def close_orphans(self) -> None:
        """The first sample header of a log: the power lines before it had no interval."""
        lines = self.orphan_lines
        if not lines:
            return
        self.out.append(
            QualityIssue(
                kind=IssueKind.ORPHAN_LINES,
                action=Action.DROPPED,
                line_start=lines[0],
                line_end=lines[-1],
                rows=len(lines),
                detail=(
                    f"{len(lines)} power line(s) before the first sample header (an excerpt, or a log cut at "
                    "its start): without a header there is no interval to charge them to"
                ),
                device=self.device,
            )
        )
        self.expected = frozenset(self.orphan_keys)
        self.orphan_lines = []
        self.orphan_keys = set()

    # -- values ----------------------------------------------------------------------------------------

    def start(self, number: int, text: str, ended: bool) -> _Sample:
        self.seen_header = True
        self.samples += 1
        match = _HEADER_RE.fullmatch(text)
        if match is None:
            if not ended:  # the log was cut inside this header line
                return _Sample(self.samples, number, None, 0.0)
            raise self.ctx.error(
                number,
                f"unreadable sample header: {text[:120]!r}",
                f"expected the form {_HEADER_EXAMPLE!r} (C-locale date, day padded with a space)",
            )
        elapsed_ms = float(match["ms"])
        if not math.isfinite(elapsed_ms):
            raise self.ctx.error(number, f"sample elapsed time is out of range: {match['ms']}ms")
        when = match["when"]
        if when != self.last_when:
            self.last_when_us = self._header_us(number, match)
            self.last_when = when
        sample = _Sample(self.samples, number, self.last_when_us, elapsed_ms)
        sample.cut = not ended
        return sample

    def _header_us(self, number: int, match: re.Match[str]) -> int:
        """The header time as integer microseconds since the epoch, UTC (the header has its offset)."""
        try:
            day = date(int(match["y"]), _MONTHS[match["mon"]], int(match["day"]))
        except ValueError:
            raise self.ctx.error(number, f"sample header has no such date: {match['when']!r}") from None
        if day.weekday() != _WEEKDAYS[match["wday"]]:
            raise self.ctx.error(
                number,
                f"sample header weekday does not match its date: {match['when']!r}",
                "the header line is corrupt; check the file against the original log",
            )
        hour, minute, second = int(match["h"]), int(match["mi"]), int(match["s"])
        off_h, off_m = int(match["oh"]), int(match["om"])
        if hour > 23 or minute > 59 or second > 60 or off_h > 23 or off_m > 59:
            raise self.ctx.error(number, f"sample header has no such time: {match['when']!r}")
        offset_s = (off_h * 3600 + off_m * 60) * (1 if match["sign"] == "+" else -1)
        local_s = (day.toordinal() - _EPOCH_ORDINAL) * _S_PER_DAY + hour * 3600 + minute * 60 + second
        return (local_s - offset_s) * _US_PER_S

    def power_mw(self, number: int, text: str, skip: int) -> float:
        """The power on a power line, in mW (``W`` values are converted)."""
        match = _VALUE_RE.fullmatch(text, skip)
        if match is None:
            raise self.ctx.error(
                number,
                f"unreadable power value: {text[:120]!r}",
                "expected '<Name> Power: <number> mW' (or W); check the file against the original log",
            )
        value = float(match["value"])
        power_mw = value if match["unit"] == "mW" else value * MW_PER_W
        if not math.isfinite(power_mw):
            raise self.ctx.error(number, f"power value is out of range: {text[:120]!r}")
        return power_mw

    # -- a complete sample -----------------------------------------------------------------------------

    def finish(self, sample: _Sample, last_line: int, *, last_of_log: bool) -> None:
        """Turn a sample (lines ``sample.line``..``last_line``) into records and issues."""
        if self.runs.open:
            self.runs.flush_before(sample.index)
        names = sample.powers.keys()
        if sample.cut or (last_of_log and not names >= self.expected):
            self.out.append(self._truncated(sample, last_line, names))
            return
        if names:
            self.expected = names
        intel = sample.powers.get(_INTEL)
        if intel is not None and not _APPLE_KEYS.isdisjoint(names):
            raise self.ctx.error(
                intel[1],
                "this sample has both the Intel package power line and Apple Silicon power lines",
                "one sample comes from one Mac; check whether two logs were interleaved",
            )
        interval = self._place(sample, last_line)
        if interval is not None:
            self._emit(sample, last_line, *interval)

    def _place(self, sample: _Sample, last_line: int) -> tuple[int, int] | None:
        """The sample's interval on the chained time line (``collectors/_chain.py``), or None if time went
        backwards."""
        header_us = sample.header_us
        if header_us is None:  # a cut header is always the cut last sample, handled by finish
            return None
        prev_end_us = self.chain.prev_end_us
        new_run, self.new_run = self.new_run, False
        placed = self.chain.place(header_us, sample.elapsed_us)
        if isinstance(placed, Back):
            lines = (sample.line, last_line)
            self.runs.add(IssueKind.NON_MONOTONIC, Action.DROPPED, sample.index, lines, worst=placed.back_s)
            return None
        if placed.gap_s is not None and not new_run and prev_end_us is not None:
            self.out.append(self._gap(sample, placed.start_us, prev_end_us))
        start_us, end_us = placed.start_us, placed.end_us
        if not (_MIN_US <= start_us <= _MAX_US and _MIN_US <= end_us <= _MAX_US):
            raise self.ctx.error(sample.line, "sample time is out of the supported range")
        return start_us, end_us

    def _span(self, sample: _Sample, start_us: int, end_us: int) -> _Span:
        """The elapsed time and the interval of a placed sample as ``datetime`` s (record path)."""
        if start_us == self.prev_end_us and self.prev_end_utc is not None:
            start_utc = self.prev_end_utc  # contiguous: share the datetime
        else:
            start_utc = _EPOCH + timedelta(microseconds=start_us)
        end_utc = _EPOCH + timedelta(microseconds=end_us)
        self.prev_end_us, self.prev_end_utc = end_us, end_utc
        return sample.elapsed_ms, start_utc, end_utc

    def _emit(self, sample: _Sample, last_line: int, start_us: int, end_us: int) -> None:
        powers = sample.powers
        runs = self.runs
        negative = [line for mw, line in powers.values() if mw < 0]
        if negative:
            runs.add(IssueKind.NEGATIVE_VALUE, Action.DROPPED, sample.index, (negative[0], negative[-1]))
            return
        if _RECORD_KEYS.isdisjoint(powers):
            runs.add(
                IssueKind.NO_POWER_DATA,
                Action.NOT_BRIDGED,
                sample.index,
                (sample.line, last_line),
                seconds=sample.elapsed_ms / MS_PER_S,
                worst=1.0 if _COMBINED in powers else 0.0,
            )
            return
        columns = self.columns
        add: Callable[[Component, float, int], None]
        if columns is None:
            span = self._span(sample, start_us, end_us)
            append = self.out.append

            def add(component: Component, power_mw: float, line: int) -> None:
                append(self._record(component, power_mw, line, span))

        else:
            add = columns.adder(self, sample.elapsed_ms, start_us, end_us)
        for key, component in _DIRECT:
            got = powers.get(key)
            if got is not None:
                add(component, got[0], got[1])
        package = powers.get(_PACKAGE)
        if package is not None:
            residual_mw = package[0] - sum(powers[key][0] for key in _PARTS if key in powers)
            if residual_mw >= -_RESIDUAL_EPSILON_MW:
                add(Component.SOC_OTHER, max(residual_mw, 0.0), package[1])
            else:
                lines = (package[1], package[1])
                runs.add(IssueKind.NEGATIVE_VALUE, Action.KEPT, sample.index, lines, worst=-residual_mw)
        intel = powers.get(_INTEL)
        if intel is not None:
            add(Component.PACKAGE, intel[0], intel[1])
        combined = powers.get(_COMBINED)
        if combined is not None:
            off_mw = combined[0] - sum(powers[key][0] for key in _COMBINED_PARTS if key in powers)
            if abs(off_mw) > max(_COMBINED_TOLERANCE_MW, _COMBINED_TOLERANCE_REL * combined[0]):
                lines = (combined[1], combined[1])
                runs.add(IssueKind.MALFORMED_ROW, Action.KEPT, sample.index, lines, worst=off_mw)

    def _record(self, component: Component, power_mw: float, line: int, span: _Span) -> Record:
        elapsed_ms, start_utc, end_utc = span
        energy_kwh = self.energy_kwh(power_mw, elapsed_ms, line)
        return Record(
            device=self.device,
            component=component,
            start_utc=start_utc,
            end_utc=end_utc,
            tier=Tier.MEASURED,
            method=_METHODS[component],
            line=line,
            energy_kwh=energy_kwh,
            device_model=self.model,
        )

    def energy_kwh(self, power_mw: float, elapsed_ms: float, line: int) -> float:
        energy_kwh = power_mw * elapsed_ms / _MW_MS_PER_KWH
        if not math.isfinite(energy_kwh):
            raise self.ctx.error(line, "power x elapsed time is out of range")
        return energy_kwh

    def _truncated(self, sample: _Sample, last_line: int, names: KeysView[str]) -> QualityIssue:
        if sample.cut:
            why = "the log ends inside this sample (its last line has no newline: the process was stopped)"
        else:
            missing = ", ".join(sorted(set(self.expected) - set(names)))
            why = f"the last sample of the log lacks the power line(s) {missing} seen earlier in the log"
        return QualityIssue(
            kind=IssueKind.TRUNCATED,
            action=Action.DROPPED,
            line_start=sample.line,
            line_end=last_line,
            rows=1,
            detail=f"{why}: the sample is dropped rather than counted in part",
            device=self.device,
            seconds=sample.elapsed_ms / MS_PER_S if sample.header_us is not None else None,
        )

    def _gap(self, sample: _Sample, start_us: int, prev_end_us: int) -> QualityIssue:
        gap_s = (start_us - prev_end_us) / _US_PER_S
        since = (_EPOCH + timedelta(microseconds=prev_end_us)).isoformat()
        return QualityIssue(
            kind=IssueKind.GAP,
            action=Action.NOT_BRIDGED,
            line_start=sample.line,
            line_end=sample.line,
            rows=1,
            detail=(
                f"no sample for {gap_s:.3f} s after {since} (more than max_gap_s = "
                f"{self.ctx.max_gap_s:g} s): the time is not bridged. Was the Mac asleep, or were logs "
                "concatenated?"
            ),
            device=self.device,
            seconds=gap_s,
        )


_Span = tuple[float, datetime, datetime]  # elapsed ms, start, end
_METHODS: Final = {component: f"powermetrics/{component.value}-power" for component in Component}


@dataclass(frozen=True, slots=True)
class _Tally:
    """What a closed run's detail is written from: its sample count and its worst value."""

    rows: int
    worst: float


def _no_power_detail(run: _Tally) -> str:
    combined = " (a Combined Power line alone is not split into components)" if run.worst else ""
    return (
        f"{run.rows} sample(s) without a CPU/GPU/ANE/DRAM/Package power line{combined}: their time is "
        "not covered. Run powermetrics with --samplers cpu_power (and gpu_power)"
    )


_DETAILS: Final[dict[tuple[IssueKind, Action], Callable[[_Tally], str]]] = {
    (IssueKind.NON_MONOTONIC, Action.DROPPED): lambda run: (
        f"{run.rows} sample(s) start before the previous sample ended (time went back by up to "
        f"{run.worst:.3f} s): dropped. Was the clock changed, or were logs concatenated out of order?"
    ),
    (IssueKind.NO_POWER_DATA, Action.NOT_BRIDGED): _no_power_detail,
    (IssueKind.NEGATIVE_VALUE, Action.DROPPED): lambda run: (
        f"{run.rows} sample(s) with a negative power value: each such sample is dropped whole"
    ),
    (IssueKind.NEGATIVE_VALUE, Action.KEPT): lambda run: (
        f"Package Power is below CPU + GPU + ANE + DRAM in {run.rows} sample(s) (by up to {run.worst:g} "
        "mW): no soc-other record there, so the device total is the sum of the components, not Package "
        "Power"
    ),
    (IssueKind.MALFORMED_ROW, Action.KEPT): lambda run: (
        f"Combined Power (CPU + GPU + ANE) differs from the sum of the CPU, GPU and ANE lines by more "
        f"than rounding in {run.rows} sample(s) (by up to {run.worst:+g} mW): the component lines are "
        "counted as printed"
    ),
}


class _Runs:
    """Open runs of sample-level findings, at most one per (kind, action) (``collectors/_runs.py``); the
    detail is written when a run closes, from its sample count and its worst value."""

    def __init__(self, device: str, out: list[Item]) -> None:
        self.out = out
        self.runs = Runs(device)
        self.worst: dict[tuple[IssueKind, Action], float] = {}

    @property
    def open(self) -> bool:
        return bool(self.runs)

    def add(
        self,
        kind: IssueKind,
        action: Action,
        index: int,
        lines: tuple[int, int],
        *,
        seconds: float | None = None,
        worst: float = 0.0,
    ) -> None:
        key = (kind, action)
        before = self.runs.get(key)
        closed = self.runs.note(kind, action, "", lines, key=key, at=index, seconds=seconds)
        if closed or before is None:
            self._out(closed)
            self.worst[key] = worst
        elif abs(worst) > abs(self.worst[key]):
            self.worst[key] = worst

    def flush_before(self, index: int) -> None:
        """Close the runs that sample ``index`` cannot extend."""
        self._out(self.runs.close_stale(index))

    def close(self) -> None:
        self._out(self.runs.close_all())

    def _out(self, issues: list[QualityIssue]) -> None:
        for issue in issues:
            key = (issue.kind, issue.action)
            detail = _DETAILS[key](_Tally(issue.rows, self.worst[key]))
            self.out.append(replace(issue, detail=detail))
