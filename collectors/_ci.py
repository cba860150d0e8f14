"""What the CI collectors share: the runner table, their options, and the proxy record of one job.

A CI job leaves no power reading, only how long it ran on which runner. The runner table
(``sci/data/ci_runners.csv``, each row with its source) says what a runner label or billing SKU stands for:
vCPUs, the host CPU model and the host's hardware threads. Each job becomes one ``Tier.PROXY`` record, and
the engine computes runtime x TDP x load curve(utilisation) x vCPUs / host threads, as for ``tdp-proxy``.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from collectors._json import load_json, located_line
from collectors._runs import Runs
from collectors.base import SourceContext
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, Item, Record, Tier

DEFAULT_UTILISATION_PCT = 50.0
"""Mean CPU utilisation of a CI job when none is measured: Cloud Carbon Footprint's average for hyperscale
data centres (50 %), the figure its methodology uses where no utilisation is known."""

SELF_HOSTED_MODES = ("exclude", "include")
RUNNER_KEYS = ("vcpus", "host_threads", "device_model", "tdp_w", "utilisation_pct")
_RUNNERS_EXAMPLE = '{{ "{label}" = {{ vcpus = 4, device_model = "AMD EPYC 7763", host_threads = 128 }} }}'

COMMON_OPTIONS: Mapping[str, tuple[type, str]] = {
    "runners": (
        dict,
        "runner specs by label or SKU, over the bundled table: "
        '{ "my-label" = { vcpus, device_model or tdp_w, host_threads, utilisation_pct } }',
    ),
    "utilisation_pct": (
        float,
        f"mean CPU utilisation of the jobs in % (default {DEFAULT_UTILISATION_PCT:g})",
    ),
}
JOB_OPTIONS: Mapping[str, tuple[type, str]] = {
    **COMMON_OPTIONS,
    "self_hosted": (
        str,
        '"exclude" (default: the cloud platform that hosts them counts them) or "include" (needs runners)',
    ),
    "default_runner": (str, "the runner label of jobs whose labels or runner name no known runner"),
}


@dataclass(frozen=True, slots=True)
class RunnerSpec:
    """What a runner is: ``vcpus`` of a host chip with ``host_threads`` hardware threads."""

    name: str
    vcpus: int | None
    host_threads: int | None
    device_model: str | None
    tdp_w: float | None
    utilisation_pct: float | None = None

    @property
    def resource_share(self) -> float:
        if self.vcpus is None or self.host_threads is None:
            return 1.0  # the whole chip (a dedicated machine)
        return self.vcpus / self.host_threads


@cache
def bundled_runners() -> dict[str, RunnerSpec]:
    """The bundled runner table, by lower-cased runner name and by each of its labels."""
    found: dict[str, RunnerSpec] = {}
    text = resources.files("sci").joinpath("data", "ci_runners.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(text.splitlines()):
        spec = RunnerSpec(
            name=row["runner"],
            vcpus=int(row["vcpus"]),
            host_threads=int(row["host_threads"]),
            device_model=row["device_model"],
            tdp_w=None,
        )
        for key in (row["runner"], *row["labels"].split()):
            found[key.lower()] = spec
    return found


@dataclass(frozen=True, slots=True)
class CiOptions:
    runners: Mapping[str, RunnerSpec]  # the source's runners, by lower-cased label
    utilisation_pct: float
    self_hosted: str
    default_runner: str | None

    def lookup(self, key: str) -> RunnerSpec | None:
        """The runner ``key`` (a label, SKU or runner name) stands for: the source's spec over the table's."""
        wanted = key.strip().lower()
        given = self.runners.get(wanted)
        table = bundled_runners().get(wanted)
        if given is None or table is None:
            return given or table
        return replace(
            table,
            **{k: getattr(given, k) for k in RUNNER_KEYS if getattr(given, k) is not None},
        )

    def first(self, keys: Iterable[str]) -> RunnerSpec | None:
        for key in keys:
            spec = self.lookup(key)
            if spec is not None:
                return spec
        return None

    def fallback(self) -> RunnerSpec | None:
        """The ``default_runner``'s spec, for jobs whose labels name no known runner."""
        return self.lookup(self.default_runner) if self.default_runner else None

    def utilisation(self, spec: RunnerSpec) -> float:
        pct = spec.utilisation_pct if spec.utilisation_pct is not None else self.utilisation_pct
        return pct / 100.0


def ci_options(ctx: SourceContext) -> CiOptions:
    """The source's options, checked: a wrong one is an error without a line."""
    pct = ctx.options.get("utilisation_pct", DEFAULT_UTILISATION_PCT)
    _check_number(ctx, "utilisation_pct", pct, low=0.0, high=100.0)
    mode = ctx.options.get("self_hosted", "exclude")
    if mode not in SELF_HOSTED_MODES:
        raise ctx.error(
            None,
            f"option self_hosted must be 'exclude' or 'include', got {mode!r}",
            "exclude: the cloud platform whose VMs run them counts them; include: this platform does",
        )
    raw = ctx.options.get("runners", {})
    if not isinstance(raw, Mapping):
        raise ctx.error(None, f"option runners must be a table, got {raw!r}", _runners_hint("my-label"))
    runners = {str(label).strip().lower(): _spec(ctx, str(label), value) for label, value in raw.items()}
    default = ctx.options.get("default_runner")
    if default is not None and (not isinstance(default, str) or not default.strip()):
        raise ctx.error(None, f"option default_runner must be a runner label, got {default!r}", "")
    options = CiOptions(runners=runners, utilisation_pct=float(pct), self_hosted=mode, default_runner=default)
    if default is not None and options.lookup(default) is None:
        raise unknown_runner(ctx, None, f"default_runner {default!r}", default)
    return options


def _spec(ctx: SourceContext, label: str, value: Any) -> RunnerSpec:
    key = f"runners.{label}"
    if not isinstance(value, Mapping):
        raise ctx.error(None, f"option {key} must be a table, got {value!r}", _runners_hint(label))
    unknown = sorted(set(value) - set(RUNNER_KEYS))
    if unknown:
        raise ctx.error(
            None, f"option {key}: unknown key {unknown[0]!r}", f"allowed keys: {', '.join(RUNNER_KEYS)}"
        )
    for name in ("vcpus", "host_threads"):
        _check_number(ctx, f"{key}.{name}", value.get(name), low=1, high=math.inf, whole=True)
    _check_number(ctx, f"{key}.tdp_w", value.get("tdp_w"), low=math.ulp(0.0), high=math.inf)
    _check_number(ctx, f"{key}.utilisation_pct", value.get("utilisation_pct"), low=0.0, high=100.0)
    model = value.get("device_model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise ctx.error(None, f"option {key}.device_model must be a CPU model, got {model!r}", "")
    spec = RunnerSpec(
        name=label,
        vcpus=value.get("vcpus"),
        host_threads=value.get("host_threads"),
        device_model=model.strip() if model else None,
        tdp_w=float(value["tdp_w"]) if value.get("tdp_w") is not None else None,
        utilisation_pct=value.get("utilisation_pct"),
    )
    table = bundled_runners().get(label.strip().lower())
    if table is None and spec.device_model is None and spec.tdp_w is None:
        raise ctx.error(
            None, f"option {key} needs a device_model or a tdp_w (the label is not in the runner table)", ""
        )
    merged_vcpus = spec.vcpus or (table.vcpus if table else None)
    merged_threads = spec.host_threads or (table.host_threads if table else None)
    if merged_vcpus and merged_threads and merged_vcpus > merged_threads:
        raise ctx.error(
            None, f"option {key}: vcpus {merged_vcpus} is more than host_threads {merged_threads}"
        )
    return spec


def _check_number(
    ctx: SourceContext, key: str, value: Any, *, low: float, high: float, whole: bool = False
) -> None:
    if value is None:
        return
    ok = isinstance(value, int) if whole else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or not math.isfinite(value) or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        raise ctx.error(None, f"option {key} must be {kind} in {low:g}..{high:g}, got {value!r}", "")


def _runners_hint(label: str) -> str:
    return (
        "add the runner to this source in sci.toml: runners = "
        + _RUNNERS_EXAMPLE.format(label=label)
        + " (tdp_w instead of device_model also works; see docs/formats/)"
    )


def unknown_runner(ctx: SourceContext, line: int | None, what: str, label: str) -> CollectorError:
    known = sorted({s.name for s in bundled_runners().values()} | set(ctx.options.get("runners", {})))
    return ctx.error(
        line,
        f"{what} names no runner in the runner table or in this source's runners option "
        f"(known: {', '.join(known)})",
        _runners_hint(label),
    )


def job_record(
    ctx: SourceContext,
    options: CiOptions,
    spec: RunnerSpec,
    *,
    method: str,
    line: int,
    start_utc: datetime,
    end_utc: datetime,
    runtime_s: float,
) -> Record:
    """One job (or one day's minutes) on ``spec``: the evidence the engine's proxy path turns into energy."""
    return Record(
        device=ctx.device,
        component=Component.CPU,
        start_utc=start_utc,
        end_utc=end_utc,
        tier=Tier.PROXY,
        method=method,
        line=line,
        runtime_s=runtime_s,
        utilisation=options.utilisation(spec),
        device_model=spec.device_model if spec.tdp_w is None else spec.device_model or spec.name,
        tdp_w=spec.tdp_w,
        resource_share=spec.resource_share,
    )


JobFinding = Callable[
    [SourceContext, CiOptions, dict[str, Any], int, set[object]], Item | tuple[IssueKind, str]
]
"""A job's record, or why it is not counted (an issue kind and detail); ``seen`` holds the job ids so far."""


def repeated_job(job: Mapping[str, Any], seen: set[object]) -> tuple[IssueKind, str] | None:
    """The finding for a job whose id was seen before (overlapping pages), or None; records the id."""
    job_id = job.get("id")
    if not isinstance(job_id, int | str):
        return None
    if job_id in seen:
        return IssueKind.DUPLICATE_ROW, "the same job id again (overlapping pages): counted once"
    seen.add(job_id)
    return None


def job_items(
    ctx: SourceContext, jobs: Callable[[SourceContext, Any], list[Any]], finding: JobFinding
) -> Iterator[Item]:
    """The records of a jobs document (GitHub's or GitLab's); runs of the same finding are one issue."""
    options = ci_options(ctx)
    runs = Runs(ctx.device)
    seen: set[object] = set()
    for index, job in enumerate(jobs(ctx, load_json(ctx)), start=1):
        line = located_line(job, index)
        found = finding(ctx, options, job, line, seen)
        if isinstance(found, tuple):
            yield from runs.note(found[0], Action.DROPPED, found[1], line)
            continue
        yield from runs.close()
        yield found
    yield from runs.close()


_SKU = re.compile(
    r"^(?:compute|actions)[\s_-]+(?P<os>ubuntu|linux|windows|macos)(?:[\s_-]+(?P<cores>\d+)[\s_-]*cores?)?$",
    re.IGNORECASE,
)


def sku_runner(sku: str) -> str | None:
    """The table's runner name for a GitHub billing SKU (``Compute - UBUNTU_16_CORE``, ``Actions Linux``)."""
    match = _SKU.match(sku.strip())
    if match is None:
        return None
    system = {"ubuntu": "linux"}.get(match["os"].lower(), match["os"].lower())
    return f"github-{system}" + (f"-{int(match['cores'])}-core" if match["cores"] else "")


_TIME_HINT = (
    "API times are ISO 8601 with an offset, e.g. 2020-01-20T17:42:40Z: check that the file is unedited"
)


def utc_time(ctx: SourceContext, line: int, value: object, what: str) -> datetime:
    """An API timestamp (ISO 8601 with ``Z`` or an offset) as UTC; anything else is a ``CollectorError``."""
    if not isinstance(value, str):
        raise ctx.error(line, f"{what} {value!r} is not a time", _TIME_HINT)
    try:
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is None:
            raise ctx.error(line, f"{what} {value!r} has no UTC offset", _TIME_HINT)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ctx.error(line, f"{what} {value!r} is not an ISO 8601 time", _TIME_HINT) from None


def string_list(ctx: SourceContext, line: int, value: object, what: str) -> list[str]:
    """A JSON list of strings (runner labels, tags); null is empty; anything else is a ``CollectorError``."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ctx.error(
            line,
            f"{what} {value!r} is not a list of strings",
            "check that the file is the API response, unedited",
        )
    return list(value)
