"""The block path of the powermetrics text collector gives exactly what the line loop gives.

Every fixture and generated logs (hypothesis) are parsed twice, line by line (``batches=False``) and with
blocks and ``RecordBatch`` es (``batches=True``, with block sizes from a few lines up to the default): the
records (batches expanded) must be equal and in the same order, the quality issues equal and in the same
order, and an error the same error. No timings here: bench/run measures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from batch_helpers import expanded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import collectors._blocks as blocks
import collectors._linescan as linescan
import collectors._powermetrics_fast as fast
import collectors._powermetrics_scan as scan
from collectors.base import SourceContext
from collectors.powermetrics_text import PowermetricsText
from sci.errors import CollectorError
from sci.model import Item, Record, RecordBatch

FIXTURES = Path(__file__).parent / "fixtures" / "powermetrics"
SIZES = [(120, 240), (400, 4000), (1 << 16, 1 << 24)]


def _items(path: Path, *, batches: bool) -> list[Item]:
    ctx = SourceContext(path=path, device="mac", batches=batches)
    return list(PowermetricsText().parse(ctx))


def _outcome(path: Path, *, batches: bool) -> tuple[Any, Any, int]:
    """Records and issues in the order they came (or the error), and how many batches came."""
    try:
        items = _items(path, batches=batches)
    except CollectorError as exc:
        return str(exc), exc.hint, 0
    return expanded(items)


def _same(path: Path, monkeypatch: pytest.MonkeyPatch, sizes: tuple[int, int]) -> int:
    slow = _outcome(path, batches=False)
    assert slow[2] == 0
    with monkeypatch.context() as patch:
        patch.setattr(blocks, "FIRST_BLOCK_BYTES", sizes[0])
        patch.setattr(blocks, "MAX_BLOCK_BYTES", sizes[1])
        patch.setattr(fast, "BATCH_ROWS", 7)  # several batches per file
        patch.setattr(scan, "_MERGED_LINES", 40)  # a few blocks' kept lines handed on at once
        quick = _outcome(path, batches=True)
    assert quick[:2] == slow[:2]
    return quick[2]


@pytest.fixture(params=["c", "numpy"])
def line_scan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The block path with each line scan (``collectors/_linescan.py``): the C module, and numpy."""
    if request.param == "c" and not linescan.NATIVE:
        pytest.skip("collectors._linescan_c is not built")
    if request.param == "numpy":
        monkeypatch.setattr(linescan, "_native_kept", None)
    return str(request.param)


@pytest.mark.parametrize("sizes", SIZES, ids=["tiny", "small", "default"])
@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.txt")), ids=lambda p: p.name)
def test_block_path_equals_line_loop_on_every_fixture(
    path: Path, sizes: tuple[int, int], monkeypatch: pytest.MonkeyPatch, line_scan: str
) -> None:
    _same(path, monkeypatch, sizes)


def test_block_path_yields_batches_on_a_long_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "long.txt"
    path.write_text(
        _log([_sample(i, datetime(2026, 6, 1, tzinfo=UTC) + timedelta(seconds=i)) for i in range(300)])
    )
    assert _same(path, monkeypatch, (120, 4000)) > 10
    items = _items(path, batches=True)
    assert not any(isinstance(item, Record) for item in items)
    assert sum(item.rows for item in items if isinstance(item, RecordBatch)) == 300 * 5


def _stamp(moment: datetime) -> str:
    return moment.strftime("%a %b %d %H:%M:%S %Y")


def _sample(i: int, moment: datetime, lines: list[str] | None = None) -> str:
    header = f"*** Sampled system activity ({_stamp(moment)} +0000) (1000.{i % 100:02d}ms elapsed) ***"
    body = (
        lines
        if lines is not None
        else [
            "E-Cluster Power: 10 mW",
            f"CPU Power: {100 + i} mW",
            "GPU Power: 20 mW",
            "ANE Power: 0 mW",
            "DRAM Power: 30 mW",
            f"Package Power: {400 + i} mW",
        ]
    )
    return "\n".join([header, "", "**** Processor usage ****", *body, "", ""]) + "\n"


def _log(samples: list[str]) -> str:
    return (
        "Machine model: MacBookAir10,1\nOS version: 21G115\nBoot time: Fri Nov 10 09:43:28 2023\n\n"
        + "".join(samples)
    )


_POWER_LINES = st.sampled_from(
    [
        "CPU Power: 947 mW",
        "CPU Power: 1.5 W",
        "CPU Power: -3 mW",
        "GPU Power: 153 mW",
        "GPU Power: 0 mW",
        "ANE Power: 0 mW",
        "DRAM Power: 220 mW",
        "Package Power: 1473 mW",
        "Package Power: 10 mW",
        "Combined Power (CPU + GPU + ANE): 1100 mW",
        "Combined Power (CPU + GPU + ANE): 983 mW",
        "Intel energy model derived package power (CPUs+GT+SA): 0.58W",
        "P-Cluster Power: 842 mW",
        "Processor usage",
        "CPU Power: ??",
        "",
        "Machine model: Mac15,9",
        "*** a line of stars",
    ]
)


@st.composite
def powermetrics_logs(draw: st.DrawFn) -> str:
    """Logs of a few samples: steps forward, back and over gaps, missing and odd lines, a cut end."""
    moment = datetime(2026, 6, 1, 12, tzinfo=UTC)
    samples = []
    lead = draw(st.lists(_POWER_LINES, max_size=3))
    for i in range(draw(st.integers(0, 12))):
        moment += timedelta(seconds=draw(st.sampled_from([1, 1, 1, 0, -5, 400])))
        body = draw(st.one_of(st.none(), st.lists(_POWER_LINES, max_size=8)))
        samples.append(_sample(i, moment, body))
    text = "\n".join(lead) + ("\n" if lead else "") + _log(samples)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=powermetrics_logs(), sizes=st.sampled_from(SIZES[:2]))
def test_block_path_equals_line_loop_on_generated_logs(
    text: str, sizes: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "log.txt"
    path.write_text(text, encoding="utf-8")
    _same(path, monkeypatch, sizes)


@st.composite
def uniform_logs(draw: st.DrawFn) -> str:
    """Samples that all have the same power lines (what the block path reads at once), with values that
    give every sample-level finding: Package below its parts, Combined off, steps back, gaps, W units."""
    keys = draw(
        st.sampled_from(
            [
                ("CPU", "GPU", "ANE", "DRAM", "Package"),
                ("CPU", "GPU", "ANE", "Combined"),
                ("Intel",),
                ("CPU", "GPU", "GPU", "ANE", "Package"),
            ]
        )
    )
    moment = datetime(2026, 6, 1, 12, tzinfo=UTC)
    samples = []
    for i in range(draw(st.integers(3, 40))):
        moment += timedelta(seconds=draw(st.sampled_from([1, 1, 1, 1, 0, -5, 400])))
        body = []
        for key in keys:
            value = draw(st.sampled_from(["0 mW", "120 mW", "900 mW", "1.25 W", "3000 mW"]))
            name = {
                "Combined": "Combined Power (CPU + GPU + ANE)",
                "Intel": "Intel energy model derived package power (CPUs+GT+SA)",
            }.get(key, f"{key} Power")
            body.append(f"{name}: {value}")
        samples.append(_sample(i, moment, body))
    return _log(samples)


def _taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    seen: list[bool] = []
    take = fast._Region.take

    def spy(self: fast._Region, columns: fast.Columns) -> bool:
        seen.append(take(self, columns))
        return seen[-1]

    monkeypatch.setattr(fast._Region, "take", spy)
    return seen


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=uniform_logs(), sizes=st.sampled_from([(400, 4000), (1 << 16, 1 << 24)]))
def test_block_path_equals_line_loop_on_uniform_logs(
    text: str, sizes: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "log.txt"
    path.write_text(text, encoding="utf-8")
    _same(path, monkeypatch, sizes)


def test_whole_samples_are_read_at_once_with_every_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = datetime(2026, 6, 1, tzinfo=UTC)
    samples = []
    for i in range(400):
        moment += timedelta(seconds={97: -5, 201: 400}.get(i, 1))
        package = 100 if i % 50 < 3 else 2000  # Package below its parts now and then
        combined = 9999 if i % 70 == 5 else 100 + i + 20 + 0
        samples.append(
            _sample(
                i,
                moment,
                [
                    f"CPU Power: {100 + i} mW",
                    "GPU Power: 20 mW",
                    "ANE Power: 0 mW",
                    "DRAM Power: 30 mW",
                    f"Package Power: {package} mW",
                    f"Combined Power (CPU + GPU + ANE): {combined} mW",
                ],
            )
        )
    path = tmp_path / "mixed.txt"
    path.write_text(_log(samples))
    seen = _taken(monkeypatch)
    _same(path, monkeypatch, (1 << 12, 1 << 16))
    assert any(seen)
    kinds = {issue.kind for issue in _outcome(path, batches=False)[1]}
    assert {"non-monotonic", "gap", "negative-value", "malformed-row"} <= set(kinds)
