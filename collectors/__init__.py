"""Built-in collectors and the one loader for them and for third-party ones.

Third-party collectors register under the entry-point group ``sci_report.collectors`` (name = the
collector's ``name``, value = ``module:Class``), through the same loader as the built-in ones.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points

from collectors.base import Collector
from sci.errors import SciError

ENTRY_POINT_GROUP = "sci_report.collectors"

BUILTIN: tuple[tuple[str, str], ...] = (
    ("powermetrics", "collectors.powermetrics_text:PowermetricsText"),
    ("nvidia-smi", "collectors.nvidia_smi_csv:NvidiaSmiCsv"),
    ("tdp-proxy", "collectors.tdp_proxy:TdpProxy"),
)


@cache
def _targets() -> dict[str, str]:
    found = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def names() -> list[str]:
    return sorted(_targets())


def load(name: str) -> type[Collector]:
    """The collector class registered as ``name``."""
    target = _targets().get(name)
    if target is None:
        raise SciError(
            f"unknown collector {name!r}",
            hint=f"use one of: {', '.join(names())}",
        )
    module_name, _, attr = target.partition(":")
    cls: type[Collector] = getattr(importlib.import_module(module_name), attr)
    return cls
