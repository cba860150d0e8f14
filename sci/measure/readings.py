"""What a measurement backend is and what it gives per sample."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

METHOD_NVML_ENERGY = "measure/nvml-energy"  # NVML's total-energy counter (mJ), differenced
METHOD_NVML_POWER = "measure/nvml-power"  # NVML power (mW) at the sample x the sample's interval
METHOD_RAPL = "measure/rapl"  # Linux powercap RAPL counters (µJ), differenced with wraparound
METHOD_CPU_PROXY = "measure/cpu-tdp-proxy"  # CPU utilisation x load curve x TDP x interval
PROXY_METHODS = frozenset({METHOD_CPU_PROXY})
METHODS = frozenset({METHOD_NVML_ENERGY, METHOD_NVML_POWER, METHOD_RAPL, METHOD_CPU_PROXY})


class Unavailable(Exception):  # noqa: N818 - a state, not a failure: the backend is simply not there
    """A backend cannot run on this machine (no driver, no RAPL, no permission); ``reason`` says why."""

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend}: {reason}")
        self.backend = backend
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Reading:
    """One device component over one sample interval."""

    device: str  # "gpu0", "cpu"
    component: str  # a sci.model.Component value: "gpu", "package", "dram", "cpu"
    method: str
    energy_j: float
    power_w: float
    utilisation: float | None  # 0..1
    wrapped: bool = False  # a counter wrapped at its range during the interval (corrected)


class Backend(Protocol):
    """An open meter. ``read`` gives the energy since the previous call (or since it was opened)."""

    name: str

    def describe(self) -> dict[str, Any]:
        """What the log header records about this backend (its devices, its method)."""
        ...

    def read(self, elapsed_s: float) -> list[Reading]: ...

    def close(self) -> None: ...
