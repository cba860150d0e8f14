"""The CI runner table, the runners option in sci.toml, and the CI example
end to end (E, M and SCI checked by hand)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from collectors._ci import DEFAULT_UTILISATION_PCT, bundled_runners
from sci import app
from sci.config import config_from_dict, load_config
from sci.errors import ConfigError
from sci.factors import load_bundle
from sci.units import G_PER_KG, HOURS_PER_YEAR, J_PER_KWH

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "sci" / "data" / "ci_runners.csv"
FIXTURES = ROOT / "tests" / "fixtures"


def test_every_runner_row_names_its_source_and_a_model_in_the_tdp_table() -> None:
    bundle = load_bundle()
    with TABLE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 18
    for row in rows:
        assert row["source"]
        assert row["url"].startswith("https://")
        assert row["year"]
        assert row["licence"]
        assert int(row["vcpus"]) <= int(row["host_threads"])
        assert bundle.cpu_tdp(row["device_model"]).value > 0
    ubuntu = bundled_runners()["ubuntu-latest"]
    assert (ubuntu.vcpus, ubuntu.device_model, ubuntu.host_threads) == (4, "AMD EPYC 7763", 128)
    assert bundled_runners()["macos-latest"].resource_share == 3 / 8
    assert bundled_runners()["saas-linux-small-amd64"].resource_share == 2 / 128
    assert DEFAULT_UTILISATION_PCT == 50.0


def test_runners_is_a_table_option_in_sci_toml(tmp_path: Path) -> None:
    source = {"collector": "github-jobs", "paths": ["*.json"], "runners": {"big": {"vcpus": 8, "tdp_w": 200}}}
    raw = {"platforms": [{"name": "ci", "location": "DE", "sources": [source]}]}
    config = config_from_dict(raw, tmp_path / "sci.toml")
    assert config.platforms[0].sources[0].options["runners"] == {"big": {"vcpus": 8, "tdp_w": 200}}
    source["runners"] = 4
    with pytest.raises(ConfigError) as raised:
        config_from_dict(raw, tmp_path / "sci.toml")
    assert raised.value.key == "platforms[0].sources[0].runners"


def test_an_unknown_runner_cpu_is_found_before_ingest(tmp_path: Path) -> None:
    (tmp_path / "sci.toml").write_text(
        '[[platforms]]\nname = "ci"\nlocation = "DE"\n[[platforms.sources]]\ncollector = "github-jobs"\n'
        'paths = ["*.json"]\nrunners = { big = { device_model = "AMD EPYC 7764" } }\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        app.run_ingest(load_config(tmp_path / "sci.toml"))
    assert raised.value.key == 'platforms[0].sources[0].runners."big".device_model'


def test_the_ci_example_by_hand(tmp_path: Path) -> None:
    target = tmp_path / "ci"
    shutil.copytree(ROOT / "examples" / "ci", target, ignore=shutil.ignore_patterns("out", "*.duckdb*"))
    config = load_config(target / "sci.toml")
    outcomes = app.run_ingest(config)
    assert [(o.name, o.records, o.issues) for o in outcomes] == [
        ("github/jobs-run-29679449.json", 2, 4),
        ("github/usage-2026-10.csv", 10, 1),
        ("gitlab/jobs-2026-10.json", 2, 3),
    ]
    result = {p.platform: p for p in app.run_compute(config).platforms}
    bundle = load_bundle()
    ubuntu_w, macos_w = 280 * 0.75 * 4 / 128, 10 * 0.75 * 3 / 8  # 6.5625 W, 2.8125 W
    small_w, medium_w = 240 * 0.75 * 2 / 128, 240 * 0.75 * 4 / 128  # 2.8125 W, 5.625 W
    server_g_per_h = 1000 * G_PER_KG / (4 * HOURS_PER_YEAR)  # TE / EL of the bundled server
    expected = {
        # usage report: 68 Linux + 98 Windows minutes on 4 of 128 EPYC 7763 threads, 422 macOS minutes on M1
        "github": (
            ((68 + 98) * ubuntu_w + 422 * macos_w) * 60,
            "azure:eastus",
            "azure",
            588 / 60 * server_g_per_h * 0.03125,
            20,
        ),
        # jobs API: 119 s ubuntu-latest + 630 s macos-14; the skipped, queued, duplicate, self-hosted: dropped
        "github-oss": ((119 * ubuntu_w + 630 * macos_w), "azure:eastus", "azure", 0.0, 1),
        # GitLab: 120 s small (from the runner description) + 600 s medium; self-managed excluded
        "gitlab": (
            (120 * small_w + 600 * medium_w),
            "gcp:us-east1",
            "gcp",
            720 / 3600 * server_g_per_h * 0.015625,
            1,
        ),
    }
    for name, (energy_j, region, provider, embodied_g, units) in expected.items():
        platform = result[name]
        it_kwh = energy_j / J_PER_KWH
        pue = bundle.pue(provider).value
        intensity = bundle.grid_intensity(region).value
        assert platform.it_energy_kwh == pytest.approx(it_kwh, rel=1e-12)
        assert platform.energy_kwh == pytest.approx(it_kwh * pue, rel=1e-12)
        assert platform.embodied_g == pytest.approx(embodied_g, rel=1e-12)
        assert platform.sci_g_per_unit == pytest.approx(
            (it_kwh * pue * intensity + embodied_g) / units, rel=1e-12
        )
    assert result["github"].it_energy_kwh == pytest.approx(0.0379375, rel=1e-12)
    assert result["github"].embodied_g == pytest.approx(8.740011415525114, rel=1e-12)
