"""The self-contained HTML report: CSS inlined, the charts embedded as data: URIs, nothing fetched."""

from __future__ import annotations

import base64
import math
from datetime import datetime

from reports.context import build_context
from reports.paths import TEMPLATE_NAME, templates_dir
from sci.results import ComputeResult


def render_html(result: ComputeResult, *, generated_at: datetime) -> str:
    """The report for ``result`` as one HTML document that needs no other file and no network.

    The template includes ``report.css`` into a ``<style>`` element; every value from the result is
    autoescaped, so platform names, paths and units always render as text.
    """
    import jinja2

    from reports.charts import bar_chart_svg, pie_chart_svg

    context = build_context(result, generated_at=generated_at)
    chart = context["chart"]
    values = [math.nan if v is None else float(v) for v in chart["values"]]
    svg = pie_chart_svg(chart["labels"], values, title=chart["title"], unit=chart["unit"])
    trend = context["trend"]
    series = [
        (s["index"], s["label"], [math.nan if v is None else float(v) for v in s["values"]])
        for s in trend["series"]
    ]
    trend_svg = bar_chart_svg(trend["periods"], series, title=trend["title"], unit=trend["unit"])
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    template = environment.get_template(TEMPLATE_NAME)
    return template.render(
        **context, chart_data_uri=svg_data_uri(svg), trend_data_uri=svg_data_uri(trend_svg)
    )


def svg_data_uri(svg: str) -> str:
    """``data:image/svg+xml;base64,...``: safe inside an attribute, whatever the SVG holds."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
