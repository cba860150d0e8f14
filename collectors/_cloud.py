"""Helpers shared by the cloud-provider collectors: months, runs of row issues, number cells."""

from __future__ import annotations

import json
import math
import zlib
from datetime import UTC, date, datetime
from typing import Any

from collectors.base import SourceContext


def read_bytes(ctx: SourceContext, size: int = -1) -> bytes:
    """The file's (decompressed) bytes, or its first ``size``; a corrupt compressed stream is an error."""
    try:
        with ctx.open_binary() as stream:
            return stream.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        raise ctx.error(
            None, f"cannot read the file: it is corrupt or cut off ({exc})", "re-copy it"
        ) from None


def json_document(ctx: SourceContext, data: bytes, hint: str) -> Any:
    """``data`` parsed as one JSON document; bad text or JSON is a ``CollectorError`` naming the line."""
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ctx.error(line, f"byte {exc.start} is not UTF-8 text: not a JSON response", hint) from None
    except json.JSONDecodeError as exc:
        raise ctx.error(exc.lineno, f"not JSON: {exc.msg} (column {exc.colno})", hint) from None


def month_start(day: date) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )


def finite(value: object) -> float | None:
    """A finite float from a JSON/CSV/Parquet cell, or None for a missing one; raises ValueError or
    TypeError otherwise."""
    if value is None or value == "" or (isinstance(value, str) and value.strip().upper() == "NULL"):
        return None
    if isinstance(value, bool):
        raise TypeError(f"{value!r} is not a number")
    number = float(value) if isinstance(value, int | float) else float(str(value).strip())
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number
