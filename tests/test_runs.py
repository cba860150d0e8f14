"""The one run-merging helper every collector and the screen use (collectors/_runs.py)."""

from __future__ import annotations

from collectors._runs import BY_FINDING, Runs, series_start
from sci.model import Action, IssueKind, QualityIssue

GAP, MISSING = IssueKind.GAP, IssueKind.MISSING_VALUE
DROPPED, NOT_BRIDGED = Action.DROPPED, Action.NOT_BRIDGED


def spans(issues: list[QualityIssue]) -> list[tuple[str, int, int, int, str]]:
    return [(str(i.kind), i.line_start, i.line_end, i.rows, i.detail) for i in issues]


def test_a_series_run_grows_until_another_finding_and_sums_seconds() -> None:
    runs = Runs("dev")
    assert runs.note(GAP, NOT_BRIDGED, "gap", 3, key="zone", seconds=10.0) == []
    assert runs.note(GAP, NOT_BRIDGED, "gap", 4, key="zone", seconds=5.0) == []
    closed = runs.note(MISSING, DROPPED, "empty", 5, key="zone")
    assert spans(closed) == [("gap", 3, 4, 2, "gap")]
    assert closed[0].seconds == 15.0
    assert closed[0].device == "dev"
    assert runs.close("zone")  # a good row ends it
    assert runs.close("zone") == []  # then nothing is open


def test_another_detail_or_action_is_another_run() -> None:
    runs = Runs("dev")
    runs.note(GAP, NOT_BRIDGED, "a", 1)
    assert spans(runs.note(GAP, NOT_BRIDGED, "b", 2)) == [("gap", 1, 1, 1, "a")]
    assert spans(runs.note(GAP, DROPPED, "b", 3)) == [("gap", 2, 2, 1, "b")]
    assert spans(runs.close_all()) == [("gap", 3, 3, 1, "b")]


def test_keys_run_side_by_side_and_close_in_the_order_they_opened() -> None:
    runs = Runs("dev")
    runs.note(GAP, NOT_BRIDGED, "gap", 1, key="b")
    runs.note(MISSING, DROPPED, "empty", 2, key="a")
    runs.note(GAP, NOT_BRIDGED, "gap", 3, key="b")
    assert len(runs) == 2
    assert spans(runs.close_all()) == [("gap", 1, 3, 2, "gap"), ("missing-value", 2, 2, 1, "empty")]
    assert len(runs) == 0


def test_positions_join_neighbours_and_count_one_unit_once() -> None:
    runs = Runs("dev")
    runs.note(MISSING, DROPPED, "first", (10, 12), key="k", at=1, any_detail=True)
    runs.note(MISSING, DROPPED, "second", (13, 13), key="k", at=1, any_detail=True)  # the same unit
    runs.note(MISSING, DROPPED, "third", (14, 15), key="k", at=2, any_detail=True)
    closed = runs.note(MISSING, DROPPED, "fourth", 20, key="k", at=4, any_detail=True)  # unit 3 had none
    assert spans(closed) == [("missing-value", 10, 15, 2, "first")]


def test_close_stale_ends_the_runs_the_previous_unit_did_not_continue() -> None:
    runs = Runs("dev")
    runs.note(GAP, NOT_BRIDGED, "gap", 1, key=BY_FINDING, at=0)
    runs.note(MISSING, DROPPED, "empty", 1, key=BY_FINDING, at=0)
    assert runs.close_stale(1) == []
    runs.note(MISSING, DROPPED, "empty", 2, key=BY_FINDING, at=1)
    assert spans(runs.close_stale(2)) == [("gap", 1, 1, 1, "gap")]
    assert spans(runs.close_all()) == [("missing-value", 1, 2, 2, "empty")]


def test_adjacent_lines_join_and_every_note_counts() -> None:
    runs = Runs("dev", hold=True)
    for line in (1, 2, 2, 5):
        assert runs.note(MISSING, DROPPED, "empty", line, key=BY_FINDING, adjacent=True) == []
    runs.note(GAP, NOT_BRIDGED, "gap", 6, key=BY_FINDING, adjacent=True)
    # held: the closed run first, then the open ones in the order they opened
    assert spans(runs.close_all()) == [
        ("missing-value", 1, 2, 3, "empty"),
        ("missing-value", 5, 5, 1, "empty"),
        ("gap", 6, 6, 1, "gap"),
    ]
    assert runs.close_all() == []


def test_a_device_per_note_keeps_devices_apart() -> None:
    runs = Runs("host")
    runs.note(GAP, NOT_BRIDGED, "gap", 1, device="host/gpu0")
    closed = runs.note(GAP, NOT_BRIDGED, "gap", 2, device="host/gpu1")
    assert [i.device for i in closed] == ["host/gpu0"]
    assert runs.get() is not None
    assert runs.get("other") is None


def test_series_start_spans_the_opening_lines() -> None:
    assert series_start("dev", [], "zone") is None
    issue = series_start("dev", [(7, "a"), (3, "b")], "zone")
    assert issue is not None
    assert (issue.kind, issue.line_start, issue.line_end, issue.rows) == (IssueKind.SERIES_START, 3, 7, 2)
    assert issue.detail.endswith(": a, b")
