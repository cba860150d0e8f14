"""Cloud Carbon Footprint's Azure usage coefficients (W per vCPU, min and max) and CCF's compute formula.

Data: ``sci/data/factors/ccf/azure_use.csv`` (see the ``SOURCE.md`` beside it). Not part of the factor
bundle: only the ``azure-usage`` collector uses it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

SOURCE = (
    "Cloud Carbon Footprint coefficients-azure-use.csv (ccf-coefficients @ b0032d92, 2026-04 snapshot; "
    "data year not stated by CCF), Apache-2.0"
)
AVERAGE = "average"
"""CCF's choice when the microarchitecture is unknown: the mean of the min and max over all of them."""


@dataclass(frozen=True, slots=True)
class VcpuWatts:
    architecture: str
    min_w: float
    max_w: float

    def power_w(self, utilisation: float) -> float:
        """CCF: average watts per vCPU = min + utilisation x (max - min)."""
        return self.min_w + utilisation * (self.max_w - self.min_w)


@cache
def azure_coefficients() -> dict[str, VcpuWatts]:
    """Every architecture's coefficients by lower-case name, plus ``average`` (CCF's unknown-CPU default)."""
    text = (
        resources.files("sci").joinpath("data", "factors", "ccf", "azure_use.csv").read_text(encoding="utf-8")
    )
    table = {
        row["architecture"].lower(): VcpuWatts(
            row["architecture"], float(row["min_w_per_vcpu"]), float(row["max_w_per_vcpu"])
        )
        for row in csv.DictReader(text.splitlines())
    }
    rows = list(table.values())
    table[AVERAGE] = VcpuWatts(
        "average of all Azure architectures",
        sum(r.min_w for r in rows) / len(rows),
        sum(r.max_w for r in rows) / len(rows),
    )
    return table
