"""Running a benchmark's whole process: wall time and peak RSS (shared by bench/run and bench/team.py)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


def run_once(argv: list[str], *, cwd: Path | None = None) -> tuple[float, int]:
    """Wall time and peak RSS (bytes) of one process; it must succeed. (A child's peak RSS starts at this
    process's at the fork, so this process stays small: heavy work runs in children.)"""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{stderr}")
    return elapsed, usage.ru_maxrss * 1024
