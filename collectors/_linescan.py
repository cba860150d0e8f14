"""The lines of a block of text that start with one of a few prefixes, found in one pass over its bytes.

``kept(data, prefixes)`` is what a block path needs when it acts on a few kinds of line only (the
powermetrics text collector keeps a tenth of a log's bytes): the number of lines, and each kept line's
position, prefix and bytes, copied out. None if ``data`` is not plain (a byte above 0x7f or a ``\\r``):
the caller then reads its lines one by one.

Two implementations give the same answer (``tests/test_linescan.py`` checks it on generated blocks):

- ``collectors/_linescan.c``, built into ``collectors._linescan_c`` when the package is installed with a
  C compiler at hand (``hatch_build.py``): one pass without the GIL, 16 bytes at a time on x86-64. It
  finds the kept lines of 2.9 GB in about 0.45 s of CPU here.
- ``kept_numpy``, the reference and the fallback when the module is not built: newline positions, then
  the first 8 bytes of every line against the prefixes, then the rest of each prefix on the candidates
  only, then the kept bytes gathered (about 1.95 s of CPU for the same 2.9 GB).

``NATIVE`` says which one ``kept`` uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from collectors._blocks import is_plain

_WORD: Final = 8  # bytes compared at once; every prefix is at least this long

_NativeKept = Callable[
    [bytes | memoryview, tuple[bytes, ...]], tuple[int, bytes, bytes, bytes, bytes, bytes] | None
]


def _native() -> _NativeKept | None:
    try:
        from collectors._linescan_c import kept as native
    except ImportError:  # not built (no C compiler at install): the numpy reference does the same
        return None
    return native


_native_kept = _native()
NATIVE: Final = _native_kept is not None


@dataclass(frozen=True, slots=True)
class Found:
    """The kept lines of a block: ``count`` lines in all; per kept line, its position among them
    (``index``, 0 first), which prefix it starts with (``which``) and where it lies in ``data`` (the kept
    lines' bytes, each with its ``\\n``): ``starts`` to ``ends`` (the ``\\n``). Arrays are numpy."""

    count: int
    index: Any  # int64
    which: Any  # int8
    starts: Any  # int64
    ends: Any  # int64
    data: bytes


def kept(data: bytes | memoryview, prefixes: tuple[bytes, ...]) -> Found | None:
    """The lines of ``data`` (each ended by ``\\n``) that start with one of ``prefixes`` (each at least 8
    bytes, none a prefix of another); None if ``data`` is not plain ASCII without ``\\r``."""
    if _native_kept is None:
        return kept_numpy(data, prefixes)
    import numpy as np

    found = _native_kept(data, prefixes)
    if found is None:
        return None
    count, index, which, starts, ends, kept_bytes = found
    return Found(
        count,
        np.frombuffer(index, dtype=np.int64),
        np.frombuffer(which, dtype=np.int8),
        np.frombuffer(starts, dtype=np.int64),
        np.frombuffer(ends, dtype=np.int64),
        kept_bytes,
    )


def kept_numpy(data: bytes | memoryview, prefixes: tuple[bytes, ...]) -> Found | None:
    """``kept`` with numpy: the reference."""
    import numpy as np

    if any(len(prefix) < _WORD for prefix in prefixes):
        raise ValueError("each prefix is bytes of at least 8")
    if not is_plain(data):
        return None
    raw = np.frombuffer(data, dtype=np.uint8)
    size = len(raw)
    ends = np.flatnonzero(raw == ord("\n"))  # bytes after the last line end are not a line
    starts = np.empty_like(ends)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    which = np.full(len(starts), -1, dtype=np.int8)
    if size >= _WORD:
        words = np.ndarray((size - _WORD + 1,), dtype="<u8", buffer=data, strides=(1,))  # at every byte
        first = words[np.minimum(starts, size - _WORD)]  # a line shorter than 8 bytes matches no prefix
        for k, prefix in enumerate(prefixes):
            _mark(which, (first, words), (starts, ends), prefix, k)
    keep = np.flatnonzero(which >= 0)
    return _compact(raw, len(ends), keep, which[keep], (starts[keep], ends[keep]))


def _mark(which: Any, read: tuple[Any, Any], lines: tuple[Any, Any], prefix: bytes, k: int) -> None:
    """Set ``which`` to ``k`` where a line (``lines``: starts and ends) starts with ``prefix``
    (``read``: each line's first word, the word at every byte)."""
    import numpy as np

    first, words = read
    candidates = np.flatnonzero(first == _word(prefix, 0))
    if not len(candidates):
        return
    starts, ends = lines
    long_enough = starts[candidates] + len(prefix) <= ends[candidates]  # so every word read lies inside
    candidates = candidates[long_enough]
    at = starts[candidates]
    good = np.ones(len(candidates), dtype=bool)
    for offset in (*range(_WORD, len(prefix) - _WORD + 1, _WORD), len(prefix) - _WORD):
        good &= words[at + offset] == _word(prefix, offset)
    which[candidates[good]] = k


def _word(prefix: bytes, offset: int) -> int:
    return int.from_bytes(prefix[offset : offset + _WORD], "little")


def _compact(raw: Any, count: int, keep: Any, which: Any, lines: tuple[Any, Any]) -> Found:
    """Lines ``keep`` (``lines``: their starts and ends in ``raw``) with their bytes copied out."""
    import numpy as np

    starts, ends = lines
    if not len(keep):
        return Found(count, keep, which, starts, ends, b"")
    lengths = ends - starts + 1
    placed = np.cumsum(lengths) - lengths  # where each line begins in the kept bytes
    at = np.repeat(starts - placed, lengths) + np.arange(int(placed[-1] + lengths[-1]))
    return Found(count, keep, which, placed, placed + lengths - 1, raw[at].tobytes())
