"""The per-release SCI gate: verdicts with uncertainty, baselines in a file or the store, exit codes."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sci import gate
from sci.cli import main
from sci.config import load_config
from sci.engine import PeriodCarbon
from sci.errors import SciError
from sci.results import PlatformResult

JOBS = """start,end,device,utilisation_pct
2026-10-01T08:00:00Z,2026-10-01T09:00:00Z,runner-1,50
2026-10-02T08:00:00Z,2026-10-02T08:30:00Z,runner-2,80
2026-10-03T08:00:00Z,2026-10-03T08:10:00Z,runner-1,20
"""
CONFIG = """
[project]
name = "gate test"

[window]
month = "2026-10"

[ci]
platform = "ci"
unit = "test runs"

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

[[platforms]]
name = "other"
location = "FR"

  [[platforms.sources]]
  collector = "tdp-proxy"
  paths = ["other.csv"]
  device_model = "AMD EPYC 7763"

[[functional_units]]
platform = "ci"
period = "2026-10"
count = 10
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "jobs.csv").write_text(JOBS, encoding="utf-8")
    (tmp_path / "other.csv").write_text(JOBS, encoding="utf-8")
    (tmp_path / "sci.toml").write_text(CONFIG, encoding="utf-8")
    assert main_code(["ingest", "-c", str(tmp_path)]) == 0
    return tmp_path


def main_code(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def ci(project: Path, release: str, *extra: str) -> tuple[int, dict[str, object]]:
    out = project / f"verdict-{release}.json"
    code = main_code(["ci", "-c", str(project), "--release", release, "--json", str(out), *extra])
    return code, json.loads(out.read_text(encoding="utf-8"))


def platform(*, sci_range: tuple[float, float] | None = None, **by_tier_kwh: float) -> PlatformResult:
    """A platform of 10 runs at 100 gCO2e/kWh whose range compute gave as ``sci_range`` (None: no range)."""
    it_kwh = sum(by_tier_kwh.values())
    period = PeriodCarbon("2026-10", it_kwh, 1.0, it_kwh, 100.0, it_kwh * 100.0, 0.0, 0.0, 10.0)
    low, high = sci_range if sci_range else (None, None)
    return PlatformResult(
        platform="ci",
        unit="runs",
        periods=(period,),
        it_energy_by_tier_kwh={k.replace("_", "-"): v for k, v in by_tier_kwh.items()},
        it_energy_kwh=it_kwh,
        pue=1.0,
        energy_kwh=it_kwh,
        intensity_g_per_kwh=100.0,
        operational_g=it_kwh * 100.0,
        provider_carbon_g=0.0,
        embodied_g=0.0,
        carbon_g=it_kwh * 100.0,
        functional_units=10.0,
        sci_g_per_unit=it_kwh * 10.0,
        annual_carbon_g=0.0,
        devices=1,
        observed_device_hours=1.0,
        carbon_low_g=None if low is None else low * 10.0,
        carbon_high_g=None if high is None else high * 10.0,
        sci_low_g_per_unit=low,
        sci_high_g_per_unit=high,
    )


def test_the_range_is_computes_range_for_the_platform() -> None:
    estimate = gate.estimate(platform(measured=1.0, proxy_estimated=1.0, sci_range=(16.0, 24.0)))
    assert estimate.sci == pytest.approx(20.0)
    assert (estimate.low, estimate.high) == (16.0, 24.0)
    assert estimate.relative_uncertainty == pytest.approx(0.2)
    assert estimate.carbon_share == {"measured": 0.5, "proxy-estimated": 0.5}
    # R for the whole window: the window's carbon range over that R
    ten_more = gate.estimate(platform(measured=2.0, sci_range=(16.0, 24.0)), units=20.0)
    assert (ten_more.sci, ten_more.low, ten_more.high) == pytest.approx((10.0, 8.0, 12.0))
    # a result stored before ranges existed: no range, the point estimate only
    bare = gate.estimate(platform(measured=1.0))
    assert (bare.low, bare.high, bare.relative_uncertainty) == (10.0, 10.0, 0.0)
    assert gate.estimate(platform(measured=1.0), units=0).low is None


def test_verdicts_take_the_ranges_into_account() -> None:
    base = gate.Baseline("v1", "ci", 10.0, 9.0, 11.0, "runs", datetime(2026, 10, 1, tzinfo=UTC))

    def verdict(kwh: float) -> gate.Status:  # SCI = 10 x kwh, +/- 10 %
        sci = kwh * 10.0
        current = gate.estimate(platform(measured=kwh, sci_range=(sci * 0.9, sci * 1.1)))
        return gate.judge("v2", current, base, threshold=0.05).status

    assert verdict(1.0) is gate.Status.PASS
    assert verdict(1.2) is gate.Status.WITHIN_NOISE  # 12 > 10.5, but 10.8 <= 11.55
    assert verdict(1.3) is gate.Status.REGRESSION  # low 11.7 > 11 x 1.05
    assert verdict(0.5) is gate.Status.PASS
    worse = gate.estimate(platform(measured=1.3, sci_range=(11.7, 14.3)))
    report = gate.judge("v2", worse, base, threshold=0.05)
    assert report.exit_code == 2
    assert report.change_pct == pytest.approx(30.0)


def test_the_gate_reports_the_same_range_as_compute_and_follows_uncertainty_config(project: Path) -> None:
    from sci.app import run_compute

    config = load_config(project / "sci.toml")
    found = next(p for p in run_compute(config).platforms if p.platform == "ci")
    code, verdict = ci(project, "v1")
    assert code == 0
    assert verdict["sci_g_per_unit"] == pytest.approx(found.sci_g_per_unit)
    expected = (found.sci_low_g_per_unit, found.sci_high_g_per_unit)
    assert (verdict["low"], verdict["high"]) == pytest.approx(expected)
    # proxy-estimated only: sqrt(0.40^2 + 0.10^2) by default
    assert verdict["relative_uncertainty"] == pytest.approx(math.hypot(0.40, 0.10))
    toml = project / "sci.toml"
    text = toml.read_text(encoding="utf-8") + "\n[uncertainty]\nproxy-estimated = 0.2\n"
    toml.write_text(text, encoding="utf-8")
    assert ci(project, "v1")[1]["relative_uncertainty"] == pytest.approx(math.hypot(0.20, 0.10))


def test_no_baseline_yet_passes_and_says_so_then_the_next_release_compares(project: Path) -> None:
    baseline = project / "sci-baseline.json"
    code, first = ci(project, "v1.0.0", "--baseline", str(baseline), "--update-baseline")
    assert code == 0
    assert first["verdict"] == "no-baseline"
    assert "no baseline yet" in str(first["message"])
    assert first["unit"] == "test runs"
    stored = json.loads(baseline.read_text(encoding="utf-8"))
    assert [b["release"] for b in stored["baselines"]] == ["v1.0.0"]
    code, second = ci(project, "v1.1.0", "--baseline", str(baseline))
    assert code == 0
    assert second["verdict"] == "pass"
    assert second["previous_release"] == "v1.0.0"
    assert second["change_pct"] == pytest.approx(0.0)
    assert second["low"] < second["sci_g_per_unit"] < second["high"]


def test_a_regression_past_the_noise_exits_2_and_noise_does_not(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = project / "sci-baseline.json"
    assert ci(project, "v1", "--baseline", str(baseline), "--update-baseline", "--units", "10")[0] == 0
    code, noisy = ci(project, "v2", "--baseline", str(baseline), "--units", "7")  # SCI x 1.43
    assert (code, noisy["verdict"]) == (0, "within-noise")
    code, worse = ci(project, "v3", "--baseline", str(baseline), "--units", "3")  # SCI x 3.3
    assert (code, worse["verdict"]) == (2, "regression")
    assert worse["previous_release"] == "v1"
    assert worse["change_pct"] == pytest.approx(233.333, rel=1e-3)
    assert "regression" in capsys.readouterr().out


def test_r_zero_is_undefined_not_a_regression(project: Path) -> None:
    baseline = project / "sci-baseline.json"
    ci(project, "v1", "--baseline", str(baseline), "--update-baseline")
    code, verdict = ci(project, "v2", "--baseline", str(baseline), "--units", "0", "--update-baseline")
    assert code == 0
    assert verdict["verdict"] == "undefined"
    assert verdict["sci_g_per_unit"] is None
    assert "R = 0" in str(verdict["message"])
    assert "not a regression" in str(verdict["message"])
    stored = json.loads(baseline.read_text(encoding="utf-8"))
    assert [b["release"] for b in stored["baselines"]] == ["v1"]  # an undefined SCI is no baseline


def test_the_summary_is_appended_to_github_step_summary(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = project / "step-summary.md"
    summary.write_text("## earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    markdown = project / "gate.md"
    assert main_code(["ci", "-c", str(project), "--release", "v9", "--markdown", str(markdown)]) == 0
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## earlier step\n")
    assert "### SCI gate: ci, release v9: no-baseline" in text
    assert "| v9 (this) |" in text
    assert markdown.read_text(encoding="utf-8") in text


def test_baselines_in_the_store_when_no_file_is_given(project: Path) -> None:
    assert ci(project, "v1", "--update-baseline")[0] == 0
    code, verdict = ci(project, "v2", "--units", "2")
    assert (code, verdict["verdict"], verdict["previous_release"]) == (2, "regression", "v1")
    assert ci(project, "v1", "--update-baseline", "--units", "2")[0] == 0  # replaces v1's baseline
    assert ci(project, "v2", "--units", "2")[1]["verdict"] == "pass"


def test_the_platform_comes_from_ci_config_or_the_option(project: Path) -> None:
    config = load_config(project / "sci.toml")
    assert config.ci.platform == "ci"
    code, verdict = ci(project, "v1", "--platform", "other")
    assert (code, verdict["platform"], verdict["verdict"]) == (0, "other", "undefined")
    assert "R not declared" in str(verdict["message"])


def test_a_broken_baseline_file_is_an_error_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "sci-baseline.json"
    path.write_text('{"schema": 1, "baselines": [{"release": "v1"}]}', encoding="utf-8")
    with pytest.raises(SciError) as caught:
        gate.read_baseline_file(path)
    assert "not a sci-report baseline file" in caught.value.message
    assert "--update-baseline" in caught.value.hint
    assert gate.read_baseline_file(tmp_path / "missing.json") == []


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_the_ci_examples_parse_and_run_the_gate(name: str) -> None:
    import yaml

    text = (Path(__file__).resolve().parents[1] / "examples" / "ci" / name).read_text(encoding="utf-8")
    assert yaml.safe_load(text)
    assert "sci-report measure --platform ci -- pytest" in text
    assert "sci-report ci --release" in text
    assert "--baseline sci-baseline.json" in text
