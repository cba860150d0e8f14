"""Fetching cloud providers' carbon and usage data into local files that collectors then read.

Collectors never touch the network; these modules do, only when sci.toml configures a fetch (a source
with a ``bigquery`` or ``azure`` table), and write every answer to ``<config dir>/.sci-cache/<provider>/``
so that every number traces to a file and a row. SDK imports are lazy: nothing here loads a cloud SDK
unless a fetch is configured.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sci.config import Config, SourceConfig
from sci.errors import ConfigError
from sci.files import write_atomically

CACHE_DIR = ".sci-cache"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def fetch_configured(config: Config) -> Config:
    """Run the fetches sci.toml configures and return the config with each fetching source's paths set
    to the files written. Sources without a fetch are unchanged; nothing is fetched when none has one."""
    platforms = []
    for platform in config.platforms:
        sources = tuple(_fetched(config, source) for source in platform.sources)
        platforms.append(dataclasses.replace(platform, sources=sources))
    return dataclasses.replace(config, platforms=tuple(platforms))


def _fetched(config: Config, source: SourceConfig) -> SourceConfig:
    if "bigquery" in source.options:
        from sci.cloud.gcp import fetch as fetch_gcp

        paths = fetch_gcp(config, source)
    elif "azure" in source.options:
        from sci.cloud.azure import fetch as fetch_azure

        paths = fetch_azure(config, source)
    else:
        return source
    return dataclasses.replace(source, paths=tuple(str(p) for p in paths))


def cache_path(config: Config, provider: str, *parts: str, suffix: str) -> Path:
    """``<config dir>/.sci-cache/<provider>/<parts joined by _><suffix>``, each part made a safe file name."""
    name = "_".join(_UNSAFE.sub("-", part).strip("-.") or "x" for part in parts)
    return config.base_dir / CACHE_DIR / provider / f"{name}{suffix}"


def is_fresh(path: Path, *, complete_after: datetime) -> bool:
    """Whether the cached file exists and was written after its data was complete (then it is reused)."""
    if not path.is_file():
        return False
    written = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return written >= complete_after


def write_cache(path: Path, data: bytes) -> None:
    """Write a fetched answer atomically: a failed fetch never leaves a half-written cache file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, data)


def landed(period_end: datetime, delay_days: int) -> datetime:
    """When a provider's figures for a period ending at ``period_end`` are complete."""
    return period_end + timedelta(days=delay_days)


def date_range(config: Config, raw: Mapping[str, Any], key: str) -> tuple[date, date]:
    """A fetch table's ``start`` and ``end`` (end exclusive) as dates, or the ``[window]``'s days."""
    start, end = raw.get("start"), raw.get("end")
    if start is None and end is None and config.window_start and config.window_end:
        start, end = config.window_start.date(), config.window_end.date()
    if start is None or end is None:
        raise ConfigError(
            key,
            "give start and end (end exclusive), or a [window]",
            hint='e.g. start = "2026-10-01", end = "2026-11-01"',
        )
    return _date(start, f"{key}.start"), _date(end, f"{key}.end")


def _date(value: Any, key: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(key, f"expected a date YYYY-MM-DD, got {value!r}") from None
