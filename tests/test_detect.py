"""Auto-detection: every fixture is claimed by its own collector and by no other, or is a clear error."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from strategies import file_bytes

import collectors
from collectors.base import head_bytes
from sci import app
from sci.config import load_config
from sci.errors import CollectorError, ConfigError, SciError
from sci.ingest import Outcome

FIXTURES = Path(__file__).parent / "fixtures"

# The collector that owns each fixture, by folder (or by folder/file-name prefix where a folder holds several
# formats): the longest matching prefix of the path below tests/fixtures wins.
OWNER = {
    "aws_carbon": "aws-carbon",
    "aws_cur": "aws-cur",
    "azure_carbon": "azure-carbon",
    "azure_usage": "azure-usage",
    "carbontracker": "carbontracker",
    "ci/github_usage_": "github-usage",
    "ci/github_api_": "github-jobs",
    "ci/gitlab_api_": "gitlab-jobs",
    "codecarbon": "codecarbon",
    "gcp_carbon": "gcp-carbon",
    "intel_power_gadget": "intel-power-gadget",
    "measure": "measure",
    "nvidia_smi": "nvidia-smi",
    "nvidia_smi_dmon": "nvidia-smi-dmon",
    "powermetrics": "powermetrics",
    "powermetrics_plist": "powermetrics-plist",
    "rapl": "rapl",
    "scaphandre": "scaphandre",
    "tdp_proxy": "tdp-proxy",
    "turbostat": "turbostat",
}
# Files no collector may recognise from content alone: ingesting them needs an explicit collector, or they
# are not inputs at all.
UNSNIFFABLE = {
    "aws_carbon/carbon_emissions_missing_columns.csv": "no usage_account_id column, which the sniff keys on",
    "azure_usage/costmanagement_2023-03-01_BillingAccountQueryGrouping.json": "no UsageQuantity column",
    "carbontracker/parse_all_logs_result.json": "CarbonTracker's parser output: the reference figures",
    "carbontracker/sci_18587.635328_2026-11-22T035532Z_carbontracker_err.log": "the warnings log",
    "carbontracker/sci_18587.635328_2026-11-22T035532Z_carbontracker_output.log": "the output log",
    "gcp_carbon/carbon_footprint_missing_columns.csv": "no carbon_model_version column",
    "measure/generate.py": "the script that wrote the measure fixtures",
    "nvidia_smi/query_gpu_csv_nounits_2gpu_l1_noheader.csv": "--format=csv,noheader: no header to recognise",
    "nvidia_smi/query_gpu_csv_units_a100_omniopt_noheader.csv": "--format=csv,noheader: no header",
    "scaphandre/json_exporter_issue85_sockets_excerpt.json": "a fragment quoted in an issue, not a report",
}
NOT_INPUTS = {  # folders of other things than input files; no collector may claim any file in them
    "measure/powercap_codecarbon": "a powercap sysfs snapshot for measure's RAPL reader",
    "rapl/sysfs": "a powercap sysfs snapshot",
    "results": "team result documents for the report",
}


def _name(path: Path) -> str:
    return path.relative_to(FIXTURES).as_posix()


def _fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix != ".md")


def _not_input(path: Path) -> bool:
    return any(_name(path).startswith(folder + "/") for folder in NOT_INPUTS)


def _owner(path: Path) -> str | None:
    name = _name(path)
    if name in UNSNIFFABLE:
        return None
    matches = [key for key in OWNER if name.startswith(key + "/") or ("/" in key and name.startswith(key))]
    assert matches, f"{name}: add its folder to OWNER (or the file to UNSNIFFABLE, the folder to NOT_INPUTS)"
    return OWNER[max(matches, key=len)]


def _claims(path: Path) -> list[str]:
    head = head_bytes(path)
    return [name for name, _ in collectors.BUILTIN if collectors.load(name).sniff(head)]


@pytest.mark.parametrize("path", [p for p in _fixtures() if not _not_input(p)], ids=_name)
def test_each_fixture_is_detected_as_its_owner_and_claimed_by_no_other(path: Path) -> None:
    owner = _owner(path)
    if owner is None:
        with pytest.raises(CollectorError, match="unrecognised format"):
            collectors.detect(path)
    else:
        assert collectors.detect(path) == owner
    assert _claims(path) == ([] if owner is None else [owner])


def test_no_collector_claims_what_is_not_an_input() -> None:
    files = [p for p in _fixtures() if _not_input(p)]
    assert len(files) > 100
    assert {_name(p): _claims(p) for p in files if _claims(p)} == {}


def test_the_lists_name_existing_fixtures_and_every_collector_owns_one() -> None:
    for name in [*UNSNIFFABLE, *NOT_INPUTS]:
        assert (FIXTURES / name).exists(), name
    assert set(OWNER.values()) == {name for name, _ in collectors.BUILTIN}


def test_the_most_general_sniff_is_asked_last() -> None:
    names = [name for name, _ in collectors.BUILTIN]
    assert names[-1] == "tdp-proxy"  # any CSV with start and end columns


def test_a_gzip_log_is_recognised_by_its_decompressed_content(tmp_path: Path) -> None:
    source = FIXTURES / "powermetrics" / "m1_monterey_text_gap.txt"
    target = tmp_path / "pm.log.gz"
    target.write_bytes(gzip.compress(source.read_bytes()))
    assert collectors.detect(target) == "powermetrics"


def test_an_unrecognised_file_names_itself_and_the_formats(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("shopping list\nmilk\n", encoding="utf-8")
    with pytest.raises(CollectorError, match="unrecognised format") as caught:
        collectors.detect(path)
    assert str(path) in str(caught.value)
    assert "--format" in caught.value.hint
    assert "powermetrics" in caught.value.hint


@given(data=file_bytes(2000))
def test_sniffing_arbitrary_bytes_never_raises(data: bytes) -> None:
    for name in collectors.names():
        assert collectors.load(name).sniff(data) in (True, False)


def test_auto_sources_and_ingest_by_path(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "powermetrics" / "m1_monterey_text_gap.txt", tmp_path / "a.txt")
    shutil.copy(FIXTURES / "tdp_proxy" / "ci_jobs_ubuntu_latest.csv", tmp_path / "jobs.csv")
    shutil.copy(FIXTURES / "nvidia_smi" / "query_gpu_csv_nounits_2gpu_l1.csv", tmp_path / "gpu.csv")
    (tmp_path / "sci.toml").write_text(
        '[[platforms]]\nname = "laptops"\nlocation = "DE"\n'
        '[[platforms.sources]]\ncollector = "auto"\npaths = ["a.txt"]\n'
        '[[platforms]]\nname = "gpus"\nlocation = "DE"\n',
        encoding="utf-8",
    )
    config = load_config(tmp_path / "sci.toml")
    (outcome,) = app.run_ingest(config)
    assert outcome.outcome == Outcome.INGESTED
    with pytest.raises(ConfigError, match="local time without a zone"):
        app.run_ingest_paths(config, [tmp_path / "gpu.csv"], platform="gpus")
    (gpu,) = app.run_ingest_paths(config, [tmp_path / "gpu.csv"], platform="gpus", timezone=ZoneInfo("UTC"))
    assert gpu.records > 0
    with pytest.raises(SciError, match="unknown platform"):
        app.run_ingest_paths(config, [tmp_path / "gpu.csv"], platform="nope")
    # A full ingest keeps files ingested by path; forget removes them.
    assert [o.outcome for o in app.run_ingest(config)] == [Outcome.UNCHANGED]
    assert app.forget(config, ["gpu.csv"]) == ["gpu.csv"]
