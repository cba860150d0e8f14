"""sci.toml: validation names the key and hints at the fix."""

from __future__ import annotations

import contextlib
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sci.config import config_from_dict, find_config, load_config
from sci.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "team" / "sci.toml"
STARTER = ROOT / "sci" / "data" / "starter.toml"


def minimal(**platform: Any) -> dict[str, Any]:
    return {"platforms": [{"name": "laptops", "location": "DE", **platform}]}


def error_for(raw: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(raw, Path("/tmp/sci.toml"))
    return caught.value


def test_the_example_config_loads() -> None:
    config = load_config(EXAMPLE)
    assert [p.name for p in config.platforms] == ["laptops", "gpu-servers", "ci", "cloud"]
    platforms = {p.name: p for p in config.platforms}
    gpu = platforms["gpu-servers"].sources[0]
    assert gpu.timezone is not None
    assert gpu.timezone.key == "Europe/Berlin"
    assert gpu.max_gap_s == 900
    ci = platforms["ci"]
    assert ci.provider == "azure"
    assert ci.sources[0].options["vcpus"] == 4
    assert ci.sources[0].options["utilisation_pct"] == 50.0
    assert [s.collector for s in platforms["laptops"].sources] == ["powermetrics", "codecarbon"]
    assert platforms["cloud"].provider == "aws"
    assert platforms["cloud"].sources[0].options["model_version"] == "v3.0.0"
    assert config.window_start is not None
    assert config.window_start.isoformat() == "2026-09-30T22:00:00+00:00"  # midnight in Berlin (CEST)
    assert config.window_end is not None
    assert config.window_end.isoformat() == "2026-10-31T23:00:00+00:00"  # midnight in Berlin (CET)
    assert config.window_zone.key == "Europe/Berlin"
    assert config.store_path == EXAMPLE.parent / "sci.duckdb"
    assert {(u.platform, u.count) for u in config.functional_units} == {
        ("laptops", 3),
        ("gpu-servers", 42),
        ("ci", 682),
        ("cloud", 18_400),
    }


def test_the_starter_config_is_valid() -> None:
    config = load_config(STARTER)
    assert config.platforms
    assert config.platforms[0].sources[0].device == "{parent}"


def test_find_config_accepts_a_folder(tmp_path: Path) -> None:
    assert find_config(EXAMPLE.parent) == EXAMPLE
    with pytest.raises(ConfigError, match="no config file") as caught:
        find_config(tmp_path)
    assert "sci-report init" in caught.value.hint


def test_unknown_key_suggests_the_right_one() -> None:
    err = error_for(minimal(locaton="DE"))
    assert err.key == "platforms[0].locaton"
    assert "location" in err.hint


def test_location_or_region_exactly_one() -> None:
    assert error_for({"platforms": [{"name": "x"}]}).key == "platforms[0]"
    err = error_for(minimal(region="aws:eu-west-1"))
    assert "exactly one" in err.message
    assert error_for({"platforms": [{"name": "x", "region": "eu-west-1"}]}).key == "platforms[0].region"


def test_local_time_collectors_need_a_timezone() -> None:
    raw = minimal(sources=[{"collector": "nvidia-smi", "paths": ["gpu.csv"]}])
    err = error_for(raw)
    assert err.key == "platforms[0].sources[0].timezone"
    assert "Europe/Berlin" in err.hint


def test_unknown_timezone_and_collector() -> None:
    raw = minimal(sources=[{"collector": "nvidia-smi", "paths": ["g.csv"], "timezone": "Mars/Olympus"}])
    assert error_for(raw).key == "platforms[0].sources[0].timezone"
    err = error_for(minimal(sources=[{"collector": "smartmeter", "paths": ["x"]}]))
    assert err.key == "platforms[0].sources[0].collector"
    assert "powermetrics" in err.hint


def test_collector_options_are_typed() -> None:
    source = {"collector": "tdp-proxy", "paths": ["jobs.csv"], "vcpus": "four"}
    err = error_for(minimal(sources=[source]))
    assert err.key == "platforms[0].sources[0].vcpus"
    assert "integer" in err.message


def test_cross_references_are_checked() -> None:
    raw = {**minimal(), "embodied": [{"platform": "laptop", "device_class": "laptop"}]}
    err = error_for(raw)
    assert err.key == "embodied[0].platform"
    assert "laptops" in err.hint
    raw = {**minimal(), "functional_units": [{"platform": "laptops", "period": "2026-13", "count": 3}]}
    assert error_for(raw).key == "functional_units[0].period"
    dup = {"platform": "laptops", "period": "2026-10", "count": 3}
    assert error_for({**minimal(), "functional_units": [dup, dup]}).key == "functional_units[1]"


def test_numbers_are_checked() -> None:
    assert error_for(minimal(pue=0.8)).key == "platforms[0].pue"
    assert error_for(minimal(pue=True)).key == "platforms[0].pue"
    raw = {**minimal(), "embodied": [{"platform": "laptops", "device_class": "laptop", "share": 1.5}]}
    assert error_for(raw).key == "embodied[0].share"


def test_duplicate_platform_names() -> None:
    raw = {"platforms": [{"name": "a", "location": "DE"}, {"name": "a", "location": "FR"}]}
    assert error_for(raw).key == "platforms[1]"


def test_window_forms() -> None:
    err = error_for({**minimal(), "window": {"month": "2026-10", "start": "2026-10-01"}})
    assert err.key == "window"
    raw = tomllib.loads(
        '[window]\nstart = 2026-10-01\nend = 2026-09-01\n[[platforms]]\nname="a"\nlocation="DE"'
    )
    assert error_for(raw).key == "window.end"


def test_factor_overrides_number_or_table() -> None:
    raw = {
        **minimal(),
        "factors": {
            "grid_intensity_g_per_kwh": {"DE": 350.5},
            "cpu_tdp_w": {"My CPU": {"value": 65, "source": "vendor sheet", "year": 2024}},
        },
    }
    config = config_from_dict(raw, Path("/tmp/sci.toml"))
    by_table = {o.table: o for o in config.factor_overrides}
    assert by_table["grid_intensity_g_per_kwh"].value == 350.5
    assert by_table["grid_intensity_g_per_kwh"].source == "sci.toml [factors.grid_intensity_g_per_kwh] DE"
    assert by_table["cpu_tdp_w"].year == 2024
    bad = {**minimal(), "factors": {"cpu_tdp_w": {"My CPU": "lots"}}}
    assert error_for(bad).key == 'factors.cpu_tdp_w."My CPU"'
    assert error_for({**minimal(), "factors": {"tdp": {}}}).key == "factors.tdp"


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sci.toml"
    path.write_text("[[platforms]\nname = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_config(path)
    assert str(path) in str(caught.value)


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
keys = st.sampled_from(
    ["project", "window", "defaults", "platforms", "embodied", "functional_units", "factors", "name", "x"]
)


@settings(max_examples=300)
@given(raw=st.dictionaries(keys, toml_values, max_size=4))
def test_arbitrary_documents_give_a_config_or_a_config_error(raw: dict[str, Any]) -> None:
    with contextlib.suppress(ConfigError):
        config_from_dict(raw, Path("/tmp/sci.toml"))


@settings(max_examples=300)
@given(
    platform=st.dictionaries(
        st.sampled_from(["name", "location", "region", "pue", "unit", "sources"]), toml_values
    )
)
def test_arbitrary_platforms_give_a_config_or_a_config_error(platform: dict[str, Any]) -> None:
    with contextlib.suppress(ConfigError):
        config_from_dict({"platforms": [platform]}, Path("/tmp/sci.toml"))


def test_runtime_reserved_embodied_needs_count_one() -> None:
    line = {"platform": "laptops", "device_class": "server", "reserved": "runtime", "count": 3}
    err = error_for({**minimal(), "embodied": [line]})
    assert err.key == "embodied[0].count"
    assert "share" in err.hint
