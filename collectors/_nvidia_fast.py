"""The vectorised path of the nvidia-smi CSV collector: a block of plain data rows in one go (polars).

It takes a block only when every row is in the common layout and reads exactly as the line parser would
read it: the header's field count, ``YYYY/MM/DD HH:MM:SS.mmm`` local times in hours without a DST
transition, power as a plain number with an optional `` W`` (or a missing token), utilisation with an
optional `` %`` inside 0-100, GPUs told apart by a uuid/index/pci.bus_id column, and each GPU's time
strictly increasing. Anything else (a header, a name with commas, a DST hour, a step back, an unknown
token, a GPU whose identity changes) makes it return None before it changes any state, and the block is
read line by line. The state it leaves behind (each series' anchor, open issue runs, series starts, the
clock's last time) is the line parser's, so the two paths can alternate within one file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from collectors._blocks import Block, count_byte
from sci.model import Action, IssueKind, Item, RecordBatch
from sci.units import J_PER_KWH

if TYPE_CHECKING:
    import polars as pl

    from collectors.nvidia_smi_csv import _Layout, _Parser, _Series

_STAMP = r"^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{3}$"
_NUMBER = r"-?[0-9]+(\.[0-9]+)?"
_MISSING = r"|N/A|\[.*\]"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Details:
    """The issue texts and method of the current layout, as the line parser words them."""

    method: str
    gap: str
    missing: str
    negative: str
    back: str
    max_gap_s: float


def fast_block(  # noqa: PLR0911 - each return is a reason to read the block line by line
    parser: _Parser, block: Block, layout: _Layout, details: Details
) -> list[Item] | None:
    """The items of ``block`` (issues, then one ``RecordBatch``), or None to read it line by line."""
    import polars as pl

    if layout.key < 0 or count_byte(block.data, b",") != block.count * (layout.n - 1):
        return None
    frame = _read(block, layout)
    if frame is None:
        return None
    values = _values(frame, layout)
    if values is None:
        return None
    utc = _utc(parser, values)
    if utc is None:
        return None
    codes, plan = _identities(parser, frame, layout, block)
    if plan is None:
        return None
    anchors = [_us(p.anchor) for p in plan]
    rows = pl.DataFrame(
        {
            "row": pl.int_range(0, block.count, eager=True, dtype=pl.Int32),
            "sid": codes,
            "utc": utc,
            "power": values.get_column("power"),
            "util": values.get_column("util"),
        }
    )
    rows = rows.with_columns(
        prev=pl.col("utc")
        .shift(1)
        .over("sid")
        .fill_null(pl.col("sid").replace_strict(dict(enumerate(anchors)), return_dtype=pl.Int64))
    )
    rows = rows.with_columns(step_s=_divided((rows.get_column("utc") - rows.get_column("prev")), 1e6))
    if rows.select((pl.col("step_s") <= 0.0).any()).item():
        return None  # a step back or a repeat: the line parser reports it
    rows = rows.with_columns(
        kind=pl.when(pl.col("step_s").is_null())
        .then(0)
        .when(pl.col("step_s") > details.max_gap_s)
        .then(1)
        .when(pl.col("power").is_null())
        .then(2)
        .when(pl.col("power") < 0.0)
        .then(3)
        .otherwise(4)
        .cast(pl.Int8),
    )
    rows = rows.with_columns(
        energy_kwh=_divided(rows.get_column("power") * rows.get_column("step_s"), float(J_PER_KWH))
    )
    records = rows.filter(pl.col("kind") == 4)
    if not records.select(pl.col("energy_kwh").is_finite().all()).item():
        return None
    series = _adopt(parser, plan)
    items: list[Item] = []
    for s in series:  # one per GPU (two tokens of one GPU are read line by line)
        items.extend(s.runs.close("clock"))
    items.extend(_outcomes(parser, rows, series, block.first_line, details))
    _advance(parser, rows, series, utc, block.first_line)
    if records.height:
        items.append(RecordBatch(_table(records, series, block.first_line, details.method)))
    return items


def _divided(numerator: pl.Series, denominator: float) -> pl.Series:
    """``numerator / denominator`` element by element, as Python divides (IEEE division, no reciprocal:
    polars turns ``x / c`` into ``x * (1 / c)``, off by one ulp in about half the rows); nulls stay null."""
    import polars as pl
    import pyarrow.compute as pc

    quotient = pc.divide(numerator.cast(pl.Float64).to_arrow(), denominator)
    series = pl.from_arrow(quotient)  # no copy (pl.Series(name, array) copies: ~10x slower)
    assert isinstance(series, pl.Series)
    return series.alias(numerator.name)


def _read(block: Block, layout: _Layout) -> pl.DataFrame | None:
    import polars as pl

    wanted = {"ts": layout.ts, "power": layout.power, "key": layout.key}
    if layout.util >= 0:
        wanted["util"] = layout.util
    schema = {f"c{i}": pl.String for i in range(layout.n)}
    try:
        frame = pl.read_csv(
            bytes(block.data),  # bytes already: the source does not reuse its buffer here
            has_header=False,
            separator=",",
            quote_char=None,
            schema=schema,
            columns=sorted(wanted.values()),
        )
    except pl.exceptions.PolarsError:
        return None
    if frame.height != block.count:
        return None
    return frame.select(pl.col(f"c{i}").alias(name) for name, i in wanted.items())


def _values(frame: pl.DataFrame, layout: _Layout) -> pl.DataFrame | None:
    """Local time (microseconds), power (W) and utilisation (0..1) of each row, in one pass; None if a
    cell is not plainly one of them."""
    import polars as pl

    ts = pl.col("ts").fill_null("").str.strip_chars(" ")
    power = pl.col("power").fill_null("").str.strip_chars(" ")
    util = pl.col("util").fill_null("").str.strip_chars(" ") if layout.util >= 0 else pl.lit("")
    checked = frame.select(
        ok=ts.str.contains(_STAMP)
        & power.str.contains(f"^({_NUMBER}( W)?|{_MISSING})$")
        & util.str.contains(f"^({_NUMBER}( %)?|{_MISSING})$"),
        naive=ts.str.strptime(pl.Datetime("us"), "%Y/%m/%d %H:%M:%S%.3f", strict=False).dt.epoch("us"),
        power=_number(power, " W"),
        util=_number(util, " %"),
    )
    if not checked.get_column("ok").all() or checked.get_column("naive").null_count():
        return None
    util_pct = checked.get_column("util")
    if ((util_pct < 0.0) | (util_pct > 100.0)).any():
        return None
    return checked.with_columns(util=_divided(util_pct, 100.0))


def _number(cell: pl.Expr, unit: str) -> pl.Expr:
    import polars as pl

    return cell.str.strip_suffix(unit).cast(pl.Float64, strict=False)


_US_PER_HOUR = 3_600_000_000


def _utc(parser: _Parser, values: pl.DataFrame) -> pl.Series | None:
    """UTC times (microseconds since the epoch) of the rows, or None if an hour holds a DST transition.

    Each distinct local hour (``YYYY/MM/DD HH``, from the parsed time: no string slicing per row) gets
    its offset from the line parser's cache, so both paths agree on every hour."""
    import polars as pl

    naive = values.get_column("naive")
    hours = naive // _US_PER_HOUR
    offsets: dict[int, int] = {}
    for hour in hours.unique().to_list():
        prefix = (_EPOCH + timedelta(hours=hour)).strftime("%Y/%m/%d %H")
        known = parser.hours.get(prefix)
        try:
            offset = (known or parser._hour(prefix + ":00:00"))[4]
        except (ValueError, OverflowError):
            return None
        if offset is None:
            return None
        offsets[hour] = offset // timedelta(microseconds=1)
    shift = hours.replace_strict(offsets, return_dtype=pl.Int64)
    return (naive - shift).alias("utc")


@dataclass(frozen=True, slots=True)
class _Planned:
    """The series of one identity token of a block: known already, or to be created (named)."""

    key: str
    known: _Series | None
    device: str
    model: str | None
    anchor: datetime | None


def _identities(
    parser: _Parser, frame: pl.DataFrame, layout: _Layout, block: Block
) -> tuple[pl.Series, list[_Planned] | None]:
    """Each row's series code, and per code the series it is, or None if the line parser must decide."""
    import polars as pl

    from collectors.nvidia_smi_csv import _read_text

    keys = frame.get_column("key").fill_null("")
    firsts = keys.to_frame("key").with_row_index("row").group_by("key", maintain_order=True).first()
    plan: list[_Planned] = []
    lines: list[bytes] | None = None
    for key, row in firsts.iter_rows():
        known = parser.by_token.get(key)
        if known is not None:
            plan.append(_Planned(key, known, known.device, known.model, known.anchor))
            continue
        if lines is None:
            lines = bytes(block.data).split(b"\n")
        parts = lines[row].decode("ascii").split(",")
        identity = _read_text(parts[layout.key])
        index_text = _read_text(parts[layout.index]) if layout.index >= 0 else None
        if identity is None or not (
            index_text is None or (index_text.isascii() and index_text.isdigit() and len(index_text) <= 9)
        ):
            return keys, None
        device = f"{parser.ctx.device}/{identity if index_text is None else f'gpu{int(index_text)}'}"
        model = _read_text(parts[layout.name]) if layout.name >= 0 else None
        existing = parser.series.get(device)
        if existing is not None and existing.model is None and model is not None:
            return keys, None  # the model of a known GPU would change mid-block
        plan.append(_Planned(key, None, device, model, existing.anchor if existing else None))
    if len({p.device for p in plan}) < len(plan):
        return keys, None  # two identities of one GPU in one block (a uuid changed): line by line
    code_of = {p.key: code for code, p in enumerate(plan)}
    return keys.replace_strict(code_of, return_dtype=pl.Int32).alias("sid"), plan


def _adopt(parser: _Parser, plan: list[_Planned]) -> list[_Series]:
    """The series of each code; new tokens are named in order of first appearance, as by the line parser."""
    series: list[_Series] = []
    for p in plan:
        if p.known is not None:
            series.append(p.known)
            continue
        s = parser._named(p.device, p.model)
        parser.by_token[p.key] = s
        series.append(s)
    return series


def _us(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _outcomes(
    parser: _Parser, rows: pl.DataFrame, series: list[_Series], first_line: int, details: Details
) -> list[Item]:
    """Issue runs, merged exactly as the line parser merges them: only issue rows and the rows that close
    a run (a GPU's first record after an issue, or after a run left open by the previous block) are read."""
    import polars as pl

    open_before = [s.runs.get("outcome") is not None for s in series]
    issue = pl.col("kind").is_between(1, 3)
    before = pl.col("sid").replace_strict(dict(enumerate(open_before)), return_dtype=pl.Boolean)
    prev_issue = issue.shift(1).over("sid").fill_null(before)
    picked = rows.filter(issue | ((pl.col("kind") == 4) & prev_issue)).select("row", "sid", "kind", "step_s")
    kinds = {
        1: (IssueKind.GAP, Action.NOT_BRIDGED, details.gap),
        2: (IssueKind.MISSING_VALUE, Action.DROPPED, details.missing),
        3: (IssueKind.NEGATIVE_VALUE, Action.DROPPED, details.negative),
    }
    items: list[Item] = []
    for row, sid, kind, step_s in picked.iter_rows():
        s = series[sid]
        if kind == 4:
            items.extend(s.runs.close("outcome"))
            continue
        issue_kind, action, detail = kinds[kind]
        items.extend(s.runs.note(issue_kind, action, detail, first_line + row, key="outcome", seconds=step_s))
    return items


def _advance(
    parser: _Parser, rows: pl.DataFrame, series: list[_Series], utc: pl.Series, first_line: int
) -> None:
    """Each series' next anchor, its start if it opened in this block, and the clock's last time."""
    import polars as pl

    starts = rows.filter(pl.col("kind") == 0).select("row", "sid")
    for row, sid in starts.iter_rows():
        parser.starts.append((first_line + row, series[sid].device))
    last = rows.group_by("sid").agg(pl.col("utc").last())
    for sid, moment in last.iter_rows():
        series[sid].anchor = _EPOCH + timedelta(microseconds=moment)
    parser.clock.last_utc = _EPOCH + timedelta(microseconds=int(utc[-1]))


def _table(records: pl.DataFrame, series: list[_Series], first_line: int, method: str) -> Any:
    import pyarrow as pa

    n = records.height
    sid = records.get_column("sid").to_arrow()
    empty = pa.nulls(n, pa.float64())
    columns = {
        "line": (records.get_column("row") + first_line).cast(pl_int32()).to_arrow(),
        "device": pa.DictionaryArray.from_arrays(sid, pa.array([s.device for s in series], pa.string())),
        "component": _repeat("gpu", n),
        "tier": _repeat("measured", n),
        "method": _repeat(method, n),
        "start_utc": records.get_column("prev").to_arrow().cast(pa.timestamp("us")),
        "end_utc": records.get_column("utc").to_arrow().cast(pa.timestamp("us")),
        "energy_kwh": records.get_column("energy_kwh").to_arrow(),
        "carbon_g": empty,
        "runtime_s": empty,
        "utilisation": records.get_column("util").to_arrow(),
        "device_model": pa.DictionaryArray.from_arrays(sid, pa.array([s.model for s in series], pa.string())),
        "tdp_w": empty,
        "resource_share": empty,
        "market_carbon_g": empty,
        "reported_carbon_g": empty,
        "pue_divided": empty,
        "scope": pa.nulls(n, pa.string()),
    }
    return pa.table(columns)


def pl_int32() -> Any:
    import polars as pl

    return pl.Int32


def _repeat(text: str, n: int) -> Any:
    """``text`` ``n`` times, as a dictionary array (cheap to build, and DuckDB takes it as it is)."""
    import numpy as np
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int8)), pa.array([text], pa.string()))
