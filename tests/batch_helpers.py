"""Shared by the equivalence tests of the vectorised paths: a collector's items as plain records."""

from __future__ import annotations

from collections.abc import Iterable

from sci.batches import records_of
from sci.model import Item, QualityIssue, Record, RecordBatch


def expanded(items: Iterable[Item]) -> tuple[list[Record], list[QualityIssue], int]:
    """Records (batches turned back into records, in order), issues in order, and how many batches came."""
    records: list[Record] = []
    issues: list[QualityIssue] = []
    batches = 0
    for item in items:
        if isinstance(item, RecordBatch):
            records.extend(records_of(item))
            batches += 1
        elif isinstance(item, Record):
            records.append(item)
        else:
            issues.append(item)
    return records, issues, batches
