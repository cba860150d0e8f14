"""The array readers of the powermetrics block path (``collectors/_powermetrics_scan.py``) read exactly what
the line path's regexes and ``float`` read, or decline (None) and leave the lines to the line path.

Each is checked on its own against the line path's parse of the same text (values bit for bit), and whole
logs made of samples in those forms are checked against the line loop (``_same`` of
``tests/test_powermetrics_fast.py``), including the read-ahead thread's hand-over of errors.
"""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import collectors._powermetrics_fast as fast
import collectors._powermetrics_scan as scan
import collectors.powermetrics_text as pt
from collectors._blocks import Block
from collectors._chain import ElapsedChain
from collectors.base import SourceContext
from sci.errors import CollectorError
from tests.test_powermetrics_fast import _log, _outcome, _same, _taken

_PREFIX = "CPU Power:"


def _kept(lines: list[str]) -> scan.Kept:
    data = ("\n".join(lines) + "\n").encode("ascii")
    return scan.kept_lines(Block(1, len(lines), data), fast._CODED)


def _bits(value: float) -> bytes:
    return struct.pack("<d", value)


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet=" -+.0123456789mWk", min_size=0, max_size=24))
def test_power_values_read_what_the_value_regex_reads(text: str) -> None:
    kept = _kept(["x", _PREFIX + text])
    rows = np.flatnonzero(kept.codes >= 0)
    got = scan.power_values(kept, rows, np.array([len(_PREFIX)])) if len(rows) else None
    match = pt._VALUE_RE.fullmatch(_PREFIX + text, len(_PREFIX))
    if got is None:  # declined: not the form, or more digits than read exactly
        assert match is None or sum(c.isdigit() for c in match["value"]) > scan._MAX_DIGITS
        return
    assert match is not None
    value, watts = got
    assert _bits(float(value[0])) == _bits(float(match["value"]))
    assert bool(watts[0]) == (match["unit"] == "W")


def test_power_values_of_the_usual_forms() -> None:
    lines = [
        "CPU Power: 947 mW",
        "GPU Power:   0 mW",
        "ANE Power: -0 mW",
        "DRAM Power: 1.25 W",
        "Package Power: .5W",
        "Intel energy model derived package power (CPUs+GT+SA): 0.58W",
        "Combined Power (CPU + GPU + ANE): 7. mW",
    ]
    kept = _kept(lines)
    skip = np.array([len(text) - len(text.split(":", 1)[1]) for text in lines])
    got = scan.power_values(kept, np.arange(len(lines)), skip)
    assert got is not None
    assert got[0].tolist() == [947.0, 0.0, -0.0, 1.25, 0.5, 0.58, 7.0]
    assert math.copysign(1.0, got[0][2]) == -1.0
    assert got[1].tolist() == [False, False, False, True, True, True, False]
    assert scan.power_values(kept, np.array([0]), np.array([len("CPU Power: 947 ")])) is None  # 'mW' alone


def test_kept_lines_of_short_lines_and_tiny_blocks() -> None:
    for lines in (
        ["CPU Powe"],
        ["CPU Powe", "CPU Powe"],
        ["CPU Power:"],
        ["x", "CPU Power:", "GPU Power: 1"],
    ):
        kept = _kept(lines)
        assert kept.numbers.tolist() == [
            i + 1 for i, text in enumerate(lines) if text.startswith("CPU Power:")
        ] + [i + 1 for i, text in enumerate(lines) if text.startswith("GPU Power:")]


_HEADER_LINE = "*** Sampled system activity (Fri Nov 10 12:37:08 2023 +0000) (1000.58ms elapsed) ***"
_SOME_LINES = st.lists(
    st.sampled_from(
        [
            _HEADER_LINE,
            "CPU Power: 12 mW",
            "GPU Power: 3 mW",
            "Package Power: 9 mW",
            "CPU 0 idle: 1%",
            "x",
            "",
        ]
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(lines=_SOME_LINES, cut=st.integers(min_value=0, max_value=30))
def test_kept_lines_copy_out_exactly_the_kept_lines_and_merge_as_one_block(
    lines: list[str], cut: int
) -> None:
    prefixes = tuple(prefix for prefix, _ in fast._CODED)
    kept = _kept(lines)
    expected = [(i + 1, text) for i, text in enumerate(lines) if text.startswith(prefixes)]
    assert list(zip(kept.numbers.tolist(), kept.texts(0, len(kept.numbers)), strict=True)) == expected
    assert kept.data == b"".join(text.encode() + b"\n" for _, text in expected)
    cut = min(cut, len(lines))
    head, tail = lines[:cut], lines[cut:]
    parts = [
        scan.kept_lines(Block(first, len(part), ("\n".join(part) + "\n").encode()), fast._CODED)
        for first, part in ((1, head), (cut + 1, tail))
        if part
    ]
    if parts:
        whole = scan.merged(parts)
        assert whole.numbers.tolist() == kept.numbers.tolist()
        assert whole.codes.tolist() == kept.codes.tolist()
        assert whole.texts(0, len(whole.numbers)) == kept.texts(0, len(kept.numbers))
        assert whole.last_line == len(lines)


def _header(moment: str, offset: str = "+0000", ms: str = "1000.58") -> str:
    return f"*** Sampled system activity ({moment} {offset}) ({ms}ms elapsed) ***"


@settings(max_examples=300, deadline=None)
@given(
    moment=st.sampled_from(
        [
            "Fri Nov 10 12:37:08 2023",
            "Wed Nov  1 00:00:00 2023",
            "Wed Nov 01 23:59:60 2023",
            "Thu Feb 29 10:00:00 2024",
            "Fri Feb 30 10:00:00 2024",  # no such date
            "Mon Nov 10 12:37:08 2023",  # not that weekday
            "Fri Nov 10 24:00:00 2023",
            "Fri Nov 10 12:60:00 2023",
            "Fri Nov 10 12:37:61 2023",
            "Fri Nov 10 12:37:08 02023",
            "Fry Nov 10 12:37:08 2023",
            "Fri Nob 10 12:37:08 2023",
            "Fri Nov 1x 12:37:08 2023",
            "Sun Dec 31 23:59:59 9999",
            "Mon Jan  1 00:00:00 0001",
        ]
    ),
    offset=st.sampled_from(["+0000", "-0800", "+1345", "+2400", "+0060", "0100", "+01:00"]),
    ms=st.text(alphabet="0123456789.", min_size=0, max_size=20),
)
def test_header_times_read_what_the_header_regex_reads(moment: str, offset: str, ms: str) -> None:
    text = _header(moment, offset, ms)
    kept = _kept([text])
    ctx = SourceContext(path=Path("log.txt"), device="mac")
    state = pt._State(ctx)
    got = scan.header_times(state, kept, np.array([0]))
    try:
        expected = state.start(1, text, True)
    except CollectorError:
        assert got is None
        return
    if got is None:  # declined: more digits than read exactly, or an elapsed time beyond 11 days
        assert len(ms.replace(".", "")) > scan._MAX_DIGITS or expected.elapsed_ms > scan._MAX_ELAPSED_MS
        return
    assert _bits(float(got.elapsed_ms[0])) == _bits(expected.elapsed_ms)
    assert int(got.elapsed_us[0]) == expected.elapsed_us
    assert int(got.stamps[0]) == expected.header_us
    assert got.last == (state.last_when, state.last_when_us)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(st.sampled_from([1_000_000, 1_000_000, 999_000, 0, -5_000_000, 400_000_000]), max_size=80),
    elapsed=st.lists(st.integers(990_000, 1_010_000), min_size=80, max_size=80),
    start=st.sampled_from([None, 0, 1_700_000_000_000_000]),
    new_run=st.booleans(),
    resets=st.sampled_from([0, 2, 64]),
)
def test_chained_places_as_the_chain(
    steps: list[int], elapsed: list[int], start: int | None, new_run: bool, resets: int, monkeypatch: Any
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(scan, "_MAX_RESETS", resets)
        _check_chained(steps, elapsed, start, new_run)


def _check_chained(steps: list[int], elapsed: list[int], start: int | None, new_run: bool) -> None:
    stamps = list(np.cumsum([1_700_000_000_000_000, *steps]))
    elapsed = elapsed[: len(stamps)]
    chain = ElapsedChain(max_gap_s=60.0)
    chain.prev_end_us = start
    got = scan.chained(chain, new_run, np.array(elapsed, dtype=np.int64), np.array(stamps, dtype=np.int64))
    assert got is not None
    assert chain.prev_end_us == start  # not changed
    backs, gaps = [], []
    for i, (stamp, us) in enumerate(zip(stamps, elapsed, strict=True)):
        prev = chain.prev_end_us
        placed = chain.place(int(stamp), us)
        if not hasattr(placed, "start_us"):
            backs.append(i)
            assert (int(got.starts[i]), int(got.ends[i])) == (0, prev)
            new_run = False
            continue
        if placed.gap_s is not None and not new_run and prev is not None:
            gaps.append((i, placed.start_us, prev))
        new_run = False
        assert (int(got.starts[i]), int(got.ends[i])) == (placed.start_us, placed.end_us)
    assert [i for i, _ in got.backs] == backs
    assert got.gaps == gaps


def _drifting_log(n: int, *, values: list[str], ms: str = "1000.{i:02d}", offset: str = "+0000") -> str:
    """Samples one second apart by their headers, each a little longer than a second (so the chain leaves
    its stamps every so often), with the power lines ``values`` (formatted with the sample number)."""
    moment = datetime(2026, 6, 1, 23, 59, tzinfo=UTC)
    samples = []
    for i in range(n):
        stamp = (moment + timedelta(seconds=i)).strftime("%a %b %d %H:%M:%S %Y").replace(" 0", "  ", 1)
        header = f"*** Sampled system activity ({stamp} {offset}) ({ms.format(i=i % 100)}ms elapsed) ***"
        body = [value.format(i=i) for value in values]
        samples.append("\n".join([header, "", "**** Processor usage ****", *body, "", ""]) + "\n")
    return _log(samples)


@pytest.mark.parametrize(
    ("values", "ms", "offset"),
    [
        (["CPU Power: {i} mW", "GPU Power:  20 mW", "Package Power: 0.5 W"], "1500.{i:02d}", "+0000"),
        (["CPU Power: {i}mW", "ANE Power: .25 W", "DRAM Power: 3. mW"], "999", "-0700"),
        (["Intel energy model derived package power (CPUs+GT+SA): 1.{i}W"], "1000.{i:02d}", "+0530"),
        (["CPU Power: 1234567890123456 mW"], "1000", "+0000"),  # 16 digits: the line path reads it
        (["CPU Power: {i} mW"], "1234567890123456", "+0000"),
    ],
)
def test_uniform_logs_in_every_value_form_match_the_line_loop(
    values: list[str], ms: str, offset: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "log.txt"
    path.write_text(_drifting_log(3000, values=values, ms=ms, offset=offset))
    seen = _taken(monkeypatch)
    _same(path, monkeypatch, (1 << 12, 1 << 16))
    assert any(seen) == ("1234567890123456" not in "".join(values) + ms)  # else the line path reads it


def test_an_error_deep_in_the_file_comes_where_the_line_loop_raises_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _drifting_log(2000, values=["CPU Power: {i} mW"])
    at = text.index("CPU Power: 1500 mW")
    for bad, name in ((b"CPU Power: \xff mW", "utf8"), (b"CPU Power: 12 kW", "unit")):
        path = tmp_path / f"{name}.txt"
        path.write_bytes(text[:at].encode() + bad + text[at + len("CPU Power: 1500 mW") :].encode())
        slow = _outcome(path, batches=False)
        assert isinstance(slow[0], str)  # an error
        _same(path, monkeypatch, (1 << 12, 1 << 16))


def test_a_log_of_lines_only_goes_through_the_thread_in_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _drifting_log(400, values=["CPU Power: {i} mW", "GPU Power: 1 mW"]).replace(
        "Processor", "Prozessor \u00fc"
    )
    path = tmp_path / "log.txt"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(scan, "_LINES", 7)
    _same(path, monkeypatch, (1 << 10, 1 << 12))


_LINE = st.one_of(
    st.sampled_from(
        [
            _header("Fri Nov 10 12:37:08 2023"),
            _header("Fri Nov 10 12:37:09 2023", ms="104.51"),
            _header("Fri Nov 10 12:37:07 2023", "-0100", "5"),
            _header("Sat Nov 11 00:00:00 2023", "+0100", "1000"),
            _header("Fri Nov 10 12:37:08 2023", ms="1."),
            "*** Sampled system activity (Fri Nov 10 12:37:08 2023 +0000) (1000ms elapsed) *** ",
            "CPU Power: 947 mW",
            "GPU Power: 1.5 W",
            "ANE Power:  0mW",
            "DRAM Power: -2 mW",
            "Package Power: 99999 mW",
            "Combined Power (CPU + GPU + ANE): 950 mW",
            "Intel energy model derived package power (CPUs+GT+SA): 0.58W",
            "CPU Power: 9 kW",
            "CPU Powe",
            "Machine model: Mac14,2",
            "",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    st.binary(max_size=12).map(lambda data: data.decode("latin-1")),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(_LINE, max_size=60),
    repeat=st.integers(1, 30),
    end=st.sampled_from(["\n", "\r\n", ""]),
    sizes=st.sampled_from([(64, 256), (256, 4096)]),
)
def test_odd_lines_and_bytes_through_the_block_path_match_the_line_loop(
    lines: list[str], repeat: int, end: str, sizes: tuple[int, int], tmp_path: Path, monkeypatch: Any
) -> None:
    path = tmp_path / "log.bin"
    path.write_bytes(("\n".join(lines * repeat) + end).encode("latin-1"))
    _same(path, monkeypatch, sizes)
