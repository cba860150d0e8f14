"""Predicting a run's total from its first steps, with an interval.

After k of N steps with per-step values x_1..x_k (energy, or duration), the total is predicted as the
observed sum plus (N - k) times their mean. The interval is Student's t interval of the mean, scaled to
the remaining steps:

    total = sum(x) + (N - k) * mean,   half-width = (N - k) * t(level, k - 1) * s / sqrt(k)

with s the sample standard deviation. It is the uncertainty of the per-step mean (steps assumed
independent and identically distributed), not a prediction interval for each remaining step: with
constant steps it collapses to the exact total, it narrows as k grows, and it is zero when k = N.
With fewer than two steps the spread is unknown and so is the interval (``low`` / ``high`` are None).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_LEVEL = 0.9


@dataclass(frozen=True, slots=True)
class Estimate:
    value: float
    low: float | None  # None: not enough steps to know the spread
    high: float | None
    level: float = DEFAULT_LEVEL

    def scaled(self, factor: float) -> Estimate:
        """The same estimate in another unit (kWh -> gCO2e): every bound times ``factor`` (>= 0)."""
        low = None if self.low is None else self.low * factor
        high = None if self.high is None else self.high * factor
        return Estimate(self.value * factor, low, high, self.level)


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom.

    Exact for df 1 and 2; otherwise the Cornish-Fisher expansion of Abramowitz & Stegun 26.7.5 around
    the normal quantile (error below 1e-3 from df 3 at p = 0.95, shrinking with df).
    """
    if not 0.0 < p < 1.0 or df < 1:
        raise ValueError(f"need 0 < p < 1 and df >= 1, got p={p}, df={df}")
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:  # the closed form for two degrees of freedom
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    z = statistics.NormalDist().inv_cdf(p)
    n = float(df)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / n + g2 / n**2 + g3 / n**3 + g4 / n**4


def predict_total(steps: Sequence[float], *, total_steps: int, level: float = DEFAULT_LEVEL) -> Estimate:
    """The predicted total over ``total_steps`` from the values of the steps done so far."""
    k = len(steps)
    if k == 0:
        raise ValueError("no step done yet: nothing to predict from")
    if total_steps < k:
        raise ValueError(f"{k} steps done, more than total_steps = {total_steps}")
    mean = statistics.fmean(steps)
    remaining = total_steps - k
    value = math.fsum(steps) + remaining * mean
    if remaining == 0:
        return Estimate(value, value, value, level)
    if k < 2:  # a spread needs two values
        return Estimate(value, None, None, level)
    spread = statistics.stdev(steps)
    half = remaining * t_quantile(0.5 + level / 2, k - 1) * spread / math.sqrt(k)
    return Estimate(value, max(value - half, math.fsum(steps)), value + half, level)
