"""Runs of one data-quality finding, merged into one ``QualityIssue`` (shared by the collectors).

A collector reports each doubtful unit (a sample, a row, an epoch) with its position ``seq`` in its
series; consecutive units with the same kind, action and device become ONE issue with their line range,
row count and (summed) seconds. The detail text is the first unit's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sci.model import Action, IssueKind, QualityIssue


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
