"""The audit export: every record with its lineage and the factors applied to it, so the totals can be
recomputed from the export alone (``sci-report verify``).

Per record: operational carbon = IT energy x PUE x I (proxy records: IT energy from the engine's proxy
formula), so the records of a platform and month sum to that month's E, E x I and provider carbon.
Everything is written inside the export directory, by fixed names; CSV text cells that a spreadsheet
would run as a formula are neutralised (``neutralise``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sci import __version__, engine
from sci.errors import SciError
from sci.factors import Factor, FactorBundle
from sci.files import write_atomically
from sci.model import Tier
from sci.results import ComputeResult, FactorUse, QualityRow, SourceFile
from sci.store import aware_utc

MANIFEST = "manifest.json"
EXPORT_FILES = (
    "records.parquet",
    "records.csv",
    "totals.json",
    "factors.csv",
    "quality.csv",
    "files.csv",
    "disclosure.md",
    "impact-framework.yml",
    MANIFEST,
)
MANIFEST_SCHEMA = 1
SPEC_VERSION = "GSF Software Carbon Intensity (SCI) v1.1, ISO/IEC 21031:2024"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "'")
"""A text cell starting with one of these gets a leading ``'`` (OWASP's CSV-injection advice, plus ``'``
itself so that ``unneutralise`` gives back the original text)."""
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

TEXT, INT, FLOAT, BOOL, TIME = "text", "int", "float", "bool", "time"
RECORD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("source_path", TEXT),
    ("source_sha256", TEXT),
    ("line", INT),
    ("collector", TEXT),
    ("collector_version", TEXT),
    ("platform", TEXT),
    ("period", TEXT),
    ("device", TEXT),
    ("component", TEXT),
    ("tier", TEXT),
    ("method", TEXT),
    ("start_utc", TIME),
    ("end_utc", TIME),
    ("energy_kwh", FLOAT),  # as recorded: device energy before PUE
    ("carbon_g", FLOAT),  # as recorded: provider-reported, location-based
    ("runtime_s", FLOAT),
    ("utilisation", FLOAT),
    ("device_model", TEXT),
    ("tdp_w", FLOAT),
    ("resource_share", FLOAT),
    ("market_carbon_g", FLOAT),
    ("reported_carbon_g", FLOAT),
    ("pue_divided", FLOAT),
    ("scope", TEXT),
    ("counted", BOOL),  # False: the record carries nothing the SCI counts (e.g. runtime of a measured tier)
    ("counted_share", FLOAT),  # the share of the record's interval counted (< 1: a better source covers it)
    ("tdp_factor_w", FLOAT),
    ("tdp_source", TEXT),
    ("tdp_year", INT),
    ("load_curve_ratio", FLOAT),
    ("load_curve_source", TEXT),
    ("it_energy_kwh", FLOAT),  # device energy counted: recorded, or TDP x curve x share x runtime
    ("pue", FLOAT),
    ("pue_source", TEXT),
    ("pue_year", INT),
    ("facility_energy_kwh", FLOAT),  # E = it_energy_kwh x pue
    ("grid_zone", TEXT),
    ("grid_intensity_g_per_kwh", FLOAT),
    ("grid_source", TEXT),
    ("grid_year", INT),
    ("operational_g", FLOAT),  # E x I
    ("provider_carbon_g", FLOAT),  # carbon_g counted as provider carbon
)


@dataclass(frozen=True, slots=True)
class ExportFiles:
    directory: Path
    files: tuple[str, ...]
    records: int


# -- names and cells ------------------------------------------------------------------------------


def safe_name(text: str, *, fallback: str = "unnamed") -> str:
    """A file name from data: letters, digits, ``.``, ``_`` and ``-`` only, no leading dot, <= 100 chars."""
    return _SAFE_NAME.sub("_", text).strip("._")[:100] or fallback


def target(directory: Path, name: str) -> Path:
    """``directory / name``, refusing any name that is not a plain, safe file name inside it."""
    if name != safe_name(name) or name in {".", ".."}:
        raise SciError(f"refusing to write {name!r}: not a plain file name", hint="this is a bug")
    path = directory / name
    if path.resolve().parent != directory.resolve():
        raise SciError(f"refusing to write {path}: it resolves outside {directory}", hint="this is a bug")
    return path


def neutralise(text: str) -> str:
    """A text cell a spreadsheet will show, not run: ``=HYPERLINK(..)`` -> ``'=HYPERLINK(..)``."""
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def unneutralise(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES) else text


def csv_bytes(columns: Sequence[tuple[str, str]], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """CSV with a header; text cells neutralised, numbers as exact Python reprs, None as an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([name for name, _ in columns])
    for row in rows:
        writer.writerow([_cell(row[name], kind) for name, kind in columns])
    return buffer.getvalue().encode("utf-8")


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == BOOL:
        return "true" if value else "false"
    if kind == FLOAT:
        return repr(float(value))
    if kind == INT:
        return str(int(value))
    if kind == TIME:
        return str(value.isoformat())
    return neutralise(str(value))


# -- records --------------------------------------------------------------------------------------


class _Lineage:
    """The factors applied to a platform's records, with their sources, looked up once."""

    def __init__(self, result: ComputeResult, bundle: FactorBundle) -> None:
        self.platforms = {p.platform: p for p in result.platforms}
        self.uses: dict[tuple[str, str], FactorUse] = {}
        for use in result.factors:
            self.uses.setdefault((use.kind, use.applied_to), use)
        self.bundle = bundle
        self.curve, self.curve_factor = bundle.load_curve()
        self._tdp: dict[tuple[str, str | None, float | None], Factor] = {}

    def tdp(self, row: Mapping[str, Any]) -> Factor:
        key = (row["component"], row["device_model"], row["tdp_w"])
        if key not in self._tdp:
            self._tdp[key] = self._lookup_tdp(row)
        return self._tdp[key]

    def _lookup_tdp(self, row: Mapping[str, Any]) -> Factor:
        gpu = row["component"] == "gpu"
        if row["tdp_w"] is not None:
            return Factor(
                kind="gpu_tdp" if gpu else "cpu_tdp",
                key=row["device_model"] or "tdp_w",
                value=float(row["tdp_w"]),
                unit="W",
                source="tdp_w given on the tdp-proxy source in sci.toml or in the runtime log",
                year=None,
                licence="user input",
            )
        if not row["device_model"]:
            raise SciError(
                f"{row['platform']}: proxy records without a device model or TDP",
                hint="set device_model or tdp_w on the tdp-proxy source in sci.toml, then ingest again",
            )
        return (self.bundle.gpu_tdp if gpu else self.bundle.cpu_tdp)(row["device_model"])


def audit_records(
    rows: Iterable[Mapping[str, Any]], result: ComputeResult, bundle: FactorBundle
) -> list[dict[str, Any]]:
    """Each stored record (``audit_records`` query rows) with the factors applied and its carbon."""
    lineage = _Lineage(result, bundle)
    return [_record(row, lineage) for row in rows]


def _record(row: Mapping[str, Any], lineage: _Lineage) -> dict[str, Any]:
    platform = lineage.platforms[row["platform"]]
    pue, grid = (
        lineage.uses.get(("pue", platform.platform)),
        lineage.uses.get(("grid_intensity", platform.platform)),
    )
    out: dict[str, Any] = {name: row.get(name) for name, _ in RECORD_COLUMNS}
    out["start_utc"], out["end_utc"] = aware_utc(row["start_utc"]), aware_utc(row["end_utc"])
    it_kwh, provider_g, counted = _counted(row, out, lineage)
    facility_kwh = engine.facility_energy_kwh(it_energy_kwh=it_kwh, pue=platform.pue)
    out.update(
        counted=counted,
        it_energy_kwh=it_kwh,
        pue=platform.pue,
        pue_source=pue.source if pue else None,
        pue_year=pue.year if pue else None,
        facility_energy_kwh=facility_kwh,
        grid_zone=grid.key if grid else None,
        grid_intensity_g_per_kwh=platform.intensity_g_per_kwh,
        grid_source=grid.source if grid else None,
        grid_year=grid.year if grid else None,
        operational_g=engine.operational_g(
            energy_kwh=facility_kwh, intensity_g_per_kwh=platform.intensity_g_per_kwh
        ),
        provider_carbon_g=provider_g,
    )
    return out


def _counted(row: Mapping[str, Any], out: dict[str, Any], lineage: _Lineage) -> tuple[float, float, bool]:
    """(IT energy kWh, provider carbon g, counted) as compute counts the record."""
    share = float(row.get("counted_share", 1.0))
    if row["energy_kwh"] is not None or row["carbon_g"] is not None:
        return float(row["energy_kwh"] or 0.0) * share, float(row["carbon_g"] or 0.0) * share, True
    if row["tier"] != Tier.PROXY or row["runtime_s"] is None or row["utilisation"] is None:
        return 0.0, 0.0, False
    tdp = lineage.tdp(row)
    resource_share = float(row["resource_share"]) if row["resource_share"] is not None else 1.0
    ratio = engine.load_curve_ratio(utilisation=float(row["utilisation"]), curve=lineage.curve)
    out.update(
        tdp_factor_w=tdp.value,
        tdp_source=tdp.source,
        tdp_year=tdp.year,
        load_curve_ratio=ratio,
        load_curve_source=lineage.curve_factor.source,
    )
    kwh = engine.proxy_energy_kwh(
        runtime_s=float(row["runtime_s"]),
        utilisation=float(row["utilisation"]),
        tdp_w=tdp.value,
        resource_share=resource_share,
        curve=lineage.curve,
    )
    return kwh * share, 0.0, True


def records_parquet(records: Sequence[Mapping[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {
        TEXT: pa.string(),
        INT: pa.int64(),
        FLOAT: pa.float64(),
        BOOL: pa.bool_(),
        TIME: pa.timestamp("us", tz="UTC"),
    }
    table = pa.table(
        {name: pa.array([r[name] for r in records], types[kind]) for name, kind in RECORD_COLUMNS}
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


# -- the export -----------------------------------------------------------------------------------


def write_export(
    directory: Path,
    *,
    result: ComputeResult,
    records: Sequence[Mapping[str, Any]],
    disclosure: str,
    impact_framework: str,
    force: bool = False,
) -> ExportFiles:
    """Write every file of the export into ``directory`` (new or empty unless ``force``), then the
    manifest of them all."""
    prepare_directory(directory, force=force)
    contents: dict[str, bytes] = {
        "records.parquet": records_parquet(records),
        "records.csv": csv_bytes(RECORD_COLUMNS, records),
        "totals.json": (json.dumps(json.loads(result.to_json()), indent=2, sort_keys=True) + "\n").encode(),
        "factors.csv": _dataclass_csv(FactorUse, result.factors),
        "quality.csv": _dataclass_csv(QualityRow, result.quality),
        "files.csv": _dataclass_csv(SourceFile, result.files),
        "disclosure.md": disclosure.encode("utf-8"),
        "impact-framework.yml": impact_framework.encode("utf-8"),
    }
    assert (*contents, MANIFEST) == EXPORT_FILES
    for name, data in contents.items():
        write_atomically(target(directory, name), data)
    write_manifest(
        directory,
        tool_version=__version__,
        factor_bundle_version=result.factor_bundle_version,
        created_at=result.computed_at,
    )
    return ExportFiles(directory=directory, files=EXPORT_FILES, records=len(records))


def prepare_directory(directory: Path, *, force: bool) -> None:
    if directory.exists() and not directory.is_dir():
        raise SciError(f"{directory} is not a directory", hint="give a new or empty directory for the export")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise SciError(
            f"{directory} is not empty",
            hint="give a new or empty directory, or --force to overwrite the export files in it "
            "(other files stay, and are listed in the manifest)",
        )
    directory.mkdir(parents=True, exist_ok=True)


def listing(directory: Path) -> dict[str, Path]:
    """Every file under ``directory`` by its relative POSIX name, except the manifest itself."""
    found: dict[str, Path] = {}
    for root, dirs, names in os.walk(directory):
        for name in [*dirs, *names]:
            if (Path(root) / name).is_symlink():
                raise SciError(
                    f"{Path(root) / name}: a symbolic link in the export directory",
                    hint="an export holds plain files only: remove the link",
                )
        for name in names:
            path = Path(root) / name
            relative = path.relative_to(directory).as_posix()
            if relative != MANIFEST:
                found[relative] = path
    return dict(sorted(found.items()))


def manifest_document(
    directory: Path, *, tool_version: str, factor_bundle_version: str, created_at: datetime
) -> dict[str, Any]:
    entries = [
        {"path": name, "bytes": path.stat().st_size, "sha256": sha256_of(path)}
        for name, path in listing(directory).items()
    ]
    document: dict[str, Any] = {
        "schema": MANIFEST_SCHEMA,
        "tool": "sci-report",
        "tool_version": tool_version,
        "factor_bundle_version": factor_bundle_version,
        "created_at": created_at.isoformat(),
        "files": entries,
    }
    document["self_sha256"] = hashlib.sha256(canonical_json(document)).hexdigest()
    return document


def write_manifest(
    directory: Path, *, tool_version: str, factor_bundle_version: str, created_at: datetime
) -> None:
    """(Re)write ``manifest.json``: size and sha256 of every other file, and a digest of itself."""
    document = manifest_document(
        directory,
        tool_version=tool_version,
        factor_bundle_version=factor_bundle_version,
        created_at=created_at,
    )
    write_atomically(target(directory, MANIFEST), canonical_json(document))


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """The one byte form of the manifest (sorted keys, 2-space indent, ASCII, final newline)."""
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _dataclass_csv(cls: type, items: Iterable[Any]) -> bytes:
    """A CSV of dataclass rows; a column's kind from its annotation (``float | None`` is a float)."""
    kinds = {"float": FLOAT, "int": INT, "bool": BOOL, "datetime": TIME}
    columns = [(f.name, kinds.get(str(f.type).split(" | ")[0], TEXT)) for f in fields(cls)]
    return csv_bytes(columns, (asdict(item) for item in items))
