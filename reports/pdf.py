"""The PDF report: WeasyPrint prints the HTML, fetching data: and file: URLs only."""

from __future__ import annotations

from pathlib import Path

from reports.paths import templates_dir
from sci.errors import SciError
from sci.files import write_atomically

ALLOWED_PROTOCOLS = frozenset({"data", "file"})
"""What the PDF may load: the embedded chart (data:) and files next to the templates (file:).
Anything else (http:, https:, ftp:) stops the rendering before a connection is made."""


def write_pdf(html: str, target: Path) -> None:
    """Print ``html`` to ``target`` as PDF (A4 pages, from the template's print CSS).

    The PDF is written to a temporary file in the target's directory and renamed into place, so a
    failure never leaves a half-written PDF (an existing ``target`` is then left as it was).
    """
    target = Path(target)
    write_atomically(target, _render(html, target))


def _render(html: str, target: Path) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    fetcher = URLFetcher(allowed_protocols=set(ALLOWED_PROTOCOLS), fail_on_errors=True)
    document = HTML(string=html, base_url=str(templates_dir()), url_fetcher=fetcher)
    try:
        data: bytes = document.write_pdf()
    except FatalURLFetchingError as exc:  # a BaseException: `except Exception` would not catch it
        cause = exc.__cause__ or exc
        raise SciError(
            f"the PDF report {target} was not written: it refers to a resource that may not be fetched "
            f"({cause})",
            hint="the report must be self-contained: embed images as data: URIs and inline the CSS; "
            f"only {' and '.join(sorted(ALLOWED_PROTOCOLS))} URLs are allowed",
        ) from exc
    return data
