"""GitHub usage report (CSV from Billing -> Usage, legacy and enhanced-billing formats) -> proxy records,
one per row of Actions compute minutes: a day's minutes of one SKU (runner type) for one repository and
workflow. Format and rules: ``docs/formats/github-usage.md``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import ClassVar

from collectors._ci import (
    COMMON_OPTIONS,
    CiOptions,
    ci_options,
    job_record,
    sku_runner,
    unknown_runner,
)
from collectors._runs import Runs
from collectors.base import SourceContext, cut_last_line, head_text, numbered_lines
from sci.model import Action, IssueKind, Item
from sci.units import S_PER_MINUTE

METHOD = "github-usage/actions-minutes"
REQUIRED = ("date", "product", "sku", "quantity", "unit_type")
MINUTE_UNITS = ("minute", "minutes")
_ALIASES = {"unit type": "unit_type", "repository slug": "repository", "actions workflow": "workflow_path"}
_HINT = (
    "the usage report needs a header line naming Date, Product, SKU, Quantity and Unit Type "
    "(legacy) or date, product, sku, quantity, unit_type (see docs/formats/github-usage.md)"
)


def _column(cell: str) -> str:
    name = cell.strip().lower()
    return _ALIASES.get(name, name)


def _cells(text: str) -> list[str]:
    """One CSV line's cells; a row wrapped whole in one pair of quotes (some exports do) is unwrapped."""
    cells = next(csv.reader([text], strict=True), [])
    if len(cells) == 1 and "," in cells[0]:
        cells = next(csv.reader([cells[0]], strict=True), [])
    return cells


class GithubUsageCsv:
    """Collector for GitHub's usage report: Actions minutes per day, SKU, repository and workflow."""

    name: ClassVar[str] = "github-usage"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = False  # dates are UTC days
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = COMMON_OPTIONS

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """A CSV whose first line names date, product, sku, quantity and unit type."""
        for line in head_text(head).splitlines()[:1]:
            try:
                names = {_column(c) for c in _cells(line)}
            except csv.Error:
                return False
            return all(name in names for name in REQUIRED)
        return False

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        if ctx.batches:  # the consumer takes RecordBatch items: read a plain file at once
            from collectors import _github_usage_fast

            found = _github_usage_fast.items(ctx)
            if found is not None:
                yield from found
                return
        yield from _Parser(ctx).run()


class _Parser:
    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.options: CiOptions = ci_options(ctx)
        self.runs = Runs(ctx.device)
        self.columns: dict[str, int] = {}
        self.width = 0

    def run(self) -> Iterator[Item]:
        with numbered_lines(self.ctx) as lines:
            for number, text, ended in lines:
                if not text.strip():
                    continue
                if not ended:
                    yield from self.runs.close()
                    yield cut_last_line(self.ctx, number)
                    break
                cells = self._split(text, number)
                if not self.columns:
                    self._header(cells, number)
                    continue
                if [_column(c) for c in cells] == self.header_names:
                    continue  # a repeated header (reports concatenated)
                yield from self._row(cells, number)
        if not self.columns:
            raise self.ctx.error(1, "the file is empty: no header line", _HINT)
        yield from self.runs.close()

    def _split(self, text: str, line: int) -> list[str]:
        try:
            return _cells(text)
        except csv.Error as exc:
            raise self.ctx.error(line, f"not a CSV line ({exc})", "check the quoting of this line") from None

    def _header(self, cells: list[str], line: int) -> None:
        self.header_names = [_column(c) for c in cells]
        missing = [name for name in REQUIRED if name not in self.header_names]
        if missing:
            raise self.ctx.error(line, f"the header has no {', '.join(missing)} column", _HINT)
        self.columns = {name: self.header_names.index(name) for name in self.header_names}
        self.width = len(cells)

    def _row(self, cells: list[str], line: int) -> Iterator[Item]:
        if len(cells) != self.width:
            raise self.ctx.error(
                line, f"{len(cells)} fields, the header has {self.width}", "check for a cut or merged line"
            )
        cell = {name: cells[i].strip() for name, i in self.columns.items()}
        product, unit = cell["product"], cell["unit_type"].lower()
        if product.lower() != "actions" or unit not in MINUTE_UNITS:
            yield from self.runs.note(
                IssueKind.EXCLUDED,
                Action.DROPPED,
                f"not Actions compute minutes ({product} {cell['sku']}, unit {cell['unit_type']}): outside E",
                line,
            )
            return
        sku = cell["sku"]
        spec = self.options.lookup(sku) or self.options.lookup(sku_runner(sku) or sku)
        if spec is None:
            raise unknown_runner(self.ctx, line, f"SKU {sku!r}", sku)
        day = self._day(cell["date"], line)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        yield from self.runs.close()
        yield job_record(
            self.ctx,
            self.options,
            spec,
            method=METHOD,
            line=line,
            start_utc=start,
            end_utc=start + timedelta(days=1),
            runtime_s=self._minutes(cell["quantity"], line) * S_PER_MINUTE,
        )

    def _day(self, text: str, line: int) -> date:
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
            else:
                moment = datetime.fromisoformat(text)
                day = (moment.astimezone(UTC) if moment.tzinfo else moment).date()
        except (ValueError, OverflowError):
            day = date.max
        if day == date.max:
            raise self.ctx.error(
                line, f"date {text!r} is not an ISO 8601 date", "the report writes dates as 2023-01-24"
            )
        return day

    def _minutes(self, text: str, line: int) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or abs(value) > 1e12:
            raise self.ctx.error(
                line,
                f"quantity {text!r} is not a number of minutes",
                "re-download the usage report from GitHub's billing page; the row is damaged",
            )
        return value
