"""The checks every record passes on its way into the store, whatever collector yielded it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sci.config import DEFAULT_MAX_POWER_W
from sci.model import Component, IssueKind, QualityIssue, Record, Tier
from sci.screen import screened

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def gpu(line: int, power_w: float, seconds: float = 1.0) -> Record:
    return Record(
        device="box/gpu0",
        component=Component.GPU,
        start_utc=T0 + timedelta(seconds=line),
        end_utc=T0 + timedelta(seconds=line + seconds),
        tier=Tier.MEASURED,
        method="test/power",
        line=line,
        energy_kwh=power_w * seconds / 3_600_000,
    )


def test_a_run_of_absurd_readings_is_one_dropped_issue_with_its_lines() -> None:
    items = [gpu(1, 300), gpu(2, 65_535), gpu(3, 65_535), gpu(4, 310), gpu(5, 1e7)]
    out = list(screened(items, DEFAULT_MAX_POWER_W, "box"))
    kept = [i for i in out if isinstance(i, Record)]
    issues = [i for i in out if isinstance(i, QualityIssue)]
    assert [r.line for r in kept] == [1, 4]
    assert [(i.kind, i.line_start, i.line_end, i.rows) for i in issues] == [
        (IssueKind.ABSURD_VALUE, 2, 3, 2),
        (IssueKind.ABSURD_VALUE, 5, 5, 1),
    ]
    assert "65,535.0 W is above the ceiling of 10,000 W" in issues[0].detail
    assert issues[0].action == "dropped"


def test_negative_quantities_are_dropped_and_a_configured_ceiling_applies() -> None:
    items = [gpu(1, -5), gpu(2, 900)]
    out = list(screened(items, {**DEFAULT_MAX_POWER_W, "gpu": 800.0}, "box"))
    assert [(i.kind, i.line_start) for i in out if isinstance(i, QualityIssue)] == [
        (IssueKind.NEGATIVE_VALUE, 1),
        (IssueKind.ABSURD_VALUE, 2),
        (IssueKind.NO_RECORDS, 1),  # every record was dropped: the file counts nothing, and says so
    ]


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6), max_size=30))
def test_every_record_is_either_passed_on_or_counted(powers: list[float]) -> None:
    items = [gpu(i + 1, p) for i, p in enumerate(powers)]
    out = list(screened(items, DEFAULT_MAX_POWER_W, "box"))
    kept = sum(1 for i in out if isinstance(i, Record))
    dropped = sum(i.rows for i in out if isinstance(i, QualityIssue))
    assert kept + dropped == len(powers)
    assert all(0 <= r.energy_kwh * 3_600_000 <= 10_000 for r in out if isinstance(r, Record) and r.energy_kwh)


_COMPONENTS = st.sampled_from(["cpu", "gpu", "ane", "system", "unknown-part", None])
_WATTS = st.one_of(st.none(), st.floats(min_value=0.0, max_value=30_000.0))


@given(
    rows=st.lists(st.tuples(_COMPONENTS, _WATTS, _WATTS), max_size=40),
    dictionary=st.booleans(),
)
def test_the_batch_ceiling_test_flags_as_a_test_per_component_would(
    rows: list[tuple[str | None, float | None, float | None]], dictionary: bool
) -> None:
    """``sci.batches._doubtful`` looks each row's ceiling up by its component; the same rows are flagged
    as by the plain formulation, one comparison per component in the ceilings."""
    import pyarrow as pa

    from sci.batches import _doubtful
    from sci.model import FLOAT_FIELDS

    n = len(rows)
    component = pa.array([c for c, _, _ in rows], pa.string())
    start = pa.array([T0.replace(tzinfo=None)] * n, pa.timestamp("us"))
    end = pa.array([(T0 + timedelta(seconds=2)).replace(tzinfo=None)] * n, pa.timestamp("us"))
    columns = {name: pa.nulls(n, pa.float64()) for name in FLOAT_FIELDS}
    columns["energy_kwh"] = pa.array(
        [None if w is None else w * 2 / 3_600_000 for _, w, _ in rows], pa.float64()
    )
    columns["tdp_w"] = pa.array([t for _, _, t in rows], pa.float64())
    table = pa.table(
        {
            **columns,
            "component": component.dictionary_encode() if dictionary else component,
            "start_utc": start,
            "end_utc": end,
        }
    )
    got = _doubtful(table, DEFAULT_MAX_POWER_W).to_pylist()
    power_w = [
        None if w is None else e * 3_600_000 / 2
        for (_, w, _), e in zip(rows, columns["energy_kwh"].to_pylist(), strict=True)
    ]
    margin = 1.0 - 1e-9
    expected = [
        c in DEFAULT_MAX_POWER_W
        and any(v is not None and v > DEFAULT_MAX_POWER_W[c] * margin for v in (p, t))
        for (c, _, t), p in zip(rows, power_w, strict=True)
    ]
    assert got == expected
