"""Azure Cost Management usage (a saved ``query.usage`` result) -> CCF-style proxy energy for VM hours.

Where Azure has no emissions data, Cloud Carbon Footprint's method estimates compute energy from usage:
VM hours x vCPUs x (min + utilisation x (max - min)) W per vCPU (``sci/cloud/ccf.py``). Rows are
positional (``properties.rows``), mapped through ``properties.columns``. Format and rules:
``docs/formats/azure-usage.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

from collectors._cloud import finite, json_document, read_bytes
from collectors._runs import BY_FINDING, Runs
from collectors.base import SourceContext, head_text
from sci.cloud import ccf
from sci.model import Action, Component, IssueKind, Item, Record, Tier
from sci.units import MW_PER_W

METHOD = "azure-usage/ccf-vcpu-hours"
VM_CATEGORY = "virtual machines"
DEFAULT_UTILISATION_PCT = 50.0  # CCF's default average CPU utilisation for cloud compute
_HOURS_UNIT = re.compile(r"^\s*(\d+)?\s*hours?\s*$", re.IGNORECASE)
_VCPUS = re.compile(r"^(?:standard_)?[a-z]+(\d+)", re.IGNORECASE)
_HINT = "save the body of query.usage (properties.columns and rows) as JSON; see docs/formats/azure-usage.md"


class AzureUsage:
    """Collector for Azure Cost Management query results, turned into proxy energy for VM meters."""

    name: ClassVar[str] = "azure-usage"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = False
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {
        "start": (str, "first day of the queried period (YYYY-MM-DD), when rows have no UsageDate"),
        "end": (str, "first day after the queried period (YYYY-MM-DD, exclusive)"),
        "vcpus": (int, "vCPUs per VM, for rows whose meter name does not say (e.g. 'D4s v5' says 4)"),
        "architecture": (str, "CPU microarchitecture in CCF's Azure table (default: CCF's average)"),
        "utilisation_pct": (float, "average CPU utilisation in % (default 50, CCF's default)"),
        "azure": (dict, "fetch first: { scope, start, end } (Cost Management query.usage, sci.cloud.azure)"),
    }

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        text = head_text(head)
        return '"UsageQuantity"' in text and '"columns"' in text and '"rows"' in text

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        body, period = _document(ctx)
        columns = _columns(ctx, body)
        rows = body.get("rows")
        if not isinstance(rows, list):
            raise ctx.error(None, "properties.rows is not a list", _HINT)
        watts = _watts(ctx)
        runs = Runs(ctx.device, hold=True)
        for number, row in enumerate(rows, start=1):
            record = _row(ctx, columns, row, number, period, watts, runs)
            if record is not None:
                yield record
        if body.get("nextLink"):
            runs.note(
                IssueKind.TRUNCATED,
                Action.KEPT,
                "the result has a nextLink: further pages were not fetched, their rows are missing",
                max(len(rows), 1),
                key=BY_FINDING,
                adjacent=True,
            )
        yield from runs.close_all()


def _document(ctx: SourceContext) -> tuple[Mapping[str, Any], tuple[datetime, datetime] | None]:
    data = read_bytes(ctx)
    document = json_document(ctx, data, _HINT)
    if not isinstance(document, dict):
        raise ctx.error(1, "expected a JSON object", _HINT)
    period = _period(ctx, document.get("period"))
    if "responses" in document:  # an official REST example file
        document = _dig(document, "responses", "200", "body")
    elif "response" in document:
        document = document["response"]
    body = document.get("properties", document) if isinstance(document, dict) else None
    if not isinstance(body, dict):
        raise ctx.error(1, "no properties object", _HINT)
    return body, period


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _period(ctx: SourceContext, given: Any) -> tuple[datetime, datetime] | None:
    start, end = _dig(given, "start"), _dig(given, "end")
    start = start or ctx.options.get("start")
    end = end or ctx.options.get("end")
    if start is None or end is None:
        return None
    first, after = _midnight(ctx, start, "start"), _midnight(ctx, end, "end")
    if after <= first:
        raise ctx.error(None, f"end {end} is not after start {start}", "fix start/end (end is exclusive)")
    return first, after


def _columns(ctx: SourceContext, body: Mapping[str, Any]) -> dict[str, int]:
    columns = body.get("columns")
    if not isinstance(columns, list) or not all(isinstance(c, dict) for c in columns):
        raise ctx.error(None, "properties.columns is not a list of {name, type}", _HINT)
    found = {str(c.get("name", "")).lower(): i for i, c in enumerate(columns)}
    missing = [name for name in ("UsageQuantity", "MeterCategory") if name.lower() not in found]
    if missing:
        raise ctx.error(
            None,
            f"missing column(s): {', '.join(missing)}",
            "query with aggregation UsageQuantity (Sum) and grouping by MeterCategory and Meter",
        )
    return found


def _watts(ctx: SourceContext) -> float:
    architecture = str(ctx.options.get("architecture", ccf.AVERAGE))
    power = ccf.vcpu_power("azure", architecture)
    if power is None:
        raise ctx.error(
            None,
            f"architecture {architecture!r} is not in CCF's Azure table",
            f"use one of: {', '.join(ccf.architectures('azure'))} (CCF, sci/data/ccf/azure_use.csv)",
        )
    pct = ctx.options.get("utilisation_pct", DEFAULT_UTILISATION_PCT)
    if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0.0 <= pct <= 100.0:
        raise ctx.error(
            None, f"utilisation_pct must be 0-100, got {pct!r}", "fix utilisation_pct in sci.toml"
        )
    return power.watts(float(pct) / 100.0)


def _row(  # noqa: PLR0917 - one row's context, passed once from parse
    ctx: SourceContext,
    columns: Mapping[str, int],
    row: Any,
    number: int,
    period: tuple[datetime, datetime] | None,
    watts: float,
    runs: Runs,
) -> Record | None:
    if not isinstance(row, list) or len(row) != len(columns):
        raise ctx.error(number, f"row {number} does not have {len(columns)} cells", _HINT)

    def cell(name: str) -> Any:
        index = columns.get(name.lower())
        return row[index] if index is not None else None

    category = str(cell("MeterCategory") or "")
    if category.lower() != VM_CATEGORY:
        detail = f"meter category {category or '(empty)'}: no CCF estimate here (only Virtual Machines)"
        runs.note(IssueKind.NOT_ESTIMATED, Action.DROPPED, detail, number, key=BY_FINDING, adjacent=True)
        return None
    pack = _hours_per_unit(cell("UnitOfMeasure"))
    if pack is None:
        runs.note(
            IssueKind.UNKNOWN_UNIT,
            Action.DROPPED,
            f"unit {cell('UnitOfMeasure')!r} is not hours: not counted",
            number,
            key=BY_FINDING,
            adjacent=True,
        )
        return None
    meter = str(cell("Meter") or cell("MeterName") or "")
    vcpus = _vcpus(ctx, meter)
    try:
        quantity = finite(cell("UsageQuantity"))
    except (ValueError, TypeError):
        raise ctx.error(number, f"UsageQuantity {cell('UsageQuantity')!r} is not a number", _HINT) from None
    if quantity is None or vcpus is None:
        what = "UsageQuantity is empty" if quantity is None else f"meter {meter!r} does not say its vCPUs"
        runs.note(
            IssueKind.MISSING_VALUE,
            Action.DROPPED,
            f"{what}: not counted (option vcpus)",
            number,
            key=BY_FINDING,
            adjacent=True,
        )
        return None
    start, end = _interval(ctx, cell("UsageDate"), period, number)
    where = cell("ResourceId") or cell("ResourceGroup") or cell("ResourceGroupName") or meter or ctx.device
    return Record(
        device=f"azure:{where}",
        component=Component.CPU,
        start_utc=start,
        end_utc=end,
        tier=Tier.PROXY,
        method=METHOD,
        line=number,
        energy_kwh=quantity * pack * vcpus * watts / MW_PER_W,
    )


def _hours_per_unit(unit: Any) -> float | None:
    """Hours per unit of measure ("1 Hour", "10 Hours", "Hours"); no column means hours; else None."""
    if unit is None:
        return 1.0
    match = _HOURS_UNIT.match(str(unit))
    if match is None:
        return None
    return float(match.group(1) or 1)


def _vcpus(ctx: SourceContext, meter: str) -> int | None:
    option = ctx.options.get("vcpus")
    if isinstance(option, int) and not isinstance(option, bool) and option > 0:
        return option
    match = _VCPUS.match(meter.strip())
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def _interval(
    ctx: SourceContext, usage_date: Any, period: tuple[datetime, datetime] | None, number: int
) -> tuple[datetime, datetime]:
    if usage_date is not None:
        text = str(int(usage_date)) if isinstance(usage_date, int | float) else str(usage_date)
        try:
            digits = text[:8]
            day = (
                date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
                if digits.isdigit() and len(digits) == 8
                else date.fromisoformat(text[:10])
            )
        except ValueError:
            raise ctx.error(number, f"UsageDate {usage_date!r} is not a date (YYYYMMDD)", _HINT) from None
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start, start + timedelta(days=1)
    if period is None:
        raise ctx.error(
            None,
            "the rows have no UsageDate and the file does not say which period was queried",
            'set start and end on this source (e.g. start = "2026-10-01", end = "2026-11-01")',
        )
    return period


def _midnight(ctx: SourceContext, value: Any, what: str) -> datetime:
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ctx.error(None, f"{what} {value!r} is not a date (YYYY-MM-DD)", _HINT) from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
