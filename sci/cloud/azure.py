"""Fetch Azure Carbon Optimization emissions reports (and Cost Management usage) into local JSON files.

Configured on an ``azure-carbon`` source::

    [[platforms.sources]]
    collector = "azure-carbon"
    azure = { subscriptions = ["00000000-..."], start = "2026-10-01", end = "2026-11-01" }

Keys of the ``azure`` table: ``subscriptions`` (required), ``start``/``end`` (first days of months, end
exclusive; default the [window]'s months), ``report_type`` (``MonthlySummaryReport``, the default, or
``ItemDetailsReport``: per resource, one call per month as the API requires), ``per_scope`` (true: one
call per scope, so each record carries its scope). Pages are followed through ``skipToken``. Each file is
``{"request": ..., "response": ..., "fetched_at": ...}`` (a list of them for several calls): the response
does not say which range was asked for, the request beside it does.

On an ``azure-usage`` source, ``azure = { scope = "subscriptions/...", start, end }`` runs a Cost
Management ``query.usage`` (UsageQuantity by MeterCategory and Meter) and writes
``{"period": {start, end}, "request": ..., "response": ...}``.

Credentials: ``azure.identity.DefaultAzureCredential`` (environment, managed identity, Azure CLI);
nothing about them is stored or logged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sci.cloud import cache_path, date_range, is_fresh, landed, write_cache
from sci.config import Config, SourceConfig
from sci.errors import ConfigError, SciError

LANDING_DAYS = 20
"""Carbon Optimization publishes a month's emissions by about the 19th of the next month (assumed)."""
SCOPES = ("Scope1", "Scope2", "Scope3")
REPORT_TYPES = ("MonthlySummaryReport", "ItemDetailsReport")
CARBON_KEYS = frozenset({"subscriptions", "start", "end", "report_type", "per_scope"})
USAGE_KEYS = frozenset({"scope", "start", "end"})
PAGE_SIZE = 5000


def _credential() -> Any:
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def _carbon_client(credential: Any) -> Any:
    from azure.mgmt.carbonoptimization import CarbonOptimizationMgmtClient

    return CarbonOptimizationMgmtClient(credential)


def _cost_client(credential: Any) -> Any:
    from azure.mgmt.costmanagement import CostManagementClient

    return CostManagementClient(credential)


credential: Callable[[], Any] = _credential
"""How credentials and clients are made; tests inject a fake TokenCredential and a local endpoint."""
carbon_client: Callable[[Any], Any] = _carbon_client
cost_client: Callable[[Any], Any] = _cost_client
call_options: dict[str, Any] = {}
"""Extra keyword arguments for every SDK call (tests: ``enforce_https=False``)."""


def fetch(config: Config, source: SourceConfig) -> list[Path]:
    if source.collector == "azure-usage":
        return [_fetch_usage(config, source)]
    raw: Mapping[str, Any] = source.options["azure"]
    key = f"{source.key}.azure"
    _only(raw, CARBON_KEYS, key)
    subscriptions = raw.get("subscriptions")
    if (
        not isinstance(subscriptions, list)
        or not subscriptions
        or not all(isinstance(s, str) for s in subscriptions)
    ):
        raise ConfigError(
            f"{key}.subscriptions", "expected a list of subscription ids", hint='e.g. ["0000-..."]'
        )
    report = raw.get("report_type", REPORT_TYPES[0])
    if report not in REPORT_TYPES:
        raise ConfigError(
            f"{key}.report_type", f"unknown report type {report!r}", hint=f"one of {', '.join(REPORT_TYPES)}"
        )
    start, end = _months(config, raw, key)
    per_scope = raw.get("per_scope", False)
    if not isinstance(per_scope, bool):
        raise ConfigError(f"{key}.per_scope", f"expected true or false, got {per_scope!r}")
    path = cache_path(
        config, "azure", report, f"{start:%Y-%m}", f"{end:%Y-%m}", *sorted(subscriptions), suffix=".json"
    )
    if not is_fresh(path, complete_after=landed(_utc(end), LANDING_DAYS)):
        requests = _requests(report, subscriptions, start, end, per_scope)
        client = carbon_client(credential())
        calls = [_call(client, request) for request in requests]
        write_cache(path, json.dumps(calls[0] if len(calls) == 1 else calls, indent=1).encode("utf-8"))
    return [path]


def _requests(
    report: str, subscriptions: list[str], start: date, end: date, per_scope: bool
) -> list[dict[str, Any]]:
    """The query bodies: the API's dateRange names the first days of the first and last month (inclusive)."""
    scope_lists = [[s] for s in SCOPES] if per_scope else [list(SCOPES)]
    months = [start] if report != "ItemDetailsReport" else _each_month(start, end)
    requests = []
    for first in months:
        last = _previous_month(end) if report != "ItemDetailsReport" else first
        for scopes in scope_lists:
            body: dict[str, Any] = {
                "reportType": report,
                "subscriptionList": subscriptions,
                "carbonScopeList": scopes,
                "dateRange": {"start": first.isoformat(), "end": last.isoformat()},
            }
            if report == "ItemDetailsReport":
                body |= {
                    "categoryType": "Resource",
                    "orderBy": "LatestMonthEmissions",
                    "sortDirection": "Desc",
                    "pageSize": PAGE_SIZE,
                }
            requests.append(body)
    return requests


def _call(client: Any, request: dict[str, Any]) -> dict[str, Any]:
    """One query, every page (skipToken) merged into one response."""
    fetched_at = datetime.now(UTC)
    values: list[Any] = []
    decisions: list[Any] = []
    token = None
    while True:
        body = dict(request) | ({"skipToken": token} if token else {})
        page = client.carbon_service.query_carbon_emission_reports(body, **call_options).as_dict()
        values.extend(page.get("value") or [])
        decisions.extend(d for d in page.get("subscriptionAccessDecisionList") or [] if d not in decisions)
        token = page.get("skipToken")
        if not token:
            break
    response = {"value": values, "subscriptionAccessDecisionList": decisions}
    return {"request": request, "response": response, "fetched_at": fetched_at.isoformat()}


def _fetch_usage(config: Config, source: SourceConfig) -> Path:
    raw: Mapping[str, Any] = source.options["azure"]
    key = f"{source.key}.azure"
    _only(raw, USAGE_KEYS, key)
    scope = raw.get("scope")
    if not isinstance(scope, str) or not scope.strip("/"):
        raise ConfigError(f"{key}.scope", "expected a scope", hint='e.g. "subscriptions/0000-..."')
    start, end = _months(config, raw, key)
    path = cache_path(config, "azure", "usage", scope, f"{start:%Y-%m}", f"{end:%Y-%m}", suffix=".json")
    if not is_fresh(path, complete_after=landed(_utc(end), 3)):
        request = {
            "type": "Usage",
            "timeframe": "Custom",
            "timePeriod": {
                "from": f"{start.isoformat()}T00:00:00Z",
                "to": f"{_day_before(end).isoformat()}T23:59:59Z",
            },
            "dataset": {
                "granularity": "None",
                "aggregation": {"UsageQuantity": {"name": "UsageQuantity", "function": "Sum"}},
                "grouping": [
                    {"type": "Dimension", "name": n} for n in ("MeterCategory", "Meter", "ResourceGroup")
                ],
            },
        }
        result = cost_client(credential()).query.usage(scope.strip("/"), request, **call_options)
        document = {
            "period": {"start": start.isoformat(), "end": end.isoformat()},
            "request": request,
            "response": result.as_dict(),
        }
        write_cache(path, json.dumps(document, indent=1, default=str).encode("utf-8"))
    return path


def _only(raw: Mapping[str, Any], allowed: frozenset[str], key: str) -> None:
    for name in raw:
        if name not in allowed:
            raise ConfigError(f"{key}.{name}", "unknown key", hint=f"allowed: {', '.join(sorted(allowed))}")


def _months(config: Config, raw: Mapping[str, Any], key: str) -> tuple[date, date]:
    first, after = date_range(config, raw, key)
    if first.day != 1 or after.day != 1:
        raise ConfigError(
            key,
            f"start and end must be first days of months, got {first} and {after}",
            hint="Azure reports whole months",
        )
    if after <= first:
        raise ConfigError(f"{key}.end", f"{after} is not after {first}")
    if _utc(after) > datetime.now(UTC):
        raise SciError(
            f"{key}: the range ends {after}, in the future: its last month is not over",
            hint="end the range at the first day of the current month or earlier",
        )
    return first, after


def _each_month(start: date, end: date) -> list[date]:
    months, current = [], start
    while current < end:
        months.append(current)
        current = (
            date(current.year + 1, 1, 1) if current.month == 12 else date(current.year, current.month + 1, 1)
        )
    return months


def _previous_month(day: date) -> date:
    return date(day.year - 1, 12, 1) if day.month == 1 else date(day.year, day.month - 1, 1)


def _day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
