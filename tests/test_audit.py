"""The audit export and its verification: lineage, neutralised CSV cells, tamper detection, IF manifest."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from sci import app, audit, impact
from sci.cli import main
from sci.config import load_config
from sci.errors import SciError
from sci.verify import verify_export

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
HYPERLINK = '=HYPERLINK("http://example.com/x","click")'
JOBS = f"""start,end,device,utilisation_pct
2026-10-01T08:00:00Z,2026-10-01T09:00:00Z,"{HYPERLINK.replace('"', '""')}",50
2026-10-02T08:00:00Z,2026-10-02T08:30:00Z,-2+3,80
2026-10-03T08:00:00Z,2026-10-03T08:10:00Z,runner-1,20
"""
CONFIG = """
[project]
name = "audit test"

[window]
month = "2026-10"

[[platforms]]
name = "ci"
location = "DE"
unit = "pipeline runs"

  [[platforms.sources]]
  collector = "tdp-proxy"
  paths = ["jobs.csv"]
  device_model = "AMD EPYC 7763"
  vcpus = 4
  host_threads = 128

[[embodied]]
platform = "ci"
device_class = "server"
reserved = "runtime"
share = 0.03125

[[functional_units]]
platform = "ci"
period = "2026-10"
count = 3
"""


def code_of(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A one-platform project, ingested and exported to ``tmp_path / "export"``."""
    (tmp_path / "jobs.csv").write_text(JOBS, encoding="utf-8")
    (tmp_path / "sci.toml").write_text(CONFIG, encoding="utf-8")
    config = load_config(tmp_path / "sci.toml")
    app.run_ingest(config)
    app.export_audit(config, tmp_path / "export", now=NOW)
    return tmp_path / "export"


@pytest.fixture(scope="module")
def team_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example (three platforms, measured and proxy), exported once for this module."""
    target = tmp_path_factory.mktemp("team") / "team"
    shutil.copytree(ROOT / "examples" / "team", target, ignore=shutil.ignore_patterns("out", "*.duckdb*"))
    config = load_config(target / "sci.toml")
    app.run_ingest(config)
    app.export_audit(config, target / "audit", now=NOW)
    return target / "audit"


def failure(directory: Path) -> SciError:
    with pytest.raises(SciError) as caught:
        verify_export(directory)
    return caught.value


def test_the_export_holds_every_file_and_verifies(team_export: Path, capsys: pytest.CaptureFixture) -> None:
    assert sorted(p.name for p in team_export.iterdir()) == sorted(audit.EXPORT_FILES)
    checked = verify_export(team_export)
    assert checked.records == 48_962
    assert checked.files == len(audit.EXPORT_FILES)
    assert code_of(["verify", str(team_export)]) == 0
    assert "48,962 records recompute" in capsys.readouterr().out


def test_records_sum_to_the_totals_with_their_lineage(team_export: Path) -> None:
    totals = json.loads((team_export / "totals.json").read_text(encoding="utf-8"))
    rows = pq.read_table(team_export / "records.parquet").to_pylist()
    for platform in totals["platforms"]:
        mine = [r for r in rows if r["platform"] == platform["platform"] and r["counted"]]
        assert sum(r["operational_g"] for r in mine) == pytest.approx(platform["operational_g"], rel=1e-12)
        assert sum(r["facility_energy_kwh"] for r in mine) == pytest.approx(platform["energy_kwh"], rel=1e-12)
    first = rows[0]
    assert len(first["source_sha256"]) == 64
    assert first["line"] >= 1
    assert first["collector"]
    assert first["collector_version"]
    assert first["grid_source"]
    assert first["pue_source"]
    proxy = next(r for r in rows if r["tier"] == "proxy-estimated")
    assert proxy["tdp_factor_w"] == 280.0
    assert proxy["tdp_source"]
    assert proxy["load_curve_source"]
    manifest = json.loads((team_export / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tool_version"]
    assert manifest["factor_bundle_version"] == totals["factor_bundle_version"]


def test_the_impact_framework_manifest_parses_and_reproduces_the_totals(team_export: Path) -> None:
    document = yaml.safe_load((team_export / "impact-framework.yml").read_text(encoding="utf-8"))
    plugins = document["initialize"]["plugins"]
    assert {p["method"] for p in plugins.values()} == {"Multiply", "Sum", "Sci"}
    assert plugins["sci"]["config"] == {"functional-unit": "functional-units"}
    assert all(
        {"input-parameters", "output-parameter"} <= set(p["config"])
        for p in plugins.values()
        if p["method"] != "Sci"
    )
    totals = json.loads((team_export / "totals.json").read_text(encoding="utf-8"))
    outputs = impact.run(document)
    for platform in totals["platforms"]:
        (row,) = outputs[platform["platform"]]
        assert row["carbon"] == pytest.approx(platform["carbon_g"], rel=1e-12)
        assert row["sci"] == pytest.approx(platform["sci_g_per_unit"], rel=1e-12)


def test_the_disclosure_follows_the_sci_reporting_steps(team_export: Path) -> None:
    text = (team_export / "disclosure.md").read_text(encoding="utf-8")
    for heading in (
        "SCI score per platform",
        "Software boundary",
        "Functional unit",
        "Quantification methods",
        "Factors",
        "Exclusions",
    ):
        assert f"## {heading}" in text
    assert "ISO/IEC 21031:2024" in text
    assert "GSF Software Carbon Intensity (SCI) v1.1" in text
    assert "| gpu-servers |" in text
    assert "nvidia-smi/power.draw" in text


def test_formula_cells_are_neutralised_and_numbers_stay_numbers(small: Path) -> None:
    rows = list(csv.DictReader(io.StringIO((small / "records.csv").read_text(encoding="utf-8"))))
    devices = {r["device"] for r in rows}
    assert f"'{HYPERLINK}" in devices
    assert "'-2+3" in devices
    assert "runner-1" in devices
    parquet_devices = {r["device"] for r in pq.read_table(small / "records.parquet").to_pylist()}
    assert {HYPERLINK, "-2+3"} <= parquet_devices  # Parquet is typed: nothing to neutralise
    data = audit.csv_bytes(
        [("name", audit.TEXT), ("delta", audit.FLOAT), ("n", audit.INT)],
        [{"name": "-x", "delta": -2.5, "n": -3}, {"name": "@SUM(A1)", "delta": None, "n": 1}],
    )
    assert data.decode() == "name,delta,n\n'-x,-2.5,-3\n'@SUM(A1),,1\n"
    for text in ("=1", "+1", "-1", "@a", "\tx", "\rx", "'=x", "plain"):
        assert audit.unneutralise(audit.neutralise(text)) == text
    assert verify_export(small).records == 3


@pytest.mark.parametrize("name", audit.EXPORT_FILES)
def test_one_flipped_byte_in_any_file_fails_naming_that_file(small: Path, tmp_path: Path, name: str) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(small, copy)
    path = copy / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    error = failure(copy)
    assert error.message.startswith(f"{name}: ")
    assert error.hint


def test_a_deleted_file_and_an_extra_file_fail(small: Path) -> None:
    (small / "quality.csv").unlink()
    assert failure(small).message == "quality.csv: missing (listed in manifest.json)"
    (small / "manifest.json").unlink()
    assert failure(small).message == "manifest.json: missing"


def test_an_extra_file_fails(small: Path) -> None:
    (small / "notes.txt").write_text("hello", encoding="utf-8")
    assert failure(small).message == "notes.txt: not listed in manifest.json"


def test_an_edited_number_fails_on_recomputation_even_with_a_new_manifest(small: Path) -> None:
    path = small / "records.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    column = rows[0].index("it_energy_kwh")
    rows[1][column] = repr(float(rows[1][column]) * 0.5)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    manifest = json.loads((small / "manifest.json").read_text(encoding="utf-8"))
    audit.write_manifest(
        small,
        tool_version=manifest["tool_version"],
        factor_bundle_version=manifest["factor_bundle_version"],
        created_at=datetime.fromisoformat(manifest["created_at"]),
    )
    (small / "records.parquet").unlink()  # the CSV alone must fail: nothing else to compare with
    audit.write_manifest(
        small,
        tool_version=manifest["tool_version"],
        factor_bundle_version=manifest["factor_bundle_version"],
        created_at=datetime.fromisoformat(manifest["created_at"]),
    )
    error = failure(small)
    assert error.message.startswith("records.csv: row 2 ")
    assert "does not add up" in error.message


def test_a_non_empty_directory_is_refused_unless_forced(small: Path, tmp_path: Path) -> None:
    config = load_config(tmp_path / "sci.toml")
    with pytest.raises(SciError) as caught:
        app.export_audit(config, small, now=NOW)
    assert "is not empty" in caught.value.message
    assert "--force" in caught.value.hint
    assert code_of(["export", "-c", str(tmp_path), "--audit", str(small), "--force"]) == 0
    assert verify_export(small).records == 3


def test_names_are_kept_inside_the_directory(tmp_path: Path) -> None:
    assert audit.safe_name("../../etc/passwd") == "etc_passwd"
    assert audit.safe_name("..") == "unnamed"
    assert audit.safe_name("GPU server #1 (rack 2)") == "GPU_server_1_rack_2"
    for bad in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(SciError):
            audit.target(tmp_path, bad)
    assert audit.target(tmp_path, "records.csv") == tmp_path / "records.csv"
