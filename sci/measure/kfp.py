"""Kubeflow Pipelines metrics: the v1 ``mlpipeline-metrics`` JSON a pipeline step writes for the UI.

``{"metrics": [{"name": "carbon-g", "numberValue": 12.3, "format": "RAW"}, ...]}``; names must match
``^[a-z]([-a-z0-9]{0,62}[a-z0-9])?$``. See docs/formats/measure.md for KFP v2 / Vertex AI.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path

from sci.errors import SciError
from sci.files import write_atomically

NAME = re.compile(r"^[a-z]([-a-z0-9]{0,62}[a-z0-9])?$")


def metrics_json(metrics: Mapping[str, float]) -> str:
    """The metrics file's text; a name KFP would reject or a non-finite value is a ``ValueError``."""
    items = []
    for name, value in metrics.items():
        if not NAME.match(name):
            raise ValueError(f"{name!r} is not a KFP metric name (^[a-z]([-a-z0-9]{{0,62}}[a-z0-9])?$)")
        if not math.isfinite(value):
            raise ValueError(f"metric {name} is not finite: {value}")
        items.append({"name": name, "numberValue": value, "format": "RAW"})
    return json.dumps({"metrics": items}, indent=2) + "\n"


def write_metrics(path: Path, metrics: Mapping[str, float]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, metrics_json(metrics).encode("utf-8"))
    except OSError as exc:
        raise SciError(f"cannot write the KFP metrics file {path}: {exc}", hint="check the path") from None


def run_metrics(
    *, energy_kwh: float, duration_s: float, carbon_g: float | None, sci_g_per_unit: float | None
) -> dict[str, float]:
    """The metrics of one measured run: those that are known."""
    metrics = {"energy-kwh": energy_kwh, "duration-s": duration_s}
    if carbon_g is not None:
        metrics["carbon-g"] = carbon_g
    if sci_g_per_unit is not None:
        metrics["sci-g-per-unit"] = sci_g_per_unit
    return metrics
