"""azure-carbon and azure-usage: official example payloads, bad input, and the fetch with the real Azure SDK
clients against a local server (a fake TokenCredential, enforce_https=False)."""

from __future__ import annotations

import contextlib
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from local_http import serve
from strategies import file_bytes

from collectors.azure_carbon_report import AzureCarbonReport
from collectors.azure_usage import AzureUsage
from collectors.base import SourceContext
from sci.app import run_ingest
from sci.cloud import azure
from sci.cloud.ccf import vcpu_power
from sci.config import load_config
from sci.errors import CollectorError, SciError
from sci.model import Action, IssueKind, QualityIssue, Record, Tier
from sci.store import Store

CARBON = Path(__file__).parent / "fixtures" / "azure_carbon"
USAGE = Path(__file__).parent / "fixtures" / "azure_usage"
MONTHLY = CARBON / "carbon_2025-04-01_queryCarbonEmissionsMonthlySummaryReport.json"
DETAILS = CARBON / "carbon_2025-10-01_queryCarbonEmissionsResourceItemDetailsReport_TRIMMED.json"
COST_EXAMPLE = USAGE / "costmanagement_2023-03-01_BillingAccountQueryGrouping.json"
VM_HOURS = USAGE / "usage_vm_hours_2026-10.json"
SUB = "00000000-0000-0000-0000-000000000000"


def z(year: int, month: int, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def parse(cls: Any, path: Path, **options: Any) -> tuple[list[Record], list[QualityIssue]]:
    items = list(cls().parse(SourceContext(path=path, device="azure", options=options)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, QualityIssue)]


def body_of(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text())["responses"]["200"]["body"])


def request_of(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text())["parameters"]["queryParameters"])


# -- azure-carbon ------------------------------------------------------------------------------------------


def test_monthly_summary_gives_one_record_per_month() -> None:
    records, issues = parse(AzureCarbonReport, MONTHLY)
    assert issues == []
    assert [(r.start_utc, r.end_utc, r.carbon_g, r.scope) for r in records] == [
        (z(2024, 5), z(2024, 6), 100.0, None),  # 0.1 kgCO2e; Scope1 + Scope3 requested: no single scope
        (z(2024, 4), z(2024, 5), 100.0, None),
        (z(2024, 3), z(2024, 4), 100.0, None),
    ]
    assert {r.device for r in records} == {f"azure:{SUB}"}
    assert all(r.tier is Tier.PROVIDER and r.market_carbon_g is None for r in records)


def test_item_details_per_resource_denied_subscription_and_skip_token() -> None:
    records, issues = parse(AzureCarbonReport, DETAILS)
    assert [r.device for r in records] == [f"azure:{SUB}/rgGroup/rgName1", f"azure:{SUB}/rgGroup/rgName2"]
    assert {(r.start_utc, r.end_utc) for r in records} == {(z(2024, 5), z(2024, 6))}  # dateRange May..May
    kinds = {(i.kind, i.action) for i in issues}
    assert kinds == {(IssueKind.MISSING_VALUE, Action.KEPT), (IssueKind.TRUNCATED, Action.KEPT)}
    denied = next(i for i in issues if i.kind is IssueKind.MISSING_VALUE)
    assert "00000000-0000-0000-0000-000000000008" in denied.detail
    assert "Carbon Optimization Reader" in denied.detail


def test_bare_response_needs_start_and_end(tmp_path: Path) -> None:
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(body_of(DETAILS) | {"skipToken": None}))
    with pytest.raises(CollectorError) as caught:
        parse(AzureCarbonReport, path)
    assert "date range" in caught.value.message
    assert "start" in caught.value.hint
    records, _ = parse(AzureCarbonReport, path, start="2024-05-01", end="2024-06-01")
    assert {(r.start_utc, r.end_utc) for r in records} == {(z(2024, 5), z(2024, 6))}


def test_single_scope_request_sets_scope(tmp_path: Path) -> None:
    path = tmp_path / "wrapped.json"
    request = request_of(MONTHLY) | {"carbonScopeList": ["Scope2"]}
    path.write_text(json.dumps([{"request": request, "response": body_of(MONTHLY)}]))
    records, _ = parse(AzureCarbonReport, path)
    assert {r.scope for r in records} == {"2"}


def test_range_ending_in_the_future_is_partial(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    path = tmp_path / "open.json"
    request = request_of(DETAILS) | {"dateRange": {"start": f"{now:%Y-%m}-01", "end": f"{now:%Y-%m}-01"}}
    path.write_text(json.dumps({"request": request, "response": body_of(DETAILS)}))
    records, issues = parse(AzureCarbonReport, path)
    assert records == []
    partial = [i for i in issues if i.kind is IssueKind.PARTIAL_PERIOD]
    assert [(i.action, i.rows) for i in partial] == [(Action.DROPPED, 2)]


@settings(max_examples=150)
@given(file_bytes(max_size=500))
def test_arbitrary_bytes(data: bytes) -> None:
    for cls in (AzureCarbonReport, AzureUsage):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "f.json"
            path.write_bytes(data)
            with contextlib.suppress(CollectorError):
                parse(cls, path, start="2026-10-01", end="2026-11-01")


# -- azure-usage -------------------------------------------------------------------------------------------


def test_vm_hours_times_vcpus_times_ccf_watts() -> None:
    records, issues = parse(AzureUsage, VM_HOURS)
    average = vcpu_power("azure")
    assert average is not None
    watts = average.min_w + 0.5 * (average.max_w - average.min_w)  # CCF: 50 % utilisation by default
    assert [(r.device, r.line) for r in records] == [("azure:ml-prod", 1), ("azure:ml-train", 2)]
    assert records[0].energy_kwh == pytest.approx(744.0 * 4 * watts / 1000)  # D4s v5: 4 vCPUs
    assert records[1].energy_kwh == pytest.approx(1488.0 * 6 * watts / 1000)  # NC6s v3: 6 vCPUs
    assert {(r.start_utc, r.end_utc, r.tier) for r in records} == {(z(2026, 10), z(2026, 11), Tier.PROXY)}
    assert [(i.kind, i.line_start) for i in issues] == [
        (IssueKind.NOT_ESTIMATED, 3),  # Storage
        (IssueKind.MISSING_VALUE, 4),  # meter "Basic" says no vCPU count
    ]


def test_architecture_option_and_unknown_unit(tmp_path: Path) -> None:
    document = json.loads(VM_HOURS.read_text())
    properties = document["response"]["properties"]
    properties["columns"].append({"name": "UnitOfMeasure", "type": "String"})
    units = ["10 Hours", "1 Hour", "1 GB/Month", "1 Hour"]
    properties["rows"] = [[*row, unit] for row, unit in zip(properties["rows"], units, strict=True)]
    path = tmp_path / "units.json"
    path.write_text(json.dumps(document))
    records, issues = parse(AzureUsage, path, architecture="Cascade Lake", utilisation_pct=100.0)
    cascade_lake = vcpu_power("azure", "Cascade Lake")
    assert cascade_lake is not None
    assert records[0].energy_kwh == pytest.approx(7440.0 * 4 * cascade_lake.max_w / 1000)
    assert IssueKind.NOT_ESTIMATED in {i.kind for i in issues}  # the GB/Month row is Storage anyway
    properties["rows"][0][1] = "Virtual Machines"
    properties["rows"][0][-1] = "1 GB/Month"
    path.write_text(json.dumps(document))
    _, issues = parse(AzureUsage, path)
    assert [(i.kind, i.line_start) for i in issues if i.kind is IssueKind.UNKNOWN_UNIT] == [
        (IssueKind.UNKNOWN_UNIT, 1)
    ]


def test_official_cost_example_lacks_usage_columns() -> None:
    with pytest.raises(CollectorError) as caught:
        parse(AzureUsage, COST_EXAMPLE)
    assert "UsageQuantity" in caught.value.message
    assert "MeterCategory" in caught.value.message


# -- fetch through the real SDK clients --------------------------------------------------------------------


class FakeCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("not-a-secret", 4_102_444_800)


@pytest.fixture
def local_azure(monkeypatch: pytest.MonkeyPatch) -> Any:
    from azure.mgmt.carbonoptimization import CarbonOptimizationMgmtClient
    from azure.mgmt.costmanagement import CostManagementClient

    def install(url: str) -> None:
        monkeypatch.setattr(azure, "credential", FakeCredential)
        monkeypatch.setattr(azure, "carbon_client", lambda c: CarbonOptimizationMgmtClient(c, base_url=url))
        monkeypatch.setattr(azure, "cost_client", lambda c: CostManagementClient(c, base_url=url))
        monkeypatch.setattr(azure, "call_options", {"enforce_https": False})

    return install


def carbon_server() -> Any:
    monthly, details = body_of(MONTHLY), body_of(DETAILS)

    def answer(method: str, path: str, body: Any) -> tuple[int, Any]:
        if not path.startswith("/providers/Microsoft.Carbon/carbonEmissionReports"):
            return 404, {"error": {"code": "NotFound", "message": path}}
        if body["reportType"] == "MonthlySummaryReport":
            return 200, monthly
        if body.get("skipToken"):  # the second page: the rest of the items, no further token
            return 200, {
                "value": details["value"][:1],
                "subscriptionAccessDecisionList": details["subscriptionAccessDecisionList"],
            }
        return 200, details

    return serve(answer)


def write_config(folder: Path, source: str) -> Path:
    path = folder / "sci.toml"
    path.write_text(
        '[window]\nmonth = "2026-10"\n\n[[platforms]]\nname = "cloud"\nregion = "azure:westeurope"\n\n'
        f"[[platforms.sources]]\n{source}\n",
        encoding="utf-8",
    )
    return path


def test_fetch_monthly_per_scope_then_ingest(tmp_path: Path, local_azure: Any) -> None:
    source = f'collector = "azure-carbon"\nazure = {{ subscriptions = ["{SUB}"], per_scope = true }}'
    with carbon_server() as served:
        local_azure(served.url)
        outcomes = run_ingest(load_config(write_config(tmp_path, source)))
    bodies = [c[2] for c in served.calls]
    assert [b["carbonScopeList"] for b in bodies] == [["Scope1"], ["Scope2"], ["Scope3"]]
    assert {json.dumps(b["dateRange"]) for b in bodies} == {'{"start": "2026-10-01", "end": "2026-10-01"}'}
    [outcome] = outcomes
    assert outcome.name.startswith(".sci-cache/azure/MonthlySummaryReport_2026-10_2026-11_")
    assert outcome.records == 9  # 3 scopes x the example's 3 monthly items
    calls = json.loads((tmp_path / outcome.name).read_text())
    assert [c["request"]["carbonScopeList"] for c in calls] == [["Scope1"], ["Scope2"], ["Scope3"]]


def test_fetch_item_details_follows_skip_token(tmp_path: Path, local_azure: Any) -> None:
    table = f'{{ subscriptions = ["{SUB}"], report_type = "ItemDetailsReport" }}'
    source = f'collector = "azure-carbon"\nazure = {table}'
    with carbon_server() as served:
        local_azure(served.url)
        config = load_config(write_config(tmp_path, source))
        [outcome] = run_ingest(config)
    assert [c[2].get("skipToken") for c in served.calls] == [None, "dGVzZGZhZGZzZnNkZg=="]
    saved = json.loads((tmp_path / outcome.name).read_text())
    assert "skipToken" not in saved["response"]
    assert len(saved["response"]["value"]) == 3
    assert outcome.records == 3
    with Store(config.store_path, read_only=True) as store:
        issues = store.query("all_files")
    assert len(issues) == 1


def test_fetch_usage(tmp_path: Path, local_azure: Any) -> None:
    body = json.loads(VM_HOURS.read_text())["response"]
    with serve(lambda method, path, sent: (200, body)) as served:
        local_azure(served.url)
        source = f'collector = "azure-usage"\nazure = {{ scope = "subscriptions/{SUB}" }}'
        [outcome] = run_ingest(load_config(write_config(tmp_path, source)))
    _method, path, sent = served.calls[0]
    assert path.startswith(f"/subscriptions/{SUB}/providers/Microsoft.CostManagement/query")
    assert sent["timePeriod"] == {"from": "2026-10-01T00:00:00Z", "to": "2026-10-31T23:59:59Z"}
    assert outcome.records == 2


def test_future_range_is_an_error_before_any_call(tmp_path: Path, local_azure: Any) -> None:
    table = f'{{ subscriptions = ["{SUB}"], start = 2026-10-01, end = 2099-01-01 }}'  # TOML dates work too
    source = f'collector = "azure-carbon"\nazure = {table}'
    with carbon_server() as served:
        local_azure(served.url)
        with pytest.raises(SciError, match="in the future"):
            run_ingest(load_config(write_config(tmp_path, source)))
    assert served.calls == []
