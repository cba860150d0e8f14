"""The records every collector yields, and the data-quality issues it reports beside them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

FLOAT_FIELDS = (
    "energy_kwh",
    "carbon_g",
    "runtime_s",
    "utilisation",
    "tdp_w",
    "resource_share",
    "market_carbon_g",
    "reported_carbon_g",
    "pue_divided",
)
"""The numeric fields of a ``Record``: each is finite or None."""


class Tier(StrEnum):
    """How a figure was obtained: the evidence hierarchy of the report."""

    MEASURED = "measured"
    PROVIDER = "provider-reported"
    PROXY = "proxy-estimated"


class Component(StrEnum):
    """What part of a device a record covers. Components of one device never overlap."""

    CPU = "cpu"
    GPU = "gpu"
    ANE = "ane"
    DRAM = "dram"
    PACKAGE = "package"  # a whole CPU package (Intel Macs: CPUs + GT + SA)
    SOC_OTHER = "soc-other"  # Apple Silicon package power not in CPU/GPU/ANE/DRAM
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Record:
    """One interval of one component of one device, with the quantity observed over it.

    Exactly one kind of quantity is set:
    - measured records carry ``energy_kwh`` (device energy, before any PUE);
    - provider-reported records carry ``carbon_g``;
    - proxy records carry ``runtime_s`` and ``utilisation`` (0..1), plus what the engine needs to turn
      them into energy: ``device_model`` (looked up in the TDP tables) or ``tdp_w``, and
      ``resource_share`` (vCPUs reserved / host threads).

    ``line`` is the 1-based line (or row) of the source file the figure came from; the store adds the
    file and its sha256, so every number traces back.
    """

    device: str
    component: Component
    start_utc: datetime
    end_utc: datetime
    tier: Tier
    method: str  # <source>/<how>, e.g. "powermetrics/cpu-power", "nvidia-smi/power.draw"
    line: int
    energy_kwh: float | None = None
    carbon_g: float | None = None
    runtime_s: float | None = None
    utilisation: float | None = None
    device_model: str | None = None
    tdp_w: float | None = None
    resource_share: float | None = None
    market_carbon_g: float | None = None  # provider market-based figure: reported beside, never in SCI
    reported_carbon_g: float | None = None  # a tool's own carbon figure (CodeCarbon...): for comparison
    pue_divided: float | None = None  # a PUE the tool had applied, already divided out of energy_kwh
    scope: str | None = None  # GHG Protocol scope of a provider figure: "1", "2", "3"

    def __post_init__(self) -> None:
        if self.start_utc.tzinfo is None or self.end_utc.tzinfo is None:
            raise ValueError("Record times must be tz-aware UTC")
        if self.end_utc < self.start_utc:
            raise ValueError("Record ends before it starts")
        for name in FLOAT_FIELDS:
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise RecordValueError(name, value, self.line)

    @property
    def duration_s(self) -> float:
        return (self.end_utc - self.start_utc).total_seconds()


class RecordValueError(ValueError):
    """A record's figure is not a finite number (a value in the file overflowed a float once converted:
    1e308 tonnes in grams). Ingest reports it as the file's error at ``line``."""

    def __init__(self, name: str, value: float, line: int) -> None:
        super().__init__(f"Record.{name} is not finite: {value}")
        self.name, self.value, self.line = name, value, line


class IssueKind(StrEnum):
    """Data-quality findings. Each is counted and listed in the report, never only logged."""

    GAP = "gap"  # samples further apart than max_gap_s: the interval is not bridged
    MISSING_VALUE = "missing-value"  # [N/A], [Not Supported], empty: the interval is dropped
    NON_MONOTONIC = "non-monotonic"  # time went backwards: the sample is dropped
    NEGATIVE_VALUE = "negative-value"
    TRUNCATED = "truncated"  # an unfinished last line or sample (process killed)
    ORPHAN_LINES = "orphan-lines"  # data before the first sample header (an excerpt or a cut log)
    NO_POWER_DATA = "no-power-data"  # a sample without any power figure
    INFERRED_DEVICE = "inferred-device"  # device identity inferred (e.g. GPU by row order)
    DUPLICATE_FILE = "duplicate-file"  # same content already ingested from another path
    SERIES_START = "series-start"  # first sample of a series: it opens the interval, no energy
    AMBIGUOUS_TIME = "ambiguous-local-time"  # local time in a DST fold or gap, resolved by order
    MALFORMED_ROW = "malformed-row"  # a row that cannot be read, where the format allows skipping it
    ABSURD_VALUE = "absurd-value"  # above the configured ceiling for its component: the row is dropped
    COUNTER_RESET = "counter-reset"  # a cumulative counter went down without a wrap (reboot, new run)
    COUNTER_WRAP = "counter-wrap"  # a cumulative counter wrapped at its range: the delta is corrected
    DUPLICATE_ROW = "duplicate-row"  # the same figure twice (a repeated row, an intel-rapl-mmio copy)
    OVERLAP = "overlap"  # the same device and time in two sources: counted once, by precedence
    EXCLUDED = "excluded"  # counted by another platform (e.g. a self-hosted runner on a cloud VM)
    UNKNOWN_UNIT = "unknown-unit"  # a unit the collector does not know: the row is dropped
    PARTIAL_PERIOD = "partial-period"  # a period only partly covered (a month still open)
    NO_RECORDS = "no-records"  # the file yielded nothing to count (empty, or only headers)
    # a provider's parts (scopes 1+2+3) do not add up to its stated total: the collector says which counts
    TOTAL_MISMATCH = "total-mismatch"
    NOT_ESTIMATED = "not-estimated"  # usage a proxy has no coefficient for (storage, network): outside E
    TOOL_ESTIMATE = "tool-estimate"  # a tool's "measured" figure that is itself an estimate (TDP fallback)


class Action(StrEnum):
    DROPPED = "dropped"  # rows not counted
    KEPT = "kept"  # rows counted, but doubtful
    NOT_BRIDGED = "not-bridged"  # time not covered


@dataclass(frozen=True, slots=True)
class QualityIssue:
    """A run of ``rows`` lines (``line_start``..``line_end``) with the same data-quality finding."""

    kind: IssueKind
    action: Action
    line_start: int
    line_end: int
    rows: int
    detail: str
    device: str = ""
    seconds: float | None = None  # time not covered (gaps)


@dataclass(frozen=True, slots=True)
class RecordBatch:
    """Many records at once, as columns: what a vectorised collector path yields instead of ``Record`` s.

    ``table`` is a ``pyarrow.Table`` with exactly the columns of ``sci.store.SAMPLE_COLUMNS``, in that
    order (``line`` int32; ``start_utc``/``end_utc`` naive UTC ``timestamp[us]``; the quantities float64;
    the names string), rows in line order. It holds what the same rows would give as ``Record`` s, and a
    collector yields it only when ``SourceContext.batches`` is set (the store and the screen take it).
    """

    table: pa.Table

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)


Item = Record | QualityIssue | RecordBatch
