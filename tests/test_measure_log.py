"""The measure collector against the logs the sampler wrote (tests/fixtures/measure), bad input, and
arbitrary bytes."""

from __future__ import annotations

import contextlib
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from strategies import file_bytes

import collectors
from collectors.base import SourceContext, head_bytes
from collectors.measure_log import MeasureLog
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, QualityIssue, Record, Tier
from sci.units import J_PER_KWH

FIXTURES = Path(__file__).parent / "fixtures" / "measure"


def parse(path: Path) -> tuple[list[Record], list[QualityIssue]]:
    items = list(MeasureLog().parse(SourceContext(path=path, device="gpu01")))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, QualityIssue)]


def test_gpus_and_rapl_become_measured_records_with_their_own_intervals() -> None:
    records, issues = parse(FIXTURES / "gpu2_rapl.scimeasure.jsonl")
    assert len(records) == 24
    by_series: dict[tuple[str, Component], float] = {}
    for r in records:
        by_series[(r.device, r.component)] = by_series.get((r.device, r.component), 0.0) + (
            r.energy_kwh or 0.0
        )
        assert r.tier is Tier.MEASURED
    assert math.isclose(by_series[("gpu01/gpu0", Component.GPU)] * J_PER_KWH, 6 * 260.0)
    assert math.isclose(by_series[("gpu01/cpu", Component.PACKAGE)] * J_PER_KWH, 45 + 46 + 47 + 48 + 49 + 50)
    assert records[0].device_model == "NVIDIA A100-SXM4-40GB"
    assert records[0].duration_s == 1.0
    (wrap,) = issues
    assert (wrap.kind, wrap.action, wrap.line_start) == (IssueKind.COUNTER_WRAP, Action.KEPT, 12)


def test_proxy_records_carry_energy_and_their_evidence() -> None:
    records, issues = parse(FIXTURES / "cpu_proxy.scimeasure.jsonl")
    assert issues == []
    assert {r.tier for r in records} == {Tier.PROXY}
    assert records[0].tdp_w == 280.0
    assert records[0].device_model == "AMD EPYC 7763 64-Core Processor"
    assert records[0].utilisation == 0.97


def test_a_killed_run_keeps_its_samples_and_says_truncated() -> None:
    records, issues = parse(FIXTURES / "cpu_proxy_truncated.scimeasure.jsonl")
    assert len(records) == 2  # the third sample line is cut off
    assert [(i.kind, i.action) for i in issues] == [
        (IssueKind.TRUNCATED, Action.DROPPED),
        (IssueKind.TRUNCATED, Action.KEPT),
    ]


def test_sniff_is_exact_and_measure_is_detected_first() -> None:
    assert collectors.BUILTIN[0][0] == "measure"
    assert not MeasureLog.sniff(b'{"format": "other"}\n')
    assert not MeasureLog.sniff(b"start,end\n")
    assert MeasureLog.sniff(head_bytes(FIXTURES / "cpu_proxy.scimeasure.jsonl"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"t_start": 1, "t_end": 2}\n', "outside a run"),
        ('{"format": "sci-report-measure", "version": 2}\n', "version 2"),
        ('{"format": "sci-report-measure", "version": 1}\nnot json\n', "not a JSON object"),
        (
            '{"format": "sci-report-measure", "version": 1}\n{"t_start": 2, "t_end": 1, "device": "cpu", '
            '"component": "cpu", "method": "measure/rapl", "energy_j": 1}\n',
            "before t_start",
        ),
        (
            '{"format": "sci-report-measure", "version": 1}\n{"t_start": 1, "t_end": 2, "device": "cpu", '
            '"component": "cpu", "method": "measure/psychic", "energy_j": 1}\n',
            "unknown method",
        ),
    ],
)
def test_bad_lines_are_errors_naming_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.scimeasure.jsonl"
    path.write_text(text)
    with pytest.raises(CollectorError, match=message):
        parse(path)


@given(file_bytes(2000))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.scimeasure.jsonl"
        path.write_bytes(b'{"format":"sci-report-measure","version":1}\n' + data)
        with contextlib.suppress(CollectorError):
            parse(path)
