"""``disclosure.md``: the SCI report the specification asks for, from a computation and its records.

The SCI procedure ends with "report": disclose the score, the software boundary and the calculation
methodology. The sections follow its steps: bound (software boundary), scale (functional unit), define
(quantification methods), quantify (factors, exclusions) and the score per platform.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sci.audit import SPEC_VERSION
from sci.results import ComputeResult, PlatformResult

EXCLUDING_ACTIONS = ("dropped", "not-bridged")


def disclosure(result: ComputeResult, records: Sequence[Mapping[str, Any]], files: Iterable[str]) -> str:
    parts = [
        _header(result),
        _scores(result),
        _boundary(result, records),
        _functional_units(result),
        _methods(result),
        _factors(result),
        _exclusions(result),
        _notes(result),
        "## Files of this export\n\n" + "\n".join(f"- `{name}`" for name in files) + "\n",
    ]
    return "\n".join(parts)


def _header(result: ComputeResult) -> str:
    return (
        f"# SCI disclosure: {_text(result.title)}\n\n"
        f"- Specification: {SPEC_VERSION}; SCI = (E x I + M) per R.\n"
        f"- Window: {result.window_start.isoformat()} to {result.window_end.isoformat()} (end exclusive; "
        f"months in {result.window_timezone}; {result.window_days:g} days).\n"
        f"- Calculated: {result.computed_at.isoformat()} by sci-report {result.tool_version}, "
        f"factor bundle {result.factor_bundle_version}.\n"
        "- Verify: `sci-report verify <this directory>` recomputes every total from `records.csv`.\n"
    )


def _scores(result: ComputeResult) -> str:
    rows = [
        "## SCI score per platform\n",
        "| platform | SCI (gCO2e per R) | R | E (kWh) | E x I (gCO2e) | provider (gCO2e) | M (gCO2e) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for p in result.platforms:
        rows.append(
            f"| {_text(p.platform)} | {_sci(p)} | {_num(p.functional_units)} {_text(p.unit or '')} | "
            f"{p.energy_kwh:,.6g} | {p.operational_g:,.6g} | {p.provider_carbon_g:,.6g} | "
            f"{p.embodied_g:,.6g} |"
        )
    return "\n".join(rows) + "\n"


def _boundary(result: ComputeResult, records: Sequence[Mapping[str, Any]]) -> str:
    seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    devices: dict[str, set[str]] = defaultdict(set)
    for r in records:
        if r["counted"]:
            seen[r["platform"]][r["component"]].add(f"{r['tier']}: {r['method']}")
            devices[r["platform"]].add(r["device"])
    lines = ["## Software boundary (bound)\n"]
    for p in result.platforms:
        components = seen.get(p.platform, {})
        parts = "; ".join(f"{c} ({', '.join(sorted(m))})" for c, m in sorted(components.items()))
        lines.append(
            f"- **{_text(p.platform)}**: E covers {_text(parts) or 'no energy records'} on "
            f"{len(devices.get(p.platform, ()))} devices; parts of these devices not named are outside E."
        )
        for line in p.embodied_lines:
            lines.append(
                f"  - M: {line.count} x {_text(line.device_class)} (share {line.share:g}, "
                f"{line.time_reserved_h:,.1f} h reserved)"
            )
    return "\n".join(lines) + "\n"


def _functional_units(result: ComputeResult) -> str:
    lines = ["## Functional unit (scale)\n"]
    for p in result.platforms:
        declared = ", ".join(
            f"{x.period}: {_num(x.functional_units)}" for x in p.periods if x.functional_units is not None
        )
        missing = f"; not declared for {', '.join(p.periods_without_r)}" if p.periods_without_r else ""
        lines.append(
            f"- **{_text(p.platform)}**: R = {_text(p.unit or 'not named')} "
            f"({declared or 'none declared'}{missing}); source: sci.toml [[functional_units]]."
        )
    return "\n".join(lines) + "\n"


def _methods(result: ComputeResult) -> str:
    lines = [
        "## Quantification methods (define)\n",
        "- E = device (IT) energy x PUE, PUE applied once; a PUE a tool had applied is divided out first.",
        "- I: location-based grid intensity (annual average of the zone); market-based figures are not "
        "used in the score.",
        "- M = TE x (TiR / EL) x (RR / ToR) per embodied inventory line.",
        "- Proxy energy = runtime x load curve(utilisation) x TDP x resource share (nothing metered).",
        "- A period's SCI = sum(E x I + M) / sum(R) over its months with R.",
        "",
        "| platform | tier | IT energy (kWh) | share |",
        "|---|---|---:|---:|",
    ]
    for p in result.platforms:
        total = sum(p.it_energy_by_tier_kwh.values())
        for tier, kwh in p.it_energy_by_tier_kwh.items():
            share = f"{kwh / total:.1%}" if total else "n/a"
            lines.append(f"| {_text(p.platform)} | {tier} | {kwh:,.6g} | {share} |")
    return "\n".join(lines) + "\n"


def _factors(result: ComputeResult) -> str:
    lines = [
        "## Factors (quantify)\n",
        "| platform | factor | key | value | unit | source | year | licence |",
        "|---|---|---|---:|---|---|---|---|",
    ]
    for f in result.factors:
        lines.append(
            f"| {_text(f.applied_to)} | {f.kind} | {_text(f.key)} | {f.value:g} | {f.unit} | "
            f"{_text(f.source)} | {f.year or 'n/a'} | {_text(f.licence)} |"
        )
    return "\n".join(lines) + "\n"


def _exclusions(result: ComputeResult) -> str:
    lines = ["## Exclusions\n"]
    for p in result.platforms:
        if p.provider_market_carbon_g:
            lines.append(
                f"- {_text(p.platform)}: market-based provider carbon "
                f"{p.provider_market_carbon_g:,.6g} gCO2e is reported beside the score, never in it "
                "(the SCI excludes market-based measures)."
            )
        if p.tool_reported_carbon_g:
            lines.append(
                f"- {_text(p.platform)}: tools' own carbon estimates ({p.tool_reported_carbon_g:,.6g} gCO2e) "
                "are kept for comparison only."
            )
    excluded = [q for q in result.quality if q.action in EXCLUDING_ACTIONS or q.kind == "excluded"]
    if excluded:
        lines += [
            "",
            "Rows or time not counted (data quality):",
            "",
            "| file | finding | action | rows | time not covered (h) | lines | detail |",
            "|---|---|---|---:|---:|---|---|",
        ]
        for q in excluded:
            hours = f"{q.seconds / 3600:,.2f}" if q.seconds else ""
            lines.append(
                f"| {_text(q.file)} | {q.kind} | {q.action} | {q.rows:,} | {hours} | "
                f"{_text(q.line_ranges)} | {_text(q.detail)} |"
            )
    if len(lines) == 1:
        lines.append("- None: no market-based figures, no dropped rows.")
    return "\n".join(lines) + "\n"


def _notes(result: ComputeResult) -> str:
    return "## Notes\n\n" + "\n".join(f"- {_text(n)}" for n in result.notes) + "\n"


def _sci(p: PlatformResult) -> str:
    if p.sci_g_per_unit is None:
        return "undefined (R not declared)" if p.functional_units is None else "undefined (R = 0)"
    return f"{p.sci_g_per_unit:,.6g}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.6g}"


def _text(value: str) -> str:
    """Data in a Markdown table cell: no cell breaks, no line breaks."""
    return value.replace("|", "\\|").replace("\r", " ").replace("\n", " ")
