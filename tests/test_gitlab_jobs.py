"""The gitlab-jobs collector (GitLab's jobs API JSON) against its fixtures, bad input and properties."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ci_helpers import FIXTURES, error_of, parse, parse_bytes, proxy_w
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import file_bytes

from collectors.gitlab_jobs_json import METHOD, GitlabJobsJson
from sci.model import IssueKind, Record

C = GitlabJobsJson()
OFFICIAL = FIXTURES / "gitlab_api_list_project_jobs_example.json"
SAAS = FIXTURES / "gitlab_api_list_project_jobs_saas.json"


def write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def job(**kw: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": 1,
        "status": "success",
        "started_at": "2026-10-05T07:00:00.000Z",
        "finished_at": "2026-10-05T07:10:00.000Z",
        "duration": 600.0,
        "tag_list": ["saas-linux-large-amd64"],
        "runner": None,
    }
    found.update(kw)
    return found


def test_the_official_example_needs_its_runners_named() -> None:
    err = error_of(C, OFFICIAL)
    assert (err.line, "docker runner" in err.message) == (2, True)
    records, issues = parse(C, OFFICIAL, default_runner="saas-linux-small-amd64")
    assert issues == []
    assert [(r.line, r.runtime_s, r.device_model, r.resource_share) for r in records] == [
        (2, 0.173, "AMD EPYC 7B12", 2 / 128),  # duration, not finished_at - started_at
        (91, 0.192, "AMD EPYC 7B12", 2 / 128),
    ]
    assert records[0].start_utc == datetime(2015, 12, 24, 17, 54, 27, 722000, tzinfo=UTC)
    assert records[0].method == METHOD
    tagged, _ = parse(C, OFFICIAL, runners={"ubuntu18": {"tdp_w": 65.0}, "win10-2004": {"tdp_w": 95.0}})
    assert [r.tdp_w for r in tagged] == [65.0, 95.0]


def test_saas_runners_by_tag_or_description_and_self_managed_excluded() -> None:
    records, issues = parse(C, SAAS)
    assert [(r.line, r.runtime_s, r.resource_share) for r in records] == [
        (2, 120.0, 2 / 128),  # untagged: saas-linux-small-amd64 from the runner's description
        (40, 600.0, 4 / 128),  # tag saas-linux-medium-amd64
    ]
    assert records[1].start_utc == datetime(2026, 10, 5, 5, 2, 10, tzinfo=UTC)
    assert [(i.kind, i.line_start, i.line_end, i.rows) for i in issues] == [
        (IssueKind.EXCLUDED, 80, 80, 1),
        (IssueKind.MISSING_VALUE, 120, 120, 1),  # manual
        (IssueKind.MISSING_VALUE, 147, 147, 1),  # created
    ]
    assert "build-box-1" in issues[0].detail
    by_default, _ = parse(C, SAAS, default_runner="saas-linux-large-amd64")
    assert [r.resource_share for r in by_default] == [2 / 128, 4 / 128]  # the description comes first
    energy_j = sum((r.runtime_s or 0) * proxy_w(r, 240.0) for r in records)
    assert energy_j == 120 * 2.8125 + 600 * 5.625 == 3712.5


def test_self_managed_runners_included_need_a_spec() -> None:
    err = error_of(C, SAAS, self_hosted="include")
    assert "build-box-1" in err.message
    records, _ = parse(C, SAAS, self_hosted="include", runners={"build-box-1": {"tdp_w": 125.0}})
    assert [r.runtime_s for r in records] == [120.0, 600.0, 1800.0]
    assert records[2].tdp_w == 125.0


def test_pages_and_duration_fallback(tmp_path: Path) -> None:
    doc = [[job(id=1, duration=None)], [job(id=2), job(id=1)]]
    records, issues = parse(C, write(tmp_path, doc))
    assert [(r.runtime_s, r.resource_share) for r in records] == [(600.0, 8 / 128), (600.0, 8 / 128)]
    assert [i.kind for i in issues] == [IssueKind.DUPLICATE_ROW]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([job(duration="long")], "not a number of seconds"),
        ([job(finished_at="soon")], "not an ISO 8601 time"),
        ({"jobs": []}, "not an array of job objects"),
        ([1, 2], "not an array of job objects"),
        ([job(tag_list=["mine"])], "'mine'"),
    ],
)
def test_bad_documents_are_errors(tmp_path: Path, doc: Any, message: str) -> None:
    assert message in error_of(C, write(tmp_path, doc)).message


def test_finished_before_started_is_dropped(tmp_path: Path) -> None:
    records, issues = parse(C, write(tmp_path, [job(finished_at="2026-10-05T06:00:00Z")]))
    assert (records, issues[0].kind) == ([], IssueKind.NON_MONOTONIC)


@settings(max_examples=200)
@given(data=file_bytes(max_size=500))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    parse_bytes(C, data)
    parse_bytes(C, data, default_runner="saas-linux-small-amd64")


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.sampled_from(["2026-10-05T07:00:00Z", "2026-10-05T09:00:00+02:00", "x"]),
    st.lists(st.sampled_from(["saas-linux-small-amd64", "docker"]), max_size=2),
    st.fixed_dictionaries(
        {"is_shared": st.booleans(), "description": st.sampled_from(["a", "saas-linux-large-amd64"])}
    ),
)


@settings(max_examples=200)
@given(
    jobs=st.lists(
        st.dictionaries(
            st.sampled_from(["id", "started_at", "finished_at", "duration", "tag_list", "runner"]), VALUES
        ),
        max_size=4,
    )
)
def test_job_like_noise_gives_records_or_a_collector_error(jobs: list[dict[str, Any]]) -> None:
    for item in parse_bytes(C, json.dumps(jobs).encode(), default_runner="saas-linux-small-amd64"):
        if isinstance(item, Record):
            assert item.runtime_s is not None
