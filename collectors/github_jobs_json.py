"""GitHub Actions workflow jobs (REST ``GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs``) -> proxy
records, one per job that ran: its runtime on the runner its labels name. Format and rules:
``docs/formats/github-jobs.md``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from collectors._ci import (
    JOB_OPTIONS,
    CiOptions,
    job_items,
    job_record,
    repeated_job,
    string_list,
    unknown_runner,
    utc_time,
)
from collectors._json import located_line, sniff_json
from collectors.base import SourceContext
from sci.model import IssueKind, Item

METHOD = "github-jobs/runner-minutes"
SELF_HOSTED = "self-hosted"
_SHAPE_HINT = (
    "save the API response as it came: {total_count, jobs: [...]}, or a JSON array of such pages, or a JSON "
    "array of jobs (see docs/formats/github-jobs.md)"
)


class GithubJobsJson:
    """Collector for saved responses of GitHub's workflow-run jobs API."""

    name: ClassVar[str] = "github-jobs"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = False
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = JOB_OPTIONS

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """JSON naming the job fields ``run_id``, ``head_sha`` and ``started_at``."""
        return sniff_json(head, '"run_id"', '"head_sha"', '"started_at"')

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        yield from job_items(ctx, _jobs, _finding)


def _jobs(ctx: SourceContext, doc: Any) -> list[Any]:
    pages = doc if isinstance(doc, list) else [doc]
    if isinstance(doc, list) and not all(isinstance(p, dict) and "jobs" in p for p in doc):
        pages = [{"jobs": doc}]  # an array of jobs
    jobs: list[Any] = []
    for page in pages:
        found = page.get("jobs") if isinstance(page, dict) else None
        if not isinstance(found, list) or not all(isinstance(j, dict) for j in found):
            raise ctx.error(located_line(page, 1), "no jobs array of job objects here", _SHAPE_HINT)
        jobs.extend(found)
    return jobs


def _finding(
    ctx: SourceContext, options: CiOptions, job: dict[str, Any], line: int, seen: set[object]
) -> Item | tuple[IssueKind, str]:
    """The job's record, or why it is not counted (an issue kind and detail)."""
    if (repeated := repeated_job(job, seen)) is not None:
        return repeated
    job_id = job.get("id")
    started, completed = job.get("started_at"), job.get("completed_at")
    if job.get("conclusion") == "skipped" or started is None or completed is None:
        return IssueKind.MISSING_VALUE, (
            f"job did not run or has not finished (status {job.get('status')}, conclusion "
            f"{job.get('conclusion')}): no runtime, not counted"
        )
    start = utc_time(ctx, line, started, f"job {job_id}: started_at")
    end = utc_time(ctx, line, completed, f"job {job_id}: completed_at")
    if end < start:
        return IssueKind.NON_MONOTONIC, "completed_at before started_at (seen on cancelled jobs): not counted"
    labels = string_list(ctx, line, job.get("labels"), f"job {job_id}: labels")
    runner = job.get("runner_name")
    if SELF_HOSTED in (label.lower() for label in labels):
        if options.self_hosted == "exclude":
            return IssueKind.EXCLUDED, (
                f"self-hosted runner {runner or '(unnamed)'}: its machine is counted by the platform that "
                'hosts it (self_hosted = "exclude")'
            )
        keys = [label for label in labels if label.lower() != SELF_HOSTED]
        spec = options.first([*([str(runner)] if runner else []), *keys])
    else:
        spec = options.first(labels)
    spec = spec or options.fallback()
    if spec is None:
        label = next((x for x in labels if x.lower() != SELF_HOSTED), str(runner or "my-label"))
        raise unknown_runner(ctx, line, f"job {job_id} (labels {labels}, runner {runner!r})", label)
    return job_record(
        ctx,
        options,
        spec,
        method=METHOD,
        line=line,
        start_utc=start,
        end_utc=end,
        runtime_s=(end - start).total_seconds(),
    )
