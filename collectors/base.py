"""The collector extension point: what a collector is given and what it must yield.

A collector parses a file someone else produced (a log, an export) and yields ``Record`` and
``QualityIssue`` items. It never touches the database and never runs a program: capturing belongs to
a measure command, so a fixture file is a complete test.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Protocol
from zoneinfo import ZoneInfo

from sci.errors import CollectorError
from sci.model import Action, IssueKind, Item, QualityIssue

DEFAULT_MAX_GAP_S = 60.0
GZIP_MAGIC = b"\x1f\x8b"
MAX_EXPANSION = 250
"""Decompressed bytes per compressed byte beyond which a gzip file is refused as a decompression bomb.
Real logs expand 5-30x (nvidia-smi CSV about 12x, powermetrics text about 20x); deflate's limit is 1032x."""
BOMB_FLOOR_BYTES = 256 << 20
"""Below this many decompressed bytes the ratio is not checked (a tiny file may expand a lot, harmlessly)."""
MAX_DECOMPRESSED_BYTES = 64 << 30
"""No input decompresses to more than this (64 GiB: over 800M nvidia-smi rows)."""


@dataclass(frozen=True)
class SourceContext:
    """Everything a collector knows about the file it parses, beyond its bytes.

    ``options`` holds the collector-specific keys of the source's config table, already validated by the
    collector's ``OPTIONS``. ``on_progress`` receives the number of bytes read so far. With ``batches``
    a collector may yield ``RecordBatch`` items (columns of many records) beside ``Record`` s.
    """

    path: Path
    device: str
    timezone: ZoneInfo | None = None
    max_gap_s: float = DEFAULT_MAX_GAP_S
    options: Mapping[str, Any] = field(default_factory=dict)
    on_progress: Callable[[int], None] | None = None
    batches: bool = False  # the consumer takes ``RecordBatch`` items (the store does; tests may not)
    read_hash: ReadHash | None = None  # hashes the file's bytes as ``open_binary`` reads them

    def open_binary(self) -> BinaryIO:
        """The file's bytes; gzip-compressed files (``.gz`` from logrotate) are decompressed."""
        stream: io.BufferedReader = self.path.open("rb")
        if self.on_progress is not None or self.read_hash is not None:
            if self.read_hash is not None:
                self.read_hash.opened()
            raw = _ProgressReader(stream, self.on_progress, self.read_hash)
            stream = io.BufferedReader(raw, buffer_size=1 << 20)
        if stream.peek(2)[:2] == GZIP_MAGIC:
            limited = _BombGuard(_OwningGzipFile(stream), self, self.path.stat().st_size)
            return io.BufferedReader(limited, buffer_size=1 << 20)
        return stream

    def error(self, line: int | None, message: str, hint: str = "") -> CollectorError:
        return CollectorError(self.path, line, message, hint=hint)


class Collector(Protocol):
    """A parser of one input format.

    ``name`` is what config's ``collector = "..."`` names; ``version`` is recorded with every file it
    ingests (bump it when its output for the same input changes). ``OPTIONS`` maps each accepted
    option key to its type and a one-line description (used to validate config and write docs).
    A collector is instantiated with no arguments; everything about the file is in ``SourceContext``.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]]
    needs_timezone: ClassVar[bool]  # True when the format's timestamps are local time without offset

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """Whether ``head`` (the first ``SNIFF_BYTES`` of the file, decompressed) is in this format.

        Used by auto-detection (``collector = "auto"``, ``sci-report ingest PATH``): answer from content
        only, cheaply, and never raise. Be specific: a CSV collector checks its header's column names.
        """
        ...

    def parse(self, ctx: SourceContext) -> Iterator[Item]: ...


SNIFF_BYTES = 64 * 1024
"""How much of a file (decompressed) auto-detection shows each collector's ``sniff``."""


def head_bytes(path: Path, size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes of ``path``, decompressed when it is gzip; a damaged stream gives less."""
    ctx = SourceContext(path=path, device="")
    try:
        with ctx.open_binary() as stream:
            return stream.read(size)
    except (OSError, EOFError, zlib.error):
        with path.open("rb") as raw:
            return raw.read(size)


def head_text(head: bytes) -> str:
    """``head`` as text for sniffing: UTF-8 (BOM dropped), undecodable bytes replaced."""
    return head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")


@contextmanager
def numbered_lines(ctx: SourceContext) -> Iterator[Iterator[tuple[int, str, bool]]]:
    """Open the file and give ``(line_number, text, ended)`` for each line, decoded as UTF-8.

    Use it as ``with numbered_lines(ctx) as lines: for number, text, ended in lines: ...``: the file is
    closed when the block ends, also when the collector raises mid-file. A BOM is dropped; ``text`` has no
    line terminator; ``ended`` is False for a last line without one (a log cut off mid-write).
    Undecodable bytes raise a ``CollectorError`` naming the line.
    """
    with ctx.open_binary() as stream:
        yield _decoded(ctx, stream)


def cut_last_line(ctx: SourceContext, line: int) -> QualityIssue:
    """The issue for a last line without a line end: a log cut off mid-write; its values may be cut short."""
    return QualityIssue(
        kind=IssueKind.TRUNCATED,
        action=Action.DROPPED,
        line_start=line,
        line_end=line,
        rows=1,
        detail="the last line has no line end (the log was cut off mid-write): it is not read",
        device=ctx.device,
    )


def _decoded(ctx: SourceContext, stream: BinaryIO) -> Iterator[tuple[int, str, bool]]:
    for number, chunk in _chunks(ctx, stream):
        yield decode_line(ctx, number, chunk)


def decode_line(ctx: SourceContext, number: int, chunk: bytes) -> tuple[int, str, bool]:
    """``(number, text, ended)`` of one raw line, as ``numbered_lines`` gives it."""
    raw = chunk[3:] if number == 1 and chunk.startswith(b"\xef\xbb\xbf") else chunk
    ended = raw.endswith(b"\n")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ctx.error(
            number,
            f"bytes {exc.start}-{exc.end} are not UTF-8 text",
            "check that this is the right file; convert it with iconv -f <encoding> -t utf-8",
        ) from None
    return number, text.rstrip("\r\n"), ended


def _chunks(ctx: SourceContext, stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Numbered raw lines; a corrupt or cut-off compressed stream becomes a CollectorError."""
    number = 0
    try:
        for number, chunk in enumerate(stream, start=1):
            yield number, chunk
    except (OSError, EOFError, zlib.error) as exc:
        raise read_error(ctx, number + 1, exc) from None


def read_error(ctx: SourceContext, line: int, exc: Exception) -> CollectorError:
    """The error for a stream that cannot be read on at ``line`` (corrupt or cut-off compressed data)."""
    return ctx.error(
        line,
        f"cannot read on: the data is corrupt or cut off ({exc})",
        "re-copy the file, or decompress what is readable with `zcat FILE > FILE.txt` and ingest that",
    )


class _OwningGzipFile(gzip.GzipFile):
    """A gzip reader that closes the file it reads from (``GzipFile(fileobj=...)`` leaves it open)."""

    def __init__(self, raw: io.BufferedReader) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def reads_once(cls: type) -> bool:
    """Whether collector ``cls`` declares ``READS_ONCE = True``: its ``parse`` reads the file through
    ``SourceContext.open_binary`` once, from its start to its end, so ingest can hash the bytes as they are
    read (``ReadHash``) instead of reading the file a second time. Optional: a collector without it is
    hashed beside its parse."""
    return getattr(cls, "READS_ONCE", False) is True


class ReadHash:
    """The sha256 and size of a file, taken from the bytes ``SourceContext.open_binary`` reads (the file's
    own bytes: compressed, for a gzip file). Only whole when the file was opened once and read to its end;
    ``result`` is None otherwise, and the caller hashes the file itself."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._size = 0
        self._opens = 0
        self._ended = False

    def opened(self) -> None:
        self._opens += 1

    def read(self, data: memoryview) -> None:
        """Bytes read, in order (none: the end of the file)."""
        if len(data):
            self._digest.update(data)  # releases the GIL on large reads
            self._size += len(data)
        else:
            self._ended = True

    def result(self) -> tuple[str, int] | None:
        """(sha256, size in bytes), if the bytes read were the whole file, read once."""
        if self._opens != 1 or not self._ended:
            return None
        return self._digest.hexdigest(), self._size


class _ProgressReader(io.RawIOBase):
    """A binary reader that reports bytes read (for the ingest progress bar) and hashes them."""

    def __init__(
        self, raw: BinaryIO, on_progress: Callable[[int], None] | None, read_hash: ReadHash | None
    ) -> None:
        self._raw = raw
        self._on_progress = on_progress
        self._read_hash = read_hash
        self._done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = int(self._raw.readinto(buffer) or 0)  # type: ignore[attr-defined]
        if self._read_hash is not None:
            self._read_hash.read(memoryview(buffer)[:n])
        if n and self._on_progress is not None:
            self._done += n
            self._on_progress(self._done)
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


class _BombGuard(io.RawIOBase):
    """Decompressed bytes, refused with a ``CollectorError`` once they outgrow what a real log expands to."""

    def __init__(self, inner: gzip.GzipFile, ctx: SourceContext, compressed_bytes: int) -> None:
        self._inner = inner
        self._ctx = ctx
        self._compressed = compressed_bytes
        self._limit = min(MAX_DECOMPRESSED_BYTES, max(BOMB_FLOOR_BYTES, MAX_EXPANSION * compressed_bytes))
        self._done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._inner.readinto(buffer)
        self._done += n
        if self._done > self._limit:
            raise self._ctx.error(
                None,
                f"decompresses to more than {self._limit:,} bytes from {self._compressed:,} compressed: "
                f"refused as a possible decompression bomb (limit {MAX_EXPANSION}x the compressed size, "
                f"at least {BOMB_FLOOR_BYTES:,} and at most {MAX_DECOMPRESSED_BYTES:,} bytes)",
                "check where the file came from; if it is a real log, decompress it with zcat and ingest "
                "the plain file",
            )
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()
