"""CodeCarbon ``emissions.csv`` (every 2.x and 3.x layout: 31 to 38 columns) -> measured energy per run.

Columns are read by header name; unknown columns are ignored. A row is the whole run so far: with
``on_csv_write="append"`` a run that flushes periodically writes one cumulative row per flush under one
``run_id``, so only the last row of a run is read and the earlier ones are ``duplicate-row`` (dropped).
Energies (kWh) already include CodeCarbon's PUE (the ``pue`` column, 1.0 when absent): it is divided out.
Rules and findings: ``docs/formats/codecarbon.md``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Final

from collectors._localtime import LocalClock, describe
from collectors._runs import Runs
from collectors.base import SourceContext, cut_last_line, head_text, numbered_lines
from sci.engine import it_energy_kwh
from sci.model import Action, Component, IssueKind, Item, QualityIssue, Record, Tier
from sci.units import G_PER_KG

COMPONENTS: Final = (
    ("cpu_energy", Component.CPU),
    ("gpu_energy", Component.GPU),
    ("ram_energy", Component.DRAM),
)
_REQUIRED: Final = ("timestamp", "duration")
_SAME_START_S: Final = 2.0  # rows of one run without run_id: starts agree within the timestamps' rounding
_HINT: Final = "check the file against the original emissions.csv (codecarbon writes plain numbers)"


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    run_id: str
    start_utc: datetime
    end_utc: datetime
    energies: dict[Component, float | None]
    emissions_kg: float | None
    pue: float
    generic_cpu: str | None  # the cpu_model when it names no model number


class CodecarbonCsv:
    """Collector for CodeCarbon's emissions.csv (``EmissionsTracker(save_to_file=True)``)."""

    name: ClassVar[str] = "codecarbon"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = True  # timestamp is naive local time
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {}

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        for line in head_text(head).splitlines()[:1]:
            names = {cell.strip() for cell in line.split(",")}
            return {"timestamp", "duration", "emissions", "run_id"} <= names and "cpu_energy" in names
        return False

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        if ctx.batches:  # the consumer takes RecordBatch items: read a plain file at once
            from collectors import _codecarbon_fast

            found = _codecarbon_fast.items(ctx)
            if found is not None:
                yield from found
                return
        yield from _Parser(ctx).run()


class _Parser:
    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.clock = LocalClock(ctx.timezone) if ctx.timezone is not None else None
        self.runs = Runs(ctx.device)
        self.columns: dict[str, int] = {}

    def run(self) -> Iterator[Item]:
        rows: list[_Row] = []
        with numbered_lines(self.ctx) as lines:
            for number, text, ended in lines:
                if not text.strip():
                    continue
                try:
                    cells = next(csv.reader([text]))
                except csv.Error as exc:
                    raise self.ctx.error(number, f"not a CSV line: {exc}", _HINT) from None
                if not self.columns:
                    self._header(cells, number)
                    continue
                if not ended:
                    yield cut_last_line(self.ctx, number)
                    break
                if [c.strip() for c in cells] == list(self.columns):
                    continue  # a repeated header (files concatenated)
                row, flagged = self._row(cells, number, len(rows) + 1)
                yield from flagged
                rows.append(row)
        if not self.columns:
            raise self.ctx.error(
                1,
                "empty file: no emissions.csv header line",
                "ingest the emissions.csv CodeCarbon wrote (its first line names timestamp, run_id, ...)",
            )
        yield from self._emit(rows)
        yield from self.runs.close_all()

    def _header(self, cells: list[str], number: int) -> None:
        columns = {name.strip(): i for i, name in enumerate(cells)}
        missing = [name for name in _REQUIRED if name not in columns]
        if missing or not any(key in columns for key, _ in COMPONENTS):
            raise self.ctx.error(
                number,
                "not a CodeCarbon emissions.csv header: no "
                + (", ".join(missing) or "cpu_energy/gpu_energy/ram_energy"),
                "the first line must be the header codecarbon writes (timestamp,project_name,run_id,...)",
            )
        self.columns = columns

    def _cell(self, cells: list[str], name: str) -> str:
        i = self.columns.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    def _float(self, cells: list[str], name: str, number: int) -> float | None:
        text = self._cell(cells, name)
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise self.ctx.error(number, f"{name} {text!r} is not a number", _HINT)
        return value

    def _row(self, cells: list[str], number: int, seq: int) -> tuple[_Row, list[QualityIssue]]:
        if len(cells) != len(self.columns):
            raise self.ctx.error(
                number,
                f"{len(cells)} fields where the header has {len(self.columns)}",
                "check for a damaged line",
            )
        duration_s = self._float(cells, "duration", number)
        if duration_s is None or duration_s < 0:
            raise self.ctx.error(
                number, f"duration {self._cell(cells, 'duration')!r} is not a number of seconds", _HINT
            )
        end_utc, flagged = self._end(self._cell(cells, "timestamp"), number, seq)
        try:
            start_utc = end_utc - timedelta(seconds=duration_s)
        except OverflowError:
            raise self.ctx.error(number, "timestamp - duration is out of range", _HINT) from None
        pue = self._float(cells, "pue", number)
        if pue is not None and pue <= 0:
            raise self.ctx.error(number, f"pue {pue:g} is not a PUE (it must be > 0)", _HINT)
        model = self._cell(cells, "cpu_model")
        row = _Row(
            line=number,
            run_id=self._cell(cells, "run_id"),
            start_utc=start_utc,
            end_utc=end_utc,
            energies={component: self._float(cells, key, number) for key, component in COMPONENTS},
            emissions_kg=self._float(cells, "emissions", number),
            pue=1.0 if pue is None else pue,
            generic_cpu=model
            if "cpu_model" in self.columns and not any(c.isdigit() for c in model)
            else None,
        )
        return row, flagged

    def _end(self, text: str, number: int, seq: int) -> tuple[datetime, list[QualityIssue]]:
        try:
            wall = datetime.fromisoformat(text)
        except ValueError:
            raise self.ctx.error(number, f"timestamp {text!r} is not ISO 8601", _HINT) from None
        if wall.tzinfo is not None:
            return wall.astimezone(UTC), []
        clock = self.clock
        if clock is None:
            raise self.ctx.error(
                number,
                "timestamp is local time without an offset, and no timezone is set",
                'set timezone = "Area/City" on this source in sci.toml (the zone of the machine that ran '
                "codecarbon)",
            )
        try:
            utc, flag = clock.to_utc(wall)
        except OverflowError:
            raise self.ctx.error(number, f"timestamp {text!r} is out of range", _HINT) from None
        if flag is None:
            return utc, []
        detail = describe(flag, clock.zone)
        closed = self.runs.note(
            IssueKind.AMBIGUOUS_TIME,
            Action.KEPT,
            detail,
            number,
            key=(IssueKind.AMBIGUOUS_TIME, Action.KEPT),
            at=seq,
            any_detail=True,
        )
        return utc, closed

    # -- runs --------------------------------------------------------------------------------------------

    def _groups(self, rows: list[_Row]) -> list[list[_Row]]:
        """Rows of one run: the same run_id (rows without one: consecutive ones) and the same start.

        A row whose start (timestamp - duration) differs by more than the timestamps' rounding from the
        previous row of its run_id begins a new run: a tracker restarted under the same id is not cumulative.
        """
        current: dict[str, list[_Row]] = {}
        groups: list[list[_Row]] = []
        previous_id: str | None = None
        for row in rows:
            group = current.get(row.run_id) if row.run_id or previous_id == "" else None
            if group is None or abs((group[-1].start_utc - row.start_utc).total_seconds()) > _SAME_START_S:
                group = current[row.run_id] = []
                groups.append(group)
            group.append(row)
            previous_id = row.run_id
        return groups

    def _emit(self, rows: list[_Row]) -> Iterator[Item]:
        device = self.ctx.device
        for seq, group in enumerate(self._groups(rows), start=1):
            final = group[-1]
            if len(group) > 1:
                yield QualityIssue(
                    kind=IssueKind.DUPLICATE_ROW,
                    action=Action.DROPPED,
                    line_start=group[0].line,
                    line_end=group[-2].line,
                    rows=len(group) - 1,
                    detail=(
                        f"earlier cumulative row(s) of run {final.run_id or '(no run_id, same start)'}: each "
                        f"row is the whole run so far, so only its last row (line {final.line}) is read"
                    ),
                    device=device,
                )
            yield from self._records(final, seq)

    def _records(self, row: _Row, seq: int) -> Iterator[Item]:
        device = self.ctx.device
        present = [
            (c, kwh) for c, kwh in row.energies.items() if kwh is not None and c.value in self._present()
        ]
        missing = [c.value for c, kwh in row.energies.items() if kwh is None and c.value in self._present()]
        if missing:
            yield from self.runs.note(
                IssueKind.MISSING_VALUE,
                Action.DROPPED,
                f"empty {'/'.join(missing)} energy: that component of the run is not counted (never as 0)",
                row.line,
                key=(IssueKind.MISSING_VALUE, Action.DROPPED),
                at=seq,
                any_detail=True,
            )
        if row.generic_cpu is not None and row.energies[Component.CPU]:
            yield from self.runs.note(
                IssueKind.TOOL_ESTIMATE,
                Action.KEPT,
                f"cpu_model {row.generic_cpu!r} names no model: CodeCarbon then estimates CPU power from a "
                "generic TDP and the load, so its cpu_energy is an estimate, not a meter reading",
                row.line,
                key=(IssueKind.TOOL_ESTIMATE, Action.KEPT),
                at=seq,
                any_detail=True,
            )
        total = math.fsum(kwh for _, kwh in present)
        for i, (component, kwh) in enumerate(present):
            yield Record(
                device=device,
                component=component,
                start_utc=row.start_utc,
                end_utc=row.end_utc,
                tier=Tier.MEASURED,
                method=f"codecarbon/{component.value}",
                line=row.line,
                energy_kwh=it_energy_kwh(facility_energy_kwh=kwh, pue_applied=row.pue),
                reported_carbon_g=_share(row.emissions_kg, kwh, total, first=i == 0),
                pue_divided=row.pue,
            )

    def _present(self) -> set[str]:
        names = {"cpu_energy": "cpu", "gpu_energy": "gpu", "ram_energy": "dram"}
        return {names[key] for key, _ in COMPONENTS if key in self.columns}


def _share(emissions_kg: float | None, kwh: float, total_kwh: float, *, first: bool) -> float | None:
    """The part of a run's emissions (kg) for one component, in g: in proportion to its energy."""
    if emissions_kg is None:
        return None
    if total_kwh > 0:
        return emissions_kg * G_PER_KG * kwh / total_kwh
    return emissions_kg * G_PER_KG if first else 0.0
