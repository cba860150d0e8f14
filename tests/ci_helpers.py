"""Helpers shared by the CI collector tests."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from collectors.base import Collector, SourceContext
from sci.errors import CollectorError
from sci.model import Item, QualityIssue, Record

FIXTURES = Path(__file__).parent / "fixtures" / "ci"
UBUNTU_W = 280.0 * 0.75 * 4 / 128  # AMD EPYC 7763 TDP x Teads curve at 50 % x 4 of 128 threads = 6.5625 W
MACOS_W = 10.0 * 0.75 * 3 / 8  # Apple M1 x 0.75 x 3 of 8 cores = 2.8125 W


def parse(collector: Collector, path: Path, **options: Any) -> tuple[list[Record], list[QualityIssue]]:
    records: list[Record] = []
    issues: list[QualityIssue] = []
    for item in collector.parse(SourceContext(path=path, device="ci", options=options)):
        (records if isinstance(item, Record) else issues).append(item)  # type: ignore[arg-type]
    return records, issues


def error_of(collector: Collector, path: Path, **options: Any) -> CollectorError:
    with pytest.raises(CollectorError) as caught:
        parse(collector, path, **options)
    return caught.value


def parse_bytes(collector: Collector, data: bytes, **options: Any) -> list[Item]:
    """Arbitrary bytes give items or a CollectorError (then [])."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input"
        path.write_bytes(data)
        try:
            return list(collector.parse(SourceContext(path=path, device="ci", options=options)))
        except CollectorError:
            return []


def proxy_w(record: Record, tdp_w: float) -> float:
    """The power the engine will give ``record`` (the Teads curve is 0.75 at 50 %)."""
    assert record.utilisation == 0.5
    assert record.resource_share is not None
    return tdp_w * 0.75 * record.resource_share
