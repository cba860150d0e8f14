"""The vectorised paths of codecarbon, github-usage and aws-carbon give exactly what their row paths give.

Every fixture, every bad-corpus file and generated files (hypothesis) are parsed twice, row by row
(``batches=False``) and at once (``batches=True``): the records (batches expanded, in order), the quality
issues (in order) or the error must be equal. The screen and the store are checked the same way. No
timings here: bench/run measures.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from batch_helpers import expanded
from hypothesis import given, settings
from hypothesis import strategies as st

import collectors._tabular_fast as tabular_fast
from collectors.aws_carbon_export import AwsCarbonExport
from collectors.base import SourceContext
from collectors.codecarbon_csv import CodecarbonCsv
from collectors.github_usage_csv import GithubUsageCsv
from sci.config import DEFAULT_MAX_POWER_W
from sci.errors import CollectorError
from sci.model import Item, RecordValueError
from sci.screen import screened
from sci.store import FileMeta, Store

ROOT = Path(__file__).parent
BERLIN = ZoneInfo("Europe/Berlin")
COLLECTORS: dict[str, Any] = {
    "codecarbon": CodecarbonCsv,
    "github-usage": GithubUsageCsv,
    "aws-carbon": AwsCarbonExport,
}
FILES = {
    "codecarbon": sorted((ROOT / "fixtures" / "codecarbon").glob("*.csv")),
    "github-usage": sorted((ROOT / "fixtures" / "ci").glob("github_usage*.csv")),
    "aws-carbon": sorted((ROOT / "fixtures" / "aws_carbon").glob("*.csv*")),
}
CORPUS = ROOT / "corpus" / "bad"


@pytest.fixture(autouse=True, scope="module")
def _small_files_read_at_once() -> Iterator[None]:
    """Every file here goes the vectorised way if it can (ingest leaves files under 1 MiB to the row path)."""
    saved = tabular_fast.MIN_BYTES
    tabular_fast.MIN_BYTES = 0
    yield
    tabular_fast.MIN_BYTES = saved


def _items(name: str, path: Path, *, batches: bool, **kw: Any) -> list[Item]:
    ctx = SourceContext(path=path, device="node", timezone=kw.pop("timezone", BERLIN), batches=batches, **kw)
    return list(COLLECTORS[name]().parse(ctx))


def _outcome(name: str, path: Path, *, batches: bool, **kw: Any) -> tuple[Any, Any, int]:
    """Records and issues in the order they came (or the error), and how many batches came."""
    try:
        return expanded(_items(name, path, batches=batches, **kw))
    except CollectorError as exc:
        return str(exc), exc.hint, 0
    except RecordValueError as exc:  # an overflowed figure: ingest reports it as the file's error there
        return "RecordValueError", str(exc), exc.line


def _same(name: str, path: Path, **kw: Any) -> int:
    """Both paths agree; gives the number of batches the vectorised path yielded."""
    slow = _outcome(name, path, batches=False, **kw)
    fast = _outcome(name, path, batches=True, **kw)
    assert fast[:2] == slow[:2]
    return fast[2]


@pytest.mark.parametrize(
    ("name", "path"),
    [(name, path) for name, paths in FILES.items() for path in paths],
    ids=lambda p: p.name if isinstance(p, Path) else p,
)
def test_fast_path_equals_row_path_on_every_fixture(name: str, path: Path) -> None:
    _same(name, path)


@pytest.mark.parametrize(
    ("name", "path"),
    [(name, path) for name in COLLECTORS for path in sorted((CORPUS / name).iterdir())],
    ids=lambda p: p.name if isinstance(p, Path) else p,
)
def test_fast_path_equals_row_path_on_the_bad_corpus(name: str, path: Path) -> None:
    _same(name, path)


def test_small_files_are_read_row_by_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular_fast, "MIN_BYTES", 1 << 20)
    path = ROOT / "fixtures" / "aws_carbon" / "carbon_emissions_v3_scopes.csv"
    assert _same("aws-carbon", path) == 0


@pytest.mark.parametrize("path", FILES["aws-carbon"], ids=lambda p: p.name)
def test_aws_columns_of_many_distinct_cells_read_the_same(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Times of many distinct cells are parsed by polars (one layout), not per distinct cell."""
    import polars as pl

    from collectors import _aws_carbon_fast

    monkeypatch.setattr(tabular_fast, "MAX_DISTINCT", 0)
    _same("aws-carbon", path)
    cells = pl.Series(
        ["2025-03-01 00:00:00Z", "2025-03-01T00:00:00", "2025-02-28 23:00:00.5Z", "2024-02-29 12:00:00"]
    )
    by_cell = _aws_carbon_fast._utc_us(SourceContext(path=path, device="d"), cells, "t")
    parsed = _aws_carbon_fast._parsed_us(cells)
    assert by_cell is not None
    assert parsed is not None
    assert by_cell.tolist() == parsed.tolist()
    assert _aws_carbon_fast._parsed_us(pl.Series(["2025-02-29 00:00:00Z"])) is None


def test_aws_model_version_option_reads_the_same(tmp_path: Path) -> None:
    path = ROOT / "fixtures" / "aws_carbon" / "carbon_emissions_v3_scopes.csv"
    for wanted in ("v3.0.0", "v2.0.0", " ", 3):
        _same("aws-carbon", path, options={"model_version": wanted})
    assert _same("aws-carbon", path, options={"model_version": "v3.0.0"}) > 0


# -- generated files ------------------------------------------------------------------------------------

_GOOD = st.one_of(
    st.floats(0, 1e3, allow_nan=False).map(repr),
    st.floats(-1, 1, allow_nan=False).map(lambda x: f"{x:.6f}"),
    st.floats(1e-9, 1e-3).map(lambda x: f"{x:e}"),
    st.sampled_from(["0", "0.0", "1", ".5", "5.", "-0.0", "1E-3", "+2"]),
)
_BAD = st.sampled_from(["", " 0.5", "1_0", "inf", "nan", "x", "1e999", "0.5 "])
_NUMBER = st.one_of(*[_GOOD] * 30, _BAD)
"""A number cell: mostly plain, now and then empty or one the row path refuses."""
_GOOD_OR_EMPTY = st.one_of(*[_GOOD] * 10, st.just(""))


def _odd(*kinds: str) -> st.SearchStrategy[str | None]:
    """A row's oddity: mostly none."""
    return st.sampled_from([None] * 25 + list(kinds))


def _write(text: str, suffix: str = ".csv") -> Callable[[Callable[[Path], None]], None]:
    def run(check: Callable[[Path], None]) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"file{suffix}"
            path.write_bytes(text.encode("utf-8"))
            check(path)

    return run


def _cut(draw: st.DrawFn, text: str) -> str:
    return text[: -draw(st.integers(1, 4))] if draw(st.integers(0, 9)) == 0 else text


# codecarbon

_CC_COLUMNS = ["timestamp", "project_name", "run_id", "duration", "emissions", "cpu_energy", "gpu_energy"]
_CC_OPTIONAL = ["ram_energy", "cpu_model", "pue"]
_CC_STARTS = [datetime(2026, 6, 1, 12), datetime(2026, 10, 25, 1, 30), datetime(2026, 3, 29, 1, 40)]
_CC_ODD = _odd("space-id", "space", "quote", "blank", "header", "offset", "crlf", "duration", "pue")
_CC_MODEL = st.sampled_from(
    ["AMD EPYC", "Intel(R) Xeon(R) Platinum 8370C", "", " Apple M1 ", "AMD EPYC 7B13"]
)


@st.composite
def codecarbon_files(draw: st.DrawFn) -> str:
    columns = _CC_COLUMNS + [c for c in _CC_OPTIONAL if draw(st.booleans())]
    lines = [",".join(columns)]
    moment = draw(st.sampled_from(_CC_STARTS))
    plain = draw(st.booleans())  # no oddity: the vectorised path must take it
    number = _GOOD_OR_EMPTY if plain else _NUMBER
    started: dict[str, datetime] = {}
    for i in range(draw(st.integers(0, 25))):
        moment += timedelta(seconds=draw(st.sampled_from([60.0, 600.0, 0.5, 0.0, -30.0, 1800.0])))
        odd = None if plain else draw(_CC_ODD)
        stamp = moment.isoformat(sep=draw(st.sampled_from(["T", "T", " "])))
        run = draw(st.sampled_from(["", "a", "b", f"r{i}", f"r{i}"]))
        duration = draw(st.sampled_from(["510.6363007159541", "0", "12.5", "3e2", "0.0000005", "7.0000005"]))
        if run in started and moment >= started[run] and draw(st.booleans()):  # a cumulative row of a run
            duration = repr(
                (moment - started[run]).total_seconds() + draw(st.sampled_from([0.0, 0.4, 1.9, 3.0]))
            )
        started.setdefault(run, moment - timedelta(seconds=float(duration)))
        cells = {
            "timestamp": stamp + ("+02:00" if odd == "offset" else ""),
            "project_name": '"a,b"' if odd == "quote" else "p",
            "run_id": " a" if odd == "space-id" else run,
            "duration": duration if odd != "duration" else "-1",
            "emissions": draw(number),
            "cpu_energy": draw(number),
            "gpu_energy": draw(number),
            "ram_energy": draw(number),
            "cpu_model": draw(_CC_MODEL),
            "pue": draw(st.sampled_from(["1.0", "1.2", "", "1.58"])) if odd != "pue" else "0",
        }
        if odd == "space":
            cells["duration"] = " " + cells["duration"]
        lines.append(",".join(cells[c] for c in columns) + ("\r" if odd == "crlf" else ""))
        if odd == "blank":
            lines.append("")
        if odd == "header":
            lines.append(lines[0])
    text = "\n".join(lines) + "\n"
    return text if plain else _cut(draw, text)


@settings(max_examples=200, deadline=None)
@given(text=codecarbon_files())
def test_codecarbon_fast_path_equals_row_path_on_generated_files(text: str) -> None:
    _write(text)(lambda path: _same("codecarbon", path))


def test_codecarbon_fast_path_is_taken_on_a_plain_file(tmp_path: Path) -> None:
    lines = ["timestamp,run_id,duration,emissions,cpu_energy,gpu_energy,ram_energy,cpu_model"]
    start = datetime(2026, 10, 24, 12)
    for i in range(300):  # across the DST fold of 2026-10-25 in Berlin
        stamp = (start + timedelta(minutes=7 * i)).isoformat()
        lines.append(f"{stamp},r{i},{400 + i * 0.37},{i * 1e-6},{i * 1e-5},0.0,{2e-4 + i * 1e-7},AMD EPYC")
    path = tmp_path / "emissions.csv"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    assert _same("codecarbon", path) > 0
    _, issues, _ = expanded(_items("codecarbon", path, batches=True))
    assert {i.kind for i in issues} == {"ambiguous-local-time", "tool-estimate"}


# github-usage

_GH_HEADER = "Date,Product,SKU,Quantity,Unit Type,Price Per Unit ($),Multiplier,Owner,Repository Slug"
_GH_SKU = st.sampled_from(
    ["Compute - UBUNTU", "Compute - WINDOWS", "Compute - MACOS", "Compute - UBUNTU_16_CORE", "Compute - FOO"]
)
_GH_ODD = _odd("quote", "blank", "header", "ragged", "space", "date", "storage", "sku")


@st.composite
def github_files(draw: st.DrawFn) -> str:
    lines = [_GH_HEADER]
    plain = draw(st.booleans())
    for _ in range(draw(st.integers(0, 25))):
        odd = None if plain else draw(_GH_ODD)
        product, unit = (
            ("Shared Storage", "gb-day") if odd == "storage" or draw(st.booleans()) else ("Actions", "minute")
        )
        if draw(st.integers(0, 5)) == 0:
            product, unit = draw(
                st.sampled_from([("ACTIONS", "Minutes"), ("Actions", "gb-day"), ("Packages", "gb")])
            )
        day = draw(st.sampled_from(["2023-01-20", "2023-01-21", "2023-12-31"]))
        if odd == "date":
            day = draw(
                st.sampled_from(
                    ["2023-02-30", "2023-1-2", "2023-01-20T00:00:00Z", "2023-01-20 23:00:00-02:00"]
                )
            )
        row = [
            day,
            product,
            (draw(_GH_SKU) if odd == "sku" else draw(_GH_SKU.filter(lambda s: "FOO" not in s)))
            if product.lower() == "actions"
            else "Shared Storage",
            draw(_GOOD) if plain else draw(st.one_of(_NUMBER, st.sampled_from(["3", "1e13", "-2"]))),
            unit,
            "0.008",
            "1.0",
            "acme",
            "repo",
        ]
        if odd == "space":
            row[1] = " " + row[1]
        text = ",".join(row + (["x"] if odd == "ragged" else []))
        lines.append(f'"{text}"' if odd == "quote" else text)
        if odd == "blank":
            lines.append("")
        if odd == "header":
            lines.append(_GH_HEADER)
    text = "\n".join(lines) + "\n"
    return text if plain else _cut(draw, text)


@settings(max_examples=200, deadline=None)
@given(text=github_files())
def test_github_usage_fast_path_equals_row_path_on_generated_files(text: str) -> None:
    _write(text)(lambda path: _same("github-usage", path))


def test_github_usage_fast_path_is_taken_on_a_plain_file(tmp_path: Path) -> None:
    lines = [_GH_HEADER]
    for i in range(500):
        product = "Shared Storage,Shared Storage" if i % 7 in (3, 4) else "Actions,Compute - UBUNTU"
        lines.append(
            f"2023-01-{1 + i % 28:02d},{product},{i % 13},{'gb-day' if i % 7 in (3, 4) else 'minute'},0,1,a,r"
        )
    path = tmp_path / "usage.csv"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    assert _same("github-usage", path) > 0


# aws-carbon

_AWS_V3 = (ROOT / "fixtures" / "aws_carbon" / "carbon_emissions_v3_scopes.csv").read_text().splitlines()[0]
_AWS_V2 = "model_version,usage_account_id,product_code,usage_period_start,usage_period_end," + (
    "total_lbm_emissions_value,total_lbm_emissions_unit,total_mbm_emissions_value,total_mbm_emissions_unit"
)
_AWS_ODD = _odd("version", "unit", "blank", "quote", "space", "swap", "noz", "empty")
_AWS_FIGURE = st.one_of(
    st.sampled_from(["0.001000", "0.000500", "0.000000", "0.012345", "", "1.7e302"]),
    st.floats(0, 0.1).map(lambda x: f"{x:.6f}"),
)


@st.composite
def aws_files(draw: st.DrawFn) -> str:
    header = draw(st.sampled_from([_AWS_V3, _AWS_V2]))
    columns = header.split(",")
    lines = [header]
    plain = draw(st.booleans())
    for i in range(draw(st.integers(0, 25))):
        odd = None if plain else draw(_AWS_ODD)
        month = draw(st.sampled_from([1, 2, 2, 3]))
        start = f"2025-{month:02d}-{draw(st.sampled_from(['01', '01', '15'])):s} 00:00:00Z"
        end = f"2025-{month + 1:02d}-01 00:00:00Z"
        if odd == "swap":
            start, end = end, start
        parts = [draw(_AWS_FIGURE) for _ in range(5)]
        total = f"{sum(float(p or 0) for p in parts[:3]) + draw(st.sampled_from([0.0, 0.0, 1e-3])):.6f}"
        cells = {c: "MTCO2e" for c in columns if c.endswith("_unit")}
        cells |= {
            "last_refresh_timestamp": draw(
                st.sampled_from(["2025-04-20 06:12:45Z", "2025-02-10 00:00:00Z", ""])
            ),
            "location": "US East",
            "model_version": "v2.0.0" if odd == "version" else "v3.0.0",
            "payer_account_id": "1",
            "product_code": draw(st.sampled_from(["AmazonEC2", "", "AmazonS3"])),
            "region_code": draw(st.sampled_from(["us-east-1", ""])),
            "total_lbm_emissions_value": "" if odd == "empty" else total,
            "total_mbm_emissions_value": draw(_AWS_FIGURE),
            "total_scope_1_emissions_value": parts[0],
            "total_scope_2_lbm_emissions_value": parts[1],
            "total_scope_2_mbm_emissions_value": parts[3],
            "total_scope_3_lbm_emissions_value": parts[2],
            "total_scope_3_mbm_emissions_value": parts[4],
            "usage_account_id": draw(st.sampled_from(["111122223333", ""])) + ("" if i % 3 else "9"),
            "usage_period_end": end.replace("Z", "") if odd == "noz" else end,
            "usage_period_start": start,
        }
        if odd == "unit":
            cells["total_lbm_emissions_unit"] = draw(st.sampled_from(["kgCO2e", "mtco2e"]))
        if odd == "space":
            cells["location"] = " US East"
        text = ",".join(cells[c] for c in columns)
        lines.append(f'"{text}"' if odd == "quote" else text)
        if odd == "blank":
            lines.append("")
    text = "\n".join(lines) + "\n"
    return text if plain else _cut(draw, text)


@settings(max_examples=200, deadline=None)
@given(text=aws_files(), wanted=st.sampled_from([None, "v3.0.0"]))
def test_aws_carbon_fast_path_equals_row_path_on_generated_files(text: str, wanted: str | None) -> None:
    options = {} if wanted is None else {"model_version": wanted}
    _write(text)(lambda path: _same("aws-carbon", path, options=options))


def test_aws_carbon_fast_path_is_taken_on_a_plain_export(tmp_path: Path) -> None:
    lines = [_AWS_V3]
    fixture = (ROOT / "fixtures" / "aws_carbon" / "carbon_emissions_v3_scopes.csv").read_text().splitlines()
    lines.extend(fixture[1:] * 50)
    path = tmp_path / "carbon.csv"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    assert _same("aws-carbon", path) > 0


# -- screen and store -----------------------------------------------------------------------------------


def _mixed_codecarbon(tmp_path: Path) -> Path:
    """Plain rows with negative energies and power above the ceiling in the middle."""
    lines = ["timestamp,run_id,duration,emissions,cpu_energy,gpu_energy,ram_energy,cpu_model"]
    start = datetime(2026, 6, 1, 12)
    for i in range(400):
        cpu = "-0.5" if i == 150 else "50.0" if 100 <= i < 110 else f"{1e-4 * (1 + i % 5)}"
        lines.append(
            f"{(start + timedelta(minutes=10 * i)).isoformat()},r{i},60.0,1e-5,{cpu},0.0,1e-5,EPYC 7B13"
        )
    path = tmp_path / "emissions.csv"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def test_screen_drops_and_counts_the_same_rows(tmp_path: Path) -> None:
    path = _mixed_codecarbon(tmp_path)
    got = [
        expanded(list(screened(_items("codecarbon", path, batches=b), DEFAULT_MAX_POWER_W, "node")))[:2]
        for b in (False, True)
    ]
    order = {"cpu": 0, "gpu": 1, "dram": 2}
    assert sorted(got[1][0], key=lambda r: (r.line, order[r.component])) == got[0][0]
    assert sorted(got[1][1], key=repr) == sorted(got[0][1], key=repr)
    assert {i.kind for i in got[1][1]} >= {"absurd-value", "negative-value"}


@pytest.mark.parametrize(
    ("name", "fixture"),
    [
        ("codecarbon", ""),
        ("aws-carbon", "aws_carbon/carbon_emissions_scope_mismatch.csv"),
        ("aws-carbon", "aws_carbon/carbon_emissions_v2_totals.csv.gz"),
        ("github-usage", "ci/github_usage_report_legacy_andymckay_example.csv"),
    ],
)
def test_store_holds_the_same_rows_from_batches(tmp_path: Path, name: str, fixture: str) -> None:
    path = ROOT / "fixtures" / fixture if fixture else _mixed_codecarbon(tmp_path)
    stored = []
    for batches in (False, True):
        meta = FileMeta(
            path=f"e-{batches}.csv",
            sha256=str(batches),
            size_bytes=1,
            collector=name,
            collector_version="1",
            platform="p",
            source_key="cli",
            options_digest="",
        )
        with Store(tmp_path / f"s{batches}.duckdb") as store:
            items = screened(_items(name, path, batches=batches), DEFAULT_MAX_POWER_W, "node")
            counts = store.replace_file(meta, items)
            rows = store._con.execute(
                "SELECT * EXCLUDE (rowid, file_id) FROM samples ORDER BY line, component, scope"
            ).fetchall()
            issues = store._con.execute(
                "SELECT * EXCLUDE (file_id) FROM quality_issues ORDER BY ALL"
            ).fetchall()
            ordered = store._con.execute("SELECT distinct_intervals FROM files").fetchall()
        stored.append((counts, rows, issues, ordered))
    assert stored[0] == stored[1]
    assert _same(name, path) > 0


# -- pieces -----------------------------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(seconds=st.one_of(st.floats(0, 1e10), st.integers(0, 10**9).map(lambda us: us / 1e6 + 0.5e-6)))
def test_durations_round_as_timedelta_does(seconds: float) -> None:
    import numpy as np

    from collectors._codecarbon_fast import _timedelta_us

    expected = timedelta(seconds=seconds) // timedelta(microseconds=1)
    assert int(_timedelta_us(np.array([seconds]))[0]) == expected


@pytest.mark.parametrize(
    "text",
    [
        "a,b,c\n1,2,3,4\n5,6\n",  # as many commas in all, not on every line
        "a,b,c\n1,2\n3,4,5,6\n",
        "a,b,c\n1,2,3\n\n4,5,6\n",
        "a,b,c\n1,2,3\n \n4,5,6\n",
        'a,b,c\n1,"2",3\n',
        "a,b,c\r\n1,2,3\r\n",
        "a,b,c\n1,2,3",
        "a\n1\n",
        "\ufeffa,b\n1,\xff\n",
    ],
)
def test_only_plain_files_are_read_at_once(tmp_path: Path, text: str) -> None:
    from collectors._tabular_fast import plain_csv

    path = tmp_path / "t.csv"
    path.write_bytes(text.encode("utf-8").replace("\xff".encode(), b"\xff"))
    assert plain_csv(SourceContext(path=path, device="d"), lambda header: range(len(header))) is None


def test_a_plain_file_reads_as_text_columns(tmp_path: Path) -> None:
    from collectors._tabular_fast import plain_csv

    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffa,b,c\n1,,x y\n2, 3,é\n".encode())
    table = plain_csv(SourceContext(path=path, device="d"), lambda header: [0, 2])
    assert table is not None
    assert table.header == ["a", "b", "c"]
    assert table.frame.rows() == [("1", "x y"), ("2", "é")]
    assert table.column(2).to_list() == ["x y", "é"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("codecarbon", "timestamp,run_id,duration,cpu_energy\n0000-06-01T12:00:00,r,1.0,0.1\n"),
        ("codecarbon", "timestamp,run_id,duration,cpu_energy\n9999-12-31T23:00:00,r,1.0,0.1\n"),
        ("codecarbon", "timestamp,run_id,duration,cpu_energy\n0001-01-01T00:30:00,r,7200.0,0.1\n"),
        ("github-usage", _GH_HEADER + "\n0000-01-20,Actions,Compute - UBUNTU,3,minute,0,1,a,r\n"),
        ("github-usage", _GH_HEADER + "\n9999-12-31,Actions,Compute - UBUNTU,3,minute,0,1,a,r\n"),
    ],
)
def test_times_at_the_ends_of_the_calendar_read_the_same(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="ascii")
    _same(name, path)


def test_aws_times_beyond_python_datetime_are_left_to_the_row_path() -> None:
    import polars as pl

    from collectors import _aws_carbon_fast

    assert _aws_carbon_fast._parsed_us(pl.Series(["0000-03-01 00:00:00Z"])) is None


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("codecarbon", "timestamp,run_id,duration,cpu_energy,pue\n2026-06-01T12:00:00,r,1.0,1e10,1e-300\n"),
        ("codecarbon", "timestamp,run_id,duration,emissions,cpu_energy\n2026-06-01T12:00:00,r,1.0,1e306,1\n"),
        ("aws-carbon", _AWS_V2 + "\nv2,1,EC2,2025-03-01 00:00:00Z,2025-04-01 00:00:00Z,1e303,MTCO2e,,\n"),
    ],
)
def test_figures_that_overflow_fail_as_on_the_row_path(tmp_path: Path, name: str, text: str) -> None:
    """A figure that is infinite once converted fails both paths alike: a CollectorError naming the line
    where the collector checks it (aws-carbon), else the Record's RecordValueError, which ingest reports
    as the file's error at the record's line."""
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="ascii")
    outcomes = []
    for batches in (False, True):
        with pytest.raises((RecordValueError, CollectorError)) as caught:
            _items(name, path, batches=batches)
        outcomes.append((type(caught.value), str(caught.value), getattr(caught.value, "line", None)))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][2] == 2
