"""The vectorised paths give exactly what the line-by-line paths give: records, issues, errors, stored rows.

nvidia-smi CSV: every fixture and generated logs (hypothesis) are parsed twice, line by line
(``batches=False``) and with blocks (``batches=True``, blocks of a few lines so that they alternate with
lines); the records (batches expanded) and the quality issues must be equal as multisets, and an error the
same error. The screen and the store are checked the same way. No timings here: bench/run measures.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from batch_helpers import expanded
from hypothesis import given, settings
from hypothesis import strategies as st

import collectors._blocks as blocks
from collectors.base import SourceContext
from collectors.nvidia_smi_csv import NvidiaSmiCsv
from sci.config import DEFAULT_MAX_POWER_W
from sci.errors import CollectorError
from sci.model import Item, QualityIssue, Record
from sci.screen import screened
from sci.store import FileMeta, Store

FIXTURES = Path(__file__).parent / "fixtures" / "nvidia_smi"
BERLIN = ZoneInfo("Europe/Berlin")
HEADER = "timestamp, index, uuid, name, power.draw [W], utilization.gpu [%]"
HEAVY = ("polars", "pyarrow", "duckdb", "boto3", "google", "azure", "matplotlib", "weasyprint", "numpy")


@pytest.fixture(params=[(120, 240), (400, 400), (1 << 16, 1 << 20)], ids=["tiny", "small", "default"])
def block_sizes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    first, most = request.param
    monkeypatch.setattr(blocks, "FIRST_BLOCK_BYTES", first)
    monkeypatch.setattr(blocks, "MAX_BLOCK_BYTES", most)


def _items(path: Path, *, batches: bool, **kw: Any) -> list[Item]:
    ctx = SourceContext(path=path, device="node", timezone=kw.pop("timezone", BERLIN), batches=batches, **kw)
    return list(NvidiaSmiCsv().parse(ctx))


def _outcome(path: Path, *, batches: bool, **kw: Any) -> tuple[Any, Any, int]:
    """Records and issues in a canonical order (or the error), and how many batches came."""
    try:
        records, issues, n = expanded(_items(path, batches=batches, **kw))
    except CollectorError as exc:
        return str(exc), exc.hint, 0
    return sorted(records, key=lambda r: (r.line, r.device)), sorted(issues, key=repr), n


def _same(path: Path, **kw: Any) -> int:
    slow = _outcome(path, batches=False, **kw)
    fast = _outcome(path, batches=True, **kw)
    assert fast[:2] == slow[:2]
    return fast[2]


OPTIONS = {
    "query_gpu_csv_nounits_2gpu_l1_noheader.csv": {"columns": ["timestamp", "power.draw [W]"]},
    "query_gpu_csv_units_a100_omniopt_noheader.csv": {
        "columns": ["timestamp", "name", "pci.bus_id", "driver_version", "pstate", "power.draw [W]"]
    },
}


@pytest.mark.usefixtures("block_sizes")
@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.csv")), ids=lambda p: p.name)
def test_fast_path_equals_line_parser_on_every_fixture(path: Path) -> None:
    _same(path)
    if path.name in OPTIONS:
        _same(path, options=OPTIONS[path.name])


@pytest.mark.usefixtures("block_sizes")
def test_fast_path_is_taken_on_a_plain_log(tmp_path: Path) -> None:
    path = tmp_path / "gpu.csv"
    path.write_text(HEADER + "\n" + "".join(_rows(2000)), encoding="ascii")  # beyond the first block
    assert _same(path) > 0


def _rows(ticks: int, start: datetime = datetime(2026, 6, 1, 12, 0, 0)) -> Iterator[str]:
    for tick in range(ticks):
        stamp = (start + timedelta(seconds=tick)).strftime("%Y/%m/%d %H:%M:%S.305")
        for gpu in range(2):
            yield f"{stamp}, {gpu}, GPU-{gpu:04d}, NVIDIA H100, {100 + tick % 7}.{gpu}5 W, {tick % 101} %\n"


# -- generated logs --------------------------------------------------------------------------------

_FOLD = datetime(2026, 10, 25, 1, 58, 0)
_PLAIN = datetime(2026, 6, 1, 12, 0, 0)

_POWER = st.one_of(
    st.floats(0, 900, allow_nan=False).map(lambda w: f"{w:.2f} W"),
    st.floats(0, 900, allow_nan=False).map(lambda w: f"{w:.2f}"),
    st.sampled_from(
        ["[N/A]", "[Not Supported]", "N/A", "", "-3.50 W", "5000.00 W", "1e2", "12 mW", "7.", "x"]
    ),
)
_UTIL = st.one_of(st.integers(0, 100).map(lambda u: f"{u} %"), st.sampled_from(["[N/A]", "", "150 %", "7"]))
_STEP = st.sampled_from([1.0, 1.0, 1.0, 1.0, 0.0, -2.0, 90.0, 0.5, 3600.0])
_ODD = st.sampled_from(
    [
        None,
        None,
        None,
        None,
        None,
        None,
        "header",
        "blank",
        "comma-name",
        "no-index",
        "bad-stamp",
        "other-gpu",
        "crlf",
        "leap",
    ]
)


@st.composite
def nvidia_logs(draw: st.DrawFn) -> str:
    """A --query-gpu log with 1-3 GPUs and occasional oddities the fast path must hand back (or read
    exactly): missing and bad values, steps back, gaps, repeated headers, blank lines, names with commas,
    rows without an index, a new GPU mid-file, CRLF, leap seconds, a DST fold."""
    start = draw(st.sampled_from([_PLAIN, _FOLD]))
    gpus = draw(st.integers(1, 3))
    lines = [HEADER]
    moment = start
    for _ in range(draw(st.integers(0, 60))):
        moment += timedelta(seconds=draw(_STEP))
        odd = draw(_ODD)
        for gpu in range(gpus + (odd == "other-gpu")):
            stamp = moment.strftime("%Y/%m/%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
            if odd == "bad-stamp":
                stamp = stamp.replace("/", "-")
            if odd == "leap":
                stamp = stamp[:17] + "60" + stamp[19:]
            name = "NVIDIA RTX A5000, 16GB" if odd == "comma-name" else "NVIDIA H100"
            index = "[N/A]" if odd == "no-index" else str(gpu)
            row = f"{stamp}, {index}, GPU-{gpu:04d}, {name}, {draw(_POWER)}, {draw(_UTIL)}"
            lines.append(row + ("\r" if odd == "crlf" else ""))
        if odd == "header":
            lines.append(HEADER)
        if odd == "blank":
            lines.append("")
    text = "\n".join(lines) + "\n"
    return text[: -draw(st.integers(0, 3))] if draw(st.booleans()) else text


@settings(max_examples=150, deadline=None)
@given(text=nvidia_logs(), sizes=st.sampled_from([(100, 200), (300, 300), (150, 1 << 20)]))
def test_fast_path_equals_line_parser_on_generated_logs(text: str, sizes: tuple[int, int]) -> None:
    saved = blocks.FIRST_BLOCK_BYTES, blocks.MAX_BLOCK_BYTES
    blocks.FIRST_BLOCK_BYTES, blocks.MAX_BLOCK_BYTES = sizes
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "gpu.csv"
            path.write_bytes(text.encode("utf-8"))
            _same(path)
            _same(path, max_gap_s=30.0)
    finally:
        blocks.FIRST_BLOCK_BYTES, blocks.MAX_BLOCK_BYTES = saved


# -- screen and store ------------------------------------------------------------------------------


def _mixed_log(tmp_path: Path) -> Path:
    """Plain rows with runs of absurd power, negative power and N/A in the middle of blocks."""
    lines = [HEADER]
    start = datetime(2026, 6, 1, 12, 0, 0)
    for tick in range(300):
        stamp = (start + timedelta(seconds=tick)).strftime("%Y/%m/%d %H:%M:%S.305")
        for gpu in range(2):
            power = "50000.00 W" if 100 <= tick < 110 else "-1.00 W" if tick == 150 else f"{200 + gpu}.00 W"
            power = "[N/A]" if tick == 200 and gpu else power
            lines.append(f"{stamp}, {gpu}, GPU-{gpu}, NVIDIA H100, {power}, 50 %")
    path = tmp_path / "gpu.csv"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def _screened(path: Path, *, batches: bool) -> tuple[list[Record], list[QualityIssue], int]:
    return expanded(list(screened(_items(path, batches=batches), DEFAULT_MAX_POWER_W, "node")))


@pytest.mark.usefixtures("block_sizes")
def test_screen_drops_and_counts_the_same_rows_of_a_batch(tmp_path: Path) -> None:
    path = _mixed_log(tmp_path)
    slow_records, slow_issues, _ = _screened(path, batches=False)
    fast_records, fast_issues, _ = _screened(path, batches=True)
    assert sorted(fast_records, key=lambda r: (r.line, r.device)) == slow_records
    assert sorted(fast_issues, key=repr) == sorted(slow_issues, key=repr)
    assert any(i.kind == "absurd-value" for i in fast_issues)


@pytest.mark.usefixtures("block_sizes")
def test_store_holds_the_same_rows_from_batches(tmp_path: Path) -> None:
    path = _mixed_log(tmp_path)
    stored = []
    for batches in (False, True):
        meta = FileMeta(
            path=f"gpu-{batches}.csv",
            sha256=str(batches),
            size_bytes=1,
            collector="nvidia-smi",
            collector_version="1",
            platform="p",
            source_key="cli",
            options_digest="",
        )
        with Store(tmp_path / f"s{batches}.duckdb") as store:
            items = screened(_items(path, batches=batches), DEFAULT_MAX_POWER_W, "node")
            counts = store.replace_file(meta, items)
            rows = store._con.execute(
                "SELECT * EXCLUDE (rowid, file_id) FROM samples ORDER BY line, device"
            ).fetchall()
            issues = store._con.execute(
                "SELECT * EXCLUDE (file_id) FROM quality_issues ORDER BY ALL"
            ).fetchall()
        stored.append((counts, rows, issues))
    assert stored[0] == stored[1]


def test_a_batch_round_trips_to_records(tmp_path: Path) -> None:
    path = tmp_path / "gpu.csv"
    path.write_text(HEADER + "\n" + "".join(_rows(3000)), encoding="ascii")
    records, _, n = expanded(_items(path, batches=True))
    assert n > 0
    assert all(r.start_utc.tzinfo is UTC for r in records)


# -- start-up ----------------------------------------------------------------------------------------


def test_cli_import_loads_no_heavy_library() -> None:
    """``sci-report --help`` must start fast: importing sci.cli loads none of the heavy libraries."""
    code = (
        "import sys, sci.cli; "
        f"print(','.join(m for m in {HEAVY!r} if any(k == m or k.startswith(m + '.') for k in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


@given(st.binary(max_size=300), st.sampled_from([b"\n", b",", b"\x00", b"\xff"]))
def test_count_byte_counts_as_bytes_count(data: bytes, byte: bytes) -> None:
    assert blocks.count_byte(data, byte) == data.count(byte)


@pytest.mark.usefixtures("block_sizes")
def test_an_ordered_log_is_stored_as_ordered_whether_its_records_come_one_by_one_or_in_batches(
    tmp_path: Path,
) -> None:
    """The first lines of a file come as records, the rest in batches: the store takes them in that order,
    so the interval check sees every GPU's samples in line order (compute relies on it)."""
    path = tmp_path / "gpu.csv"
    path.write_text(HEADER + "\n" + "".join(_rows(1000)), encoding="ascii")
    for batches in (False, True):
        meta = FileMeta(f"gpu-{batches}.csv", str(batches), 1, "nvidia-smi", "1", "p", "cli", "")
        with Store(tmp_path / f"s{batches}.duckdb") as store:
            store.replace_file(meta, screened(_items(path, batches=batches), DEFAULT_MAX_POWER_W, "node"))
            kinds = store._con.execute("SELECT count(*) FROM samples").fetchone()
            ordered = store._con.execute("SELECT distinct_intervals FROM files").fetchone()
        assert kinds is not None
        assert kinds[0] > 0
        assert ordered == (True,)
