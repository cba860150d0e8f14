"""Azure Carbon Optimization emissions reports (JSON) -> provider-reported records.

Reads what ``carbon_service.query_carbon_emission_reports`` returns: the wrapper ``sci.cloud.azure`` writes
(``{"request": {...}, "response": {...}}``, or a list of them: one call per scope), a bare response (then
options ``start``/``end`` give the requested range, which a response does not carry), or an official REST
example file (``{"parameters": {"queryParameters": ...}, "responses": {"200": {"body": ...}}}``).
Figures are kgCO2e, location-based. Format and rules: ``docs/formats/azure-carbon.md``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from collectors._cloud import finite, json_document, month_start, next_month, read_bytes
from collectors._runs import BY_FINDING, Runs
from collectors.base import SourceContext, head_text
from sci.errors import CollectorError
from sci.model import Action, Component, IssueKind, Item, Record, Tier
from sci.units import G_PER_KG

METHOD = "azure-carbon"
SCOPES = {"Scope1": "1", "Scope2": "2", "Scope3": "3"}
_HINT = "save the response of query_carbon_emission_reports as JSON (see docs/formats/azure-carbon.md)"


@dataclass(frozen=True, slots=True)
class _Call:
    request: Mapping[str, Any] | None
    response: Mapping[str, Any]
    fetched_at: datetime | None


class AzureCarbonReport:
    """Collector for Azure Carbon Optimization emissions reports."""

    name: ClassVar[str] = "azure-carbon"
    version: ClassVar[str] = "1"
    needs_timezone: ClassVar[bool] = False
    OPTIONS: ClassVar[Mapping[str, tuple[type, str]]] = {
        "start": (str, "first day of the requested range (YYYY-MM-DD), for a bare response"),
        "end": (str, "first day after the requested range (YYYY-MM-DD, exclusive), for a bare response"),
        "azure": (
            dict,
            "fetch first: { subscriptions, start, end, report_type?, per_scope? } (sci.cloud.azure)",
        ),
    }

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        text = head_text(head)
        return "latestMonthEmissions" in text or (
            '"subscriptionAccessDecisionList"' in text and '"value"' in text
        )

    def parse(self, ctx: SourceContext) -> Iterator[Item]:
        runs = Runs(ctx.device, hold=True)
        row = 0
        for call in _calls(ctx):
            parser = _CallParser(ctx, call, runs, row)
            yield from parser.records()
            row = parser.row
        yield from runs.close_all()


class _CallParser:
    def __init__(self, ctx: SourceContext, call: _Call, runs: Runs, row: int) -> None:
        self.ctx, self.call, self.runs, self.row = ctx, call, runs, row
        self.start, self.end = _range(ctx, call.request)
        self.now = call.fetched_at or datetime.now(UTC)
        scopes = _dig(call.request, "carbonScopeList")
        scopes = scopes if isinstance(scopes, list) else []
        self.scope = SCOPES.get(scopes[0]) if len(scopes) == 1 and isinstance(scopes[0], str) else None
        subscriptions = _dig(call.request, "subscriptionList")
        subscriptions = subscriptions if isinstance(subscriptions, list) else []
        self.summary_device = (
            "azure:" + "+".join(str(s) for s in subscriptions) if subscriptions else f"azure:{ctx.device}"
        )

    def records(self) -> Iterator[Record]:
        values = self.call.response.get("value")
        if not isinstance(values, list):
            raise self.ctx.error(None, "the response has no value list", _HINT)
        self._denied()
        if self.call.response.get("skipToken"):
            self.runs.note(
                IssueKind.TRUNCATED,
                Action.KEPT,
                "the response has a skipToken: further pages were not fetched, their items are missing",
                self.row + max(len(values), 1),
                key=BY_FINDING,
                adjacent=True,
            )
        for item in values:
            self.row += 1
            record = self._record(item)
            if record is not None:
                yield record

    def _record(self, item: Any) -> Record | None:
        if not isinstance(item, dict):
            raise self.ctx.error(self.row, "a value item is not a JSON object", _HINT)
        kg = self._kg(item)
        if kg is None:
            detail = "latestMonthEmissions is missing: not counted"
            self.runs.note(
                IssueKind.MISSING_VALUE, Action.DROPPED, detail, self.row, key=BY_FINDING, adjacent=True
            )
            return None
        start, end = self._interval(item)
        if end > self.now:
            detail = f"the period {start:%Y-%m-%d} to {end:%Y-%m-%d} is not over yet: partial, not counted"
            self.runs.note(
                IssueKind.PARTIAL_PERIOD, Action.DROPPED, detail, self.row, key=BY_FINDING, adjacent=True
            )
            return None
        return Record(
            device=self._device(item),
            component=Component.SYSTEM,
            start_utc=start,
            end_utc=end,
            tier=Tier.PROVIDER,
            method=f"{METHOD}/{item.get('dataType') or 'emissions'}",
            line=self.row,
            carbon_g=kg * G_PER_KG,
            scope=self.scope,
        )

    def _kg(self, item: Mapping[str, Any]) -> float | None:
        try:
            return finite(item.get("latestMonthEmissions"))
        except (ValueError, TypeError):
            raise self.ctx.error(
                self.row, f"latestMonthEmissions {item.get('latestMonthEmissions')!r} is not a number", _HINT
            ) from None

    def _interval(self, item: Mapping[str, Any]) -> tuple[datetime, datetime]:
        if item.get("date") is None:
            return self.start, self.end
        start = month_start(_day(self.ctx, item["date"], f"value item {self.row}: date", self.row))
        return start, next_month(start)

    def _device(self, item: Mapping[str, Any]) -> str:
        if item.get("itemName") is None:
            return self.summary_device
        parts = [item.get("subscriptionId"), item.get("resourceGroup"), item.get("itemName")]
        return "azure:" + "/".join(str(p) for p in parts if p)

    def _denied(self) -> None:
        decisions = self.call.response.get("subscriptionAccessDecisionList")
        decisions = decisions if isinstance(decisions, list) else []
        for position, entry in enumerate(decisions, start=1):
            if isinstance(entry, dict) and entry.get("decision") == "Denied":
                reason = entry.get("denialReason") or "no reason given"
                detail = (
                    f"subscription {entry.get('subscriptionId')} was denied ({reason}): "
                    "its emissions are not in this report"
                )
                self.runs.note(
                    IssueKind.MISSING_VALUE,
                    Action.KEPT,
                    detail,
                    self.row + position,
                    key=BY_FINDING,
                    adjacent=True,
                )


def _calls(ctx: SourceContext) -> list[_Call]:
    data = read_bytes(ctx)
    document = json_document(ctx, data, _HINT)
    documents = document if isinstance(document, list) else [document]
    return [_call(ctx, d) for d in documents]


def _call(ctx: SourceContext, document: Any) -> _Call:
    if not isinstance(document, dict):
        raise ctx.error(1, "expected a JSON object", _HINT)
    if "responses" in document and "parameters" in document:  # an official REST example file
        document = {
            "request": _dig(document, "parameters", "queryParameters"),
            "response": _dig(document, "responses", "200", "body"),
        }
    if "response" in document:
        request, response = document.get("request"), document["response"]
        fetched = document.get("fetched_at")
    else:
        request, response, fetched = None, document, None
    if not isinstance(response, dict) or (request is not None and not isinstance(request, dict)):
        raise ctx.error(1, "request and response must be JSON objects", _HINT)
    return _Call(request, response, _instant(ctx, fetched) if fetched else None)


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _range(ctx: SourceContext, request: Mapping[str, Any] | None) -> tuple[datetime, datetime]:
    """The requested range as [start, end): the API's dateRange names the first days of the first and the
    last month it covers (both included); options ``start``/``end`` are sci-report's (end exclusive)."""
    date_range = (request or {}).get("dateRange")
    if isinstance(date_range, dict):
        start = _day(ctx, date_range.get("start"), "request dateRange.start", None)
        last = _day(ctx, date_range.get("end"), "request dateRange.end", None)
        if last < start:
            raise ctx.error(None, f"dateRange ends ({last}) before it starts ({start})", _HINT)
        return month_start(start), next_month(month_start(last))
    start_text, end_text = ctx.options.get("start"), ctx.options.get("end")
    if start_text is None or end_text is None:
        raise ctx.error(
            None,
            "a bare response does not say which date range was requested",
            'set start and end on this source (e.g. start = "2026-10-01", end = "2026-11-01", end '
            "exclusive), or fetch with sci.cloud.azure, which writes the request beside the response",
        )
    start_day = _day(ctx, start_text, "option start", None)
    end_day = _day(ctx, end_text, "option end", None)
    if end_day <= start_day:
        raise ctx.error(None, f"option end {end_day} is not after start {start_day}", "fix start/end")
    return _midnight(start_day), _midnight(end_day)


def _day(ctx: SourceContext, value: Any, what: str, line: int | None) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ctx.error(line, f"{what} {value!r} is not a date (YYYY-MM-DD)", _HINT) from None


def _instant(ctx: SourceContext, value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise CollectorError(ctx.path, None, f"fetched_at {value!r} is not an ISO 8601 time with offset")
    return moment.astimezone(UTC)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
