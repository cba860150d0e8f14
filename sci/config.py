"""``sci.toml``: read, validate, and turn into typed settings before anything runs.

Every error names the dotted key (``platforms[1].sources[0].timezone``) and says how to fix it.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from collectors.base import DEFAULT_MAX_GAP_S
from sci.errors import ConfigError, SciError
from sci.uncertainty import DEFAULT_RELATIVE

CONFIG_NAME = "sci.toml"
DEFAULT_STORE = "sci.duckdb"
DEFAULT_OUTPUT_DIR = "out"
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
SOURCE_KEYS = frozenset({"collector", "paths", "device", "timezone", "max_gap_s"})
AUTO_COLLECTOR = "auto"  # collector = "auto": each file's format is recognised from its content
DEFAULT_MAX_POWER_W: Mapping[str, float] = {
    # Ceilings per component and record, in W: above them a reading is a glitch (65,535 W, counter
    # garbage), not a plausible load. Generous on purpose: one record may cover a whole node (CodeCarbon's
    # gpu_energy covers all its GPUs). Override with [defaults.max_power_w].
    "cpu": 2_000.0,
    "gpu": 10_000.0,
    "ane": 200.0,
    "dram": 1_000.0,
    "package": 2_000.0,
    "soc-other": 1_000.0,
    "system": 20_000.0,
}
RESERVED_MODES = ("window", "runtime")


@dataclass(frozen=True, slots=True)
class Given:
    """A number given in sci.toml with its origin: ``x = 1.5``, or ``x = { value, source, year }``."""

    value: float
    source: str  # the user's source text, or "sci.toml <key>"
    year: int | None


@dataclass(frozen=True, slots=True)
class SourceConfig:
    key: str  # "platforms[0].sources[1]"
    platform: str
    collector: str
    paths: tuple[str, ...]  # globs, relative to the config file's folder
    device: str  # a name, or a template with {stem} / {parent}
    timezone: ZoneInfo | None
    max_gap_s: float
    options: Mapping[str, Any]
    max_power_w: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MAX_POWER_W))

    @property
    def auto(self) -> bool:
        """Whether each file's collector is recognised from its content (``collector = "auto"``)."""
        return self.collector == AUTO_COLLECTOR


@dataclass(frozen=True, slots=True)
class PlatformConfig:
    key: str
    name: str
    location: str | None  # ISO 3166 country code
    region: str | None  # "<provider>:<region>"
    pue: Given | None
    unit: str | None  # the functional unit R, e.g. "pipeline runs"
    sources: tuple[SourceConfig, ...]

    @property
    def zone(self) -> str:
        return self.region or self.location or ""

    @property
    def provider(self) -> str | None:
        return self.region.split(":", 1)[0] if self.region else None


@dataclass(frozen=True, slots=True)
class EmbodiedConfig:
    key: str
    platform: str
    device_class: str
    count: int
    total_kgco2e: Given | None  # TE per device; None: the bundle's default for device_class
    lifespan_years: Given | None  # EL; None: the bundle's default
    share: float  # RR / ToR
    reserved: str  # "window" (TiR = the window) or "runtime" (TiR = the platform's proxy runtime)


@dataclass(frozen=True, slots=True)
class FunctionalUnitConfig:
    key: str
    platform: str
    period: str  # YYYY-MM
    count: float  # R


@dataclass(frozen=True, slots=True)
class FactorOverrideConfig:
    key: str
    table: str  # the [factors.<table>] name
    lookup: str
    value: float
    source: str
    year: int | None


@dataclass(frozen=True, slots=True)
class CiConfig:
    """``[ci]``: the platform and functional unit ``sci-report ci`` gates a release on."""

    platform: str | None = None
    unit: str | None = None  # overrides the platform's unit name in the gate's output
    threshold: float | None = None  # relative regression threshold (default: the command's 0.05)


@dataclass(frozen=True, slots=True)
class FleetConfig:
    """``[fleet]``: where ``sci-report collect`` writes this machine's shards (docs/fleet.md)."""

    destination: str | None = None  # "s3://bucket/prefix" or a folder (relative to sci.toml)
    machine: str | None = None  # this machine's name in the shards (default: the host name)
    endpoint_url: str | None = None  # an S3-compatible endpoint (tests, MinIO)
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    title: str
    store_path: Path
    output_dir: Path
    window_start: datetime | None
    window_end: datetime | None
    window_zone: ZoneInfo  # the zone whose calendar defines the window and its months (default UTC)
    max_gap_s: float
    platforms: tuple[PlatformConfig, ...]
    embodied: tuple[EmbodiedConfig, ...] = ()
    functional_units: tuple[FunctionalUnitConfig, ...] = ()
    factor_overrides: tuple[FactorOverrideConfig, ...] = field(default=())
    max_power_w: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MAX_POWER_W))
    ci: CiConfig = field(default_factory=CiConfig)
    fleet: FleetConfig = field(default_factory=FleetConfig)
    uncertainty: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RELATIVE))
    """Relative uncertainty per method tier, embodied and grid intensity (``[uncertainty]``)."""

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def find_config(target: Path) -> Path:
    """``target`` itself if it is a file, else ``target/sci.toml``."""
    path = target / CONFIG_NAME if target.is_dir() else target
    if not path.is_file():
        raise ConfigError(
            "",
            f"no config file at {path}",
            hint="run `sci-report init` to write a commented starter sci.toml",
            path=path,
        )
    return path


def load_config(path: Path, *, store_override: Path | None = None) -> Config:
    """Read and validate ``sci.toml``."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            "", f"not valid TOML: {exc}", hint="check quoting and brackets", path=path
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("", f"cannot read the config: {exc}", path=path) from None
    try:
        return config_from_dict(raw, path.resolve(), store_override=store_override)
    except ConfigError as exc:
        exc.path = path
        raise


def config_from_dict(raw: dict[str, Any], path: Path, *, store_override: Path | None = None) -> Config:
    """Validate an already-parsed TOML document; ``path`` is where it lives (paths are relative to it)."""
    v = _Table(raw, "")
    v.only(
        {
            "project",
            "window",
            "defaults",
            "platforms",
            "embodied",
            "functional_units",
            "factors",
            "uncertainty",
            "ci",
            "fleet",
        }
    )
    project = v.table("project")
    project.only({"name", "store", "output_dir"})
    base = path.parent
    defaults = v.table("defaults")
    defaults.only({"max_gap_s", "max_power_w"})
    max_gap_s = defaults.number("max_gap_s", default=DEFAULT_MAX_GAP_S, minimum=0.001)
    ceilings = _max_power_w(defaults.table("max_power_w"))
    window = v.table("window")
    zone_name = window.optional_string("timezone")
    window_zone = _zone(zone_name, window.child("timezone")) if zone_name else ZoneInfo("UTC")
    window_start, window_end = _window(window, window_zone)
    platforms = tuple(_platform(t, max_gap_s, ceilings) for t in v.tables("platforms", required=True))
    _unique([p.name for p in platforms], "platforms", "name")
    names = {p.name for p in platforms}
    embodied = tuple(_embodied(t, names) for t in v.tables("embodied"))
    units = tuple(_functional_unit(t, names) for t in v.tables("functional_units"))
    _unique([f"{u.platform} {u.period}" for u in units], "functional_units", "platform + period")
    store = store_override or base / project.string("store", default=DEFAULT_STORE)
    return Config(
        path=path,
        title=project.string("name", default="SCI report"),
        store_path=store,
        output_dir=base / project.string("output_dir", default=DEFAULT_OUTPUT_DIR),
        window_start=window_start,
        window_end=window_end,
        window_zone=window_zone,
        max_gap_s=max_gap_s,
        max_power_w=ceilings,
        platforms=platforms,
        embodied=embodied,
        functional_units=units,
        factor_overrides=_factor_overrides(v.table("factors")),
        uncertainty=_uncertainty(v.table("uncertainty")),
        ci=_ci(v.table("ci"), names),
        fleet=_fleet(v.table("fleet")),
    )


def _fleet(t: _Table) -> FleetConfig:
    t.only({"destination", "machine", "endpoint_url", "region"})
    return FleetConfig(
        destination=t.optional_string("destination"),
        machine=t.optional_string("machine"),
        endpoint_url=t.optional_string("endpoint_url"),
        region=t.optional_string("region"),
    )


def _ci(t: _Table, platforms: set[str]) -> CiConfig:
    t.only({"platform", "unit", "threshold"})
    return CiConfig(
        platform=t.platform_ref(platforms) if t.has("platform") else None,
        unit=t.optional_string("unit"),
        threshold=t.optional_number("threshold", minimum=0.0),
    )


def _window(t: _Table, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    t.only({"month", "start", "end", "timezone"})
    month = t.optional_string("month")
    if month is not None:
        if t.has("start") or t.has("end"):
            raise ConfigError(t.key, "give either month or start/end, not both")
        _month_start(month, t.child("month"))
        return month_bounds(month, zone)
    start_day, end_day = t.optional_date("start"), t.optional_date("end")
    if (start_day is None) != (end_day is None):
        raise ConfigError(t.key, "give both start and end", hint="e.g. start = 2026-10-01, end = 2026-11-01")
    if start_day is None or end_day is None:
        return None, None
    if end_day <= start_day:
        raise ConfigError(t.child("end"), "end must be after start (end is exclusive)")
    return _midnight(start_day, zone), _midnight(end_day, zone)


def _max_power_w(t: _Table) -> dict[str, float]:
    """``[defaults.max_power_w]``: per-component ceilings (W) over the defaults."""
    t.only(set(DEFAULT_MAX_POWER_W))
    return {k: t.number(k, minimum=0.001) if t.has(k) else v for k, v in DEFAULT_MAX_POWER_W.items()}


def _uncertainty(t: _Table) -> dict[str, float]:
    """``[uncertainty]``: relative uncertainties (0.1 = +/-10 %) over the defaults, each 0..1."""
    t.only(set(DEFAULT_RELATIVE))
    found = {k: t.number(k, minimum=0.0) if t.has(k) else v for k, v in DEFAULT_RELATIVE.items()}
    for key, value in found.items():
        if value > 1.0:
            raise ConfigError(
                t.child(key),
                f"a relative uncertainty must be <= 1 (100 %), got {value:g}",
                hint=f"write it as a fraction, e.g. {key} = {DEFAULT_RELATIVE[key]} for "
                f"+/-{DEFAULT_RELATIVE[key]:.0%}",
            )
    return found


def _platform(t: _Table, default_gap_s: float, ceilings: Mapping[str, float]) -> PlatformConfig:
    t.only({"name", "location", "region", "pue", "unit", "sources"})
    name = t.string("name")
    location, region = t.optional_string("location"), t.optional_string("region")
    if (location is None) == (region is None):
        raise ConfigError(
            t.key,
            "give exactly one of location (an ISO country code) or region (a cloud region)",
            hint='e.g. location = "DE" or region = "aws:eu-west-1"',
        )
    if region is not None and ":" not in region:
        raise ConfigError(
            t.child("region"), f"{region!r} is not <provider>:<region>", hint='e.g. "gcp:europe-west3"'
        )
    sources = tuple(_source(s, name, default_gap_s, ceilings) for s in t.tables("sources"))
    return PlatformConfig(
        key=t.key,
        name=name,
        location=location.upper() if location else None,
        region=region.lower() if region else None,
        pue=t.optional_given("pue", minimum=1.0),
        unit=t.optional_string("unit"),
        sources=sources,
    )


def _source(t: _Table, platform: str, default_gap_s: float, ceilings: Mapping[str, float]) -> SourceConfig:
    import collectors

    name = t.string("collector")
    if name == AUTO_COLLECTOR:
        t.only(SOURCE_KEYS)  # options belong to one format: name the collector to give them
        options: dict[str, Any] = {}
        needs_timezone = False  # checked per file, once its format is known
    else:
        try:
            cls = collectors.load(name)
        except SciError as exc:
            hint = f'{exc.hint}, or "{AUTO_COLLECTOR}" to recognise each file from its content'
            raise ConfigError(t.child("collector"), exc.message, hint=hint) from None
        t.only(SOURCE_KEYS | set(cls.OPTIONS))
        options = {key: t.typed(key, kind) for key, (kind, _) in cls.OPTIONS.items() if t.has(key)}
        needs_timezone = cls.needs_timezone
    zone = t.optional_string("timezone")
    if needs_timezone and zone is None:
        raise ConfigError(
            t.child("timezone"),
            f"{name} logs carry local time without a zone",
            hint='set the zone the logging machine ran in, e.g. timezone = "Europe/Berlin"',
        )
    return SourceConfig(
        key=t.key,
        platform=platform,
        collector=name,
        paths=tuple(t.string_list("paths")) if t.has("paths") or not _fetches(options) else (),
        device=t.string("device", default="{stem}"),
        timezone=_zone(zone, t.child("timezone")) if zone else None,
        max_gap_s=t.number("max_gap_s", default=default_gap_s, minimum=0.001),
        options=options,
        max_power_w=ceilings,
    )


def _fetches(options: Mapping[str, Any]) -> bool:
    """Whether a source fetches its files (a table option such as ``bigquery``): then paths are optional."""
    return any(isinstance(value, dict) for value in options.values())


def _embodied(t: _Table, platforms: set[str]) -> EmbodiedConfig:
    t.only({"platform", "device_class", "count", "total_kgco2e", "lifespan_years", "share", "reserved"})
    reserved = t.string("reserved", default="window")
    if reserved not in RESERVED_MODES:
        raise ConfigError(
            t.child("reserved"), f"unknown value {reserved!r}", hint=f"use one of {RESERVED_MODES}"
        )
    count = int(t.number("count", default=1, minimum=1, integer=True))
    if reserved == "runtime" and count != 1:
        raise ConfigError(
            t.child("count"),
            'with reserved = "runtime", TiR is the runtime of all the platform\'s jobs: count must be 1',
            hint="describe one host, with share = the part a job reserves (e.g. 4 vCPUs of 128 threads)",
        )
    share = t.number("share", default=1.0, minimum=0.0)
    if share > 1.0:
        raise ConfigError(t.child("share"), f"share is RR/ToR and must be <= 1, got {share}")
    return EmbodiedConfig(
        key=t.key,
        platform=t.platform_ref(platforms),
        device_class=t.string("device_class"),
        count=count,
        total_kgco2e=t.optional_given("total_kgco2e", minimum=0.0),
        lifespan_years=t.optional_given("lifespan_years", minimum=0.01),
        share=share,
        reserved=reserved,
    )


def _functional_unit(t: _Table, platforms: set[str]) -> FunctionalUnitConfig:
    t.only({"platform", "period", "count"})
    period = t.string("period")
    _month_start(period, t.child("period"))
    return FunctionalUnitConfig(
        key=t.key, platform=t.platform_ref(platforms), period=period, count=t.number("count", minimum=0.0)
    )


def _factor_overrides(t: _Table) -> tuple[FactorOverrideConfig, ...]:
    from sci.factors import OVERRIDE_TABLES

    t.only(set(OVERRIDE_TABLES))
    found: list[FactorOverrideConfig] = []
    for table_name in sorted(OVERRIDE_TABLES):
        table = t.table(table_name)
        for lookup in sorted(table.raw):
            found.append(_override(table, table_name, lookup))
    return tuple(found)


def _override(table: _Table, table_name: str, lookup: str) -> FactorOverrideConfig:
    given = table.given(lookup, minimum=0.0, default_source=f"sci.toml [factors.{table_name}] {lookup}")
    return FactorOverrideConfig(
        key=table.child(lookup),
        table=table_name,
        lookup=lookup,
        value=given.value,
        source=given.source,
        year=given.year,
    )


def month_bounds(period: str, zone: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """The start and (exclusive) end of a ``YYYY-MM`` month in ``zone`` (default UTC), as UTC times."""
    start = _month_start(period, "period")
    end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    if zone is None:
        return start, end
    return _midnight(start.date(), zone), _midnight(end.date(), zone)


def _month_start(text: str, key: str) -> datetime:
    if not MONTH_RE.match(text):
        raise ConfigError(key, f"{text!r} is not a month", hint='write it as "YYYY-MM", e.g. "2026-10"')
    return datetime(int(text[:4]), int(text[5:]), 1, tzinfo=UTC)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight of ``day`` in ``zone``, as a UTC time."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _zone(name: str, key: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            key, f"unknown time zone {name!r}", hint='use an IANA name such as "Europe/Berlin"'
        ) from None


def _unique(values: list[str], key: str, what: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise ConfigError(
                f"{key}[{i}]", f"duplicate {what}: {value!r}", hint=f"each {what} may appear once"
            )
        seen.add(value)


class _Table:
    """A TOML table being validated; every error names ``key``."""

    def __init__(self, raw: Any, key: str) -> None:
        if not isinstance(raw, dict):
            raise ConfigError(key, f"expected a table, got {type(raw).__name__}", hint=f"write it as [{key}]")
        self.raw: dict[str, Any] = raw
        self.key = key

    def child(self, name: str) -> str:
        quoted = name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'
        return f"{self.key}.{quoted}" if self.key else quoted

    def has(self, name: str) -> bool:
        return name in self.raw

    def only(self, allowed: set[str] | frozenset[str]) -> None:
        for name in self.raw:
            if name not in allowed:
                close = difflib.get_close_matches(name, sorted(allowed), n=1)
                hint = (
                    f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(sorted(allowed))}"
                )
                raise ConfigError(self.child(name), "unknown key", hint=hint)

    def table(self, name: str) -> _Table:
        return _Table(self.raw.get(name, {}), self.child(name))

    def tables(self, name: str, *, required: bool = False) -> list[_Table]:
        value = self.raw.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise ConfigError(
                self.child(name), "expected an array of tables", hint=f"write each one as [[{name}]]"
            )
        if required and not value:
            raise ConfigError(self.child(name), "at least one is required", hint=f"add a [[{name}]] table")
        return [_Table(item, f"{self.child(name)}[{i}]") for i, item in enumerate(value)]

    def string(self, name: str, *, default: str | None = None) -> str:
        value = self.raw.get(name, default)
        if value is None:
            raise ConfigError(self.child(name), "missing required key")
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(self.child(name), f"expected a non-empty string, got {value!r}")
        return value

    def optional_string(self, name: str) -> str | None:
        return self.string(name) if name in self.raw else None

    def string_list(self, name: str) -> list[str]:
        value = self.raw.get(name)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(
                self.child(name), "expected a list of paths or globs", hint='e.g. paths = ["logs/*.csv"]'
            )
        return value

    def number(
        self, name: str, *, default: float | None = None, minimum: float | None = None, integer: bool = False
    ) -> float:
        value = self.raw.get(name, default)
        if value is None:
            raise ConfigError(self.child(name), "missing required key")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (integer and not isinstance(value, int))
        ):
            raise ConfigError(
                self.child(name), f"expected {'an integer' if integer else 'a number'}, got {value!r}"
            )
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise ConfigError(self.child(name), f"expected a finite number, got {value!r}")
        if minimum is not None and number < minimum:
            raise ConfigError(self.child(name), f"must be >= {minimum}, got {value!r}")
        return number

    def optional_number(
        self, name: str, *, minimum: float | None = None, integer: bool = False
    ) -> float | None:
        return self.number(name, minimum=minimum, integer=integer) if name in self.raw else None

    def given(self, name: str, *, minimum: float, default_source: str | None = None) -> Given:
        """A number, or a ``{ value, source, year }`` table naming where the number comes from."""
        value = self.raw.get(name)
        source = default_source or f"sci.toml {self.child(name)}"
        if isinstance(value, dict):
            entry = _Table(value, self.child(name))
            entry.only({"value", "source", "year"})
            year = entry.optional_number("year", minimum=1900, integer=True)
            return Given(
                value=entry.number("value", minimum=minimum),
                source=entry.string("source", default=source),
                year=int(year) if year is not None else None,
            )
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                self.child(name),
                f'expected a number or {{ value = ..., source = "...", year = ... }}, got {value!r}',
            )
        return Given(value=self.number(name, minimum=minimum), source=source, year=None)

    def optional_given(self, name: str, *, minimum: float) -> Given | None:
        return self.given(name, minimum=minimum) if name in self.raw else None

    def optional_date(self, name: str) -> date | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ConfigError(
                self.child(name), f"expected a date, got {value!r}", hint="write a bare TOML date: 2026-10-01"
            )
        return value

    def typed(self, name: str, kind: type) -> Any:
        if kind is float:
            return self.number(name)
        if kind is int:
            return int(self.number(name, integer=True))
        if kind is str:
            return self.string(name)
        if kind is list:
            return self.string_list(name)
        if kind is dict:  # a fetch table (e.g. bigquery = { ... }): its keys are checked by sci.cloud
            raw = self.table(name).raw  # TOML dates as ISO text, so the options stay JSON (their digest)
            return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in raw.items()}
        if kind is bool:
            value = self.raw[name]
            if not isinstance(value, bool):
                raise ConfigError(self.child(name), f"expected true or false, got {value!r}")
            return value
        raise ConfigError(self.child(name), f"option type {kind.__name__} is not supported")

    def platform_ref(self, platforms: set[str]) -> str:
        name = self.string("platform")
        if name not in platforms:
            close = difflib.get_close_matches(name, sorted(platforms), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"platforms: {', '.join(sorted(platforms))}"
            raise ConfigError(self.child("platform"), f"no platform named {name!r}", hint=hint)
        return name
