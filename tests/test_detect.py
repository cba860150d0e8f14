"""Auto-detection: each file's format is recognised from its content, or it is a clear error."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from strategies import file_bytes

import collectors
from sci import app
from sci.config import load_config
from sci.errors import CollectorError, ConfigError, SciError
from sci.ingest import Outcome

FIXTURES = Path(__file__).parent / "fixtures"
FOLDER_FORMAT = {"powermetrics": "powermetrics", "nvidia_smi": "nvidia-smi", "tdp_proxy": "tdp-proxy"}
NOT_WHOLE = {"m1_monterey_text_cut_in_header.txt"}  # starts mid-sample: no header to recognise


def fixture_files(folder: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / folder).iterdir() if p.suffix != ".md" and p.name not in NOT_WHOLE)


@pytest.mark.parametrize(
    "path",
    [p for folder in FOLDER_FORMAT for p in fixture_files(folder) if "noheader" not in p.name],
    ids=lambda p: p.name,
)
def test_every_fixture_is_recognised_as_its_format(path: Path) -> None:
    assert collectors.detect(path) == FOLDER_FORMAT[path.parent.name]


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
    from zoneinfo import ZoneInfo

    (gpu,) = app.run_ingest_paths(config, [tmp_path / "gpu.csv"], platform="gpus", timezone=ZoneInfo("UTC"))
    assert gpu.records > 0
    with pytest.raises(SciError, match="unknown platform"):
        app.run_ingest_paths(config, [tmp_path / "gpu.csv"], platform="nope")
    # A full ingest keeps files ingested by path; forget removes them.
    assert [o.outcome for o in app.run_ingest(config)] == [Outcome.UNCHANGED]
    assert app.forget(config, ["gpu.csv"]) == ["gpu.csv"]
