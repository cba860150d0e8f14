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

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from collectors._blocks import Block, BlockSource
from sci.model import Component, Item, RecordBatch

if TYPE_CHECKING:
    from collectors.powermetrics_text import _State

BATCH_ROWS = 1 << 16

_Dispatch = Callable[["_State", int, str, bool], None]


def parse_blocks(state: _State, dispatch: _Dispatch) -> Iterator[Item]:
    """What ``PowermetricsText.parse`` yields, with ``RecordBatch`` s instead of ``Record`` s."""
    ctx = state.ctx
    columns = Columns(state)
    state.columns = columns
    out = state.out
    number = 0
    ended = True
    with ctx.open_binary() as stream:
        for entry in BlockSource(ctx, stream):
            if isinstance(entry, Block):
                for number, text in kept_lines(entry):
                    dispatch(state, number, text, True)
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


def kept_lines(block: Block) -> list[tuple[int, str]]:
    """The lines of ``block`` the line loop acts on, with their line numbers, in order."""
    import polars as pl

    from collectors.powermetrics_text import LINE_PREFIXES

    lines = pl.Series("text", [block.data.decode("ascii")]).str.split("\n").explode()
    mask = None
    for prefix in LINE_PREFIXES:
        hit = lines.str.starts_with(prefix)
        mask = hit if mask is None else mask | hit
    assert mask is not None
    numbers = (mask.arg_true() + block.first_line).to_list()
    return list(zip(numbers, lines.filter(mask).to_list(), strict=True))


class Columns:
    """The records of the samples read so far, as plain lists per column."""

    def __init__(self, state: _State) -> None:
        self.device = state.device
        self._clear()

    def _clear(self) -> None:
        self.line: list[int] = []
        self.component: list[str] = []
        self.method: list[str] = []
        self.start_us: list[int] = []
        self.end_us: list[int] = []
        self.energy_kwh: list[float] = []
        self.model: list[str | None] = []

    @property
    def rows(self) -> int:
        return len(self.line)

    def adder(
        self, state: _State, elapsed_ms: float, start_us: int, end_us: int
    ) -> Callable[[Component, float, int], None]:
        """A function that adds one record of a sample with this elapsed time and interval."""
        model = state.model
        energy_of = state.energy_kwh

        def add(component: Component, power_mw: float, line: int) -> None:
            self.energy_kwh.append(energy_of(power_mw, elapsed_ms, line))
            self.line.append(line)
            self.component.append(component.value)
            self.method.append(_METHODS[component])
            self.start_us.append(start_us)
            self.end_us.append(end_us)
            self.model.append(model)

        return add

    def take(self) -> RecordBatch:
        """The rows so far as one batch; the lists start empty again."""
        batch = RecordBatch(self._table())
        self._clear()
        return batch

    def _table(self) -> Any:
        import pyarrow as pa

        n = self.rows
        empty = pa.nulls(n, pa.float64())
        columns = {
            "line": pa.array(self.line, pa.int32()),
            "device": _repeat(self.device, n),
            "component": pa.array(self.component, pa.string()).dictionary_encode(),
            "tier": _repeat("measured", n),
            "method": pa.array(self.method, pa.string()).dictionary_encode(),
            "start_utc": pa.array(self.start_us, pa.int64()).cast(pa.timestamp("us")),
            "end_utc": pa.array(self.end_us, pa.int64()).cast(pa.timestamp("us")),
            "energy_kwh": pa.array(self.energy_kwh, pa.float64()),
            "carbon_g": empty,
            "runtime_s": empty,
            "utilisation": empty,
            "device_model": pa.array(self.model, pa.string()),
            "tdp_w": empty,
            "resource_share": empty,
            "market_carbon_g": empty,
            "reported_carbon_g": empty,
            "pue_divided": empty,
            "scope": pa.nulls(n, pa.string()),
        }
        return pa.table(columns)


_METHODS = {component: f"powermetrics/{component.value}-power" for component in Component}


def _repeat(text: str, n: int) -> Any:
    """``text`` ``n`` times, as a dictionary array."""
    import numpy as np
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int8)), pa.array([text], pa.string()))
