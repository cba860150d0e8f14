"""The vectorised path shared by the tabular collectors (codecarbon, github-usage, aws-carbon CSV).

A collector asks :func:`plain_csv` for the columns it uses; it gives them as text (polars) only when the
file is *plain*: UTF-8 without quotes, CR, NUL or blank lines, every line ended and holding exactly the
header's number of fields, at least ``MIN_BYTES`` on disk and no larger than ``MAX_BYTES`` decompressed.
For such a file the row paths' CSV readers give exactly these cells, with the line of row ``i``
(0-based) being ``i + 2``. Anything else gives None and the collector reads the file row by row, as
before, so odd files keep their exact findings and errors. The collector's own checks then decide,
column by column, whether its rows read as the row path would read them (plain numbers, times of one
layout, no edge whitespace); if not, it too falls back before yielding anything.

The helpers here: cell tests (:func:`no_edge_space`, :func:`in_calendar`), number columns
(:func:`numbers`), conversion per distinct cell with the row path's own functions (:func:`by_value`),
Arrow tables in ``SAMPLE_COLUMNS`` order (:func:`batches`), and the issue runs of
``collectors._runs.Runs`` computed over arrays (:func:`runs_by_at`).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, TypeVar

from collectors.base import SourceContext
from sci.errors import CollectorError
from sci.model import Action, IssueKind, QualityIssue, RecordBatch

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

MAX_BYTES: Final = 512 << 20
"""Files larger than this (decompressed) are read row by row: the vectorised path holds the file whole."""
MIN_BYTES = 1 << 20
"""Smaller files (on disk) are read row by row: that takes less than importing polars (tests set 0)."""
BATCH_ROWS: Final = 65_536
MAX_DISTINCT: Final = 4096
"""Columns with at most this many distinct cells (or a quarter of the rows) are converted per distinct
cell (``by_value``)."""
PLAIN_NUMBER: Final = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
"""A number as Python's ``float`` and polars' cast both read it (no ``inf``/``nan``, ``_`` or spaces)."""
_EDGE_SPACE: Final = r"^[\s\x1c-\x1f]|[\s\x1c-\x1f]$"
"""Leading or trailing characters ``str.strip`` removes (Unicode White_Space and the separators 1C-1F)."""
_BOM: Final = b"\xef\xbb\xbf"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EARLIEST_US: Final = (datetime(2, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_LATEST_US: Final = (datetime(9998, 12, 31, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PlainCsv:
    header: list[str]  # the header line's cells, as written
    frame: pl.DataFrame  # a String column ``c<i>`` per header cell read, "" for an empty cell

    def column(self, index: int) -> pl.Series:
        return self.frame.get_column(f"c{index}")

    @property
    def height(self) -> int:
        return int(self.frame.height)


Select = Callable[[list[str]], Iterable[int] | None]
"""Which columns to read (their indices), given the header's cells; None: the file is not for this path."""


def plain_csv(ctx: SourceContext, select: Select) -> PlainCsv | None:
    """The columns ``select`` picks, as text, if the file is plain (see the module docstring); else None."""
    try:
        if ctx.path.stat().st_size < MIN_BYTES:
            return None  # read row by row faster than polars is imported
    except OSError:
        return None
    import polars as pl

    data = _read(ctx)
    lines = 0 if data is None else data.count(b"\n")
    header = None if data is None else _header(data, lines)
    chosen = None if header is None else select(header)
    if data is None or header is None or chosen is None:
        return None
    wanted = sorted(set(chosen))
    try:
        frame = pl.read_csv(
            data,
            has_header=False,
            skip_rows=1,
            new_columns=[f"c{i}" for i in range(len(header))],
            schema={f"c{i}": pl.String for i in range(len(header))},
            columns=wanted,
            quote_char=None,
            encoding="utf8",
        )
    except pl.exceptions.PolarsError:
        return None
    if frame.height != lines - 1 or frame.width != len(wanted):
        return None
    return PlainCsv(header, frame.with_columns(pl.all().fill_null("")))


def _header(data: bytes, lines: int) -> list[str] | None:
    """The header's cells, if the file holds as many commas as ``lines`` lines of the header's (at least
    one). With polars refusing a line of more fields than the header's, every line then holds exactly the
    header's fields: none is blank or short."""
    end = data.find(b"\n")
    commas = data.count(b",", 0, end)
    if end <= 0 or commas < 1 or data.count(b",") != commas * lines:
        return None
    try:
        return data[:end].decode("utf-8").split(",")
    except UnicodeDecodeError:
        return None


def _read(ctx: SourceContext) -> bytes | None:
    try:
        with ctx.open_binary() as stream:
            data = stream.read(MAX_BYTES + 1)
    except (OSError, EOFError, ValueError, zlib.error, CollectorError):
        return None  # the row path reads it again and reports the error at its line
    data = data.removeprefix(_BOM)
    if len(data) > MAX_BYTES or not data.endswith(b"\n"):
        return None
    if any(mark in data for mark in (b'"', b"\r", b"\x00")):  # a blank line: see _header
        return None
    return data


# -- cells ----------------------------------------------------------------------------------------------


def no_edge_space(series: pl.Series) -> bool:
    """No cell starts or ends with whitespace (so ``str.strip`` leaves every cell as it is)."""
    return not bool(series.str.contains(_EDGE_SPACE).any())


def numbers(series: pl.Series, *, empty_ok: bool) -> np.ndarray | None:
    """The cells as float64 (NaN where empty, if ``empty_ok``), or None unless every other cell is a plain,
    finite number (then Python's ``float`` of each cell gives the same value)."""
    import numpy as np
    import polars as pl

    filled = series != ""
    if not empty_ok and not bool(filled.all()):
        return None
    given = series.filter(filled)
    if not bool(given.str.contains(PLAIN_NUMBER).all()):
        return None
    values = series.replace("", None).cast(pl.Float64, strict=True).to_numpy()
    if not bool(np.isfinite(values[filled.to_numpy()]).all()):
        return None
    return np.asarray(values, dtype=np.float64)


def in_calendar(us: np.ndarray) -> bool:
    """Every time (microseconds since the epoch) within 0002-01-01..9998-12-31: Python's ``datetime``
    range with room for a day either side (polars also reads year 0 and beyond 9999)."""
    return not len(us) or bool(int(us.min()) >= _EARLIEST_US and int(us.max()) < _LATEST_US)


def by_value(
    series: pl.Series, convert: Callable[[str], T], *, always: bool = False
) -> tuple[list[T], np.ndarray] | None:
    """Each distinct cell converted once, in Python (so exactly as the row path converts it), and each
    row's index into those; None (unless ``always``) if the column holds more than ``MAX_DISTINCT``
    distinct cells and more than a quarter of its rows."""
    import numpy as np
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(series.to_arrow())
    if not always and len(encoded.dictionary) > max(MAX_DISTINCT, len(series) // 4):
        return None
    converted = [convert(cell) for cell in encoded.dictionary.to_pylist()]
    return converted, np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)


# -- batches --------------------------------------------------------------------------------------------


def constant(text: str, n: int) -> Any:
    """``text`` ``n`` times, as a dictionary array (cheap to build; DuckDB takes it as it is)."""
    import numpy as np
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int8)), pa.array([text], pa.string()))


def batches(n: int, columns: Mapping[str, Any]) -> Iterator[RecordBatch]:
    """``n`` rows given as ``columns`` (Arrow arrays; the rest are nulls), as batches of ``BATCH_ROWS``."""
    import pyarrow as pa

    from sci.store import SAMPLE_COLUMNS

    strings = {"device", "component", "tier", "method", "device_model", "scope"}
    full = {
        name: columns[name]
        if name in columns
        else pa.nulls(n, pa.string() if name in strings else pa.float64())
        for name in SAMPLE_COLUMNS
    }
    table = pa.table(full)
    for start in range(0, n, BATCH_ROWS):
        yield RecordBatch(table.slice(start, BATCH_ROWS))


def float_array(values: np.ndarray, present: np.ndarray | None = None) -> Any:
    """float64 Arrow array of ``values``, null where ``present`` is False."""
    import numpy as np
    import pyarrow as pa

    return pa.array(values, pa.float64(), mask=None if present is None else ~np.asarray(present, dtype=bool))


def times(us: np.ndarray) -> Any:
    """Microseconds since the epoch as naive UTC ``timestamp[us]``."""
    import pyarrow as pa

    return pa.array(us, pa.int64()).cast(pa.timestamp("us"))


# -- issue runs -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    kind: IssueKind
    action: Action


def runs_by_at(
    finding: Finding, device: str, at: np.ndarray, lines: np.ndarray, details: Sequence[str]
) -> list[tuple[int, int, QualityIssue]]:
    """The runs ``Runs.note(kind, action, detail, line, key=..., at=at)`` makes of notes at increasing
    positions ``at`` under one key (each note continues the run when it is at the position after the
    run's last; ``details[i]`` is note ``i``'s detail, only a run's first one is used): for each run
    ``(first at, last at, issue)``."""
    import numpy as np

    if not len(at):
        return []
    starts = np.flatnonzero(np.diff(at, prepend=at[0] - 2) != 1)
    ends = np.append(starts[1:], len(at)) - 1
    highest = np.maximum.reduceat(lines, starts)
    return [
        (
            first,
            last,
            QualityIssue(
                kind=finding.kind,
                action=finding.action,
                line_start=line_start,
                line_end=line_end,
                rows=rows,
                detail=details[s],
                device=device,
            ),
        )
        for s, first, last, line_start, line_end, rows in zip(
            starts.tolist(),
            at[starts].tolist(),
            at[ends].tolist(),
            lines[starts].tolist(),
            highest.tolist(),
            (ends - starts + 1).tolist(),
            strict=True,
        )
    ]
