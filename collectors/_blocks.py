"""A file's lines, or whole blocks of them, for collectors with a vectorised path.

``BlockSource`` reads the (decompressed) bytes in blocks that end at a line end and hands each one on as a
``Block``; a collector whose vectorised path cannot take a block calls ``unroll`` and then gets its lines
one by one, as ``numbered_lines`` gives them (``(number, text, ended)``, BOM dropped, UTF-8 checked). A
block is only ever ASCII without carriage returns: anything else comes as lines. Block
sizes start small (the header and first rows are read line by line) and double up to ``MAX_BLOCK_BYTES``
(or the caller's ``max_bytes``);
after an unrolled block they start small again, so an odd stretch of a file costs little.
"""

from __future__ import annotations

import mmap
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from collectors.base import SourceContext, decode_line, read_error

FIRST_BLOCK_BYTES = 64 << 10
MAX_BLOCK_BYTES = 16 << 20


@dataclass(frozen=True, slots=True)
class Block:
    """Lines ``first_line`` .. ``first_line + count - 1``, each ended by ``\\n`` (``data`` ends with one);
    ``scanned``: what the source's ``scan`` found in them, if it was given one."""

    first_line: int
    count: int
    data: bytes | memoryview
    scanned: Any = None


Entry = tuple[int, str, bool] | Block
Scan = Callable[[bytes | memoryview], tuple[int, Any] | None]  # a plain block's line count and findings


class BlockSource:
    """Iterate over ``Block`` s and ``(number, text, ended)`` lines of an open stream."""

    def __init__(
        self,
        ctx: SourceContext,
        stream: BinaryIO,
        max_bytes: int | None = None,
        *,
        scan: Scan | None = None,
        reuse: bool = False,
    ) -> None:
        """``scan``: what counts a block's lines and checks that it is plain, in the same pass as whatever
        else the caller wants of the block (``Block.scanned``). ``reuse``: each block's ``data`` is a view
        of a buffer that the source reads the next block into, valid only until the next entry is asked
        for (no block-sized allocation and copy per block)."""
        self._ctx = ctx
        self._max_bytes = MAX_BLOCK_BYTES if max_bytes is None else max_bytes
        self._scan = scan
        self._buffer: mmap.mmap | None = _anonymous(FIRST_BLOCK_BYTES) if reuse else None
        self._stream = stream
        self._size = FIRST_BLOCK_BYTES
        self._next_line = 1
        self._rest = b""
        self._eof = False
        self._pending: deque[tuple[int, bytes]] = deque()  # decoded as they are taken: errors in order

    def __iter__(self) -> Iterator[Entry]:
        return self

    def __next__(self) -> Entry:
        if self._pending:
            return decode_line(self._ctx, *self._pending.popleft())
        if self._eof:
            raise StopIteration
        whole, self._rest = self._lines()
        if not whole:  # the end: an unterminated last line, if any
            self._eof = True
            if self._rest:
                self._pending.append((self._next_line, self._rest))
                self._rest = b""
            return self.__next__()
        block, plain = self._block(whole)
        self._next_line += block.count
        if block.first_line == 1 or not plain:
            self.unroll(block)
            return self.__next__()
        self._size = min(self._size * 2, self._max_bytes)
        return block

    def _block(self, whole: bytes | memoryview) -> tuple[Block, bool]:
        """The block of lines ``whole`` and whether it is plain."""
        if self._scan is None:
            return Block(self._next_line, count_byte(whole, b"\n"), whole), is_plain(whole)
        scanned = self._scan(whole)
        if scanned is None:
            return Block(self._next_line, count_byte(whole, b"\n"), whole), False
        count, found = scanned
        return Block(self._next_line, count, whole, found), True

    def unroll(self, block: Block) -> None:
        """Give the lines of ``block`` next, one by one."""
        lines = bytes(block.data).split(b"\n")[:-1]
        self._pending.extend((block.first_line + i, raw + b"\n") for i, raw in enumerate(lines))
        self._size = FIRST_BLOCK_BYTES

    def _lines(self) -> tuple[bytes | memoryview, bytes]:
        """The next whole lines (up to the last line end read; empty at the end) and the rest after them."""
        if self._buffer is not None:
            return self._lines_into(self._buffer)
        try:
            chunk = self._stream.read(self._size)
        except (OSError, EOFError, zlib.error) as exc:
            raise read_error(self._ctx, self._next_line + self._rest.count(b"\n"), exc) from None
        cut = chunk.rfind(b"\n") + 1
        if cut == len(chunk) and not self._rest:
            return chunk, b""
        if cut:  # the usual case: one copy, the rest and the chunk's whole lines joined
            return b"".join((self._rest, memoryview(chunk)[:cut])), chunk[cut:]
        data = self._read(chunk)
        cut = data.rfind(b"\n") + 1
        return data[:cut], data[cut:]

    def _lines_into(self, buffer: mmap.mmap) -> tuple[bytes | memoryview, bytes]:
        """``_lines`` read into ``buffer`` (after the rest), the whole lines a view of it."""
        rest = len(self._rest)
        if len(buffer) < rest + self._size:
            buffer = self._buffer = _anonymous(rest + max(self._size, self._max_bytes))
        buffer[:rest] = self._rest
        view = memoryview(buffer)
        try:
            n = self._stream.readinto(view[rest : rest + self._size])  # type: ignore[attr-defined]
        except (OSError, EOFError, zlib.error) as exc:
            raise read_error(self._ctx, self._next_line + self._rest.count(b"\n"), exc) from None
        total = rest + int(n or 0)
        cut = buffer.rfind(b"\n", 0, total) + 1
        if cut:
            return view[:cut], bytes(view[cut:total])
        data = self._read(bytes(view[rest:total]))  # no line end: as _lines does
        cut = data.rfind(b"\n") + 1
        return data[:cut], data[cut:]

    def _read(self, chunk: bytes) -> bytes:
        """The rest and ``chunk`` (which has no line end), and more until a line ends or the file does."""
        if not chunk:
            return self._rest
        data = self._rest + chunk
        while b"\n" not in data:  # a very long line: read on until it ends
            more = self._read_more()
            if not more:
                return data
            data += more
        return data

    def _read_more(self) -> bytes:
        try:
            return self._stream.read(self._size)
        except (OSError, EOFError, zlib.error) as exc:
            raise read_error(self._ctx, self._next_line, exc) from None


def _anonymous(size: int) -> mmap.mmap:
    """A buffer of ``size`` bytes of its own pages, given back to the system when it goes: a ``bytearray``
    of a block's size would come from the reading thread's malloc arena, which keeps it (over 20 laptop
    logs, a run's peak RSS grew by about 20 MiB a file)."""
    return mmap.mmap(-1, size)


def count_byte(data: bytes | memoryview, byte: bytes) -> int:
    """How many times ``byte`` occurs in ``data`` (numpy: about three times as fast as ``bytes.count``)."""
    import numpy as np

    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == ord(byte)))


def is_plain(data: bytes | memoryview) -> bool:
    """ASCII without carriage returns: what a block may hold (a collector checks its field counts, which
    rules out empty lines)."""
    if isinstance(data, bytes):
        return data.isascii() and b"\r" not in data
    import numpy as np

    words = len(data) // 8  # a view has no isascii: no high bit in any 8 bytes at once
    raw = np.frombuffer(data, dtype=np.uint8)
    high = int(np.bitwise_or.reduce(raw[: words * 8].view(np.uint64))) if words else 0
    high |= int(np.bitwise_or.reduce(raw[words * 8 :])) if len(data) % 8 else 0
    return not high & 0x8080808080808080 and count_byte(data, b"\r") == 0
