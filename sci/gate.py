"""The per-release SCI gate: this release's SCI with an uncertainty range, against the previous release's.

A release regresses only when the whole of its range lies above the baseline's range widened by the
threshold: ``low(new) > high(baseline) x (1 + threshold)``. A higher point estimate whose range still
overlaps is "within noise" and passes. An undefined SCI (R = 0 or R not declared) is not a regression.

The range is the one ``compute`` gives the platform (``PlatformResult.sci_low_g_per_unit`` /
``sci_high_g_per_unit``, from sci.toml ``[uncertainty]`` through ``sci.uncertainty``): one source of truth
for the report, the audit export and the gate. With ``--units`` (R for the whole window) the range is
the window's carbon range divided by that R, as ``sci.uncertainty.sci_bounds`` does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sci.errors import SciError
from sci.files import write_atomically
from sci.results import PlatformResult

DEFAULT_THRESHOLD = 0.05
BASELINE_SCHEMA = 1
REGRESSION_EXIT_CODE = 2


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WITHIN_NOISE = "within-noise"
    REGRESSION = "regression"
    NO_BASELINE = "no-baseline"
    UNDEFINED = "undefined"


@dataclass(frozen=True, slots=True)
class Estimate:
    """A platform's SCI for one release, with its range and what the range comes from."""

    platform: str
    unit: str | None
    carbon_g: float
    functional_units: float | None
    sci: float | None  # gCO2e per functional unit; None = undefined
    low: float | None
    high: float | None
    relative_uncertainty: float  # (high - SCI) / SCI: the half-width of compute's range, relative
    carbon_share: dict[str, float]  # share of the carbon by kind of evidence (sums to 1)


@dataclass(frozen=True, slots=True)
class Baseline:
    release: str
    platform: str
    sci: float
    low: float
    high: float
    unit: str | None
    computed_at: datetime


@dataclass(frozen=True, slots=True)
class GateReport:
    release: str
    estimate: Estimate
    baseline: Baseline | None
    threshold: float
    status: Status
    change_pct: float | None
    message: str

    @property
    def exit_code(self) -> int:
        return REGRESSION_EXIT_CODE if self.status is Status.REGRESSION else 0

    def to_dict(self) -> dict[str, Any]:
        e = self.estimate
        return {
            "release": self.release,
            "previous_release": self.baseline.release if self.baseline else None,
            "platform": e.platform,
            "unit": e.unit,
            "sci_g_per_unit": e.sci,
            "low": e.low,
            "high": e.high,
            "relative_uncertainty": e.relative_uncertainty,
            "carbon_share": e.carbon_share,
            "carbon_g": e.carbon_g,
            "functional_units": e.functional_units,
            "baseline": _baseline_dict(self.baseline) if self.baseline else None,
            "change_pct": self.change_pct,
            "threshold": self.threshold,
            "verdict": str(self.status),
            "message": self.message,
            "exit_code": self.exit_code,
        }


def carbon_share(platform: PlatformResult) -> dict[str, float]:
    """Each kind of evidence's share of the platform's carbon: tiers of E x I, provider carbon, and M."""
    parts: dict[str, float] = {}
    for tier, kwh in platform.it_energy_by_tier_kwh.items():
        parts[tier] = parts.get(tier, 0.0) + kwh * platform.pue * platform.intensity_g_per_kwh
    parts["provider-reported"] = parts.get("provider-reported", 0.0) + platform.provider_carbon_g
    parts["embodied"] = platform.embodied_g
    total = sum(parts.values())
    return {kind: value / total for kind, value in sorted(parts.items()) if value > 0} if total > 0 else {}


def estimate(platform: PlatformResult, *, units: float | None = None, unit: str | None = None) -> Estimate:
    """The platform's SCI with compute's range; ``units`` (R for the whole window) replaces sci.toml's R.

    Without ``units`` the range is compute's SCI range (the months with R); with it, the window's carbon
    range divided by ``units``. A result without a range (computed before ranges existed) gets none:
    low = high = SCI, so only the threshold protects against noise.
    """
    if units is None:
        r, sci = platform.functional_units, platform.sci_g_per_unit
        low, high = platform.sci_low_g_per_unit, platform.sci_high_g_per_unit
    else:
        r, sci = units, (platform.carbon_g / units if units > 0 else None)
        low, high = _scaled(platform.carbon_low_g, units), _scaled(platform.carbon_high_g, units)
    if sci is None:
        low = high = None
    else:
        low = max(sci if low is None else low, 0.0)
        high = sci if high is None else high
    return Estimate(
        platform=platform.platform,
        unit=unit or platform.unit,
        carbon_g=platform.carbon_g,
        functional_units=r,
        sci=sci,
        low=low,
        high=high,
        relative_uncertainty=(high - sci) / sci if sci and high is not None else 0.0,
        carbon_share=carbon_share(platform),
    )


def _scaled(carbon_g: float | None, units: float) -> float | None:
    return None if carbon_g is None or units <= 0 else carbon_g / units


def judge(release: str, current: Estimate, baseline: Baseline | None, *, threshold: float) -> GateReport:
    """Compare this release with the previous one's baseline (see the module docstring for the rule)."""
    unit = current.unit or "unit"
    change = None
    if current.sci is None:
        why = "R not declared" if current.functional_units is None else "R = 0"
        status = Status.UNDEFINED
        message = f"SCI is undefined for {release} ({why}): not a regression, and nothing to compare"
    elif baseline is None:
        status = Status.NO_BASELINE
        message = f"no baseline yet for {current.platform}: {release} passes and can become the first one"
    else:
        change = (current.sci - baseline.sci) / baseline.sci * 100 if baseline.sci > 0 else None
        assert current.low is not None
        limit = baseline.high * (1 + threshold)
        if current.low > limit:
            status = Status.REGRESSION
            message = (
                f"SCI regressed: {release}'s lower bound {current.low:,.4g} gCO2e/{unit} is above "
                f"{baseline.release}'s upper bound x (1 + {threshold:g}) = {limit:,.4g}"
            )
        elif current.sci > baseline.sci * (1 + threshold):
            status = Status.WITHIN_NOISE
            message = (
                f"SCI rose more than {threshold:.0%} but the ranges overlap: within noise "
                f"({release} {current.low:,.4g}-{current.high:,.4g}, "
                f"{baseline.release} {baseline.low:,.4g}-{baseline.high:,.4g} gCO2e/{unit})"
            )
        else:
            status = Status.PASS
            message = f"SCI within {threshold:.0%} of {baseline.release} or lower"
    return GateReport(
        release=release,
        estimate=current,
        baseline=baseline,
        threshold=threshold,
        status=status,
        change_pct=change,
        message=message,
    )


def markdown(report: GateReport) -> str:
    """The gate's result as a Markdown section (for ``$GITHUB_STEP_SUMMARY`` or a merge-request note)."""
    e, b = report.estimate, report.baseline
    unit = e.unit or "unit"
    lines = [
        f"### SCI gate: {e.platform}, release {report.release}: {report.status}",
        "",
        f"| release | SCI (gCO2e / {unit}) | range | R |",
        "|---|---:|---:|---:|",
        f"| {report.release} (this) | {_num(e.sci)} | {_range(e.low, e.high)} | {_num(e.functional_units)} |",
    ]
    if b is not None:
        lines.append(f"| {b.release} (baseline) | {_num(b.sci)} | {_range(b.low, b.high)} | |")
    change = f"{report.change_pct:+.1f} %" if report.change_pct is not None else "n/a"
    lines += [
        "",
        f"Change: {change}. {report.message}.",
        "",
        f"Range: +/-{e.relative_uncertainty:.0%}, the report's range (sci.toml [uncertainty], independent "
        "errors in quadrature); evidence mix "
        + (", ".join(f"{kind} {share:.0%}" for kind, share in e.carbon_share.items()) or "none")
        + f". Regression = lower bound above the baseline's upper bound x (1 + {report.threshold:g}).",
        "",
    ]
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "undefined" if value is None else f"{value:,.4g}"


def _range(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f"{low:,.4g} - {high:,.4g}"


# -- baselines ------------------------------------------------------------------------------------


def baseline_of(release: str, current: Estimate, *, computed_at: datetime) -> Baseline | None:
    """This release's result as a baseline for the next one; None when its SCI is undefined."""
    if current.sci is None or current.low is None or current.high is None:
        return None
    return Baseline(
        release=release,
        platform=current.platform,
        sci=current.sci,
        low=current.low,
        high=current.high,
        unit=current.unit,
        computed_at=computed_at,
    )


def previous(baselines: Sequence[Baseline], *, platform: str, release: str) -> Baseline | None:
    """The latest baseline of ``platform`` from another release (by computation time, then order)."""
    found = [b for b in baselines if b.platform == platform and b.release != release]
    return max(enumerate(found), key=lambda item: (item[1].computed_at, item[0]))[1] if found else None


def upsert(baselines: Sequence[Baseline], new: Baseline) -> list[Baseline]:
    """The baselines with ``new`` replacing any earlier one of the same release and platform."""
    kept = [b for b in baselines if (b.release, b.platform) != (new.release, new.platform)]
    return [*kept, new]


def read_baseline_file(path: Path) -> list[Baseline]:
    """Baselines kept in the repository (``sci-baseline.json``); a missing file holds none yet."""
    if not path.exists():
        return []
    hint = f"fix or delete {path}; `sci-report ci --update-baseline` writes a new one"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("schema") != BASELINE_SCHEMA:
            raise SciError(f"{path}: unknown baseline schema {raw.get('schema')!r}", hint=hint)
        return [_baseline_from(item) for item in raw["baselines"]]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SciError(f"{path}: cannot read the baseline file: {exc}", hint=hint) from None
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise SciError(f"{path}: not a sci-report baseline file ({exc!r})", hint=hint) from None


def write_baseline_file(path: Path, baselines: Sequence[Baseline]) -> None:
    document = {
        "schema": BASELINE_SCHEMA,
        "note": "SCI per release, written by `sci-report ci --update-baseline`; keep it in the repository",
        "baselines": [_baseline_dict(b) for b in baselines],
    }
    write_atomically(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))


def _baseline_dict(baseline: Baseline) -> dict[str, Any]:
    raw = asdict(baseline)
    raw["computed_at"] = baseline.computed_at.isoformat()
    return raw


def _baseline_from(raw: dict[str, Any]) -> Baseline:
    numbers = {k: float(raw[k]) for k in ("sci", "low", "high")}
    if not all(math.isfinite(v) for v in numbers.values()):
        raise ValueError("sci, low and high must be finite numbers")
    moment = datetime.fromisoformat(str(raw["computed_at"]))
    if moment.tzinfo is None:
        raise ValueError("computed_at needs a time zone")
    return Baseline(
        release=str(raw["release"]),
        platform=str(raw["platform"]),
        unit=None if raw.get("unit") is None else str(raw["unit"]),
        computed_at=moment,
        **numbers,
    )
