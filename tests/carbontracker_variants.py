"""How each derived CarbonTracker fixture is made from the real standard log (see its README).

``tests/test_carbontracker.py`` rebuilds every variant with these functions and checks the bytes. Run this
module to rewrite them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

FOLDER = Path(__file__).parent / "fixtures" / "carbontracker"
REAL = FOLDER / "sci_18587.635328_2026-11-22T035532Z_carbontracker.log"
CPU_FOUND = "The following components were found: CPU with device(s) AMD EPYC."
GPU_FOUND = (
    "The following components were found: GPU with device(s) NVIDIA A100-SXM4-40GB, NVIDIA A100-SXM4-40GB. "
    "CPU with device(s) AMD EPYC 7763 64-Core Processor."
)


def truncated(real: str) -> str:
    """Lines 1-9, then line 10 cut after 'for cpu: 6' with no line end (the process was killed)."""
    lines = real.splitlines(keepends=True)
    return "".join(lines[:9]) + lines[9][: lines[9].index("cpu: ") + 6]


def gpu_list_none(real: str) -> str:
    """Two GPUs and a CPU with a model: the components line as CarbonTracker joins them
    (``"{NAME} with device(s) {a, b}."`` per component, space-separated), a
    GPU power list per epoch (epoch 1: [250.5, 240.0], epoch 2: [None] as None) and the CPU lines kept."""
    out = real.replace(CPU_FOUND, GPU_FOUND)
    lines = out.splitlines(keepends=True)
    epoch1_gpu = lines[6].replace("for cpu: 60.0", "for gpu: [250.5, 240.0]")
    epoch2_gpu = lines[9].replace("for cpu: 60.0", "for gpu: None")
    return "".join([*lines[:7], epoch1_gpu, *lines[7:10], epoch2_gpu, *lines[10:]])


VARIANTS: dict[str, Callable[[str], str]] = {
    "sci_truncated_carbontracker.log": truncated,
    "sci_gpu_list_none_carbontracker.log": gpu_list_none,
}

if __name__ == "__main__":
    real = REAL.read_text(encoding="utf-8")
    for name, derive in VARIANTS.items():
        (FOLDER / name).write_text(derive(real), encoding="utf-8", newline="")
