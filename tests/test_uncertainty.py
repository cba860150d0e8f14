"""Uncertainty: the pure combination rules (property tests), [uncertainty] in sci.toml, and compute's
ranges, top devices, idle GPUs and lowest-carbon zone on the bundled example."""

from __future__ import annotations

import math
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sci import app, uncertainty
from sci.config import config_from_dict, load_config
from sci.errors import ConfigError
from sci.factors import load_bundle
from sci.results import ComputeResult
from sci.uncertainty import Bounds, Term, combine, operational_terms, product_relative, sci_bounds

ROOT = Path(__file__).resolve().parents[1]
FIXED_NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)

values = st.floats(min_value=0.0, max_value=1e9, allow_nan=False)
relatives = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
terms = st.lists(st.builds(Term, values, relatives), max_size=8)
units = st.floats(min_value=1e-3, max_value=1e7, allow_nan=False)


# --- the rules -----------------------------------------------------------------------------------------


@given(st.lists(values, max_size=8))
def test_zero_uncertainty_gives_low_equal_high_equal_value(amounts: list[float]) -> None:
    bounds = combine(terms=[Term(v, 0.0) for v in amounts])
    assert bounds.low == bounds.high == bounds.value == bounds.linear_low == bounds.linear_high
    centred = combine(terms=[Term(v, 0.0) for v in amounts], value=123.0)
    assert centred.low == centred.high == centred.value == 123.0


@given(terms)
def test_bounds_contain_the_value_and_quadrature_is_inside_linear(items: list[Term]) -> None:
    bounds = combine(terms=items)
    assert bounds.linear_low <= bounds.low <= bounds.value <= bounds.high <= bounds.linear_high
    assert math.isclose(bounds.high - bounds.value, bounds.value - bounds.low, rel_tol=1e-9, abs_tol=1e-6)
    assert bounds.low >= -1e-6 * max(1.0, bounds.value)  # relative errors <= 100 %: never below zero


@given(terms, units, st.floats(min_value=1.0, max_value=1000.0))
def test_scaling_r_scales_the_sci_bounds_by_one_over_r(items: list[Term], r: float, k: float) -> None:
    carbon = combine(terms=items)
    one = sci_bounds(carbon=carbon, functional_units=r)
    scaled = sci_bounds(carbon=carbon, functional_units=r * k)
    assert one is not None
    assert scaled is not None
    for a, b in zip(_fields(one), _fields(scaled), strict=True):
        assert math.isclose(b, a / k, rel_tol=1e-9, abs_tol=1e-12)


def test_undefined_sci_has_no_bounds() -> None:
    carbon = combine(terms=[Term(10.0, 0.1)])
    assert sci_bounds(carbon=carbon, functional_units=None) is None
    assert sci_bounds(carbon=carbon, functional_units=0.0) is None


def test_independent_terms_add_in_quadrature() -> None:
    bounds = combine(terms=[Term(300.0, 0.1), Term(400.0, 0.1)])  # errors 30 and 40
    assert bounds.high == pytest.approx(750.0)
    assert bounds.linear_high == pytest.approx(770.0)
    assert product_relative(0.3, 0.4) == pytest.approx(0.5)
    (term,) = operational_terms(
        operational_g_by_tier={"measured": 100.0}, relative=uncertainty.DEFAULT_RELATIVE
    )
    assert term.relative == pytest.approx(math.sqrt(0.1**2 + 0.1**2))


def test_negative_relative_uncertainty_is_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        combine(terms=[Term(1.0, -0.1)])


def _fields(b: Bounds) -> tuple[float, ...]:
    return (b.value, b.low, b.high, b.linear_low, b.linear_high)


# --- sci.toml ------------------------------------------------------------------------------------------


def _config(**table: Any) -> dict[str, Any]:
    return {"platforms": [{"name": "laptops", "location": "DE"}], "uncertainty": table}


def test_uncertainty_defaults_and_overrides() -> None:
    default = config_from_dict({"platforms": [{"name": "l", "location": "DE"}]}, Path("/tmp/sci.toml"))
    assert dict(default.uncertainty) == uncertainty.DEFAULT_RELATIVE
    given_ = config_from_dict(_config(measured=0.05, **{"provider-reported": 0.3}), Path("/tmp/sci.toml"))
    assert given_.uncertainty["measured"] == 0.05
    assert given_.uncertainty["provider-reported"] == 0.3
    assert given_.uncertainty["embodied"] == 0.5


@pytest.mark.parametrize(
    ("table", "key", "message"),
    [
        ({"measured": 10}, "uncertainty.measured", "must be <= 1"),
        ({"embodied": -0.1}, "uncertainty.embodied", "must be >= 0"),
        ({"grid_intensity": "10%"}, "uncertainty.grid_intensity", "expected a number"),
        ({"measurd": 0.1}, "uncertainty.measurd", "unknown key"),
    ],
)
def test_uncertainty_errors_name_the_key(table: dict[str, Any], key: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(_config(**table), Path("/tmp/sci.toml"))
    assert caught.value.key == key
    assert message in str(caught.value)


# --- compute on the example ----------------------------------------------------------------------------


def _team(tmp_path: Path, extra: str = "") -> Path:
    target = tmp_path / "team"
    shutil.copytree(ROOT / "examples" / "team", target, ignore=shutil.ignore_patterns("out", "*.duckdb*"))
    if extra:
        toml = target / "sci.toml"
        toml.write_text(toml.read_text(encoding="utf-8") + "\n" + extra, encoding="utf-8")
    return target


def _result(team: Path) -> ComputeResult:
    config = load_config(team / "sci.toml")
    app.run_ingest(config)
    return app.run_compute(config, now=FIXED_NOW)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ComputeResult]:
    team = _team(tmp_path_factory.mktemp("example"))
    return team, _result(team)


def test_compute_gives_ranges_that_contain_every_value(example: tuple[Path, ComputeResult]) -> None:
    _, result = example
    for p in result.platforms:
        assert p.carbon_low_g is not None
        assert p.carbon_high_g is not None
        assert p.carbon_linear_low_g is not None
        assert p.carbon_linear_high_g is not None
        assert (
            p.carbon_linear_low_g <= p.carbon_low_g < p.carbon_g < p.carbon_high_g <= p.carbon_linear_high_g
        )
        assert p.sci_g_per_unit is not None
        assert p.sci_low_g_per_unit is not None
        assert p.sci_high_g_per_unit is not None
        assert p.sci_low_g_per_unit < p.sci_g_per_unit < p.sci_high_g_per_unit
        assert p.annual_low_g == pytest.approx(p.carbon_low_g * 365 / result.window_days)
        assert sum(p.operational_by_tier_g.values()) == pytest.approx(p.operational_g)
    assert result.total_carbon_low_g is not None
    assert result.total_carbon_high_g is not None
    assert result.total_carbon_low_g < result.total_carbon_g < result.total_carbon_high_g
    assert result.uncertainty == uncertainty.DEFAULT_RELATIVE


def test_the_gpu_range_follows_the_formula(example: tuple[Path, ComputeResult]) -> None:
    _, result = example
    gpu = next(p for p in result.platforms if p.platform == "gpu-servers")
    sigma = math.hypot(gpu.operational_g * math.hypot(0.1, 0.1), gpu.embodied_g * 0.5)
    assert gpu.carbon_high_g == pytest.approx(gpu.carbon_g + sigma)
    assert gpu.sci_high_g_per_unit == pytest.approx((gpu.carbon_g + sigma) / 42)


def test_zero_uncertainty_in_sci_toml_gives_exact_bounds(tmp_path: Path) -> None:
    zero = "[uncertainty]\n" + "\n".join(f'"{k}" = 0' for k in uncertainty.KEYS) + "\n"
    result = _result(_team(tmp_path, zero))
    for p in result.platforms:
        assert p.carbon_low_g == p.carbon_high_g == p.carbon_g
        assert p.sci_low_g_per_unit == pytest.approx(p.sci_g_per_unit)
        assert p.sci_high_g_per_unit == pytest.approx(p.sci_g_per_unit)
    assert result.total_carbon_low_g == pytest.approx(result.total_carbon_g)


def test_top_devices_come_from_the_store_with_their_files(example: tuple[Path, ComputeResult]) -> None:
    team, result = example
    devices = result.top_devices
    assert len(devices) == 10
    assert [d.carbon_g for d in devices] == sorted((d.carbon_g for d in devices), reverse=True)
    gpu = next(p for p in result.platforms if p.platform == "gpu-servers")
    # the first is AWS's EC2 figure (provider-reported: carbon, no energy); then the busiest GPU
    ec2, top_gpu = devices[0], next(d for d in devices if d.platform == "gpu-servers")
    assert (ec2.platform, ec2.tiers, ec2.it_energy_kwh) == ("cloud", ("provider-reported",), 0.0)
    assert ec2.carbon_g == pytest.approx(0.081212e6)
    assert ec2.files == ("cloud/carbon-emissions-2026-10.csv",)
    with duckdb.connect(str(team / "sci.duckdb"), read_only=True) as con:
        row = con.execute("SELECT sum(energy_kwh) FROM samples WHERE device = ?", [top_gpu.device]).fetchone()
    assert row is not None
    assert top_gpu.it_energy_kwh == pytest.approx(row[0])
    assert top_gpu.carbon_g == pytest.approx(row[0] * gpu.pue * gpu.intensity_g_per_kwh)
    assert top_gpu.files == ("gpu-server/nvidia-smi-2026-10.csv.gz",)
    carol = next(d for d in devices if d.device == "carol")  # powermetrics and CodeCarbon, both measured
    assert carol.tiers == ("measured",)
    assert carol.files == ("laptops/carol/emissions.csv", "laptops/carol/powermetrics-2026-10.txt.gz")


def test_idle_gpu_energy_is_summed_below_five_percent(example: tuple[Path, ComputeResult]) -> None:
    team, result = example
    with duckdb.connect(str(team / "sci.duckdb"), read_only=True) as con:
        row = con.execute(
            "SELECT sum(energy_kwh) FROM samples WHERE component = 'gpu' AND utilisation < 0.05"
        ).fetchone()
    assert row is not None
    assert len(result.idle_gpus) == 4
    assert sum(i.idle_it_energy_kwh for i in result.idle_gpus) == pytest.approx(row[0])
    for idle in result.idle_gpus:
        assert 0 < idle.idle_it_energy_kwh < idle.total_it_energy_kwh
        assert idle.idle_carbon_g == pytest.approx(idle.idle_it_energy_kwh * 1.5 * 344.13992)


def test_lowest_zone_is_of_the_same_kind(example: tuple[Path, ComputeResult]) -> None:
    _, result = example
    by_platform = {z.platform: z for z in result.zone_alternatives}
    ci = by_platform["ci"]
    assert ci.best_zone.startswith("azure:")
    bundle = load_bundle()
    assert ci.best_intensity_g_per_kwh == bundle.grid_intensity(ci.best_zone).value
    assert ci.best_operational_g == pytest.approx(ci.energy_kwh * ci.best_intensity_g_per_kwh)
    assert ci.best_energy_kwh is None  # same provider, same PUE: the same E
    # on-premises: the lowest cloud region of any provider, its IT energy at that provider's PUE
    gpu = by_platform["gpu-servers"]
    provider, _ = gpu.best_zone.split(":")
    lowest = min(bundle.lowest_intensity(provider=p)[0].value for p in bundle.cloud_providers())
    assert gpu.best_intensity_g_per_kwh == lowest > 0
    assert "cloud regions (aws, azure, gcp)" in gpu.compared_with
    platform = next(p for p in result.platforms if p.platform == "gpu-servers")
    assert gpu.best_pue == bundle.pue(provider).value
    assert gpu.best_energy_kwh == pytest.approx(platform.it_energy_kwh * bundle.pue(provider).value)
    assert gpu.best_operational_g == pytest.approx(gpu.best_energy_kwh * lowest)
    # laptops (end-user devices) and cloud (provider carbon, no energy) are not compared
    assert set(by_platform) == {"ci", "gpu-servers"}
    assert result.hourly_intensity is False
