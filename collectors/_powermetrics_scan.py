"""Array helpers of the powermetrics block path (``collectors/_powermetrics_fast.py``).

- ``kept_lines``: the few lines of a block the line loop acts on, found in one pass over the block's bytes
  as the block source reads it (``scanner``: ``collectors/_linescan.py``), without splitting the block
  into lines, and copied out. Blocks are read and scanned ``SCAN_BLOCK_BYTES`` at a time (below), and
  ``merged``: the kept lines of consecutive blocks go to the parse as one, which costs it per call.
- ``header_times``: the elapsed time and header time of every sample header of a region at once (numpy
  over the fixed columns of the headers, a day start per distinct day and UTC offset).
- ``power_values``: the values of a region's power lines at once (numpy over the bytes after each
  prefix).
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

import collectors._linescan as linescan
import collectors.powermetrics_text as pt
from collectors._blocks import Block, Entry, Scan
from sci.errors import CollectorError
from sci.units import US_PER_S

if TYPE_CHECKING:
    from collectors._chain import ElapsedChain
    from collectors.powermetrics_text import _State

_MAX_ELAPSED_MS: Final = 1e9  # beyond (11 days a sample) the line path places the samples, exactly
_MAX_RESETS: Final = 64  # samples off the chain placed one by one before the rest of a region is too


@dataclass(frozen=True, slots=True)
class Kept:
    """The kept lines of one or more consecutive blocks, in order: line numbers, codes, and where each
    lies in ``data`` (the kept lines' bytes only, each with its newline; ``raw`` its numpy view):
    ``starts`` to ``ends`` (the newline)."""

    numbers: Any  # numpy int64
    codes: Any  # numpy int8
    starts: Any  # numpy int64
    ends: Any  # numpy int64
    data: bytes
    raw: Any  # numpy uint8
    last_line: int  # the block's last line

    def texts(self, begin: int, end: int) -> list[str]:
        """The texts of kept lines ``begin`` .. ``end - 1``."""
        data = self.data
        return [
            data[a:b].decode("ascii")
            for a, b in zip(self.starts[begin:end].tolist(), self.ends[begin:end].tolist(), strict=True)
        ]


def scanner(coded: tuple[tuple[str, int], ...]) -> Scan:
    """A ``BlockSource`` scan that finds the lines starting with the ``coded`` prefixes."""
    prefixes = tuple(prefix.encode("ascii") for prefix, _ in coded)

    def scan(data: bytes | memoryview) -> tuple[int, linescan.Found] | None:
        found = linescan.kept(data, prefixes)
        return None if found is None else (found.count, found)

    return scan


def kept_lines(block: Block, coded: tuple[tuple[str, int], ...]) -> Kept:
    """The lines of ``block`` that start with one of the ``coded`` prefixes (each with its code; no
    prefix is a prefix of another, each is at least 8 bytes long), their bytes copied out of the block:
    what the block's scan found (``scanner(coded)``), or found now."""
    import numpy as np

    found = block.scanned
    if found is None:
        found = linescan.kept(block.data, tuple(prefix.encode("ascii") for prefix, _ in coded))
        if found is None:
            raise ValueError("a block is plain ASCII without carriage returns")
    codes = np.array([code for _, code in coded], dtype=np.int8)[found.which]
    raw = np.frombuffer(found.data, dtype=np.uint8)
    last_line = block.first_line + block.count - 1
    return Kept(found.index + block.first_line, codes, found.starts, found.ends, found.data, raw, last_line)


def merged(parts: list[Kept]) -> Kept:
    """One ``Kept`` of the kept lines of consecutive blocks ``parts``, as if they were one block."""
    import numpy as np

    if len(parts) == 1:
        return parts[0]
    offsets = np.cumsum([0, *(len(part.data) for part in parts[:-1])])
    data = b"".join(part.data for part in parts)
    return Kept(
        np.concatenate([part.numbers for part in parts]),
        np.concatenate([part.codes for part in parts]),
        np.concatenate([part.starts + at for part, at in zip(parts, offsets.tolist(), strict=True)]),
        np.concatenate([part.ends + at for part, at in zip(parts, offsets.tolist(), strict=True)]),
        data,
        np.frombuffer(data, dtype=np.uint8),
        parts[-1].last_line,
    )


# A sample header, ``*** Sampled system activity (Fri Nov 10 12:37:08 2023 +0100) (104.51ms elapsed) ***``,
# has fixed columns up to its elapsed time (``pt._HEADER_RE``).
_HEAD_FIXED: Final = 62  # the elapsed time starts here
_HEAD_TAIL: Final = b"ms elapsed) ***"
_HEAD_CHARS: Final = {27: " ", 28: "(", 32: " ", 36: " ", 39: " ", 42: ":", 45: ":", 48: " ", 53: " "} | {
    59: ")",
    60: " ",
    61: "(",
}
_HEAD_DIGITS: Final = (38, 40, 41, 43, 44, 46, 47, 49, 50, 51, 52, 55, 56, 57, 58)
_WEEKDAYS: Final = tuple(pt._WEEKDAYS)  # 'Mon' ..
_MONTHS: Final = tuple(pt._MONTHS)  # 'Jan' ..
_MAX_DIGITS: Final = 15  # a decimal of at most 15 digits is an exact integer over an exact power of ten
_NUMBER_WIDTH: Final = 32  # the widest number text read at once


@dataclass(frozen=True, slots=True)
class Times:
    elapsed_ms: Any  # numpy float64
    elapsed_us: Any  # numpy int64: round(elapsed_ms * 1000), half to even as the line path rounds
    stamps: Any  # numpy int64: header time, us since the epoch, UTC
    last: tuple[str, int]  # the last header's time text and time (the line path's cache)


def header_times(state: _State, kept: Kept, heads: Any) -> Times | None:
    """The times of the sample headers ``heads`` (kept lines), as ``_State.start`` reads them: the time
    of a header on a day (and offset) is that day's start (``_State._header_us`` on its first header)
    plus its clock time. None if any is not in the fixed form."""
    import numpy as np

    fields = _header_fields(kept, heads)
    if fields is None:
        return None
    elapsed_ms, clock_us, day = fields
    starts, ends = kept.starts[heads], kept.ends[heads]
    _, firsts, rank = np.unique(day, return_index=True, return_inverse=True)
    day_start = np.zeros(len(firsts), dtype=np.int64)
    for r, i in enumerate(firsts.tolist()):
        match = pt._HEADER_RE.fullmatch(kept.data[starts[i] : ends[i]].decode("ascii"))
        if match is None:
            return None
        try:
            day_start[r] = state._header_us(int(kept.numbers[heads[i]]), match) - int(clock_us[i])
        except CollectorError:
            return None
    stamps = day_start[rank.ravel()] + clock_us
    elapsed_us = np.rint(elapsed_ms * pt._US_PER_MS).astype(np.int64)
    when = kept.data[starts[-1] + 29 : starts[-1] + 59].decode("ascii")  # pt._HEADER_RE's 'when'
    return Times(elapsed_ms, elapsed_us, stamps, (when, int(stamps[-1])))


def _header_fields(kept: Kept, heads: Any) -> tuple[Any, Any, Any] | None:
    """Elapsed ms, clock time (us) and a day key (date, weekday and UTC offset) of each header."""
    import numpy as np

    raw, starts, ends = kept.raw, kept.starts[heads], kept.ends[heads]
    if not len(heads) or (ends - starts < _HEAD_FIXED + 1 + len(_HEAD_TAIL)).any():
        return None
    head = raw[starts[:, None] + np.arange(_HEAD_FIXED)]  # the fixed columns of each header
    tail = raw[ends[:, None] - len(_HEAD_TAIL) + np.arange(len(_HEAD_TAIL))]
    digits = head[:, _HEAD_DIGITS] - ord("0")  # uint8: a byte below '0' wraps above 9
    day_tens, sign = head[:, 37], head[:, 54]
    fixed = (
        all((head[:, at] == ord(char)).all() for at, char in _HEAD_CHARS.items())
        and (tail == np.frombuffer(_HEAD_TAIL, dtype=np.uint8)).all()
        and (digits <= 9).all()
        and ((day_tens == ord(" ")) | ((day_tens >= ord("0")) & (day_tens <= ord("9")))).all()
        and ((sign == ord("+")) | (sign == ord("-"))).all()
    )
    weekday, month = _named(head[:, 29:32], _WEEKDAYS), _named(head[:, 33:36], _MONTHS)
    width = ends - len(_HEAD_TAIL) - starts - _HEAD_FIXED
    chars = _window(raw, starts + _HEAD_FIXED, width) if fixed else None
    elapsed_ms = None if chars is None else _decimals(chars, np.zeros_like(width), width, strict=True)
    if weekday is None or month is None or elapsed_ms is None or not (elapsed_ms <= _MAX_ELAPSED_MS).all():
        return None
    d = digits.astype(np.int64)
    hour, minute, second = d[:, 1] * 10 + d[:, 2], d[:, 3] * 10 + d[:, 4], d[:, 5] * 10 + d[:, 6]
    if (hour > 23).any() or (minute > 59).any() or (second > 60).any():
        return None
    clock_us = (hour * 3600 + minute * 60 + second) * US_PER_S
    day = np.where(day_tens == ord(" "), 0, day_tens.astype(np.int64) - ord("0")) * 10 + d[:, 0]
    year = d[:, 7] * 1000 + d[:, 8] * 100 + d[:, 9] * 10 + d[:, 10]
    offset = (sign == ord("+")) * 10_000 + d[:, 11] * 1000 + d[:, 12] * 100 + d[:, 13] * 10 + d[:, 14]
    return elapsed_ms, clock_us, (((year * 16 + month) * 32 + day) * 8 + weekday) * 20_000 + offset


def _named(columns: Any, names: tuple[str, ...]) -> Any:
    """The index of each row's three letters in ``names``; None if one is not there."""
    import numpy as np

    code = (columns[:, 0].astype(np.int64) << 16) | (columns[:, 1].astype(np.int64) << 8) | columns[:, 2]
    table = np.array([int.from_bytes(name.encode("ascii"), "big") for name in names], dtype=np.int64)
    order = np.argsort(table)
    at = np.minimum(np.searchsorted(table[order], code), len(names) - 1)
    if not (table[order][at] == code).all():
        return None
    return order[at]


def _decimals(chars: Any, low: Any, high: Any, *, strict: bool) -> Any:
    """The decimal number in columns ``low`` .. ``high - 1`` of each row of ``chars`` (bytes) as ``float``
    reads it, or None if one is not ``[0-9]+(\\.[0-9]*)?|\\.[0-9]+`` (``strict``: ``[0-9]+(\\.[0-9]+)?``)
    of at most 15 digits. An integer of at most 15 digits over a power of ten are both exact, so one
    division rounds as ``float`` does."""
    import numpy as np

    rows = np.arange(len(low))
    if not len(rows) or (high <= low).any() or (high > chars.shape[1]).any():
        return None
    columns = np.arange(chars.shape[1])
    inside = (columns >= low[:, None]) & (columns < high[:, None])
    digit = inside & (chars - ord("0") <= 9)
    dot = inside & (chars == ord("."))
    dots, count = dot.sum(axis=1), digit.sum(axis=1)
    if (
        (inside & ~(digit | dot)).any()
        or (dots > 1).any()
        or (count < 1).any()
        or (count > _MAX_DIGITS).any()
    ):
        return None
    if strict and not (digit[rows, low].all() and digit[rows, high - 1].all()):
        return None
    value = np.zeros(len(rows), dtype=np.int64)  # the digits as one integer, column by column
    for column in range(chars.shape[1]):
        value = np.where(digit[:, column], value * 10 + (chars[:, column] - ord("0")), value)
    fraction = np.where(dots > 0, high - 1 - np.argmax(dot, axis=1), 0)  # digits after the dot
    return value.astype(np.float64) / np.array(_POWERS_OF_TEN)[fraction]


def _window(raw: Any, begin: Any, width: Any) -> Any | None:
    """Bytes ``begin`` .. ``begin + width - 1`` of each row, as columns (past a row's width: any byte)."""
    import numpy as np

    if not len(width) or (width < 1).any() or (width > _NUMBER_WIDTH).any():
        return None
    return raw[np.minimum(begin[:, None] + np.arange(int(width.max())), len(raw) - 1)]


def power_values(kept: Kept, rows: Any, skip: Any) -> tuple[Any, Any] | None:
    """The value (as ``float`` reads it) and whether its unit is W (else mW) of power lines ``rows``
    (kept lines) after their first ``skip`` characters, as ``pt._VALUE_RE`` reads them; None if one is
    not in that form (or has more than 15 digits)."""
    import numpy as np

    raw, ends = kept.raw, kept.ends[rows]
    begin = kept.starts[rows] + skip
    width = ends - begin
    chars = _window(raw, begin, width)
    if chars is None or (width < 2).any() or not (raw[ends - 1] == ord("W")).all():
        return None
    milli = raw[ends - 2] == ord("m")
    high = width - 1 - milli
    high = high - (raw[begin + high - 1] == ord(" "))  # ' ?' before the unit
    inside = np.arange(chars.shape[1]) < width[:, None]
    low = np.argmax((chars != ord(" ")) | ~inside, axis=1)  # ' *' before the number
    minus = chars[np.arange(len(low)), np.minimum(low, chars.shape[1] - 1)] == ord("-")
    value = _decimals(chars, low + minus, high, strict=False)
    if value is None:
        return None
    return np.where(minus, -value, value), ~milli


_POWERS_OF_TEN: Final = tuple(float(10**k) for k in range(_MAX_DIGITS + 1))


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


_AHEAD: Final = 2  # items read ahead: what memory the thread may add (kept lines are a tenth of a log)
_LINES: Final = 4096  # lines handed over at once
_MERGED_LINES: Final = 1 << 16  # kept lines of consecutive blocks handed over at once (parses cost per call)
# Blocks read and scanned at once. The C scan makes one pass, so larger blocks only save round trips
# (1M samples: 4.19-4.31 s at 8 MiB, 4.50-4.59 s at 2 MiB, 4.49-4.84 s at 16 MiB); the numpy scan makes
# several, which stay in the cache at 2 MiB.
SCAN_BLOCK_BYTES: Final = (8 if linescan.NATIVE else 2) << 20
_END: Final = object()
Ahead = Kept | list[tuple[int, str, bool]]  # a block's kept lines, or lines one by one


def read_ahead(entries: Iterator[Entry], coded: tuple[tuple[str, int], ...]) -> Iterator[Ahead]:
    """The kept lines of the blocks of ``entries`` (a ``BlockSource``; consecutive blocks merged, up to
    ``_MERGED_LINES`` kept lines) and its other entries (lines) in lists, in order, read and found in a
    thread up to two items ahead of the caller (file reads and numpy release the GIL). An exception
    raised reading comes out where the entry it stopped at would have."""
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
        parts: list[Kept] = []  # the kept lines of consecutive blocks, handed on as one
        held = 0  # kept lines in parts

        def hand_on() -> bool:
            nonlocal lines, parts, held
            done = put(lines) if lines else put(merged(parts)) if parts else True
            lines, parts, held = [], [], 0
            return done

        try:
            for entry in entries:
                if isinstance(entry, Block):
                    if lines and not hand_on():
                        return
                    parts.append(kept := kept_lines(entry, coded))
                    held += len(kept.numbers)
                    if held >= _MERGED_LINES and not hand_on():
                        return
                    continue
                if parts and not hand_on():
                    return
                lines.append(entry)
                if len(lines) >= _LINES and not hand_on():
                    return
            if hand_on():
                put(_END)
        except BaseException as exc:
            if hand_on():
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
