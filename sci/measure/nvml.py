"""NVIDIA GPUs through NVML (``pynvml`` from nvidia-ml-py, imported only when this backend opens).

Per GPU the total-energy counter (``nvmlDeviceGetTotalEnergyConsumption``, mJ, Volta and later) is
differenced between samples; where it is not supported, power (``nvmlDeviceGetPowerUsage``, mW) at the
sample times the sample's interval. Utilisation from ``nvmlDeviceGetUtilizationRates``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sci.measure.readings import METHOD_NVML_ENERGY, METHOD_NVML_POWER, Reading, Unavailable
from sci.units import MJ_PER_J, MW_PER_W

NAME = "nvml"


@dataclass(slots=True)
class _Gpu:
    index: int
    handle: Any
    uuid: str
    model: str
    last_mj: int | None  # None: the energy counter is not supported, power is used


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value  # old pynvml returned bytes


class NvmlBackend:
    name = NAME

    def __init__(self, nvml: ModuleType) -> None:
        self._nvml = nvml
        self.gpus: list[_Gpu] = []
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            uuid = _text(nvml.nvmlDeviceGetUUID(handle))
            model = _text(nvml.nvmlDeviceGetName(handle))
            self.gpus.append(_Gpu(index, handle, uuid, model, self._energy_mj(handle)))

    def _energy_mj(self, handle: Any) -> int | None:
        try:
            return int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(handle))
        except self._nvml.NVMLError_NotSupported:
            return None

    def describe(self) -> dict[str, Any]:
        return {
            "name": NAME,
            "devices": [
                {
                    "device": f"gpu{gpu.index}",
                    "uuid": gpu.uuid,
                    "model": gpu.model,
                    "method": METHOD_NVML_POWER if gpu.last_mj is None else METHOD_NVML_ENERGY,
                }
                for gpu in self.gpus
            ],
        }

    def read(self, elapsed_s: float) -> list[Reading]:
        return [reading for gpu in self.gpus if (reading := self._read(gpu, elapsed_s)) is not None]

    def _read(self, gpu: _Gpu, elapsed_s: float) -> Reading | None:
        nvml = self._nvml
        try:
            utilisation = nvml.nvmlDeviceGetUtilizationRates(gpu.handle).gpu / 100.0
            if gpu.last_mj is None:
                power_w = nvml.nvmlDeviceGetPowerUsage(gpu.handle) / MW_PER_W
                energy_j, method = power_w * elapsed_s, METHOD_NVML_POWER
            else:
                now_mj = int(nvml.nvmlDeviceGetTotalEnergyConsumption(gpu.handle))
                delta_mj, gpu.last_mj = now_mj - gpu.last_mj, now_mj
                if delta_mj < 0:  # the driver was reloaded: the counter restarted, this interval is unknown
                    return None
                energy_j, method = delta_mj / MJ_PER_J, METHOD_NVML_ENERGY
                power_w = energy_j / elapsed_s if elapsed_s > 0 else 0.0
        except nvml.NVMLError:  # a GPU fell off the bus or is resetting: no figure for this interval
            return None
        return Reading(f"gpu{gpu.index}", "gpu", method, energy_j, power_w, utilisation)

    def close(self) -> None:
        self._nvml.nvmlShutdown()


def open_nvml() -> NvmlBackend:
    """The NVML backend, or ``Unavailable`` (no nvidia-ml-py, no driver, no GPU)."""
    try:
        import pynvml  # lazy: only machines with NVIDIA GPUs need it loaded
    except ImportError:
        raise Unavailable(NAME, "nvidia-ml-py is not installed") from None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        raise Unavailable(NAME, f"NVML cannot start ({exc})") from None
    try:
        backend = NvmlBackend(pynvml)
    except pynvml.NVMLError as exc:
        pynvml.nvmlShutdown()
        raise Unavailable(NAME, f"NVML cannot list the GPUs ({exc})") from None
    if not backend.gpus:
        pynvml.nvmlShutdown()
        raise Unavailable(NAME, "NVML sees no GPU")
    return backend
