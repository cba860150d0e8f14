"""Checks every record passes on its way into the store, whatever collector yielded it.

A record with a negative quantity, or a measured record whose power (energy over its interval) is above
the ceiling for its component, is dropped and counted as a data-quality issue (``negative-value``,
``absurd-value``), with the lines it came from. Collectors report what only they can see (gaps, counter
wraps, missing values); this is the backstop that holds for every source alike. Estimates are not held to
the power ceiling: one proxy or CUR record may stand for a whole fleet, and its power comes from a
formula, not a glitching sensor.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from collectors._runs import Runs
from sci.batches import max_line, split
from sci.model import Action, IssueKind, Item, QualityIssue, Record, RecordBatch, Tier
from sci.units import J_PER_KWH

_QUANTITIES = ("energy_kwh", "carbon_g", "runtime_s", "tdp_w")


def problem(record: Record, max_power_w: Mapping[str, float]) -> tuple[IssueKind, str] | None:
    """Why ``record`` must not be counted, or None."""
    for name in _QUANTITIES:
        value = getattr(record, name)
        if value is not None and value < 0:
            return IssueKind.NEGATIVE_VALUE, f"{name} is negative ({value:g}): the record is not counted"
    if record.utilisation is not None and not 0.0 <= record.utilisation <= 1.0:
        return IssueKind.ABSURD_VALUE, f"utilisation {record.utilisation:g} is outside 0..1"
    ceiling_w = max_power_w.get(str(record.component))
    if ceiling_w is None:
        return None
    if record.tdp_w is not None and record.tdp_w > ceiling_w:
        return IssueKind.ABSURD_VALUE, _over(record, record.tdp_w, ceiling_w, "TDP")
    if record.tier == Tier.MEASURED and record.energy_kwh is not None and record.duration_s > 0:
        power_w = record.energy_kwh * J_PER_KWH / record.duration_s
        if power_w > ceiling_w:
            return IssueKind.ABSURD_VALUE, _over(record, power_w, ceiling_w, "power")
    return None


def _over(record: Record, value_w: float, ceiling_w: float, what: str) -> str:
    return (
        f"{record.component} {what} {value_w:,.1f} W is above the ceiling of {ceiling_w:,.0f} W "
        "([defaults.max_power_w] in sci.toml): the record is not counted"
    )


def screened(items: Iterable[Item], max_power_w: Mapping[str, float], device: str) -> Iterator[Item]:
    """``items`` without the records that fail :func:`problem`; runs of them become one issue each."""
    runs = Runs(device)
    kept = 0
    last_line = 0
    for item in _split_batches(items, max_power_w):
        if isinstance(item, RecordBatch):
            kept += item.rows
            last_line = max(last_line, max_line(item))
            yield item
            continue
        found = problem(item, max_power_w) if isinstance(item, Record) else None
        last_line = max(last_line, item.line if isinstance(item, Record) else item.line_end)
        if found is None:
            kept += isinstance(item, Record)
            yield item
            continue
        assert isinstance(item, Record)
        kind, detail = found
        device_of = item.device or device
        yield from runs.note(
            kind, Action.DROPPED, detail, item.line, device=device_of, adjacent=True, any_detail=True
        )
    yield from runs.close_all()
    if not kept:
        yield QualityIssue(
            kind=IssueKind.NO_RECORDS,
            action=Action.KEPT,
            line_start=1,
            line_end=max(last_line, 1),
            rows=0,
            detail="the file holds nothing to count (empty, only headers, or every row dropped)",
            device=device,
        )


def _split_batches(items: Iterable[Item], max_power_w: Mapping[str, float]) -> Iterator[Item]:
    """Each ``RecordBatch`` as its rows that surely pass (one batch), then the doubtful rows as ``Record`` s
    for :func:`problem` (``sci.batches.split``); kept rows never affect a run, so this order is exact."""
    for item in items:
        if not isinstance(item, RecordBatch):
            yield item
            continue
        passed, doubtful = split(item, max_power_w)
        if passed.rows:
            yield passed
        yield from doubtful
