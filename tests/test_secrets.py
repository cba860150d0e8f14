"""No credential ever reaches an output: planted secrets for AWS, GCP, Azure and GitHub are in the
environment while the whole pipeline runs (ingest of the example team, the cloud fixtures and an S3 fetch
from moto's server on 127.0.0.1; compute; report HTML and PDF; export --audit; ci; all with --debug and
every logger at DEBUG), and none of them appears in any byte written or printed."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import traceback
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from sci.cli import main
from sci.errors import SciError

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SECRETS = {
    "AWS_SECRET_ACCESS_KEY": "planted-aws-secret-7Qx9Vb2Lm4Np6Rt8",
    "AWS_SESSION_TOKEN": "planted-aws-session-token-Zk3Jh5Gf7Dd9",
    "AZURE_CLIENT_SECRET": "planted-azure-client-secret-Wq2Er4Ty6",
    "GITHUB_TOKEN": "ghp_plantedGithubToken0123456789abcdef",
}
PRIVATE_KEY = "planted-gcp-private-key-Mn8Bv6Cx4Zl2"
BUCKET = "exports"
PREFIX = "carbon"


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """Every planted secret in the environment, and moto's S3 on 127.0.0.1 holding one carbon export."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    account = tmp_path / "secrets" / "service-account.json"
    account.parent.mkdir()
    account.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "ml-prod",
                "private_key_id": "planted-key-id",
                "private_key": f"-----BEGIN PRIVATE KEY-----\n{PRIVATE_KEY}\n-----END PRIVATE KEY-----\n",
                "client_email": "sci@ml-prod.iam.gserviceaccount.com",
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(account))
    monkeypatch.setenv("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001")
    monkeypatch.setenv("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000002")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # any cache written is grepped too
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "project" / "step-summary.md"))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).close()
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    export = (FIXTURES / "aws_carbon" / "carbon_emissions_v3_scopes.csv").read_bytes()
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/data/BILLING_PERIOD=2025-03/part-0.csv", Body=export)
    try:
        yield url
    finally:
        server.stop()


def _project(tmp_path: Path, endpoint: str) -> Path:
    """The example team plus a cloud platform: the S3 fetch and the GCP/Azure fixture files."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "team", project)
    cloud = project / "multicloud"
    cloud.mkdir()
    shutil.copy(FIXTURES / "gcp_carbon" / "carbon_footprint_2026-10.csv", cloud / "gcp.csv")
    shutil.copy(FIXTURES / "azure_usage" / "usage_vm_hours_2026-10.json", cloud / "azure-usage.json")
    shutil.copy(
        FIXTURES / "azure_carbon" / "carbon_2025-04-01_queryCarbonEmissionsMonthlySummaryReport.json",
        cloud / "azure-carbon.json",
    )
    with (project / "sci.toml").open("a", encoding="utf-8") as toml:
        toml.write(
            '\n[[platforms]]\nname = "multicloud"\nregion = "aws:us-east-1"\n'
            '  [[platforms.sources]]\n  collector = "aws-carbon"\n'
            f'  s3 = {{ bucket = "{BUCKET}", prefix = "{PREFIX}", region = "us-east-1", '
            f'endpoint_url = "{endpoint}" }}\n'
            '  [[platforms.sources]]\n  collector = "gcp-carbon"\n  paths = ["multicloud/gcp.csv"]\n'
            '  [[platforms.sources]]\n  collector = "azure-usage"\n'
            '  paths = ["multicloud/azure-usage.json"]\n'
            '  start = "2026-10-01"\n  end = "2026-11-01"\n'
            '  [[platforms.sources]]\n  collector = "azure-carbon"\n'
            '  paths = ["multicloud/azure-carbon.json"]\n'
        )
    return project


def _run(*args: str) -> int | str | None:
    try:
        main(["--debug", *args])
    except SystemExit as exit_:
        return exit_.code
    return None


def _pdf_text(path: Path) -> bytes:
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return done.stdout


def test_no_planted_secret_reaches_any_output(
    tmp_path: Path, endpoint: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, boto3's and the SDKs' included
    project = _project(tmp_path, endpoint)
    config = str(project / "sci.toml")
    assert _run("ingest", "-c", config) is None
    assert _run("compute", "-c", config) is None
    assert _run("report", "-c", config) is None
    assert _run("export", "-c", config, "--audit", str(project / "audit")) is None
    gate = ("ci", "-c", config, "--platform", "ci", "--release", "v1", "--update-baseline")
    assert _run(*gate, "--json", str(project / "ci.json"), "--markdown", str(project / "ci.md")) in (None, 2)
    with pytest.raises(SciError) as caught:  # --debug: the traceback instead of a one-line error
        main(["--debug", "ingest", "-c", config, str(project / "missing.csv")])
    shown = "".join(traceback.format_exception(caught.value))
    printed = capsys.readouterr()

    written = sorted(p for p in tmp_path.rglob("*") if p.is_file() and "secrets" not in p.parts)
    names = {p.relative_to(project).as_posix() for p in written if project in p.parents}
    assert {"sci.duckdb", "out/report.html", "out/report.pdf", "ci.json", "step-summary.md"} <= names
    assert any(n.startswith(".sci-cache/aws/") for n in names)
    assert any(n.startswith("audit/") for n in names)
    outputs = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in written}
    outputs |= {f"{n} (text)": _pdf_text(tmp_path / n) for n in list(outputs) if n.endswith(".pdf")}
    outputs |= {
        "stdout": printed.out.encode(),
        "stderr": printed.err.encode(),
        "logs": caplog.text.encode(),
        "traceback": shown.encode(),
    }
    assert "X-Amz-Security-Token': b'***'" in caplog.text  # botocore logged the request, masked
    for secret in [*SECRETS.values(), PRIVATE_KEY]:
        leaks = [where for where, data in outputs.items() if secret.encode() in data]
        assert leaks == [], f"{secret} appears in {leaks}"
