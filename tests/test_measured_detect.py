"""Auto-detection of the measured-device formats: each fixture is recognised, no other fixture is claimed."""

from __future__ import annotations

from pathlib import Path

import pytest

import collectors
from collectors.base import head_bytes

FIXTURES = Path(__file__).parent / "fixtures"
OURS = {
    "turbostat": "turbostat",
    "intel_power_gadget": "intel-power-gadget",
    "rapl": "rapl",
    "scaphandre": "scaphandre",
}
NOT_A_LOG = {
    # A fragment quoted in an issue (not a whole report array): read as a CollectorError, not detected.
    "scaphandre/json_exporter_issue85_sockets_excerpt.json",
}


def _files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.name != "README.md" and "sysfs" not in p.parts
    )


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (path, name)
        for folder, name in OURS.items()
        for path in _files(FIXTURES / folder)
        if str(path.relative_to(FIXTURES)) not in NOT_A_LOG
    ],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_each_fixture_is_detected(path: Path, name: str) -> None:
    assert collectors.detect(path) == name


@pytest.mark.parametrize(
    "path",
    [p for p in _files(FIXTURES) if p.relative_to(FIXTURES).parts[0] not in OURS],
    ids=lambda p: str(p.relative_to(FIXTURES)),
)
def test_no_other_fixture_is_claimed(path: Path) -> None:
    head = head_bytes(path)
    for name in OURS.values():
        assert not collectors.load(name).sniff(head), name
