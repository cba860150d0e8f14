"""Ingest: find the files ``sci.toml`` names, and load each one into the store exactly once.

- A file whose content, collector and options are unchanged since it was stored is skipped.
- A changed file replaces its own rows, in one transaction.
- A file with the same bytes as another stored file is not counted twice: it is recorded with a
  ``duplicate-file`` data-quality issue and no records.
- A full ingest makes the store match ``sci.toml``: stored files it no longer names (also those of
  platforms it no longer has) are removed, and reported.
"""

from __future__ import annotations

import glob
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import astuple, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import collectors
from collectors.base import ReadHash, SourceContext, numbered_lines, reads_once
from sci.config import AUTO_COLLECTOR, Config, SourceConfig
from sci.digest import Digest, Fingerprint, file_size, fingerprint
from sci.errors import CollectorError, ConfigError, SciError
from sci.model import Action, IssueKind, Item, QualityIssue, RecordBatch, RecordValueError
from sci.prefetch import prefetched
from sci.screen import screened
from sci.store import FileMeta, Store, StoredFile


class Outcome(StrEnum):
    INGESTED = "ingested"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    REMOVED = "removed"


CLI_SOURCE_KEY = "cli"
"""The source key of files ingested by path (``sci-report ingest --platform P FILE``, ``measure``): sci.toml
does not name them, so a full ingest keeps them (``sci-report forget FILE`` removes one)."""
FLEET_SOURCE_KEY = "fleet"
"""The source key of files loaded from shards (``sci-report ingest --dataset``, sci/fleet.py): another
machine's sci.toml named them, so a full ingest keeps them too."""
KEPT_SOURCE_KEYS = frozenset({CLI_SOURCE_KEY, FLEET_SOURCE_KEY})


@dataclass(frozen=True, slots=True)
class PlannedFile:
    source: SourceConfig
    path: Path  # absolute
    name: str  # how the store names it: relative to the config's folder when inside it
    device: str
    collector: str  # the source's collector, or the one recognised from the content (collector = "auto")


@dataclass(frozen=True, slots=True)
class FileOutcome:
    name: str
    outcome: Outcome
    records: int = 0
    issues: int = 0
    detail: str = ""


class Observer(Protocol):
    """Progress of an ingest, for a progress bar. All methods are optional in spirit: no-ops are fine."""

    def start(self, planned: PlannedFile, size_bytes: int) -> None: ...
    def advance(self, bytes_done: int) -> None: ...
    def finish(self, outcome: FileOutcome | None) -> None: ...  # None: the file failed


def plan(config: Config, only: Sequence[Path] = ()) -> list[PlannedFile]:
    """Every file the config's sources name, or only those of ``only`` (which must be named)."""
    planned: dict[Path, PlannedFile] = {}
    for platform in config.platforms:
        for source in platform.sources:
            for path in _expand(config.base_dir, source) + _fetched(config.base_dir, source):
                if path in planned:
                    raise ConfigError(
                        f"{source.key}.paths",
                        f"{path} is also named by {planned[path].source.key}: it would be counted twice",
                        hint="make the globs of the two sources disjoint",
                    )
                planned[path] = _planned(config.base_dir, source, path)
    if not only:
        return sorted(planned.values(), key=lambda p: p.name)
    chosen = []
    for wanted in only:
        resolved = wanted.resolve()
        if resolved not in planned:
            raise SciError(
                f"{wanted} is not named by any source in {config.path.name}",
                hint="add it (or a glob matching it) to a source's paths in sci.toml",
            )
        chosen.append(planned[resolved])
    return chosen


def plan_paths(
    config: Config,
    paths: Sequence[Path],
    *,
    platform: str,
    collector: str | None = None,
    timezone: ZoneInfo | None = None,
    device: str = "{stem}",
) -> list[PlannedFile]:
    """Files given by path rather than by sci.toml, for ``platform``: each in ``collector``'s format, or
    in the one recognised from its content. A file sci.toml names keeps its configured source."""
    names = {p.name: p for p in config.platforms}
    if platform not in names:
        raise SciError(
            f"unknown platform {platform!r}",
            hint=f"use one of the platforms in {config.path.name}: {', '.join(names) or '(none)'}",
        )
    configured = {p.path: p for p in plan(config)} if any(p.sources for p in config.platforms) else {}
    if collector is not None:
        collectors.load(collector)  # an unknown name is an error before anything is read
    source = SourceConfig(
        key=CLI_SOURCE_KEY,
        platform=platform,
        collector=collector or AUTO_COLLECTOR,
        paths=tuple(str(p) for p in paths),
        device=device,
        timezone=timezone,
        max_gap_s=config.max_gap_s,
        options={},
        max_power_w=config.max_power_w,
    )
    chosen: list[PlannedFile] = []
    for given in paths:
        path = given.resolve()
        if not path.is_file():
            raise SciError(f"no file at {given}", hint="check the path")
        chosen.append(configured.get(path) or _planned(config.base_dir, source, path))
    return chosen


def ingest(
    store: Store, files: list[PlannedFile], *, platforms: list[str], observer: Observer | None = None
) -> list[FileOutcome]:
    """Load ``files`` into ``store``; each file is its own transaction.

    Files with identical bytes are counted once: one holds the records (the one already holding them in
    the store, else the first by name) and the others are recorded as duplicates of it. Only files of
    ``platforms`` (the configured ones) can hold records for another.
    """
    sizes = {p.name: file_size(p.path) for p in files}
    stored, counts = store.stored_sizes(), Counter(sizes.values())
    prints = {  # only these bytes can equal a stored file's or each other's: the rest are hashed as parsed
        p.name: fingerprint(p.path) for p in files if sizes[p.name] in stored or counts[sizes[p.name]] > 1
    }
    holders = _holders(store, prints, platforms)
    return [
        _ingest_one(store, p, prints.get(p.name) or sizes[p.name], holders.get(p.name), observer)
        for p in files
    ]


def _holders(store: Store, prints: dict[str, Fingerprint], platforms: list[str]) -> dict[str, str | None]:
    """For each hashed file, the file whose records count for its bytes, or None where its own records
    count (as for every file not hashed first: no other file has its size)."""
    groups: dict[str, list[str]] = {}
    for name in sorted(prints):
        groups.setdefault(prints[name].sha256, []).append(name)
    holders: dict[str, str | None] = {}
    for sha256, group in groups.items():
        stored = store.holders_of(sha256, platforms=platforms)
        inside = [name for name in stored if name in group]
        outside = [name for name in stored if name not in prints]  # only in a partial ingest
        holder = (inside or outside or group)[0]
        holders.update({name: None if name == holder else holder for name in group})
    return holders


def prune(store: Store, files: list[PlannedFile], platforms: Sequence[str]) -> list[FileOutcome]:
    """Remove every stored file that the config no longer names, so the store matches sci.toml.

    Files ingested by path (source key ``cli``) stay while their platform is configured.
    """
    named = {p.name for p in files}
    return [
        FileOutcome(row["path"], Outcome.REMOVED, detail="no longer named by sci.toml")
        for row in store.query("all_files")
        if row["path"] not in named
        and not (row["source_key"] in KEPT_SOURCE_KEYS and row["platform"] in platforms)
        and store.remove_file(row["path"])
    ]


def _ingest_one(
    store: Store, planned: PlannedFile, known: Fingerprint | int, twin: str | None, observer: Observer | None
) -> FileOutcome:
    """Ingest one file; ``known`` is its fingerprint, or only its size when it is to be hashed as parsed
    (no stored file has that size, so it is not unchanged and has no twin)."""
    source = planned.source
    cls = collectors.load(planned.collector)
    stored = store.stored_file(planned.name)
    fingerprint, size = (known, known.size_bytes) if isinstance(known, Fingerprint) else (None, known)
    meta = FileMeta(
        path=planned.name,
        sha256=fingerprint.sha256 if fingerprint else "",  # set at the end of the transaction if ""
        size_bytes=size,
        collector=cls.name,
        collector_version=cls.version,
        platform=source.platform,
        source_key=source.key,
        options_digest=_options_digest(planned),
        duplicate_of=twin,
    )
    if fingerprint and stored is not None and _same(stored_meta=stored, meta=meta):
        return _report(observer, FileOutcome(planned.name, Outcome.UNCHANGED, records=stored.record_count))
    if fingerprint and twin is not None:
        lines = _count_lines(planned)
        issue = QualityIssue(
            kind=IssueKind.DUPLICATE_FILE,
            action=Action.DROPPED,
            line_start=1,
            line_end=max(lines, 1),
            rows=lines,
            detail=f"same bytes as {twin} (sha256 {fingerprint.sha256[:12]}…): counted once, there",
            device=planned.device,
        )
        store.replace_file(meta, [issue])
        return _report(
            observer, FileOutcome(planned.name, Outcome.DUPLICATE, issues=1, detail=f"same as {twin}")
        )
    if observer:
        observer.start(planned, meta.size_bytes)
    try:
        read_hash = ReadHash() if fingerprint is None and reads_once(cls) else None
        beside = fingerprint is None and read_hash is None
        with Digest(planned.path) if beside else nullcontext() as digest:
            parsed = _finite(cls().parse(_context(planned, observer, read_hash)), planned.path)
            items = screened(prefetched(parsed, heavy=_is_batch), source.max_power_w, planned.device)
            counts = store.replace_file(meta, items, digest=_late(planned.path, digest, read_hash))
    except BaseException:
        if observer:
            observer.finish(None)
        raise
    kind = Outcome.REPLACED if stored is not None else Outcome.INGESTED
    return _report(observer, FileOutcome(planned.name, kind, records=counts.records, issues=counts.issues))


def _late(
    path: Path, digest: Digest | None, read_hash: ReadHash | None
) -> Callable[[], tuple[str, int]] | None:
    """How the store gets the sha256 and size of a file hashed as parsed (None: it was hashed before):
    from the hash thread beside the parse, or from the bytes the collector read (if it read the whole
    file once; otherwise the file is hashed now)."""
    if digest is not None:
        return lambda: astuple(digest.result())
    if read_hash is None:
        return None
    return lambda: read_hash.result() or astuple(fingerprint(path))


def _finite(items: Iterator[Item], path: Path) -> Iterator[Item]:
    """``items``, with a record whose figure overflowed (1e308 tonnes, in grams) reported as the file's
    error at its line, like any other unreadable value, instead of escaping as a ValueError."""
    try:
        yield from items
    except RecordValueError as exc:
        raise CollectorError(
            path,
            exc.line,
            f"{exc.name} comes to {exc.value} once converted: a figure too large to count",
            hint="check this line's value and unit against the original (an exponent or unit gone wrong?)",
        ) from None


def _is_batch(item: Item) -> bool:
    return isinstance(item, RecordBatch)


def _context(
    planned: PlannedFile, observer: Observer | None = None, read_hash: ReadHash | None = None
) -> SourceContext:
    source = planned.source
    return SourceContext(
        path=planned.path,
        device=planned.device,
        timezone=source.timezone,
        max_gap_s=source.max_gap_s,
        options=source.options,
        on_progress=observer.advance if observer else None,
        batches=True,
        read_hash=read_hash,
    )


def _report(observer: Observer | None, outcome: FileOutcome) -> FileOutcome:
    if observer:
        observer.finish(outcome)
    return outcome


def _count_lines(planned: PlannedFile) -> int:
    """Lines of the file as a collector reads them (decompressed), for a duplicate's row count."""
    with numbered_lines(_context(planned)) as lines:
        return sum(1 for _ in lines)


def _same(*, stored_meta: StoredFile, meta: FileMeta) -> bool:
    return all(
        getattr(stored_meta, name) == getattr(meta, name)
        for name in ("sha256", "collector", "collector_version", "platform", "options_digest", "duplicate_of")
    )


def _planned(base: Path, source: SourceConfig, path: Path) -> PlannedFile:
    name = collectors.detect(path) if source.auto else source.collector
    if source.auto and source.timezone is None and collectors.load(name).needs_timezone:
        raise ConfigError(
            f"{source.key}.timezone",
            f"{path} is a {name} log, which carries local time without a zone",
            hint='set the zone the logging machine ran in, e.g. timezone = "Europe/Berlin"'
            + (" (or --timezone)" if source.key == CLI_SOURCE_KEY else ""),
        )
    return PlannedFile(
        source=source, path=path, name=_store_name(base, path), device=_device(source, path), collector=name
    )


def _expand(base: Path, source: SourceConfig) -> list[Path]:
    found: list[Path] = []
    for i, pattern in enumerate(source.paths):
        full = pattern if Path(pattern).is_absolute() else str(base / pattern)
        hits = glob.glob(full, recursive=True)  # noqa: PTH207 - Path.glob takes no absolute patterns
        matches = sorted(Path(m).resolve() for m in hits if Path(m).is_file())
        if not matches:
            raise ConfigError(
                f"{source.key}.paths[{i}]",
                f"no file matches {pattern!r} (relative to {base})",
                hint="check the glob, or remove this pattern",
            )
        found.extend(m for m in matches if m not in found)
    return found


def _fetched(base: Path, source: SourceConfig) -> list[Path]:
    """The files a source names in the cloud (``s3 = {...}``), fetched into the local cache first."""
    if "s3" not in source.options:
        return []
    from sci.cloud import aws_s3

    where = aws_s3.location(source.options, f"{source.key}.s3")
    return list(aws_s3.fetch(where, base / aws_s3.CACHE_DIR).paths)


def _store_name(base: Path, path: Path) -> str:
    try:
        return path.relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _device(source: SourceConfig, path: Path) -> str:
    try:
        return source.device.format_map({"stem": path.name.split(".", 1)[0], "parent": path.parent.name})
    except (KeyError, ValueError, IndexError):
        raise ConfigError(
            f"{source.key}.device",
            f"cannot expand {source.device!r}",
            hint="use a plain name, or the placeholders {stem} and {parent}",
        ) from None


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, as ingest records it."""
    return fingerprint(path).sha256


def _options_digest(planned: PlannedFile) -> str:
    source = planned.source
    payload = {
        "device": planned.device,
        "timezone": source.timezone.key if source.timezone else None,
        "max_gap_s": source.max_gap_s,
        "options": {k: source.options[k] for k in sorted(source.options)},
        "max_power_w": {k: source.max_power_w[k] for k in sorted(source.max_power_w)},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
