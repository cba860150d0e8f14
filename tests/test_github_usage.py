"""The github-usage collector (GitHub's usage report CSV) against its fixtures, bad input and properties."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from ci_helpers import FIXTURES, error_of, parse, parse_bytes
from hypothesis import given, settings
from strategies import file_bytes

from collectors._ci import sku_runner
from collectors.github_usage_csv import METHOD, GithubUsageCsv
from sci.model import Action, IssueKind, Tier

C = GithubUsageCsv()
HEADER = (
    "Date,Product,SKU,Quantity,Unit Type,Price Per Unit ($),Multiplier,Owner,Repository Slug,Username,"
    "Actions Workflow,Notes\n"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "usage.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_legacy_report_minutes_by_sku_never_multiplied() -> None:
    records, issues = parse(C, FIXTURES / "github_usage_report_legacy_emmercm_blog_excerpt.csv")
    assert issues == []
    assert [(r.line, r.runtime_s, r.device_model, r.resource_share) for r in records] == [
        (2, 660.0, "AMD EPYC 7763", 0.03125),
        (3, 120.0, "AMD EPYC 7763", 0.03125),
        (4, 180.0, "AMD EPYC 7763", 0.03125),
        (5, 600.0, "AMD EPYC 7763", 0.03125),
        (6, 60.0, "AMD EPYC 7763", 0.03125),
        (7, 1200.0, "Apple M1", 0.375),  # Compute - MACOS, Multiplier 10.0 not applied
        (8, 1320.0, "AMD EPYC 7763", 0.03125),  # Compute - WINDOWS, Multiplier 2.0 not applied
        (9, 2460.0, "AMD EPYC 7763", 0.03125),
        (10, 24120.0, "Apple M1", 0.375),
        (11, 4560.0, "AMD EPYC 7763", 0.03125),
    ]
    first = records[0]
    assert (first.start_utc, first.end_utc) == (
        datetime(2023, 11, 3, tzinfo=UTC),
        datetime(2023, 11, 4, tzinfo=UTC),
    )
    assert (first.tier, first.method, first.utilisation, first.tdp_w, first.device) == (
        Tier.PROXY,
        METHOD,
        0.5,
        None,
        "ci",
    )
    assert sum(r.runtime_s or 0 for r in records) == 588 * 60


def test_storage_rows_are_excluded_in_runs() -> None:
    records, issues = parse(C, FIXTURES / "github_usage_report_legacy_andymckay_example.csv")
    assert [r.runtime_s for r in records] == [60.0, 60.0, 2040.0, 180.0, 660.0]
    assert [(i.kind, i.action, i.line_start, i.line_end, i.rows) for i in issues] == [
        (IssueKind.EXCLUDED, Action.DROPPED, 2, 2, 1),
        (IssueKind.EXCLUDED, Action.DROPPED, 5, 8, 4),
        (IssueKind.EXCLUDED, Action.DROPPED, 11, 11, 1),
        (IssueKind.EXCLUDED, Action.DROPPED, 13, 14, 2),
    ]
    assert "Shared Storage" in issues[0].detail


def test_enhanced_billing_report_with_a_quoted_row_and_a_larger_runner() -> None:
    records, issues = parse(C, FIXTURES / "github_usage_report_enhanced_billing.csv")
    assert [(r.line, r.runtime_s, r.resource_share) for r in records] == [
        (2, 6000.0, 0.03125),  # Actions Linux
        (4, 600.0, 0.03125),  # the row wrapped whole in quotes: Actions Windows
        (5, 1800.0, 16 / 128),  # Actions Linux 16-core
    ]
    assert [(i.kind, i.line_start, i.rows) for i in issues] == [
        (IssueKind.EXCLUDED, 3, 1),
        (IssueKind.EXCLUDED, 6, 1),
    ]
    assert "Copilot" in issues[1].detail


def test_a_cut_off_last_line_is_truncated() -> None:
    records, issues = parse(C, FIXTURES / "github_usage_report_legacy_andymckay_truncated.csv")
    assert [r.line for r in records] == [3, 4, 9, 10]
    assert (issues[-1].kind, issues[-1].line_start) == (IssueKind.TRUNCATED, 11)


@pytest.mark.parametrize(
    ("sku", "runner"),
    [
        ("Compute - UBUNTU", "github-linux"),
        ("Compute - UBUNTU_16_CORE", "github-linux-16-core"),
        ("Compute - WINDOWS_8_CORE", "github-windows-8-core"),
        ("Compute - MACOS", "github-macos"),
        ("Actions Linux", "github-linux"),
        ("actions_linux_4_core", "github-linux-4-core"),
        ("Actions macOS", "github-macos"),
        ("Compute - UBUNTU_GPU", None),
        ("Shared Storage", None),
    ],
)
def test_skus_name_runners(sku: str, runner: str | None) -> None:
    assert sku_runner(sku) == runner


def test_an_unknown_sku_is_an_error_naming_it_and_the_option(tmp_path: Path) -> None:
    path = write(
        tmp_path, HEADER + "2023-11-03,Actions,Compute - UBUNTU_GPU_4_CORE,5,minute,0.07,1.0,o,r,u,w,\n"
    )
    err = error_of(C, path)
    assert err.line == 2
    assert "'Compute - UBUNTU_GPU_4_CORE'" in err.message
    assert 'runners = { "Compute - UBUNTU_GPU_4_CORE" = {' in err.hint
    (record,), _ = parse(C, path, runners={"Compute - UBUNTU_GPU_4_CORE": {"vcpus": 4, "tdp_w": 300.0}})
    assert (record.runtime_s, record.tdp_w, record.resource_share) == (300.0, 300.0, 1.0)


def test_runners_option_overrides_the_table_and_utilisation(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2023-11-03,Actions,Compute - UBUNTU,5,minute,0.008,1.0,o,r,u,w,\n")
    (record,), _ = parse(C, path, runners={"github-linux": {"vcpus": 2}}, utilisation_pct=20.0)
    assert (record.resource_share, record.device_model, record.utilisation) == (2 / 128, "AMD EPYC 7763", 0.2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Date,Product\n", "no sku, quantity, unit_type column"),
        ("", "empty"),
        (HEADER + "2023-11-03,Actions,Compute - UBUNTU,lots,minute,0.008,1.0,o,r,u,w,\n", "not a number"),
        (HEADER + "2023-11-03,Actions,Compute - UBUNTU,nan,minute,0.008,1.0,o,r,u,w,\n", "not a number"),
        (HEADER + "03/11/2023,Actions,Compute - UBUNTU,1,minute,0.008,1.0,o,r,u,w,\n", "ISO 8601"),
        (HEADER + "9999-12-31,Actions,Compute - UBUNTU,1,minute,0.008,1.0,o,r,u,w,\n", "ISO 8601"),
        (HEADER + "2023-11-03,Actions,Compute - UBUNTU,1,minute\n", "5 fields"),
        (HEADER + '2023-11-03,"Actions,Compute - UBUNTU,1,minute,0.008,1.0,o,r,u,w,\n', "CSV"),
    ],
)
def test_bad_files_are_errors(tmp_path: Path, text: str, message: str) -> None:
    assert message in error_of(C, write(tmp_path, text)).message


def test_negative_minutes_reach_the_screen(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2023-11-03,Actions,Compute - UBUNTU,-3,minute,0.008,1.0,o,r,u,w,\n")
    (record,), _ = parse(C, path)
    assert record.runtime_s == -180.0  # sci/screen.py drops and counts it (negative-value)


def test_a_repeated_header_is_skipped(tmp_path: Path) -> None:
    row = "2023-11-03,Actions,Compute - UBUNTU,1,minute,0.008,1.0,o,r,u,w,\n"
    records, _ = parse(C, write(tmp_path, HEADER + row + HEADER + row))
    assert [r.line for r in records] == [2, 4]


@settings(max_examples=200)
@given(data=file_bytes(max_size=500))
def test_arbitrary_bytes_give_records_or_a_collector_error(data: bytes) -> None:
    parse_bytes(C, data)
    parse_bytes(C, HEADER.encode() + data)
