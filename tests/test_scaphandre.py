"""The Scaphandre JSON collector against the derived report files, repairs, and arbitrary bytes."""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from strategies import file_bytes

from collectors import scaphandre_json
from collectors.base import SourceContext
from collectors.scaphandre_json import ScaphandreJson
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, QualityIssue, Record, Tier

FIXTURES = Path(__file__).parent / "fixtures" / "scaphandre"
FOUR = FIXTURES / "json_exporter_4_reports.json"
# Host consumption of reports 2-4 in uW, and their steps: 2.000123 s each.
EXPECTED_J = [35.5 * 2.000123, 36.25 * 2.000123, 34.0 * 2.000123]


def parse(path: Path, **kw: float) -> tuple[list[Record], list[QualityIssue]]:
    records: list[Record] = []
    issues: list[QualityIssue] = []
    for item in ScaphandreJson().parse(SourceContext(path=path, device="srv", **kw)):
        (records if isinstance(item, Record) else issues).append(item)  # type: ignore[arg-type]
    return records, issues


def of(issues: list[QualityIssue], kind: IssueKind) -> list[QualityIssue]:
    return [i for i in issues if i.kind is kind]


def joules(records: list[Record]) -> list[float]:
    return [(r.energy_kwh or 0.0) * 3_600_000 for r in records]


def test_host_power_integrated_between_reports() -> None:
    records, issues = parse(FOUR)
    assert joules(records) == pytest.approx(EXPECTED_J, rel=1e-9)
    assert [r.line for r in records] == [48, 94, 140]  # the line each report starts on
    first = records[0]
    assert first.start_utc == datetime(2026, 9, 21, 14, 13, 20, tzinfo=UTC)
    assert (first.component, first.tier, first.method) == (Component.SYSTEM, Tier.MEASURED, "scaphandre/host")
    (start,) = of(issues, IssueKind.SERIES_START)
    assert start.line_start == 2
    assert len(issues) == 1


@pytest.mark.parametrize("name", ["unterminated", "trailing_comma"])
def test_an_unterminated_array_is_repaired(name: str) -> None:
    records, issues = parse(FIXTURES / f"json_exporter_4_reports_{name}.json")
    assert joules(records) == pytest.approx(EXPECTED_J, rel=1e-9)
    (cut,) = of(issues, IssueKind.TRUNCATED)
    assert cut.action is Action.KEPT


def test_a_report_cut_mid_object_is_dropped() -> None:
    records, issues = parse(FIXTURES / "json_exporter_4_reports_cut_mid_object.json")
    assert joules(records) == pytest.approx(EXPECTED_J[:2], rel=1e-9)
    (cut,) = of(issues, IssueKind.TRUNCATED)
    assert (cut.action, cut.line_start) == (Action.DROPPED, 140)


def test_first_report_without_host_opens_the_series() -> None:
    records, _ = parse(FIXTURES / "json_exporter_first_without_host.json")
    assert joules(records) == pytest.approx(EXPECTED_J, rel=1e-9)


def test_compact_one_report_per_line() -> None:
    records, _ = parse(FIXTURES / "json_exporter_compact_lines.json")
    assert [r.line for r in records] == [2, 3, 4]
    assert joules(records) == pytest.approx(EXPECTED_J, rel=1e-9)


def test_small_chunks_give_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    whole, _ = parse(FOUR)
    monkeypatch.setattr(scaphandre_json, "CHUNK", 7)
    chunked, _ = parse(FOUR)
    assert chunked == whole


def test_gap_missing_host_and_backwards(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    reports = [
        '{"host": {"consumption": 1000000.0, "timestamp": 10.0}, "consumers": [], "sockets": []}',
        '{"host": {"timestamp": 12.0}, "consumers": [], "sockets": []}',
        '{"host": {"consumption": 2000000.0, "timestamp": 11.0}, "consumers": [], "sockets": []}',
        '{"host": {"consumption": 2000000.0, "timestamp": 14.0}, "consumers": [], "sockets": []}',
        '{"host": {"consumption": 2000000.0, "timestamp": 200.0}, "consumers": [], "sockets": []}',
    ]
    path.write_text("[\n" + ",\n".join(reports) + "\n]\n")
    records, issues = parse(path)
    assert [(r.line, round(joules([r])[0], 9)) for r in records] == [(5, 4.0)]  # 2 W x (14 - 12) s
    kinds = [i.kind for i in issues if i.kind is not IssueKind.SERIES_START]
    assert kinds == [IssueKind.NO_POWER_DATA, IssueKind.NON_MONOTONIC, IssueKind.GAP]


def test_errors() -> None:
    with pytest.raises(CollectorError, match="not a JSON array"):
        parse(FIXTURES / "json_exporter_issue85_sockets_excerpt.json")


def test_garbage_mid_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    text = FOUR.read_text().replace('"host": {', '"host": {oops', 1)
    path.write_text(text)
    with pytest.raises(CollectorError, match="not valid JSON") as caught:
        parse(path)
    assert caught.value.line == 3


@settings(max_examples=300)
@given(data=file_bytes(max_size=600))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.json"
        for prefix in (b"", b'[{"host": {"consumption": 1.0, "timestamp": 1.0}, "sockets": []},'):
            path.write_bytes(prefix + data)
            try:
                for item in ScaphandreJson().parse(SourceContext(path=path, device="d")):
                    if isinstance(item, Record):
                        assert math.isfinite(item.energy_kwh or 0.0)
            except CollectorError:
                pass
