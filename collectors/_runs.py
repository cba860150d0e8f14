"""Runs of the same data-quality finding, merged into one ``QualityIssue`` each.

Every collector (and the central screen) notes findings unit by unit (a row, a sample, a report) and must
report a run of the same finding as ONE issue with its line range, its row count and, where it applies,
the seconds it covers. :class:`Runs` keeps the open run under each *key*, which the caller chooses:

- a series (a RAPL zone, a GPU, "time"): one open run per series, whatever the finding;
- :data:`BY_FINDING`: the finding itself, ``(kind, action, detail)``: several findings run side by side;
- ``None`` (the default): one open run at all, any other finding ends it.

A run continues when the open run under the key has the same kind, action, device and detail (or any
detail, ``any_detail=True``: the first one's stands) and, where asked, is next to the new unit:

- ``at``: the unit's position (row or sample index): the run must have taken the unit before it or this
  same unit, which then does not count a second row;
- ``adjacent=True``: the new lines start at most one line after the run's last line.

Without either the caller ends runs itself (:meth:`Runs.close`, :meth:`Runs.close_stale`). ``note``
returns the run it had to close, so the collector yields issues in file order; with ``hold=True`` the
closed runs are kept instead and :meth:`Runs.close_all` gives them first (for collectors that report
their findings after their records).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Final

from sci.model import Action, IssueKind, QualityIssue

BY_FINDING: Final = "by-finding"
"""As a ``key``: the run is keyed by its finding, ``(kind, action, detail)``."""


@dataclass(slots=True)
class Run:
    """One open run: what was found, where, how many units and seconds it covers so far."""

    kind: IssueKind
    action: Action
    detail: str
    device: str
    line_start: int
    line_end: int
    rows: int = 1
    seconds: float | None = None
    last: int | None = None  # position of the last unit taken (``at``), if the caller gives positions

    def issue(self) -> QualityIssue:
        return QualityIssue(
            kind=self.kind,
            action=self.action,
            line_start=self.line_start,
            line_end=self.line_end,
            rows=self.rows,
            detail=self.detail,
            device=self.device,
            seconds=self.seconds,
        )


class Runs:
    """The open run under each key; ``note`` and the ``close`` methods return the issues they close."""

    def __init__(self, device: str = "", *, hold: bool = False) -> None:
        self.device = device
        self._open: dict[Hashable, Run] = {}
        self._held: list[QualityIssue] | None = [] if hold else None

    def note(
        self,
        kind: IssueKind,
        action: Action,
        detail: str,
        lines: int | tuple[int, int],
        *,
        key: Hashable = None,
        at: int | None = None,
        adjacent: bool = False,
        device: str | None = None,
        seconds: float | None = None,
        any_detail: bool = False,
    ) -> list[QualityIssue]:
        """One unit with this finding; gives the run it closed, if any (nothing with ``hold``)."""
        first, last = (lines, lines) if isinstance(lines, int) else lines
        device = self.device if device is None else device
        key = (kind, action, detail) if key == BY_FINDING else key
        run = self._open.get(key)
        if (
            run is not None
            and (run.kind, run.action, run.device) == (kind, action, device)
            and (any_detail or run.detail == detail)
            and (at is None or run.last in (at - 1, at))
            and (not adjacent or first <= run.line_end + 1)
        ):
            run.line_end = max(run.line_end, last)
            run.rows += 0 if at is not None and at == run.last else 1
            run.last = at
            if seconds is not None:
                run.seconds = (run.seconds or 0.0) + seconds
            return []
        self._open[key] = Run(kind, action, detail, device, first, last, seconds=seconds, last=at)
        return self._closed([run] if run is not None else [])

    def __len__(self) -> int:
        """How many runs are open."""
        return len(self._open)

    def get(self, key: Hashable = None) -> Run | None:
        """The open run under ``key``, if any."""
        return self._open.get(key)

    def close(self, key: Hashable = None) -> list[QualityIssue]:
        """End the run under ``key`` (a good unit came)."""
        run = self._open.pop(key, None)
        return self._closed([run] if run is not None else [])

    def close_stale(self, at: int) -> list[QualityIssue]:
        """End the runs that unit ``at`` cannot continue: those that did not take the unit before it."""
        stale = [key for key, run in self._open.items() if run.last is None or run.last < at - 1]
        return self._closed([self._open.pop(key) for key in stale])

    def close_all(self) -> list[QualityIssue]:
        """Every run: the held ones in the order they closed, then the open ones in the order they opened."""
        issues = [run.issue() for run in self._open.values()]
        self._open.clear()
        held = self._held or []
        if self._held is not None:
            self._held = []
        return held + issues

    def _closed(self, runs: list[Run]) -> list[QualityIssue]:
        issues = [run.issue() for run in runs]
        if self._held is None:
            return issues
        self._held.extend(issues)
        return []


def series_start(
    device: str, starts: list[tuple[int, str]], what: str, *, reading: str = "reading"
) -> QualityIssue | None:
    """One ``series-start`` issue for the lines that opened a series each (``(line, series name)``)."""
    if not starts:
        return None
    lines = [line for line, _ in starts]
    return QualityIssue(
        kind=IssueKind.SERIES_START,
        action=Action.DROPPED,
        line_start=min(lines),
        line_end=max(lines),
        rows=len(starts),
        detail=f"the first {reading} of each {what} opens its first interval, no energy before it: "
        + ", ".join(name for _, name in starts),
        device=device,
    )
