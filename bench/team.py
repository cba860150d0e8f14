#!/usr/bin/env python3
"""The monthly run over issue 6's reference team, as one whole `sci-report run` (ingest, compute, report
with the PDF), at a fraction of the month, extrapolated to the whole month from two fractions.

    .venv/bin/python bench/team.py [--fraction 0.0333] [--runs 1] [--keep]

The reference team (issue 6): 20 laptops, 2 GPU servers, 10k CI jobs and 3 cloud exports in one month.
What a month of it is, stated here because the issue does not say:

- laptops: powermetrics text (bench/generate.py's Apple Silicon layout, ~3 KB and 52 lines a sample) at
  1 Hz, 8 hours a working day, 21 working days: 604,800 samples a laptop, 12.1M in all;
- GPU servers: nvidia-smi CSV of 8 GPUs at 1 Hz all month (30 days): 20.7M rows a server, 41.5M in all;
- CI: the GitHub usage report CSV with 10,000 rows (jobs) over the month;
- cloud: three AWS carbon exports (CCFT v3) of 1,000 rows each for the month (monthly exports: not
  scaled).

Everything but the cloud exports scales with ``--fraction`` (of the month). The run is timed at the
fraction and at twice it; since every stage is linear in rows, ``month = t1 + (t2 - t1) * (1 - f) / f``
(the line through both points, at 1). Both measured points and the extrapolation are printed; the
extrapolation is labelled as one. The baseline in the same run is DuckDB's own read of every input
file (bench/run's per-format baselines, summed). The fleet path (docs/fleet.md) is timed too: ``collect``
(parsing, on the machines that logged) and the central monthly run over the shards (``ingest --dataset``,
``compute``, ``report``). The inputs are written under bench/data/team-<fraction>/ once.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402 - bench/generate.py beside this script
from process import baseline_argv, run_once  # noqa: E402 - bench/process.py

LAPTOPS = 20
LAPTOP_SAMPLES_MONTH = 8 * 3600 * 21
SERVERS = 2
SERVER_ROWS_MONTH = generate.GPUS * 30 * 86_400
CI_ROWS_MONTH = 10_000
EXPORTS = 3
EXPORT_ROWS = 1_000

CONFIG = """[project]
name = "Reference team (issue 6), June 2026"
store = "sci.duckdb"
output_dir = "out"

[window]
month = "2026-06"
timezone = "Europe/Berlin"

[[platforms]]
name = "laptops"
location = "DE"
pue = 1.0
unit = "engineer-months"

  [[platforms.sources]]
  collector = "powermetrics"
  paths = ["laptops/*.txt"]
  device = "{stem}"

[[platforms]]
name = "gpu-servers"
location = "DE"
pue = 1.5
unit = "training jobs"

  [[platforms.sources]]
  collector = "nvidia-smi"
  paths = ["gpu-servers/*.csv"]
  device = "{stem}"
  timezone = "Europe/Berlin"

[[platforms]]
name = "ci"
region = "azure:eastus"
unit = "pipeline runs"

  [[platforms.sources]]
  collector = "github-usage"
  paths = ["ci/*.csv"]
  device = "github-hosted"

[[platforms]]
name = "cloud"
region = "aws:eu-central-1"
unit = "thousand API requests"

  [[platforms.sources]]
  collector = "aws-carbon"
  paths = ["cloud/*.csv"]

[[functional_units]]
platform = "laptops"
period = "2026-06"
count = 20

[[functional_units]]
platform = "gpu-servers"
period = "2026-06"
count = 40

[[functional_units]]
platform = "ci"
period = "2026-06"
count = 10000

[[functional_units]]
platform = "cloud"
period = "2026-06"
count = 18400
"""


def write_team(folder: Path, fraction: float) -> dict[str, int]:
    """The reference team's inputs at ``fraction`` of the month under ``folder``; counts per part."""
    counts = {
        "laptop samples": round(LAPTOP_SAMPLES_MONTH * fraction) * LAPTOPS,
        "nvidia-smi rows": round(SERVER_ROWS_MONTH * fraction) * SERVERS,
        "CI rows": max(round(CI_ROWS_MONTH * fraction), 1),
        "cloud rows": EXPORT_ROWS * EXPORTS,
    }
    done = folder / "sci.toml"
    if done.exists():
        return counts
    for part in ("laptops", "gpu-servers", "ci", "cloud"):
        (folder / part).mkdir(parents=True, exist_ok=True)
    for i in range(LAPTOPS):
        generate.powermetrics(
            folder / "laptops" / f"laptop{i:02d}.txt",
            counts["laptop samples"] // LAPTOPS,
            start=datetime(2026, 6, 1, 7, 0, 0, tzinfo=UTC),
            seed=generate.SEED + i,
        )
    for i in range(SERVERS):
        generate.nvidia_smi(
            folder / "gpu-servers" / f"gpu-node-{i + 1}.csv",
            counts["nvidia-smi rows"] // SERVERS,
            seed=generate.SEED + i,
        )
    generate.github_usage(
        folder / "ci" / "usage-2026-06.csv",
        counts["CI rows"],
        start=datetime(2026, 6, 1, tzinfo=UTC),
        days=30,
    )
    for i in range(EXPORTS):
        generate.aws_carbon(folder / "cloud" / f"carbon-{i + 1}.csv", EXPORT_ROWS, first=(2026, 6), months=1)
    done.write_text(CONFIG, encoding="utf-8")
    return counts


def timed_run(folder: Path, runs: int) -> tuple[float, int]:
    """Median wall time and peak RSS of ``sci-report run`` on a fresh store, ``runs`` times."""
    seconds, rss = [], []
    for _ in range(runs):
        for stale in (folder / "sci.duckdb", folder / "sci.duckdb.wal"):
            stale.unlink(missing_ok=True)
        shutil.rmtree(folder / "out", ignore_errors=True)
        elapsed, peak = run_once([sys.executable, "-m", "sci", "run", str(folder)])
        seconds.append(elapsed)
        rss.append(peak)
    return statistics.median(seconds), max(rss)


FORMATS = {
    "laptops": "powermetrics",
    "gpu-servers": "nvidia-smi",
    "ci": "github-usage",
    "cloud": "aws-carbon",
}


def timed_baseline(folder: Path) -> float:
    """The baseline in the same run: DuckDB's own read of every input file (bench/run's baseline per
    format), one fresh database file each, one after the other; seconds in all."""
    total_s = 0.0
    db = folder / "baseline.duckdb"
    for part, fmt in FORMATS.items():
        for path in sorted((folder / part).iterdir()):
            for stale in (db, db.with_name(db.name + ".wal")):
                stale.unlink(missing_ok=True)
            seconds, _ = run_once(baseline_argv(fmt, path, db))
            total_s += seconds
    db.unlink(missing_ok=True)
    return total_s


def timed_fleet(folder: Path) -> tuple[float, float, int]:
    """The same month through the fleet path: ``collect`` (each machine parses its own files: timed, but
    it runs on the machines), then the central run alone: ``ingest --dataset`` of the shards, ``compute``
    and ``report`` on a fresh store. Seconds of collect, seconds of the central run, its peak RSS."""
    shards = folder / "shards"
    shutil.rmtree(shards, ignore_errors=True)
    sci = [sys.executable, "-m", "sci"]
    collect_s, _ = run_once([*sci, "collect", "-c", str(folder), "--to", str(shards)])
    for stale in (folder / "sci.duckdb", folder / "sci.duckdb.wal"):
        stale.unlink(missing_ok=True)
    central_s, peak = 0.0, 0
    for argv in (["ingest", "--dataset", str(shards)], ["compute"], ["report"]):
        seconds, rss = run_once([*sci, argv[0], "-c", str(folder), *argv[1:]])
        central_s, peak = central_s + seconds, max(peak, rss)
    shutil.rmtree(shards)
    return collect_s, central_s, peak


def _month(points: list[tuple[float, float]]) -> float:
    (f1, t1), (f2, t2) = points
    return t1 + (t2 - t1) * (1 - f1) / (f2 - f1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=1 / 30, help="of the month (default: one day)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--keep", action="store_true", help="keep the generated inputs")
    args = parser.parse_args()
    direct, baseline, central, collect = [], [], [], []
    for fraction in (args.fraction, 2 * args.fraction):
        folder = args.data / f"team-{fraction:.4f}"
        counts = write_team(folder, fraction)
        size_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
        seconds, peak = timed_run(folder, args.runs)
        base_s = timed_baseline(folder)
        direct.append((fraction, seconds))
        baseline.append((fraction, base_s))
        sizes = ", ".join(f"{n:,} {name}" for name, n in counts.items())
        print(
            f"| sci-report run, {fraction:.4f} of the month | {sizes}; {size_mb:,.0f} MB | "
            f"{seconds:.1f} s | {base_s:.1f} s ({seconds / base_s:.2f}x) | {peak / 2**20:,.0f} MiB |",
            flush=True,
        )
        collect_s, central_s, central_peak = timed_fleet(folder)
        collect.append((fraction, collect_s))
        central.append((fraction, central_s))
        print(
            f"| fleet path, {fraction:.4f} of the month: collect (on the machines) / central run "
            f"(ingest --dataset, compute, report) | | {collect_s:.1f} s / {central_s:.1f} s | | "
            f"{central_peak / 2**20:,.0f} MiB |",
            flush=True,
        )
        if not args.keep:
            shutil.rmtree(folder)
    month, month_collect, month_central = _month(direct), _month(collect), _month(central)
    month_base = _month(baseline)
    print(
        "| whole month, extrapolated from the rows above | | "
        f"sci-report run {month:.0f} s ({month / 60:.1f} min; baseline {month_base:.0f} s, "
        f"{month / month_base:.2f}x); fleet path: collect {month_collect:.0f} s "
        f"in all (spread over the 22 machines), central run {month_central:.0f} s "
        f"({month_central / 60:.1f} min) | | |"
    )


if __name__ == "__main__":
    main()
