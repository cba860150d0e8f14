"""Output paths never leave the chosen directory through names that come from data: device names such
as ``../../etc/x``, S3 keys with ``..``, platform names with ``/``, host names, report/subscription names
in the GCP and Azure caches. Tested: the S3/GCP/Azure cache writers, the measure log name, and a whole
ingest -> compute -> report -> export --audit run whose only new files are where they were asked for."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sci.cli import main
from sci.cloud import CACHE_DIR, cache_path
from sci.cloud.aws_s3 import local_path
from sci.config import config_from_dict
from sci.measure.log import default_name

EVIL = [
    "../../etc/x",
    "..",
    ".",
    "/etc/passwd",
    "a/../../b",
    "..\\..\\windows",
    "%2e%2e/x",
    "x/./../../../y.csv",
    "\x00",
    "~/x",
    "",
]
names = st.sampled_from(EVIL) | st.text(alphabet=st.sampled_from("./\\ab~\x00%"), max_size=20)


@settings(max_examples=300)
@given(bucket=names, key=st.lists(names, max_size=4).map("/".join))
def test_an_s3_key_is_cached_below_its_bucket_folder(bucket: str, key: str) -> None:
    root = Path("/tmp/sci-cache-root")
    path = local_path(root, bucket, key)
    if path is not None:
        assert path.resolve().is_relative_to(root.resolve())
        assert ".." not in path.relative_to(root.resolve()).parts


@settings(max_examples=300)
@given(parts=st.lists(names, min_size=1, max_size=4))
def test_gcp_and_azure_cache_files_stay_in_their_provider_folder(parts: list[str]) -> None:
    config = config_from_dict({"platforms": [{"name": "p", "location": "DE"}]}, Path("/srv/team/sci.toml"))
    for provider in ("gcp", "azure"):
        path = cache_path(config, provider, *parts, suffix=".json")
        assert path.parent == Path("/srv/team") / CACHE_DIR / provider
        assert path.name not in {".", ".."}
        assert "/" not in path.name


@pytest.mark.parametrize("host", EVIL)
def test_a_host_name_is_never_a_folder_in_the_measure_log_name(host: str) -> None:
    name = default_name(datetime(2026, 10, 1, tzinfo=UTC), host)
    assert "/" not in name
    assert "\\" not in name
    assert "\x00" not in name
    assert Path(name).name == name


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_names_from_data_do_not_move_report_or_audit_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "a" / "b" / "project"
    project.mkdir(parents=True)
    rows = "".join(
        f"2026-10-0{i + 1}T07:00:00Z,2026-10-0{i + 1}T08:00:00Z,{device},50,100\n"
        for i, device in enumerate(["../../etc/x", "/etc/passwd", "..", "a/../../b", "<script>x</script>"])
    )
    (project / "jobs.csv").write_text("start,end,device,utilisation_pct,tdp_w\n" + rows, encoding="utf-8")
    (project / "sci.toml").write_text(
        '[window]\nmonth = "2026-10"\n'
        '[[platforms]]\nname = "../../p/../x"\nlocation = "DE"\n'
        '  [[platforms.sources]]\n  collector = "tdp-proxy"\n  paths = ["jobs.csv"]\n'
        '  device = "../../{stem}/.."\n',
        encoding="utf-8",
    )
    before = _files(tmp_path)
    config = str(project / "sci.toml")
    for args in (
        ["ingest", "-c", config],
        ["compute", "-c", config],
        ["report", "-c", config, "-o", str(project / "out")],
        ["export", "-c", config, "--audit", str(project / "audit")],
    ):
        main(args)
    assert "audit" in capsys.readouterr().out
    new = _files(tmp_path) - before
    allowed = {project / "sci.duckdb", project / "out" / "report.html", project / "out" / "report.pdf"}
    assert {p for p in new if p.parent != project / "audit"} <= allowed
    assert all(p.resolve().is_relative_to(project.resolve()) for p in new)
    assert {p.name for p in new if p.parent == project / "audit"} >= {"records.csv", "manifest.json"}
