"""GitLab CI jobs (REST ``GET /projects/:id/jobs``, ``/pipelines/:id/jobs``) -> proxy records, one per job
that ran: its duration on the runner its tags (or its runner's description) name. Format and rules:
``docs/formats/gitlab-jobs.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from collectors._ci import (
    JOB_OPTIONS,
    CiOptions,
    RunnerSpec,
    bundled_runners,
    job_items,
    job_record,
    repeated_job,
    string_list,
    unknown_runner,
    utc_time,
)
from collectors._json import located_line, sniff_json
from collectors.base import SourceContext, head_text
from sci.model import IssueKind, Item

METHOD = "gitlab-jobs/runner-minutes"
SELF_MANAGED_TYPES = ("group_type", "project_type")
_SHAPE_HINT = "save the API response as it came: a JSON array of jobs, or an array of such pages"


class GitlabJobsJson:
    """Collector for saved responses of GitLab's jobs API."""

    name: ClassVar[str] = "gitlab-jobs"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = False
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = JOB_OPTIONS

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """JSON naming ``tag_list``, ``finished_at``, and ``queued_duration`` or ``pipeline`` (job fields)."""
        text = head_text(head)
        return sniff_json(head, '"tag_list"', '"finished_at"') and (
            '"queued_duration"' in text or '"pipeline"' in text
        )

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        yield from job_items(ctx, _jobs, _finding)


def _jobs(ctx: SourceContext, doc: Any) -> list[Any]:
    if isinstance(doc, list) and doc and all(isinstance(page, list) for page in doc):
        doc = [job for page in doc for job in page]  # an array of pages
    if not isinstance(doc, list) or not all(isinstance(job, dict) for job in doc):
        raise ctx.error(located_line(doc, 1), "not an array of job objects", _SHAPE_HINT)
    return doc


def _finding(
    ctx: SourceContext, options: CiOptions, job: dict[str, Any], line: int, seen: set[object]
) -> Item | tuple[IssueKind, str]:
    if (repeated := repeated_job(job, seen)) is not None:
        return repeated
    job_id = job.get("id")
    started, finished = job.get("started_at"), job.get("finished_at")
    if started is None or finished is None:
        return IssueKind.MISSING_VALUE, (
            f"job did not run or has not finished (status {job.get('status')}): no runtime, not counted"
        )
    start = utc_time(ctx, line, started, f"job {job_id}: started_at")
    end = utc_time(ctx, line, finished, f"job {job_id}: finished_at")
    if end < start:
        return IssueKind.NON_MONOTONIC, "finished_at before started_at: not counted"
    found = job.get("runner")
    runner: dict[str, Any] = found if isinstance(found, dict) else {}
    description = str(runner.get("description") or runner.get("name") or "")
    managed = runner.get("is_shared") is False or str(runner.get("runner_type")) in SELF_MANAGED_TYPES
    if managed and options.self_hosted == "exclude":
        return IssueKind.EXCLUDED, (
            f"self-managed runner {description or runner.get('id')}: its machine is counted by the "
            'platform that hosts it (self_hosted = "exclude")'
        )
    tags = string_list(ctx, line, job.get("tag_list"), f"job {job_id}: tag_list")
    spec = (
        options.first([*tags, *([description] if description else [])])
        or _by_description(description)
        or options.fallback()
    )
    if spec is None:
        raise unknown_runner(
            ctx, line, f"job {job_id} (tags {tags}, runner {description!r})", tags[0] if tags else "my-tag"
        )
    return job_record(
        ctx,
        options,
        spec,
        method=METHOD,
        line=line,
        start_utc=start,
        end_utc=end,
        runtime_s=_runtime_s(ctx, job, line, (end - start).total_seconds()),
    )


def _by_description(description: str) -> RunnerSpec | None:
    """GitLab.com's hosted runners name their size in the description (``...saas-linux-small-amd64...``)."""
    text = description.lower()
    return next(
        (spec for label, spec in bundled_runners().items() if label.startswith("saas-") and label in text),
        None,
    )


def _runtime_s(ctx: SourceContext, job: dict[str, Any], line: int, span_s: float) -> float:
    """``duration`` (s) when the API gives it, else finished_at - started_at."""
    duration = job.get("duration")
    if duration is None:
        return span_s
    if isinstance(duration, bool) or not isinstance(duration, int | float) or not math.isfinite(duration):
        raise ctx.error(line, f"job {job.get('id')}: duration {duration!r} is not a number of seconds", "")
    return float(duration)
