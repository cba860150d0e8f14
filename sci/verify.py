"""``sci-report verify``: check an audit export from its own files alone.

1. The manifest: every file present with its size and sha256, no file missing or extra, and the manifest
   itself in the byte form sci-report writes with its own digest (so a flipped byte anywhere is named).
2. The records: per-record E = IT energy x PUE and E x I from the factors beside them; per platform and
   month, sums of records.csv and records.parquet equal totals.json.
3. The totals: month carbon = E x I + provider + M; platform sums; SCI = sum(carbon) / sum(R); each
   embodied line's M = count x TE x (TiR / EL) x share.
4. impact-framework.yml: re-run (Multiply / Sum / Sci, as IF does) gives the same carbon and SCI.

The first mismatch is an error naming the file and what differs.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sci import audit, engine, impact
from sci.errors import SciError
from sci.units import G_PER_KG, HOURS_PER_YEAR

TOLERANCE = 1e-9
ABS_TOLERANCE = 1e-9  # g or kWh: below any figure the report shows
SUMMED = ("it_energy_kwh", "facility_energy_kwh", "operational_g", "provider_carbon_g")
PERIOD_FIELD = {
    "it_energy_kwh": "it_energy_kwh",
    "facility_energy_kwh": "energy_kwh",
    "operational_g": "operational_g",
    "provider_carbon_g": "provider_carbon_g",
}
HINT_TAMPERED = "the export changed after it was written: export again from the store, or restore the file"


@dataclass(frozen=True, slots=True)
class Verified:
    files: int
    records: int
    totals: int
    tolerance: float


class MismatchError(SciError):
    """An export that does not check out: the file named, what differs, and a hint."""

    def __init__(self, name: str, what: str, hint: str = HINT_TAMPERED) -> None:
        super().__init__(f"{name}: {what}", hint=hint)


def verify_export(directory: Path) -> Verified:
    if not directory.is_dir():
        raise SciError(f"{directory} is not a directory", hint="give the directory `sci-report export` wrote")
    files = check_manifest(directory)
    totals = _json(directory / "totals.json")
    try:
        checked = check_totals(totals)
        records = 0
        for name in ("records.csv", "records.parquet"):
            if (directory / name).exists():
                records = check_records(name, _read_records(directory / name), totals)
        check_impact_framework(directory / "impact-framework.yml", totals)
    except (KeyError, TypeError) as exc:
        raise MismatchError("totals.json", f"not a sci-report result ({exc!r})") from None
    return Verified(files=files, records=records, totals=checked, tolerance=TOLERANCE)


# -- 1. manifest ----------------------------------------------------------------------------------


def check_manifest(directory: Path) -> int:
    path = directory / audit.MANIFEST
    if not path.exists():
        raise MismatchError(audit.MANIFEST, "missing", hint="this is not a complete sci-report export")
    data = path.read_bytes()
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MismatchError(audit.MANIFEST, f"not valid JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("files"), list):
        raise MismatchError(audit.MANIFEST, "not a sci-report manifest")
    if audit.canonical_json(document) != data:
        raise MismatchError(audit.MANIFEST, "not in the byte form sci-report writes: it was edited")
    unsigned = {k: v for k, v in document.items() if k != "self_sha256"}
    if hashlib.sha256(audit.canonical_json(unsigned)).hexdigest() != document.get("self_sha256"):
        raise MismatchError(audit.MANIFEST, "its content does not match its own digest (self_sha256): edited")
    present = audit.listing(directory)
    listed = {str(entry["path"]): entry for entry in document["files"]}
    for name, entry in listed.items():
        if name not in present:
            raise MismatchError(name, "missing (listed in manifest.json)")
        size = present[name].stat().st_size
        if size != entry["bytes"]:
            raise MismatchError(name, f"{size:,} bytes, manifest.json says {entry['bytes']:,}")
        digest = audit.sha256_of(present[name])
        if digest != entry["sha256"]:
            raise MismatchError(name, f"sha256 {digest} differs from manifest.json's {entry['sha256']}")
    extra = sorted(set(present) - set(listed))
    if extra:
        raise MismatchError(extra[0], "not listed in manifest.json", hint="remove it, or export again")
    return len(listed) + 1


# -- 2. records -----------------------------------------------------------------------------------


def check_records(name: str, rows: Iterator[dict[str, Any]], totals: Mapping[str, Any]) -> int:
    platforms = {p["platform"]: p for p in totals["platforms"]}
    sums: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: dict.fromkeys(SUMMED, 0.0))
    by_tier: dict[tuple[str, str], float] = defaultdict(float)
    count = 0
    for line, row in enumerate(rows, start=2):  # line 1 of the CSV is the header
        count += 1
        platform = platforms.get(row["platform"])
        if platform is None:
            raise MismatchError(name, f"row {line}: platform {row['platform']!r} is not in totals.json")
        _check_row(name, line, row, platform)
        if row["counted"]:
            key = (row["platform"], row["period"])
            for field in SUMMED:
                sums[key][field] += row[field] or 0.0
            by_tier[row["platform"], row["tier"]] += row["it_energy_kwh"] or 0.0
    for p in totals["platforms"]:
        periods = {x["period"]: x for x in p["periods"]}
        for platform, period in sums:
            if platform == p["platform"] and period not in periods:
                raise MismatchError(name, f"{platform} has records in {period}, a month totals.json lacks")
        for period, figures in periods.items():
            got = sums.get((p["platform"], period), dict.fromkeys(SUMMED, 0.0))
            for field in SUMMED:
                what = f"{p['platform']} {period} {PERIOD_FIELD[field]}"
                _same(name, what, got[field], figures[PERIOD_FIELD[field]])
        for tier, kwh in p["it_energy_by_tier_kwh"].items():
            _same(name, f"{p['platform']} {tier} IT energy", by_tier.get((p["platform"], tier), 0.0), kwh)
    return count


def _check_row(name: str, line: int, row: Mapping[str, Any], platform: Mapping[str, Any]) -> None:
    where = f"row {line}"
    _same(name, f"{where} pue", row["pue"], platform["pue"])
    _same(name, f"{where} grid intensity", row["grid_intensity_g_per_kwh"], platform["intensity_g_per_kwh"])
    _same(name, f"{where} E = IT energy x PUE", row["facility_energy_kwh"], row["it_energy_kwh"] * row["pue"])
    expected_g = row["facility_energy_kwh"] * row["grid_intensity_g_per_kwh"]
    _same(name, f"{where} E x I", row["operational_g"], expected_g)
    if row["counted"] and row["tdp_factor_w"] is not None:
        share = row["resource_share"] if row["resource_share"] is not None else 1.0
        power_w = row["tdp_factor_w"] * row["load_curve_ratio"] * share
        counted = row.get("counted_share")
        kwh = power_w * row["runtime_s"] / 3_600_000 * (1.0 if counted is None else counted)
        _same(name, f"{where} proxy energy", row["it_energy_kwh"], kwh)
    elif row["counted"] and row["energy_kwh"] is not None and row.get("counted_share") is not None:
        _same(name, f"{where} counted energy", row["it_energy_kwh"], row["energy_kwh"] * row["counted_share"])


def _read_records(path: Path) -> Iterator[dict[str, Any]]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        yield from pq.read_table(path).to_pylist()
        return
    kinds = dict(audit.RECORD_COLUMNS)
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        missing = sorted(set(kinds) - set(reader.fieldnames or ()))
        if missing:
            raise MismatchError(path.name, f"no column {missing[0]}")
        for number, raw in enumerate(reader, start=2):
            try:
                yield {name: _parse(raw[name], kinds[name]) for name in kinds}
            except (TypeError, ValueError) as exc:
                raise MismatchError(path.name, f"row {number}: unreadable cell ({exc})") from None


def _parse(cell: str | None, kind: str) -> Any:
    if cell is None:
        raise ValueError("missing cell")
    if cell == "" and kind != audit.TEXT:
        return None
    if kind == audit.FLOAT:
        return float(cell)
    if kind == audit.INT:
        return int(cell)
    if kind == audit.BOOL:
        return {"true": True, "false": False}[cell]
    return audit.unneutralise(cell)


# -- 3. totals ------------------------------------------------------------------------------------


def check_totals(totals: Mapping[str, Any]) -> int:
    """The totals' own arithmetic; returns how many figures were checked."""
    name, checked = "totals.json", 0
    for p in totals["platforms"]:
        label = p["platform"]
        carbon = [x["operational_g"] + x["provider_carbon_g"] + x["embodied_g"] for x in p["periods"]]
        for field in ("it_energy_kwh", "energy_kwh", "operational_g", "provider_carbon_g", "embodied_g"):
            _same(name, f"{label} {field}", sum(x[field] for x in p["periods"]), p[field])
        _same(name, f"{label} carbon_g", sum(carbon), p["carbon_g"])
        lines_g = sum(_line_g(line) for line in p["embodied_lines"])
        for line in p["embodied_lines"]:
            _same(name, f"{label} embodied {line['device_class']}", _line_g(line), line["embodied_g"])
        _same(name, f"{label} embodied lines", lines_g, p["embodied_g"])
        sci = engine.sci_over_periods(
            (c, x["functional_units"]) for c, x in zip(carbon, p["periods"], strict=True)
        )
        _same(name, f"{label} SCI", sci, p["sci_g_per_unit"])
        checked += 8 + len(p["embodied_lines"])
    return checked


def _line_g(line: Mapping[str, Any]) -> float:
    per_device = engine.embodied_g(
        total_embodied_g=line["total_embodied_kg"] * G_PER_KG,
        time_reserved_h=line["time_reserved_h"],
        expected_lifespan_h=line["lifespan_years"] * HOURS_PER_YEAR,
        resources_reserved=line["share"],
    )
    return float(per_device * line["count"])


# -- 4. Impact Framework manifest -----------------------------------------------------------------


def check_impact_framework(path: Path, totals: Mapping[str, Any]) -> None:
    import yaml

    try:
        outputs = impact.run(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise MismatchError(path.name, f"cannot be re-run ({exc!r})") from None
    for p in totals["platforms"]:
        rows = outputs.get(p["platform"], []) + outputs.get(p["platform"] + impact.NO_R_SUFFIX, [])
        by_period = {row["sci-report/period"]: row for row in rows}
        units = [x["functional_units"] for x in p["periods"]]
        sci_inputs = [
            (by_period[x["period"]]["carbon"], u)
            for x, u in zip(p["periods"], units, strict=True)
            if x["period"] in by_period
        ]
        for x in p["periods"]:
            row = by_period.get(x["period"])
            if row is None:
                raise MismatchError(path.name, f"{p['platform']} has no input for {x['period']}")
            _same(
                path.name,
                f"{p['platform']} {x['period']} carbon",
                row["carbon"],
                x["operational_g"] + x["provider_carbon_g"] + x["embodied_g"],
            )
        _same(path.name, f"{p['platform']} SCI", engine.sci_over_periods(sci_inputs), p["sci_g_per_unit"])


# -- helpers --------------------------------------------------------------------------------------


def _same(name: str, what: str, got: float | None, expected: float | None) -> None:
    if got is None or expected is None:
        if got is not expected:
            raise MismatchError(name, f"{what}: {got!r}, expected {expected!r}")
        return
    if not math.isclose(got, expected, rel_tol=TOLERANCE, abs_tol=ABS_TOLERANCE):
        raise MismatchError(name, f"{what} does not add up: {got!r} recomputed vs {expected!r} stated")


def _json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MismatchError(path.name, "missing", hint="this is not a complete sci-report export") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MismatchError(path.name, f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise MismatchError(path.name, "not a sci-report result")
    return value
