"""Auto-detection: every fixture is claimed by its own collector, and by no other one first."""

from __future__ import annotations

from pathlib import Path

import pytest

import collectors
from collectors.base import head_bytes
from sci.errors import CollectorError

FIXTURES = Path(__file__).parent / "fixtures"
OWNER = {
    "powermetrics": "powermetrics",
    "nvidia_smi": "nvidia-smi",
    "tdp_proxy": "tdp-proxy",
    "powermetrics_plist": "powermetrics-plist",
    "codecarbon": "codecarbon",
    "carbontracker": "carbontracker",
    "nvidia_smi_dmon": "nvidia-smi-dmon",
}
NEW = ("powermetrics-plist", "codecarbon", "carbontracker", "nvidia-smi-dmon")
UNSNIFFABLE = {  # files no collector can recognise from content alone (header-less, or not a power log)
    "query_gpu_csv_nounits_2gpu_l1_noheader.csv",
    "query_gpu_csv_units_a100_omniopt_noheader.csv",
    "sci_18587.635328_2026-11-22T035532Z_carbontracker_err.log",
    "sci_18587.635328_2026-11-22T035532Z_carbontracker_output.log",
}
FILES = sorted(
    p
    for p in FIXTURES.rglob("*")
    if p.is_file() and p.parent.name in OWNER and p.suffix not in (".md", ".json")
)


def test_the_most_general_sniff_is_asked_last() -> None:
    names = [name for name, _ in collectors.BUILTIN]
    assert names[-1] == "tdp-proxy"  # any CSV with start and end columns
    assert set(NEW) <= set(names)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_each_fixture_is_detected_as_its_own_format(path: Path) -> None:
    if path.name in UNSNIFFABLE:
        with pytest.raises(CollectorError):
            collectors.detect(path)
        return
    assert collectors.detect(path) == OWNER[path.parent.name]


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_other_collector_claims_a_fixture(path: Path) -> None:
    head = head_bytes(path)
    claims = {name for name, _ in collectors.BUILTIN if collectors.load(name).sniff(head)}
    assert claims <= {OWNER[path.parent.name]}
