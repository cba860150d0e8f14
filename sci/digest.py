"""A file's sha256 and size: read at once, or in a thread while the file is parsed.

Ingest needs a file's sha256 before parsing only when the bytes might equal something: a stored file or
another file of the same run of the same size (equal bytes have equal sizes). Any other file is new or
changed whatever its hash, so it is hashed beside the parse (``Digest``) and its sha256 is recorded in
the same transaction as its records. hashlib releases the GIL on large chunks, so the hash overlaps the
parse where a core is free; on two cores already busy with parsing and storing the gain is small (50M
nvidia-smi rows: 48.4 s -> 48.0 s; the hash first was about 4 s of it).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from sci.errors import SciError

HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Fingerprint:
    sha256: str
    size_bytes: int


def fingerprint(path: Path, stop: threading.Event | None = None) -> Fingerprint:
    """sha256 and size in bytes of a file, in one streaming pass (given up when ``stop`` is set)."""
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as stream:
            while (stop is None or not stop.is_set()) and (chunk := stream.read(HASH_CHUNK_BYTES)):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise unreadable(path, exc) from None
    return Fingerprint(digest.hexdigest(), size)


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise unreadable(path, exc) from None


def unreadable(path: Path, exc: OSError) -> SciError:
    return SciError(f"cannot read {path}: {exc.strerror}", hint="check the path and its permissions")


class Digest:
    """``fingerprint(path)`` in a helper thread, from construction on. Use as a context manager: leaving
    it stops the thread (if it is still reading) and waits for it."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stop = threading.Event()
        self._found: Fingerprint | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sci-digest", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._found = fingerprint(self._path, self._stop)
        except BaseException as exc:
            self._error = exc

    def result(self) -> Fingerprint:
        """The fingerprint, once the thread has read the whole file (its read error, if it failed)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._found is not None
        return self._found

    def __enter__(self) -> Digest:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
