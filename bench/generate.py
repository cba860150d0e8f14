"""Large, realistic inputs in the real formats, for bench/run (deterministic: a fixed seed).

    .venv/bin/python bench/generate.py [--scale small|full] [--out bench/data] [--only nvidia-smi,...]

- nvidia-smi: ``--query-gpu=timestamp,index,uuid,name,power.draw,utilization.gpu --format=csv`` of 8 GPUs
  at 1 Hz, with units, local (Europe/Berlin, summer: no DST change) timestamps and ``[N/A]`` power gaps
  (1 row in 5,000); full: 1M, 10M and 50M rows; small: 100k and 1M.
- powermetrics: text samples (Apple Silicon M1), each a copy of the first real sample block of
  tests/fixtures/powermetrics/m1_monterey_text_codecarbon.txt with its time and power lines varied;
  full: 1M samples; small: 50k.
- codecarbon: the columns of CodeCarbon 3.3.2's emissions.csv, one run per row; full and small: 100k.
- github-usage: the legacy usage-report CSV, Actions minutes; 100k rows.
- aws-carbon: the Customer Carbon Footprint Tool v3 export; full: 1M rows, small: 100k.

Files are written once; an existing file of the right name is kept (delete bench/data to regenerate).
"""

from __future__ import annotations

import argparse
import random
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).parent
ROOT = HERE.parent
FIXTURES = ROOT / "tests" / "fixtures"
SEED = 20_260_901
GPUS = 8
NVIDIA_START = datetime(2026, 6, 1, 0, 0, 0, 305_000)  # noqa: DTZ001 - Berlin local time (CEST until late October)
CHUNK_ROWS = 1_000_000

SIZES = {
    "full": {
        "nvidia-smi": (1_000_000, 10_000_000, 50_000_000),
        "powermetrics": (1_000_000,),
        "codecarbon": (100_000,),
        "github-usage": (100_000,),
        "aws-carbon": (1_000_000,),
    },
    "small": {
        "nvidia-smi": (100_000, 1_000_000),
        "powermetrics": (50_000,),
        "codecarbon": (100_000,),
        "github-usage": (100_000,),
        "aws-carbon": (100_000,),
    },
}


def file_name(fmt: str, rows: int) -> str:
    suffix = {"powermetrics": "txt"}.get(fmt, "csv")
    return f"{fmt}_{_short(rows)}.{suffix}"


def _short(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


# -- nvidia-smi ----------------------------------------------------------------------------------------


def nvidia_smi(path: Path, rows: int, *, seed: int = SEED) -> None:
    rng = np.random.default_rng(seed)
    uuids = [str(uuid.UUID(int=random.Random(seed + i).getrandbits(128))) for i in range(GPUS)]
    with path.open("w", encoding="ascii", newline="\n") as out:
        out.write("timestamp, index, uuid, name, power.draw [W], utilization.gpu [%]\n")
        for start in range(0, rows, CHUNK_ROWS):
            n = min(CHUNK_ROWS, rows - start)
            out.write(_nvidia_chunk(rng, uuids, start, n))


def _nvidia_chunk(rng: np.random.Generator, uuids: list[str], start: int, n: int) -> str:
    row = np.arange(start, start + n)
    tick = row // GPUS
    gpu = row % GPUS
    jitter_ms = rng.integers(0, 3, n)  # nvidia-smi's loop drifts by a millisecond or two
    centiwatts = rng.integers(6_000, 70_000, n)
    util = rng.integers(0, 101, n)
    missing = rng.random(n) < 1 / 5_000
    frame = pl.DataFrame({"tick": tick, "gpu": gpu, "jitter": jitter_ms, "cw": centiwatts, "util": util})
    base = pl.lit(NVIDIA_START)
    stamp = (base + pl.duration(seconds=pl.col("tick"), milliseconds=pl.col("jitter"))).dt.strftime(
        "%Y/%m/%d %H:%M:%S%.3f"
    )
    power = pl.concat_str(
        (pl.col("cw") // 100).cast(pl.String),
        pl.lit("."),
        (pl.col("cw") % 100).cast(pl.String).str.zfill(2),
        pl.lit(" W"),
    )
    power = pl.when(pl.Series(missing)).then(pl.lit("[N/A]")).otherwise(power)
    uuid_col = pl.col("gpu").replace_strict(dict(enumerate(uuids)), return_dtype=pl.String)
    lines = frame.select(
        pl.concat_str(
            stamp,
            pl.col("gpu").cast(pl.String),
            pl.lit("GPU-") + uuid_col,
            pl.lit("NVIDIA H100 80GB HBM3"),
            power,
            pl.col("util").cast(pl.String) + pl.lit(" %"),
            separator=", ",
        ).alias("line")
    )
    return "\n".join(lines.get_column("line").to_list()) + "\n"


# -- powermetrics ------------------------------------------------------------------------------------


def powermetrics(
    path: Path,
    samples: int,
    *,
    start: datetime = datetime(2023, 11, 10, 12, 37, 8, tzinfo=UTC),
    seed: int = SEED,
) -> None:
    text = (FIXTURES / "powermetrics" / "m1_monterey_text_codecarbon.txt").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    preamble = "".join(lines[:7])
    block = "".join(lines[7:59])  # the first sample, from its *** header to the blank lines after it
    rng = random.Random(seed)
    power_line = re.compile(r"^(E-Cluster|P-Cluster|ANE|DRAM|CPU|GPU|Package) Power: \d+ mW$", re.MULTILINE)
    header = re.compile(r"\(Fri Nov 10 12:37:08 2023 \+0100\) \(104\.51ms elapsed\)")
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(preamble)
        for i in range(samples):
            moment = start + timedelta(seconds=i)
            stamp = moment.strftime("%a %b %d %H:%M:%S %Y")
            sample = header.sub(f"({stamp} +0000) (1000.{rng.randrange(100):02d}ms elapsed)", block)
            out.write(power_line.sub(lambda m: f"{m[1]} Power: {rng.randrange(0, 4000)} mW", sample))


# -- CSV exports -----------------------------------------------------------------------------------


def codecarbon(path: Path, rows: int) -> None:
    source = (FIXTURES / "codecarbon" / "emissions_v3.3.2_generated.csv").read_text(encoding="utf-8")
    header, template = source.splitlines()[:2]
    cells = template.split(",")
    names = header.split(",")
    rng = random.Random(SEED)
    start = datetime(2026, 6, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(header + "\n")
        for i in range(rows):
            row = dict(zip(names, cells, strict=True))
            duration_s = 30.0 + rng.random() * 600
            energy_kwh = duration_s * (5 + rng.random() * 40) / 3_600_000
            row["timestamp"] = (start + timedelta(minutes=11 * i)).strftime("%Y-%m-%dT%H:%M:%S")
            row["run_id"] = str(uuid.UUID(int=rng.getrandbits(128)))
            row["duration"] = repr(duration_s)
            row["cpu_energy"] = repr(energy_kwh * 0.3)
            row["ram_energy"] = repr(energy_kwh * 0.7)
            row["energy_consumed"] = repr(energy_kwh)
            row["emissions"] = repr(energy_kwh * 0.056)
            out.write(",".join(row[n] for n in names) + "\n")


def github_usage(
    path: Path, rows: int, *, start: datetime = datetime(2026, 1, 1, tzinfo=UTC), days: int = 365
) -> None:
    header = (
        "Date,Product,SKU,Quantity,Unit Type,Price Per Unit ($),Multiplier,Owner,Repository Slug,Username,"
        "Actions Workflow,Notes"
    )
    skus = [("Compute - UBUNTU", "1.0"), ("Compute - WINDOWS", "2.0"), ("Compute - MACOS", "10.0")]
    rng = random.Random(SEED)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(header + "\n")
        for i in range(rows):
            sku, multiplier = skus[rng.randrange(3)]
            day = (start + timedelta(days=i * days // rows)).strftime("%Y-%m-%d")
            repo = f"repo{rng.randrange(40)}"
            out.write(
                f"{day},Actions,{sku},{rng.randrange(1, 60)},minute,0.008,{multiplier},acme,{repo},"
                f"dev{rng.randrange(25)},.github/workflows/ci{rng.randrange(4)}.yml,\n"
            )


def aws_carbon(path: Path, rows: int, *, first: tuple[int, int] = (2023, 1), months: int = 36) -> None:
    source = (FIXTURES / "aws_carbon" / "carbon_emissions_v3_scopes.csv").read_text(encoding="utf-8")
    header = source.splitlines()[0]
    names = header.split(",")
    template = dict(zip(names, source.splitlines()[1].split(","), strict=True))
    products = ["AmazonEC2", "AmazonS3", "AmazonRDS", "AWSLambda", "AmazonDynamoDB"]
    regions = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
    rng = random.Random(SEED)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(header + "\n")
        for i in range(rows):
            row = dict(template)
            month = first[1] - 1 + i % months
            year, mon = first[0] + month // 12, month % 12 + 1
            end_year, end_mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
            scope_1, scope_2, scope_3 = (rng.randrange(0, 5_000) / 1e6 for _ in range(3))
            row.update(
                usage_account_id=f"{100000000000 + i // (months * 20):012d}",
                product_code=products[i % 5],
                region_code=regions[(i // 5) % 4],
                usage_period_start=f"{year}-{mon:02d}-01 00:00:00Z",
                usage_period_end=f"{end_year}-{end_mon:02d}-01 00:00:00Z",
                total_scope_1_emissions_value=f"{scope_1:.6f}",
                total_scope_2_lbm_emissions_value=f"{scope_2:.6f}",
                total_scope_3_lbm_emissions_value=f"{scope_3:.6f}",
                total_lbm_emissions_value=f"{scope_1 + scope_2 + scope_3:.6f}",
                total_scope_2_mbm_emissions_value=f"{scope_2 / 2:.6f}",
                total_scope_3_mbm_emissions_value=f"{scope_3:.6f}",
                total_mbm_emissions_value=f"{scope_1 + scope_2 / 2 + scope_3:.6f}",
            )
            out.write(",".join(row[n] for n in names) + "\n")


WRITERS: dict[str, Callable[[Path, int], None]] = {
    "nvidia-smi": nvidia_smi,
    "powermetrics": powermetrics,
    "codecarbon": codecarbon,
    "github-usage": github_usage,
    "aws-carbon": aws_carbon,
}


def planned(scale: str, out: Path, only: set[str] | None = None) -> Iterator[tuple[str, int, Path]]:
    for fmt, sizes in SIZES[scale].items():
        if only is None or fmt in only:
            for rows in sizes:
                yield fmt, rows, out / file_name(fmt, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SIZES), default="small")
    parser.add_argument("--out", type=Path, default=HERE / "data")
    parser.add_argument("--only", help="comma-separated formats: " + ",".join(WRITERS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(",")) if args.only else None
    for fmt, rows, path in planned(args.scale, args.out, only):
        if path.exists():
            print(f"kept    {path}")
            continue
        partial = path.with_suffix(path.suffix + ".part")
        WRITERS[fmt](partial, rows)
        partial.rename(path)
        print(f"wrote   {path} ({path.stat().st_size / 1e6:,.0f} MB)")


if __name__ == "__main__":
    main()
