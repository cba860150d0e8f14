"""Array helpers of the powermetrics block path (``collectors/_powermetrics_fast.py``).

- ``kept_lines``: the few lines of a block the line loop acts on, found with numpy over the block's bytes
  (newline positions, then the first 8 bytes of every line against the prefixes, then the rest of each
  prefix on the candidates only), without splitting the block into lines.
- ``header_times``: the elapsed time and header time of every sample header of a region at once (one
  polars regex over the headers, a day start per distinct day and UTC offset).
- ``chained``: ``ElapsedChain.place`` over a region's samples: a cumulative sum over each stretch that
  stays on the chain, the samples where it leaves it one by one.

Each returns None where a region is not plain; the caller then takes the line path, which is the
reference.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import collectors.powermetrics_text as pt
from collectors._blocks import Block, Entry
from sci.errors import CollectorError
from sci.units import US_PER_S

if TYPE_CHECKING:
    from collectors._chain import ElapsedChain
    from collectors.powermetrics_text import _State

_WORD: Final = 8  # bytes compared at once
_MAX_ELAPSED_MS: Final = 1e9  # beyond (11 days a sample) the line path places the samples, exactly
_MAX_RESETS: Final = 64  # samples off the chain placed one by one before the rest of a region is too


@dataclass(frozen=True, slots=True)
class Kept:
    """The kept lines of a block, in order: line numbers, codes and texts (a polars Series)."""

    numbers: Any  # numpy int64
    codes: Any  # numpy int8
    texts: Any  # polars Series of str
    last_line: int  # the block's last line


def kept_lines(block: Block, coded: tuple[tuple[str, int], ...]) -> Kept:
    """The lines of ``block`` that start with one of the ``coded`` prefixes (each with its code; no
    prefix is a prefix of another, each is at least 8 bytes long)."""
    import numpy as np
    import polars as pl
    import pyarrow as pa

    data = block.data
    size = len(data)
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw == ord("\n"))  # every line of a block ends with one
    starts = np.empty_like(ends)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    codes = np.full(len(starts), -1, dtype=np.int8)
    if size >= _WORD:
        words = np.ndarray((size - _WORD + 1,), dtype="<u8", buffer=data, strides=(1,))  # at every byte
        first = words[np.minimum(starts, size - _WORD)]  # a line shorter than 8 bytes matches no prefix
        for prefix, code in coded:
            _mark(codes, (first, words), (starts, ends), prefix.encode("ascii"), code)
    keep = np.flatnonzero(codes >= 0)
    begin, lengths = starts[keep], ends[keep] - starts[keep]
    offsets = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    index = np.arange(offsets[-1], dtype=np.int64) + np.repeat(begin - offsets[:-1], lengths)
    text = pa.LargeStringArray.from_buffers(len(keep), pa.py_buffer(offsets), pa.py_buffer(raw[index]))
    texts = pl.Series("text", text, dtype=pl.String)
    return Kept(keep + block.first_line, codes[keep], texts, block.first_line + block.count - 1)


def _mark(codes: Any, read: tuple[Any, Any], lines: tuple[Any, Any], prefix: bytes, code: int) -> None:
    """Set ``codes`` to ``code`` where a line (``lines``: starts and ends) starts with ``prefix``
    (``read``: each line's first word, the word at every byte)."""
    import numpy as np

    first, words = read
    candidates = np.flatnonzero(first == _word(prefix, 0))
    if not len(candidates):
        return
    starts, ends = lines
    at = starts[candidates]
    good = at + len(prefix) <= ends[candidates]  # the line is long enough: every word read lies inside it
    at = np.where(good, at, 0)
    for offset in (*range(_WORD, len(prefix) - _WORD + 1, _WORD), len(prefix) - _WORD):
        good &= words[at + offset] == _word(prefix, offset)
    codes[candidates[good]] = code


def _word(prefix: bytes, offset: int) -> int:
    return int.from_bytes(prefix[offset : offset + _WORD], "little")


# The header regex of the line path (``pt._HEADER_RE``, ASCII digits), for polars: time text, elapsed ms.
_HEADER: Final = (
    r"^\*\*\* Sampled system activity \("
    r"((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-9][0-9] "
    r"[0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4} [+-][0-9]{4})\) "
    r"\(([0-9]+(?:\.[0-9]+)?)ms elapsed\) \*\*\*$"
)


@dataclass(frozen=True, slots=True)
class Times:
    elapsed_ms: Any  # numpy float64
    elapsed_us: Any  # numpy int64: round(elapsed_ms * 1000), half to even as the line path rounds
    stamps: Any  # numpy int64: header time, us since the epoch, UTC
    last: tuple[str, int]  # the last header's time text and time (the line path's cache)


def header_times(state: _State, headers: Any, numbers: Any) -> Times | None:
    """The times of sample headers ``headers`` (a polars Series; their line numbers ``numbers``), as
    ``_State.start`` reads them: the time of a header on a day (and offset) is that day's start (from
    ``_State._header_us`` on its first header) plus its clock time. None if any is not plain."""
    import numpy as np
    import polars as pl

    parts = headers.str.extract_groups(_HEADER)
    when, ms_text = parts.struct.field("1"), parts.struct.field("2")
    if when.null_count() or ms_text.null_count():
        return None
    elapsed_ms = ms_text.cast(pl.Float64).to_numpy()
    if not (elapsed_ms <= _MAX_ELAPSED_MS).all():
        return None
    hour, minute, second = (when.str.slice(at, 2).cast(pl.Int64).to_numpy() for at in (11, 14, 17))
    if (hour > 23).any() or (minute > 59).any() or (second > 60).any():  # _header_us's limits
        return None
    clock_us = (hour * 3600 + minute * 60 + second) * US_PER_S
    day = when.str.slice(0, 10) + when.str.slice(19)  # 'Fri Nov 10 12:37:08 2023 +0100': fixed widths
    rank = day.rank("dense").cast(pl.Int64).to_numpy() - 1
    firsts = np.flatnonzero(day.is_first_distinct().to_numpy())
    day_start = np.zeros(len(firsts), dtype=np.int64)
    for i in firsts.tolist():
        match = pt._HEADER_RE.fullmatch(headers[i])
        if match is None:
            return None
        try:
            day_start[rank[i]] = state._header_us(int(numbers[i]), match) - int(clock_us[i])
        except CollectorError:
            return None
    stamps = day_start[rank] + clock_us
    elapsed_us = np.rint(elapsed_ms * pt._US_PER_MS).astype(np.int64)
    return Times(elapsed_ms, elapsed_us, stamps, (when[-1], int(stamps[-1])))


@dataclass(slots=True)
class Placed:
    """Starts and ends (of a sample that steps back: 0 and the previous end), the samples that step back
    (position, seconds) and the gaps (position, start, previous end)."""

    starts: Any
    ends: Any
    backs: list[tuple[int, float]]
    gaps: list[tuple[int, int, int]]


def chained(chain: ElapsedChain, new_run: bool, elapsed_us: Any, stamps: Any) -> Placed | None:
    """``ElapsedChain.place`` for each sample in turn, from ``chain.prev_end_us`` (``chain`` is not
    changed); None at a time out of range. (Stamps and elapsed times are small enough for int64 sums:
    ``header_times``.)"""
    import numpy as np

    n = len(stamps)
    placed = Placed(np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), [], [])
    prev = chain.prev_end_us
    plain = chain.tolerance_us >= 0 and chain.backwards_us >= 0 and chain.max_gap_us >= 0
    resets = 0
    i = 0
    while i < n:
        if prev is not None and plain and resets < _MAX_RESETS:
            ends = prev + np.cumsum(elapsed_us[i:])  # each end is the previous end plus its elapsed time
            off = np.flatnonzero(np.abs(stamps[i:] - ends) > chain.tolerance_us)
            j = int(off[0]) if len(off) else n - i
            placed.ends[i : i + j] = ends[:j]
            placed.starts[i : i + j] = ends[:j] - elapsed_us[i : i + j]
            if j:  # each starts where the one before ended: no gap, no step back
                prev, new_run = int(ends[j - 1]), False
            i += j
            if i == n:
                break
            resets += 1
        start, end, back_s, gap = _step(chain, prev, new_run, int(stamps[i]), int(elapsed_us[i]))
        new_run = False
        if back_s is not None:
            placed.backs.append((i, back_s))
        else:
            if gap and prev is not None:
                placed.gaps.append((i, start, prev))
            prev = end
        placed.starts[i], placed.ends[i] = start, end
        i += 1
    if not (_inside(placed.starts) and _inside(placed.ends)):
        return None
    return placed


def _step(
    chain: ElapsedChain, prev: int | None, new_run: bool, stamp: int, elapsed: int
) -> tuple[int, int, float | None, bool]:
    """One sample as the line path places it: start, end, how far it steps back (None: it does not; if it
    does, start 0 and end the previous end) and whether it follows a gap (Python integers: exact)."""
    if prev is None:
        return stamp - elapsed, stamp, None, False
    predicted = prev + elapsed
    end = predicted if abs(stamp - predicted) <= chain.tolerance_us else stamp
    start = end - elapsed
    if start < prev - chain.backwards_us:
        return 0, prev, (prev - start) / US_PER_S, False
    return start, end, None, start - prev > chain.max_gap_us and not new_run


def _inside(us: Any) -> bool:
    return bool(((us >= pt._MIN_US) & (us <= pt._MAX_US)).all())


_AHEAD: Final = 2  # blocks read ahead (each at most MAX_BLOCK_BYTES): what memory the thread may add
_LINES: Final = 4096  # lines handed over at once
_END: Final = object()
Ahead = Kept | list[tuple[int, str, bool]]  # a block's kept lines, or lines one by one


def read_ahead(entries: Iterator[Entry], coded: tuple[tuple[str, int], ...]) -> Iterator[Ahead]:
    """The kept lines of each block of ``entries`` (a ``BlockSource``) and its other entries (lines) in
    lists, in order, read and found in a thread up to two blocks ahead of the caller (file reads and
    numpy release the GIL). An exception raised reading comes out where the entry it stopped at would
    have."""
    handed: queue.Queue[Any] = queue.Queue(maxsize=_AHEAD)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                handed.put(item, timeout=0.05)
            except queue.Full:
                continue
            return True
        return False

    def work() -> None:
        lines: list[tuple[int, str, bool]] = []
        try:
            for entry in entries:
                if not isinstance(entry, Block):
                    lines.append(entry)
                    if len(lines) >= _LINES:
                        if not put(lines):
                            return
                        lines = []
                    continue
                if lines and not put(lines):
                    return
                lines = []
                if not put(kept_lines(entry, coded)):
                    return
            if lines and not put(lines):
                return
            put(_END)
        except BaseException as exc:
            if not lines or put(lines):
                put(exc)

    worker = threading.Thread(target=work, name="powermetrics-read-ahead", daemon=True)
    worker.start()
    try:
        while (item := handed.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()
