"""The github-jobs collector (GitHub's workflow jobs API JSON): fixtures, bad input and properties."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ci_helpers import FIXTURES, MACOS_W, UBUNTU_W, error_of, parse, parse_bytes, proxy_w
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import file_bytes

from collectors.github_jobs_json import METHOD, GithubJobsJson
from sci.model import Action, IssueKind, Record, Tier

C = GithubJobsJson()
OFFICIAL = FIXTURES / "github_api_workflow_run_jobs_example.json"
PAGES = FIXTURES / "github_api_workflow_run_jobs_pages.json"


def write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def job(**kw: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": 1,
        "run_id": 9,
        "head_sha": "f83a",
        "status": "completed",
        "conclusion": "success",
        "started_at": "2026-10-05T07:00:00Z",
        "completed_at": "2026-10-05T07:10:00Z",
        "labels": ["ubuntu-latest"],
        "runner_name": "GitHub Actions 2",
    }
    found.update(kw)
    return found


def test_the_official_example_is_a_self_hosted_job_excluded_by_default() -> None:
    records, issues = parse(C, OFFICIAL)
    assert records == []
    (issue,) = issues
    assert (issue.kind, issue.action, issue.line_start, issue.rows) == (
        IssueKind.EXCLUDED,
        Action.DROPPED,
        4,
        1,
    )
    assert "self-hosted runner my runner" in issue.detail


def test_a_self_hosted_job_is_included_with_a_runner_spec() -> None:
    err = error_of(C, OFFICIAL, self_hosted="include")
    assert err.line == 4
    assert "runners" in err.hint
    options = {
        "self_hosted": "include",
        "runners": {"foo": {"device_model": "AMD EPYC 7763", "vcpus": 8, "host_threads": 128}},
    }
    (record,), _ = parse(C, OFFICIAL, **options)
    assert (record.start_utc, record.end_utc) == (
        datetime(2020, 1, 20, 17, 42, 40, tzinfo=UTC),
        datetime(2020, 1, 20, 17, 44, 39, tzinfo=UTC),
    )
    assert (record.runtime_s, record.resource_share, record.line, record.method) == (
        119.0,
        8 / 128,
        4,
        METHOD,
    )
    # the runner's name is looked up first
    (by_name,), _ = parse(C, OFFICIAL, self_hosted="include", runners={"My Runner": {"tdp_w": 65.0}})
    assert (by_name.tdp_w, by_name.device_model, by_name.resource_share) == (65.0, "My Runner", 1.0)


def test_pages_with_skipped_queued_duplicate_and_offset_jobs() -> None:
    records, issues = parse(C, PAGES)
    assert [(r.line, r.runtime_s, r.device_model) for r in records] == [
        (5, 119.0, "AMD EPYC 7763"),
        (82, 630.0, "Apple M1"),  # 09:45:00-08:00 to 09:55:30-08:00
    ]
    assert records[1].start_utc == datetime(2020, 1, 20, 17, 45, tzinfo=UTC)
    assert all(r.tier is Tier.PROXY and r.utilisation == 0.5 for r in records)
    assert [(i.kind, i.line_start, i.line_end, i.rows) for i in issues] == [
        (IssueKind.MISSING_VALUE, 29, 29, 1),  # skipped
        (IssueKind.MISSING_VALUE, 53, 53, 1),  # queued
        (IssueKind.DUPLICATE_ROW, 106, 106, 1),
        (IssueKind.EXCLUDED, 130, 130, 1),
    ]
    energy_j = sum(
        (r.runtime_s or 0) * proxy_w(r, 280.0 if r.device_model == "AMD EPYC 7763" else 10.0) for r in records
    )
    assert energy_j == 119 * UBUNTU_W + 630 * MACOS_W == 2552.8125


def test_a_bare_array_of_jobs_and_runs_of_findings(tmp_path: Path) -> None:
    doc = [job(id=i, conclusion="skipped", started_at=None) for i in range(3)] + [job(id=9)]
    records, issues = parse(C, write(tmp_path, doc))
    assert [r.runtime_s for r in records] == [600.0]
    assert [(i.kind, i.rows) for i in issues] == [(IssueKind.MISSING_VALUE, 3)]
    assert issues[0].line_end > issues[0].line_start


def test_completed_before_started_is_dropped(tmp_path: Path) -> None:
    records, issues = parse(C, write(tmp_path, {"jobs": [job(completed_at="2026-10-05T06:59:00Z")]}))
    assert records == []
    assert issues[0].kind is IssueKind.NON_MONOTONIC


def test_the_first_known_label_names_the_runner(tmp_path: Path) -> None:
    doc = {"jobs": [job(labels=["linux", "windows-latest", "ubuntu-latest"])]}
    (record,), _ = parse(C, write(tmp_path, doc))
    assert record.device_model == "AMD EPYC 7763"
    (record,), _ = parse(C, write(tmp_path, doc), runners={"linux": {"tdp_w": 100.0}})
    assert record.tdp_w == 100.0


def test_an_unknown_label_is_an_error_naming_it(tmp_path: Path) -> None:
    err = error_of(C, write(tmp_path, {"jobs": [job(labels=["gpu-big"])]}))
    assert "gpu-big" in err.message
    assert 'runners = { "gpu-big" = {' in err.hint
    (record,), _ = parse(
        C, write(tmp_path, {"jobs": [job(labels=["gpu-big"])]}), default_runner="ubuntu-latest"
    )
    assert record.resource_share == 4 / 128


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"jobs": [job(started_at="yesterday")]}, "not an ISO 8601 time"),
        ({"jobs": [job(started_at="2026-10-05T07:00:00")]}, "no UTC offset"),
        ({"jobs": [job(started_at=5)]}, "is not a time"),
        ({"total_count": 1}, "no jobs array"),
        ([{"jobs": [1]}], "no jobs array"),
        (3, "no jobs array"),
    ],
)
def test_bad_documents_are_errors(tmp_path: Path, doc: Any, message: str) -> None:
    assert message in error_of(C, write(tmp_path, doc)).message


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    path.write_text('{\n "jobs": [\n  {"id": 1,,}\n ]\n}\n')
    err = error_of(C, path)
    assert (err.line, "not valid JSON" in err.message) == (3, True)


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"self_hosted": "count"}, "self_hosted"),
        ({"utilisation_pct": 101}, "utilisation_pct"),
        ({"runners": {"x": {"vcpus": 4}}}, "device_model or a tdp_w"),
        ({"runners": {"x": {"tdp_w": 10, "colour": 1}}}, "unknown key 'colour'"),
        ({"runners": {"x": {"tdp_w": 10, "vcpus": 0}}}, "runners.x.vcpus"),
        ({"runners": {"x": {"tdp_w": 10, "vcpus": 8, "host_threads": 4}}}, "more than host_threads"),
        ({"runners": {"x": 4}}, "must be a table"),
        ({"default_runner": "nope"}, "default_runner 'nope'"),
    ],
)
def test_options_are_checked(tmp_path: Path, options: dict[str, Any], key: str) -> None:
    err = error_of(C, write(tmp_path, {"jobs": []}), **options)
    assert err.line is None
    assert key in err.message


@settings(max_examples=200)
@given(data=file_bytes(max_size=500))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    parse_bytes(C, data)
    parse_bytes(C, data, self_hosted="include", default_runner="ubuntu-latest")


VALUES = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.sampled_from(["2026-10-05T07:00:00Z", "2026-10-05T07:00:00+14:00", "0001-01-01T00:00:00+01:00", "x"]),
    st.lists(st.sampled_from(["self-hosted", "ubuntu-latest", "gpu", "macos-14"]), max_size=3),
)


@settings(max_examples=200)
@given(
    jobs=st.lists(
        st.dictionaries(
            st.sampled_from(["id", "started_at", "completed_at", "labels", "conclusion", "runner_name"]),
            VALUES,
        ),
        max_size=4,
    )
)
def test_job_like_noise_gives_records_or_a_collector_error(jobs: list[dict[str, Any]]) -> None:
    data = json.dumps({"jobs": jobs}).encode()
    for item in parse_bytes(C, data, self_hosted="include", default_runner="ubuntu-latest"):
        if isinstance(item, Record):
            assert item.runtime_s is not None
            assert item.runtime_s >= 0
