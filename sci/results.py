"""What ``compute`` produces and ``report`` reads: results that keep their inputs (the working).

Results are plain frozen dataclasses that round-trip through JSON, so a computation can be stored and
rendered later, and golden-tested.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sci.engine import PeriodCarbon


@dataclass(frozen=True, slots=True)
class FactorUse:
    """A factor as applied: its value, where it came from, and what it was applied to."""

    kind: str  # grid_intensity | pue | cpu_tdp | gpu_tdp | embodied | lifespan | load_curve
    key: str  # "DE", "aws:eu-west-1", "AMD EPYC 7763", "laptop", "teads-2021"
    value: float
    unit: str  # gCO2e/kWh, ratio, W, kgCO2e, years
    source: str
    year: int | None
    licence: str
    applied_to: str  # platform name
    detail: str = ""  # what a single value cannot say, e.g. a load curve's points


@dataclass(frozen=True, slots=True)
class EmbodiedLine:
    """One line of the embodied inventory, with its M over the window."""

    platform: str
    device_class: str
    count: int
    total_embodied_kg: float  # TE per device
    lifespan_years: float  # EL
    share: float  # RR / ToR
    time_reserved_h: float  # TiR (the window)
    embodied_g: float  # M for all ``count`` devices


@dataclass(frozen=True, slots=True)
class PlatformResult:
    platform: str
    unit: str | None  # the functional unit's name, e.g. "pipeline runs"
    periods: tuple[PeriodCarbon, ...]
    it_energy_by_tier_kwh: dict[str, float]  # device energy (before PUE) by method tier
    it_energy_kwh: float
    pue: float
    energy_kwh: float  # E, including PUE once
    intensity_g_per_kwh: float  # I, location-based
    operational_g: float
    provider_carbon_g: float
    embodied_g: float  # M
    carbon_g: float
    functional_units: float | None  # sum of R over the periods where it was declared
    sci_g_per_unit: float | None  # sum(E*I+M) / sum(R); None = undefined
    annual_carbon_g: float
    devices: int
    observed_device_hours: float
    embodied_lines: tuple[EmbodiedLine, ...] = ()
    periods_without_r: tuple[str, ...] = ()
    provider_market_carbon_g: float = 0.0  # market-based provider figure: beside SCI, never in it
    tool_reported_carbon_g: float = 0.0  # tools' own carbon estimates (CodeCarbon...), for comparison
    # Uncertainty (sci.uncertainty): value +/- quadrature sum of independent relative errors; None in
    # results stored before it was computed. *_linear_*: fully correlated errors (the worst case).
    carbon_low_g: float | None = None
    carbon_high_g: float | None = None
    carbon_linear_low_g: float | None = None
    carbon_linear_high_g: float | None = None
    sci_low_g_per_unit: float | None = None
    sci_high_g_per_unit: float | None = None
    annual_low_g: float | None = None
    annual_high_g: float | None = None
    operational_by_tier_g: dict[str, float] = field(default_factory=dict)  # E_tier x I, summed over months


@dataclass(frozen=True, slots=True)
class DeviceCarbon:
    """One device's energy and operational carbon over the window (E x I of its records), with its files."""

    platform: str
    device: str
    components: tuple[str, ...]
    tiers: tuple[str, ...]
    it_energy_kwh: float
    energy_kwh: float  # with the platform's PUE
    carbon_g: float  # E x I + provider-reported carbon of its records (M is per inventory line, not here)
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IdleEnergy:
    """Measured GPU energy drawn below an utilisation threshold, per device."""

    platform: str
    device: str
    threshold: float  # utilisation share, e.g. 0.05
    idle_it_energy_kwh: float
    idle_hours: float
    total_it_energy_kwh: float  # the device's measured GPU energy with a known utilisation
    idle_carbon_g: float  # idle energy x PUE x I


END_USER_DEVICE_CLASSES = frozenset({"laptop", "desktop"})
"""Embodied device classes of people's own machines: a platform of only these has no region to move to."""


@dataclass(frozen=True, slots=True)
class ZoneAlternative:
    """What a platform's energy would emit in the lowest-intensity cloud region of the bundled Cloud Carbon
    Footprint table: the same provider's regions for a cloud platform (same E); for an on-premises
    platform, any provider's regions, with its IT energy at that provider's PUE (``best_energy_kwh``)."""

    platform: str
    zone: str  # the platform's zone
    intensity_g_per_kwh: float
    best_zone: str
    best_name: str
    best_intensity_g_per_kwh: float
    best_source: str
    best_year: int | None
    energy_kwh: float  # E (with PUE) whose carbon depends on the zone
    operational_g: float  # E x I here
    best_operational_g: float  # E x I there
    compared_with: str  # "azure regions in the bundled ..." / "cloud regions (aws, azure, gcp) in ..."
    best_energy_kwh: float | None = None  # E there when it differs (on-premises: IT energy x provider PUE)
    best_pue: float | None = None  # the provider PUE that E there includes (on-premises only)


@dataclass(frozen=True, slots=True)
class QualityRow:
    """Data-quality findings of one kind in one file, with where they are."""

    file: str
    collector: str
    kind: str
    action: str
    rows: int
    occurrences: int
    line_ranges: str  # "12-40, 77, 90-91 (+3 more)"
    seconds: float | None
    detail: str


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str
    sha256: str
    collector: str
    collector_version: str
    platform: str
    rows: int
    ingested_at: datetime


@dataclass(frozen=True, slots=True)
class ComputeResult:
    title: str
    computed_at: datetime
    window_start: datetime
    window_end: datetime  # exclusive
    window_days: float
    platforms: tuple[PlatformResult, ...]
    factors: tuple[FactorUse, ...]
    quality: tuple[QualityRow, ...]
    files: tuple[SourceFile, ...]
    factor_bundle_version: str
    tool_version: str
    notes: tuple[str, ...] = field(default=())
    window_timezone: str = "UTC"  # the zone whose calendar defines the window and its months
    uncertainty: dict[str, float] = field(default_factory=dict)  # relative, by tier / embodied / grid
    total_carbon_low_g: float | None = None
    total_carbon_high_g: float | None = None
    annual_total_low_g: float | None = None
    annual_total_high_g: float | None = None
    top_devices: tuple[DeviceCarbon, ...] = ()
    idle_gpus: tuple[IdleEnergy, ...] = ()
    zone_alternatives: tuple[ZoneAlternative, ...] = ()
    hourly_intensity: bool = False  # whether hourly grid data was available (the bundle has none)

    @property
    def total_carbon_g(self) -> float:
        return sum(p.carbon_g for p in self.platforms)

    @property
    def annual_total_carbon_g(self) -> float:
        return sum(p.annual_carbon_g for p in self.platforms)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), default=_encode, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ComputeResult:
        return _decode_result(json.loads(text))


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def _decode_result(raw: dict[str, Any]) -> ComputeResult:
    platforms = tuple(
        PlatformResult(
            **{
                **p,
                "periods": tuple(PeriodCarbon(**x) for x in p["periods"]),
                "embodied_lines": tuple(EmbodiedLine(**x) for x in p["embodied_lines"]),
                "periods_without_r": tuple(p["periods_without_r"]),
            }
        )
        for p in raw["platforms"]
    )
    return ComputeResult(
        **{
            **raw,
            "computed_at": datetime.fromisoformat(raw["computed_at"]),
            "window_start": datetime.fromisoformat(raw["window_start"]),
            "window_end": datetime.fromisoformat(raw["window_end"]),
            "platforms": platforms,
            "factors": tuple(FactorUse(**f) for f in raw["factors"]),
            "quality": tuple(QualityRow(**q) for q in raw["quality"]),
            "files": tuple(_decode_file(f) for f in raw["files"]),
            "notes": tuple(raw["notes"]),
            "top_devices": tuple(_decode_device(d) for d in raw.get("top_devices", ())),
            "idle_gpus": tuple(IdleEnergy(**x) for x in raw.get("idle_gpus", ())),
            "zone_alternatives": tuple(ZoneAlternative(**x) for x in raw.get("zone_alternatives", ())),
        }
    )


def _decode_device(raw: dict[str, Any]) -> DeviceCarbon:
    return DeviceCarbon(
        **{
            **raw,
            "components": tuple(raw["components"]),
            "tiers": tuple(raw["tiers"]),
            "files": tuple(raw["files"]),
        }
    )


def _decode_file(raw: dict[str, Any]) -> SourceFile:
    return SourceFile(**{**raw, "ingested_at": datetime.fromisoformat(raw["ingested_at"])})
