"""What the report shows, as a JSON-safe dict: every number the templates print, with its working.

The templates only lay this dict out; all arithmetic, rounding and wording of the working happens here,
so the golden file of this dict is a complete check of the report's content.

Numbers appear twice: ``value`` rounded to ``VALUE_SIGNIFICANT_FIGURES`` (for machines and the golden
file) and ``text`` formatted for people with ``DISPLAY_SIGNIFICANT_FIGURES`` (thousands separators; whole
numbers from 1,000 up), always next to a ``unit``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from reports.charts import slice_colour
from reports.insights import build_insights
from reports.numbers import (
    DISPLAY_SIGNIFICANT_FIGURES,
    VALUE_SIGNIFICANT_FIGURES,
    format_number,
    quantity,
    round_significant,
)

__all__ = [
    "DISPLAY_SIGNIFICANT_FIGURES",
    "VALUE_SIGNIFICANT_FIGURES",
    "build_context",
    "format_number",
    "round_significant",
]
from sci.engine import PeriodCarbon
from sci.equivalents import load_equivalents
from sci.results import (
    ComputeResult,
    DeviceCarbon,
    EmbodiedLine,
    FactorUse,
    PlatformResult,
    QualityRow,
    SourceFile,
)
from sci.units import DAYS_PER_YEAR, G_PER_KG, G_PER_TONNE, HOURS_PER_YEAR, S_PER_HOUR

PERCENT_DECIMALS: Final = 1
SHA256_SHORT_CHARS: Final = 12

CARBON_UNIT: Final = "kgCO2e"
SCI_UNIT: Final = "gCO2e per unit of R"
ANNUALISATION_METHOD: Final = "linear: window total \u00d7 365 / window days"
CHART_TITLE: Final = "Annualised kgCO2e by platform"

TIER_ORDER: Final = ("measured", "provider-reported", "proxy-estimated")
"""The evidence hierarchy: tiers are listed in this order, unknown tiers after them by name."""

R_NOT_DECLARED: Final = "R not declared"
R_ZERO: Final = "R = 0"
R_NEGATIVE: Final = "R \u2264 0"

MAX_WORKING_TERMS: Final = 3  # more embodied lines than this are summed in the working, listed in the table

METHODOLOGY: Final = (
    "SCI = (E \u00d7 I + M) / R (ISO/IEC 21031:2024), per platform, in gCO2e per unit of the platform's "
    "functional unit R.",
    "E = IT energy \u00d7 PUE: PUE is applied exactly once, to device (IT) energy only.",
    "I is the location-based grid intensity (gCO2e/kWh) of where the energy was used; no market-based "
    "instruments (certificates, PPAs) are applied.",
    "M = TE \u00d7 (TiR / EL) \u00d7 (RR / ToR): the embodied emissions TE of each device, times the "
    "share of its expected lifespan EL reserved in the window (TiR), times the share of its resources "
    "reserved (RR / ToR).",
    "Provider-reported carbon is location-based as reported by the provider and is added to E \u00d7 I + M "
    "as it is, never converted from energy again.",
    "SCI over a period = \u03a3(E \u00d7 I + M) / \u03a3(R) over the months whose R was declared: never a "
    "mean of monthly scores. Months without R are left out of both sums but stay in the carbon totals.",
    "SCI is undefined when R was not declared or R = 0; the report then says why, and never shows the "
    "raw carbon in its place.",
    "Annualised = window total \u00d7 365 / window days: a linear extrapolation with no seasonality.",
    "Method tiers, from the strongest evidence: measured (a meter or on-chip counter), provider-reported "
    "(a cloud provider's carbon figure), proxy-estimated (runtime \u00d7 TDP \u00d7 load curve).",
    "Uncertainty: each term has a relative uncertainty (table below): E_tier \u00d7 I combines the tier's "
    "and the grid intensity's in quadrature, provider carbon the provider tier's, M the embodied one. "
    "Terms (and platforms) are assumed independent, so their errors add in quadrature: value \u00b1 "
    "\u221a\u03a3(value_i \u00d7 r_i)\u00b2. The fully correlated worst case (a linear sum) is shown beside. "
    "R is exact: SCI ranges are carbon ranges / R; annual ranges scale by 365 / window days.",
    "Equivalents (car-km, household-days, flights) only illustrate the totals; they are not part of SCI.",
)

UNCERTAINTY_LABELS: Final = {
    "measured": "measured energy",
    "provider-reported": "provider-reported carbon or energy",
    "proxy-estimated": "proxy-estimated energy",
    "embodied": "embodied emissions M",
    "grid_intensity": "grid intensity I",
}
TREND_TITLE: Final = "kgCO2e by month and platform"
TOP_DEVICES_NOTE: Final = (
    "Operational carbon (E \u00d7 I, plus provider-reported carbon) of each device's records in the window; "
    "embodied carbon is per inventory line and not split by device."
)


def build_context(result: ComputeResult, *, generated_at: datetime) -> dict[str, Any]:
    """The report's content for ``result``, as a JSON-safe dict in a fixed order.

    ``generated_at`` must be time-zone aware; it is shown in UTC.
    """
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be time-zone aware")
    total_g = result.total_carbon_g
    annual_g = result.annual_total_carbon_g
    platforms = [
        _platform(p, index=i, window_days=result.window_days) for i, p in enumerate(result.platforms)
    ]
    defined = sum(1 for p in result.platforms if p.sci_g_per_unit is not None)
    return {
        "title": result.title,
        "generated_at": _datetime_text(generated_at),
        "computed_at": _datetime_text(result.computed_at),
        "tool_version": result.tool_version,
        "factor_bundle_version": result.factor_bundle_version,
        "window": {
            "start": _datetime_text(result.window_start),
            "end": _datetime_text(result.window_end),
            "timezone": result.window_timezone,
            "local_start": _local_text(result.window_start, result.window_timezone),
            "local_end": _local_text(result.window_end, result.window_timezone),
            "end_is_exclusive": True,
            "days": _quantity(result.window_days, "days"),
        },
        "headline": {
            "total": _kg(total_g),
            "total_tonnes": _quantity(total_g / G_PER_TONNE, "tCO2e"),
            "annual": _quantity(annual_g / G_PER_KG, f"{CARBON_UNIT}/year"),
            "annual_tonnes": _quantity(annual_g / G_PER_TONNE, "tCO2e/year"),
            "annualisation_method": ANNUALISATION_METHOD,
            "annualisation_working": (
                f"{_fmt(total_g / G_PER_KG)} {CARBON_UNIT} \u00d7 {_fmt(DAYS_PER_YEAR)} / "
                f"{_fmt(result.window_days)} days = {_fmt(annual_g / G_PER_KG)} {CARBON_UNIT}/year"
            ),
            "platform_count": len(result.platforms),
            "sci_defined_count": defined,
            "total_range": _range(
                result.total_carbon_low_g, result.total_carbon_high_g, G_PER_KG, CARBON_UNIT
            ),
            "annual_range": _range(
                result.annual_total_low_g, result.annual_total_high_g, G_PER_KG, f"{CARBON_UNIT}/year"
            ),
        },
        "chart": _chart(result.platforms),
        "trend": _trend(result.platforms),
        "insights": build_insights(result),
        "top_devices": {"note": TOP_DEVICES_NOTE, "rows": [_device(d) for d in result.top_devices]},
        "equivalents": _equivalents(total_g, annual_g),
        "uncertainty": _uncertainty(result.uncertainty),
        "platforms": platforms,
        "has_provider_carbon": any(p.provider_carbon_g != 0 for p in result.platforms),
        "factors": [_factor(f) for f in result.factors],
        "quality": _quality(result.quality),
        "files": [_file(f) for f in result.files],
        "methodology": {"formulas": list(METHODOLOGY), "notes": list(result.notes)},
        "precision": {
            "value_significant_figures": VALUE_SIGNIFICANT_FIGURES,
            "display_significant_figures": DISPLAY_SIGNIFICANT_FIGURES,
        },
    }


# --- numbers -----------------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return format_number(value)


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return quantity(value, unit)


def _kg(grams: float) -> dict[str, Any]:
    return _quantity(grams / G_PER_KG, CARBON_UNIT)


def _percent(share: float) -> dict[str, Any]:
    return {
        "value": round_significant(share * 100),
        "text": f"{share * 100:.{PERCENT_DECIMALS}f}",
        "unit": "%",
    }


def _local_text(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _datetime_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M") + " (no time zone)"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- platforms ---------------------------------------------------------------------------------------


def _platform(p: PlatformResult, *, index: int, window_days: float) -> dict[str, Any]:
    unit = p.unit or "units"
    return {
        "name": p.platform,
        "colour": slice_colour(index),
        "unit": p.unit,
        "it_energy": _quantity(p.it_energy_kwh, "kWh"),
        "energy": _quantity(p.energy_kwh, "kWh"),
        "pue": _quantity(p.pue, "ratio"),
        "intensity": _quantity(p.intensity_g_per_kwh, "gCO2e/kWh"),
        "operational": _kg(p.operational_g),
        "provider": _kg(p.provider_carbon_g),
        "embodied": _kg(p.embodied_g),
        "carbon": _kg(p.carbon_g),
        "functional_units": None if p.functional_units is None else _quantity(p.functional_units, unit),
        "r_periods_note": _r_periods_note(p),
        "sci": _sci(p.sci_g_per_unit, p.functional_units, p.unit),
        "tiers": _tiers(p.it_energy_by_tier_kwh),
        "annual": _kg(p.annual_carbon_g),
        "annual_working": (
            f"{_fmt(p.carbon_g / G_PER_KG)} {CARBON_UNIT} \u00d7 {_fmt(DAYS_PER_YEAR)} / "
            f"{_fmt(window_days)} days"
        ),
        "devices": p.devices,
        "observed_device_hours": _quantity(p.observed_device_hours, "h"),
        "periods": [_period(x, unit=unit) for x in p.periods],
        "embodied_lines": [_embodied_line(line) for line in p.embodied_lines],
        "working": _working(p),
        "ranges": {
            "carbon": _range(p.carbon_low_g, p.carbon_high_g, G_PER_KG, CARBON_UNIT),
            "carbon_linear": _range(p.carbon_linear_low_g, p.carbon_linear_high_g, G_PER_KG, CARBON_UNIT),
            "sci": _range(p.sci_low_g_per_unit, p.sci_high_g_per_unit, 1.0, SCI_UNIT),
            "annual": _range(p.annual_low_g, p.annual_high_g, G_PER_KG, f"{CARBON_UNIT}/year"),
        },
    }


def _range(low: float | None, high: float | None, divisor: float, unit: str) -> dict[str, Any] | None:
    """``low``-``high`` (None when the result has no range, e.g. stored before ranges existed)."""
    if low is None or high is None:
        return None
    return {
        "low": round_significant(low / divisor),
        "high": round_significant(high / divisor),
        "text": f"{format_number(low / divisor)}\u2013{format_number(high / divisor)}",
        "unit": unit,
    }


def _sci(sci_g: float | None, functional_units: float | None, unit: str | None) -> dict[str, Any]:
    if sci_g is not None:
        return {
            "defined": True,
            "value": round_significant(sci_g),
            "text": format_number(sci_g),
            "unit": SCI_UNIT,
            "undefined_reason": None,
        }
    return {
        "defined": False,
        "value": None,
        "text": "undefined",
        "unit": SCI_UNIT,
        "undefined_reason": _undefined_reason(functional_units),
    }


def _undefined_reason(functional_units: float | None) -> str:
    if functional_units is None:
        return R_NOT_DECLARED
    if functional_units == 0:
        return R_ZERO
    if functional_units < 0:
        return R_NEGATIVE
    return "no month with R declared"


def _r_periods_note(p: PlatformResult) -> str | None:
    if not p.periods_without_r or len(p.periods_without_r) == len(p.periods):
        return None
    with_r = [x.period for x in p.periods if x.functional_units is not None]
    return (
        f"R declared for {', '.join(with_r)} only; {', '.join(p.periods_without_r)} left out of the SCI "
        "(still in the carbon totals)"
    )


def _tiers(by_tier: dict[str, float]) -> list[dict[str, Any]]:
    total = sum(by_tier.values())
    order = {name: i for i, name in enumerate(TIER_ORDER)}
    names = sorted(by_tier, key=lambda name: (order.get(name, len(order)), name))
    return [
        {
            "tier": name,
            "energy": _quantity(by_tier[name], "kWh"),
            "share": _percent(by_tier[name] / total) if total > 0 else None,
        }
        for name in names
    ]


def _period(x: PeriodCarbon, *, unit: str) -> dict[str, Any]:
    return {
        "period": x.period,
        "it_energy": _quantity(x.it_energy_kwh, "kWh"),
        "pue": _quantity(x.pue, "ratio"),
        "energy": _quantity(x.energy_kwh, "kWh"),
        "intensity": _quantity(x.intensity_g_per_kwh, "gCO2e/kWh"),
        "operational": _kg(x.operational_g),
        "provider": _kg(x.provider_carbon_g),
        "embodied": _kg(x.embodied_g),
        "carbon": _kg(x.carbon_g),
        "functional_units": None if x.functional_units is None else _quantity(x.functional_units, unit),
        "sci": _sci(x.sci, x.functional_units, unit),
    }


def _embodied_line(line: EmbodiedLine) -> dict[str, Any]:
    return {
        "device_class": line.device_class,
        "count": line.count,
        "total_embodied": _quantity(line.total_embodied_kg, CARBON_UNIT),
        "lifespan_years": _quantity(line.lifespan_years, "years"),
        "lifespan_hours": _quantity(line.lifespan_years * HOURS_PER_YEAR, "h"),
        "time_reserved": _quantity(line.time_reserved_h, "h"),
        "share": _quantity(line.share, "ratio"),
        "embodied": _kg(line.embodied_g),
    }


# --- the working -------------------------------------------------------------------------------------


def _working(p: PlatformResult) -> list[dict[str, str]]:
    """One step per quantity: ``symbol = formula = substitution = result``, with the result's numbers."""
    steps = [_energy_step(p), _operational_step(p)]
    if p.provider_carbon_g != 0:
        steps.append(
            _step(
                "P",
                "provider-reported carbon (location-based)",
                "",
                f"{_fmt(p.provider_carbon_g / G_PER_KG)} {CARBON_UNIT}",
            )
        )
    steps.append(_embodied_step(p))
    steps.append(_sci_step(p))
    return steps


def _step(symbol: str, formula: str, substitution: str, result: str) -> dict[str, str]:
    return {"symbol": symbol, "formula": formula, "substitution": substitution, "result": result}


def _same(values: Iterable[float], reference: float) -> bool:
    return all(math.isclose(v, reference, rel_tol=1e-9) for v in values)


def _energy_step(p: PlatformResult) -> dict[str, str]:
    energy = f"{_fmt(p.energy_kwh)} kWh"
    if _same((x.pue for x in p.periods), p.pue):
        return _step("E", "IT energy \u00d7 PUE", f"{_fmt(p.it_energy_kwh)} kWh \u00d7 {_fmt(p.pue)}", energy)
    return _step(
        "E", "\u03a3 months (IT energy \u00d7 PUE)", "PUE differs by month, see the monthly table", energy
    )


def _operational_step(p: PlatformResult) -> dict[str, str]:
    operational = f"{_fmt(p.operational_g / G_PER_KG)} {CARBON_UNIT}"
    if _same((x.intensity_g_per_kwh for x in p.periods), p.intensity_g_per_kwh):
        substitution = f"{_fmt(p.energy_kwh)} kWh \u00d7 {_fmt(p.intensity_g_per_kwh)} gCO2e/kWh"
        return _step("E\u00b7I", "E \u00d7 I", substitution, operational)
    return _step(
        "E\u00b7I", "\u03a3 months (E \u00d7 I)", "I differs by month, see the monthly table", operational
    )


def _embodied_step(p: PlatformResult) -> dict[str, str]:
    embodied = f"{_fmt(p.embodied_g / G_PER_KG)} {CARBON_UNIT}"
    formula = "\u03a3 TE \u00d7 TiR/EL \u00d7 RR/ToR"
    lines = p.embodied_lines
    if not lines:
        note = (
            "no embodied inventory in the result" if p.embodied_g == 0 else "no inventory lines in the result"
        )
        return _step("M", formula, note, embodied)
    if len(lines) > MAX_WORKING_TERMS:
        return _step("M", formula, f"sum of {len(lines)} inventory lines, see the table", embodied)
    terms = " + ".join(_embodied_term(line) for line in lines)
    return _step("M", formula, terms, embodied)


def _embodied_term(line: EmbodiedLine) -> str:
    return (
        f"{line.count:,} \u00d7 {_fmt(line.total_embodied_kg)} kg \u00d7 {_fmt(line.time_reserved_h)} h / "
        f"{_fmt(line.lifespan_years * HOURS_PER_YEAR)} h \u00d7 {_fmt(line.share)}"
    )


def _sci_step(p: PlatformResult) -> dict[str, str]:
    provider = " + P" if p.provider_carbon_g != 0 else ""
    if p.sci_g_per_unit is None:
        reason = _undefined_reason(p.functional_units)
        return _step("SCI", f"(E\u00b7I{provider} + M) / R", "", f"undefined ({reason})")
    with_r = [x for x in p.periods if x.functional_units is not None]
    carbon_kg = sum(x.carbon_g for x in with_r) / G_PER_KG
    units = f"{_fmt(p.functional_units or 0.0)} {p.unit or 'units'}"
    result = f"{_fmt(p.sci_g_per_unit)} {SCI_UNIT}"
    if len(with_r) == len(p.periods):
        terms = [_fmt(p.operational_g / G_PER_KG)]
        if p.provider_carbon_g != 0:
            terms.append(_fmt(p.provider_carbon_g / G_PER_KG))
        terms.append(_fmt(p.embodied_g / G_PER_KG))
        substitution = f"({' + '.join(terms)}) {CARBON_UNIT} / {units}"
        return _step("SCI", f"(E\u00b7I{provider} + M) / R", substitution, result)
    months = ", ".join(x.period for x in with_r)
    substitution = f"{_fmt(carbon_kg)} {CARBON_UNIT} ({months}) / {units}"
    return _step(
        "SCI", f"\u03a3(E\u00b7I{provider} + M) / \u03a3R over the months with R", substitution, result
    )


# --- chart, factors, quality, files ------------------------------------------------------------------


def _chart(platforms: Sequence[PlatformResult]) -> dict[str, Any]:
    labels = [p.platform for p in platforms]
    values = [round_significant(p.annual_carbon_g / G_PER_KG) for p in platforms]
    total = sum(p.annual_carbon_g for p in platforms if p.annual_carbon_g > 0)
    parts = []
    for p in platforms:
        text = f"{p.platform} {_fmt(p.annual_carbon_g / G_PER_KG)} {CARBON_UNIT}/year"
        if p.annual_carbon_g > 0 and total > 0:
            text += f" ({p.annual_carbon_g / total * 100:.{PERCENT_DECIMALS}f} %)"
        else:
            text += " (not shown in the pie)"
        parts.append(text)
    return {
        "title": CHART_TITLE,
        "unit": f"{CARBON_UNIT}/year",
        "labels": labels,
        "values": values,
        "alt": f"Pie chart, {CHART_TITLE}: " + ("; ".join(parts) if parts else "no platforms"),
    }


def _factor(f: FactorUse) -> dict[str, Any]:
    return {
        "kind": f.kind,
        "key": f.key,
        "value": _quantity(f.value, f.unit),
        "applied_to": f.applied_to,
        "source": f.source,
        "year": f.year,
        "licence": f.licence,
        "detail": f.detail,
    }


def _uncovered(row: QualityRow) -> float | None:
    return None if row.kind == "overlap" else row.seconds


def _seconds(seconds: float | None) -> dict[str, Any] | None:
    return None if seconds is None else _quantity(seconds, "s")


def _hours_text(seconds: float | None) -> str | None:
    return None if seconds is None else format_number(seconds / S_PER_HOUR)


def _quality(rows: Sequence[QualityRow]) -> dict[str, Any]:
    """The findings table. An overlap's time is covered (by the file that counts first), so it is not
    "device time not covered": its seconds are left out of that column and of the summary."""
    dropped = sum(r.rows for r in rows if r.action == "dropped")
    seconds = sum(r.seconds for r in rows if r.seconds is not None and r.kind != "overlap")
    if rows:
        summary = (
            f"{len(rows):,} finding{'s' if len(rows) != 1 else ''}; {dropped:,} rows dropped; "
            f"{format_number(seconds)} s ({format_number(seconds / S_PER_HOUR)} h) of device time "
            "not covered."
        )
    else:
        summary = "No data-quality findings: every row of every source file was read and counted."
    return {
        "summary": summary,
        "rows_dropped": dropped,
        "seconds_not_covered": _quantity(seconds, "s"),
        "rows": [
            {
                "file": r.file,
                "collector": r.collector,
                "kind": r.kind,
                "action": r.action,
                "rows": r.rows,
                "rows_text": f"{r.rows:,}",
                "occurrences": r.occurrences,
                "line_ranges": r.line_ranges,
                "seconds": _seconds(_uncovered(r)),
                "hours_text": _hours_text(_uncovered(r)),
                "detail": r.detail,
            }
            for r in rows
        ],
    }


def _file(f: SourceFile) -> dict[str, Any]:
    return {
        "path": f.path,
        "sha256": f.sha256,
        "sha256_short": f.sha256[:SHA256_SHORT_CHARS],
        "collector": f.collector,
        "collector_version": f.collector_version,
        "platform": f.platform,
        "rows": f.rows,
        "rows_text": f"{f.rows:,}",
        "ingested_at": _datetime_text(f.ingested_at),
    }


# --- trend, devices, equivalents, uncertainty --------------------------------------------------------


def _trend(platforms: Sequence[PlatformResult]) -> dict[str, Any]:
    periods = sorted({x.period for p in platforms for x in p.periods})
    kg = [{x.period: x.carbon_g / G_PER_KG for x in p.periods} for p in platforms]
    series = [
        {
            "index": index,
            "label": p.platform,
            "values": [round_significant(kg[index].get(period, 0.0)) for period in periods],
        }
        for index, p in enumerate(platforms)
    ]
    parts = [
        f"{period}: "
        + ", ".join(f"{p.platform} {_fmt(kg[i].get(period, 0.0))}" for i, p in enumerate(platforms))
        for period in periods
    ]
    single = " Only one month is in the window." if len(periods) == 1 else ""
    return {
        "title": TREND_TITLE,
        "unit": CARBON_UNIT,
        "periods": periods,
        "series": series,
        "alt": f"Bar chart, {TREND_TITLE} ({CARBON_UNIT}): "
        + ("; ".join(parts) or "no months")
        + "."
        + single,
    }


def _device(d: DeviceCarbon) -> dict[str, Any]:
    return {
        "platform": d.platform,
        "device": d.device,
        "components": ", ".join(d.components),
        "tiers": ", ".join(d.tiers),
        "energy": _quantity(d.energy_kwh, "kWh"),
        "carbon": _kg(d.carbon_g),
        "files": list(d.files),
    }


def _equivalents(total_g: float, annual_g: float) -> list[dict[str, Any]]:
    return [
        {
            "key": e.key,
            "label": e.label,
            "factor": _quantity(e.kg_co2e_per_unit, f"{CARBON_UNIT}/{e.unit}"),
            "window": _quantity(e.units_for(carbon_kg=total_g / G_PER_KG), e.unit),
            "annual": _quantity(e.units_for(carbon_kg=annual_g / G_PER_KG), f"{e.unit}/year"),
            "working": e.working,
            "source": e.source,
            "year": e.year,
            "licence": e.licence,
            "url": e.url,
            "verified": e.verified,
        }
        for e in load_equivalents()
    ]


def _uncertainty(relative: dict[str, float]) -> list[dict[str, Any]]:
    """The relative uncertainties the result used, in a fixed order (empty for an older result)."""
    return [
        {"key": key, "label": UNCERTAINTY_LABELS[key], "relative": _percent(relative[key])}
        for key in UNCERTAINTY_LABELS
        if key in relative
    ]
