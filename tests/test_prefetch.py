"""sci.prefetch: items in order from a helper thread; errors, early stops and closing behave as in-line."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sci import prefetch
from sci.prefetch import prefetched


def _helpers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sci-prefetch"]


@given(st.lists(st.integers(), max_size=3000), st.integers(min_value=1, max_value=4))
def test_items_come_in_order_whatever_the_chunking(items: list[int], depth: int) -> None:
    assert list(prefetched(items, heavy=lambda x: x % 7 == 0, depth=depth)) == items
    assert not _helpers()


def test_an_error_in_the_iterator_is_raised_in_the_consumer_after_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield from range(2500)  # more than two chunks
        raise ValueError("line 2501: bad")

    got: list[int] = []
    with pytest.raises(ValueError, match="line 2501: bad"):
        got.extend(prefetched(source()))
    assert got == list(range(2500))
    assert not _helpers()


def test_a_consumer_that_stops_early_stops_the_helper_and_closes_the_iterator() -> None:
    closed = threading.Event()
    produced: list[int] = []

    def source() -> Iterator[int]:
        try:
            for i in range(10**9):
                produced.append(i)
                yield i
        finally:
            closed.set()

    items = prefetched(source(), depth=1)
    assert next(items) == 0
    items.close()  # what an error while inserting (or Ctrl-C) does to the generator
    assert closed.is_set()
    assert not _helpers()
    # bounded read-ahead: the chunk taken, one in the queue, one being filled
    assert len(produced) <= 3 * prefetch.CHUNK_ITEMS + 1


def test_an_error_raised_by_the_consumer_leaves_no_thread_behind() -> None:
    def consume() -> None:
        for i in prefetched(iter(range(100_000))):
            if i == 5000:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        consume()
    assert not _helpers()


def test_a_heavy_item_is_handed_over_at_once() -> None:
    seen = threading.Event()
    release = threading.Event()

    def source() -> Iterator[str]:
        yield "batch"
        seen.set()
        release.wait(timeout=10)  # the consumer must get "batch" before this generator goes on
        yield "after"

    items = prefetched(source(), heavy=lambda x: x == "batch")
    assert next(items) == "batch"
    release.set()
    assert list(items) == ["after"]
    assert seen.is_set()
