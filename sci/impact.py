"""A GSF Impact Framework (IF) manifest that reproduces the SCI figures, and a tiny runner of it.

One component per platform, one input per month of the window, and a pipeline of IF builtins:

    Multiply [device/energy, pue]                           -> energy              (E, kWh)
    Multiply [energy, grid/carbon-intensity]                -> carbon-operational  (E x I, gCO2e)
    Sum      [carbon-operational, carbon-provider, carbon-embodied] -> carbon
    Sci      functional-unit: functional-units              -> sci                 (gCO2e per R)

M comes in as ``carbon-embodied`` (sci-report's TE x TiR/EL x RR/ToR per month, the working in
totals.json), not from IF's ``SciEmbodied``: that plugin's inputs and model changed between IF releases
(1.0 estimates from vCPU/memory baselines), and the manifest must reproduce these figures. Months whose R
is not declared or 0 go to a second component without ``Sci``: IF's ``Sci`` returns the raw carbon for
R = 0, where the SCI is undefined. Written for IF 1.x (``config``, ``pipeline.compute``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sci.config import month_bounds
from sci.results import ComputeResult, PlatformResult

FUNCTIONAL_UNIT_KEY = "functional-units"
NO_R_SUFFIX = "/months-without-r"
PLUGINS: dict[str, dict[str, Any]] = {
    "facility-energy": {
        "method": "Multiply",
        "path": "builtin",
        "config": {"input-parameters": ["device/energy", "pue"], "output-parameter": "energy"},
    },
    "operational-carbon": {
        "method": "Multiply",
        "path": "builtin",
        "config": {
            "input-parameters": ["energy", "grid/carbon-intensity"],
            "output-parameter": "carbon-operational",
        },
    },
    "sum-carbon": {
        "method": "Sum",
        "path": "builtin",
        "config": {
            "input-parameters": ["carbon-operational", "carbon-provider", "carbon-embodied"],
            "output-parameter": "carbon",
        },
    },
    "sci": {"method": "Sci", "path": "builtin", "config": {"functional-unit": FUNCTIONAL_UNIT_KEY}},
}
PIPELINE = ["facility-energy", "operational-carbon", "sum-carbon", "sci"]


def manifest(result: ComputeResult) -> dict[str, Any]:
    """The IF manifest (a plain dict, for ``yaml.safe_dump``)."""
    zone = ZoneInfo(result.window_timezone)
    start, end = result.window_start.astimezone(zone), result.window_end.astimezone(zone)
    children: dict[str, Any] = {}
    for platform in result.platforms:
        with_r, without_r = _inputs(result, platform)
        if with_r:
            children[platform.platform] = {"pipeline": {"compute": list(PIPELINE)}, "inputs": with_r}
        if without_r:
            children[platform.platform + NO_R_SUFFIX] = {
                "pipeline": {"compute": PIPELINE[:-1]},
                "inputs": without_r,
            }
    return {
        "name": f"sci-report: {result.title}",
        "description": (
            f"SCI per platform and month, {start:%Y-%m-%d} to {end:%Y-%m-%d} (end exclusive, "
            f"{zone.key}), from sci-report {result.tool_version} "
            f"(factor bundle {result.factor_bundle_version}). "
            "device/energy is IT energy in kWh before PUE; carbon in gCO2e; carbon-embodied is M from "
            "sci-report's embodied inventory; functional-units is R. A platform's SCI over several months "
            "is sum(carbon) / sum(functional-units), never a mean of monthly scores."
        ),
        "tags": {"kind": "sci", "complexity": "simple", "category": "audit"},
        "initialize": {"plugins": PLUGINS},
        "tree": {"children": children},
    }


def _inputs(result: ComputeResult, platform: PlatformResult) -> tuple[list[Any], list[Any]]:
    zone = ZoneInfo(result.window_timezone)
    with_r: list[Any] = []
    without_r: list[Any] = []
    for period in platform.periods:
        month_start, month_end = month_bounds(period.period, zone)
        start, end = max(month_start, result.window_start), min(month_end, result.window_end)
        item: dict[str, Any] = {
            "timestamp": start.isoformat().replace("+00:00", "Z"),
            "duration": int((end - start).total_seconds()),
            "sci-report/period": period.period,
            "sci-report/unit": platform.unit or "unit",
            "device/energy": period.it_energy_kwh,
            "pue": period.pue,
            "grid/carbon-intensity": period.intensity_g_per_kwh,
            "carbon-provider": period.provider_carbon_g,
            "carbon-embodied": period.embodied_g,
        }
        if period.functional_units is not None and period.functional_units > 0:
            with_r.append({**item, FUNCTIONAL_UNIT_KEY: period.functional_units})
        else:
            without_r.append(item)
    return with_r, without_r


def run(document: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Run the manifest's pipelines the way IF's Multiply, Sum and Sci builtins do (in parameter order):
    each component's outputs. Only these three methods are known; anything else is an error."""
    plugins = document["initialize"]["plugins"]
    outputs: dict[str, list[dict[str, Any]]] = {}
    for name, child in document["tree"]["children"].items():
        rows = [dict(item) for item in child["inputs"]]
        for step in child["pipeline"]["compute"]:
            plugin = plugins[step]
            rows = [_apply(plugin["method"], plugin.get("config") or {}, row) for row in rows]
        outputs[name] = rows
    return outputs


def _apply(method: str, config: Mapping[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    if method == "Multiply":
        return {**row, config["output-parameter"]: math.prod(row[p] for p in config["input-parameters"])}
    if method == "Sum":
        return {**row, config["output-parameter"]: sum(row[p] for p in config["input-parameters"])}
    if method == "Sci":
        return {**row, "sci": row["carbon"] / row[config["functional-unit"]]}
    raise ValueError(f"unknown IF method {method!r}")
