"""Fetch the jobs of a GitHub Actions workflow run into a cache file the ``github-jobs`` collector reads.

``GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs``, every page (following the ``Link: rel="next"``
header), saved as a JSON array of the pages as they came. The token comes from ``GITHUB_TOKEN`` only and
is sent in the Authorization header: it is never written to the file, stored or logged.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from sci.errors import SciError

API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
MAX_PAGES = 1000
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


def fetch_run_jobs(
    *,
    owner: str,
    repo: str,
    run_id: int,
    out: Path,
    api_url: str = API_URL,
    job_filter: str = "all",
    timeout_s: float = 30.0,
) -> int:
    """Save every page of the run's jobs to ``out``; returns the number of jobs."""
    quote = urllib.parse.quote
    query = urllib.parse.urlencode({"per_page": 100, "filter": job_filter})
    url: str | None = f"{api_url}/repos/{quote(owner)}/{quote(repo)}/actions/runs/{int(run_id)}/jobs?{query}"
    token = os.environ.get("GITHUB_TOKEN")
    pages: list[Any] = []
    while url is not None:
        if len(pages) >= MAX_PAGES:
            raise SciError(f"more than {MAX_PAGES} pages of jobs from {api_url}", hint="check the run id")
        page, url = _get(url, token, timeout_s)
        pages.append(page)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(json.dumps(pages, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out)
    return sum(len(p.get("jobs", [])) for p in pages if isinstance(p, dict))


def _get(url: str, token: str | None, timeout_s: float) -> tuple[Any, str | None]:
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (an https API URL, or a test server)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            body = response.read()
            link = response.headers.get("Link", "")
    except urllib.error.HTTPError as exc:
        exc.close()  # the error carries the open response
        hint = (
            "set GITHUB_TOKEN to a token that can read the repository's Actions"
            if exc.code in (401, 403, 404)
            else "try again later"
        )
        raise SciError(f"GitHub API answered {exc.code} {exc.reason} for {url}", hint=hint) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SciError(f"cannot reach the GitHub API at {url}: {exc}", hint="check the network") from None
    try:
        page = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SciError(f"the GitHub API answer for {url} is not JSON", hint="check api_url") from None
    found = _NEXT.search(link)
    return page, found.group(1) if found else None
