"""Run an iterator in a helper thread, a few chunks ahead of the code that consumes it.

Ingest parses a file (collector and screen: polars, numpy, Python) while the store inserts what was parsed
(DuckDB). Both release the GIL for their heavy parts, so on two cores they overlap. The queue holds at most
``depth`` chunks, so memory stays bounded however large the file is. An exception in the iterator is raised
in the consumer, with its own traceback; if the consumer stops early (an error while inserting, Ctrl-C),
the helper stops at its next chunk and closes the iterator in its own thread, so files are closed and no
thread outlives the call.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final, TypeVar, cast

T = TypeVar("T")

DEPTH: Final = 2
"""Chunks parsed ahead of the consumer (each up to ``CHUNK_ITEMS`` items, or one heavy item)."""
CHUNK_ITEMS: Final = 1024
_POLL_S: Final = 0.1  # how often a waiting helper looks whether the consumer has stopped


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


_END: Final = object()


def prefetched(
    items: Iterable[T], *, heavy: Callable[[T], bool] = lambda _: False, depth: int = DEPTH
) -> Iterator[T]:
    """``items`` in order, produced in a helper thread; a chunk is handed over after ``CHUNK_ITEMS`` items
    or right after an item for which ``heavy`` is true (a large batch: it should not wait for company)."""
    chunks: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    helper = threading.Thread(
        target=_produce, args=(iter(items), heavy, chunks, stop), name="sci-prefetch", daemon=True
    )
    helper.start()
    try:
        while True:
            got = _get(chunks, helper)
            if got is _END:
                return
            if isinstance(got, _Failed):
                raise got.error
            yield from cast("list[T]", got)  # a chunk put by _produce
    finally:
        stop.set()
        helper.join()


def _produce(
    items: Iterator[T], heavy: Callable[[T], bool], chunks: queue.Queue[object], stop: threading.Event
) -> None:
    chunk: list[T] = []
    end: object = _END
    try:
        try:
            for item in items:
                chunk.append(item)
                if len(chunk) >= CHUNK_ITEMS or heavy(item):
                    if not _put(chunks, chunk, stop):
                        return
                    chunk = []
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's finally blocks (open files) run here, in this thread
    except BaseException as error:  # handed to the consumer, which raises it after the items before it
        end = _Failed(error)
    if not chunk or _put(chunks, chunk, stop):
        _put(chunks, end, stop)


def _get(chunks: queue.Queue[object], helper: threading.Thread) -> object:
    while True:
        try:
            return chunks.get(timeout=_POLL_S)
        except queue.Empty:
            if not helper.is_alive() and chunks.empty():
                raise RuntimeError("the prefetch thread ended without handing over an end") from None


def _put(chunks: queue.Queue[object], value: object, stop: threading.Event) -> bool:
    """Hand ``value`` over; False if the consumer stopped first."""
    while not stop.is_set():
        try:
            chunks.put(value, timeout=_POLL_S)
        except queue.Full:
            continue
        return True
    return False
