"""The SCI engine: small pure functions, keyword-only, with units in every name.

SCI = (E * I + M) per R  (GSF Software Carbon Intensity, ISO/IEC 21031:2024)

- E: energy in kWh, including the data centre's PUE exactly once;
- I: location-based grid intensity in gCO2e/kWh;
- M: embodied emissions, M = TE * (TiR / EL) * (RR / ToR);
- R: the functional unit. R <= 0 gives an undefined score (``None``), never the raw carbon.

A period's SCI is sum(E * I + M) / sum(R) over its intervals, never a mean of per-interval scores.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sci.units import DAYS_PER_YEAR, J_PER_KWH

LoadCurve = Sequence[tuple[float, float]]
"""(utilisation 0..1, share of TDP drawn) points, utilisation ascending."""


def facility_energy_kwh(*, it_energy_kwh: float, pue: float) -> float:
    """E: device (IT) energy scaled by the facility's PUE. Apply once, to device energy only."""
    if pue < 1.0:
        raise ValueError(f"PUE must be >= 1.0, got {pue}")
    return it_energy_kwh * pue


def it_energy_kwh(*, facility_energy_kwh: float, pue_applied: float) -> float:
    """Undo a PUE that a tool already applied (CodeCarbon, CarbonTracker), so ours applies once."""
    if pue_applied <= 0:
        raise ValueError(f"applied PUE must be > 0, got {pue_applied}")
    return facility_energy_kwh / pue_applied


def operational_g(*, energy_kwh: float, intensity_g_per_kwh: float) -> float:
    """O = E * I."""
    return energy_kwh * intensity_g_per_kwh


def embodied_g(
    *,
    total_embodied_g: float,
    time_reserved_h: float,
    expected_lifespan_h: float,
    resources_reserved: float = 1.0,
    resources_total: float = 1.0,
) -> float:
    """M = TE * (TiR / EL) * (RR / ToR)."""
    if expected_lifespan_h <= 0:
        raise ValueError(f"expected lifespan must be > 0 h, got {expected_lifespan_h}")
    if resources_total <= 0:
        raise ValueError(f"total resources must be > 0, got {resources_total}")
    time_share = time_reserved_h / expected_lifespan_h
    resource_share = resources_reserved / resources_total
    return total_embodied_g * time_share * resource_share


def sci_per_unit(*, carbon_g: float, functional_units: float | None) -> float | None:
    """SCI for one period: carbon per functional unit; ``None`` (undefined) when R is absent or <= 0."""
    if functional_units is None or functional_units <= 0:
        return None
    return carbon_g / functional_units


def sci_over_periods(periods: Iterable[tuple[float, float | None]]) -> float | None:
    """SCI over several periods: sum(E*I+M) / sum(R), over the periods whose R is known.

    Each item is ``(carbon_g, functional_units)``; periods without R are left out of both sums.
    """
    carbon_g = 0.0
    units = 0.0
    for period_carbon_g, period_units in periods:
        if period_units is None:
            continue
        carbon_g += period_carbon_g
        units += period_units
    return sci_per_unit(carbon_g=carbon_g, functional_units=units) if units else None


def annualise(*, value: float, covered_days: float) -> float:
    """Scale a total observed over ``covered_days`` to a 365-day year (linear extrapolation)."""
    if covered_days <= 0:
        raise ValueError(f"covered days must be > 0, got {covered_days}")
    return value * DAYS_PER_YEAR / covered_days


def load_curve_ratio(*, utilisation: float, curve: LoadCurve) -> float:
    """Share of TDP drawn at ``utilisation`` (0..1), interpolated linearly between curve points.

    Utilisation outside the curve is clamped to its ends.
    """
    xs = [point[0] for point in curve]
    ys = [point[1] for point in curve]
    u = min(max(utilisation, xs[0]), xs[-1])
    i = bisect.bisect_right(xs, u)
    if i >= len(xs):
        return ys[-1]
    if i == 0:
        return ys[0]
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return y0 + (y1 - y0) * (u - x0) / (x1 - x0)


def proxy_power_w(*, utilisation: float, tdp_w: float, resource_share: float, curve: LoadCurve) -> float:
    """Proxy power: TDP x load curve(utilisation) x the share of the chip reserved (vCPUs / threads)."""
    return tdp_w * load_curve_ratio(utilisation=utilisation, curve=curve) * resource_share


def proxy_energy_kwh(
    *, runtime_s: float, utilisation: float, tdp_w: float, resource_share: float, curve: LoadCurve
) -> float:
    """Proxy energy: runtime x proxy power."""
    power_w = proxy_power_w(utilisation=utilisation, tdp_w=tdp_w, resource_share=resource_share, curve=curve)
    return power_w * runtime_s / J_PER_KWH


@dataclass(frozen=True, slots=True)
class PeriodCarbon:
    """One platform's working for one period (a calendar month): the inputs are kept with the result."""

    period: str
    it_energy_kwh: float
    pue: float
    energy_kwh: float  # E, including PUE once
    intensity_g_per_kwh: float
    operational_g: float  # E * I
    provider_carbon_g: float  # provider-reported operational carbon, already location-based
    embodied_g: float  # M
    functional_units: float | None  # R (None: not declared for this period)

    @property
    def carbon_g(self) -> float:
        return self.operational_g + self.provider_carbon_g + self.embodied_g

    @property
    def sci(self) -> float | None:
        return sci_per_unit(carbon_g=self.carbon_g, functional_units=self.functional_units)


def period_carbon(
    *,
    period: str,
    it_energy_kwh: float,
    pue: float,
    intensity_g_per_kwh: float,
    provider_carbon_g: float,
    embodied_g: float,
    functional_units: float | None,
) -> PeriodCarbon:
    """Combine one period's inputs: E = IT energy x PUE; carbon = E x I + provider carbon + M."""
    energy = facility_energy_kwh(it_energy_kwh=it_energy_kwh, pue=pue)
    return PeriodCarbon(
        period=period,
        it_energy_kwh=it_energy_kwh,
        pue=pue,
        energy_kwh=energy,
        intensity_g_per_kwh=intensity_g_per_kwh,
        operational_g=operational_g(energy_kwh=energy, intensity_g_per_kwh=intensity_g_per_kwh),
        provider_carbon_g=provider_carbon_g,
        embodied_g=embodied_g,
        functional_units=functional_units,
    )
