"""Fakes for the measurement backends: recorded NVML readings behind the real pynvml calls, and a
powercap sysfs tree (seeded from a real dump) whose energy_uj files a test rewrites between samples."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import pynvml
import pytest

RAPL_TREE = Path(__file__).parent / "fixtures" / "measure" / "powercap_codecarbon"
MAX_UJ = 262143328850


class _Series:
    """Values returned one per call; the last one repeats."""

    def __init__(self, values: Sequence[int]) -> None:
        self.values = list(values)
        self.at = 0

    def next(self) -> int:
        value = self.values[min(self.at, len(self.values) - 1)]
        self.at += 1
        return value


class RecordedNvml:
    """GPUs as (uuid, name, energy mJ readings or None if unsupported, power mW readings, utilisation %),
    returned by the real pynvml function names, one reading per call."""

    def __init__(
        self, gpus: Sequence[tuple[str, str, Sequence[int] | None, Sequence[int], Sequence[int]]]
    ) -> None:
        self.gpus = [
            (uuid, name, None if e is None else _Series(e), _Series(p), _Series(u))
            for uuid, name, e, p, u in gpus
        ]

    def patch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        m = monkeypatch
        m.setattr(pynvml, "nvmlInit", lambda: None)
        m.setattr(pynvml, "nvmlShutdown", lambda: None)
        m.setattr(pynvml, "nvmlDeviceGetCount", lambda: len(self.gpus))
        m.setattr(pynvml, "nvmlDeviceGetHandleByIndex", lambda i: i)
        m.setattr(pynvml, "nvmlDeviceGetUUID", lambda h: self.gpus[h][0])
        m.setattr(pynvml, "nvmlDeviceGetName", lambda h: self.gpus[h][1])
        m.setattr(pynvml, "nvmlDeviceGetTotalEnergyConsumption", self._energy)
        m.setattr(pynvml, "nvmlDeviceGetPowerUsage", lambda h: self.gpus[h][3].next())
        m.setattr(
            pynvml, "nvmlDeviceGetUtilizationRates", lambda h: SimpleNamespace(gpu=self.gpus[h][4].next())
        )

    def _energy(self, h: int) -> int:
        series = self.gpus[h][2]
        if series is None:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return series.next()


def rapl_tree(tmp_path: Path) -> Path:
    """A /sys/class/powercap copy: the real intel-rapl tree under intel-rapl/, plus an mmio duplicate."""
    root = tmp_path / "powercap"
    shutil.copytree(RAPL_TREE, root / "intel-rapl")
    mmio = root / "intel-rapl-mmio:0"
    mmio.mkdir()
    (mmio / "name").write_text("package-0\n")
    (mmio / "energy_uj").write_text((root / "intel-rapl" / "intel-rapl:0" / "energy_uj").read_text())
    (mmio / "max_energy_range_uj").write_text(f"{MAX_UJ}\n")
    return root


def set_uj(root: Path, zone: str, value: int) -> None:
    """Rewrite a zone's counter (``"intel-rapl:0"``, ``"intel-rapl:0:2"``)."""
    parts = zone.split(":")
    folder = root / "intel-rapl" / f"{parts[0]}:{parts[1]}"
    if len(parts) == 3:
        folder = folder / zone
    (folder / "energy_uj").write_text(f"{value}\n")


def uj(root: Path, zone: str) -> int:
    parts = zone.split(":")
    folder = root / "intel-rapl" / f"{parts[0]}:{parts[1]}"
    if len(parts) == 3:
        folder = folder / zone
    return int((folder / "energy_uj").read_text())
