"""The offline factor bundle: known values, matching rules, overrides, provenance and regeneration."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sci.errors import FactorError
from sci.factors import (
    OVERRIDE_TABLES,
    Factor,
    FactorBundle,
    FactorOverride,
    load_bundle,
    normalise_cpu_name,
    normalise_gpu_name,
)

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "sci" / "data" / "factors"
SHARED = REPO.parent / "shared" / "formats" / "emission_factors"
BUILD = REPO / "tools" / "build_factors.py"
CSV_FILES = sorted(p.name for p in DATA.glob("*.csv"))


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def row_where(name: str, **match: str) -> dict[str, str]:
    found = [r for r in rows(name) if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (name, match, found)
    return found[0]


@pytest.fixture(scope="module")
def bundle() -> FactorBundle:
    return load_bundle()


# --- known values -----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["DE", "FR"])
def test_country_intensity_and_year_equal_the_csv_row(bundle: FactorBundle, code: str) -> None:
    row = row_where("grid_intensity_country.csv", alpha2=code)
    factor = bundle.grid_intensity(code)
    assert factor == Factor(
        kind="grid_intensity",
        key=code,
        value=float(row["g_co2e_per_kwh"]),
        unit="gCO2e/kWh",
        source="Our World in Data (Ember, Energy Institute) via carbontracker 2.4.7",
        year=int(row["year"]),
        licence="CC BY 4.0 (OWID/Ember data); MIT (carbontracker 2.4.7)",
    )


def test_country_values_are_the_carbontracker_values(bundle: FactorBundle) -> None:
    assert bundle.grid_intensity("DE").value == 344.13992
    assert bundle.grid_intensity("DE").year == 2024
    assert bundle.grid_intensity("FR").value == 44.179085
    assert bundle.grid_intensity("FR").year == 2024


@pytest.mark.parametrize("zone", ["DE", "de", "DEU", "deu", " Germany "])
def test_country_lookup_accepts_alpha2_alpha3_and_name(bundle: FactorBundle, zone: str) -> None:
    assert bundle.grid_intensity(zone).key == "DE"


def test_aws_region_is_converted_from_tonnes_exactly(bundle: FactorBundle) -> None:
    row = row_where("grid_intensity_cloud.csv", provider="aws", region="us-east-1")
    assert row["t_co2e_per_kwh"] == "0.000415755"
    assert row["g_co2e_per_kwh"] == "415.755"
    factor = bundle.grid_intensity("aws:us-east-1")
    assert factor.value == 415.755
    assert factor.key == "aws:us-east-1"
    assert factor.year == 2019  # eGRID2019, as CCF documents it
    assert "eGRID2019" in factor.source
    assert factor.licence == "Apache-2.0 (Cloud Carbon Footprint)"


def test_every_cloud_row_is_its_tonnes_value_times_a_million() -> None:
    from decimal import Decimal

    for row in rows("grid_intensity_cloud.csv"):
        assert Decimal(row["t_co2e_per_kwh"]) * 1_000_000 == Decimal(row["g_co2e_per_kwh"]), row


@pytest.mark.parametrize(
    ("zone", "key", "value"),
    [
        ("gcp:europe-west3", "gcp:europe-west3", 319.0),
        ("GCP:US-CENTRAL1", "gcp:us-central1", 479.0),
        ("azure:westeurope", "azure:westeurope", 390.0),
        ("azure:West Europe", "azure:westeurope", 390.0),
        ("azure:UK South", "azure:uksouth", 228.0),
        ("AWS:eu-west-1", "aws:eu-west-1", 316.0),
    ],
)
def test_cloud_region_lookups(bundle: FactorBundle, zone: str, key: str, value: float) -> None:
    factor = bundle.grid_intensity(zone)
    assert (factor.key, factor.value, factor.unit) == (key, value, "gCO2e/kWh")


def test_azure_rows_keep_the_display_name() -> None:
    row = row_where("grid_intensity_cloud.csv", provider="azure", region="westeurope")
    assert row["region_name"] == "West Europe"


def test_malformed_ccf_values_are_corrected_with_a_note(bundle: FactorBundle) -> None:
    row = row_where("grid_intensity_cloud.csv", provider="azure", region="finlandcentral")
    assert row["t_co2e_per_kwh"] == "0.000077"
    assert "malformed value '000077'" in row["note"]
    assert bundle.grid_intensity("azure:Finland Central").value == 77.0


def test_ccf_years_are_established_or_flagged(bundle: FactorBundle) -> None:
    for row in rows("grid_intensity_cloud.csv"):
        if row["year"] == "":  # no data year: none is made up (not even the snapshot's 2026)
            assert row["year_note"].startswith("data year unknown"), row
            assert "CCF snapshot" in row["year_note"]
            factor = bundle.grid_intensity(f"{row['provider']}:{row['region']}")
            assert factor.year is None
            assert "(data year unknown: " in factor.source  # the report's factor table says why
        else:
            assert row["year"] in {"2019", "2020"}, row
    epa = [r for r in rows("grid_intensity_cloud.csv") if r["underlying_source"] == "EPA"]
    assert epa
    assert {r["year"] for r in epa} == {"2019"}


@pytest.mark.parametrize(
    ("provider", "pue"), [("aws", 1.135), ("gcp", 1.1), ("azure", 1.185), ("AWS", 1.135)]
)
def test_pue_defaults(bundle: FactorBundle, provider: str, pue: float) -> None:
    factor = bundle.pue(provider)
    assert (factor.key, factor.value, factor.unit) == (provider.lower(), pue, "ratio")
    assert factor.licence == "Apache-2.0 (Cloud Carbon Footprint)"


def test_cpu_tdp_exact(bundle: FactorBundle) -> None:
    factor = bundle.cpu_tdp("AMD EPYC 7763")
    assert (factor.key, factor.value, factor.unit) == ("AMD EPYC 7763", 280.0, "W")
    assert factor.source.startswith("codecarbon 3.3.2")
    assert factor.licence == "MIT (codecarbon)"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", "Intel Xeon Gold 6248"),
        ("AMD EPYC 7763 64-Core Processor", "AMD EPYC 7763"),
        ("11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz", "Intel Core i7-1165G7"),
        ("Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", "Intel Xeon E5-2686 v4"),
        ("AMD Ryzen 7 5800H with Radeon Graphics", "AMD Ryzen 7 5800H"),
        ("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", "Intel Core i7-8700K"),
        ("AMD Ryzen 9 5950X 16-Core Processor", "AMD Ryzen 9 5950X"),
    ],
)
def test_cpu_names_normalise(raw: str, normalised: str) -> None:
    assert normalise_cpu_name(raw) == normalised


def test_proc_cpuinfo_name_resolves(bundle: FactorBundle) -> None:
    factor = bundle.cpu_tdp("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz")
    assert (factor.key, factor.value) == ("Intel Xeon Gold 6248", 150.0)
    assert bundle.cpu_tdp("intel xeon gold 6248").value == 150.0


def test_cpu_exact_name_wins_over_a_shared_key(bundle: FactorBundle) -> None:
    # "AMD Athlon 631 (65W)" and "AMD Athlon 631" normalise alike but have different TDPs.
    assert bundle.cpu_tdp("AMD Athlon 631 (65W)").value == 65.0
    assert bundle.cpu_tdp("AMD Athlon 631").value == 100.0


def test_cpu_source_duplicates_with_different_tdp_are_refused(bundle: FactorBundle) -> None:
    with pytest.raises(FactorError, match="ambiguous"):
        bundle.cpu_tdp("Intel Atom E625CT")


@pytest.mark.parametrize("name", ["Intel Celeron 1000A", "Intel Quark Microcontroller D1000"])
def test_unusable_source_tdp_is_an_error_not_a_value(bundle: FactorBundle, name: str) -> None:
    with pytest.raises(FactorError, match="no usable TDP") as raised:
        bundle.cpu_tdp(name)
    assert "[factors.cpu_tdp_w]" in raised.value.hint


@pytest.mark.parametrize(
    ("name", "key", "watts"),
    [
        ("NVIDIA A100-SXM4-40GB", "A100 SXM4", 400.0),
        ("NVIDIA A100-SXM4-80GB", "A100 SXM4", 400.0),
        ("NVIDIA A100-PCIE-40GB", "A100 PCIe 40GB", 250.0),
        ("NVIDIA A100 80GB PCIe", "A100 PCIe 80GB", 300.0),
        ("Tesla V100-SXM2-16GB", "V100 SXM2", 300.0),
        ("Tesla V100-SXM2-32GB", "V100 SXM2", 300.0),
        ("Tesla V100-PCIE-16GB", "V100 PCIe", 250.0),
        ("Tesla T4", "T4", 70.0),
        ("NVIDIA GeForce RTX 4090", "RTX 4090", 450.0),
        ("NVIDIA GeForce RTX 3090", "RTX 3090", 350.0),
        ("NVIDIA GeForce GTX 1080 Ti", "GTX 1080 Ti", 250.0),
        ("GeForce RTX 2080 Ti", "RTX 2080 Ti", 250.0),
        ("NVIDIA H100 80GB HBM3", "H100 SXM5", 700.0),
        ("NVIDIA H100 PCIe", "H100 PCIe", 350.0),
        ("NVIDIA H200", "H200 SXM", 700.0),
        ("NVIDIA A10", "A10", 150.0),
        ("NVIDIA A30", "A30", 165.0),
        ("NVIDIA A40", "A40", 300.0),
        ("NVIDIA L4", "L4", 72.0),
        ("NVIDIA L40", "L40", 300.0),
        ("NVIDIA L40S", "L40S", 350.0),
        ("NVIDIA RTX A4000", "RTX A4000", 140.0),
        ("NVIDIA RTX A5000", "RTX A5000", 230.0),
        ("NVIDIA RTX A6000", "RTX A6000", 300.0),
        ("NVIDIA RTX 6000 Ada Generation", "RTX 6000 Ada", 300.0),
    ],
)
def test_nvidia_smi_names_resolve(bundle: FactorBundle, name: str, key: str, watts: float) -> None:
    factor = bundle.gpu_tdp(name)
    assert (factor.key, factor.value, factor.unit) == (key, watts, "W")
    assert factor.licence == "manufacturer specification (facts)"
    assert factor.year is not None


def test_every_gpu_key_and_pattern_resolves_to_its_own_row(bundle: FactorBundle) -> None:
    for row in rows("gpu_tdp.csv"):
        assert bundle.gpu_tdp(row["key"]).key == row["key"]
        for pattern in row["match"].split("|"):
            assert bundle.gpu_tdp(pattern).key == row["key"], pattern


@pytest.mark.parametrize(
    "name",
    [
        "NVIDIA H100",  # PCIe or SXM5: do not guess
        "NVIDIA A100 PCIe",  # 40 GB (250 W) or 80 GB (300 W)
        "NVIDIA H100 NVL",  # a different board
        "NVIDIA H200 NVL",
        "NVIDIA GeForce RTX 3090 Ti",
        "Quadro RTX 6000",  # Turing, not the Ada board
        "NVIDIA A10G",
        "NVIDIA GeForce RTX 4060 Laptop GPU",  # OEM-configurable 35-115 W: not in the bundle
    ],
)
def test_gpu_names_that_do_not_name_one_board_are_errors(bundle: FactorBundle, name: str) -> None:
    with pytest.raises(FactorError) as raised:
        bundle.gpu_tdp(name)
    assert name in str(raised.value)
    assert "[factors.gpu_tdp_w]" in raised.value.hint


def test_gpu_names_normalise() -> None:
    assert normalise_gpu_name("NVIDIA A100-SXM4-40GB") == "A100 SXM4 40GB"
    assert normalise_gpu_name("Tesla V100-SXM2-16GB") == "V100 SXM2 16GB"
    assert normalise_gpu_name("NVIDIA GeForce RTX 4090") == "RTX 4090"


@pytest.mark.parametrize(
    ("device_class", "kg", "years"),
    [("server", 1000.0, 4.0), ("gpu", 150.0, 4.0), ("laptop", 209.0, 4.0), ("Laptop", 209.0, 4.0)],
)
def test_embodied_and_lifespan_defaults(
    bundle: FactorBundle, device_class: str, kg: float, years: float
) -> None:
    embodied = bundle.embodied(device_class)
    lifespan = bundle.lifespan(device_class)
    assert (embodied.value, embodied.unit, embodied.key) == (kg, "kgCO2e", device_class.lower())
    assert (lifespan.value, lifespan.unit) == (years, "years")
    assert embodied.year == 2021
    assert lifespan.year == 2021


def test_teads_load_curve(bundle: FactorBundle) -> None:
    points, factor = bundle.load_curve()
    assert points == ((0.0, 0.12), (0.1, 0.32), (0.5, 0.75), (1.0, 1.02))
    assert (factor.kind, factor.key, factor.value, factor.year) == ("load_curve", "teads-2021", 1.0, 2021)
    assert "Teads" in factor.source
    assert bundle.load_curve("TEADS-2021")[0] == points
    with pytest.raises(FactorError, match="no load curve"):
        bundle.load_curve("spec-2008")


# --- overrides --------------------------------------------------------------------------------------


def test_overrides_win_and_carry_their_source(bundle: FactorBundle) -> None:
    overridden = bundle.with_overrides(
        {
            "grid_intensity": {"deu": FactorOverride(300.0, "utility invoice 2025", 2025)},
            "cpu_tdp": {"My CPU": FactorOverride(65, "sci.toml [factors.cpu_tdp_w] My CPU")},
            "gpu_tdp_w": {"NVIDIA GeForce RTX 4060 Laptop GPU": FactorOverride(80, "laptop spec sheet")},
            "pue": {"onprem": FactorOverride(1.6, "facility report")},
            "embodied": {"laptop": FactorOverride(350, "vendor PCF")},
            "lifespan": {"server": FactorOverride(6, "our refresh policy")},
        }
    )
    de = overridden.grid_intensity("DE")
    assert de == Factor(
        kind="grid_intensity",
        key="DE",
        value=300.0,
        unit="gCO2e/kWh",
        source="utility invoice 2025",
        year=2025,
        licence="user-supplied (sci.toml)",
    )
    my_cpu = overridden.cpu_tdp("My CPU")
    assert (my_cpu.value, my_cpu.source, my_cpu.year, my_cpu.unit) == (
        65.0,
        "sci.toml [factors.cpu_tdp_w] My CPU",
        None,
        "W",
    )
    assert overridden.gpu_tdp("NVIDIA GeForce RTX 4060 Laptop GPU").value == 80.0
    assert overridden.pue("onprem").value == 1.6
    assert overridden.embodied("Laptop").source == "vendor PCF"
    assert overridden.lifespan("server").value == 6.0
    # untouched keys still come from the bundle, and the original bundle is unchanged
    assert overridden.grid_intensity("FR").value == bundle.grid_intensity("FR").value
    assert bundle.grid_intensity("DE").value == 344.13992
    assert overridden.version == bundle.version


def test_override_can_replace_a_bundled_cpu_by_its_raw_name(bundle: FactorBundle) -> None:
    raw = "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"
    overridden = bundle.with_overrides({"cpu_tdp": {"Intel Xeon Gold 6248": FactorOverride(140, "ark")}})
    assert overridden.cpu_tdp(raw).value == 140.0


@pytest.mark.parametrize(
    ("kind", "key", "value"),
    [
        ("pue", "aws", 0.9),
        ("cpu_tdp", "X", 0),
        ("gpu_tdp", "X", -5),
        ("grid_intensity", "DE", math.nan),
        ("lifespan", "server", math.inf),
        ("grid_intensity", "", 100),
    ],
)
def test_bad_overrides_are_rejected(bundle: FactorBundle, kind: str, key: str, value: float) -> None:
    with pytest.raises(FactorError):
        bundle.with_overrides({kind: {key: FactorOverride(value, "test")}})


def test_unknown_override_kind_is_rejected(bundle: FactorBundle) -> None:
    with pytest.raises(FactorError, match="cannot override"):
        bundle.with_overrides({"load_curve": {"teads-2021": FactorOverride(1, "x")}})


def test_override_tables_map_to_kinds_and_units() -> None:
    assert OVERRIDE_TABLES["grid_intensity_g_per_kwh"] == ("grid_intensity", "gCO2e/kWh")
    assert OVERRIDE_TABLES["pue"] == ("pue", "ratio")
    assert OVERRIDE_TABLES["cpu_tdp_w"] == ("cpu_tdp", "W")
    assert OVERRIDE_TABLES["gpu_tdp_w"] == ("gpu_tdp", "W")
    assert OVERRIDE_TABLES["embodied_kgco2e"] == ("embodied", "kgCO2e")
    assert OVERRIDE_TABLES["lifespan_years"] == ("lifespan", "years")


# --- misses -----------------------------------------------------------------------------------------


def test_unknown_zone_suggests_close_matches_and_the_override(bundle: FactorBundle) -> None:
    with pytest.raises(FactorError, match="'eu-west-1'") as raised:
        bundle.grid_intensity("eu-west-1")
    assert "'aws:eu-west-1'" in raised.value.hint
    assert '[factors.grid_intensity_g_per_kwh] "eu-west-1"' in raised.value.hint


def test_unknown_cpu_suggests_close_matches(bundle: FactorBundle) -> None:
    with pytest.raises(FactorError, match="AMD EPYC 7764") as raised:
        bundle.cpu_tdp("AMD EPYC 7764")
    assert "'AMD EPYC 7763'" in raised.value.hint
    assert '[factors.cpu_tdp_w] "AMD EPYC 7764" = <W>' in raised.value.hint


@pytest.mark.parametrize(
    ("method", "key", "table"),
    [
        ("pue", "onprem", "pue"),
        ("embodied", "phone", "embodied_kgco2e"),
        ("lifespan", "phone", "lifespan_years"),
        ("gpu_tdp", "Radeon RX 7900 XTX", "gpu_tdp_w"),
    ],
)
def test_every_miss_names_the_key_and_the_override(
    bundle: FactorBundle, method: str, key: str, table: str
) -> None:
    with pytest.raises(FactorError) as raised:
        getattr(bundle, method)(key)
    assert key in str(raised.value)
    assert f"[factors.{table}]" in raised.value.hint


def test_empty_keys_are_errors(bundle: FactorBundle) -> None:
    for lookup in (bundle.grid_intensity, bundle.pue, bundle.cpu_tdp, bundle.gpu_tdp, bundle.embodied):
        with pytest.raises(FactorError):
            lookup("  ")


# --- provenance ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CSV_FILES)
def test_every_row_has_source_licence_and_a_year_or_a_note(name: str) -> None:
    table = rows(name)
    assert table, name
    for row in table:
        assert row["source"].strip(), (name, row)
        assert row["licence"].strip(), (name, row)
        if row["year"]:
            assert row["year"].isdigit(), (name, row)
            assert 1990 <= int(row["year"]) <= 2100, (name, row)
        else:
            assert row["year_note"].strip(), (name, row)


def test_bundle_toml_lists_every_table(bundle: FactorBundle) -> None:
    meta = tomllib.loads((DATA / "BUNDLE.toml").read_text(encoding="utf-8"))
    assert meta["bundle"]["version"] == bundle.version
    assert meta["bundle"]["build_date"]
    datasets = bundle.datasets()
    assert sorted(d["file"] for d in datasets) == CSV_FILES
    for dataset in datasets:
        for field in ("name", "source", "licence", "years", "attribution", "url", "path"):
            assert dataset[field].strip(), (dataset["name"], field)
        assert int(dataset["rows"]) == len(rows(dataset["file"]))


def test_loader_does_not_import_dataframe_libraries() -> None:
    code = (
        "import sys, sci.factors as f; b = f.load_bundle(); b.cpu_tdp('AMD EPYC 7763'); "
        "b.grid_intensity('DE'); "
        "print(sorted(m for m in ('polars', 'pandas', 'pyarrow') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.skipif(
    not SHARED.is_dir(),
    reason=f"regeneration needs the shared snapshots at {SHARED}, which are not present here",
)
def test_committed_bundle_equals_a_fresh_build(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BUILD), str(SHARED), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    built = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in DATA.iterdir() if p.is_file())
    assert built == committed
    for name in built:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), (
            f"{name} differs from a fresh build: run {BUILD.relative_to(REPO)} and commit the result"
        )


# --- property: lookups never fail with anything but FactorError -------------------------------------

LOOKUPS = ("grid_intensity", "pue", "cpu_tdp", "gpu_tdp", "embodied", "lifespan", "load_curve")


@pytest.mark.parametrize("method", LOOKUPS)
@settings(max_examples=60, deadline=None)
@given(key=st.text(max_size=40))
def test_arbitrary_keys_give_a_factor_or_factor_error(method: str, key: str) -> None:
    bundle = load_bundle().with_overrides({"cpu_tdp": {"My CPU": FactorOverride(65, "test")}})
    try:
        result = getattr(bundle, method)(key)
    except FactorError:
        return
    factor = result[1] if method == "load_curve" else result
    assert isinstance(factor, Factor)
    assert math.isfinite(factor.value)


@settings(max_examples=60, deadline=None)
@given(key=st.text(max_size=30), value=st.floats(allow_nan=True, allow_infinity=True))
def test_arbitrary_overrides_give_a_bundle_or_factor_error(key: str, value: float) -> None:
    for kind in ("grid_intensity", "pue", "cpu_tdp", "gpu_tdp", "embodied", "lifespan"):
        try:
            overridden = load_bundle().with_overrides({kind: {key: FactorOverride(value, "test")}})
        except FactorError:
            continue
        assert isinstance(overridden, FactorBundle)
