"""Insights that act on the data: idle GPU energy, a lower-carbon place, and the month-over-month change.

Every number comes from the result (summed in SQL by ``sci.compute``); this module only compares and
words them. Each insight is a JSON-safe dict ``{kind, platform, text, ...numbers}`` for the context.
"""

from __future__ import annotations

from typing import Any, Final

from reports.numbers import format_number, quantity
from sci.results import END_USER_DEVICE_CLASSES, ComputeResult, IdleEnergy, PlatformResult, ZoneAlternative
from sci.units import G_PER_KG

NO_HOURLY_DATA: Final = (
    "Lowest-carbon hour: not assessed. The factor bundle holds annual grid intensities only, no hourly "
    "data, so moving work in time cannot be priced here."
)
NO_IDLE_EVIDENCE: Final = (
    "Idle GPUs: not assessed. No measured GPU record in the window carries a utilisation "
    "(log utilization.gpu with nvidia-smi)."
)
NO_PREVIOUS_MONTH: Final = "no previous month in the window"


def build_insights(result: ComputeResult) -> list[dict[str, Any]]:
    found = _idle(result.idle_gpus)
    found += [_zone(z) for z in result.zone_alternatives]
    found += _not_movable(result)
    if not result.hourly_intensity:
        found.append({"kind": "hour", "platform": None, "text": NO_HOURLY_DATA})
    found += [_month_over_month(p) for p in result.platforms]
    return found


def _kg_text(grams: float) -> str:
    return f"{format_number(grams / G_PER_KG)} kgCO2e"


def _idle(rows: tuple[IdleEnergy, ...]) -> list[dict[str, Any]]:
    """One insight per platform: its measured GPUs' energy below the idle threshold, summed."""
    if not rows:
        return [{"kind": "idle", "platform": None, "text": NO_IDLE_EVIDENCE}]
    by_platform: dict[str, list[IdleEnergy]] = {}
    for row in rows:
        by_platform.setdefault(row.platform, []).append(row)
    return [_idle_platform(platform, group) for platform, group in by_platform.items()]


def _idle_platform(platform: str, rows: list[IdleEnergy]) -> dict[str, Any]:
    idle_kwh = sum(r.idle_it_energy_kwh for r in rows)
    total_kwh = sum(r.total_it_energy_kwh for r in rows)
    carbon_g = sum(r.idle_carbon_g for r in rows)
    share = idle_kwh / total_kwh if total_kwh > 0 else 0.0
    threshold = rows[0].threshold
    gpus = f"{len(rows)} GPU{'s' if len(rows) != 1 else ''}"
    if idle_kwh > 0:
        top = max(rows, key=lambda r: (r.idle_it_energy_kwh, r.device))
        text = (
            f"{platform}: {gpus} drew {format_number(idle_kwh)} kWh ({share:.0%} of their measured GPU "
            f"energy) over {format_number(sum(r.idle_hours for r in rows))} GPU-hours at under "
            f"{threshold:.0%} utilisation: {_kg_text(carbon_g)} with PUE and I (most: {top.device}, "
            f"{format_number(top.idle_it_energy_kwh)} kWh). Powering down, or sharing, idle GPUs would "
            "avoid most of it."
        )
    else:
        text = f"{platform}: no GPU energy at under {threshold:.0%} utilisation ({gpus} with utilisation)."
    return {
        "kind": "idle",
        "platform": platform,
        "text": text,
        "idle_energy": quantity(idle_kwh, "kWh"),
        "idle_carbon": quantity(carbon_g / G_PER_KG, "kgCO2e"),
        "idle_share": quantity(share * 100, "%"),
        "devices": [r.device for r in rows],
    }


def _zone(z: ZoneAlternative) -> dict[str, Any]:
    saved = z.operational_g - z.best_operational_g
    year = f" ({z.best_year} figure)" if z.best_year else " (data year unknown)"
    there = f"{z.best_name} at {format_number(z.best_intensity_g_per_kwh)} gCO2e/kWh{year}"
    here = f"{_kg_text(z.operational_g)} at {z.zone} ({format_number(z.intensity_g_per_kwh)} gCO2e/kWh)"
    if z.best_energy_kwh is not None:  # on-premises, compared with the cloud
        provider = z.best_zone.split(":", 1)[0]
        energy = (
            f"its IT energy in {there}, the lowest of the {z.compared_with}, at {provider}'s PUE "
            f"{format_number(z.best_pue or 1.0)} ({format_number(z.best_energy_kwh)} kWh instead of "
            f"{format_number(z.energy_kwh)} kWh)"
        )
        bound = "what moving this on-premises workload to a cloud region alone could save"
    else:
        energy = (
            f"the same E ({format_number(z.energy_kwh)} kWh) in {there}, the lowest of the {z.compared_with}"
        )
        bound = "what siting alone could save"
    if saved > 0:
        share = saved / z.operational_g if z.operational_g > 0 else 0.0
        text = (
            f"{z.platform}: {energy}, would emit {_kg_text(z.best_operational_g)} instead of {here}: "
            f"{_kg_text(saved)} ({share:.0%}) less. A bound on {bound}, not a plan; embodied carbon would "
            "not change."
        )
    elif z.best_energy_kwh is None:
        text = f"{z.platform}: {z.zone} already has the lowest grid intensity of the {z.compared_with}."
    else:
        text = f"{z.platform}: {energy}, would not emit less than {here}."
    return {
        "kind": "zone",
        "platform": z.platform,
        "text": text,
        "best_zone": z.best_zone,
        "best_intensity": quantity(z.best_intensity_g_per_kwh, "gCO2e/kWh"),
        "saved": quantity(max(saved, 0.0) / G_PER_KG, "kgCO2e"),
    }


def _not_movable(result: ComputeResult) -> list[dict[str, Any]]:
    """Platforms with no region compared, and why: end-user devices only (see
    sci.compute._zone_alternative), or provider-reported carbon without energy."""
    compared = {z.platform for z in result.zone_alternatives}
    found = []
    for p in result.platforms:
        classes = sorted({line.device_class for line in p.embodied_lines})
        if p.platform in compared:
            continue
        if p.energy_kwh <= 0 and p.provider_carbon_g > 0:
            text = (
                f"{p.platform}: lower-carbon region not assessed: the provider reports carbon, not energy, "
                "so nothing here says what another region would emit."
            )
        elif p.energy_kwh > 0 and classes and set(classes) <= END_USER_DEVICE_CLASSES:
            text = (
                f"{p.platform}: lower-carbon region not assessed: its devices are end-user devices "
                f"({', '.join(classes)}), which run where people work."
            )
        else:
            continue
        found.append({"kind": "zone", "platform": p.platform, "text": text, "best_zone": None})
    return found


def _month_over_month(p: PlatformResult) -> dict[str, Any]:
    if len(p.periods) < 2:
        month = p.periods[0].period if p.periods else "the window"
        return {
            "kind": "month",
            "platform": p.platform,
            "text": f"{p.platform}: {month}: {NO_PREVIOUS_MONTH}.",
            "change": None,
        }
    previous, last = p.periods[-2], p.periods[-1]
    change = last.carbon_g - previous.carbon_g
    if previous.carbon_g > 0:
        sign = "+" if change >= 0 else "\u2212"
        relative = f" ({sign}{abs(change) / previous.carbon_g:.0%})"
    else:
        relative = " (no carbon in the previous month)"
    direction = "up" if change > 0 else "down" if change < 0 else "unchanged"
    text = (
        f"{p.platform}: {last.period} {_kg_text(last.carbon_g)} vs {previous.period} "
        f"{_kg_text(previous.carbon_g)}: {direction} {_kg_text(abs(change))}{relative}."
    )
    return {
        "kind": "month",
        "platform": p.platform,
        "text": text,
        "change": quantity(change / G_PER_KG, "kgCO2e"),
    }
