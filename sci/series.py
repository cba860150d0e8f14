"""How a file's records are laid out in the store: what many of them share once, each record's own values.

A record's columns (``SAMPLE_COLUMNS``) split in two. The ``SERIES_COLUMNS`` (device, component, tier,
method, model, TDP, share, PUE divided out, scope) are the same for long runs of records: a GPU's samples,
a laptop's CPU part. Each distinct combination in a file is one row of ``series``, with a store-wide
``series_id``. The ``VALUE_COLUMNS`` (line, interval, figures) go to ``sample_values`` with that id, one row
per record. The ``samples`` view (schema 6) joins them back.

Storing twenty columns a record cost about twice what storing ten does (insert, COMMIT and CHECKPOINT;
``bench/RESULTS.md``), and the series of a batch are found with a few dictionary encodings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

SERIES_COLUMNS = (
    "device",
    "component",
    "tier",
    "method",
    "device_model",
    "tdp_w",
    "resource_share",
    "pue_divided",
    "scope",
)
VALUE_COLUMNS = (
    "line",
    "start_utc",
    "end_utc",
    "energy_kwh",
    "carbon_g",
    "runtime_s",
    "utilisation",
    "market_carbon_g",
    "reported_carbon_g",
)


@dataclass(frozen=True, slots=True)
class Split:
    """One batch as stored: the ``series`` rows it adds (None if none) and its ``sample_values`` rows."""

    new_series: pa.Table | None
    values: pa.Table


class FileSeries:
    """The series of one file as its batches come: ids from ``first_id`` on, in order of first record."""

    def __init__(self, file_id: int, platform: str, first_id: int) -> None:
        self.file_id = file_id
        self.platform = platform
        self._next = first_id
        self._ids: dict[tuple[Any, ...], int] = {}

    def split(self, table: pa.Table) -> Split:
        """``table`` (the ``SAMPLE_COLUMNS``) as the rows to store."""
        import numpy as np
        import pyarrow as pa

        codes = _series_codes(table)
        _, first_rows = np.unique(codes, return_index=True)  # codes are 0..k-1: row of each one's first
        shared = table.select(list(SERIES_COLUMNS)).take(pa.array(first_rows))
        ids, new = [], []
        for row, combo in enumerate(zip(*(shared[c].to_pylist() for c in SERIES_COLUMNS), strict=True)):
            key = _exact(combo)
            if key not in self._ids:
                self._ids[key] = self._next
                self._next += 1
                new.append(row)
            ids.append(self._ids[key])
        series_ids = pa.array(ids, pa.int32()).take(pa.array(codes))
        values = pa.table({"series_id": series_ids, **{c: table[c] for c in VALUE_COLUMNS}})
        return Split(self._series_rows(shared, ids, new), values)

    def _series_rows(self, shared: pa.Table, ids: list[int], new: list[int]) -> pa.Table | None:
        import pyarrow as pa

        if not new:
            return None
        picked = shared.take(pa.array(new, pa.int64()))
        n = len(new)
        head = {
            "series_id": pa.array([ids[i] for i in new], pa.int32()),
            "file_id": pa.repeat(pa.scalar(self.file_id, pa.int32()), n),
            "platform": pa.repeat(pa.scalar(self.platform, pa.string()), n),
        }
        return pa.table({**head, **{c: picked[c] for c in SERIES_COLUMNS}})


def _series_codes(table: pa.Table) -> Any:
    """Each row's series as a code 0..k-1, numbered in order of first appearance (an int64 numpy array).

    Each column is dictionary-encoded (nulls as a value of their own; a column of nulls only is skipped);
    the codes so far are combined with a varying column's and encoded again, so they stay below the row
    count."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    codes = np.zeros(table.num_rows, np.int64)
    for name in SERIES_COLUMNS:
        column = table[name]
        if column.null_count == len(column):  # one value throughout: null
            continue
        indices, width = _column_codes(column)
        if width > 1:
            combined = codes * width + indices
            codes = pc.dictionary_encode(pa.array(combined)).indices.to_numpy(zero_copy_only=False)
            codes = codes.astype(np.int64)
    return codes


def _column_codes(column: pa.ChunkedArray) -> tuple[Any, int]:
    """Each row's value of ``column`` as a code below the width (an int64 numpy array, and the width).
    Equal values may have two codes (a dictionary with a value twice), which only costs a lookup in
    ``FileSeries.split``: distinct values never share one."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    chunk = column.combine_chunks()
    if pa.types.is_dictionary(chunk.type):  # the collector's own encoding: no hashing
        width = len(chunk.dictionary)
        indices = pc.fill_null(chunk.indices, width) if chunk.null_count else chunk.indices
        return indices.to_numpy(zero_copy_only=False).astype(np.int64), width + (chunk.null_count > 0)
    encoded = pc.dictionary_encode(chunk, null_encoding="encode")
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), len(encoded.dictionary)


def _exact(combo: tuple[Any, ...]) -> tuple[Any, ...]:
    """A dictionary key that tells every distinct value apart (0.0 and -0.0 are equal in Python)."""
    return tuple(value.hex() if isinstance(value, float) else value for value in combo)
