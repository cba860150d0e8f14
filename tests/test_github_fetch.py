"""Fetching a run's jobs from a local HTTP server that answers with GitHub's official example payload."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from ci_helpers import FIXTURES, parse

from collectors.github_jobs_json import GithubJobsJson
from sci.cloud.github import fetch_run_jobs
from sci.errors import SciError

EXAMPLE = json.loads((FIXTURES / "github_api_workflow_run_jobs_example.json").read_text(encoding="utf-8"))


class _Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        if "/runs/404/" in self.path:
            self.send_error(404)
            return
        second = "page=2" in self.path
        body = dict(EXAMPLE)
        if second:
            body = {"total_count": 2, "jobs": [dict(EXAMPLE["jobs"][0], id=2, labels=["ubuntu-latest"])]}
        data = json.dumps(body).encode()
        self.send_response(200)
        if not second:
            host, port = self.server.server_address[:2]
            self.send_header(
                "Link", f'<http://{host!s}:{port}/repos/o/r/actions/runs/7/jobs?page=2>; rel="next"'
            )
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.seen.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_every_page_is_saved_for_the_collector(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    out = tmp_path / "jobs.json"
    assert fetch_run_jobs(owner="o", repo="r", run_id=7, out=out, api_url=server) == 2
    assert [path.split("?")[0] for path, _ in _Handler.seen] == ["/repos/o/r/actions/runs/7/jobs"] * 2
    assert all(auth == "Bearer ghp_secret" for _, auth in _Handler.seen)
    assert "ghp_secret" not in out.read_text(encoding="utf-8")
    records, issues = parse(GithubJobsJson(), out)
    assert [r.runtime_s for r in records] == [119.0]  # page 2's hosted job; page 1's self-hosted is excluded
    assert len(issues) == 1


def test_an_error_answer_is_a_sci_error_without_the_token(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    with pytest.raises(SciError) as raised:
        fetch_run_jobs(owner="o", repo="r", run_id=404, out=tmp_path / "jobs.json", api_url=server)
    assert "404" in raised.value.message
    assert "GITHUB_TOKEN" in raised.value.hint
    assert "ghp_secret" not in raised.value.message + raised.value.hint
    assert not (tmp_path / "jobs.json").exists()
