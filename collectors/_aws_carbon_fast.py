"""AWS carbon emissions CSV read at once (``SourceContext.batches``), as ``aws_carbon_export._Parser`` does.

Taken only for a plain CSV (``collectors._tabular_fast.plain_csv``; Parquet goes row by row) whose rows all
read as the row path reads them: no repeated column name, the required columns (and in scope mode every
scope column), no edge whitespace in any column read, one model_version (the one chosen in sci.toml, if
any), times ``YYYY-MM-DD[T ]HH:MM:SS[.ffffff][Z]`` with each end after its start, every
total_lbm_emissions_value a plain number, every other figure a plain number or empty, and MTCO2e beside
each figure given. Otherwise :func:`items` gives None and the collector reads row by row.

Findings (partial period, scope totals that do not add up) are noted per row with ``at`` and ended by
``close_stale``: a run under one finding covers consecutive rows and closes when the row after next
begins, runs closing together in the order they began; :func:`_issues` puts them in that order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from collectors._tabular import text, utc_time
from collectors._tabular_fast import (
    Finding,
    PlainCsv,
    batches,
    by_value,
    constant,
    float_array,
    in_calendar,
    numbers,
    plain_csv,
    runs_by_at,
    times,
)
from collectors.aws_carbon_export import (
    G_PER_UNIT,
    METHOD,
    MISMATCH_ABS_T,
    MISMATCH_REL,
    REQUIRED,
    SCOPE_COLUMNS,
    SCOPES,
    _device,
)
from collectors.base import SourceContext
from sci.errors import CollectorError
from sci.model import Action, IssueKind, Item, QualityIssue
from sci.units import G_PER_TONNE

if TYPE_CHECKING:
    import numpy as np

_TIME: Final = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?Z?$"
)
_OPTIONAL: Final = (
    "total_mbm_emissions_value",
    "total_mbm_emissions_unit",
    "last_refresh_timestamp",
    "product_code",
    "region_code",
    "location",
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NOT_ENDED: Final = (
    "the usage period had not ended when AWS last refreshed the export: the month may still grow"
)
_PART_MONTH: Final = "the usage period covers only part of its calendar month"
_MISMATCH: Final = "the {} scope figures do not add up to the row's total: the scope figures are counted"


def items(ctx: SourceContext) -> list[Item] | None:
    """Every item the row path yields, with ``RecordBatch`` es for the records; or None (read row by row)."""
    with ctx.path.open("rb") as raw:
        if raw.read(4) == b"PAR1":
            return None
    columns: dict[str, int] = {}

    def select(header: list[str]) -> list[int] | None:
        names = [name.strip().lower() for name in header]
        found = {name: i for i, name in enumerate(names)}
        scoped = any(c in found for c in SCOPE_COLUMNS)
        wanted = [*REQUIRED, *(SCOPE_COLUMNS if scoped else ()), *(c for c in _OPTIONAL if c in found)]
        if len(found) != len(names) or any(c not in found for c in wanted):
            return None
        columns.update({name: found[name] for name in wanted})
        return list(columns.values())

    table = plain_csv(ctx, select)
    if table is None or not table.height:
        return None
    rows = _Rows.read(ctx, table, columns)
    del table  # _Rows.read let go of the text columns too
    if rows is None:
        return None
    notes = rows.notes()
    return [*_issues(ctx.device, rows.n, notes), *_records(rows)]


class _Rows:
    def __init__(self, table: PlainCsv, columns: dict[str, int]) -> None:
        self.table: PlainCsv | None = table
        self.columns = columns
        self.n = table.height
        self.scoped = any(c in columns for c in SCOPE_COLUMNS)
        self.start_us: Any = None
        self.end_us: Any = None
        self.refreshed_us: Any = None  # NaN-free int64 with a flag array, or None without the column
        self.refreshed_given: Any = None
        self.lbm_g: Any = None
        self.mbm_g: Any = None  # NaN: none
        self.parts: list[tuple[str, Any, Any]] = []  # (scope, lbm g, mbm g), NaN where empty
        self.device_codes: Any = None  # each row's index into device_names
        self.device_names: Any = None

    @classmethod
    def read(cls, ctx: SourceContext, table: PlainCsv, columns: dict[str, int]) -> _Rows | None:
        """The rows, if they all read as the row path reads them (figures and times are checked by their
        patterns, which allow no edge whitespace; the text columns here)."""
        rows = cls(table, columns)
        if not rows._version_ok(ctx.options.get("model_version")) or not rows._times(ctx):
            return None
        if not rows._figures() or not rows._devices():
            return None
        rows.table = None  # the text columns are read: let them go before the records are built
        return rows

    def cell(self, name: str) -> Any:
        assert self.table is not None
        return self.table.column(self.columns[name])

    def _version_ok(self, wanted: object) -> bool:
        """One model_version in every row (``text`` of each distinct cell): the one chosen, if any."""
        found = by_value(self.cell("model_version"), text)
        if found is None or len(set(found[0])) != 1 or found[0][0] is None:
            return False
        if wanted is None:
            return True
        return isinstance(wanted, str) and bool(wanted.strip()) and found[0][0] == wanted.strip()

    def _times(self, ctx: SourceContext) -> bool:
        """The period of each row (and the refresh time, where given) as ``utc_time`` reads it."""
        import numpy as np

        start = _utc_us(ctx, self.cell("usage_period_start"), "usage_period_start")
        end = _utc_us(ctx, self.cell("usage_period_end"), "usage_period_end")
        if start is None or end is None or not bool((end > start).all()):
            return False
        self.start_us, self.end_us = start, end
        if "last_refresh_timestamp" in self.columns:
            cells = self.cell("last_refresh_timestamp")
            given = (cells.str.strip_chars() != "").to_numpy()
            if not bool((cells.filter(~given) == "").all()):
                return False  # a blank but not empty cell: leave it to the row path
            refreshed = _utc_us(ctx, cells.filter(given), "last_refresh_timestamp")
            if refreshed is None:
                return False
            self.refreshed_given = given
            self.refreshed_us = np.zeros(self.n, dtype=np.int64)
            self.refreshed_us[given] = refreshed
        return True

    def _grams(self, stem: str, *, empty_ok: bool) -> np.ndarray | None:
        import numpy as np

        values = numbers(self.cell(f"{stem}_emissions_value"), empty_ok=empty_ok)
        if values is None:
            return None
        given = ~np.isnan(values)
        if bool(given.any()):
            unit_name = f"{stem}_emissions_unit"
            if unit_name not in self.columns:
                return None
            units = self.cell(unit_name).filter(given)
            if any(G_PER_UNIT.get(unit.casefold()) != G_PER_TONNE for unit in units.unique().to_list()):
                return None
        with np.errstate(over="ignore"):
            grams = np.asarray(values * G_PER_TONNE, dtype=np.float64)
        return grams if bool(np.isfinite(grams[given]).all()) else None  # else the row path's Record fails

    def _figures(self) -> bool:
        import numpy as np

        lbm = self._grams("total_lbm", empty_ok=False)
        mbm = (
            self._grams("total_mbm", empty_ok=True)
            if "total_mbm_emissions_value" in self.columns
            else np.full(self.n, np.nan)
        )
        if lbm is None or mbm is None:
            return False
        self.lbm_g, self.mbm_g = lbm, mbm
        if not self.scoped:
            return True
        for scope, lbm_stem, mbm_stem in SCOPES:
            part_lbm = self._grams(lbm_stem, empty_ok=True)
            part_mbm = part_lbm if mbm_stem == lbm_stem else self._grams(mbm_stem, empty_ok=True)
            if part_lbm is None or part_mbm is None:
                return False
            self.parts.append((scope, part_lbm, part_mbm))
        return True

    def _devices(self) -> bool:
        """Each row's device, ``aws_carbon_export._device`` of each distinct (account, product, region,
        location)."""
        import polars as pl

        names: list[str] = [name for name in ("usage_account_id", *_OPTIONAL[3:]) if name in self.columns]
        keys = pl.DataFrame({name: self.cell(name) for name in names}).select(
            pl.concat_str(names, separator="\x00")  # no NUL in a plain file
        )
        found = by_value(keys.to_series(), lambda key: _device(_cells(names, key)), always=True)
        if found is None:  # pragma: no cover - always
            return False
        devices, self.device_codes = found
        self.device_names = pa_strings(devices)
        return True

    # -- findings ---------------------------------------------------------------------------------------

    def notes(self) -> list[tuple[int, str, Any]]:
        """``(order within a row, detail, rows noted)`` for each finding the rows make."""
        import numpy as np

        start = self.start_us.astype("datetime64[us]")
        month_start = start.astype("datetime64[M]")
        month_end = (month_start + 1).astype("datetime64[us]")
        off_month = (start != month_start.astype("datetime64[us]")) | (
            self.end_us.astype("datetime64[us]") < month_end
        )
        not_ended = np.zeros(self.n, dtype=bool)
        if self.refreshed_us is not None:
            not_ended = self.refreshed_given & (self.end_us > self.refreshed_us)
        found = [(0, _NOT_ENDED, not_ended), (0, _PART_MONTH, ~not_ended & off_month)]
        if self.parts:
            found.extend(self._mismatches())
        return found

    def _mismatches(self) -> list[tuple[int, str, Any]]:
        import numpy as np

        given = [~np.isnan(lbm) for _, lbm, _ in self.parts]
        any_part = np.logical_or.reduce(given)
        lbm_sum = np.zeros(self.n)
        mbm_sum = np.zeros(self.n)
        mbm_all = ~np.isnan(self.mbm_g)
        with np.errstate(over="ignore", invalid="ignore"):  # sums may overflow, as Python's do
            for (_, lbm, mbm), present in zip(self.parts, given, strict=True):
                lbm_sum = np.where(present, lbm_sum + lbm, lbm_sum)
                mbm_sum = np.where(present, mbm_sum + np.nan_to_num(mbm), mbm_sum)
                mbm_all &= ~present | ~np.isnan(mbm)
            floor_g = MISMATCH_ABS_T * G_PER_TONNE
            location = np.abs(lbm_sum - self.lbm_g) > np.maximum(floor_g, MISMATCH_REL * np.abs(self.lbm_g))
            mbm_total = np.nan_to_num(self.mbm_g)
            market = np.abs(mbm_sum - mbm_total) > np.maximum(floor_g, MISMATCH_REL * np.abs(mbm_total))
        return [
            (1, _MISMATCH.format("location-based"), any_part & location),
            (2, _MISMATCH.format("market-based"), any_part & mbm_all & market),
        ]


def _utc_us(ctx: SourceContext, cells: Any, column: str) -> np.ndarray | None:
    """Microseconds since the epoch of each cell as ``_tabular.utc_time`` reads it (per distinct cell), or
    None if one does not read."""
    import numpy as np

    def convert(cell: str) -> int | None:
        try:
            moment = utc_time(ctx, cell if cell.strip() else None, column, 0)
        except CollectorError:
            return None
        return (moment - _EPOCH) // timedelta(microseconds=1)

    found = by_value(cells, convert)
    if found is None:
        return _parsed_us(cells)
    values, codes = found
    if any(value is None for value in values):
        return None
    return np.asarray(np.array(values, dtype=np.int64)[codes], dtype=np.int64)


def _parsed_us(cells: Any) -> np.ndarray | None:
    """As ``_utc_us``, for many distinct cells: one fixed layout, parsed by polars."""
    import numpy as np
    import polars as pl

    if not bool(cells.str.contains(_TIME).all()):
        return None
    try:
        parsed = (
            cells.str.strip_suffix("Z")
            .str.replace(" ", "T", literal=True)
            .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=True)
        )
    except pl.exceptions.PolarsError:
        return None
    us = np.asarray(parsed.cast(pl.Int64).to_numpy(), dtype=np.int64)
    return us if in_calendar(us) else None


def _cells(names: list[str], key: str) -> dict[str, str | None]:
    """A row as ``_tabular`` gives it (None for a blank cell), from the joined cells of ``names``."""
    return {name: cell if cell.strip() else None for name, cell in zip(names, key.split("\x00"), strict=True)}


def pa_strings(values: list[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, pa.string())


def _issues(device: str, n: int, notes: list[tuple[int, str, Any]]) -> list[QualityIssue]:
    import numpy as np

    ordered: list[tuple[tuple[int, int, int], QualityIssue]] = []
    for sub, detail, hit in notes:
        at = np.flatnonzero(hit)
        finding = Finding(IssueKind.TOTAL_MISMATCH if sub else IssueKind.PARTIAL_PERIOD, Action.KEPT)
        for first, last, issue in runs_by_at(finding, device, at, at + 2, [detail] * len(at)):
            closes = last + 2 if last + 2 <= n - 1 else n
            ordered.append(((closes, first, sub), issue))
    return [issue for _, issue in sorted(ordered, key=lambda o: o[0])]


def _records(rows: _Rows) -> list[Item]:
    import numpy as np
    import pyarrow as pa

    n = rows.n
    if rows.parts:
        present = np.column_stack([~np.isnan(lbm) for _, lbm, _ in rows.parts])
        total = ~present.any(axis=1)
        lbm = np.column_stack([rows.lbm_g] + [lbm for _, lbm, _ in rows.parts])
        mbm = np.column_stack([rows.mbm_g] + [mbm for _, _, mbm in rows.parts])
        take = np.column_stack([total, present])
        row, col = np.nonzero(take)
        scopes = [None] + [scope for scope, _, _ in rows.parts]
    else:
        lbm, mbm = rows.lbm_g[:, None], rows.mbm_g[:, None]
        row, col = np.arange(n), np.zeros(n, dtype=np.int64)
        scopes = [None]
    count = len(row)
    market = mbm[row, col]
    return list(
        batches(
            count,
            {
                "line": pa.array(row + 2, pa.int32()),
                "device": pa.DictionaryArray.from_arrays(pa.array(rows.device_codes[row]), rows.device_names),
                "component": constant("system", count),
                "tier": constant("provider-reported", count),
                "method": constant(METHOD, count),
                "start_utc": times(rows.start_us[row]),
                "end_utc": times(rows.end_us[row]),
                "carbon_g": float_array(lbm[row, col]),
                "market_carbon_g": float_array(market, ~np.isnan(market)),
                "scope": pa.DictionaryArray.from_arrays(  # column 0: the total, no scope (null)
                    pa.array(np.maximum(col - 1, 0).astype(np.int8), mask=col == 0),
                    pa.array(scopes[1:] or [""], pa.string()),
                ),
            },
        )
    )
