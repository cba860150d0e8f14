"""The report: its context (golden file), the HTML page, the PDF and the chart.

The golden file ``tests/golden/report_context.json`` is ``build_context`` of the fixture
``tests/fixtures/results/team_result.json`` with a fixed ``generated_at``. After an intended change to
the report's content, refresh it and review the diff::

    SCI_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_report.py -k golden

The PDF tests render page 1 with ``pdftoppm`` (poppler-utils) to look at its pixels; they are skipped,
with that reason, where the binary is missing.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from reports import paths
from reports.charts import PALETTE, pie_chart_svg, slice_colour
from reports.context import build_context, format_number, round_significant
from reports.html import render_html
from reports.paths import templates_dir
from reports.pdf import write_pdf
from sci.engine import sci_over_periods
from sci.errors import SciError
from sci.results import ComputeResult, PlatformResult

TESTS = Path(__file__).resolve().parent
FIXTURE = TESTS / "fixtures" / "results" / "team_result.json"
FIXTURE_V1 = TESTS / "fixtures" / "results" / "team_result_v1.json"  # stored before ranges and insights
GOLDEN = TESTS / "golden" / "report_context.json"
GENERATED_AT = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def result() -> ComputeResult:
    return ComputeResult.from_json(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report_html(result: ComputeResult) -> str:
    return render_html(result, generated_at=GENERATED_AT)


def _platform(result: ComputeResult, name: str) -> PlatformResult:
    return next(p for p in result.platforms if p.platform == name)


def _replace_platform(result: ComputeResult, name: str, **changes: Any) -> ComputeResult:
    platforms = tuple(
        dataclasses.replace(p, **changes) if p.platform == name else p for p in result.platforms
    )
    return dataclasses.replace(result, platforms=platforms)


def _dump(context: dict[str, Any]) -> str:
    return json.dumps(context, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# --- the fixture ---------------------------------------------------------------------------------------


def test_fixture_is_internally_consistent(result: ComputeResult) -> None:
    """The fixture's numbers obey the engine's formulas, so the report's working can add up."""
    assert [p.platform for p in result.platforms] == ["laptops", "gpu-servers", "ci"]
    for p in result.platforms:
        assert math.isclose(p.energy_kwh, sum(x.energy_kwh for x in p.periods), rel_tol=1e-9)
        assert math.isclose(p.energy_kwh, p.it_energy_kwh * p.pue, rel_tol=1e-6)
        assert math.isclose(p.it_energy_kwh, sum(p.it_energy_by_tier_kwh.values()), rel_tol=1e-6)
        assert math.isclose(p.operational_g, p.energy_kwh * p.intensity_g_per_kwh, rel_tol=1e-9)
        assert math.isclose(p.embodied_g, sum(line.embodied_g for line in p.embodied_lines), rel_tol=1e-9)
        assert math.isclose(p.carbon_g, p.operational_g + p.provider_carbon_g + p.embodied_g, rel_tol=1e-9)
        assert math.isclose(p.annual_carbon_g, p.carbon_g * 365 / result.window_days, rel_tol=1e-9)
        sci = sci_over_periods((x.carbon_g, x.functional_units) for x in p.periods)
        assert (sci is None) == (p.sci_g_per_unit is None)
        if sci is not None and p.sci_g_per_unit is not None:
            assert math.isclose(sci, p.sci_g_per_unit, rel_tol=1e-9)
    assert _platform(result, "laptops").sci_g_per_unit is None
    assert _platform(result, "laptops").unit is None
    assert _platform(result, "ci").periods_without_r == ("2026-09",)
    assert len(result.quality) >= 3


# --- the context ---------------------------------------------------------------------------------------


def test_context_matches_golden(result: ComputeResult) -> None:
    context = build_context(result, generated_at=GENERATED_AT)
    if os.environ.get("SCI_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(_dump(context), encoding="utf-8")
    golden_text = GOLDEN.read_text(encoding="utf-8")
    assert context == json.loads(golden_text)
    assert _dump(context) == golden_text  # same order too


def test_context_is_json_safe_and_holds_no_local_paths(result: ComputeResult) -> None:
    context = build_context(result, generated_at=GENERATED_AT)
    text = json.dumps(context, allow_nan=False)
    assert json.loads(text) == context
    for local in {str(Path.cwd()), str(templates_dir()), str(TESTS.parent)}:
        assert local not in text


def test_context_keeps_the_result_order(result: ComputeResult) -> None:
    context = build_context(result, generated_at=GENERATED_AT)
    assert [p["name"] for p in context["platforms"]] == [p.platform for p in result.platforms]
    assert [f["path"] for f in context["files"]] == [f.path for f in result.files]
    assert [q["file"] for q in context["quality"]["rows"]] == [q.file for q in result.quality]
    assert [p["colour"] for p in context["platforms"]] == list(PALETTE[:3])


def test_context_headline(result: ComputeResult) -> None:
    headline = build_context(result, generated_at=GENERATED_AT)["headline"]
    assert headline["total"] == {"value": 4762.63, "text": "4,763", "unit": "kgCO2e"}
    assert headline["annual"]["text"] == "28,498"
    assert headline["annual"]["unit"] == "kgCO2e/year"
    assert headline["annualisation_method"] == "linear: window total \u00d7 365 / window days"
    assert headline["annualisation_working"].endswith("/ 61 days = 28,498 kgCO2e/year")
    assert headline["sci_defined_count"] == 2


def test_working_shows_each_step_with_the_result_numbers(result: ComputeResult) -> None:
    platforms = {p["name"]: p for p in build_context(result, generated_at=GENERATED_AT)["platforms"]}
    gpu = {s["symbol"]: s for s in platforms["gpu-servers"]["working"]}
    assert gpu["E"]["substitution"] == "8,181 kWh \u00d7 1.4"
    assert gpu["E"]["result"] == "11,454 kWh"
    assert gpu["E\u00b7I"]["result"] == "4,158 kgCO2e"
    assert gpu["M"]["substitution"] == "2 \u00d7 3,100 kg \u00d7 1,464 h / 43,800 h \u00d7 1"
    assert gpu["SCI"]["substitution"] == "(4,158 + 207.2) kgCO2e / 46 training runs"
    assert gpu["SCI"]["result"] == "94,891 gCO2e per unit of R"

    # R declared for October only: the SCI uses October's carbon and R, and says so.
    ci = {s["symbol"]: s for s in platforms["ci"]["working"]}
    assert ci["SCI"]["substitution"] == "89.54 kgCO2e (2026-10) / 6,460 pipeline runs"
    assert ci["SCI"]["result"] == "13.86 gCO2e per unit of R"
    assert "2026-09 left out of the SCI" in platforms["ci"]["r_periods_note"]

    laptops = {s["symbol"]: s for s in platforms["laptops"]["working"]}
    assert laptops["SCI"]["result"] == "undefined (R not declared)"
    assert platforms["laptops"]["sci"] == {
        "defined": False,
        "value": None,
        "text": "undefined",
        "unit": "gCO2e per unit of R",
        "undefined_reason": "R not declared",
    }


def test_sci_with_r_zero_is_undefined_never_the_raw_carbon(result: ComputeResult) -> None:
    gpu = _platform(result, "gpu-servers")
    periods = tuple(dataclasses.replace(x, functional_units=0.0) for x in gpu.periods)
    changed = _replace_platform(
        result, "gpu-servers", periods=periods, functional_units=0.0, sci_g_per_unit=None
    )
    platform = build_context(changed, generated_at=GENERATED_AT)["platforms"][1]
    assert platform["sci"]["text"] == "undefined"
    assert platform["sci"]["undefined_reason"] == "R = 0"
    assert [m["sci"]["undefined_reason"] for m in platform["periods"]] == ["R = 0", "R = 0"]
    row = _table_rows(render_html(changed, generated_at=GENERATED_AT), "sci-table")[1]
    assert row[0] == "gpu-servers"
    assert row[8] == "undefined R = 0"
    assert row[6] == "4,365"  # the carbon stays in its column, not in the SCI one


def test_provider_carbon_gets_a_column_and_a_working_step(result: ComputeResult) -> None:
    ci = _platform(result, "ci")
    changed = _replace_platform(result, "ci", provider_carbon_g=12_500.0, carbon_g=ci.carbon_g + 12_500.0)
    context = build_context(changed, generated_at=GENERATED_AT)
    assert context["has_provider_carbon"] is True
    steps = {s["symbol"]: s for s in context["platforms"][2]["working"]}
    assert steps["P"]["result"] == "12.5 kgCO2e"
    assert steps["SCI"]["formula"].startswith("\u03a3(E\u00b7I + P + M)")
    assert build_context(result, generated_at=GENERATED_AT)["has_provider_carbon"] is False
    headers = _table_rows(render_html(changed, generated_at=GENERATED_AT), "sci-table", header=True)[0]
    assert "Provider kgCO2e" in headers


def test_context_requires_an_aware_generated_at(result: ComputeResult) -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        build_context(result, generated_at=datetime(2026, 11, 3, 9, 0))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (11_454.04, "11,454"),
        (4_157_802.2, "4,157,802"),
        (999.96, "1,000"),
        (98.314, "98.31"),
        (1.4, "1.4"),
        (1.15, "1.15"),
        (1.0, "1"),
        (0.0123456, "0.01235"),
        (0.0, "0"),
        (-2.5, "\u22122.5"),
        (3.2e-5, "3.2\u00d710\u207b\u2075"),
        (math.nan, "not a number"),
    ],
)
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("value", "rounded"),
    [(4762.6340184931505, 4762.63), (0.000123456789, 0.000123457), (-0.0, 0.0), (1e21 / 3, 3.33333e20)],
)
def test_round_significant(value: float, rounded: float) -> None:
    assert round_significant(value) == rounded


def test_round_significant_maps_non_finite_to_none() -> None:
    assert round_significant(math.inf) is None
    assert round_significant(math.nan) is None


# --- the HTML page -------------------------------------------------------------------------------------


class _Collector(HTMLParser):
    """Tags, URL-bearing attributes, <style> text and table cells of an HTML document."""

    URL_ATTRIBUTES = frozenset({"src", "href", "srcset", "poster", "data", "action", "background"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.style = ""
        self.tables: dict[str, list[list[str]]] = {}
        self.headers: dict[str, list[list[str]]] = {}
        self._in_style = False
        self._table: str | None = None
        self._in_head = False
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        attributes = dict(attrs)
        self.urls.extend(value or "" for name, value in attrs if name in self.URL_ATTRIBUTES)
        if tag == "style":
            self._in_style = True
        elif tag == "table":
            self._table = (attributes.get("class") or "").split()[-1]
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in {"td", "th"} and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
        elif tag == "thead":
            self._in_head = False
        elif tag in {"td", "th"} and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            target = self.headers if self._in_head else self.tables
            target.setdefault(self._table, []).append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        if self._cell is not None:
            self._cell.append(data)


def _parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def _table_rows(html: str, table_class: str, *, header: bool = False) -> list[list[str]]:
    parsed = _parse(html)
    return (parsed.headers if header else parsed.tables)[table_class]


def test_html_embeds_the_pie_and_the_trend_as_data_uris(report_html: str) -> None:
    parsed = _parse(report_html)
    images = [u for u in parsed.urls if u.startswith("data:image/svg+xml;base64,")]
    assert len(images) == 2
    assert re.search(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+" alt="Pie chart', report_html)
    assert re.search(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+" alt="Bar chart', report_html)
    trend = base64.b64decode(images[1].removeprefix("data:image/svg+xml;base64,")).decode("utf-8")
    for colour in PALETTE[:3]:
        assert f"fill: {colour.lower()}" in trend
    svg = base64.b64decode(images[0].removeprefix("data:image/svg+xml;base64,")).decode("utf-8")
    assert "<svg" in svg
    for colour in PALETTE[:3]:
        assert f"fill: {colour.lower()}" in svg


def test_html_references_nothing_remote(report_html: str) -> None:
    parsed = _parse(report_html)
    assert parsed.urls, "expected at least the chart's data: URI"
    for url in parsed.urls:
        assert not url.lower().startswith(("http:", "https:", "//", "ftp:")), url
        assert url.startswith("data:"), url
    assert "link" not in parsed.tags
    assert "script" not in parsed.tags
    assert "url(" not in parsed.style
    assert "@import" not in parsed.style


def test_html_inlines_the_css(report_html: str) -> None:
    css = (templates_dir() / "report.css").read_text(encoding="utf-8")
    parsed = _parse(report_html)
    assert "@page" in parsed.style
    assert css.strip() in parsed.style
    assert "size: A4 portrait" in parsed.style


def test_html_escapes_user_supplied_strings(result: ComputeResult) -> None:
    attribute_breaker = '"><img src=x onerror=alert(2)>'
    hostile = _replace_platform(result, "gpu-servers", platform=HOSTILE, unit=attribute_breaker)
    hostile = dataclasses.replace(
        hostile,
        title=HOSTILE,
        files=(dataclasses.replace(hostile.files[0], path=f"data/{HOSTILE}.txt"), *hostile.files[1:]),
    )
    html = render_html(hostile, generated_at=GENERATED_AT)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    parsed = _parse(html)
    assert parsed.tags.count("img") == 2  # the two charts, and no injected one
    assert "script" not in parsed.tags
    rows = _table_rows(html, "sci-table")
    assert rows[1][0] == HOSTILE  # shown as text
    assert rows[1][7] == f"46 {attribute_breaker}"
    assert _table_rows(html, "source-table")[0][0] == f"data/{HOSTILE}.txt"


def test_html_says_undefined_for_the_platform_without_r(report_html: str) -> None:
    rows = {row[0]: row for row in _table_rows(report_html, "sci-table")}
    assert rows["laptops"][7] == "not declared"
    assert rows["laptops"][8] == "undefined R not declared"
    assert rows["gpu-servers"][8] == "94,891"
    assert rows["ci"][8] == "13.86*"
    assert rows["Total"][-1] == "28,498"
    assert "laptops: SCI undefined (R not declared)" in report_html


def test_html_sections_are_all_there(report_html: str) -> None:
    for heading in (
        "Where the carbon is",
        "SCI by platform",
        "By month",
        "The working",
        "Factors used",
        "Data quality",
        "Sources",
        "Methodology",
    ):
        assert f">{heading}<" in report_html
    assert "linear: window total \u00d7 365 / window days" in report_html
    assert "2026-09-01 00:00 UTC &rarr; 2026-11-01 00:00 UTC" in report_html or (
        "2026-09-01 00:00 UTC \u2192 2026-11-01 00:00 UTC" in report_html
    )
    assert "factor" in report_html.lower()
    assert "2026.10.1" in report_html


def test_html_monthly_breakdown_has_every_period(result: ComputeResult, report_html: str) -> None:
    rows = _table_rows(report_html, "month-table")
    expected = sum(len(p.periods) for p in result.platforms)
    assert len(rows) == expected
    months = [row[1] if row[0] in {"laptops", "gpu-servers", "ci"} else row[0] for row in rows]
    assert months == ["2026-09", "2026-10"] * 3


def test_html_quality_rows_and_sources(result: ComputeResult, report_html: str) -> None:
    quality = _table_rows(report_html, "quality-table")
    assert [row[0] for row in quality] == [q.file for q in result.quality]
    assert quality[0][6] == "16,920 4.7 h"
    sources = _table_rows(report_html, "source-table")
    assert len(sources) == len(result.files)
    first = result.files[0]
    assert f'<code title="{first.sha256}">' in report_html
    assert sources[0][1].startswith(first.sha256[:12])


def test_html_says_so_when_there_are_no_quality_findings(result: ComputeResult) -> None:
    html = render_html(dataclasses.replace(result, quality=()), generated_at=GENERATED_AT)
    assert "No data-quality findings" in html
    assert "quality-table" not in html


def test_html_with_no_platforms_still_renders(result: ComputeResult) -> None:
    empty = dataclasses.replace(result, platforms=(), files=(), factors=(), quality=())
    html = render_html(empty, generated_at=GENERATED_AT)
    assert "No source files were recorded" in html
    assert "No factors were recorded" in html


def test_importing_the_report_modules_is_cheap() -> None:
    code = (
        "import sys\n"
        "import reports, reports.context, reports.charts, reports.html, reports.pdf, reports.paths\n"
        "heavy = sorted(m for m in ('matplotlib', 'weasyprint', 'jinja2') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=TESTS.parent
    )
    assert done.stdout.strip() == ""


def test_templates_dir_prefers_the_wheel_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel, checkout = tmp_path / "site-packages" / "reports" / "templates", tmp_path / "repo" / "templates"
    monkeypatch.setattr(paths, "_CANDIDATES", (wheel, checkout))
    with pytest.raises(SciError, match="report templates not found"):
        templates_dir()
    checkout.mkdir(parents=True)
    (checkout / "report.html.j2").write_text("x", encoding="utf-8")
    assert templates_dir() == checkout
    wheel.mkdir(parents=True)
    (wheel / "report.html.j2").write_text("x", encoding="utf-8")
    assert templates_dir() == wheel


def test_templates_dir_in_this_checkout() -> None:
    directory = templates_dir()
    assert (directory / "report.html.j2").is_file()
    assert (directory / "report.css").is_file()


# --- the PDF -------------------------------------------------------------------------------------------


def _pdf_page_count(data: bytes) -> int:
    """Page objects in a PDF, looking inside compressed object streams too."""
    chunks = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return sum(len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", chunk)) for chunk in chunks)


def _pdftoppm() -> str:
    binary = shutil.which("pdftoppm")
    if binary is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: apt-get install poppler-utils")
    return binary


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


def test_pdf_is_written_with_pages(
    tmp_path: Path, report_html: str, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "report.pdf"
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        write_pdf(report_html, target)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    data = target.read_bytes()
    assert data.startswith(b"%PDF-")
    assert _pdf_page_count(data) >= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]  # no temporary file left


def test_pdf_page_one_shows_the_pie(tmp_path: Path, report_html: str) -> None:
    binary = _pdftoppm()
    from matplotlib import image

    target = tmp_path / "report.pdf"
    write_pdf(report_html, target)
    subprocess.run(
        [binary, "-r", "150", "-f", "1", "-l", "1", "-png", str(target), str(tmp_path / "page")],
        check=True,
        capture_output=True,
    )
    (png,) = tmp_path.glob("page*.png")
    pixels = image.imread(str(png))
    rgb = (pixels[..., :3] * 255).round().astype(int)
    counts = {}
    for index in range(4):
        colour = slice_colour(index)
        close = (abs(rgb - _rgb(colour)) <= 6).all(axis=-1)
        counts[colour] = int(close.sum())
    # At 150 dpi even the smallest slice (ci, 3.6 %) covers ~1,700 pixels, while the table swatches of
    # the same colour cover ~250 together: the counts are only reached with the pie drawn.
    assert counts[slice_colour(0)] > 1_000, counts
    assert counts[slice_colour(1)] > 30_000, counts
    assert counts[slice_colour(2)] > 1_000, counts
    assert counts[slice_colour(3)] == 0, counts  # a fourth colour: only three platforms


def _colour_counts(pdf: Path, out: Path, binary: str) -> dict[str, int]:
    """Pixels of each platform colour over every page of ``pdf`` (150 dpi)."""
    from matplotlib import image

    subprocess.run(
        [binary, "-r", "150", "-png", str(pdf), str(out / "page")], check=True, capture_output=True
    )
    counts = dict.fromkeys((slice_colour(i) for i in range(3)), 0)
    for png in sorted(out.glob("page*.png")):
        rgb = (image.imread(str(png))[..., :3] * 255).round().astype(int)
        for colour in counts:
            counts[colour] += int((abs(rgb - _rgb(colour)) <= 6).all(axis=-1).sum())
        png.unlink()
    return counts


def test_pdf_pages_show_the_trend_chart(tmp_path: Path, report_html: str) -> None:
    binary = _pdftoppm()
    with_trend, without = tmp_path / "with.pdf", tmp_path / "without.pdf"
    write_pdf(report_html, with_trend)
    bare = re.sub(r'<img src="data:image/svg\+xml;base64,[^"]+" alt="Bar chart[^"]*">', "", report_html)
    assert bare != report_html
    write_pdf(bare, without)
    full, pie_only = _colour_counts(with_trend, tmp_path, binary), _colour_counts(without, tmp_path, binary)
    # The bars add each platform's colour: gpu-servers' two tall bars most, ci's and laptops' short ones less.
    assert full[slice_colour(1)] - pie_only[slice_colour(1)] > 20_000, (full, pie_only)
    assert full[slice_colour(0)] - pie_only[slice_colour(0)] > 500, (full, pie_only)
    assert full[slice_colour(2)] - pie_only[slice_colour(2)] > 500, (full, pie_only)


class _RecordingServer:
    """A TCP listener on 127.0.0.1 that counts the connections made to it (it never answers)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.port: int = self.socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def __enter__(self) -> _RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.socket.close()


@pytest.fixture
def recording_server() -> Iterator[_RecordingServer]:
    with _RecordingServer() as server:
        yield server


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


REMOTE_REFERENCES = {
    "img": '<img src="{url}/x.png" alt="">',
    "stylesheet": '<link rel="stylesheet" href="{url}/x.css">',
    "css-url": '<div style="background-image: url({url}/x.png)">x</div>',
}


@pytest.mark.parametrize("kind", sorted(REMOTE_REFERENCES))
def test_pdf_refuses_remote_resources_without_connecting(
    tmp_path: Path, report_html: str, recording_server: _RecordingServer, kind: str
) -> None:
    reference = REMOTE_REFERENCES[kind].format(url=f"http://127.0.0.1:{recording_server.port}")
    html = report_html.replace("</body>", reference + "\n</body>")
    target = tmp_path / "report.pdf"
    with pytest.raises(SciError, match="may not be fetched") as raised:
        write_pdf(html, target)
    assert "data: URIs" in raised.value.hint
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
    assert recording_server.connections == 0


def test_names_referencing_http_render_as_text_in_html_and_pdf_without_connecting(
    tmp_path: Path, result: ComputeResult, recording_server: _RecordingServer
) -> None:
    url = f"http://127.0.0.1:{recording_server.port}"
    image = f'<img src="{url}/x.png">'
    hostile = _replace_platform(result, "gpu-servers", platform=image, unit=f"{url}/unit.css")
    hostile = dataclasses.replace(hostile, title=f'<link rel="stylesheet" href="{url}/x.css">')
    from sci.app import write_report

    written = write_report(hostile, tmp_path, generated_at=GENERATED_AT)
    html = written.html.read_text(encoding="utf-8")
    assert written.pdf is not None
    assert written.pdf.read_bytes().startswith(b"%PDF-")
    assert f'src="{url}' not in html
    assert f'href="{url}' not in html
    assert f"&lt;img src=&#34;{url}/x.png&#34;&gt;" in html  # autoescaped: shown as text
    assert recording_server.connections == 0


REMOTE = re.compile(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//|url\(\s*[\"']?(?:https?:)?//")


def test_templates_reference_nothing_remote() -> None:
    for template in templates_dir().rglob("*"):
        if template.is_file():
            text = template.read_text(encoding="utf-8")
            assert not REMOTE.search(text), template


def test_pdf_with_a_closed_port_fails_and_leaves_the_old_pdf(tmp_path: Path, report_html: str) -> None:
    target = tmp_path / "report.pdf"
    target.write_bytes(b"%PDF- the previous report")
    html = report_html.replace("</body>", f'<img src="http://127.0.0.1:{_closed_port()}/x.png"></body>')
    with pytest.raises(SciError, match=r"disallowed protocol: http://127\.0\.0\.1"):
        write_pdf(html, target)
    assert target.read_bytes() == b"%PDF- the previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]


def test_pdf_into_a_missing_directory_is_a_sci_error(tmp_path: Path) -> None:
    with pytest.raises(SciError, match=r"cannot write .*report\.pdf") as raised:
        write_pdf("<p>x</p>", tmp_path / "missing" / "report.pdf")
    assert "directory exists" in raised.value.hint


# --- the chart -----------------------------------------------------------------------------------------


def test_pie_svg_is_deterministic() -> None:
    first = pie_chart_svg(["a", "b", "c"], [3.0, 2.0, 1.0], title="t", unit="kg")
    second = pie_chart_svg(["a", "b", "c"], [3.0, 2.0, 1.0], title="t", unit="kg")
    assert first == second
    assert first != pie_chart_svg(["a", "b", "c"], [3.0, 2.0, 1.5], title="t", unit="kg")
    assert first.startswith("<?xml")
    assert "<dc:date>" not in first


def test_pie_svg_draws_text_as_paths() -> None:
    svg = pie_chart_svg(["laptops"], [1.0], title="Annualised kgCO2e by platform")
    assert "<text" not in svg
    assert "DejaVuSans" in svg  # glyph paths are named after the font they come from


def test_pie_leaves_out_zero_and_negative_values_and_says_so() -> None:
    svg = pie_chart_svg(["a", "zero", "b", "minus"], [3.0, 0.0, 1.0, -2.0], title="t", unit="kg")
    assert f"fill: {slice_colour(0).lower()}" in svg
    assert f"fill: {slice_colour(2).lower()}" in svg
    assert f"fill: {slice_colour(1).lower()}" not in svg
    assert f"fill: {slice_colour(3).lower()}" not in svg
    assert "Not shown (zero or negative): zero (0 kg); minus (\u22122 kg)" in svg.replace("-2", "\u22122")


def test_empty_pie_is_a_placeholder() -> None:
    svg = pie_chart_svg(["a", "b"], [0.0, 0.0], title="t")
    assert "No platform has a positive value to chart." in svg
    for colour in PALETTE:
        assert f"fill: {colour.lower()}" not in svg
    assert "No platform has a positive value" in pie_chart_svg([], [], title="t")


def test_pie_labels_are_text_not_mathtext() -> None:
    svg = pie_chart_svg(["cost $5 $ fixed", "b"], [1.0, 1.0], title="price in $")
    assert "cost $5 $ fixed" in svg


def test_pie_needs_one_value_per_label() -> None:
    with pytest.raises(ValueError, match="2 labels for 1 values"):
        pie_chart_svg(["a", "b"], [1.0], title="t")


def test_the_html_report_gets_ordinary_file_permissions(tmp_path: Path) -> None:
    # Review finding: report.html was written with mkstemp's 0600, unreadable for the rest of the team.
    from sci.app import write_report

    result = ComputeResult.from_json(FIXTURE.read_text(encoding="utf-8"))
    old = os.umask(0o022)
    try:
        written = write_report(result, tmp_path, pdf=False)
    finally:
        os.umask(old)
    assert written.html.stat().st_mode & 0o777 == 0o644


# --- uncertainty, trend, devices, insights, equivalents ------------------------------------------------


def test_old_results_without_the_new_fields_still_load_and_render() -> None:
    old = ComputeResult.from_json(FIXTURE_V1.read_text(encoding="utf-8"))
    assert old.top_devices == ()
    assert old.platforms[0].carbon_low_g is None
    context = build_context(old, generated_at=GENERATED_AT)
    assert context["headline"]["total_range"] is None
    assert context["uncertainty"] == []
    html = render_html(old, generated_at=GENERATED_AT)
    assert "computed before sci-report stated uncertainty" in html
    assert "No per-device figures in the result" in html
    assert _table_rows(html, "sci-table")[0][9] == "not computed"


def test_ranges_are_shown_per_platform_and_in_total(result: ComputeResult, report_html: str) -> None:
    context = build_context(result, generated_at=GENERATED_AT)
    gpu = context["platforms"][1]["ranges"]
    assert gpu["carbon"]["low"] < context["platforms"][1]["carbon"]["value"] < gpu["carbon"]["high"]
    assert gpu["carbon_linear"]["low"] <= gpu["carbon"]["low"]
    assert gpu["sci"]["low"] < context["platforms"][1]["sci"]["value"] < gpu["sci"]["high"]
    assert context["platforms"][0]["ranges"]["sci"] is None  # laptops: SCI undefined, no range
    rows = {row[0]: row for row in _table_rows(report_html, "sci-table")}
    assert rows["gpu-servers"][9].startswith(gpu["carbon"]["text"])
    assert rows["Total"][-3] == context["headline"]["total_range"]["text"]
    assert [u["key"] for u in context["uncertainty"]] == [
        "measured",
        "provider-reported",
        "proxy-estimated",
        "embodied",
        "grid_intensity",
    ]
    assert [row[0] for row in _table_rows(report_html, "range-table")] == ["laptops", "gpu-servers", "ci"]


def test_trend_has_every_month_and_platform(result: ComputeResult) -> None:
    trend = build_context(result, generated_at=GENERATED_AT)["trend"]
    assert trend["periods"] == ["2026-09", "2026-10"]
    assert [s["label"] for s in trend["series"]] == ["laptops", "gpu-servers", "ci"]
    assert trend["alt"].startswith("Bar chart, kgCO2e by month and platform (kgCO2e): 2026-09: laptops")


def test_one_month_says_there_is_no_previous_month(result: ComputeResult) -> None:
    one = dataclasses.replace(
        result, platforms=tuple(dataclasses.replace(p, periods=p.periods[-1:]) for p in result.platforms)
    )
    context = build_context(one, generated_at=GENERATED_AT)
    months = [i["text"] for i in context["insights"] if i["kind"] == "month"]
    assert months == [
        f"{name}: 2026-10: no previous month in the window." for name in ("laptops", "gpu-servers", "ci")
    ]
    assert context["trend"]["alt"].endswith("Only one month is in the window.")
    html = render_html(one, generated_at=GENERATED_AT)
    assert "One month in the window: no trend yet." in html


def test_insights_name_idle_gpus_the_lowest_zone_and_the_monthly_change(result: ComputeResult) -> None:
    insights = build_context(result, generated_at=GENERATED_AT)["insights"]
    kinds = [i["kind"] for i in insights]
    assert kinds == ["idle", "zone", "zone", "zone", "hour", "month", "month", "month"]
    idle = insights[0]
    assert idle["platform"] == "gpu-servers"
    assert idle["idle_energy"]["value"] == 850.5
    assert "2 GPUs drew 850.5 kWh (12% of their measured GPU energy)" in idle["text"]
    assert "under 5% utilisation: 432.2 kgCO2e" in idle["text"]
    gpu_zone, ci_zone, laptops_zone = insights[1:4]
    assert gpu_zone["text"].startswith(
        "gpu-servers: its IT energy in Sweden (aws:eu-north-1) at 8 gCO2e/kWh (data year unknown), the "
        "lowest of the cloud regions (aws, azure, gcp) in the bundled Cloud Carbon Footprint table, at "
        "aws's PUE 1.135"
    )
    assert "moving this on-premises workload to a cloud region" in ci_zone["text"]
    assert "Lesotho" not in " ".join(i["text"] for i in insights)  # no country: none is a place to move to
    assert laptops_zone["text"] == (
        "laptops: lower-carbon region not assessed: its devices are end-user devices (laptop), which run "
        "where people work."
    )
    assert "no hourly data" in insights[4]["text"]
    gpu = insights[6]
    assert gpu["text"].startswith("gpu-servers: 2026-10 ")
    assert "vs 2026-09" in gpu["text"]


def test_no_idle_evidence_is_said_not_invented(result: ComputeResult) -> None:
    insights = build_context(dataclasses.replace(result, idle_gpus=()), generated_at=GENERATED_AT)["insights"]
    assert insights[0]["text"].startswith("Idle GPUs: not assessed.")


def test_top_devices_list_their_source_files(result: ComputeResult, report_html: str) -> None:
    rows = _table_rows(report_html, "top-devices-table")
    assert [row[0] for row in rows] == [d.device for d in result.top_devices]
    assert rows[0][6] == "data/gpu/gpu-01-2026-09.nvidia-smi.csv data/gpu/gpu-01-2026-10.nvidia-smi.csv"


def test_equivalents_name_their_source_and_year(result: ComputeResult, report_html: str) -> None:
    equivalents = build_context(result, generated_at=GENERATED_AT)["equivalents"]
    assert [e["key"] for e in equivalents] == ["car_km", "household_day", "flight"]
    for e in equivalents:
        assert e["source"]
        assert e["year"] >= 2024
        assert e["licence"]
        assert e["verified"]
    car = equivalents[0]
    assert math.isclose(car["factor"]["value"], 0.393 / 1.609344, rel_tol=1e-5)
    assert math.isclose(car["window"]["value"], 4762.63 / car["factor"]["value"], rel_tol=1e-4)
    factors = _table_rows(report_html, "equivalent-factor-table")
    assert len(factors) == 3
    assert "EPA" in factors[0][3]
    assert factors[0][4] == "2024"


def test_new_sections_escape_user_supplied_names(result: ComputeResult) -> None:
    hostile = _replace_platform(result, "gpu-servers", platform=HOSTILE)
    hostile = dataclasses.replace(
        hostile,
        top_devices=tuple(
            dataclasses.replace(d, device=HOSTILE, platform=HOSTILE, files=(f"{HOSTILE}.csv",))
            for d in hostile.top_devices
        ),
        idle_gpus=tuple(dataclasses.replace(d, device=HOSTILE, platform=HOSTILE) for d in hostile.idle_gpus),
        zone_alternatives=tuple(dataclasses.replace(z, platform=HOSTILE) for z in hostile.zone_alternatives),
    )
    html = render_html(hostile, generated_at=GENERATED_AT)
    assert "<script" not in html.lower()
    parsed = _parse(html)
    assert "script" not in parsed.tags
    assert parsed.tags.count("img") == 2
    assert _table_rows(html, "top-devices-table")[0][:2] == [HOSTILE, HOSTILE]
    assert _table_rows(html, "range-table")[1][0] == HOSTILE
    assert "&lt;script&gt;alert(1)&lt;/script&gt;: 2 GPUs drew" in html


# --- as a reader sees it: chromium ----------------------------------------------------------------------


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        binary = shutil.which(name)
        if binary:
            return binary
    pytest.skip("chromium is not installed: apt-get install chromium (./dev test installs it)")


def _screenshot(html: str, tmp_path: Path, *, height: int = 3000) -> Path:
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    png = tmp_path / "shot.png"
    subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={png}",
            f"--window-size=1200,{height}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
        cwd=tmp_path,
    )
    return png


def test_chromium_renders_the_charts_and_tables(tmp_path: Path, report_html: str) -> None:
    from matplotlib import image

    png = _screenshot(report_html, tmp_path)
    pixels = image.imread(str(png))
    assert pixels.shape[:2] == (3000, 1200)
    rgb = (pixels[..., :3] * 255).round().astype(int)
    colours = {tuple(c) for c in rgb.reshape(-1, 3)[::7]}
    assert len(colours) > 50, len(colours)  # text anti-aliasing, charts, table shading: not a blank page
    for index in range(3):  # each platform's colour fills pie slices and bars, not only the swatches
        close = (abs(rgb - _rgb(slice_colour(index))) <= 6).all(axis=-1)
        assert int(close.sum()) > 1_000, (slice_colour(index), int(close.sum()))
    white = (rgb >= 250).all(axis=-1).mean()
    assert 0.3 < white < 0.97, white
