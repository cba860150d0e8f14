"""The operations behind the CLI, callable from Python: ingest, compute, report, run.

This is the one layer that ties collectors, store, engine and reports together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sci.compute import check_factors, compute
from sci.config import Config
from sci.errors import SciError
from sci.factors import OVERRIDE_TABLES, FactorBundle, FactorOverride, load_bundle
from sci.files import write_atomically
from sci.ingest import FileOutcome, Observer, ingest, plan, plan_paths, prune
from sci.results import ComputeResult
from sci.store import Store


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
