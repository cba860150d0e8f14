"""AWS Cost and Usage Report 2.0 (CSV, gzip CSV or Parquet) -> instance-hours estimated as CPU energy.

For accounts without a carbon export: each usage row of an instance type (EC2 ``BoxUsage``, ``SpotUsage``,
RDS ``InstanceUsage``, ...) becomes one proxy-estimated record whose ``energy_kwh`` is Cloud Carbon
Footprint's compute estimate, IT energy only (compute applies the platform's PUE and grid factor):

    energy_kwh = instance-hours x vCPUs x (Min + utilisation x (Max - Min)) W / 1000

with CCF's per-vCPU Min/Max watts (``sci.cloud.ccf``). Format and rules: ``docs/formats/aws-cur.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

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
from sci.cloud import ccf
from sci.model import Action, Component, IssueKind, Item, Record, Tier
from sci.units import J_PER_KWH, S_PER_HOUR

METHOD = "aws-cur/ccf"
DEFAULT_UTILISATION_PCT = 50.0  # CCF's average CPU utilisation for usage-based estimates
REQUIRED = (
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_usage_amount",
    "line_item_usage_account_id",
    "line_item_line_item_type",
    "product_instance_type",
    "product_region_code",
    "pricing_unit",
)
VCPU_COLUMNS = ("product_vcpu", "product['vcpu']", "vcpu", "product")
USAGE_TYPES = frozenset({"usage", "discountedusage", "savingsplancoveredusage"})
HOURS = frozenset({"hrs", "hr", "hours", "hour"})
_FORMAT_HINT = "export the CUR 2.0 table with these columns named in the query (see docs/formats/aws-cur.md)"


class AwsCurUsage:
    """Collector for CUR 2.0 usage rows of instance types, estimated with Cloud Carbon Footprint's method."""

    name: ClassVar[str] = "aws-cur"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = False
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {
        "region": (
            str,
            'the AWS region (product_region_code) to read, e.g. "eu-west-1"; others are excluded',
        ),
        "utilisation_pct": (
            float,
            "average CPU utilisation in % assumed for every instance (default 50, CCF)",
        ),
        "architecture": (str, 'CPU microarchitecture in CCF\'s table (e.g. "Graviton3"); default "average"'),
        "s3": (dict, "fetch the export from S3: { bucket, prefix, region, endpoint_url } (see docs)"),
    }

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """A CSV header (or a small Parquet file's footer) naming CUR's usage amount and instance type."""
        return sniff_columns(head, "line_item_usage_amount", "product_instance_type")

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        with open_table(ctx) as table:
            yield from _Parser(ctx, table).run()


def _options(ctx: SourceContext) -> tuple[str | None, float, ccf.VcpuPower]:
    region = ctx.options.get("region")
    if region is not None and (not isinstance(region, str) or not region.strip()):
        raise ctx.error(None, f"option region must be an AWS region such as 'eu-west-1', got {region!r}")
    pct = ctx.options.get("utilisation_pct", DEFAULT_UTILISATION_PCT)
    if (
        isinstance(pct, bool)
        or not isinstance(pct, int | float)
        or not math.isfinite(pct)
        or not 0 <= pct <= 100
    ):
        raise ctx.error(None, f"option utilisation_pct must be a number in 0..100, got {pct!r}")
    name = ctx.options.get("architecture", ccf.AVERAGE)
    power = ccf.vcpu_power("aws", name) if isinstance(name, str) else None
    if power is None:
        raise ctx.error(
            None,
            f"option architecture {name!r} is not in Cloud Carbon Footprint's AWS table",
            f"use one of: {', '.join(ccf.architectures('aws'))}",
        )
    return (region.strip() if isinstance(region, str) else None), float(pct) / 100.0, power


def _vcpus(row: Row, column: str) -> int | None:
    value = row[column]
    if column == "product":
        value = _from_map(value)
    try:
        count = float(str(value).strip()) if value is not None else math.nan
    except ValueError:
        return None
    return int(count) if math.isfinite(count) and count >= 1 and count == int(count) else None


def _from_map(value: Any) -> Any:
    """``product['vcpu']`` of CUR 2.0's product map: JSON text in CSV; a dict or pairs in Parquet."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, list):
        value = {item[0]: item[1] for item in value if isinstance(item, tuple | list) and len(item) == 2}
    return value.get("vcpu") if isinstance(value, dict) else None


class _Parser:
    def __init__(self, ctx: SourceContext, table: Table) -> None:
        self.ctx = ctx
        self.table = table
        missing = missing_columns(table.columns, REQUIRED)
        vcpu = [c for c in VCPU_COLUMNS if c in table.columns]
        if not vcpu:
            missing.append(f"one of {', '.join(VCPU_COLUMNS)}")
        if missing:
            raise ctx.error(
                None if table.parquet else 1, f"missing required columns: {', '.join(missing)}", _FORMAT_HINT
            )
        self.vcpu_column = vcpu[0]
        self.region, self.utilisation, self.power = _options(ctx)
        self.watts = self.power.watts(self.utilisation)
        self.runs = Runs(ctx.device)
        self.at = 0  # the current row's position

    def run(self) -> Iterator[Item]:
        for at, (line, row) in enumerate(self.table.rows):
            self.at = at
            yield from self.runs.close_stale(at)
            record = self._row(line, row)
            if record is not None:
                yield record
        yield from self.runs.close_all()

    def _drop(self, kind: IssueKind, line: int, detail: str) -> None:
        """A row dropped for ``kind``: its run grows while rows repeat it (``close_stale`` ends it)."""
        self.runs.note(kind, Action.DROPPED, detail, line, key=(kind, Action.DROPPED, detail), at=self.at)

    def _in_scope(self, line: int, row: Row) -> str | None:
        """The row's instance type if it is instance usage in the chosen region, else None (counted)."""
        kind = (text(row["line_item_line_item_type"]) or "").casefold()
        instance_type = text(row["product_instance_type"])
        if kind not in USAGE_TYPES or instance_type is None:
            self._drop(IssueKind.EXCLUDED, line, "not instance usage (storage, transfer, fees, tax, credits)")
            return None
        region = text(row["product_region_code"]) or "global"
        if self.region is None:
            self.region = region
        if region != self.region:
            if "region" not in self.ctx.options:
                raise self.ctx.error(
                    line,
                    f"the file holds usage in two regions, {self.region} and {region}: each needs its own "
                    "grid factor",
                    f'read one region per platform: region = "{self.region}" on this source (and a platform '
                    f'with region = "aws:{region}" for the other)',
                )
            self._drop(IssueKind.EXCLUDED, line, f"usage in another region than {self.region}")
            return None
        return instance_type

    def _row(self, line: int, row: Row) -> Record | None:
        instance_type = self._in_scope(line, row)
        if instance_type is None:
            return None
        ctx = self.ctx
        unit = text(row["pricing_unit"])
        if (unit or "").casefold() not in HOURS:
            self._drop(IssueKind.UNKNOWN_UNIT, line, f"pricing_unit {unit!r} is not hours: not counted")
            return None
        hours = number(ctx, row["line_item_usage_amount"], "line_item_usage_amount", line)
        vcpus = _vcpus(row, self.vcpu_column)
        if hours is None or vcpus is None:
            what = "line_item_usage_amount" if hours is None else f"the vCPU count ({self.vcpu_column})"
            self._drop(IssueKind.MISSING_VALUE, line, f"{what} is missing: the row is not estimated")
            return None
        start = utc_time(ctx, row["line_item_usage_start_date"], "line_item_usage_start_date", line)
        end = utc_time(ctx, row["line_item_usage_end_date"], "line_item_usage_end_date", line)
        if end < start:
            raise ctx.error(
                line, f"line_item_usage_end_date {end} is before line_item_usage_start_date {start}"
            )
        account = text(row["line_item_usage_account_id"]) or "unknown-account"
        return Record(
            device=f"aws:{account}/{instance_type}/{self.region}",
            component=Component.CPU,
            start_utc=start,
            end_utc=end,
            tier=Tier.PROXY,
            method=METHOD,
            line=line,
            energy_kwh=hours * S_PER_HOUR * vcpus * self.watts / J_PER_KWH,
        )


__all__ = ["METHOD", "AwsCurUsage"]
