"""GCP Carbon Footprint export rows (the BigQuery export table) -> provider-reported monthly records.

Reads an exported copy of the table: CSV with flattened ``a.b.c`` (or ``a_b_c``) column names,
newline-delimited JSON with nested records (``bq extract --destination_format NEWLINE_DELIMITED_JSON``,
also what ``sci.cloud.gcp`` writes), or Parquet. Figures are kgCO2e. Format and rules:
``docs/formats/gcp-carbon.md``.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from collectors._cloud import finite, month_start, next_month, read_bytes
from collectors._runs import BY_FINDING, Runs
from collectors.base import SourceContext, head_text, numbered_lines
from sci.model import Action, Component, IssueKind, Item, Record, Tier
from sci.units import G_PER_KG

METHOD = "gcp-carbon"
PARQUET_MAGIC = b"PAR1"
SUM_TOLERANCE_KG = 1e-6
SUM_TOLERANCE_REL = 1e-4
"""Scopes 1 + 2 (location-based) + 3 may differ from the total by this much (rounding), no more."""

TOTAL_LB = "carbon_footprint_total_kgCO2e.location_based"
TOTAL_MB = "carbon_footprint_total_kgCO2e.market_based"
SCOPE1 = "carbon_footprint_kgCO2e.scope1"
SCOPE2_LB = "carbon_footprint_kgCO2e.scope2.location_based"
SCOPE2_MB = "carbon_footprint_kgCO2e.scope2.market_based"
SCOPE3 = "carbon_footprint_kgCO2e.scope3"
FIELDS = (
    "usage_month",
    "billing_account_id",
    "project.id",
    "project.number",
    "service.description",
    "service.id",
    "location.location",
    "location.region",
    "carbon_model_version",
    TOTAL_LB,
    TOTAL_MB,
    "carbon_footprint_total_kgCO2e.after_offsets",
    SCOPE1,
    SCOPE2_LB,
    SCOPE2_MB,
    SCOPE3,
)
REQUIRED = ("usage_month", "billing_account_id", "service.description", "carbon_model_version", TOTAL_LB)
JSON_REQUIRED = ("usage_month", "carbon_model_version")
_UNIT_RE = re.compile(r"^carbon_footprint(?:_total)?_([A-Za-z0-9]+)[._]")
_SCHEMA_HINT = (
    "export the table with its column names (bq extract, or SELECT * in the console); "
    "see docs/formats/gcp-carbon.md"
)
_ALIASES = {name.lower(): name for name in FIELDS} | {name.replace(".", "_").lower(): name for name in FIELDS}


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    cells: Mapping[str, Any]  # canonical field name -> value (None when absent or NULL)


class GcpCarbonFootprint:
    """Collector for exported GCP Carbon Footprint rows (CSV, NDJSON or Parquet)."""

    name: ClassVar[str] = "gcp-carbon"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = False
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {
        "model_version": (int, "the carbon_model_version to use when a file holds several"),
        "projects": (list, "project ids to count; rows of other projects are excluded"),
        "bigquery": (dict, "fetch from BigQuery first: { table, start?, end? } (sci.cloud.gcp)"),
        "billing_account": (str, "billing account id: its projects (Cloud Billing API) check `projects`"),
    }

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        if head.startswith(PARQUET_MAGIC):
            return b"carbon_model_version" in head and b"usage_month" in head
        text = head_text(head).lstrip()
        first = text.split("\n", 1)[0]
        if first.startswith("{"):
            return '"usage_month"' in first and '"carbon_footprint_total_kgCO2e"' in first
        return "usage_month" in first and "carbon_model_version" in first

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        yield from _Parser(ctx).run()


class _Parser:
    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.runs = Runs(ctx.device, hold=True)
        projects = ctx.options.get("projects")
        self.projects = frozenset(projects) if projects else None
        self.now = datetime.now(UTC)

    def run(self) -> Iterator[Item]:
        rows = list(_rows(self.ctx))
        for row in self._one_model(rows):
            yield from self._records(row)
        yield from self.runs.close_all()

    def _one_model(self, rows: list[_Row]) -> list[_Row]:
        versions = {row.line: self._version(row) for row in rows}
        found = sorted(set(versions.values()))
        wanted = self.ctx.options.get("model_version")
        if wanted is None:
            if len(found) > 1:
                raise self.ctx.error(
                    None,
                    f"the file mixes carbon_model_version {', '.join(map(str, found))}: "
                    "figures of different models must not be added",
                    f"set model_version = {found[-1]} (or another of them) on this source in sci.toml",
                )
            return rows
        if wanted not in found:
            raise self.ctx.error(
                None,
                f"no row has carbon_model_version {wanted} (the file has {', '.join(map(str, found))})",
                "fix model_version in sci.toml",
            )
        detail = f"carbon_model_version is not {wanted} (option model_version): not counted"
        for row in rows:
            if versions[row.line] != wanted:
                self.runs.note(
                    IssueKind.EXCLUDED, Action.DROPPED, detail, row.line, key=BY_FINDING, adjacent=True
                )
        return [row for row in rows if versions[row.line] == wanted]

    def _version(self, row: _Row) -> int:
        value = row.cells.get("carbon_model_version")
        try:
            number = finite(value)
        except (ValueError, TypeError):
            number = None
        if number is None or not number.is_integer():
            raise self.ctx.error(
                row.line, f"carbon_model_version {value!r} is not a whole number", _SCHEMA_HINT
            )
        return int(number)

    def _records(self, row: _Row) -> Iterator[Record]:
        cells = row.cells
        project = _text(cells.get("project.id"))
        account = _text(cells.get("billing_account_id")) or ""
        if not self._counted(row, project):
            return
        start = self._month(row)
        end = next_month(start)
        if end > self.now:
            self.runs.note(
                IssueKind.PARTIAL_PERIOD,
                Action.DROPPED,
                f"usage_month {start:%Y-%m} is not over yet: its figure is partial and not counted",
                row.line,
                key=BY_FINDING,
                adjacent=True,
            )
            return
        where = _text(cells.get("location.region")) or _text(cells.get("location.location")) or "unspecified"
        service = _text(cells.get("service.description")) or "unspecified"
        device = f"gcp:{project or account}/{service}/{where}"
        total = self._number(row, TOTAL_LB)
        if total is None:
            self.runs.note(
                IssueKind.MISSING_VALUE,
                Action.DROPPED,
                f"{TOTAL_LB} is empty: not counted",
                row.line,
                key=BY_FINDING,
                adjacent=True,
            )
            return
        base = {"device": device, "start_utc": start, "end_utc": end, "line": row.line}
        scoped = self._scoped(row, total)
        if scoped is None:
            market = self._number(row, TOTAL_MB)
            yield _record(base, "total-location-based", total, market, None)
            return
        for scope, (location_kg, market_kg) in scoped.items():
            yield _record(base, f"scope{scope}-location-based", location_kg, market_kg, scope)

    def _counted(self, row: _Row, project: str | None) -> bool:
        if self.projects is not None and project not in self.projects:
            who = f"project {project}" if project else "rows without a project"
            self.runs.note(
                IssueKind.EXCLUDED,
                Action.DROPPED,
                f"{who} not in option projects: not counted",
                row.line,
                key=BY_FINDING,
                adjacent=True,
            )
            return False
        if project is None:
            self.runs.note(
                IssueKind.MISSING_VALUE,
                Action.KEPT,
                "project.id is NULL (no project, or a deleted one): counted under the billing account",
                row.line,
                key=BY_FINDING,
                adjacent=True,
            )
        return True

    def _scoped(self, row: _Row, total: float) -> dict[str, tuple[float, float | None]] | None:
        """Scope 1, 2 (location-based), 3 in kg with their market-based figures, when all three are given
        and add up to the total; None otherwise (the total is used)."""
        parts = [self._number(row, name) for name in (SCOPE1, SCOPE2_LB, SCOPE3)]
        if any(part is None for part in parts):
            return None
        s1, s2, s3 = (float(part) for part in parts if part is not None)
        summed = s1 + s2 + s3
        if abs(summed - total) > max(SUM_TOLERANCE_KG, SUM_TOLERANCE_REL * abs(total)):
            self.runs.note(
                IssueKind.TOTAL_MISMATCH,
                Action.KEPT,
                "scope1 + scope2.location_based + scope3 differ from the location-based total: "
                "the total is counted, without a scope split",
                row.line,
                key=BY_FINDING,
                adjacent=True,
            )
            return None
        return {"1": (s1, s1), "2": (s2, self._number(row, SCOPE2_MB)), "3": (s3, s3)}

    def _month(self, row: _Row) -> datetime:
        value = row.cells.get("usage_month")
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            try:
                value = date.fromisoformat(str(value).strip())
            except ValueError:
                raise self.ctx.error(
                    row.line, f"usage_month {value!r} is not a date (YYYY-MM-DD)", _SCHEMA_HINT
                ) from None
        if value.day != 1:
            raise self.ctx.error(
                row.line, f"usage_month {value} is not the first day of a month", _SCHEMA_HINT
            )
        return month_start(value)

    def _number(self, row: _Row, name: str) -> float | None:
        try:
            return finite(row.cells.get(name))
        except (ValueError, TypeError):
            raise self.ctx.error(
                row.line, f"{name} {row.cells.get(name)!r} is not a number (kgCO2e)", _SCHEMA_HINT
            ) from None


def _record(
    base: Mapping[str, Any], how: str, location_kg: float, market_kg: float | None, scope: str | None
) -> Record:
    return Record(
        device=base["device"],
        component=Component.SYSTEM,
        start_utc=base["start_utc"],
        end_utc=base["end_utc"],
        tier=Tier.PROVIDER,
        method=f"{METHOD}/{how}",
        line=base["line"],
        carbon_g=location_kg * G_PER_KG,
        market_carbon_g=market_kg * G_PER_KG if market_kg is not None else None,
        scope=scope,
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text if text and text.upper() != "NULL" else None


# -- reading the three file formats -------------------------------------------------------------------


def _rows(ctx: SourceContext) -> Iterator[_Row]:
    head = read_bytes(ctx, 64)
    if head.startswith(PARQUET_MAGIC):
        rows: Iterator[_Row] = _parquet_rows(ctx)
    elif head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        rows = _json_rows(ctx)
    else:
        rows = _csv_rows(ctx)
    yield from rows


def _columns(
    ctx: SourceContext, names: list[str], line: int | None, *, required: tuple[str, ...] = REQUIRED
) -> dict[str, str]:
    """Each known column's canonical name for the file's names; a unit or a required column missing is
    an error. JSON rows leave NULL fields out, so they only need ``JSON_REQUIRED``."""
    mapping: dict[str, str] = {}
    for raw in names:
        unit = _UNIT_RE.match(raw.strip())
        if unit and unit.group(1) != "kgCO2e":
            raise ctx.error(
                line,
                f"column {raw!r} is in {unit.group(1)}, not kgCO2e (the Carbon Footprint export's unit)",
                "export the table's own columns; convert other units to kgCO2e before ingesting",
            )
        canonical = _ALIASES.get(raw.strip().lower())
        if canonical is not None:
            mapping[raw] = canonical
    missing = [name for name in required if name not in mapping.values()]
    locations = {"location.region", "location.location"}
    if required == REQUIRED and not locations & set(mapping.values()):
        missing.append("location.region or location.location")
    if missing:
        raise ctx.error(line, f"missing column(s): {', '.join(missing)}", _SCHEMA_HINT)
    return mapping


def _csv_rows(ctx: SourceContext) -> Iterator[_Row]:
    mapping: dict[str, str] | None = None
    header: list[str] = []
    with numbered_lines(ctx) as lines:
        for number, text, _ended in lines:
            if not text.strip():
                continue
            try:
                cells = next(csv.reader([text]), [])
            except csv.Error as exc:
                raise ctx.error(number, f"not a CSV line: {exc}", "re-export the file") from None
            if mapping is None:
                header, mapping = cells, _columns(ctx, cells, number)
                continue
            if cells == header:
                continue  # a repeated header (files appended)
            if len(cells) != len(header):
                raise ctx.error(
                    number, f"{len(cells)} cells, but the header has {len(header)}", "re-export the file"
                )
            by_name = {mapping[n]: v for n, v in zip(header, cells, strict=True) if n in mapping}
            yield _Row(number, by_name)
    if mapping is None:
        raise ctx.error(1, "the file is empty", _SCHEMA_HINT)


def _json_rows(ctx: SourceContext) -> Iterator[_Row]:
    with numbered_lines(ctx) as lines:
        for number, text, _ended in lines:
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ctx.error(number, f"not a JSON object: {exc.msg}", "re-export the file") from None
            if not isinstance(value, dict):
                raise ctx.error(number, "not a JSON object", "each line must be one exported row")
            flat = _flatten(value)
            mapping = _columns(ctx, list(flat), number, required=JSON_REQUIRED)
            yield _Row(number, {mapping[n]: v for n, v in flat.items() if n in mapping})


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            flat.update(_flatten(item, f"{name}."))
        else:
            flat[name] = item
    return flat


def _parquet_rows(ctx: SourceContext) -> Iterator[_Row]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(ctx.path)
        while any(pa.types.is_struct(column.type) for column in table.columns):
            table = table.flatten()
        records = table.to_pylist()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ctx.error(None, f"cannot read the Parquet file: {exc}", "re-export the file") from None
    mapping = _columns(ctx, table.column_names, None)
    for index, record in enumerate(records, start=1):
        yield _Row(index, {mapping[n]: v for n, v in record.items() if n in mapping})
