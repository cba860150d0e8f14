"""``BlockSource`` (``collectors/_blocks.py``) hands on every line exactly once, in order and with its
number, whether its blocks are fresh bytes or views of a reused buffer (``reuse=True``), with or without
a scan, and however long the lines are against the block size (lines longer than a block included)."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import collectors._blocks as blocks
from collectors.base import SourceContext

_LINES = st.lists(
    st.one_of(st.text(alphabet="ab ,.0", max_size=12), st.text(alphabet="xy", min_size=90, max_size=300)),
    max_size=80,
)


def _entries(path: Path, *, reuse: bool, scan: blocks.Scan | None) -> list[tuple[int, bytes]]:
    """(number, bytes with its line end) of every line, blocks split again as they come (a reused block is
    read before the next one is asked for)."""
    out: list[tuple[int, bytes]] = []
    ctx = SourceContext(path=path, device="d")
    with ctx.open_binary() as stream:
        for entry in blocks.BlockSource(ctx, stream, scan=scan, reuse=reuse):
            if isinstance(entry, blocks.Block):
                data = bytes(entry.data)
                lines = data.split(b"\n")[:-1]
                assert len(lines) == entry.count
                if scan is not None:
                    assert entry.scanned == ("scanned", entry.count)
                out.extend((entry.first_line + i, line + b"\n") for i, line in enumerate(lines))
            else:
                number, text, ended = entry
                out.append((number, text.encode("utf-8") + (b"\n" if ended else b"")))
    return out


def _counted(data: bytes | memoryview) -> tuple[int, object] | None:
    count = bytes(data).count(b"\n")
    return (count, ("scanned", count)) if blocks.is_plain(data) else None


@settings(max_examples=150, deadline=None)
@given(
    lines=_LINES,
    ended=st.booleans(),
    odd=st.sampled_from(["", "caf\u00e9", "\r"]),
    gzipped=st.booleans(),
)
def test_every_line_once_in_order_fresh_or_reused(
    lines: list[str], ended: bool, odd: str, gzipped: bool
) -> None:
    if odd and lines:
        lines[len(lines) // 2] += odd
    text = "\n".join(lines) + ("\n" if ended and lines else "")
    raw = text.encode("utf-8")
    saved = blocks.FIRST_BLOCK_BYTES, blocks.MAX_BLOCK_BYTES
    blocks.FIRST_BLOCK_BYTES, blocks.MAX_BLOCK_BYTES = 64, 128
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / ("log.txt.gz" if gzipped else "log.txt")
            path.write_bytes(gzip.compress(raw) if gzipped else raw)
            expected = _entries(path, reuse=False, scan=None)
            if odd != "\r":  # (a line's text comes without a carriage return before its end)
                assert b"".join(line for _, line in expected) == raw
            assert [number for number, _ in expected] == list(range(1, len(expected) + 1))
            for reuse in (False, True):
                for scan in (None, _counted):
                    assert _entries(path, reuse=reuse, scan=scan) == expected
    finally:
        blocks.FIRST_BLOCK_BYTES, blocks.MAX_BLOCK_BYTES = saved
