"""The SCI engine against the published examples, and its properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sci import engine
from sci.units import HOURS_PER_MONTH, HOURS_PER_YEAR

finite = st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)
TEADS = ((0.0, 0.12), (0.1, 0.32), (0.5, 0.75), (1.0, 1.02))


def test_spec_embodied_example() -> None:
    # SCI spec, embodied emissions: 1000 kgCO2e server, 4-year life, 1 hour reserved, whole server.
    m_g = engine.embodied_g(
        total_embodied_g=1_000_000.0,
        time_reserved_h=1.0,
        expected_lifespan_h=4 * HOURS_PER_YEAR,
        resources_reserved=1,
        resources_total=1,
    )
    assert m_g == 28.538812785388128


def test_sci_guide_quick_guide_example() -> None:
    # GSF SCI Guide quick guide: E*I = 1329 g; TE 1230.3 kg, EL 4 years, TiR 1 month, RR/ToR = 4/32,
    # R = 20000 requests -> 0.2266453125 g per request.
    m_g = engine.embodied_g(
        total_embodied_g=1_230_300.0,
        time_reserved_h=HOURS_PER_MONTH,
        expected_lifespan_h=4 * HOURS_PER_YEAR,
        resources_reserved=4,
        resources_total=32,
    )
    assert m_g == pytest.approx(3203.90625, rel=1e-15)
    period = engine.period_carbon(
        period="guide",
        it_energy_kwh=1329.0 / 443.0,  # any E, I with E*I = 1329 g
        pue=1.0,
        intensity_g_per_kwh=443.0,
        provider_carbon_g=0.0,
        embodied_g=m_g,
        functional_units=20_000,
    )
    assert period.sci == pytest.approx(0.2266453125, rel=1e-12)


@pytest.mark.parametrize("units", [None, 0.0, -3.0])
def test_sci_is_undefined_without_a_positive_r(units: float | None) -> None:
    assert engine.sci_per_unit(carbon_g=1234.0, functional_units=units) is None


def test_pue_applies_once_and_tool_pue_is_divided_out() -> None:
    tool_kwh = 1.58  # CarbonTracker multiplies by its PUE 1.58
    device_kwh = engine.it_energy_kwh(facility_energy_kwh=tool_kwh, pue_applied=1.58)
    assert device_kwh == pytest.approx(1.0)
    assert engine.facility_energy_kwh(it_energy_kwh=device_kwh, pue=1.2) == pytest.approx(1.2)
    with pytest.raises(ValueError, match="PUE"):
        engine.facility_energy_kwh(it_energy_kwh=1.0, pue=0.9)


def test_period_sci_is_a_ratio_of_sums_not_a_mean_of_ratios() -> None:
    periods = [(100.0, 1.0), (900.0, 9.0), (50.0, None)]
    # sum(E*I+M)/sum(R) over periods with R = 1000 / 10 = 100; a mean of ratios would also be 100 here,
    # so add a period where they differ:
    periods.append((10.0, 90.0))
    assert engine.sci_over_periods(periods) == pytest.approx(1010.0 / 100.0)
    mean_of_ratios = (100 / 1 + 900 / 9 + 10 / 90) / 3
    assert engine.sci_over_periods(periods) != pytest.approx(mean_of_ratios)
    assert engine.sci_over_periods([(5.0, None)]) is None


def test_teads_curve_points_and_interpolation() -> None:
    assert engine.load_curve_ratio(utilisation=0.0, curve=TEADS) == 0.12
    assert engine.load_curve_ratio(utilisation=0.5, curve=TEADS) == 0.75
    assert engine.load_curve_ratio(utilisation=1.0, curve=TEADS) == 1.02
    assert engine.load_curve_ratio(utilisation=0.3, curve=TEADS) == pytest.approx(0.32 + (0.75 - 0.32) * 0.5)
    assert engine.load_curve_ratio(utilisation=1.7, curve=TEADS) == 1.02  # clamped


def test_proxy_energy_of_a_ci_job() -> None:
    # 10 minutes on 4 of 128 threads of a 280 W EPYC 7763 at 50 % utilisation:
    # 280 W x 0.75 x 4/128 = 6.5625 W; x 600 s = 3937.5 J = 0.00109375 kWh
    kwh = engine.proxy_energy_kwh(
        runtime_s=600, utilisation=0.5, tdp_w=280, resource_share=4 / 128, curve=TEADS
    )
    assert kwh == pytest.approx(3937.5 / 3_600_000)


@given(carbon=finite, units=positive, k=st.floats(min_value=0.01, max_value=100))
def test_sci_scales_as_one_over_r(carbon: float, units: float, k: float) -> None:
    base = engine.sci_per_unit(carbon_g=carbon, functional_units=units)
    scaled = engine.sci_per_unit(carbon_g=carbon, functional_units=units * k)
    assert base is not None
    assert scaled is not None
    assert scaled == pytest.approx(base / k, rel=1e-9, abs=1e-300)


@given(value=finite)
def test_annualising_a_full_year_is_the_identity(value: float) -> None:
    assert engine.annualise(value=value, covered_days=365) == pytest.approx(value)


@given(value=finite, days=st.floats(min_value=0.5, max_value=365))
def test_annualising_scales_linearly(value: float, days: float) -> None:
    assert engine.annualise(value=value, covered_days=days) == pytest.approx(value * 365 / days)


@given(
    total=finite,
    hours_a=st.floats(min_value=0, max_value=1e5),
    hours_b=st.floats(min_value=0, max_value=1e5),
    life=st.floats(min_value=1, max_value=1e6),
)
def test_embodied_is_additive_over_time(total: float, hours_a: float, hours_b: float, life: float) -> None:
    def m(hours: float) -> float:
        return engine.embodied_g(total_embodied_g=total, time_reserved_h=hours, expected_lifespan_h=life)

    assert m(hours_a + hours_b) == pytest.approx(m(hours_a) + m(hours_b), rel=1e-9, abs=1e-6)


@given(u=st.floats(min_value=0, max_value=1))
def test_load_curve_is_monotonic_and_bounded(u: float) -> None:
    ratio = engine.load_curve_ratio(utilisation=u, curve=TEADS)
    assert 0.12 <= ratio <= 1.02
    assert engine.load_curve_ratio(utilisation=min(1.0, u + 0.01), curve=TEADS) >= ratio


@given(
    it_kwh=finite,
    pue=st.floats(min_value=1.0, max_value=3.0),
    intensity=st.floats(min_value=0, max_value=2000),
    m=finite,
)
def test_period_carbon_keeps_its_working(it_kwh: float, pue: float, intensity: float, m: float) -> None:
    period = engine.period_carbon(
        period="p",
        it_energy_kwh=it_kwh,
        pue=pue,
        intensity_g_per_kwh=intensity,
        provider_carbon_g=0.0,
        embodied_g=m,
        functional_units=None,
    )
    assert period.energy_kwh == pytest.approx(it_kwh * pue)
    assert period.carbon_g == pytest.approx(it_kwh * pue * intensity + m)
    assert period.sci is None
    assert math.isfinite(period.carbon_g)
