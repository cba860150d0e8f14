"""``Tracker``: measure a training loop from inside it, and predict its total from the first steps."""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType

from sci.measure import kfp
from sci.measure.backends import BackendOptions
from sci.measure.figures import Factors, Footprint, footprint, zone_factors
from sci.measure.predict import DEFAULT_LEVEL, Estimate, predict_total
from sci.measure.sampler import DEFAULT_INTERVAL_S
from sci.measure.session import Session
from sci.units import J_PER_KWH


class Prediction:
    """Predicted totals after ``steps_done`` of ``total_steps``; carbon is None without a location."""

    def __init__(
        self,
        *,
        steps_done: int,
        total_steps: int,
        energy_kwh: Estimate,
        duration_s: Estimate,
        factors: Factors,
    ) -> None:
        self.steps_done = steps_done
        self.total_steps = total_steps
        self.energy_kwh = energy_kwh
        self.duration_s = duration_s
        intensity = factors.intensity_g_per_kwh
        self.carbon_g = None if intensity is None else energy_kwh.scaled(intensity)

    def __repr__(self) -> str:
        return (
            f"Prediction(steps_done={self.steps_done}, total_steps={self.total_steps}, "
            f"energy_kwh={self.energy_kwh}, carbon_g={self.carbon_g}, duration_s={self.duration_s})"
        )


class Tracker:
    """Measure the energy of the code between ``start()`` and ``stop()`` (or a ``with`` block).

    Call ``step()`` (or ``epoch()``) at the end of each of ``total_steps`` units of work: each call takes
    a sample, so the energy per step is measured, not interpolated; call it at most a few times a
    second (per epoch, or every n batches). ``predict()`` then gives the total with an interval (see
    ``sci.measure.predict``). Energies are E: device energy x ``pue``. ``location`` (a country) or
    ``region`` (``"aws:eu-west-1"``) gives the grid intensity from the bundle; without either, carbon is
    None. ``log_path`` writes the measurement log, ``kfp_metrics_path`` a KFP metrics file at ``stop()``.
    """

    def __init__(
        self,
        *,
        total_steps: int | None = None,
        interval_s: float = DEFAULT_INTERVAL_S,
        backends: str = "auto",
        tdp_w: float | None = None,
        location: str | None = None,
        region: str | None = None,
        pue: float = 1.0,
        log_path: Path | str | None = None,
        kfp_metrics_path: Path | str | None = None,
        level: float = DEFAULT_LEVEL,
        options: BackendOptions | None = None,
    ) -> None:
        if total_steps is not None and total_steps < 1:
            raise ValueError(f"total_steps must be >= 1, got {total_steps}")
        self.total_steps = total_steps
        self.interval_s = interval_s
        self.backends = backends
        self.options = options or BackendOptions(tdp_w=tdp_w)
        self.factors = zone_factors(location or region, pue=pue)
        self.log_path = Path(log_path) if log_path is not None else None
        self.kfp_metrics_path = Path(kfp_metrics_path) if kfp_metrics_path is not None else None
        self.level = level
        self.step_energy_j: list[float] = []
        self.step_duration_s: list[float] = []
        self._session: Session | None = None
        self._mark: tuple[float, float] = (0.0, 0.0)  # energy (J) and time at the last step boundary
        self.result: Footprint | None = None

    def start(self) -> Tracker:
        if self._session is not None:
            raise RuntimeError("this Tracker is already running")
        self._session = Session(
            command=sys.argv,
            interval_s=self.interval_s,
            backends=self.backends,
            options=self.options,
            log_path=self.log_path,
        )
        self._session.start()
        self._mark = (0.0, self._session.sampler.now())
        return self

    def _running(self) -> Session:
        if self._session is None:
            raise RuntimeError("call start() first (or use the Tracker in a with block)")
        return self._session

    def step(self) -> None:
        """One unit of work is done: its energy and duration are recorded."""
        sampler = self._running().sampler
        sample = sampler.sample_now()
        energy, t = sampler.energy_j, sample.t_end
        self.step_energy_j.append(energy - self._mark[0])
        self.step_duration_s.append(t - self._mark[1])
        self._mark = (energy, t)

    epoch = step

    def predict(self) -> Prediction:
        """The predicted totals for ``total_steps`` from the steps done so far."""
        if self.total_steps is None:
            raise ValueError("predict() needs total_steps, given when the Tracker is made")
        if not self.step_energy_j:
            raise ValueError("predict() needs at least one step() first")
        energy = predict_total(self.step_energy_j, total_steps=self.total_steps, level=self.level)
        duration = predict_total(self.step_duration_s, total_steps=self.total_steps, level=self.level)
        return Prediction(
            steps_done=len(self.step_energy_j),
            total_steps=self.total_steps,
            energy_kwh=energy.scaled(self.factors.pue / J_PER_KWH),
            duration_s=duration,
            factors=self.factors,
        )

    def stop(self, exit_code: int | None = 0) -> Footprint:
        """Stop measuring; the run's E and carbon (and the KFP metrics file, if asked for)."""
        session = self._running()
        session.finish(exit_code)
        self._session = None
        self.duration_s = session.duration_s
        self.result = footprint(
            energy_j=session.sampler.energy_j, factors=self.factors, functional_units=None
        )
        if self.kfp_metrics_path is not None:
            kfp.write_metrics(
                self.kfp_metrics_path,
                kfp.run_metrics(
                    energy_kwh=self.result.energy_kwh,
                    duration_s=self.duration_s,
                    carbon_g=self.result.carbon_g,
                    sci_g_per_unit=None,
                ),
            )
        return self.result

    def __enter__(self) -> Tracker:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop(exit_code=0 if kind is None else 1)
