"""The report: what a ComputeResult shows a team lead, an ML engineer and an auditor.

- ``reports.context``: ``build_context`` turns a result into a JSON-safe dict (golden-tested);
- ``reports.charts``: ``pie_chart_svg`` draws the one chart with matplotlib;
- ``reports.html``: ``render_html`` renders the self-contained HTML page;
- ``reports.pdf``: ``write_pdf`` prints that HTML to PDF with WeasyPrint, fetching nothing remote;
- ``reports.paths``: ``templates_dir`` finds the templates in a wheel or a source checkout.

Importing any of these is cheap: matplotlib, Jinja2 and WeasyPrint are imported when first used.
"""
