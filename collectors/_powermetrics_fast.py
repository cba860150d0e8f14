"""The block path of the powermetrics text collector: only the lines that matter, records as columns.

The line loop of ``collectors/powermetrics_text.py`` acts on a line only if it starts with a sample
header, a ``Machine model:`` or one of the power-line prefixes; every other line (most of a log: the
processor, GPU and thermal sections) changes nothing. So a plain block (``collectors/_blocks.py``: ASCII,
no carriage return, every line ended) is split and filtered with polars, and only the kept lines go
through the same handlers, with their own line numbers. Lines outside blocks (the first block, odd
stretches, an unended last line) go through the same handlers one by one.

Records are not built one by one: ``Columns`` keeps plain lists per column and hands on a ``RecordBatch``
every ``BATCH_ROWS`` rows, holding exactly the records the line path would yield, in the same order.
Quality issues are yielded as they come, in the line path's order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import collectors.powermetrics_text as pt
from collectors._blocks import Block, BlockSource
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, Item, RecordBatch
from sci.units import MW_PER_W, US_PER_S

if TYPE_CHECKING:
    from collectors.powermetrics_text import _State

BATCH_ROWS = 1 << 16

_Dispatch = Callable[["_State", int, str, bool], None]


def parse_blocks(state: _State, dispatch: _Dispatch) -> Iterator[Item]:
    """What ``PowermetricsText.parse`` yields, with ``RecordBatch`` es instead of ``Record`` s."""
    ctx = state.ctx
    columns = Columns(state)
    state.columns = columns
    out = state.out
    number = 0
    ended = True
    with ctx.open_binary() as stream:
        for entry in BlockSource(ctx, stream):
            if isinstance(entry, Block):
                _block(state, dispatch, entry, columns)
                number = entry.first_line + entry.count - 1
                ended = True
            else:
                number, text, ended = entry
                dispatch(state, number, text, ended)
            if out:
                yield from out
                out.clear()
            if columns.rows >= BATCH_ROWS:
                yield columns.take()
    state.end(number, ended)
    yield from out
    if columns.rows:
        yield columns.take()


def _block(state: _State, dispatch: _Dispatch, block: Block, columns: Columns) -> None:
    """The kept lines of a block: the samples wholly inside it at once (``_Region``) when they are plain,
    the lines around them (and any sample that is not plain) through the line handlers."""
    numbers, texts, codes = kept_lines(block)
    heads = [i for i, code in enumerate(codes) if code == _HEAD]
    first, last = (heads[1], heads[-1]) if len(heads) >= 3 else (len(codes), len(codes))
    for i in range(first):
        dispatch(state, numbers[i], texts[i], True)
    if first < last:
        sample = state.sample  # what State.header does before it starts the next sample
        if sample is not None:
            state.finish(sample, numbers[first] - 1, last_of_log=False)
            state.sample = None
        else:
            state.close_orphans()
        region = _Region(state, numbers[first:last], texts[first:last], codes[first:last], numbers[last] - 1)
        if not region.take(columns):
            state.sample = state.start(numbers[first], texts[first], True)
            for i in range(first + 1, last):
                dispatch(state, numbers[i], texts[i], True)
    for i in range(last, len(codes)):
        dispatch(state, numbers[i], texts[i], True)


_HEAD = 0
_MODEL = 1
_KEYS = tuple(key for candidates in pt._POWER_PREFIXES.values() for _, key in candidates)
_CODED = (
    (pt._HEADER_PREFIX, _HEAD),
    (pt._MODEL_PREFIX, _MODEL),
    *(
        (prefix, 2 + _KEYS.index(key))
        for candidates in pt._POWER_PREFIXES.values()
        for prefix, key in candidates
    ),
)
_PREFIXES = "^(" + "|".join(re.escape(prefix) for prefix, _ in _CODED) + ")"  # the line loop's tests
_VALUE = r"^[^:]*: *(-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)) ?(m?W)$"  # pt._VALUE_RE after the prefix


class _Region:
    """Whole samples inside one block, each opened by its header line, read at once when they are plain:
    every header readable, the same power lines in every sample (first occurrences), values readable and
    not negative, Package not below its parts, Combined within rounding of its parts, no Machine model
    line, each sample placed on the time line after the previous without a gap or a step back, and no
    issue run open. Then no sample gives an issue, and the records are built as columns. Otherwise
    ``take`` returns False having changed nothing, and the lines go through the line handlers."""

    def __init__(
        self, state: _State, numbers: list[int], texts: Any, codes: list[int], end_line: int
    ) -> None:
        self.end_line = end_line  # the last line of the last sample
        self.power_lines: dict[str, Any] = {}
        self.state = state
        self.numbers = numbers
        self.texts = texts
        self.codes = codes

    def take(self, columns: Columns) -> bool:
        import numpy as np

        state = self.state
        if _MODEL in self.codes:
            return False
        heads = [i for i, code in enumerate(self.codes) if code == _HEAD]
        times = self._times(heads)
        if times is None:
            return False
        powers = self._powers(len(heads))
        if powers is None:
            return False
        values, lines = powers
        placed = self._place(times[1], times[2])
        if placed is None:
            return False
        built = self._records(values, lines, np.array(times[0], dtype=np.float64))
        if built is None:
            return False
        components, energy, line, soc = built
        starts, ends, backs, gaps = placed
        n, c = energy.shape
        keep = np.ones((n, c), dtype=bool)
        if backs:
            keep[[i for i, _ in backs], :] = False
        residual, combined = self._findings(values)
        if residual is not None and soc is not None:
            keep[:, soc] &= residual >= -pt._RESIDUAL_EPSILON_MW
        first_index = state.samples + 1
        state.samples += n
        state.new_run = False
        state.expected = frozenset(values)
        state.last_when, state.last_when_us = times[3]
        self._replay(first_index, heads, backs, gaps, residual, combined)
        state.chain.prev_end_us = ends[-1]
        flat = keep.ravel()
        columns.add_chunk(
            components=np.tile(np.array(components, dtype=np.int8), n)[flat],
            line=line.ravel()[flat],
            start_us=np.repeat(np.array(starts, dtype=np.int64), c)[flat],
            end_us=np.repeat(np.array(ends, dtype=np.int64), c)[flat],
            energy_kwh=energy.ravel()[flat],
            model=state.model,
        )
        return True

    def _replay(  # noqa: PLR0917 - what take found, passed on
        self,
        first_index: int,
        heads: list[int],
        backs: list[tuple[int, float]],
        gaps: list[tuple[int, int, int]],
        residual: Any,
        combined: Any,
    ) -> None:
        """The issue calls of the line path, sample by sample, in its order (samples with a finding, and
        every sample while a run is open)."""
        runs = self.state.runs
        events = _events(backs, gaps, residual, combined)
        if not events and not runs.open:
            return
        numbers = self.numbers
        nexts = [numbers[h] for h in heads[1:]] + [self.end_line + 1]
        for i, head in enumerate(heads):
            index = first_index + i
            found = events.get(i)
            if found is not None and self._extended(found, index, i):
                continue
            if runs.open:
                runs.flush_before(index)
            for what, arg in found or ():
                self._issue(what, arg, index, i, (numbers[head], nexts[i] - 1))

    def _extended(self, found: list[tuple[int, Any]], index: int, i: int) -> bool:
        """Whether ``found`` (a sample's findings) was only Package below its parts and extended the one
        open run, that of the sample before, as ``runs.add`` would."""
        runs = self.state.runs
        if len(found) != 1 or found[0][0] != _RESIDUAL or len(runs.runs) != 1:
            return False
        run = runs.runs.get(_RESIDUAL_KEY)
        if run is None or run.last != index - 1:
            return False
        run.line_end = max(run.line_end, int(self.power_lines[pt._PACKAGE][i]))
        run.rows += 1
        run.last = index
        worst = found[0][1]
        if abs(worst) > abs(runs.worst[_RESIDUAL_KEY]):
            runs.worst[_RESIDUAL_KEY] = worst
        return True

    def _issue(self, what: int, arg: Any, index: int, i: int, span: tuple[int, int]) -> None:
        state = self.state
        runs = state.runs
        if what == _BACK:
            runs.add(IssueKind.NON_MONOTONIC, Action.DROPPED, index, span, worst=arg)
        elif what == _GAP:
            state.out.append(state._gap(_At(span[0]), arg[0], arg[1]))  # type: ignore[arg-type]
        elif what == _RESIDUAL:
            at = int(self.power_lines[pt._PACKAGE][i])
            runs.add(IssueKind.NEGATIVE_VALUE, Action.KEPT, index, (at, at), worst=arg)
        else:
            at = int(self.power_lines[pt._COMBINED][i])
            runs.add(IssueKind.MALFORMED_ROW, Action.KEPT, index, (at, at), worst=arg)

    def _times(self, heads: list[int]) -> tuple[list[float], list[int], list[int], tuple[str, int]] | None:
        """Elapsed ms, elapsed us and header time (us) of each sample, and the last header-time cache.
        The time of a header on a day (and offset) seen before is that day's start plus its clock time,
        which is what ``_State._header_us`` computes; a new day goes through it."""
        import polars as pl

        state = self.state
        elapsed: list[float] = []
        elapsed_us: list[int] = []
        stamps: list[int] = []
        last_when, last_us = state.last_when, state.last_when_us
        days: dict[str, int] = {}
        fullmatch = pt._HEADER_RE.fullmatch
        numbers = self.numbers
        is_head = pl.Series([code == _HEAD for code in self.codes], dtype=pl.Boolean)
        for i, text in zip(heads, self.texts.filter(is_head).to_list(), strict=True):
            match = fullmatch(text)
            if match is None:
                return None
            ms = float(match["ms"])
            if not math.isfinite(ms):
                return None
            when = match["when"]  # 'Fri Nov 10 12:37:08 2023 +0100': fixed widths
            if when != last_when:
                hour, minute, second = int(when[11:13]), int(when[14:16]), int(when[17:19])
                clock_us = (hour * 3600 + minute * 60 + second) * US_PER_S
                day = when[:10] + when[19:]
                start = days.get(day)
                if start is None:
                    try:
                        last_us = state._header_us(numbers[i], match)
                    except CollectorError:
                        return None
                    days[day] = last_us - clock_us
                elif hour > 23 or minute > 59 or second > 60:
                    return None
                else:
                    last_us = start + clock_us
                last_when = when
            elapsed.append(ms)
            elapsed_us.append(round(ms * pt._US_PER_MS))
            stamps.append(last_us)
        return elapsed, elapsed_us, stamps, (last_when, last_us)

    def _powers(self, n: int) -> tuple[dict[str, Any], dict[str, Any]] | None:  # noqa: PLR0911 - each None: not plain
        """Per key (the same keys in every sample): the first value of each sample in mW and its line."""
        import numpy as np
        import polars as pl

        codes = np.array(self.codes, dtype=np.int8)
        sid = np.cumsum(codes == _HEAD) - 1
        keep = codes != _HEAD
        frame = pl.DataFrame(
            {
                "sid": sid[keep],
                "code": codes[keep],
                "line": np.array(self.numbers, dtype=np.int64)[keep],
                "text": self.texts.filter(pl.Series(keep)),
            }
        )
        frame = frame.filter(pl.struct("sid", "code").is_first_distinct())
        keys = frame.get_column("code").unique().sort().to_list()
        if frame.height != n * len(keys):
            return None
        counts = frame.group_by("sid").len()
        if counts.height != n or (counts.get_column("len") != len(keys)).any():
            return None
        parsed = frame.select(
            "sid",
            "code",
            "line",
            value=pl.col("text").str.extract(_VALUE, 1).cast(pl.Float64, strict=False),
            watts=pl.col("text").str.extract(_VALUE, 2) == "W",
        )
        if parsed.get_column("value").null_count() or parsed.get_column("watts").null_count():
            return None
        parsed = parsed.sort("code", "sid", maintain_order=True)
        value = parsed.get_column("value").to_numpy()
        value = np.where(parsed.get_column("watts").to_numpy(), value * MW_PER_W, value)
        if not np.isfinite(value).all() or (value < 0.0).any():
            return None
        line = parsed.get_column("line").to_numpy()
        values = {_KEYS[k - 2]: value[j * n : (j + 1) * n] for j, k in enumerate(keys)}
        lines = {_KEYS[k - 2]: line[j * n : (j + 1) * n] for j, k in enumerate(keys)}
        self.power_lines = lines
        if pt._RECORD_KEYS.isdisjoint(values):
            return None
        if pt._INTEL in values and not pt._APPLE_KEYS.isdisjoint(values):
            return None
        return values, lines

    def _place(
        self, elapsed_us: list[int], stamps: list[int]
    ) -> tuple[list[int], list[int], list[tuple[int, float]], list[tuple[int, int, int]]] | None:
        """``ElapsedChain.place`` for each sample: starts and ends (of a sample that steps back: 0 and the
        previous end), the samples that step back (index, seconds) and the gaps (index, start, previous
        end); None at a time out of range."""
        state = self.state
        chain = state.chain
        prev = chain.prev_end_us
        new_run = state.new_run
        tolerance, backwards, max_gap = chain.tolerance_us, chain.backwards_us, chain.max_gap_us
        starts: list[int] = []
        ends: list[int] = []
        backs: list[tuple[int, float]] = []
        gaps: list[tuple[int, int, int]] = []
        for i, (stamp, elapsed) in enumerate(zip(stamps, elapsed_us, strict=True)):
            if prev is None:
                end = stamp
                start = stamp - elapsed
            else:
                predicted = prev + elapsed
                end = predicted if abs(stamp - predicted) <= tolerance else stamp
                start = end - elapsed
                if start < prev - backwards:
                    backs.append((i, (prev - start) / US_PER_S))
                    new_run = False
                    starts.append(0)
                    ends.append(prev)
                    continue
                if start - prev > max_gap and not new_run:
                    gaps.append((i, start, prev))
            new_run = False
            if not (pt._MIN_US <= start <= pt._MAX_US and pt._MIN_US <= end <= pt._MAX_US):
                return None
            starts.append(start)
            ends.append(end)
            prev = end
        return starts, ends, backs, gaps

    def _findings(self, values: dict[str, Any]) -> tuple[Any, Any]:
        """Package minus its parts per sample, and (which samples, by how much) Combined is off its
        parts; None where the samples have no such line."""
        import numpy as np

        package = values.get(pt._PACKAGE)
        residual = None if package is None else package - _summed(values, pt._PARTS)
        combined = values.get(pt._COMBINED)
        off = None
        if combined is not None:
            off_mw = combined - _summed(values, pt._COMBINED_PARTS)
            limit = np.maximum(pt._COMBINED_TOLERANCE_MW, pt._COMBINED_TOLERANCE_REL * combined)
            off = (np.abs(off_mw) > limit, off_mw)
        return residual, off

    def _records(
        self, values: dict[str, Any], lines: dict[str, Any], elapsed_ms: Any
    ) -> tuple[list[int], Any, Any, int | None] | None:
        """Component codes (``COMPONENTS``) and, per sample and component, energy (kWh) and line."""
        import numpy as np

        powers: list[Any] = []
        at: list[Any] = []
        components: list[int] = []
        for key, component in pt._DIRECT:
            if key in values:
                components.append(COMPONENTS.index(component))
                powers.append(values[key])
                at.append(lines[key])
        if pt._PACKAGE in values:
            residual = values[pt._PACKAGE] - _summed(values, pt._PARTS)
            components.append(COMPONENTS.index(Component.SOC_OTHER))
            powers.append(np.where(residual < 0.0, 0.0, residual))  # max(residual, 0.0)
            at.append(lines[pt._PACKAGE])
        if pt._INTEL in values:
            components.append(COMPONENTS.index(Component.PACKAGE))
            powers.append(values[pt._INTEL])
            at.append(lines[pt._INTEL])
        energy = np.stack(powers, axis=1) * elapsed_ms[:, None] / pt._MW_MS_PER_KWH
        if not np.isfinite(energy).all():
            return None
        soc = components.index(COMPONENTS.index(Component.SOC_OTHER)) if pt._PACKAGE in values else None
        return components, energy, np.stack(at, axis=1), soc


_BACK, _GAP, _RESIDUAL, _COMBINED = range(4)  # a sample's findings, in the order the line path meets them
_RESIDUAL_KEY = (IssueKind.NEGATIVE_VALUE, Action.KEPT)


def _events(
    backs: list[tuple[int, float]], gaps: list[tuple[int, int, int]], residual: Any, combined: Any
) -> dict[int, list[tuple[int, Any]]]:
    """Each sample's findings (what, argument), by sample position, in the line path's order."""
    import numpy as np

    events: dict[int, list[tuple[int, Any]]] = {}
    for i, back_s in backs:
        events.setdefault(i, []).append((_BACK, back_s))
    for i, start, prev in gaps:
        events.setdefault(i, []).append((_GAP, (start, prev)))
    backed = {i for i, _ in backs}
    if residual is not None:
        for i in np.flatnonzero(residual < -pt._RESIDUAL_EPSILON_MW).tolist():
            if i not in backed:
                events.setdefault(i, []).append((_RESIDUAL, -float(residual[i])))
    if combined is not None:
        bad, off = combined
        for i in np.flatnonzero(bad).tolist():
            if i not in backed:
                events.setdefault(i, []).append((_COMBINED, float(off[i])))
    return events


class _At:
    """What ``_State._gap`` reads of a sample: its header line."""

    def __init__(self, line: int) -> None:
        self.line = line


def _summed(values: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """``sum(values[k] for k in keys if k in values)`` element by element, in the same order."""
    total: Any = 0.0
    for key in keys:
        if key in values:
            total = total + values[key]
    return total


def kept_lines(block: Block) -> tuple[list[int], Any, list[int]]:
    """The lines of ``block`` the line loop acts on: their numbers, texts (a polars Series) and codes
    (``_HEAD``, ``_MODEL``, or 2 + the index of their key in ``_KEYS``), in order."""
    import polars as pl

    lines = pl.Series("text", [block.data.decode("ascii")]).str.split("\n").explode()
    frame = (
        pl.DataFrame({"text": lines})
        .with_row_index("number", offset=block.first_line)
        .with_columns(prefix=pl.col("text").str.extract(_PREFIXES, 1))
        .filter(pl.col("prefix").is_not_null())
        .with_columns(code=pl.col("prefix").replace_strict(dict(_CODED), return_dtype=pl.Int8))
    )
    return (
        frame.get_column("number").to_list(),
        frame.get_column("text"),
        frame.get_column("code").to_list(),
    )


COMPONENTS = tuple(Component)  # the dictionary of the component (and method) column


class Columns:
    """The records of the samples read so far: Arrow chunks, then plain lists per column."""

    def __init__(self, state: _State) -> None:
        self.device = state.device
        self.chunks: list[Any] = []
        self.chunk_rows = 0
        self._clear()

    def _clear(self) -> None:
        self.line: list[int] = []
        self.component: list[int] = []
        self.start_us: list[int] = []
        self.end_us: list[int] = []
        self.energy_kwh: list[float] = []
        self.model: list[str | None] = []

    @property
    def rows(self) -> int:
        return self.chunk_rows + len(self.line)

    def adder(
        self, state: _State, elapsed_ms: float, start_us: int, end_us: int
    ) -> Callable[[Component, float, int], None]:
        """A function that adds one record of a sample with this elapsed time and interval."""
        model = state.model
        energy_of = state.energy_kwh

        def add(component: Component, power_mw: float, line: int) -> None:
            self.energy_kwh.append(energy_of(power_mw, elapsed_ms, line))
            self.line.append(line)
            self.component.append(_CODES[component])
            self.start_us.append(start_us)
            self.end_us.append(end_us)
            self.model.append(model)

        return add

    def add_chunk(
        self, *, components: Any, line: Any, start_us: Any, end_us: Any, energy_kwh: Any, model: str | None
    ) -> None:
        """Rows built as arrays (after the rows added one by one so far)."""
        import pyarrow as pa

        self._flush()
        n = len(line)
        self.chunks.append(
            _table(
                self.device,
                component=pa.array(components, pa.int8()),
                line=pa.array(line, pa.int32()),
                start_us=pa.array(start_us, pa.int64()),
                end_us=pa.array(end_us, pa.int64()),
                energy_kwh=pa.array(energy_kwh, pa.float64()),
                model=pa.array([model] * n, pa.string()),
            )
        )
        self.chunk_rows += n

    def take(self) -> RecordBatch:
        """The rows so far as one batch; then none are kept."""
        import pyarrow as pa

        self._flush()
        table = self.chunks[0] if len(self.chunks) == 1 else pa.concat_tables(self.chunks)
        self.chunks = []
        self.chunk_rows = 0
        return RecordBatch(table)

    def _flush(self) -> None:
        import pyarrow as pa

        if not self.line:
            return
        self.chunks.append(
            _table(
                self.device,
                component=pa.array(self.component, pa.int8()),
                line=pa.array(self.line, pa.int32()),
                start_us=pa.array(self.start_us, pa.int64()),
                end_us=pa.array(self.end_us, pa.int64()),
                energy_kwh=pa.array(self.energy_kwh, pa.float64()),
                model=pa.array(self.model, pa.string()),
            )
        )
        self.chunk_rows += len(self.line)
        self._clear()


_CODES = {component: i for i, component in enumerate(COMPONENTS)}


def _table(device: str, **arrays: Any) -> Any:
    """A table with ``store.SAMPLE_COLUMNS`` from the per-row arrays of the records."""
    import pyarrow as pa

    component = arrays["component"]
    n = len(component)
    empty = pa.nulls(n, pa.float64())
    names = pa.array([c.value for c in COMPONENTS], pa.string())
    methods = pa.array([f"powermetrics/{c.value}-power" for c in COMPONENTS], pa.string())
    columns = {
        "line": arrays["line"],
        "device": _repeat(device, n),
        "component": pa.DictionaryArray.from_arrays(component, names),
        "tier": _repeat("measured", n),
        "method": pa.DictionaryArray.from_arrays(component, methods),
        "start_utc": arrays["start_us"].cast(pa.timestamp("us")),
        "end_utc": arrays["end_us"].cast(pa.timestamp("us")),
        "energy_kwh": arrays["energy_kwh"],
        "carbon_g": empty,
        "runtime_s": empty,
        "utilisation": empty,
        "device_model": arrays["model"],
        "tdp_w": empty,
        "resource_share": empty,
        "market_carbon_g": empty,
        "reported_carbon_g": empty,
        "pue_divided": empty,
        "scope": pa.nulls(n, pa.string()),
    }
    return pa.table(columns)


def _repeat(text: str, n: int) -> Any:
    """``text`` ``n`` times, as a dictionary array."""
    import numpy as np
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int8)), pa.array([text], pa.string()))
