"""Crash safety and concurrency, with real processes: a SIGKILL mid-file leaves the store consistent, and
two ingests on one store never lose or double data (the second fails fast with "store is locked")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

ROWS = 400_000  # enough that ingesting takes seconds: the kill lands mid-file


def big_nvidia_log(path: Path) -> int:
    """A 2-GPU nvidia-smi log at 1 Hz; returns the number of records it gives (each row after the first of
    its GPU)."""
    start = datetime(2026, 10, 1)
    with path.open("w", encoding="utf-8") as out:
        out.write("timestamp, index, power.draw [W], utilization.gpu [%]\n")
        for i in range(ROWS // 2):
            stamp = (start + timedelta(seconds=i)).strftime("%Y/%m/%d %H:%M:%S.000")
            out.write(f"{stamp}, 0, {100 + i % 50}.25 W, 50 %\n{stamp}, 1, {80 + i % 30}.5 W, 40 %\n")
    return ROWS - 2


def write_config(tmp: Path) -> Path:
    config = tmp / "sci.toml"
    config.write_text(
        '[[platforms]]\nname = "gpus"\nlocation = "DE"\n'
        '[[platforms.sources]]\ncollector = "nvidia-smi"\npaths = ["gpu.csv"]\ntimezone = "UTC"\n',
        encoding="utf-8",
    )
    return config


def ingest(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sci", "ingest", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: object, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail("the condition did not come true in time")
        time.sleep(0.02)


def stored(store: Path) -> tuple[int, int]:
    with duckdb.connect(str(store), read_only=True) as con:
        files = con.execute("SELECT count(*) FROM files").fetchone()
        samples = con.execute("SELECT count(*) FROM samples").fetchone()
    assert files is not None
    assert samples is not None
    return int(files[0]), int(samples[0])


def test_an_ingest_killed_mid_file_leaves_nothing_and_a_rerun_loads_it_once(tmp_path: Path) -> None:
    expected = big_nvidia_log(tmp_path / "gpu.csv")
    config = write_config(tmp_path)
    wal = tmp_path / "sci.duckdb.wal"
    process = ingest(config)
    wait_for(lambda: (wal.exists() and wal.stat().st_size > 0) or process.poll() is not None)
    assert process.poll() is None, "the ingest finished before it could be killed: make ROWS larger"
    time.sleep(0.3)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL
    assert stored(tmp_path / "sci.duckdb") == (0, 0)  # the half-read file is simply not loaded
    rerun = ingest(config)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert stored(tmp_path / "sci.duckdb") == (1, expected)


def test_a_second_ingest_on_a_locked_store_fails_fast_and_nothing_is_doubled(tmp_path: Path) -> None:
    expected = big_nvidia_log(tmp_path / "gpu.csv")
    config = write_config(tmp_path)
    wal = tmp_path / "sci.duckdb.wal"
    first = ingest(config)
    wait_for(lambda: wal.exists() or first.poll() is not None)
    assert first.poll() is None, "the first ingest finished too soon: make ROWS larger"
    second = ingest(config)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 1
    assert "store is locked" in err
    assert "Traceback" not in err
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert stored(tmp_path / "sci.duckdb") == (1, expected)
    again = ingest(config)  # and once the lock is free, a re-run finds everything unchanged
    out, _ = again.communicate(timeout=120)
    assert again.returncode == 0
    assert "1 unchanged" in out
    assert stored(tmp_path / "sci.duckdb") == (1, expected)
