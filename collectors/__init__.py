"""Built-in collectors and the one loader for them and for third-party ones.

Third-party collectors register under the entry-point group ``sci_report.collectors`` (name = the
collector's ``name``, value = ``module:Class``), through the same loader as the built-in ones.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from collectors.base import Collector, head_bytes
from sci.errors import CollectorError, SciError

ENTRY_POINT_GROUP = "sci_report.collectors"

BUILTIN: tuple[tuple[str, str], ...] = (
    ("measure", "collectors.measure_log:MeasureLog"),  # exact sniff: its header names the format
    ("powermetrics", "collectors.powermetrics_text:PowermetricsText"),
    ("nvidia-smi", "collectors.nvidia_smi_csv:NvidiaSmiCsv"),
    ("aws-carbon", "collectors.aws_carbon_export:AwsCarbonExport"),
    ("aws-cur", "collectors.aws_cur_usage:AwsCurUsage"),
    ("gcp-carbon", "collectors.gcp_carbon_footprint:GcpCarbonFootprint"),
    ("azure-carbon", "collectors.azure_carbon_report:AzureCarbonReport"),
    ("azure-usage", "collectors.azure_usage:AzureUsage"),
    ("github-usage", "collectors.github_usage_csv:GithubUsageCsv"),
    ("github-jobs", "collectors.github_jobs_json:GithubJobsJson"),
    ("gitlab-jobs", "collectors.gitlab_jobs_json:GitlabJobsJson"),
    ("turbostat", "collectors.turbostat:Turbostat"),
    ("intel-power-gadget", "collectors.intel_power_gadget:IntelPowerGadget"),
    ("rapl", "collectors.rapl_log:RaplLog"),
    ("scaphandre", "collectors.scaphandre_json:ScaphandreJson"),
    ("powermetrics-plist", "collectors.powermetrics_plist:PowermetricsPlist"),
    ("codecarbon", "collectors.codecarbon_csv:CodecarbonCsv"),
    ("carbontracker", "collectors.carbontracker_log:CarbontrackerLog"),
    ("nvidia-smi-dmon", "collectors.nvidia_smi_dmon:NvidiaSmiDmon"),
    ("tdp-proxy", "collectors.tdp_proxy:TdpProxy"),  # last: the most general sniff (a start/end CSV)
)


@cache
def _targets() -> dict[str, str]:
    found = dict(BUILTIN)
    from importlib.metadata import entry_points  # only when a collector is looked up: start-up stays fast

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


def detect(path: Path) -> str:
    """The name of the collector whose format ``path`` is in, recognised from its content.

    Collectors are asked in ``BUILTIN`` order, then third-party ones by name: put a more specific format
    before a more general one. No match is a ``CollectorError`` naming the file and the known formats.
    """
    head = head_bytes(path)
    for name in [n for n, _ in BUILTIN] + [n for n in names() if n not in dict(BUILTIN)]:
        if load(name).sniff(head):
            return name
    raise CollectorError(
        path,
        None,
        "unrecognised format: no collector knows this file's content",
        hint=f"name the format with --format (one of: {', '.join(names())}), or check that this is a "
        "power log or export sci-report reads (see docs/formats/)",
    )
