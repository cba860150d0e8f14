"""Test-wide settings.

Hypothesis: no per-example deadline and no "too slow" health check. The first example of a property
pays for lazy imports (a collector module, DuckDB), and CI shares two cores with other work; neither says
anything about the code under test. Speed is measured in ``bench/``, never asserted here.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile("sci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("sci")
