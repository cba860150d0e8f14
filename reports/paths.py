"""Where the report's templates are, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

from sci.errors import SciError

_PACKAGE_DIR = Path(__file__).resolve().parent

# In the wheel, pyproject force-includes "templates" as "reports/templates" (next to this module);
# in a source checkout they sit at <repo>/templates, next to the package.
_CANDIDATES = (_PACKAGE_DIR / "templates", _PACKAGE_DIR.parent / "templates")

TEMPLATE_NAME = "report.html.j2"


def templates_dir() -> Path:
    """The directory holding ``report.html.j2`` and ``report.css``: the wheel's first, then the checkout's."""
    for candidate in _CANDIDATES:
        if (candidate / TEMPLATE_NAME).is_file():
            return candidate
    looked = ", ".join(str(c) for c in _CANDIDATES)
    raise SciError(
        f"report templates not found (looked in {looked})",
        hint="reinstall sci-report: the wheel ships them as reports/templates",
    )
