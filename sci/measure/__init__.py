"""Live measurement: a sampler over NVML GPUs, RAPL counters or a CPU proxy, its log, and ``Tracker``
for training loops. Nothing here needs the network."""

from __future__ import annotations

from sci.measure.predict import Estimate
from sci.measure.tracker import Prediction, Tracker

__all__ = ["Estimate", "Prediction", "Tracker"]
