"""Which meters to use: NVML GPUs when present, RAPL when readable, else the CPU proxy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sci.errors import SciError
from sci.measure import cpu_proxy, nvml, rapl
from sci.measure.readings import Backend, Unavailable

AUTO = "auto"
CHOICES = (AUTO, nvml.NAME, rapl.NAME, cpu_proxy.NAME)


@dataclass(frozen=True, slots=True)
class BackendOptions:
    tdp_w: float | None = None  # the CPU proxy's TDP (instead of the bundle's table)
    powercap_root: Path = rapl.POWERCAP_ROOT


@dataclass(slots=True)
class Opened:
    backends: list[Backend]
    unavailable: list[Unavailable] = field(default_factory=list)


Opener = Callable[[BackendOptions], Backend]

OPENERS: dict[str, Opener] = {
    nvml.NAME: lambda _options: nvml.open_nvml(),
    rapl.NAME: lambda options: rapl.open_rapl(options.powercap_root),
    cpu_proxy.NAME: lambda options: cpu_proxy.open_cpu_proxy(tdp_w=options.tdp_w),
}
"""One opener per backend name; tests replace entries with fakes."""


def parse_choice(text: str) -> tuple[str, ...]:
    """``"auto"`` or a comma-separated list of backend names."""
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [n for n in names if n not in CHOICES]
    if not names or unknown:
        raise SciError(
            f"unknown backend {', '.join(unknown) or text!r}",
            hint=f"use auto or a list of: {', '.join(CHOICES[1:])}",
        )
    if AUTO in names and len(names) > 1:
        raise SciError("auto chooses the backends itself", hint="give auto alone, or a list of backends")
    if rapl.NAME in names and cpu_proxy.NAME in names:
        raise SciError(
            "rapl and cpu-proxy both cover the CPU: the energy would be counted twice", hint="choose one"
        )
    return names


def open_backends(choice: tuple[str, ...], options: BackendOptions) -> Opened:
    """Open the chosen backends. ``auto``: NVML if it sees GPUs, RAPL if readable, else the CPU proxy.

    A named backend that is unavailable is an error; under ``auto`` it is recorded and skipped.
    """
    if choice != (AUTO,):
        opened = Opened([])
        for name in choice:
            try:
                opened.backends.append(OPENERS[name](options))
            except Unavailable as exc:
                close_all(opened.backends)
                raise SciError(
                    f"backend {name} is unavailable: {exc.reason}", hint="use --backends auto"
                ) from None
        return opened
    opened = Opened([])
    for name in (nvml.NAME, rapl.NAME):
        try:
            opened.backends.append(OPENERS[name](options))
        except Unavailable as exc:
            opened.unavailable.append(exc)
    if not any(b.name == rapl.NAME for b in opened.backends):
        opened.backends.append(OPENERS[cpu_proxy.NAME](options))
    return opened


def close_all(backends: list[Backend]) -> None:
    for backend in backends:
        backend.close()
