"""CodeCarbon emissions.csv read at once (``SourceContext.batches``): what ``codecarbon_csv._Parser`` gives.

Taken only for a plain file (``collectors._tabular_fast.plain_csv``) whose rows all read as the row path
reads them: a header with the required columns and no repeated name, no repeated header line, every
run_id given and different (so each row is its own run: no ``duplicate-row``), naive local timestamps
``YYYY-MM-DD[T ]HH:MM:SS[.ffffff]``, durations, energies, emissions and pue plain numbers (an empty energy
or emissions cell is fine: ``missing-value`` / no figure), pue > 0. Otherwise :func:`items` gives None and
the collector reads row by row.

Times: each local hour with one UTC offset (``LocalClock.hour_offset``) is converted by subtraction; rows
in an hour holding a DST transition go through ``collectors._localtime.resolve`` in order, with the
previous row's UTC time, exactly as ``LocalClock.to_utc`` does. Issue runs (ambiguous time, missing
energy, generic CPU model) are computed over arrays and put in the order the row path closes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Final

from collectors._localtime import LocalClock, describe, resolve
from collectors._tabular_fast import (
    Finding,
    PlainCsv,
    batches,
    constant,
    float_array,
    in_calendar,
    no_edge_space,
    numbers,
    plain_csv,
    runs_by_at,
    times,
)
from collectors.base import SourceContext
from sci.model import Action, IssueKind, Item, QualityIssue
from sci.units import G_PER_KG

if TYPE_CHECKING:
    import numpy as np

_STAMP: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?$"
_ENERGIES: Final = (("cpu_energy", "cpu"), ("gpu_energy", "gpu"), ("ram_energy", "dram"))
_USED: Final = (
    "timestamp",
    "run_id",
    "duration",
    "pue",
    "emissions",
    "cpu_model",
    *(k for k, _ in _ENERGIES),
)
_US: Final = 1_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EARLIEST_US: Final = (datetime(2, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_MAX_DURATION_S: Final = 1e10
_SAME_START_US: Final = 2_000_000  # codecarbon_csv._SAME_START_S: |a - b| / 1e6 > 2.0 iff |a - b| > 2e6
_MAX_KWH: Final = 1e300  # fsum of larger values can overflow (the row path would raise)


def items(ctx: SourceContext) -> list[Item] | None:
    """Every item the row path yields, with ``RecordBatch`` es for the records; or None (read row by row)."""
    rows = _read(ctx)
    if rows is None or ctx.timezone is None:
        return None
    utc = _utc(rows.wall_us, LocalClock(ctx.timezone))
    if utc is None:
        return None
    end_us, flagged = utc
    start_us = end_us - rows.duration_us
    if int(start_us.min()) < _EARLIEST_US:
        return None
    runs = _Groups.of(rows.run_ids, start_us)
    records = _records(ctx, rows, runs.final, start_us, end_us)
    if records is None:
        return None
    return [*_issues(ctx, rows, flagged, runs), *records]


def _read(ctx: SourceContext) -> _Rows | None:
    if ctx.timezone is None:
        return None
    columns: dict[str, int] = {}

    def select(header: list[str]) -> list[int] | None:
        found = _columns(header)
        if found is None:
            return None
        columns.update(found)
        return [0, *(found[name] for name in _USED if name in found)]

    table = plain_csv(ctx, select)
    if table is None or not table.height:
        return None
    if bool(table.column(0).str.contains(table.header[0].strip(), literal=True).any()):
        return None  # maybe a repeated header line
    return _Rows.read(table, columns)


def _columns(header: list[str]) -> dict[str, int] | None:
    names = [name.strip() for name in header]
    columns = {name: i for i, name in enumerate(names)}
    if len(columns) != len(names) or not {"timestamp", "duration", "run_id"} <= columns.keys():
        return None
    if not any(key in columns for key, _ in _ENERGIES):
        return None
    return columns


class _Rows:
    """The columns of every row, as the row path reads them."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.wall_us: Any = None
        self.duration_us: Any = None
        self.pue: Any = None
        self.emissions_kg: Any = None
        self.energies: dict[str, Any] = {}  # component -> kWh (NaN: empty), for the columns present
        self.generic_cpu: list[str | None] = [None] * n
        self.run_ids: Any = None

    @classmethod
    def read(cls, table: PlainCsv, columns: dict[str, int]) -> _Rows | None:
        import numpy as np

        rows = cls(table.height)
        stamps, run_ids = table.column(columns["timestamp"]), table.column(columns["run_id"])
        if not (bool(stamps.str.contains(_STAMP).all()) and no_edge_space(run_ids)):
            return None
        rows.run_ids = run_ids
        duration = _numbers(table, columns, "duration", empty_ok=False)
        if duration is None or not bool(((duration >= 0) & (duration <= _MAX_DURATION_S)).all()):
            return None
        rows.duration_us = _timedelta_us(duration)
        pue = _numbers(table, columns, "pue", empty_ok=True) if "pue" in columns else np.ones(table.height)
        if pue is None or bool((pue <= 0).any()):
            return None
        rows.pue = np.where(np.isnan(pue), 1.0, pue)
        rows.emissions_kg = (
            _numbers(table, columns, "emissions", empty_ok=True)
            if "emissions" in columns
            else np.full(table.height, np.nan)
        )
        if rows.emissions_kg is None or not rows._energies(table, columns):
            return None
        rows.wall_us = _wall_us(stamps)
        if rows.wall_us is None:
            return None
        if "cpu_model" in columns:
            rows.generic_cpu = _generic_cpu(table.column(columns["cpu_model"]).to_list())
        return rows

    def _energies(self, table: PlainCsv, columns: dict[str, int]) -> bool:
        import numpy as np

        for key, component in _ENERGIES:
            if key not in columns:
                continue
            values = _numbers(table, columns, key, empty_ok=True)
            if values is None or bool((np.abs(values) > _MAX_KWH).any()):
                return False
            self.energies[component] = values
        return True


def _numbers(table: PlainCsv, columns: dict[str, int], name: str, *, empty_ok: bool) -> np.ndarray | None:
    return numbers(table.column(columns[name]), empty_ok=empty_ok)  # a plain number has no edge space


def _generic_cpu(models: list[str]) -> list[str | None]:
    """Each row's cpu_model when it names no model number (as ``_Parser._row``), per distinct cell."""
    seen: dict[str, str | None] = {}
    for cell in set(models):
        model = cell.strip()
        seen[cell] = model if not any(c.isdigit() for c in model) else None
    return [seen[cell] for cell in models]


def _timedelta_us(seconds: np.ndarray) -> np.ndarray:
    """``timedelta(seconds=x)`` in microseconds: whole seconds, then the fraction's microseconds rounded
    half to even (CPython's ``timedelta`` constructor)."""
    import numpy as np

    whole = np.trunc(seconds)
    micro = np.round((seconds - whole) * 1e6)  # numpy rounds half to even, as timedelta does
    return np.asarray(whole.astype(np.int64) * _US + micro.astype(np.int64), dtype=np.int64)


def _wall_us(stamps: Any) -> np.ndarray | None:
    import numpy as np
    import polars as pl

    try:
        parsed = stamps.str.replace(" ", "T", literal=True).str.to_datetime(
            "%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=True
        )
    except pl.exceptions.PolarsError:
        return None
    wall_us = np.asarray(parsed.cast(pl.Int64).to_numpy(), dtype=np.int64)
    return wall_us if in_calendar(wall_us) else None


def _utc(wall_us: np.ndarray, clock: LocalClock) -> tuple[np.ndarray, list[tuple[int, str]]] | None:
    """UTC microseconds of each row, and the rows (index, detail) whose time is ambiguous."""
    import numpy as np

    hour_us = 3600 * _US
    hours, inverse = np.unique(np.floor_divide(wall_us, hour_us), return_inverse=True)
    offsets = np.zeros(len(hours), dtype=np.int64)
    unsure = np.zeros(len(hours), dtype=bool)
    for i, hour in enumerate(hours.tolist()):
        start = _EPOCH + timedelta(hours=hour)  # the wall hour's calendar fields
        if not 2 <= start.year <= 9998:
            return None
        offset = clock.hour_offset(start.year, start.month, start.day, start.hour)
        if offset is None:
            unsure[i] = True
        else:
            offsets[i] = offset // timedelta(microseconds=1)
    utc = wall_us - offsets[inverse]
    flagged: list[tuple[int, str]] = []
    for row in np.flatnonzero(unsure[inverse]).tolist():
        wall = (_EPOCH + timedelta(microseconds=int(wall_us[row]))).replace(tzinfo=None)
        previous = _EPOCH + timedelta(microseconds=int(utc[row - 1])) if row else None
        moment, flag = resolve(wall, clock.zone, previous=previous)
        utc[row] = (moment - _EPOCH) // timedelta(microseconds=1)
        if flag is not None:
            flagged.append((row, describe(flag, clock.zone)))
    return utc, flagged


# -- issues ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Groups:
    """The runs ``_Parser._groups`` makes, in its order: each run's rows (0-based) first, second-to-last
    (-1 for a run of one row), last (the row that is read) and count."""

    first: Any
    before_last: Any
    final: Any
    count: Any
    run_ids: list[str]  # each run's id

    @classmethod
    def of(cls, run_ids: Any, start_us: np.ndarray) -> _Groups:
        """A row continues the run of the row before it with its run_id (for an empty run_id: only the row
        just before, if its run_id is empty too) when their starts are within ``_SAME_START_S``."""
        import numpy as np
        import polars as pl

        n = len(start_us)
        if run_ids.n_unique() == n and not bool((run_ids == "").any()):  # each row a run of its own
            every = np.arange(n, dtype=np.int64)
            return cls(every, np.full(n, -1), every, np.ones(n, dtype=np.int64), run_ids.to_list())
        frame = pl.DataFrame({"id": run_ids, "i": np.arange(n, dtype=np.int64)})
        before = frame.select(
            pl.when(pl.col("id") != "")
            .then(pl.col("i").shift(1).over("id"))
            .otherwise(pl.when(pl.col("id").shift(1) == "").then(pl.col("i") - 1))
            .fill_null(-1)
        ).to_series()
        pred = before.to_numpy()
        has = pred >= 0
        new = ~has | (np.abs(start_us - start_us[np.where(has, pred, 0)]) > _SAME_START_US)
        groups = (
            frame.with_columns(pl.Series("new", new.astype(np.int64)))
            .with_columns(pl.col("new").cum_sum().over("id").alias("seg"))
            .group_by("id", "seg")
            .agg(
                pl.col("i").min().alias("first"),
                pl.col("i").shift(1).last().fill_null(-1).alias("before_last"),
                pl.col("i").max().alias("final"),
                pl.len().alias("count"),
            )
            .sort("first")
        )
        return cls(
            first=groups.get_column("first").to_numpy(),
            before_last=groups.get_column("before_last").to_numpy(),
            final=groups.get_column("final").to_numpy(),
            count=groups.get_column("count").to_numpy(),
            run_ids=groups.get_column("id").to_list(),
        )

    def duplicates(self, device: str) -> list[tuple[int, QualityIssue]]:
        """``(seq, issue)`` for each run of more than one row: its earlier rows are not read."""
        import numpy as np

        return [
            (
                seq + 1,
                QualityIssue(
                    kind=IssueKind.DUPLICATE_ROW,
                    action=Action.DROPPED,
                    line_start=int(self.first[seq]) + 2,
                    line_end=int(self.before_last[seq]) + 2,
                    rows=int(self.count[seq]) - 1,
                    detail=(
                        f"earlier cumulative row(s) of run {self.run_ids[seq] or '(no run_id, same start)'}: "
                        "each row is the whole run so far, so only its last row "
                        f"(line {int(self.final[seq]) + 2}) is read"
                    ),
                    device=device,
                ),
            )
            for seq in np.flatnonzero(self.count > 1).tolist()
        ]


def _issues(
    ctx: SourceContext, rows: _Rows, flagged: list[tuple[int, str]], runs: _Groups
) -> list[QualityIssue]:
    """The issues in the order the row path yields them: ambiguous times (noted while reading: a run when
    the next run under its key begins); then per run of rows, its duplicate rows, then its missing energies
    and generic CPU model (each run of those when the next under its key begins); last the runs still open,
    in the order their keys appeared."""
    import numpy as np

    device = ctx.device
    ambiguous = runs_by_at(
        Finding(IssueKind.AMBIGUOUS_TIME, Action.KEPT),
        device,
        np.array([row + 1 for row, _ in flagged], dtype=np.int64),
        np.array([row + 2 for row, _ in flagged], dtype=np.int64),
        [detail for _, detail in flagged],
    )
    events: list[tuple[tuple[int, int, int], QualityIssue]] = [
        ((1, seq, 0), issue) for seq, issue in runs.duplicates(device)
    ]
    tail: list[tuple[tuple[int, int, int], QualityIssue]] = []
    keyed = [
        (0, 0, ambiguous),
        (1, 1, _missing(device, rows, runs.final)),
        (1, 2, _estimates(device, rows, runs.final)),
    ]
    for phase, sub, found in keyed:
        if not found:
            continue
        for (_, _, issue), (next_first, _, _) in pairwise(found):
            events.append(((phase, next_first, sub), issue))
        tail.append(((phase, found[0][0], sub), found[-1][2]))
    ordered = [issue for _, issue in sorted(events, key=lambda e: e[0])]
    return ordered + [issue for _, issue in sorted(tail, key=lambda t: t[0])]


def _missing(device: str, rows: _Rows, final: np.ndarray) -> list[tuple[int, int, QualityIssue]]:
    import numpy as np

    gaps = [(component, np.isnan(values[final])) for component, values in rows.energies.items()]
    if not gaps:
        return []
    hit = np.flatnonzero(np.logical_or.reduce([empty for _, empty in gaps]))
    found = runs_by_at(
        Finding(IssueKind.MISSING_VALUE, Action.DROPPED), device, hit + 1, final[hit] + 2, [""] * len(hit)
    )
    return [
        (
            first,
            last,
            _with_detail(
                issue,
                f"empty {'/'.join(c for c, empty in gaps if empty[first - 1])} energy: that component of the "
                "run is not counted (never as 0)",
            ),
        )
        for first, last, issue in found
    ]


def _estimates(device: str, rows: _Rows, final: np.ndarray) -> list[tuple[int, int, QualityIssue]]:
    import numpy as np

    cpu = rows.energies.get("cpu")
    if cpu is None:
        return []
    generic = np.array([model is not None for model in rows.generic_cpu], dtype=bool)[final]
    cpu = cpu[final]
    hit = np.flatnonzero(generic & ~np.isnan(cpu) & (cpu != 0))
    found = runs_by_at(
        Finding(IssueKind.TOOL_ESTIMATE, Action.KEPT), device, hit + 1, final[hit] + 2, [""] * len(hit)
    )
    return [
        (
            first,
            last,
            _with_detail(
                issue,
                f"cpu_model {rows.generic_cpu[int(final[first - 1])]!r} names no model: CodeCarbon then "
                "estimates CPU power from a generic TDP and the load, so its cpu_energy is an estimate, "
                "not a meter reading",
            ),
        )
        for first, last, issue in found
    ]


def _with_detail(issue: QualityIssue, detail: str) -> QualityIssue:
    from dataclasses import replace

    return replace(issue, detail=detail)


# -- records --------------------------------------------------------------------------------------------


def _records(
    ctx: SourceContext, rows: _Rows, final: np.ndarray, start_us: np.ndarray, end_us: np.ndarray
) -> list[Item] | None:
    """The records of each run's last row, runs in order (as ``_Parser._emit``); None if a figure
    overflows (the row path fails there)."""
    import numpy as np
    import pyarrow as pa

    names = list(rows.energies)
    kwh = np.column_stack([rows.energies[name][final] for name in names])
    present = ~np.isnan(kwh)
    total = _totals(kwh, present)
    first = present & (np.cumsum(present, axis=1) == 1)
    pos, col = np.nonzero(present)
    if not len(pos):
        return []
    row = final[pos]
    energy = kwh[pos, col]
    total = total[pos]
    first = first[pos, col]
    emissions = rows.emissions_kg[row]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        shared = np.where(
            total > 0,
            emissions * G_PER_KG * energy / total,
            np.where(first, emissions * G_PER_KG, 0.0),
        )
        it_kwh = energy / rows.pue[row]
    given = ~np.isnan(emissions)
    if not (bool(np.isfinite(it_kwh).all()) and bool(np.isfinite(shared[given]).all())):
        return None  # the row path's Record refuses an overflow
    codes = pa.array(col.astype(np.int8))
    n = len(row)
    return list(
        batches(
            n,
            {
                "line": pa.array(row + 2, pa.int32()),
                "device": constant(ctx.device, n),
                "component": pa.DictionaryArray.from_arrays(codes, pa.array(names, pa.string())),
                "tier": constant("measured", n),
                "method": pa.DictionaryArray.from_arrays(
                    codes, pa.array([f"codecarbon/{name}" for name in names], pa.string())
                ),
                "start_utc": times(start_us[row]),
                "end_utc": times(end_us[row]),
                "energy_kwh": float_array(it_kwh),
                "reported_carbon_g": float_array(shared, given),
                "pue_divided": float_array(rows.pue[row]),
            },
        )
    )


def _totals(kwh: np.ndarray, present: np.ndarray) -> np.ndarray:
    """``math.fsum`` of each row's present energies: a plain sum where at most two are non-zero (one
    rounding, as fsum's), ``math.fsum`` for the others."""
    import numpy as np

    values = np.where(present, kwh, 0.0)
    total = values[:, 0].copy()
    for i in range(1, values.shape[1]):
        total = total + values[:, i]
    for row in np.flatnonzero((values != 0).sum(axis=1) > 2).tolist():
        total[row] = math.fsum(values[row][present[row]].tolist())
    return np.asarray(total, dtype=np.float64)
