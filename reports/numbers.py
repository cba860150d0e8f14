"""Numbers for the report: rounded ``value`` for machines, formatted ``text`` for people."""

from __future__ import annotations

import math
from typing import Any, Final

VALUE_SIGNIFICANT_FIGURES: Final = 6
"""Precision of every ``value`` in the context (and so of the golden file)."""

DISPLAY_SIGNIFICANT_FIGURES: Final = 4
"""Precision of every ``text``: 4 significant figures, whole numbers from 1,000 up."""


def quantity(value: float, unit: str) -> dict[str, Any]:
    """``{"value", "text", "unit"}`` of a number."""
    return {"value": round_significant(value), "text": format_number(value), "unit": unit}


def round_significant(value: float, figures: int = VALUE_SIGNIFICANT_FIGURES) -> float | None:
    """``value`` rounded to ``figures`` significant figures; ``None`` for NaN and infinities."""
    if not math.isfinite(value):
        return None
    if value == 0:
        return 0.0
    digits = figures - 1 - math.floor(math.log10(abs(value)))
    return float(round(value, digits)) + 0.0  # + 0.0 turns -0.0 into 0.0


def format_number(value: float, figures: int = DISPLAY_SIGNIFICANT_FIGURES) -> str:
    """A number for people: ``11,454``, ``98.3``, ``1.15``, ``0.0123``, ``3.2\u00d710\u207b\u2075``.

    Whole numbers with thousands separators from 10**(figures-1) up; otherwise ``figures`` significant
    figures without trailing zeros; scientific notation below 0.001.
    """
    if not math.isfinite(value):
        return "not a number"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 10 ** (figures - 1):
        return _minus(f"{round(value):,}")
    if magnitude >= 1e-3:
        decimals = max(figures - 1 - math.floor(math.log10(magnitude)), 0)
        text = f"{value:,.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return _minus(text)
    mantissa, exponent = f"{value:.{figures - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return _minus(f"{mantissa}\u00d710{str(int(exponent)).translate(_SUPERSCRIPT)}")


_SUPERSCRIPT: Final = str.maketrans(
    "-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)


def _minus(text: str) -> str:
    return text.replace("-", "\u2212", 1) if text.startswith("-") else text
