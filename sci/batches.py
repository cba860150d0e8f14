"""``RecordBatch`` helpers: the rows of a batch as ``Record`` s, and the split the screen needs.

A batch's table has the columns of ``sci.store.SAMPLE_COLUMNS``. The screen does not judge every row in
Python: a vectorised test picks every row that *might* fail ``sci.screen.problem`` (a superset: negative
quantities, utilisation outside 0..1, TDP or measured power near or above the ceiling), and only those
rows become ``Record`` s and go through the same per-record check. So a batch is screened exactly as its
records would be.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC
from typing import TYPE_CHECKING, Any

from sci.model import FLOAT_FIELDS, Component, Record, RecordBatch, Tier
from sci.units import J_PER_KWH

if TYPE_CHECKING:
    import pyarrow as pa

_MARGIN = 1.0 - 1e-9
"""Rows whose power is within this factor of the ceiling are checked exactly, one by one."""


def records_of(batch: RecordBatch) -> list[Record]:
    """The rows of ``batch`` as ``Record`` s, in order."""
    return list(_records(batch.table))


def _records(table: pa.Table) -> Iterator[Record]:
    for row in table.to_pylist():
        yield Record(
            device=row["device"],
            component=Component(row["component"]),
            start_utc=row["start_utc"].replace(tzinfo=UTC),
            end_utc=row["end_utc"].replace(tzinfo=UTC),
            tier=Tier(row["tier"]),
            method=row["method"],
            line=row["line"],
            energy_kwh=row["energy_kwh"],
            carbon_g=row["carbon_g"],
            runtime_s=row["runtime_s"],
            utilisation=row["utilisation"],
            device_model=row["device_model"],
            tdp_w=row["tdp_w"],
            resource_share=row["resource_share"],
            market_carbon_g=row["market_carbon_g"],
            reported_carbon_g=row["reported_carbon_g"],
            pue_divided=row["pue_divided"],
            scope=row["scope"],
        )


def split(batch: RecordBatch, max_power_w: Mapping[str, float]) -> tuple[RecordBatch, list[Record]]:
    """``batch`` without the rows that might fail the screen, and those rows as ``Record`` s."""
    import pyarrow.compute as pc

    table = batch.table
    doubt = _doubtful(table, max_power_w)
    if not pc.any(doubt).as_py():
        return batch, []
    return RecordBatch(table.filter(pc.invert(doubt))), list(_records(table.filter(doubt)))


def _doubtful(table: pa.Table, max_power_w: Mapping[str, float]) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    false = pa.scalar(False)
    doubt = pc.fill_null(pc.less(table.column("utilisation"), 0.0), false)
    for name in FLOAT_FIELDS:  # not finite: as a Record it is refused (ingest: the file's error at its line)
        doubt = pc.or_(doubt, pc.fill_null(pc.invert(pc.is_finite(table.column(name))), false))
    doubt = pc.or_(doubt, pc.fill_null(pc.greater(table.column("utilisation"), 1.0), false))
    for name in ("energy_kwh", "carbon_g", "runtime_s", "tdp_w"):
        doubt = pc.or_(doubt, pc.fill_null(pc.less(table.column(name), 0.0), false))
    duration_s = pc.divide(
        pc.cast(pc.subtract(table.column("end_utc"), table.column("start_utc")), pa.int64()), 1e6
    )
    power_w = pc.divide(pc.multiply(table.column("energy_kwh"), float(J_PER_KWH)), duration_s)
    ceiling_w = pc.multiply(_ceilings(table.column("component"), max_power_w), _MARGIN)  # null: none
    over = pc.or_(
        pc.fill_null(pc.greater(table.column("tdp_w"), ceiling_w), false),
        pc.fill_null(pc.greater(power_w, ceiling_w), false),
    )
    doubt = pc.or_(doubt, over)
    return doubt


def _ceilings(component: pa.ChunkedArray, max_power_w: Mapping[str, float]) -> pa.ChunkedArray:
    """Each row's power ceiling (W) by its component, null where there is none: looked up once per
    distinct component (the dictionary), not compared row by row per component."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = []
    for chunk in component.chunks:
        coded = chunk if pa.types.is_dictionary(chunk.type) else pc.dictionary_encode(chunk)
        by_entry = pa.array([max_power_w.get(name) for name in coded.dictionary.to_pylist()], pa.float64())
        chunks.append(pc.take(by_entry, coded.indices))
    return pa.chunked_array(chunks, pa.float64())


def max_line(batch: RecordBatch) -> int:
    import pyarrow.compute as pc

    return int(pc.max(batch.table.column("line")).as_py() or 0) if batch.rows else 0
