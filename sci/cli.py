"""The ``sci-report`` command line: thin commands over ``sci.app``.

Expected problems (``SciError``) become ``Error: ...`` / ``hint: ...`` and exit code 1, here and only
here; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sci import __version__
from sci.arenas import fewer_malloc_arenas
from sci.errors import SciError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sci.app import MeasureRun, ReportFiles
    from sci.config import Config
    from sci.ingest import FileOutcome, PlannedFile
    from sci.results import ComputeResult

PROGRESS_MIN_BYTES = 4 << 20


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sci-report")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def cli(debug: bool) -> None:
    """Software Carbon Intensity (SCI, ISO/IEC 21031:2024) for software and ML teams.

    SCI = (E x I + M) / R, per platform, from measured power logs, provider exports and proxies.
    """


config_option = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=Path("sci.toml"),
    show_default=True,
    help="The sci.toml to use (or a folder holding one).",
)
store_option = click.option(
    "--store", type=click.Path(path_type=Path), default=None, help="DuckDB store (default: [project].store)."
)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path), default=Path("sci.toml"))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path, force: bool) -> None:
    """Write a commented starter sci.toml."""
    if path.exists() and not force:
        raise SciError(f"{path} already exists", hint="use --force to overwrite it, or give another path")
    text = (files("sci") / "data" / "starter.toml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}: edit the platforms and sources, then run `sci-report run`")


@cli.command()
@config_option
@store_option
@click.option("--platform", default=None, help="Platform for PATHS that sci.toml does not name.")
@click.option("--format", "collector", default=None, help="Collector for such PATHS (default: recognised).")
@click.option("--timezone", default=None, help="Zone of local-time logs among such PATHS (IANA name).")
@click.option("--device", default="{stem}", show_default=True, help="Device name (or {stem}/{parent}).")
@click.option(
    "--dataset",
    default=None,
    help="Load the shards of a dataset instead: a folder or s3://bucket/prefix (see docs/fleet.md).",
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def ingest(  # noqa: PLR0917 - click passes every option by position
    config_path: Path,
    store: Path | None,
    platform: str | None,
    collector: str | None,
    timezone: str | None,
    device: str,
    dataset: str | None,
    paths: tuple[Path, ...],
) -> None:
    """Load the files sci.toml names (or only PATHS) into the store.

    PATHS that sci.toml does not name go to --platform, each read by --format or by the collector that
    recognises its content; a full ingest keeps them until `sci-report forget`. --dataset loads the
    shards `sci-report collect` wrote on other machines (each file once, by its sha256).
    """
    fewer_malloc_arenas()  # before the store opens: sci/arenas.py
    from sci import app

    config = _config(config_path, store)
    if dataset is not None:
        if paths or platform or collector or timezone:
            raise SciError("--dataset loads shards: it takes no PATHS or file options", hint="run them apart")
        _print_ingest(app.run_ingest_dataset(config, dataset))
        return
    if platform is None and collector is None and timezone is None:
        outcomes = app.run_ingest(config, paths, _ProgressObserver())
    else:
        if not paths:
            raise SciError(
                "--platform, --format and --timezone are for PATHS", hint="name the files to ingest"
            )
        outcomes = app.run_ingest_paths(
            config,
            paths,
            platform=platform or _sole_platform(config),
            collector=collector,
            timezone=_zone_option(timezone),
            device=device,
            observer=_ProgressObserver(),
        )
    _print_ingest(outcomes)


@cli.command()
def formats() -> None:
    """List the input formats (collectors) sci-report reads, in auto-detection order."""
    import collectors

    order = [name for name, _ in collectors.BUILTIN]
    for name in order + [n for n in collectors.names() if n not in order]:
        cls = collectors.load(name)
        summary = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        zone = " (local time: needs a timezone)" if cls.needs_timezone else ""
        click.echo(f"{name:<20} v{cls.version}  {summary}{zone}")


@cli.command()
@config_option
@store_option
@click.argument("names", nargs=-1, required=True)
def forget(config_path: Path, store: Path | None, names: tuple[str, ...]) -> None:
    """Remove stored files (by the name `ingest` printed) and everything ingested from them."""
    from sci import app

    removed = app.forget(_config(config_path, store), names)
    missing = sorted(set(names) - set(removed))
    click.echo(
        f"forget: {len(removed)} files removed" + (f"; not stored: {', '.join(missing)}" if missing else "")
    )


@cli.command()
@config_option
@click.option(
    "--to", "destination", default=None, help="Folder or s3://bucket/prefix (default: [fleet] destination)."
)
@click.option("--force", is_flag=True, help="Write every shard again (after changing a source's settings).")
def collect(config_path: Path, destination: str | None, force: bool) -> None:
    """Parse the files sci.toml names, as ingest does, and write them as Parquet shards to shared storage.

    One shard per file, named by its sha256 and collector version: collecting again writes only new
    files. Load the shards of every machine with `sci-report ingest --dataset` (docs/fleet.md).
    """
    fewer_malloc_arenas()  # before the store opens: sci/arenas.py
    from sci import app

    done = app.run_collect(_config(config_path, None), destination, force=force)
    written = [o for o in done.outcomes if o.outcome in ("ingested", "replaced")]
    records = sum(o.records for o in written)
    click.echo(
        f"collect: {len(done.outcomes)} files of {done.machine}: {len(written)} new shards "
        f"({records:,} records), {len(done.outcomes) - len(written)} already there or duplicates; "
        f"to {done.destination}"
    )
    for outcome in done.outcomes:
        if outcome.outcome == "duplicate":
            click.echo(f"  duplicate: {outcome.name}: {outcome.detail}")


def _sole_platform(config: Config) -> str:
    if len(config.platforms) == 1:
        return config.platforms[0].name
    raise SciError(
        "these files are not named by sci.toml: say which platform they belong to",
        hint=f"add --platform, one of: {', '.join(p.name for p in config.platforms)}",
    )


def _zone_option(name: str | None) -> ZoneInfo | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SciError(
            f"unknown time zone {name!r} (--timezone)", hint='use an IANA name, e.g. "Europe/Berlin"'
        ) from None


@cli.command()
@config_option
@store_option
def compute(config_path: Path, store: Path | None) -> None:
    """Compute each platform's SCI and annual emissions from the store."""
    from sci import app

    result = app.run_compute(_config(config_path, store))
    _print_result(result)


@cli.command()
@config_option
@store_option
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Folder for the report.")
@click.option("--no-pdf", is_flag=True, help="Write only report.html.")
def report(config_path: Path, store: Path | None, output: Path | None, no_pdf: bool) -> None:
    """Render the latest computation as report.html and report.pdf."""
    from sci import app

    config = _config(config_path, store)
    written = app.write_report(app.latest_result(config), output or config.output_dir, pdf=not no_pdf)
    _print_written(written)


@cli.command()
@click.argument("target", type=click.Path(path_type=Path), default=Path())
@store_option
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Folder for the report.")
@click.option("--no-pdf", is_flag=True, help="Write only report.html.")
def run(target: Path, store: Path | None, output: Path | None, no_pdf: bool) -> None:
    """Ingest, compute and report in one go. TARGET is a sci.toml or a folder holding one."""
    fewer_malloc_arenas()  # before the store opens: sci/arenas.py
    from sci import app

    config = _config(target, store)
    _print_ingest(app.run_ingest(config, (), _ProgressObserver()))
    result = app.run_compute(config)
    _print_result(result)
    _print_written(app.write_report(result, output or config.output_dir, pdf=not no_pdf))


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@config_option
@store_option
@click.option(
    "--platform", default=None, help="sci.toml platform: its location/region and PUE; stored there."
)
@click.option("--unit-count", type=float, default=None, help="R: functional units this run delivered.")
@click.option("--unit", default=None, help="The functional unit's name, e.g. 'training runs'.")
@click.option("--interval", type=float, default=1.0, show_default=True, help="Seconds between samples.")
@click.option(
    "--tdp-w", type=float, default=None, help="CPU TDP in W for the CPU proxy (instead of the table)."
)
@click.option("--log", "log_path", type=click.Path(path_type=Path), default=None, help="The log to write.")
@click.option(
    "--kfp-metrics", type=click.Path(path_type=Path), default=None, help="Write KFP metrics JSON here."
)
@click.option("--backends", default="auto", show_default=True, help="auto, or a list of nvml,rapl,cpu-proxy.")
@click.option("--location", default=None, help="Country (ISO code) for the grid intensity, without sci.toml.")
@click.option("--region", default=None, help="Cloud region (aws:eu-west-1) for it, without sci.toml.")
@click.option("--pue", type=float, default=None, help="PUE without sci.toml (default 1.0).")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def measure(  # noqa: PLR0917 - click passes every option by position
    ctx: click.Context,
    config_path: Path,
    store: Path | None,
    platform: str | None,
    unit_count: float | None,
    unit: str | None,
    interval: float,
    tdp_w: float | None,
    log_path: Path | None,
    kfp_metrics: Path | None,
    backends: str,
    location: str | None,
    region: str | None,
    pue: float | None,
    command: tuple[str, ...],
) -> int:
    """Run COMMAND (after --) while measuring its energy; print E, carbon and SCI; exit with its code.

    Samples NVML GPUs when present, RAPL when readable, else a CPU proxy (utilisation x TDP). The log
    (default <sci.toml folder>/measurements/) is ingested into --platform when a sci.toml is present.
    """
    from sci import app
    from sci.measure import kfp
    from sci.measure.backends import BackendOptions

    explicit = ctx.get_parameter_source("config_path") is not click.core.ParameterSource.DEFAULT
    config = _config(config_path, store) if explicit or _has_config(config_path) else None
    if config is not None and platform is None:
        platform = _sole_platform(config)
    factors = app.measure_factors(config, platform, zone=location or region, pue=pue)
    run = app.run_measure(
        command,
        config=config,
        platform=platform,
        factors=factors,
        functional_units=unit_count,
        unit=unit,
        interval_s=interval,
        backends=backends,
        options=BackendOptions(tdp_w=tdp_w),
        log_path=log_path,
    )
    if kfp_metrics is not None:
        f = run.footprint
        metrics = kfp.run_metrics(
            energy_kwh=f.energy_kwh,
            duration_s=run.duration_s,
            carbon_g=f.carbon_g,
            sci_g_per_unit=f.sci_g_per_unit,
        )
        kfp.write_metrics(kfp_metrics, metrics)
    _print_measure(run)
    return run.exit_code


def _has_config(target: Path) -> bool:
    return (target / "sci.toml").is_file() if target.is_dir() else target.is_file()


def _print_measure(run: MeasureRun) -> None:
    def say(text: str) -> None:
        click.echo(text, err=True)

    f, factors = run.footprint, run.factors
    say(
        f"measure: {' '.join(run.command)} exited with {run.exit_code} after {run.duration_s:.2f} s; "
        f"{run.samples} samples ({', '.join(run.backends)}); log: {run.log_path}"
    )
    for reason in run.unavailable:
        say(f"  not used: {reason}")
    if run.ingested is not None:
        _print_ingest(run.ingested, echo=say)
    say(f"E: {f.energy_kwh:.6g} kWh (device {f.it_energy_kwh:.6g} kWh x PUE {f.pue:g}, {factors.pue_source})")
    if factors.intensity is None:
        say("carbon: unknown (no location: give --platform with a sci.toml, or --location / --region)")
    else:
        i = factors.intensity
        year = f", {i.year}" if i.year else ""
        say(f"carbon: {f.carbon_g:.6g} gCO2e (E x {i.value:g} gCO2e/kWh, {i.key}: {i.source}{year})")
    if f.sci_g_per_unit is not None:
        say(f"SCI: {f.sci_g_per_unit:.6g} gCO2e / {run.unit or 'unit'} (operational E x I; M not included)")
    elif f.carbon_g is not None:
        why = "R not given: --unit-count" if f.functional_units is None else "R = 0"
        say(f"SCI: undefined ({why})")


@cli.command()
@config_option
@store_option
@click.option("--release", required=True, help="This release's name (a tag, e.g. ${{ github.ref_name }}).")
@click.option("--platform", default=None, help="The platform to gate (default: [ci] platform).")
@click.option("--units", type=click.FloatRange(min=0), default=None, help="R for this release's data.")
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(path_type=Path),
    default=None,
    help="JSON file of release baselines kept in the repository (default: the store).",
)
@click.option("--update-baseline", is_flag=True, help="Record this release's SCI as the next baseline.")
@click.option(
    "--threshold",
    type=click.FloatRange(min=0),
    default=None,
    help="Relative regression threshold (default: [ci] threshold, else 0.05).",
)
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None, help="Write the verdict.")
@click.option(
    "--markdown",
    "markdown_out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the Markdown summary (it is also appended to $GITHUB_STEP_SUMMARY when set).",
)
def ci(  # noqa: PLR0917 - click passes every option by position
    config_path: Path,
    store: Path | None,
    release: str,
    platform: str | None,
    units: float | None,
    baseline_file: Path | None,
    update_baseline: bool,
    threshold: float | None,
    json_out: Path | None,
    markdown_out: Path | None,
) -> int:
    """Gate a release on its SCI: exit 2 when it regressed past the threshold and the noise.

    Regression = this release's lower bound above the baseline's upper bound x (1 + threshold).
    """
    import json
    import os

    from sci import app, gate
    from sci.files import write_atomically

    report = app.run_ci(
        _config(config_path, store),
        release=release,
        platform=platform,
        units=units,
        baseline_file=baseline_file,
        threshold=threshold,
        update_baseline=update_baseline,
    )
    summary = gate.markdown(report)
    if json_out:
        write_atomically(json_out, (json.dumps(report.to_dict(), indent=2) + "\n").encode("utf-8"))
    if markdown_out:
        write_atomically(markdown_out, summary.encode("utf-8"))
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with Path(step_summary).open("a", encoding="utf-8") as stream:
            stream.write(summary + "\n")
    e = report.estimate
    sci = (
        "undefined"
        if e.sci is None
        else f"{e.sci:,.4g} gCO2e / {e.unit or 'unit'} (+/-{e.relative_uncertainty:.0%})"
    )
    click.echo(f"ci: {e.platform} {release}: {sci}: {report.status}: {report.message}")
    return report.exit_code


@cli.command()
@config_option
@store_option
@click.option(
    "--audit",
    "directory",
    type=click.Path(path_type=Path),
    default=None,
    help="Directory for the audit export (new or empty).",
)
@click.option(
    "--dataset", default=None, help="Write the store as a Hive-partitioned Parquet dataset (folder or s3://)."
)
@click.option("--force", is_flag=True, help="Write into a directory that is not empty.")
def export(
    config_path: Path, store: Path | None, directory: Path | None, dataset: str | None, force: bool
) -> None:
    """Write an audit export: every record with its lineage, the totals, factors, data quality, a
    manifest of sha256 digests, an SCI disclosure and a GSF Impact Framework manifest.

    With --dataset: the store's files as shards (platform=/month=/part-*.parquet, docs/fleet.md), which
    DuckDB, Spark and Trino read and `sci-report ingest --dataset` loads.
    """
    from sci import app

    if (directory is None) == (dataset is None):
        raise SciError(
            "give one of --audit DIR or --dataset DIR", hint="e.g. sci-report export --audit audit/"
        )
    if dataset is not None:
        shared = app.export_dataset(_config(config_path, store), dataset)
        click.echo(
            f"export: {shared.shards} shards ({shared.objects} objects, {shared.records:,} records) "
            f"to {dataset}"
        )
        return
    assert directory is not None
    written = app.export_audit(_config(config_path, store), directory, force=force)
    click.echo(f"export: {len(written.files)} files, {written.records:,} records in {directory}")
    click.echo(f"  check it with: sci-report verify {directory}")


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
def verify(directory: Path) -> None:
    """Check an audit export: the manifest's digests, and every total recomputed from the records."""
    from sci.verify import verify_export

    checked = verify_export(directory)
    click.echo(
        f"verify: {directory}: {checked.files} files match the manifest; {checked.records:,} records "
        f"recompute {checked.totals} totals of totals.json (relative tolerance {checked.tolerance:g})"
    )


def _config(target: Path, store: Path | None) -> Config:
    from sci.config import find_config, load_config

    return load_config(find_config(target), store_override=store)


def _print_ingest(outcomes: list[FileOutcome], echo: Callable[[str], None] = click.echo) -> None:
    counts = Counter(str(o.outcome) for o in outcomes)
    records = sum(o.records for o in outcomes if o.outcome in ("ingested", "replaced"))
    issues = sum(o.issues for o in outcomes)
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    echo(f"ingest: {len(outcomes)} files ({summary}); {records:,} new records; {issues} data-quality issues")
    for outcome in outcomes:
        if outcome.outcome in ("duplicate", "removed"):
            echo(f"  {outcome.outcome}: {outcome.name}: {outcome.detail}")


def _print_result(result: ComputeResult) -> None:
    import math
    from zoneinfo import ZoneInfo

    def three_figures(value: float) -> str:  # 12.1, 0.0512, 1,234: no exponent
        decimals = 2 - math.floor(math.log10(abs(value))) if value else 0
        return f"{value:,.{max(decimals, 0)}f}"

    zone = ZoneInfo(result.window_timezone)
    start, end = result.window_start.astimezone(zone), result.window_end.astimezone(zone)
    click.echo(f"window: {start:%Y-%m-%d} to {end:%Y-%m-%d} {zone.key} ({result.window_days:.4g} days)")
    click.echo(f"  {'platform':<16} {'kgCO2e':>10} {'kgCO2e/yr':>11}  SCI")
    for p in result.platforms:
        if p.sci_g_per_unit is None:
            sci = "undefined (R not declared)" if p.functional_units is None else "undefined (R = 0)"
        else:
            spread = (
                f" ({three_figures(p.sci_low_g_per_unit)}-{three_figures(p.sci_high_g_per_unit)})"
                if p.sci_low_g_per_unit is not None and p.sci_high_g_per_unit is not None
                else ""
            )
            sci = f"{p.sci_g_per_unit:,.2f}{spread} gCO2e / {p.unit or 'unit'}"
        window_kg, annual_kg = p.carbon_g / 1000, p.annual_carbon_g / 1000
        click.echo(f"  {p.platform:<16} {window_kg:>10,.2f} {annual_kg:>11,.1f}  {sci}")
    total_kg, annual_kg = result.total_carbon_g / 1000, result.annual_total_carbon_g / 1000
    click.echo(f"  {'total':<16} {total_kg:>10,.2f} {annual_kg:>11,.1f}")


def _print_written(written: ReportFiles) -> None:
    html, pdf = _shown(written.html), _shown(written.pdf) if written.pdf else None
    click.echo(f"report: {html}" + (f" and {pdf}" if pdf else ""))


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class _ProgressObserver:
    """A progress bar for long ingests, on a terminal only."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._done = 0

    def start(self, planned: PlannedFile, size_bytes: int) -> None:
        if size_bytes >= PROGRESS_MIN_BYTES and sys.stderr.isatty():
            self._bar = click.progressbar(length=size_bytes, label=planned.name, file=sys.stderr)
            self._bar.__enter__()
            self._done = 0

    def advance(self, bytes_done: int) -> None:
        if self._bar is not None:
            self._bar.update(bytes_done - self._done)
            self._done = bytes_done

    def finish(self, outcome: FileOutcome | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        code = cli.main(args=args, prog_name="sci-report", standalone_mode=False)
    except SciError as exc:
        if "--debug" in args:
            raise
        click.echo(f"Error: {exc}", err=True)
        if exc.hint:
            click.echo(f"hint: {exc.hint}", err=True)
        sys.exit(getattr(exc, "exit_code", 1))  # a measured command that cannot start: 126/127
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    if isinstance(code, int) and code:
        sys.exit(code)
