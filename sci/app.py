"""The operations behind the CLI, callable from Python: ingest, compute, report, run.

This is the one layer that ties collectors, store, engine and reports together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sci.compute import check_factors, compute
from sci.config import Config
from sci.errors import ConfigError, SciError
from sci.factors import OVERRIDE_TABLES, FactorBundle, FactorOverride, load_bundle
from sci.files import write_atomically
from sci.ingest import FileOutcome, Observer, ingest, plan, plan_paths, prune
from sci.results import ComputeResult
from sci.store import Store, aware_utc, naive_utc

if TYPE_CHECKING:  # measure, ci, audit and fleet import their modules when called: compute starts fast
    from sci import audit, fleet, gate
    from sci.gate import GateReport
    from sci.measure.backends import BackendOptions
    from sci.measure.figures import Factors, Footprint


@dataclass(frozen=True, slots=True)
class ReportFiles:
    html: Path
    pdf: Path | None


def factor_bundle(config: Config) -> FactorBundle:
    """The bundled factors with sci.toml's ``[factors]`` overrides applied, checked against sci.toml."""
    overrides: dict[str, dict[str, FactorOverride]] = defaultdict(dict)
    for item in config.factor_overrides:
        kind, _unit = OVERRIDE_TABLES[item.table]
        overrides[kind][item.lookup] = FactorOverride(value=item.value, source=item.source, year=item.year)
    bundle = load_bundle().with_overrides(overrides)
    check_factors(config, bundle)
    return bundle


def run_ingest(
    config: Config, only: Sequence[Path] = (), observer: Observer | None = None
) -> list[FileOutcome]:
    """Ingest what sci.toml names (or only ``only``); a full ingest also drops files it no longer names."""
    factor_bundle(config)  # a factor sci.toml needs but nobody has is an error before any ingest
    from sci.cloud import fetch_configured

    config = fetch_configured(config)  # cloud fetches (bigquery/azure tables) write .sci-cache files first
    files = plan(config, only)
    platforms = [p.name for p in config.platforms]
    with Store(config.store_path) as store:
        removed = [] if only else prune(store, files, platforms)
        return ingest(store, files, platforms=platforms, observer=observer) + removed


def run_ingest_paths(
    config: Config,
    paths: Sequence[Path],
    *,
    platform: str,
    collector: str | None = None,
    timezone: ZoneInfo | None = None,
    device: str = "{stem}",
    observer: Observer | None = None,
) -> list[FileOutcome]:
    """Ingest files sci.toml does not name into ``platform``, each in ``collector``'s format or in the one
    recognised from its content. They stay in the store until ``forget`` (a full ingest keeps them)."""
    factor_bundle(config)
    files = plan_paths(
        config, paths, platform=platform, collector=collector, timezone=timezone, device=device
    )
    with Store(config.store_path) as store:
        return ingest(store, files, platforms=[p.name for p in config.platforms], observer=observer)


def forget(config: Config, paths: Sequence[str]) -> list[str]:
    """Remove files (as the store names them) and everything ingested from them; the names removed."""
    with Store(config.store_path) as store:
        return [name for name in paths if store.remove_file(name)]


def run_compute(config: Config, *, now: datetime | None = None) -> ComputeResult:
    """Compute every platform's SCI from the store, and keep the result in the store."""
    bundle = factor_bundle(config)
    moment = now or datetime.now(UTC)
    with Store(config.store_path) as store:
        result = compute(config, store, bundle, now=moment)
        store.save_computation(computed_at=moment, config_path=str(config.path), result_json=result.to_json())
    return result


def latest_result(config: Config) -> ComputeResult:
    with Store(config.store_path, read_only=True) as store:
        text = store.latest_computation()
    if text is None:
        raise SciError(f"{config.store_path} holds no computation yet", hint="run `sci-report compute` first")
    return ComputeResult.from_json(text)


def write_report(
    result: ComputeResult, out_dir: Path, *, pdf: bool = True, generated_at: datetime | None = None
) -> ReportFiles:
    """Render ``report.html`` (and ``report.pdf``) into ``out_dir``."""
    from reports.html import render_html

    out_dir.mkdir(parents=True, exist_ok=True)
    html = render_html(result, generated_at=generated_at or datetime.now(UTC))
    html_path = out_dir / "report.html"
    write_atomically(html_path, html.encode("utf-8"))
    pdf_path = None
    if pdf:
        from reports.pdf import write_pdf

        pdf_path = out_dir / "report.pdf"
        write_pdf(html, pdf_path)
    return ReportFiles(html=html_path, pdf=pdf_path)


@dataclass(frozen=True, slots=True)
class MeasureRun:
    """A measured command: its exit code, the log, and the figures printed."""

    command: tuple[str, ...]
    exit_code: int
    log_path: Path
    backends: tuple[str, ...]
    unavailable: tuple[str, ...]  # backends auto-detection skipped, with the reason
    samples: int
    duration_s: float
    factors: Factors
    footprint: Footprint
    unit: str | None
    ingested: list[FileOutcome] | None  # None: no sci.toml, nothing stored


def measure_factors(
    config: Config | None, platform: str | None, *, zone: str | None = None, pue: float | None = None
) -> Factors:
    """PUE and grid intensity for a measured run: the platform's in sci.toml, else ``zone`` / ``pue``."""
    from sci.measure.figures import Factors, zone_factors

    if config is None or platform is None:
        return zone_factors(zone, pue=pue or 1.0, pue_source="" if pue else "assumed 1.0 (no PUE given)")
    found = {p.name: p for p in config.platforms}.get(platform)
    if found is None:
        raise SciError(
            f"unknown platform {platform!r}",
            hint=f"use one of the platforms in {config.path.name}: "
            + ", ".join(p.name for p in config.platforms),
        )
    bundle = factor_bundle(config)
    if found.pue is not None:
        value, source = found.pue.value, found.pue.source
    elif found.provider is not None:
        factor = bundle.pue(found.provider)
        value, source = factor.value, factor.source
    else:
        value, source = 1.0, f"assumed 1.0 (no pue on platform {platform})"
    return Factors(pue=value, pue_source=source, intensity=bundle.grid_intensity(found.zone))


def run_measure(
    command: Sequence[str],
    *,
    config: Config | None,
    platform: str | None,
    factors: Factors,
    functional_units: float | None = None,
    unit: str | None = None,
    interval_s: float = 1.0,
    backends: str = "auto",
    options: BackendOptions | None = None,
    log_path: Path | None = None,
) -> MeasureRun:
    """Run ``command`` while sampling, write the log, and ingest it into ``platform`` (with a sci.toml)."""
    from sci.measure import child
    from sci.measure import log as measure_log
    from sci.measure.figures import footprint
    from sci.measure.session import Session

    if interval_s <= 0:
        raise SciError(
            f"--interval {interval_s:g} is not a positive number of seconds", hint="e.g. --interval 1"
        )
    started = datetime.now(UTC)
    folder = config.base_dir / "measurements" if config is not None else Path("measurements")
    path = log_path or folder / measure_log.default_name(started)
    session = Session(
        command=command, interval_s=interval_s, backends=backends, options=options, log_path=path
    )
    try:
        process = child.start(command)
    except child.CommandError:
        session.finish(None)
        path.unlink(missing_ok=True)
        raise
    session.start()
    exit_code: int | None = None
    try:
        exit_code = child.wait(process)
    finally:
        session.finish(exit_code)
    ingested = None
    if config is not None and platform is not None:
        ingested = run_ingest_paths(
            config, [path], platform=platform, collector="measure", device=session.host
        )
    return MeasureRun(
        command=tuple(command),
        exit_code=exit_code,
        log_path=path,
        backends=tuple(session.names),
        unavailable=tuple(str(u) for u in session.unavailable),
        samples=session.sampler.samples,
        duration_s=session.duration_s,
        factors=factors,
        footprint=footprint(
            energy_j=session.sampler.energy_j, factors=factors, functional_units=functional_units
        ),
        unit=unit,
        ingested=ingested,
    )


def run_ci(
    config: Config,
    *,
    release: str,
    platform: str | None = None,
    units: float | None = None,
    baseline_file: Path | None = None,
    threshold: float | None = None,
    update_baseline: bool = False,
    now: datetime | None = None,
) -> GateReport:
    """This release's SCI on the CI platform, judged against the previous release's baseline.

    Baselines live in ``baseline_file`` (a JSON file kept in the repository) or, without one, in the
    store's ``release_baselines``; ``update_baseline`` records this release's result there.
    """
    from sci import gate

    name = platform or config.ci.platform or _sole_platform(config)
    moment = now or datetime.now(UTC)
    result = run_compute(config, now=moment)
    found = next((p for p in result.platforms if p.platform == name), None)
    if found is None:
        raise SciError(
            f"no platform named {name!r} in {config.path}",
            hint=f"use --platform or [ci] platform = one of: {', '.join(p.name for p in config.platforms)}",
        )
    current = gate.estimate(found, units=units, unit=config.ci.unit)
    stored = gate.read_baseline_file(baseline_file) if baseline_file else _stored_baselines(config, name)
    limit = next(t for t in (threshold, config.ci.threshold, gate.DEFAULT_THRESHOLD) if t is not None)
    baseline = gate.previous(stored, platform=name, release=release)
    report = gate.judge(release, current, baseline, threshold=limit)
    new = gate.baseline_of(release, current, computed_at=moment)
    if update_baseline and new is not None:
        if baseline_file:
            gate.write_baseline_file(baseline_file, gate.upsert(stored, new))
        else:
            _store_baseline(config, new)
    return report


def _sole_platform(config: Config) -> str:
    if len(config.platforms) == 1:
        return config.platforms[0].name
    raise SciError(
        "which platform does the CI gate judge?",
        hint=f'add [ci] platform = "..." to sci.toml or --platform, one of: '
        f"{', '.join(p.name for p in config.platforms)}",
    )


def _stored_baselines(config: Config, platform: str) -> list[gate.Baseline]:
    from sci import gate

    with Store(config.store_path) as store:
        rows = store.query("release_baselines", platform=platform)
    return [
        gate.Baseline(
            release=r["release"],
            platform=r["platform"],
            sci=float(r["sci"]),
            low=float(r["low"]),
            high=float(r["high"]),
            unit=r["unit"],
            computed_at=aware_utc(r["computed_at_utc"]),
        )
        for r in rows
        if r["sci"] is not None
    ]


def _store_baseline(config: Config, baseline: gate.Baseline) -> None:
    with Store(config.store_path) as store:
        store.save_release_baseline(
            {
                "release": baseline.release,
                "platform": baseline.platform,
                "sci": baseline.sci,
                "low": baseline.low,
                "high": baseline.high,
                "unit": baseline.unit,
                "computed_at_utc": naive_utc(baseline.computed_at),
            }
        )


def export_audit(
    config: Config, directory: Path, *, force: bool = False, now: datetime | None = None
) -> audit.ExportFiles:
    """Compute from the store and write the audit export (records with lineage, totals, factors, data
    quality, disclosure, Impact Framework manifest, and a manifest of digests) into ``directory``."""
    import yaml

    from sci import audit, impact
    from sci.disclosure import disclosure

    bundle = factor_bundle(config)
    moment = now or datetime.now(UTC)
    with Store(config.store_path, read_only=True) as store:
        result = compute(config, store, bundle, now=moment)
        rows = store.query(
            "audit_records",
            start_utc=naive_utc(result.window_start),
            end_utc=naive_utc(result.window_end),
            platforms=[p.platform for p in result.platforms],
            tz=result.window_timezone,
        )
    records = audit.audit_records(rows, result, bundle)
    return audit.write_export(
        directory,
        result=result,
        records=records,
        disclosure=disclosure(result, records, audit.EXPORT_FILES),
        impact_framework=yaml.safe_dump(impact.manifest(result), sort_keys=False, allow_unicode=True),
        force=force,
    )


@dataclass(frozen=True, slots=True)
class Collected:
    destination: str
    machine: str
    outcomes: list[FileOutcome]


def machine_name(config: Config) -> str:
    """This machine's name in the shards it writes: ``[fleet] machine``, else the host name."""
    import socket

    return config.fleet.machine or socket.gethostname()


def fleet_destination(config: Config, given: str | None = None) -> fleet.Destination:
    """``given`` (a folder or ``s3://bucket/prefix``), else ``[fleet] destination``."""
    from sci import fleet

    where = given or config.fleet.destination
    if where is None:
        raise ConfigError(
            "fleet.destination",
            "missing: where `sci-report collect` writes this machine's shards",
            hint='e.g. [fleet] destination = "s3://bucket/sci" or "/mnt/shared/sci"',
            path=config.path,
        )
    return fleet.destination(where, base=config.base_dir, fleet=config.fleet)


def run_collect(
    config: Config, destination: str | None = None, *, force: bool = False, now: datetime | None = None
) -> Collected:
    """Parse the files sci.toml names, as ``ingest`` does, and write a shard for each one the
    destination does not hold yet (docs/fleet.md)."""
    from sci import fleet
    from sci.cloud import fetch_configured

    config = fetch_configured(config)
    target = fleet_destination(config, destination)
    machine = machine_name(config)
    outcomes = fleet.collect(
        plan(config),
        target,
        platforms=[p.name for p in config.platforms],
        machine=machine,
        at=now or datetime.now(UTC),
        force=force,
    )
    return Collected(destination=target.url, machine=machine, outcomes=outcomes)


def export_dataset(config: Config, destination: str) -> fleet.Written:
    """Write the store as shards into a Hive-partitioned Parquet dataset (a folder or s3://)."""
    from sci import fleet

    target = fleet_destination(config, destination)
    with Store(config.store_path, read_only=True) as store:
        return fleet.share(store, target, machine=machine_name(config))


def run_ingest_dataset(config: Config, source: str | None = None) -> list[FileOutcome]:
    """Load the shards of a dataset (a folder or s3://, default ``[fleet] destination``) into the store."""
    from sci import fleet

    factor_bundle(config)
    where = fleet_destination(config, source)
    root = where.local_root(config.base_dir / fleet.CACHE_DIR)
    with Store(config.store_path) as store:
        return fleet.load(store, root, platforms=[p.name for p in config.platforms])
