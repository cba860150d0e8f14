"""GitHub usage report read at once (``SourceContext.batches``): what ``github_usage_csv._Parser`` gives.

Taken only for a plain file (``collectors._tabular_fast.plain_csv``: so no row wrapped in quotes) whose
rows all read as the row path reads them: a header with the required columns, no repeated header line,
dates ``YYYY-MM-DD``, quantities plain numbers within 1e12, no edge whitespace in the columns read, and a
runner known for every SKU of Actions minutes. Rows that are not Actions minutes are ``excluded`` as in
the row path: a run is consecutive excluded rows of the same product, SKU and unit. Otherwise
:func:`items` gives None and the collector reads row by row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from collectors._ci import ci_options, sku_runner
from collectors._tabular_fast import (
    batches,
    constant,
    float_array,
    in_calendar,
    no_edge_space,
    numbers,
    plain_csv,
)
from collectors.base import SourceContext
from collectors.github_usage_csv import METHOD, MINUTE_UNITS, REQUIRED, _column
from sci.errors import CollectorError
from sci.model import Action, IssueKind, Item, QualityIssue
from sci.units import S_PER_MINUTE

if TYPE_CHECKING:
    import numpy as np

_DATE: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DAY_US: Final = 86_400 * 1_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def items(ctx: SourceContext) -> list[Item] | None:
    """Every item the row path yields, with ``RecordBatch`` es for the records; or None (read row by row)."""
    columns: dict[str, int] = {}

    def select(header: list[str]) -> list[int] | None:
        names = [_column(cell) for cell in header]
        if any(name not in names for name in REQUIRED):
            return None
        columns.update({name: names.index(name) for name in REQUIRED})
        return [0, *columns.values()]

    table = plain_csv(ctx, select)
    if table is None or not table.height:
        return None
    cell = {name: table.column(columns[name]) for name in REQUIRED}
    if not all(no_edge_space(series) for series in cell.values()):
        return None
    if bool(table.column(0).str.contains(table.header[0].strip(), literal=True).any()):
        return None  # maybe a repeated header line
    minutes_rows = _minutes_rows(cell["product"], cell["unit_type"])
    found: list[Item] = list(_excluded(ctx.device, cell, minutes_rows))
    records = _records(ctx, cell, minutes_rows)
    if records is None:
        return None
    return found + records


def _minutes_rows(products: Any, units: Any) -> np.ndarray:
    """Rows of Actions compute minutes, decided as the row path does, per distinct (product, unit)."""
    import polars as pl

    pairs = pl.DataFrame({"product": products, "unit": units})
    kinds = pairs.unique()
    wanted = [
        product.lower() == "actions" and unit.lower() in MINUTE_UNITS for product, unit in kinds.iter_rows()
    ]
    chosen = kinds.with_columns(pl.Series("wanted", wanted, pl.Boolean))
    joined = pairs.join(chosen, on=["product", "unit"], how="left", maintain_order="left")
    return joined.get_column("wanted").to_numpy()


def _excluded(device: str, cell: dict[str, Any], minutes_rows: np.ndarray) -> list[QualityIssue]:
    """One ``excluded`` issue per run of consecutive rows that are not Actions minutes, with one detail."""
    import numpy as np

    rows = np.flatnonzero(~minutes_rows)
    if not len(rows):
        return []
    product = cell["product"].gather(rows).to_list()
    sku = cell["sku"].gather(rows).to_list()
    unit = cell["unit_type"].gather(rows).to_list()
    issues: list[QualityIssue] = []
    previous = -2
    detail = ""
    for at, row in enumerate(rows.tolist()):
        this = f"not Actions compute minutes ({product[at]} {sku[at]}, unit {unit[at]}): outside E"
        if row == previous + 1 and this == detail:
            last = issues[-1]
            issues[-1] = QualityIssue(
                kind=last.kind,
                action=last.action,
                line_start=last.line_start,
                line_end=row + 2,
                rows=last.rows + 1,
                detail=detail,
                device=device,
            )
        else:
            issues.append(
                QualityIssue(
                    kind=IssueKind.EXCLUDED,
                    action=Action.DROPPED,
                    line_start=row + 2,
                    line_end=row + 2,
                    rows=1,
                    detail=this,
                    device=device,
                )
            )
            detail = this
        previous = row
    return issues


def _specs(ctx: SourceContext, skus: list[str]) -> dict[str, tuple[Any, ...]] | None:
    """The runner facts of each SKU, as ``job_record`` puts them; None if one is unknown."""
    try:
        options = ci_options(ctx)
    except CollectorError:
        return None  # the row path raises it
    specs = {}
    for sku in skus:
        spec = options.lookup(sku) or options.lookup(sku_runner(sku) or sku)
        if spec is None:
            return None
        specs[sku] = (
            options.utilisation(spec),
            spec.device_model if spec.tdp_w is None else spec.device_model or spec.name,
            spec.tdp_w,
            spec.resource_share,
        )
    return specs


def _days_us(dates: Any) -> np.ndarray | None:
    """Each ``YYYY-MM-DD`` date's midnight (UTC) in microseconds since the epoch, or None."""
    import numpy as np
    import polars as pl

    if not bool(dates.str.contains(_DATE).all()):
        return None
    try:
        days = dates.str.to_date("%Y-%m-%d", strict=True).cast(pl.Int64).to_numpy()
    except pl.exceptions.PolarsError:
        return None
    start_us = np.asarray(days, dtype=np.int64) * _DAY_US
    return start_us if in_calendar(start_us) else None


def _records(ctx: SourceContext, cell: dict[str, Any], minutes_rows: np.ndarray) -> list[Item] | None:
    import numpy as np
    import pyarrow as pa

    rows = np.flatnonzero(minutes_rows)
    n = len(rows)
    if not n:
        return []
    skus = cell["sku"].gather(rows)
    specs = _specs(ctx, skus.unique().to_list())
    quantity = numbers(cell["quantity"].gather(rows), empty_ok=False)
    start_us = _days_us(cell["date"].gather(rows))
    if specs is None or quantity is None or start_us is None or bool((np.abs(quantity) > 1e12).any()):
        return None
    index = {sku: i for i, sku in enumerate(specs)}
    codes = pa.array(np.array([index[sku] for sku in skus.to_list()], dtype=np.int32))
    values = list(specs.values())

    def per_sku(i: int, kind: Any) -> Any:
        return pa.array([v[i] for v in values], kind).take(codes)

    return list(
        batches(
            n,
            {
                "line": pa.array(rows + 2, pa.int32()),
                "device": constant(ctx.device, n),
                "component": constant("cpu", n),
                "tier": constant("proxy-estimated", n),
                "method": constant(METHOD, n),
                "start_utc": pa.array(start_us, pa.int64()).cast(pa.timestamp("us")),
                "end_utc": pa.array(start_us + _DAY_US, pa.int64()).cast(pa.timestamp("us")),
                "runtime_s": float_array(quantity * S_PER_MINUTE),
                "utilisation": per_sku(0, pa.float64()),
                "device_model": pa.DictionaryArray.from_arrays(
                    codes, pa.array([v[1] for v in values], pa.string())
                ),
                "tdp_w": per_sku(2, pa.float64()),
                "resource_share": per_sku(3, pa.float64()),
            },
        )
    )
