"""AWS Data Exports ``CARBON_EMISSIONS`` table (CSV, gzip CSV or Parquet) -> provider-reported records.

One row is one account's emissions for one product and region over one month, in metric tons CO2e by the
location-based (lbm) and market-based (mbm) methods, and, in newer model versions, split by GHG scope.
The lbm figure is ``carbon_g`` (it enters SCI); mbm is ``market_carbon_g`` (reported beside). Figures of
different ``model_version``s are never mixed in one file. Format and rules: ``docs/formats/aws-carbon.md``.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from collectors._runs import Runs
from collectors._tabular import (
    Row,
    Table,
    missing_columns,
    number,
    open_table,
    sniff_columns,
    text,
    utc_time,
)
from collectors.base import SourceContext
from sci.model import Action, Component, IssueKind, Item, Record, Tier
from sci.units import G_PER_TONNE

METHOD = "aws-carbon/data-exports"
REQUIRED = (
    "model_version",
    "usage_account_id",
    "usage_period_start",
    "usage_period_end",
    "total_lbm_emissions_value",
    "total_lbm_emissions_unit",
)
SCOPES: tuple[tuple[str, str, str], ...] = (
    ("1", "total_scope_1", "total_scope_1"),  # scope 1 has one figure for both methods
    ("2", "total_scope_2_lbm", "total_scope_2_mbm"),
    ("3", "total_scope_3_lbm", "total_scope_3_mbm"),
)
SCOPE_COLUMNS = tuple(
    f"{stem}_emissions_{part}"
    for _, lbm, mbm in SCOPES
    for stem in dict.fromkeys((lbm, mbm))
    for part in ("value", "unit")
)
G_PER_UNIT: Mapping[str, float] = {"mtco2e": G_PER_TONNE}
"""Units the export writes (AWS: "MTCO2e", metric tons CO2e), casefolded, in grams per unit."""
MISMATCH_REL = 1e-6
MISMATCH_ABS_T = 1e-9  # the exports round to about 1e-6 t; a gram is far below any rounding seen
_FORMAT_HINT = (
    "export the CARBON_EMISSIONS table with these columns named in the query (see docs/formats/aws-carbon.md)"
)


def _scope_mode(columns: tuple[str, ...]) -> bool:
    return any(c in columns for c in SCOPE_COLUMNS)


@dataclass(frozen=True, slots=True)
class _Figure:
    lbm_g: float
    mbm_g: float | None


class AwsCarbonExport:
    """Collector for AWS Data Exports' carbon emissions table."""

    name: ClassVar[str] = "aws-carbon"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = False
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {
        "model_version": (str, 'the AWS model version to read, e.g. "v3.0.0"; rows of others are excluded'),
        "s3": (dict, "fetch the export from S3: { bucket, prefix, region, endpoint_url } (see docs)"),
    }

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """A CSV header (or a small Parquet file's footer) naming the lbm total and the usage account."""
        return sniff_columns(head, "total_lbm_emissions_value", "usage_account_id")

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        if ctx.batches:  # the consumer takes RecordBatch items: read a plain CSV at once
            from collectors import _aws_carbon_fast

            found = _aws_carbon_fast.items(ctx)
            if found is not None:
                yield from found
                return
        with open_table(ctx) as table:
            yield from _Parser(ctx, table).run()


class _Parser:
    def __init__(self, ctx: SourceContext, table: Table) -> None:
        self.ctx = ctx
        self.table = table
        missing = missing_columns(table.columns, REQUIRED)
        self.scoped = _scope_mode(table.columns)
        if self.scoped:
            missing += missing_columns(table.columns, SCOPE_COLUMNS)
        if missing:
            raise ctx.error(
                None if table.parquet else 1, f"missing required columns: {', '.join(missing)}", _FORMAT_HINT
            )
        wanted = ctx.options.get("model_version")
        if wanted is not None and (not isinstance(wanted, str) or not wanted.strip()):
            raise ctx.error(None, f"option model_version must be a version such as 'v3.0.0', got {wanted!r}")
        self.wanted: str | None = wanted.strip() if isinstance(wanted, str) else None
        self.seen: str | None = None
        self.runs = Runs(ctx.device)
        self.at = 0  # the current row's position

    def run(self) -> Iterator[Item]:
        for at, (line, row) in enumerate(self.table.rows):
            self.at = at
            yield from self.runs.close_stale(at)
            yield from self._row(line, row)
        yield from self.runs.close_all()

    def _note(self, kind: IssueKind, action: Action, line: int, detail: str) -> None:
        """A finding on the current row: its run grows while rows repeat it (``close_stale`` ends it)."""
        self.runs.note(kind, action, detail, line, key=(kind, action, detail), at=self.at)

    def _version_ok(self, line: int, row: Row) -> bool:
        version = text(row["model_version"])
        if version is None:
            raise self.ctx.error(
                line, "model_version is empty", "AWS always fills it: is this the raw export?"
            )
        if self.wanted is not None:
            if version != self.wanted:
                self._note(
                    IssueKind.EXCLUDED,
                    Action.DROPPED,
                    line,
                    f"model_version {version}, not the {self.wanted} chosen in sci.toml (model_version)",
                )
            return version == self.wanted
        if self.seen is None:
            self.seen = version
        elif version != self.seen:
            both = sorted({self.seen, version})
            raise self.ctx.error(
                line,
                f"the file holds two model versions, {both[0]} and {both[1]}: their figures must not be "
                "added up",
                f'choose one with model_version = "{both[-1]}" on this source in sci.toml',
            )
        return True

    def _grams(self, row: Row, stem: str, line: int) -> float | None:
        value = number(self.ctx, row[f"{stem}_emissions_value"], f"{stem}_emissions_value", line)
        if value is None:
            return None
        if f"{stem}_emissions_unit" not in row:  # a value column without its unit column
            raise self.ctx.error(line, f"no {stem}_emissions_unit column beside its value", _FORMAT_HINT)
        unit = text(row[f"{stem}_emissions_unit"])
        factor = G_PER_UNIT.get((unit or "").casefold())
        if factor is None:
            raise self.ctx.error(
                line,
                f"{stem}_emissions_unit {unit!r} is not a unit sci-report knows (AWS writes MTCO2e)",
                "check the export: a changed unit would change every figure; nothing of this file is stored",
            )
        grams = value * factor
        if not math.isfinite(grams):
            raise self.ctx.error(
                line,
                f"{stem}_emissions_value {value:g} {unit} is too large to count ({grams} g)",
                "check this value against the export AWS delivered (an exponent gone wrong?)",
            )
        return grams

    def _row(self, line: int, row: Row) -> Iterator[Item]:
        if not self._version_ok(line, row):
            return
        ctx = self.ctx
        start = utc_time(ctx, row["usage_period_start"], "usage_period_start", line)
        end = utc_time(ctx, row["usage_period_end"], "usage_period_end", line)
        if end <= start:
            raise ctx.error(line, f"usage_period_end {end} is not after usage_period_start {start}")
        lbm_g = self._grams(row, "total_lbm", line)
        if lbm_g is None:
            self._note(
                IssueKind.MISSING_VALUE,
                Action.DROPPED,
                line,
                "total_lbm_emissions_value is empty: not counted",
            )
            return
        total = _Figure(lbm_g, self._mbm(row, "total_mbm", line))
        self._partial(line, row, start, end)
        device = _device(row)
        parts = self._scopes(line, row) if self.scoped else {}
        if not parts:
            yield _Parser._record(device, (start, end), line, total, None)
            return
        self._check_sum(line, total, parts)
        for scope, figure in parts.items():
            yield _Parser._record(device, (start, end), line, figure, scope)

    def _mbm(self, row: Row, stem: str, line: int) -> float | None:
        return self._grams(row, stem, line) if f"{stem}_emissions_value" in row else None

    def _scopes(self, line: int, row: Row) -> dict[str, _Figure]:
        parts: dict[str, _Figure] = {}
        for scope, lbm, mbm in SCOPES:
            lbm_g = self._grams(row, lbm, line)
            if lbm_g is not None:
                parts[scope] = _Figure(lbm_g, self._grams(row, mbm, line))
        return parts

    def _check_sum(self, line: int, total: _Figure, parts: dict[str, _Figure]) -> None:
        lbm = sum(p.lbm_g for p in parts.values())
        mbm = [p.mbm_g for p in parts.values()]
        pairs = [("location-based", lbm, total.lbm_g)]
        if total.mbm_g is not None and all(m is not None for m in mbm):
            pairs.append(("market-based", sum(m or 0.0 for m in mbm), total.mbm_g))
        for method, parts_g, total_g in pairs:
            if abs(parts_g - total_g) > max(MISMATCH_ABS_T * G_PER_TONNE, MISMATCH_REL * abs(total_g)):
                self._note(
                    IssueKind.TOTAL_MISMATCH,
                    Action.KEPT,
                    line,
                    f"the {method} scope figures do not add up to the row's total: the scope figures are "
                    "counted",
                )

    def _partial(self, line: int, row: Row, start: datetime, end: datetime) -> None:
        refreshed_cell = row.get("last_refresh_timestamp")
        refreshed = (
            utc_time(self.ctx, refreshed_cell, "last_refresh_timestamp", line)
            if refreshed_cell is not None
            else None
        )
        month_start, month_end = _month(start)
        if refreshed is not None and end > refreshed:
            self._note(
                IssueKind.PARTIAL_PERIOD,
                Action.KEPT,
                line,
                "the usage period had not ended when AWS last refreshed the export: the month may still grow",
            )
        elif start != month_start or end < month_end:
            self._note(
                IssueKind.PARTIAL_PERIOD,
                Action.KEPT,
                line,
                "the usage period covers only part of its calendar month",
            )

    @staticmethod
    def _record(
        device: str, span: tuple[datetime, datetime], line: int, figure: _Figure, scope: str | None
    ) -> Record:
        start, end = span
        return Record(
            device=device,
            component=Component.SYSTEM,
            start_utc=start,
            end_utc=end,
            tier=Tier.PROVIDER,
            method=METHOD,
            line=line,
            carbon_g=figure.lbm_g,
            market_carbon_g=figure.mbm_g,
            scope=scope,
        )


def _month(start: datetime) -> tuple[datetime, datetime]:
    """The calendar month (UTC) ``start`` falls in: its first instant and the next month's."""
    first = datetime(start.year, start.month, 1, tzinfo=UTC)
    return first, first + timedelta(days=calendar.monthrange(start.year, start.month)[1])


def _device(row: Row) -> str:
    account = text(row["usage_account_id"]) or "unknown-account"
    product = text(row.get("product_code")) or "all"
    where = text(row.get("region_code")) or text(row.get("location")) or "global"
    return f"aws:{account}/{product}/{where}"


__all__ = ["METHOD", "AwsCarbonExport"]
