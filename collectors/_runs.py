"""Runs of the same data-quality finding, merged into one ``QualityIssue`` each.

A collector notes a finding per row under a *series* key (a zone, a package, the whole file); a run grows
while the same finding repeats in that series and closes when another finding, or a good row, comes. The
closed runs come back as issues, so the collector yields them in file order.

``IssueRuns`` is the same idea keyed by (kind, action, device) with a position ``seq`` in the series:
consecutive units with the same finding become one issue, its detail the first unit's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sci.model import Action, IssueKind, QualityIssue


@dataclass(slots=True)
class Run:
    kind: IssueKind
    action: Action
    detail: str
    device: str
    line_start: int
    line_end: int
    rows: int = 1
    seconds: float | None = None

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
    """The open run of each series; :meth:`note` and :meth:`close` return the issues they close."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._open: dict[str, Run] = {}

    def note(
        self,
        series: str,
        kind: IssueKind,
        action: Action,
        detail: str,
        line: int,
        *,
        seconds: float | None = None,
    ) -> list[QualityIssue]:
        run = self._open.get(series)
        if run is not None and run.kind is kind and run.detail == detail:
            run.line_end = line
            run.rows += 1
            if seconds is not None:
                run.seconds = (run.seconds or 0.0) + seconds
            return []
        self._open[series] = Run(kind, action, detail, self.device, line, line, seconds=seconds)
        return [run.issue()] if run is not None else []

    def close(self, series: str) -> list[QualityIssue]:
        run = self._open.pop(series, None)
        return [run.issue()] if run is not None else []

    def close_all(self) -> Iterator[QualityIssue]:
        for run in self._open.values():
            yield run.issue()
        self._open.clear()


def series_start(device: str, starts: list[tuple[int, str]], what: str) -> QualityIssue | None:
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
        detail=f"the first reading of each {what} opens its first interval, no energy before it: "
        + ", ".join(name for _, name in starts),
        device=device,
    )


@dataclass(slots=True)
class _Open:
    detail: str
    line_start: int
    line_end: int
    last_seq: int
    rows: int
    seconds: float | None


class IssueRuns:
    """Open runs, at most one per (kind, action, device); ``add`` returns a run it had to close."""

    def __init__(self) -> None:
        self._open: dict[tuple[IssueKind, Action, str], _Open] = {}

    def add(
        self,
        kind: IssueKind,
        action: Action,
        detail: str,
        *,
        device: str,
        lines: tuple[int, int],
        seq: int,
        seconds: float | None = None,
    ) -> QualityIssue | None:
        key = (kind, action, device)
        run = self._open.get(key)
        if run is not None and run.last_seq in (seq - 1, seq):
            run.line_end = max(run.line_end, lines[1])
            run.rows += 1 if run.last_seq != seq else 0
            run.last_seq = seq
            if seconds is not None:
                run.seconds = (run.seconds or 0.0) + seconds
            return None
        self._open[key] = _Open(detail, lines[0], lines[1], seq, 1, seconds)
        return None if run is None else _issue(key, run)

    def close(self) -> list[QualityIssue]:
        """Every open run as an issue, in the order the runs were opened."""
        issues = [_issue(key, run) for key, run in self._open.items()]
        self._open.clear()
        return issues


def _issue(key: tuple[IssueKind, Action, str], run: _Open) -> QualityIssue:
    kind, action, device = key
    return QualityIssue(
        kind=kind,
        action=action,
        line_start=run.line_start,
        line_end=run.line_end,
        rows=run.rows,
        detail=run.detail,
        device=device,
        seconds=run.seconds,
    )
