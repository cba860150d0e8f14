"""Cloud Carbon Footprint coefficients for usage-based estimates (``sci/data/ccf/``, Apache-2.0).

Built by ``tools/build_ccf.py`` from a snapshot of ccf-coefficients (``SOURCE.md`` beside the tables); every
row names its source, year (or a year_note) and licence. Kept beside the factor bundle rather than in it:
these are per-vCPU power and per-instance embodied coefficients of one estimation method, looked up by a
collector, not factors that ``compute`` applies.

- :func:`vcpu_power`: CCF's average watts per vCPU = Min + utilisation x (Max - Min), per cloud (``aws``
  for ``aws-cur``, ``azure`` for ``azure-usage``) and CPU microarchitecture; without a known
  microarchitecture CCF averages all of the cloud's, and so does this (:data:`AVERAGE`).
- :func:`aws_embodied`: the embodied kgCO2e of the host an EC2 instance type runs on, which CCF
  amortises over 4 years and the instance's share of the host's vCPUs (see ``docs/formats/aws-cur.md``
  for declaring it as an ``[[embodied]]`` line).
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib.resources import files

AVERAGE = "average"
"""The architecture name that selects the mean of every architecture in the table (CCF's fallback)."""


@dataclass(frozen=True, slots=True)
class VcpuPower:
    architecture: str
    min_w: float  # per vCPU, idle
    max_w: float  # per vCPU, full load
    source: str
    year_note: str
    licence: str

    def watts(self, utilisation: float) -> float:
        """Average power of one vCPU at ``utilisation`` (0..1): Min + u x (Max - Min)."""
        return self.min_w + utilisation * (self.max_w - self.min_w)


@dataclass(frozen=True, slots=True)
class InstanceEmbodied:
    instance_type: str
    total_kgco2e: float  # the whole host
    source: str
    year_note: str
    licence: str


def _rows(name: str) -> list[dict[str, str]]:
    text = files("sci").joinpath("data", "ccf", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@functools.cache
def _use(cloud: str) -> dict[str, VcpuPower]:
    table = {
        row["architecture"].casefold(): VcpuPower(
            row["architecture"],
            float(row["min_w_per_vcpu"]),
            float(row["max_w_per_vcpu"]),
            row["source"],
            row["year_note"],
            row["licence"],
        )
        for row in _rows(f"{cloud}_use.csv")
    }
    first = next(iter(table.values()))
    table[AVERAGE] = VcpuPower(
        AVERAGE,
        sum(p.min_w for p in table.values()) / len(table),
        sum(p.max_w for p in table.values()) / len(table),
        f"mean of the {len(table)} architectures of {first.source}",
        first.year_note,
        first.licence,
    )
    return table


def architectures(cloud: str) -> list[str]:
    """The microarchitectures of ``cloud``'s table (``"aws"``, ``"azure"``), with :data:`AVERAGE`."""
    return sorted(p.architecture for p in _use(cloud).values())


def vcpu_power(cloud: str, architecture: str = AVERAGE) -> VcpuPower | None:
    """CCF's per-vCPU power on ``cloud`` for a CPU microarchitecture (case-insensitive), or None."""
    return _use(cloud).get(architecture.strip().casefold())


@functools.cache
def _embodied() -> dict[str, InstanceEmbodied]:
    return {
        row["instance_type"].casefold(): InstanceEmbodied(
            row["instance_type"], float(row["total_kgco2e"]), row["source"], row["year_note"], row["licence"]
        )
        for row in _rows("aws_embodied.csv")
    }


def aws_embodied(instance_type: str) -> InstanceEmbodied | None:
    """CCF's embodied kgCO2e of the host of an EC2 instance type (``"m5.large"``), or None."""
    return _embodied().get(instance_type.strip().casefold())
