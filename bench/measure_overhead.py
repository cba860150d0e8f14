"""CPU cost per sample of our sampler at 1 Hz vs CodeCarbon's tracker, on the same CPU-busy workload.

    .venv/bin/pip install -e '.[bench]'     # codecarbon
    .venv/bin/python bench/measure_overhead.py [--seconds 20]

Each run is a fresh process doing the same fixed amount of busy work in the main thread (so its own
CPU time is the same in every run) with: no sampler (baseline), our sampler (auto backends; on a machine
without GPU or RAPL that is the CPU proxy), CodeCarbon's OfflineEmissionsTracker(measure_power_secs=1).
Overhead per sample = (process CPU time - baseline's) / samples. Ours also reports the sampler thread's
own CPU time (time.thread_time in the thread) per sample. Prints the figures; --write appends them to
bench/RESULTS-measure.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def work(iterations: int) -> None:
    for _ in range(iterations):
        sum(i * i for i in range(1000))


def calibrate(seconds: float) -> int:
    start = time.process_time()
    count = 0
    while time.process_time() - start < 1.0:
        sum(i * i for i in range(1000))
        count += 1
    return int(count * seconds / (time.process_time() - start))


def child(mode: str, iterations: int) -> dict[str, float]:
    samples, thread_cpu = 0.0, None
    wall0 = time.monotonic()
    if mode == "ours":
        from sci.measure.backends import BackendOptions
        from sci.measure.session import Session

        session = Session(
            command=["bench"], interval_s=1.0, options=BackendOptions(tdp_w=100.0), log_path=None
        )
        cpu0 = time.process_time()
        session.start()
        work(iterations)
        session.finish(0)
        samples, thread_cpu = session.sampler.samples, session.sampler.thread_cpu_s
    elif mode == "codecarbon":
        from codecarbon import OfflineEmissionsTracker

        tracker = OfflineEmissionsTracker(
            country_iso_code="DEU",
            save_to_file=False,
            log_level="error",
            measure_power_secs=1,
            tracking_mode="process",
        )
        cpu0 = time.process_time()
        tracker.start()
        work(iterations)
        tracker.stop()
        samples = time.monotonic() - wall0  # one measurement per second (measure_power_secs=1)
    else:
        cpu0 = time.process_time()
        work(iterations)
    return {
        "cpu_s": time.process_time() - cpu0,
        "wall_s": time.monotonic() - wall0,
        "samples": samples,
        "thread_cpu_s": thread_cpu if thread_cpu is not None else -1.0,
    }


def run(mode: str, iterations: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--iterations", str(iterations)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--child")
    parser.add_argument("--iterations", type=int, default=0)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.iterations)))
        return
    iterations = calibrate(args.seconds)
    base = run("baseline", iterations)
    ours = run("ours", iterations)
    cc = run("codecarbon", iterations)
    ours_ms = (ours["cpu_s"] - base["cpu_s"]) / ours["samples"] * 1000
    thread_ms = ours["thread_cpu_s"] / ours["samples"] * 1000
    cc_ms = (cc["cpu_s"] - base["cpu_s"]) / cc["samples"] * 1000
    lines = [
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.platform()}, Python {platform.python_version()}",
        f"workload: {base['cpu_s']:.2f} s CPU (baseline), 1 Hz sampling",
        f"ours: {ours['samples']:.0f} samples, {ours_ms:.3f} ms CPU per sample (process - baseline); "
        f"sampler thread alone {thread_ms:.3f} ms per sample",
        f"codecarbon: ~{cc['samples']:.0f} samples, {cc_ms:.3f} ms CPU per sample (process - baseline)",
        f"ratio codecarbon / ours: {cc_ms / ours_ms:.1f}x" if ours_ms > 0 else "ratio: ours below noise",
    ]
    print("\n".join(lines))
    if args.write:
        with (HERE / "RESULTS-measure.md").open("a", encoding="utf-8") as f:
            f.write("\n```\n" + "\n".join(lines) + "\n```\n")


if __name__ == "__main__":
    main()
