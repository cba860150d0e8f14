"""Tables delivered as CSV (optionally gzip) or Parquet, read row by row: the cloud exports' common ground.

``open_table`` gives the lower-cased column names and an iterator of ``(line, row)``: for CSV ``line`` is
the file line the row ends on (the header is line 1), for Parquet the 1-based row number. Parquet is read
with pyarrow in row batches, so a large export never sits in memory whole. Every read problem (bad UTF-8,
broken quoting, a corrupt stream, a file that is not Parquet) is a ``CollectorError``.
"""

from __future__ import annotations

import csv
import io
import math
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from collectors.base import SourceContext, head_text

PARQUET_MAGIC = b"PAR1"
BATCH_ROWS = 16_384
_READ_HINT = "re-download the export; check that this is the CSV or Parquet file AWS delivered"
_TIME_HINT = "AWS exports write UTC times as YYYY-MM-DD HH:mm:ssZ, e.g. 2025-03-01 00:00:00Z"

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]  # lower-cased, stripped
    rows: Iterator[tuple[int, Row]]
    parquet: bool


def is_parquet(head: bytes) -> bool:
    return head[:4] == PARQUET_MAGIC


def sniff_columns(head: bytes, *names: str) -> bool:
    """A CSV header (or a small Parquet file's footer) naming every one of ``names`` (lower case)."""
    if is_parquet(head):
        return all(name.encode() in head for name in names)
    first = head_text(head).split("\n", 1)[0].lower()
    return all(name in first for name in names)


@contextmanager
def open_table(ctx: SourceContext) -> Iterator[Table]:
    """The file as a table; use it as ``with open_table(ctx) as table: for line, row in table.rows``."""
    with ctx.path.open("rb") as raw:
        parquet = is_parquet(raw.read(4))
    if parquet:
        yield _parquet(ctx)
        return
    with ctx.open_binary() as stream:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        reader = csv.reader(text, strict=True)
        header = _guarded(ctx, reader)
        first = next(header, None)
        if first is None:
            raise ctx.error(1, "the file is empty: no header line", _READ_HINT)
        columns = tuple(c.strip().lower() for c in first)
        yield Table(columns, _csv_rows(ctx, reader, columns), parquet=False)


def _guarded(ctx: SourceContext, reader: Any) -> Iterator[list[str]]:
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise ctx.error(
                reader.line_num + 1, f"bytes are not UTF-8 text ({exc.reason})", _READ_HINT
            ) from None
        except csv.Error as exc:
            raise ctx.error(reader.line_num, f"cannot read this CSV line: {exc}", _READ_HINT) from None
        except (OSError, EOFError, zlib.error) as exc:
            raise ctx.error(
                reader.line_num + 1, f"cannot read on: the data is corrupt or cut off ({exc})", _READ_HINT
            ) from None
        if any("\x00" in cell for cell in cells):  # never text: a crash or disk error mid-write
            raise ctx.error(reader.line_num, "NUL bytes in this row: the file is damaged", _READ_HINT)
        yield cells


def _csv_rows(ctx: SourceContext, reader: Any, columns: tuple[str, ...]) -> Iterator[tuple[int, Row]]:
    for cells in _guarded(ctx, reader):
        line = int(reader.line_num)
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if len(cells) != len(columns):
            raise ctx.error(
                line,
                f"{len(cells)} fields where the header has {len(columns)}",
                "check this line's commas and quotes (the file may be cut off)",
            )
        yield (
            line,
            {name: (cell if cell.strip() else None) for name, cell in zip(columns, cells, strict=True)},
        )


def _parquet(ctx: SourceContext) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(ctx.path)
        columns = tuple(name.strip().lower() for name in handle.schema_arrow.names)
    except (pa.ArrowException, OSError) as exc:
        raise ctx.error(None, f"not a readable Parquet file ({exc})", _READ_HINT) from None

    def rows() -> Iterator[tuple[int, Row]]:
        number = 0
        try:
            for batch in handle.iter_batches(batch_size=BATCH_ROWS):
                for values in batch.to_pylist():
                    number += 1
                    yield number, {k.strip().lower(): v for k, v in values.items()}
        except (pa.ArrowException, OSError) as exc:
            raise ctx.error(
                number + 1, f"cannot read on: the Parquet data is corrupt ({exc})", _READ_HINT
            ) from None
        finally:
            handle.close()

    return Table(columns, rows(), parquet=True)


# -- cells ----------------------------------------------------------------------------------------------


def missing_columns(columns: tuple[str, ...], required: tuple[str, ...]) -> list[str]:
    return [name for name in required if name not in columns]


def text(value: Any) -> str | None:
    if value is None:
        return None
    found = str(value).strip()
    return found or None


def number(ctx: SourceContext, value: Any, column: str, line: int) -> float | None:
    """A cell as a finite float, or None when empty; anything else is an error naming the line."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        found = float(value)
    except (TypeError, ValueError):
        found = math.nan
    if not math.isfinite(found):
        raise ctx.error(line, f"{column} {value!r} is not a number", f"write {column} as a plain number")
    return found


def utc_time(ctx: SourceContext, value: Any, column: str, line: int) -> datetime:
    """A timestamp cell in UTC: a naive time is UTC (AWS writes UTC); a bare date is its midnight."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    cell = text(value)
    if cell is None:
        raise ctx.error(line, f"{column} is empty", _TIME_HINT)
    try:
        parsed = datetime.fromisoformat(cell)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ctx.error(line, f"{column} {cell!r} is not a date and time", _TIME_HINT) from None
