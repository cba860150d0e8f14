"""The CPU proxy, for machines without a readable meter: the machine's CPU utilisation between samples
(``psutil.cpu_percent(interval=None)``) x TDP through the bundled load curve, x the sample's interval."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import psutil

from sci import engine
from sci.errors import FactorError, SciError
from sci.factors import FactorBundle, load_bundle
from sci.measure.readings import METHOD_CPU_PROXY, Reading

NAME = "cpu-proxy"
CPUINFO = Path("/proc/cpuinfo")
PERCENT = 100.0


def cpu_model(cpuinfo: Path = CPUINFO) -> str:
    """The CPU model: ``model name`` in /proc/cpuinfo, else ``platform.processor()`` (may be empty)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return platform.processor().strip()


def cpu_tdp_w(model: str, bundle: FactorBundle) -> float:
    """The chip's TDP from the bundle; a miss is an error that names ``--tdp-w``."""
    if not model:
        raise SciError(
            "the CPU model is unknown (no model name in /proc/cpuinfo), so its TDP cannot be looked up",
            hint="give the chip's TDP with --tdp-w W (Tracker(tdp_w=...)), e.g. --tdp-w 65",
        )
    try:
        return bundle.cpu_tdp(model).value
    except FactorError as exc:
        raise SciError(
            f"no TDP for CPU {model!r}: {exc.message}",
            hint="give the chip's TDP (datasheet) with --tdp-w W (Tracker(tdp_w=...)), e.g. --tdp-w 65",
        ) from None


class CpuProxyBackend:
    name = NAME

    def __init__(self, *, tdp_w: float | None = None, model: str | None = None) -> None:
        bundle = load_bundle()
        self.model = cpu_model() if model is None else model
        self.tdp_w = tdp_w if tdp_w is not None else cpu_tdp_w(self.model, bundle)
        self.curve, self.curve_factor = bundle.load_curve()
        psutil.cpu_percent(interval=None)  # the first call only starts the measurement

    def describe(self) -> dict[str, Any]:
        return {
            "name": NAME,
            "method": METHOD_CPU_PROXY,
            "cpu_model": self.model,
            "tdp_w": self.tdp_w,
            "load_curve": f"{self.curve_factor.key} ({self.curve_factor.source})",
        }

    def read(self, elapsed_s: float) -> list[Reading]:
        utilisation = psutil.cpu_percent(interval=None) / PERCENT
        power_w = engine.proxy_power_w(
            utilisation=utilisation, tdp_w=self.tdp_w, resource_share=1.0, curve=self.curve
        )
        return [Reading("cpu", "cpu", METHOD_CPU_PROXY, power_w * elapsed_s, power_w, utilisation)]

    def close(self) -> None:
        """Nothing to release."""


def open_cpu_proxy(*, tdp_w: float | None = None) -> CpuProxyBackend:
    return CpuProxyBackend(tdp_w=tdp_w)
