"""A measured run's E, carbon and SCI, through the engine."""

from __future__ import annotations

from dataclasses import dataclass

from sci import engine
from sci.factors import Factor, load_bundle
from sci.units import J_PER_KWH


@dataclass(frozen=True, slots=True)
class Factors:
    """What turns a run's device energy into carbon: PUE (applied once) and the grid intensity."""

    pue: float = 1.0
    pue_source: str = "assumed 1.0 (no PUE given)"
    intensity: Factor | None = None  # None: no location known, carbon is unknown

    @property
    def intensity_g_per_kwh(self) -> float | None:
        return None if self.intensity is None else self.intensity.value


def zone_factors(zone: str | None, *, pue: float = 1.0, pue_source: str = "") -> Factors:
    """Factors for a country or cloud region from the bundle (a miss is a ``FactorError``)."""
    intensity = load_bundle().grid_intensity(zone) if zone else None
    return Factors(pue=pue, pue_source=pue_source or f"{pue:g} given", intensity=intensity)


@dataclass(frozen=True, slots=True)
class Footprint:
    it_energy_kwh: float  # device energy, before PUE
    pue: float
    energy_kwh: float  # E
    intensity_g_per_kwh: float | None
    carbon_g: float | None  # E x I (operational; embodied M is not part of a single run's figure)
    functional_units: float | None
    sci_g_per_unit: float | None


def footprint(*, energy_j: float, factors: Factors, functional_units: float | None) -> Footprint:
    it_kwh = energy_j / J_PER_KWH
    energy_kwh = engine.facility_energy_kwh(it_energy_kwh=it_kwh, pue=factors.pue)
    intensity = factors.intensity_g_per_kwh
    carbon = None
    if intensity is not None:
        carbon = engine.operational_g(energy_kwh=energy_kwh, intensity_g_per_kwh=intensity)
    sci = None
    if carbon is not None:
        sci = engine.sci_per_unit(carbon_g=carbon, functional_units=functional_units)
    return Footprint(it_kwh, factors.pue, energy_kwh, intensity, carbon, functional_units, sci)
