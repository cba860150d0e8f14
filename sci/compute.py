"""Compute: aggregate the store in SQL, apply factors, and run the engine per platform and month.

SQL sums; the engine (pure functions in ``sci.engine``) holds every formula with meaning.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sci import __version__, engine, precedence, uncertainty
from sci.config import Config, EmbodiedConfig, Given, PlatformConfig, month_bounds
from sci.errors import ConfigError, FactorError, SciError
from sci.factors import Factor, FactorBundle
from sci.model import Action, IssueKind, Tier
from sci.results import (
    END_USER_DEVICE_CLASSES,
    ComputeResult,
    DeviceCarbon,
    EmbodiedLine,
    FactorUse,
    IdleEnergy,
    PlatformResult,
    QualityRow,
    SourceFile,
    ZoneAlternative,
)
from sci.store import Store, aware_utc, naive_utc
from sci.units import DAYS_PER_YEAR, G_PER_KG, HOURS_PER_YEAR, S_PER_DAY, S_PER_HOUR

MAX_LINE_RANGES = 8
TOP_DEVICES = 10  # devices listed in the result, by carbon
IDLE_UTILISATION = 0.05  # a GPU below this utilisation share is idle
DEFAULT_PUE_SOURCE = "sci-report default: no data-centre overhead (PUE 1.0) where none is configured"


@dataclass
class _Ledger:
    """The factors applied, once per distinct factor and platform, in the order first used."""

    uses: dict[tuple[str, str, str, str, float], FactorUse] = field(default_factory=dict)

    def add(self, factor: Factor, platform: str, detail: str = "") -> float:
        key = (factor.kind, factor.key, platform, factor.source, factor.value)
        self.uses.setdefault(
            key,
            FactorUse(
                kind=factor.kind,
                key=factor.key,
                value=factor.value,
                unit=factor.unit,
                source=factor.source,
                year=factor.year,
                licence=factor.licence,
                applied_to=platform,
                detail=detail,
            ),
        )
        return factor.value


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime  # UTC
    end: datetime  # UTC, exclusive
    zone: ZoneInfo  # whose calendar defines the months
    inferred: bool

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / S_PER_DAY

    def months(self) -> list[tuple[str, float]]:
        """``(YYYY-MM, hours of the window in that month)`` for each month the window touches."""
        found: list[tuple[str, float]] = []
        local = self.start.astimezone(self.zone)
        period = f"{local.year:04d}-{local.month:02d}"
        while True:
            month_start, month_end = month_bounds(period, self.zone)
            if month_start >= self.end:
                return found
            overlap = min(month_end, self.end) - max(month_start, self.start)
            found.append((period, overlap.total_seconds() / S_PER_HOUR))
            following = month_end.astimezone(self.zone)
            period = f"{following.year:04d}-{following.month:02d}"

    def month_ends(self) -> list[tuple[str, datetime | None]]:
        """The months for the store's month expression (``Store.query(months=...)``): ``(YYYY-MM, naive
        UTC end)`` for each month of the window, so a record's month is a comparison, not a time-zone
        conversion. If the zone's clock runs back within a day of a month boundary, the local calendar is
        not monotonic in time there: ``[(zone, None)]``, and the store converts each record's time."""
        ends: list[tuple[str, datetime | None]] = []
        for period, _ in self.months():
            start, end = month_bounds(period, self.zone)
            if _clock_runs_back(start, self.zone) or _clock_runs_back(end, self.zone):
                return [(self.zone.key, None)]
            ends.append((period, naive_utc(end)))
        return ends


def _clock_runs_back(moment: datetime, zone: ZoneInfo) -> bool:
    """Whether ``zone``'s UTC offset is smaller a day after ``moment`` than a day before (a fall-back)."""
    day = timedelta(days=1)
    before = (moment - day).astimezone(zone).utcoffset() or timedelta(0)
    after = (moment + day).astimezone(zone).utcoffset() or timedelta(0)
    return after < before


def check_factors(config: Config, bundle: FactorBundle) -> None:
    """Look up every factor sci.toml relies on before anything runs; a miss names the config key."""
    for platform in config.platforms:
        zone_key = f"{platform.key}.{'region' if platform.region else 'location'}"
        _check(config, zone_key, bundle.grid_intensity, platform.zone)
        if platform.pue is None and platform.provider is not None:
            _check(config, f"{platform.key}.region", bundle.pue, platform.provider)
        for source in platform.sources:
            _check_runners(config, bundle, source.key, source.options.get("runners"))
            model = source.options.get("device_model")
            if model and "tdp_w" not in source.options:
                lookup = bundle.gpu_tdp if source.options.get("component") == "gpu" else bundle.cpu_tdp
                _check(config, f"{source.key}.device_model", lookup, model)
    for item in config.embodied:
        if item.total_kgco2e is None:
            _check(config, f"{item.key}.device_class", bundle.embodied, item.device_class)
        if item.lifespan_years is None:
            _check(config, f"{item.key}.device_class", bundle.lifespan, item.device_class)


def _check_runners(config: Config, bundle: FactorBundle, key: str, runners: object) -> None:
    """The CPU models of a CI source's ``runners`` option (the bundled runner table is checked by tests)."""
    if not isinstance(runners, dict):
        return
    for label, spec in runners.items():
        if isinstance(spec, dict) and isinstance(spec.get("device_model"), str) and "tdp_w" not in spec:
            _check(config, f'{key}.runners."{label}".device_model', bundle.cpu_tdp, spec["device_model"])


def _check(config: Config, key: str, lookup: Callable[[str], Factor], value: str) -> None:
    try:
        lookup(value)
    except FactorError as exc:
        raise ConfigError(key, exc.message, hint=exc.hint, path=config.path) from None


def compute(config: Config, store: Store, bundle: FactorBundle, *, now: datetime) -> ComputeResult:
    names = [p.name for p in config.platforms]
    window = _window(config, store, names)
    params: dict[str, Any] = {
        "start_utc": naive_utc(window.start),
        "end_utc": naive_utc(window.end),
        "platforms": names,
    }
    store.prepare_window(**params)
    store.set_overlap_ranks(precedence.ranks(store.query("overlap_candidates", **params)), **params)
    overlaps = store.query("overlap_dropped")
    months = window.month_ends()
    energy = _group(store.query("energy_by_period", **params, months=months))
    proxies = _group(store.query("proxy_runtime_groups", **params, months=months))
    coverage = {row["platform"]: row for row in store.query("device_coverage", **params)}
    ledger = _Ledger()
    order = {name: i for i, name in enumerate(names)}
    boundary = sorted(store.query("components_by_platform", **params), key=lambda r: order[r["platform"]])
    notes: list[str] = [_boundary_note(row) for row in boundary]
    notes += [
        f"{row['platform']}: {row['records']:,} stored records start outside the window and are not counted."
        for row in sorted(store.query("records_outside_window", **params), key=lambda r: order[r["platform"]])
    ]
    notes += [_overlap_note(row) for row in sorted(overlaps, key=lambda r: order[r["platform"]])]
    if window.inferred:
        notes.append(
            f"Window inferred from the data: whole days ({window.zone.key}) from the first to the last "
            "record "
            f'({window.days:g} days). Set [window] in sci.toml to fix it, e.g. month = "2026-10".'
        )
    platforms = tuple(
        _platform(
            platform,
            config=config,
            window=window,
            energy=energy.get(platform.name, []),
            proxies=proxies.get(platform.name, []),
            coverage=coverage.get(platform.name),
            bundle=bundle,
            ledger=ledger,
            notes=notes,
        )
        for platform in config.platforms
    )
    by_name = {p.platform: p for p in platforms}
    curve = bundle.load_curve()
    top = _top_devices(store, params, by_name, config, bundle, ledger, curve)
    idle = _idle_gpus(store.query("idle_gpu_energy", **params, idle_below=IDLE_UTILISATION), by_name)
    total_low, total_high = _total_bounds(platforms)
    annual = DAYS_PER_YEAR / window.days
    return ComputeResult(
        title=config.title,
        computed_at=now,
        window_start=window.start,
        window_end=window.end,
        window_days=window.days,
        window_timezone=window.zone.key,
        platforms=platforms,
        factors=tuple(ledger.uses.values()),
        quality=tuple(_quality(store.query("quality_by_file", platforms=names)) + _overlap_quality(overlaps)),
        files=tuple(_files(store.query("files_for_platforms", platforms=names))),
        factor_bundle_version=bundle.version,
        tool_version=__version__,
        notes=tuple(notes),
        uncertainty=dict(config.uncertainty),
        total_carbon_low_g=total_low,
        total_carbon_high_g=total_high,
        annual_total_low_g=total_low * annual,
        annual_total_high_g=total_high * annual,
        top_devices=top,
        idle_gpus=idle,
        zone_alternatives=tuple(
            alt for alt in (_zone_alternative(c, by_name[c.name], bundle) for c in config.platforms) if alt
        ),
        hourly_intensity=False,
    )


def _platform(
    platform: PlatformConfig,
    *,
    config: Config,
    window: Window,
    energy: list[dict[str, Any]],
    proxies: list[dict[str, Any]],
    coverage: dict[str, Any] | None,
    bundle: FactorBundle,
    ledger: _Ledger,
    notes: list[str],
) -> PlatformResult:
    name = platform.name
    intensity = ledger.add(bundle.grid_intensity(platform.zone), name)
    pue = _pue(platform, bundle, ledger, notes)
    by_tier: dict[str, float] = defaultdict(float)
    it_kwh: dict[str, float] = defaultdict(float)
    provider_g: dict[str, float] = defaultdict(float)
    tier_kwh: dict[tuple[str, str], float] = defaultdict(float)  # (period, tier) -> IT energy
    market_g = reported_g = 0.0
    for row in energy:
        market_g += float(row["market_carbon_g"] or 0.0)
        reported_g += float(row["reported_carbon_g"] or 0.0)
        kwh = float(row["energy_kwh"] or 0.0)
        by_tier[row["tier"]] += kwh
        tier_kwh[row["period"], str(row["tier"])] += kwh
        it_kwh[row["period"]] += kwh
        provider_g[row["period"]] += float(row["carbon_g"] or 0.0)
    runtime_h_by_component: dict[tuple[str, str], float] = defaultdict(float)
    curve = bundle.load_curve()
    for row in proxies:
        kwh = _proxy_kwh(row, bundle, ledger, name, curve)
        by_tier[Tier.PROXY] += kwh
        tier_kwh[row["period"], str(Tier.PROXY)] += kwh
        it_kwh[row["period"]] += kwh
        runtime_h_by_component[row["period"], row["component"]] += float(row["runtime_s"]) / S_PER_HOUR
    runtime_h: dict[str, float] = defaultdict(float)  # a job with a CPU and a GPU record runs once
    for (period, _), hours in runtime_h_by_component.items():
        runtime_h[period] = max(runtime_h[period], hours)
    if proxies:
        notes.append(_proxy_note(name, proxies))
    inventory = [e for e in config.embodied if e.platform == name]
    units = {u.period: u.count for u in config.functional_units if u.platform == name}
    periods = []
    lines: dict[str, _EmbodiedSum] = {}
    for period, window_h in window.months():
        embodied = 0.0
        for item in inventory:
            reserved_h = runtime_h[period] if item.reserved == "runtime" else window_h
            total_kg, lifespan_years = _embodied_inputs(item, bundle, ledger)
            m_g = _embodied_g(item, reserved_h, total_kg=total_kg, lifespan_years=lifespan_years)
            lines.setdefault(item.key, _EmbodiedSum(item, total_kg, lifespan_years)).add(reserved_h, m_g)
            embodied += m_g
        periods.append(
            engine.period_carbon(
                period=period,
                it_energy_kwh=it_kwh[period],
                pue=pue,
                intensity_g_per_kwh=intensity,
                provider_carbon_g=provider_g[period],
                embodied_g=embodied,
                functional_units=units.get(period),
            )
        )
    partial = [
        period
        for period, window_h in window.months()
        if period in units and window_h < _month_h(window, period)
    ]
    if partial:
        notes.append(
            f"{name}: R is declared for all of {', '.join(partial)}, but the window covers only part of it: "
            "the SCI divides part of a month's carbon by a whole month's R. Set [window] to whole months."
        )
    without_r = tuple(p.period for p in periods if p.functional_units is None)
    if without_r:
        notes.append(
            f"{name}: no functional unit declared for {', '.join(without_r)}; "
            "those months are in the totals but not in the SCI score."
        )
    carbon = sum(p.carbon_g for p in periods)
    spread = _Spread(periods=periods, tier_kwh=tier_kwh, pue=pue, intensity=intensity, rel=config.uncertainty)
    carbon_bounds = spread.bounds(p.period for p in periods)
    r_bounds = spread.bounds(p.period for p in periods if p.functional_units is not None)
    sci_bounds = uncertainty.sci_bounds(
        carbon=r_bounds, functional_units=_sum_known(p.functional_units for p in periods)
    )
    annual_bounds = carbon_bounds.scaled(factor=DAYS_PER_YEAR / window.days)
    sci_value = engine.sci_over_periods((p.carbon_g, p.functional_units) for p in periods)
    return PlatformResult(
        platform=name,
        unit=platform.unit,
        periods=tuple(periods),
        it_energy_by_tier_kwh={str(k): v for k, v in sorted(by_tier.items())},
        it_energy_kwh=sum(p.it_energy_kwh for p in periods),
        pue=pue,
        energy_kwh=sum(p.energy_kwh for p in periods),
        intensity_g_per_kwh=intensity,
        operational_g=sum(p.operational_g for p in periods),
        provider_carbon_g=sum(p.provider_carbon_g for p in periods),
        embodied_g=sum(p.embodied_g for p in periods),
        carbon_g=carbon,
        functional_units=_sum_known(p.functional_units for p in periods),
        sci_g_per_unit=sci_value,
        annual_carbon_g=engine.annualise(value=carbon, covered_days=window.days),
        devices=int(coverage["devices"]) if coverage else 0,
        observed_device_hours=float(coverage["device_hours"]) if coverage else 0.0,
        embodied_lines=tuple(s.line(name) for s in lines.values()),
        periods_without_r=without_r,
        provider_market_carbon_g=market_g,
        tool_reported_carbon_g=reported_g,
        carbon_low_g=carbon_bounds.low,
        carbon_high_g=carbon_bounds.high,
        carbon_linear_low_g=carbon_bounds.linear_low,
        carbon_linear_high_g=carbon_bounds.linear_high,
        sci_low_g_per_unit=sci_bounds.low if sci_bounds and sci_value is not None else None,
        sci_high_g_per_unit=sci_bounds.high if sci_bounds and sci_value is not None else None,
        annual_low_g=annual_bounds.low,
        annual_high_g=annual_bounds.high,
        operational_by_tier_g=spread.operational_by_tier(p.period for p in periods),
    )


@dataclass(frozen=True, slots=True)
class _Spread:
    """A platform's carbon terms by month, for its uncertainty (sci.uncertainty)."""

    periods: Sequence[engine.PeriodCarbon]
    tier_kwh: Mapping[tuple[str, str], float]
    pue: float
    intensity: float
    rel: Mapping[str, float]

    def operational_by_tier(self, chosen: Iterable[str]) -> dict[str, float]:
        """E_tier x I over the chosen months (a tier's error is one systematic error across months)."""
        months = set(chosen)
        found: dict[str, float] = defaultdict(float)
        for (period, tier), kwh in sorted(self.tier_kwh.items()):
            if period in months:
                found[tier] += engine.operational_g(
                    energy_kwh=engine.facility_energy_kwh(it_energy_kwh=kwh, pue=self.pue),
                    intensity_g_per_kwh=self.intensity,
                )
        return dict(found)

    def bounds(self, chosen: Iterable[str]) -> uncertainty.Bounds:
        months = set(chosen)
        picked = [p for p in self.periods if p.period in months]
        terms = uncertainty.operational_terms(
            operational_g_by_tier=self.operational_by_tier(months), relative=self.rel
        )
        terms.append(
            uncertainty.Term(sum(p.provider_carbon_g for p in picked), self.rel["provider-reported"])
        )
        terms.append(uncertainty.Term(sum(p.embodied_g for p in picked), self.rel["embodied"]))
        return uncertainty.combine(terms=terms, value=sum(p.carbon_g for p in picked))


def _total_bounds(platforms: Sequence[PlatformResult]) -> tuple[float, float]:
    """The total's range: the platforms' errors are independent, so their half-widths add in quadrature."""
    total = sum(p.carbon_g for p in platforms)
    below = math.sqrt(sum((p.carbon_g - _known(p.carbon_low_g, p.carbon_g)) ** 2 for p in platforms))
    above = math.sqrt(sum((_known(p.carbon_high_g, p.carbon_g) - p.carbon_g) ** 2 for p in platforms))
    return total - below, total + above


def _known(value: float | None, default: float) -> float:
    return default if value is None else value


def _top_devices(  # noqa: PLR0917 - the compute step's state, passed on as it is
    store: Store,
    params: dict[str, Any],
    platforms: Mapping[str, PlatformResult],
    config: Config,
    bundle: FactorBundle,
    ledger: _Ledger,
    curve: tuple[engine.LoadCurve, Factor],
) -> tuple[DeviceCarbon, ...]:
    """The ``TOP_DEVICES`` devices with the most operational carbon (E x I + provider carbon)."""
    found: dict[tuple[str, str], _DeviceSum] = {}
    for row in store.query("energy_by_device", **params):
        item = found.setdefault((row["platform"], row["device"]), _DeviceSum())
        item.add(row, kwh=float(row["energy_kwh"] or 0.0), carbon_g=float(row["carbon_g"] or 0.0))
    for row in store.query("proxy_runtime_by_device", **params):
        kwh = _proxy_kwh(row, bundle, ledger, row["platform"], curve)
        item = found.setdefault((row["platform"], row["device"]), _DeviceSum())
        item.add({**row, "components": [row["component"]], "tiers": [str(Tier.PROXY)]}, kwh=kwh, carbon_g=0.0)
    order = {p.name: i for i, p in enumerate(config.platforms)}
    devices = [
        item.result(platform, device, platforms[platform]) for (platform, device), item in found.items()
    ]
    devices.sort(key=lambda d: (-d.carbon_g, order[d.platform], d.device))
    return tuple(devices[:TOP_DEVICES])


@dataclass
class _DeviceSum:
    components: set[str] = field(default_factory=set)
    tiers: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    it_kwh: float = 0.0
    provider_g: float = 0.0

    def add(self, row: Mapping[str, Any], *, kwh: float, carbon_g: float) -> None:
        self.components.update(row["components"])
        self.tiers.update(str(t) for t in row["tiers"])
        self.files.update(row["files"])
        self.it_kwh += kwh
        self.provider_g += carbon_g

    def result(self, platform: str, device: str, p: PlatformResult) -> DeviceCarbon:
        energy = engine.facility_energy_kwh(it_energy_kwh=self.it_kwh, pue=p.pue)
        operational = engine.operational_g(energy_kwh=energy, intensity_g_per_kwh=p.intensity_g_per_kwh)
        return DeviceCarbon(
            platform=platform,
            device=device,
            components=tuple(sorted(self.components)),
            tiers=tuple(sorted(self.tiers)),
            it_energy_kwh=self.it_kwh,
            energy_kwh=energy,
            carbon_g=operational + self.provider_g,
            files=tuple(sorted(self.files)),
        )


def _idle_gpus(rows: list[dict[str, Any]], platforms: Mapping[str, PlatformResult]) -> tuple[IdleEnergy, ...]:
    found = []
    for row in rows:
        p = platforms[row["platform"]]
        idle_kwh = float(row["idle_kwh"] or 0.0)
        energy = engine.facility_energy_kwh(it_energy_kwh=idle_kwh, pue=p.pue)
        found.append(
            IdleEnergy(
                platform=p.platform,
                device=row["device"],
                threshold=IDLE_UTILISATION,
                idle_it_energy_kwh=idle_kwh,
                idle_hours=float(row["idle_hours"] or 0.0),
                total_it_energy_kwh=float(row["total_kwh"] or 0.0),
                idle_carbon_g=engine.operational_g(
                    energy_kwh=energy, intensity_g_per_kwh=p.intensity_g_per_kwh
                ),
            )
        )
    return tuple(found)


def _zone_alternative(
    platform: PlatformConfig, result: PlatformResult, bundle: FactorBundle
) -> ZoneAlternative | None:
    """The platform's energy in the lowest-intensity cloud region of the bundled CCF table.

    A cloud platform is compared with its provider's regions (same E: same provider, same PUE). An
    on-premises platform is compared with every provider's regions: its IT energy at that provider's
    PUE. A platform of end-user devices only (laptops: its embodied inventory) is not compared: people's
    machines run where people are. Provider-reported carbon has no energy to move and is left out.
    """
    if result.energy_kwh <= 0:
        return None
    if platform.provider is not None:
        best, name = bundle.lowest_intensity(provider=platform.provider)
        energy_there, pue_there = result.energy_kwh, None
        compared = f"{platform.provider} regions in the bundled Cloud Carbon Footprint table"
    else:
        classes = {line.device_class for line in result.embodied_lines}
        if classes and classes <= END_USER_DEVICE_CLASSES:
            return None
        providers = bundle.cloud_providers()
        (best, name), provider = min(
            ((bundle.lowest_intensity(provider=p), p) for p in providers),
            key=lambda item: (item[0][0].value, item[0][0].key),
        )
        pue_there = bundle.pue(provider).value
        energy_there = engine.facility_energy_kwh(it_energy_kwh=result.it_energy_kwh, pue=pue_there)
        compared = f"cloud regions ({', '.join(providers)}) in the bundled Cloud Carbon Footprint table"
    return ZoneAlternative(
        platform=result.platform,
        zone=platform.zone,
        intensity_g_per_kwh=result.intensity_g_per_kwh,
        best_zone=best.key,
        best_name=name,
        best_intensity_g_per_kwh=best.value,
        best_source=best.source,
        best_year=best.year,
        energy_kwh=result.energy_kwh,
        operational_g=result.operational_g,
        best_operational_g=engine.operational_g(energy_kwh=energy_there, intensity_g_per_kwh=best.value),
        compared_with=compared,
        best_energy_kwh=None if pue_there is None else energy_there,
        best_pue=pue_there,
    )


def _pue(platform: PlatformConfig, bundle: FactorBundle, ledger: _Ledger, notes: list[str]) -> float:
    if platform.pue is not None:
        factor = _user_factor("pue", platform.name, platform.pue, "ratio")
    elif platform.provider is not None:
        factor = bundle.pue(platform.provider)
    else:
        factor = Factor(
            kind="pue",
            key=platform.name,
            value=1.0,
            unit="ratio",
            source=DEFAULT_PUE_SOURCE,
            year=None,
            licence="n/a",
        )
        notes.append(
            f"{platform.name}: no PUE configured; 1.0 assumed (right for laptops, not for a server room)."
        )
    return ledger.add(factor, platform.name)


def _proxy_kwh(
    row: dict[str, Any],
    bundle: FactorBundle,
    ledger: _Ledger,
    platform: str,
    curve: tuple[engine.LoadCurve, Factor],
) -> float:
    if row["tdp_w"] is not None:
        given = Factor(
            kind="gpu_tdp" if row["component"] == "gpu" else "cpu_tdp",
            key=row["device_model"] or "tdp_w",
            value=float(row["tdp_w"]),
            unit="W",
            source="tdp_w given on the tdp-proxy source in sci.toml or in the runtime log",
            year=None,
            licence="user input",
        )
        tdp_w = ledger.add(given, platform)
    elif row["device_model"]:
        lookup = bundle.gpu_tdp if row["component"] == "gpu" else bundle.cpu_tdp
        tdp_w = ledger.add(lookup(row["device_model"]), platform)
    else:
        raise SciError(
            f"{platform}: proxy records without a device model or TDP",
            hint="set device_model or tdp_w on the tdp-proxy source in sci.toml, then ingest again",
        )
    points, curve_factor = curve
    ledger.add(curve_factor, platform, detail=_curve_text(points))
    return engine.proxy_energy_kwh(
        runtime_s=float(row["runtime_s"]),
        utilisation=float(row["utilisation"]),
        tdp_w=tdp_w,
        resource_share=float(row["resource_share"]),
        curve=points,
    )


def _month_h(window: Window, period: str) -> float:
    start, end = month_bounds(period, window.zone)
    return (end - start).total_seconds() / S_PER_HOUR


def _overlap_quality(rows: list[dict[str, Any]]) -> list[QualityRow]:
    """What precedence left out, as data-quality rows of the lower-ranked files."""
    return [
        QualityRow(
            file=row["path"],
            collector=row["collector"],
            kind=IssueKind.OVERLAP,
            action=Action.DROPPED,
            rows=int(row["records"]),
            occurrences=1,
            line_ranges=_ranges(precedence.line_ranges(row["lines"])),
            seconds=float(row["seconds"]),
            detail=_overlap_detail(row),
        )
        for row in rows
    ]


def _overlap_detail(row: dict[str, Any]) -> str:
    lost = f"{float(row['energy_kwh']):,.4g} kWh" if row["energy_kwh"] else ""
    if row["runtime_s"]:
        lost += (" and " if lost else "") + f"{float(row['runtime_s']) / S_PER_HOUR:,.4g} h of proxy runtime"
    return (
        f"the same devices and time are covered by {row['by_path']}, which counts first "
        f"({precedence.RULE}): {lost or 'nothing'} of this file not counted"
    )


def _overlap_note(row: dict[str, Any]) -> str:
    return (
        f"{row['platform']}: {row['path']} overlaps {row['by_path']} on the same devices and time; "
        f"{float(row['seconds']) / S_PER_HOUR:,.1f} device-hours of it are counted once, from "
        f"{row['by_path']} (see data quality)."
    )


def _boundary_note(row: dict[str, Any]) -> str:
    """What a platform's E covers, so the software boundary is explicit: parts not named are outside E."""
    return (
        f"{row['platform']}: E covers {', '.join(row['components'])} ({row['tier']}: "
        f"{', '.join(row['methods'])}); parts of these devices not named here are outside E."
    )


def _proxy_note(platform: str, proxies: list[dict[str, Any]]) -> str:
    runtime_s = sum(float(r["runtime_s"]) for r in proxies)
    weighted = sum(float(r["runtime_s"]) * float(r["utilisation"]) for r in proxies)
    mean_u = weighted / runtime_s if runtime_s else 0.0
    records = sum(int(r["records"]) for r in proxies)
    return (
        f"{platform}: {records:,} runtime records ({runtime_s / S_PER_HOUR:,.1f} h) estimated with the TDP "
        "proxy (runtime x load curve(utilisation) x TDP x resource share) at a runtime-weighted mean "
        f"utilisation of {mean_u:.0%}, as logged or as configured on the source: nothing was metered."
    )


def _curve_text(curve: engine.LoadCurve) -> str:
    points = ", ".join(f"{u:.0%}: {share:g}" for u, share in curve)
    return f"share of TDP by utilisation: {points}"


def _embodied_inputs(item: EmbodiedConfig, bundle: FactorBundle, ledger: _Ledger) -> tuple[float, float]:
    """TE (kgCO2e per device) and EL (years) of an inventory line: from sci.toml, else the bundle."""
    total_kg = _embodied_factor(item, "embodied", item.total_kgco2e, bundle, ledger)
    lifespan_years = _embodied_factor(item, "lifespan", item.lifespan_years, bundle, ledger)
    return total_kg, lifespan_years


def _embodied_g(item: EmbodiedConfig, reserved_h: float, *, total_kg: float, lifespan_years: float) -> float:
    per_device_g = engine.embodied_g(
        total_embodied_g=total_kg * G_PER_KG,
        time_reserved_h=reserved_h,
        expected_lifespan_h=lifespan_years * HOURS_PER_YEAR,
        resources_reserved=item.share,
        resources_total=1.0,
    )
    return per_device_g * item.count


def _embodied_factor(
    item: EmbodiedConfig, kind: str, given: Given | None, bundle: FactorBundle, ledger: _Ledger
) -> float:
    if given is not None:
        factor = _user_factor(kind, item.device_class, given, "kgCO2e" if kind == "embodied" else "years")
    else:
        factor = (
            bundle.embodied(item.device_class) if kind == "embodied" else bundle.lifespan(item.device_class)
        )
    return ledger.add(factor, item.platform)


def _user_factor(kind: str, key: str, given: Given, unit: str) -> Factor:
    return Factor(
        kind=kind,
        key=key,
        value=given.value,
        unit=unit,
        source=given.source,
        year=given.year,
        licence="user input",
    )


@dataclass
class _EmbodiedSum:
    item: EmbodiedConfig
    total_kg: float
    lifespan_years: float
    reserved_h: float = 0.0
    embodied_g: float = 0.0

    def add(self, reserved_h: float, embodied_g: float) -> None:
        self.reserved_h += reserved_h
        self.embodied_g += embodied_g

    def line(self, platform: str) -> EmbodiedLine:
        return EmbodiedLine(
            platform=platform,
            device_class=self.item.device_class,
            count=self.item.count,
            total_embodied_kg=self.total_kg,
            lifespan_years=self.lifespan_years,
            share=self.item.share,
            time_reserved_h=self.reserved_h,
            embodied_g=self.embodied_g,
        )


def _window(config: Config, store: Store, names: list[str]) -> Window:
    zone = config.window_zone
    if config.window_start is not None and config.window_end is not None:
        return Window(config.window_start, config.window_end, zone, inferred=False)
    bounds = store.query("data_bounds", platforms=names)[0]
    if bounds["first_utc"] is None:
        raise SciError(
            "the store holds no records for the platforms in sci.toml",
            hint="run `sci-report ingest` (or `sci-report run`) first",
        )
    first = aware_utc(bounds["first_utc"]).astimezone(zone)
    last = aware_utc(bounds["last_utc"]).astimezone(zone)
    start = datetime(first.year, first.month, first.day, tzinfo=zone)
    end_day = datetime(last.year, last.month, last.day, tzinfo=zone)
    if end_day < last or end_day == start:
        end_day = datetime.combine(end_day.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return Window(start.astimezone(UTC), end_day.astimezone(UTC), zone, inferred=True)


def _group(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["platform"]].append(row)
    return grouped


def _sum_known(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _quality(rows: list[dict[str, Any]]) -> list[QualityRow]:
    return [
        QualityRow(
            file=row["path"],
            collector=row["collector"],
            kind=row["kind"],
            action=row["action"],
            rows=int(row["rows"]),
            occurrences=int(row["occurrences"]),
            line_ranges=_ranges(row["ranges"]),
            seconds=float(row["seconds"]) if row["seconds"] is not None else None,
            detail=row["detail"],
        )
        for row in rows
    ]


def _ranges(ranges: list[str]) -> str:
    shown = ", ".join(ranges[:MAX_LINE_RANGES])
    more = len(ranges) - MAX_LINE_RANGES
    return f"{shown} (+{more} more)" if more > 0 else shown


def _files(rows: list[dict[str, Any]]) -> list[SourceFile]:
    return [
        SourceFile(
            path=row["path"],
            sha256=row["sha256"],
            collector=row["collector"],
            collector_version=row["collector_version"],
            platform=row["platform"],
            rows=int(row["record_count"]),
            ingested_at=aware_utc(row["ingested_at_utc"]),
        )
        for row in rows
    ]
