"""Fetch GCP Carbon Footprint rows from the BigQuery export into a local NDJSON file.

Configured on a ``gcp-carbon`` source::

    [[platforms.sources]]
    collector = "gcp-carbon"
    bigquery = { table = "my-project.carbon.carbon_footprint" }   # start/end: default the window's months
    billing_account = "007GD7-15C0E6-BDE6B3"   # optional: checks `projects` against the account's projects
    projects = ["ml-prod", "ml-dev"]           # optional: rows of other projects are excluded

Runs ``SELECT * FROM `<table>` WHERE usage_month BETWEEN @first AND @last`` and writes the rows, one JSON
object a line (nested records as BigQuery gives them), to ``.sci-cache/gcp/``. A cache file written
after the data landed (the 15th of the month after the last one) is reused; otherwise it is fetched
again. Credentials come from Application Default Credentials; nothing about them is stored or logged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sci.cloud import cache_path, date_range, is_fresh, landed, write_cache
from sci.config import Config, SourceConfig
from sci.errors import ConfigError, SciError

LANDING_DAYS = 15
"""Carbon Footprint exports a month's data on the 15th of the following month."""
TABLE_RE = re.compile(r"^[A-Za-z0-9_-]+(?:[.:][A-Za-z0-9_-]+){1,2}$")
TABLE_KEYS = frozenset({"table", "start", "end", "project"})

BigQueryFactory = Callable[[str], Any]
BillingFactory = Callable[[], Any]


def _bigquery_client(project: str) -> Any:
    from google.cloud import bigquery

    return bigquery.Client(project=project)


def _billing_client() -> Any:
    from google.cloud import billing_v1

    return billing_v1.CloudBillingClient()


bigquery_client: BigQueryFactory = _bigquery_client
"""How clients are made (Application Default Credentials); tests replace these with local endpoints."""
billing_client: BillingFactory = _billing_client


def fetch(config: Config, source: SourceConfig) -> list[Path]:
    """The NDJSON cache file for the source's table and months, fetched when it is missing or stale."""
    settings = _Settings.of(config, source)
    account = source.options.get("billing_account")
    if account:
        _check_projects(source, account, billing_client())
    path = cache_path(
        config, "gcp", settings.table, f"{settings.first:%Y-%m}", f"{settings.last:%Y-%m}", suffix=".ndjson"
    )
    if not is_fresh(path, complete_after=landed(settings.end, LANDING_DAYS)):
        lines = query_rows(bigquery_client(settings.project), settings)
        write_cache(path, "".join(lines).encode("utf-8"))
    return [path]


def projects_of(client: Any, account: str) -> list[str]:
    """The project ids the Cloud Billing API lists for ``account`` ("billingAccounts/..." or the bare id)."""
    name = account if account.startswith("billingAccounts/") else f"billingAccounts/{account}"
    return [info.project_id for info in client.list_project_billing_info(name=name)]


def query_rows(client: Any, settings: _Settings) -> list[str]:
    """The table's rows for the months, as NDJSON lines; no row at all is an error."""
    from google.cloud import bigquery

    sql = f"SELECT * FROM `{settings.table}` WHERE usage_month BETWEEN @first AND @last"
    job_config = bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.ScalarQueryParameter("first", "DATE", settings.first),
            bigquery.ScalarQueryParameter("last", "DATE", settings.last),
        ]
    )
    rows = client.query(sql, job_config=job_config).result()
    lines = [json.dumps(dict(row.items()), default=_json_value, sort_keys=True) + "\n" for row in rows]
    if not lines:
        raise SciError(
            f"{settings.table} has no rows for usage_month {settings.first:%Y-%m} to {settings.last:%Y-%m}",
            hint="Carbon Footprint exports a month on the 15th of the next one; check the transfer's "
            "billing account and that its backfill ran (transferConfigs.startManualRuns)",
        )
    return lines


def _check_projects(source: SourceConfig, account: str, client: Any) -> None:
    wanted = source.options.get("projects") or []
    known = set(projects_of(client, account))
    unknown = [p for p in wanted if p not in known]
    if unknown:
        raise ConfigError(
            f"{source.key}.projects",
            f"{', '.join(unknown)} not among billing account {account}'s projects",
            hint=f"its projects are: {', '.join(sorted(known)) or '(none)'}",
        )


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


class _Settings:
    def __init__(self, table: str, project: str, first: date, last: date) -> None:
        self.table, self.project, self.first, self.last = table, project, first, last

    @property
    def end(self) -> datetime:
        """The first instant after the last month."""
        year, month = (
            (self.last.year + 1, 1) if self.last.month == 12 else (self.last.year, self.last.month + 1)
        )
        return datetime(year, month, 1, tzinfo=UTC)

    @classmethod
    def of(cls, config: Config, source: SourceConfig) -> _Settings:
        raw: Mapping[str, Any] = source.options["bigquery"]
        key = f"{source.key}.bigquery"
        for name in raw:
            if name not in TABLE_KEYS:
                raise ConfigError(
                    f"{key}.{name}", "unknown key", hint=f"allowed: {', '.join(sorted(TABLE_KEYS))}"
                )
        table = raw.get("table")
        if not isinstance(table, str) or not TABLE_RE.match(table):
            raise ConfigError(
                f"{key}.table",
                f"expected project.dataset.table, got {table!r}",
                hint='e.g. "my-proj.carbon.carbon_footprint"',
            )
        project = raw.get("project", table.replace(":", ".").split(".")[0])
        if not isinstance(project, str) or not project:
            raise ConfigError(f"{key}.project", f"expected a project id, got {project!r}")
        first, end = _months(config, raw, key)
        last = (
            end.replace(year=end.year - 1, month=12) if end.month == 1 else end.replace(month=end.month - 1)
        )
        return cls(table, project, first, last)


def _months(config: Config, raw: Mapping[str, Any], key: str) -> tuple[date, date]:
    """First day of the first month, first day after the last month: the keys, or the window's months."""
    first, after = date_range(config, raw, key)
    after = _ceil_month(after)
    first = first.replace(day=1)
    if after <= first:
        raise ConfigError(f"{key}.end", f"{after} is not after {first}")
    return first, after


def _ceil_month(day: date) -> date:
    if day.day == 1:
        return day
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
