"""Uncertainty of a carbon figure: relative errors per term, combined in quadrature.

Pure functions, keyword-only. The model (see docs/methodology.md):

- every term of a platform's carbon has a relative (1-sigma-like) uncertainty: an operational term
  E_tier x I carries the tier's energy uncertainty and the grid intensity's, combined in quadrature
  (``product_relative``); provider-reported carbon carries the provider tier's; M carries the embodied one;
- terms are assumed INDEPENDENT, so their absolute errors add in quadrature:
  sigma = sqrt(sum((value_i x r_i)^2)); the range is value +/- sigma;
- a fully correlated bound (every error in the same direction) is the linear sum sum(|value_i| x r_i):
  always at least as wide, shown beside as the worst case;
- R is a count and exact: SCI bounds are the carbon bounds (of the months with R) divided by R; annual
  bounds are the window's bounds scaled by 365 / window days.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

DEFAULT_RELATIVE: Final[Mapping[str, float]] = {
    "measured": 0.10,
    "provider-reported": 0.20,
    "proxy-estimated": 0.40,
    "embodied": 0.50,
    "grid_intensity": 0.10,
}
"""Default relative uncertainties; the rationale for each is in docs/methodology.md."""

KEYS: Final = tuple(DEFAULT_RELATIVE)


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a carbon sum (gCO2e) with its relative uncertainty (0.1 = +/-10 %)."""

    value_g: float
    relative: float


@dataclass(frozen=True, slots=True)
class Bounds:
    """A value with its range: ``low``/``high`` in quadrature (independent errors), ``linear_*`` fully
    correlated (the worst case)."""

    value: float
    low: float
    high: float
    linear_low: float
    linear_high: float

    def scaled(self, *, factor: float) -> Bounds:
        """The same range for ``value x factor`` (``factor`` > 0): SCI (1/R) and annual (365/days)."""
        if factor <= 0:
            raise ValueError(f"scale factor must be > 0, got {factor}")
        return Bounds(
            value=self.value * factor,
            low=self.low * factor,
            high=self.high * factor,
            linear_low=self.linear_low * factor,
            linear_high=self.linear_high * factor,
        )


def product_relative(*relatives: float) -> float:
    """Relative uncertainty of a product of independent factors (E x I): sqrt(sum(r_i^2))."""
    return math.sqrt(sum(r * r for r in relatives))


def combine(*, terms: Iterable[Term], value: float | None = None) -> Bounds:
    """The sum of ``terms`` with its range: quadrature for independent errors, linear for correlated.

    ``value`` (optional) centres the range on a total computed elsewhere (the result's carbon_g), so
    that a zero uncertainty gives exactly ``low == high == value``.
    """
    total = 0.0
    variance = 0.0
    linear = 0.0
    for term in terms:
        if term.relative < 0:
            raise ValueError(f"relative uncertainty must be >= 0, got {term.relative}")
        error = abs(term.value_g) * term.relative
        total += term.value_g
        variance += error * error
        linear += error
    sigma = math.sqrt(variance)
    if value is None:
        value = total
    return Bounds(
        value=value,
        low=value - sigma,
        high=value + sigma,
        linear_low=value - linear,
        linear_high=value + linear,
    )


def sci_bounds(*, carbon: Bounds, functional_units: float | None) -> Bounds | None:
    """SCI bounds: the carbon bounds (of the months with R) divided by R; ``None`` when SCI is undefined."""
    if functional_units is None or functional_units <= 0:
        return None
    return carbon.scaled(factor=1.0 / functional_units)


def operational_terms(
    *, operational_g_by_tier: Mapping[str, float], relative: Mapping[str, float]
) -> list[Term]:
    """E_tier x I terms: each tier's relative energy error with the grid intensity's, in quadrature."""
    grid = relative["grid_intensity"]
    return [
        Term(value_g=value, relative=product_relative(relative[tier], grid))
        for tier, value in sorted(operational_g_by_tier.items())
        if value != 0
    ]
