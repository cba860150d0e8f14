"""The sampler: reads every backend at a fixed interval in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sci.measure.readings import Backend, Reading

DEFAULT_INTERVAL_S = 1.0


@dataclass(frozen=True, slots=True)
class Sample:
    t_start: float  # epoch s
    t_end: float
    readings: tuple[Reading, ...]

    @property
    def energy_j(self) -> float:
        return sum(r.energy_j for r in self.readings)


class Sampler:
    """Samples ``backends`` every ``interval_s`` until ``stop``; each sample goes to ``on_sample``.

    Times are epoch seconds derived from one monotonic clock, so a wall-clock step (NTP) cannot make an
    interval negative. ``sample_now`` takes an extra sample at once (a training step's boundary); the
    thread keeps its own cadence. An exception in the thread is raised again by ``stop``.
    """

    def __init__(
        self,
        backends: Sequence[Backend],
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        on_sample: Callable[[Sample], None] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval must be > 0 s, got {interval_s}")
        self.backends = list(backends)
        self.interval_s = interval_s
        self.on_sample = on_sample
        self.energy_j = 0.0
        self.samples = 0
        self.thread_cpu_s = 0.0  # CPU time the sampling thread used (for the overhead benchmark)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._wall0 = time.time()
        self._mono0 = time.monotonic()
        self._last = self._wall0
        self.started_at = self._wall0

    def now(self) -> float:
        return self._wall0 + (time.monotonic() - self._mono0)

    def start(self) -> None:
        self._last = self.started_at = self.now()
        self._thread = threading.Thread(target=self._run, name="sci-measure-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        cpu0 = time.thread_time()
        deadline = time.monotonic() + self.interval_s
        try:
            while not self._stop.wait(max(deadline - time.monotonic(), 0.0)):
                self.sample_now()
                deadline = max(deadline + self.interval_s, time.monotonic())
        except Exception as exc:  # handed to the caller by stop(), never swallowed
            self._error = exc
        finally:
            self.thread_cpu_s = time.thread_time() - cpu0

    def sample_now(self) -> Sample:
        with self._lock:
            t_end = self.now()
            readings = tuple(r for backend in self.backends for r in backend.read(t_end - self._last))
            sample = Sample(self._last, t_end, readings)
            self._last = t_end
            self.energy_j += sample.energy_j
            self.samples += 1
            if self.on_sample is not None:
                self.on_sample(sample)
            return sample

    def stop(self) -> Sample:
        """Stop the thread and take the last sample (up to now)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self.sample_now()
