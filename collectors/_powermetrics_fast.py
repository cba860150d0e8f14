"""The block path of the powermetrics text collector: only the lines that matter, records as columns.

The line loop of ``collectors/powermetrics_text.py`` acts on a line only if it starts with a sample
header, a ``Machine model:`` or one of the power-line prefixes; every other line (most of a log: the
processor, GPU and thermal sections) changes nothing. So a plain block (``collectors/_blocks.py``: ASCII,
no carriage return, every line ended) is not split into lines: ``collectors/_powermetrics_scan.py``
finds the kept lines with numpy over its bytes, and only those go through the same handlers, with their
own line numbers, or are read at once (``_Region``). Lines outside blocks (the first block, odd
stretches, an unended last line) go through the same handlers one by one.

Records are not built one by one: ``Columns`` keeps plain lists per column and hands on a ``RecordBatch``
every ``BATCH_ROWS`` rows, holding exactly the records the line path would yield, in the same order.
Quality issues are yielded as they come, in the line path's order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import collectors._blocks as blocks
import collectors.powermetrics_text as pt
from collectors._powermetrics_scan import (
    SCAN_BLOCK_BYTES,
    Kept,
    Placed,
    chained,
    header_times,
    power_values,
    read_ahead,
    scanner,
)
from sci.model import Action, Component, IssueKind, Item, RecordBatch
from sci.units import MW_PER_W

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
        for entry in read_ahead(
            blocks.BlockSource(
                ctx, stream, min(SCAN_BLOCK_BYTES, blocks.MAX_BLOCK_BYTES), scan=scanner(_CODED), reuse=True
            ),
            _CODED,
        ):
            if isinstance(entry, Kept):
                _block(state, dispatch, entry)
                number, ended = entry.last_line, True
            else:
                for number, text, ended in entry:
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


def _block(state: _State, dispatch: _Dispatch, kept: Kept) -> None:
    """The kept lines of a block: the samples wholly inside it at once (``_Region``) when they are plain,
    the lines around them (and any sample that is not plain) through the line handlers."""
    import numpy as np

    columns = state.columns
    assert columns is not None
    numbers, codes = kept.numbers, kept.codes
    total = len(codes)
    heads = np.flatnonzero(codes == _HEAD)
    first, last = (int(heads[1]), int(heads[-1])) if len(heads) >= 3 else (total, total)
    _dispatch(state, dispatch, kept, 0, first)
    if first < last:
        sample = state.sample  # what State.header does before it starts the next sample
        if sample is not None:
            state.finish(sample, int(numbers[first]) - 1, last_of_log=False)
            state.sample = None
        else:
            state.close_orphans()
        if not _Region(state, kept, first, last).take(columns):
            state.sample = state.start(int(numbers[first]), kept.texts(first, first + 1)[0], True)
            _dispatch(state, dispatch, kept, first + 1, last)
    _dispatch(state, dispatch, kept, last, total)


def _dispatch(state: _State, dispatch: _Dispatch, kept: Kept, begin: int, end: int) -> None:
    """Kept lines ``begin`` .. ``end - 1`` through the line handlers, one by one."""
    for number, text in zip(kept.numbers[begin:end].tolist(), kept.texts(begin, end), strict=True):
        dispatch(state, number, text, True)


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
_CODE_SPAN = 16  # more than every code: sample * _CODE_SPAN + code orders by sample, then code


def _skips() -> Any:
    import numpy as np

    return np.array([len(prefix) for prefix, _ in sorted(_CODED, key=lambda coded: coded[1])], dtype=np.int64)


class _Region:
    """Whole samples inside one block, each opened by its header line, read at once when they are plain:
    every header readable, the same power lines in every sample (first occurrences), values readable and
    not negative, no Machine model line and every time in range. Sample-level findings (Package below its
    parts, Combined off, a step back, a gap) are replayed into the issue runs in the line path's order.
    Otherwise ``take`` returns False having changed nothing, and the lines go through the line handlers."""

    def __init__(self, state: _State, kept: Kept, first: int, last: int) -> None:
        """The samples of kept lines ``first`` (a header) .. ``last - 1`` (``last``: the next header)."""
        self.end_line = int(kept.numbers[last]) - 1  # the last line of the last sample
        self.power_lines: dict[str, Any] = {}
        self.state = state
        self.kept = kept
        self.first = first
        self.numbers = kept.numbers[first:last]
        self.codes = kept.codes[first:last]

    def take(self, columns: Columns) -> bool:
        import numpy as np

        state = self.state
        codes = self.codes
        if (codes == _MODEL).any():
            return False
        heads = np.flatnonzero(codes == _HEAD)
        times = header_times(state, self.kept, self.first + heads)
        if times is None:
            return False
        powers = self._powers(len(heads))
        if powers is None:
            return False
        values, lines = powers
        placed = chained(state.chain, state.new_run, times.elapsed_us, times.stamps)
        if placed is None:
            return False
        built = self._records(values, lines, times.elapsed_ms)
        if built is None:
            return False
        components, energy, line, soc = built
        n, c = energy.shape
        keep = np.ones((n, c), dtype=bool)
        if placed.backs:
            keep[[i for i, _ in placed.backs], :] = False
        residual, combined = self._findings(values)
        if residual is not None and soc is not None:
            keep[:, soc] &= residual >= -pt._RESIDUAL_EPSILON_MW
        first_index = state.samples + 1
        state.samples += n
        state.new_run = False
        state.expected = frozenset(values)
        state.last_when, state.last_when_us = times.last
        self._replay(first_index, heads, placed, residual, combined)
        state.chain.prev_end_us = int(placed.ends[-1])
        flat = keep.ravel()
        columns.add_chunk(
            components=np.tile(np.array(components, dtype=np.int8), n)[flat],
            line=line.ravel()[flat],
            start_us=np.repeat(placed.starts, c)[flat],
            end_us=np.repeat(placed.ends, c)[flat],
            energy_kwh=energy.ravel()[flat],
            model=state.model,
        )
        return True

    def _replay(self, first_index: int, heads: Any, placed: Placed, residual: Any, combined: Any) -> None:
        """The issue calls of the line path, sample by sample, in its order: samples with a finding, the
        two after each (which close the runs it left open) and, at once, each stretch of samples whose only
        finding is Package below its parts while that is the one open run (each extends it)."""
        runs = self.state.runs
        found = _Findings(len(heads), placed, residual, combined)
        if not found.any and not runs.open:
            return
        numbers = self.numbers
        nexts = [*numbers[heads[1:]].tolist(), self.end_line + 1]
        heads_at = numbers[heads].tolist()
        n = len(heads)
        i = 0
        while i < n:
            if not runs.open:
                i = found.next_at(i)
                if i >= n:
                    return
            index = first_index + i
            events = found.at(i)
            if events and self._extends(events, index):
                i = self._extend(found, i, index)
                continue
            if runs.open:
                runs.flush_before(index)
            for what, arg in events:
                self._issue(what, arg, index, i, (heads_at[i], nexts[i] - 1))
            i += 1

    def _extends(self, events: list[tuple[int, Any]], index: int) -> bool:
        """Whether ``events`` (a sample's findings) is only Package below its parts and extends the one
        open run, that of the sample before, as ``runs.add`` would."""
        runs = self.state.runs
        if len(events) != 1 or events[0][0] != _RESIDUAL or len(runs.runs) != 1:
            return False
        run = runs.runs.get(_RESIDUAL_KEY)
        return run is not None and run.last == index - 1

    def _extend(self, found: _Findings, i: int, index: int) -> int:
        """Extend the open Package-below-parts run by samples ``i`` .. the end of their stretch (samples
        with that finding only); the position after it."""
        import numpy as np

        runs = self.state.runs
        end = found.residual_only_until(i)
        run = runs.runs.get(_RESIDUAL_KEY)
        assert run is not None
        run.line_end = max(run.line_end, int(self.power_lines[pt._PACKAGE][i:end].max()))
        run.rows += end - i
        run.last = index + end - 1 - i
        worst = found.residual_mw[i:end]
        top = float(worst[int(np.argmax(np.abs(worst)))])  # the first largest, as one by one
        if abs(top) > abs(runs.worst[_RESIDUAL_KEY]):
            runs.worst[_RESIDUAL_KEY] = top
        return end

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

    def _powers(self, n: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Per key (the same keys in every sample): the first value of each sample in mW and its line."""
        import numpy as np

        codes = self.codes
        is_head = codes == _HEAD
        rest = np.flatnonzero(~is_head)
        sample = np.cumsum(is_head)[rest] - 1
        keyed, first = np.unique(sample * _CODE_SPAN + codes[rest], return_index=True)  # first occurrences
        keys = np.unique(keyed % _CODE_SPAN)
        k = len(keys)
        if k == 0 or len(keyed) != n * k:  # each sample has at most these k: so it has all of them
            return None
        order = rest[first].reshape(n, k).T.ravel()  # by key, then sample
        parsed = power_values(self.kept, self.first + order, _skips()[self.codes[order]])
        if parsed is None:
            return None
        value, watts = parsed
        value = np.where(watts, value * MW_PER_W, value)
        if not np.isfinite(value).all() or (value < 0.0).any():
            return None
        line = self.numbers[order]
        names = [_KEYS[code - 2] for code in keys.tolist()]
        values = {name: value[j * n : (j + 1) * n] for j, name in enumerate(names)}
        lines = {name: line[j * n : (j + 1) * n] for j, name in enumerate(names)}
        self.power_lines = lines
        if pt._RECORD_KEYS.isdisjoint(values):
            return None
        if pt._INTEL in values and not pt._APPLE_KEYS.isdisjoint(values):
            return None
        return values, lines

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


class _Findings:
    """Each sample's findings (what, argument), by sample position, in the line path's order."""

    def __init__(self, n: int, placed: Placed, residual: Any, combined: Any) -> None:
        import numpy as np

        self.n = n
        self.backs = dict(placed.backs)
        self.gaps = {i: (start, prev) for i, start, prev in placed.gaps}
        backed = np.zeros(n, dtype=bool)
        backed[list(self.backs)] = True
        gapped = np.zeros(n, dtype=bool)
        gapped[list(self.gaps)] = True
        none = np.zeros(n, dtype=bool)
        zero = np.zeros(n, dtype=np.float64)
        self.residual = none if residual is None else (residual < -pt._RESIDUAL_EPSILON_MW) & ~backed
        self.residual_mw: Any = zero if residual is None else -residual
        self.combined = none if combined is None else combined[0] & ~backed
        self.off_mw: Any = zero if combined is None else combined[1]
        self.positions = np.flatnonzero(self.residual | self.combined | backed | gapped)
        self.others = np.flatnonzero(~self.residual | self.combined | gapped)  # not Package-below-parts only

    @property
    def any(self) -> bool:
        return len(self.positions) > 0

    def next_at(self, i: int) -> int:
        """The first sample from ``i`` on with a finding (``n``: none)."""
        return _next(self.positions, i, self.n)

    def residual_only_until(self, i: int) -> int:
        """The first sample from ``i`` on whose findings are not just Package below its parts."""
        return _next(self.others, i, self.n)

    def at(self, i: int) -> list[tuple[int, Any]]:
        events: list[tuple[int, Any]] = []
        if i in self.backs:
            events.append((_BACK, self.backs[i]))
        if i in self.gaps:
            events.append((_GAP, self.gaps[i]))
        if self.residual[i]:
            events.append((_RESIDUAL, float(self.residual_mw[i])))
        if self.combined[i]:
            events.append((_COMBINED, float(self.off_mw[i])))
        return events


def _next(positions: Any, i: int, n: int) -> int:
    import numpy as np

    k = int(np.searchsorted(positions, i))
    return int(positions[k]) if k < len(positions) else n


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
                model=pa.repeat(pa.scalar(model, pa.string()), n),  # not a list of n: 7x faster
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
