"""Write examples/team/: a realistic October 2026 for a small ML team, in the tools' real output formats.

The data are synthetic (seeded, reproducible); the formats are copied line for line from the real
samples in ../shared/formats (see examples/team/README.md). Run from the repository root:

    python tools/make_example.py            # rewrites examples/team/{laptops,gpu-server,ci,cloud}
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
MONTH_START = date(2026, 10, 1)
MONTH_END = date(2026, 11, 1)
SEED = 20261022


# -- laptops: powermetrics text -------------------------------------------------------------------


@dataclass(frozen=True)
class Laptop:
    name: str
    model: str
    os_build: str
    layout: str  # "monterey" (macOS 12) | "sonoma" (macOS 14) | "sequoia" (macOS 15)
    e_cpus: int
    p_clusters: tuple[int, ...]  # CPUs per P cluster
    cpu_mw: tuple[int, int]  # idle-ish .. busy
    gpu_mw: tuple[int, int]
    interval_ms: int


LAPTOPS = (
    Laptop("alice", "MacBookAir10,1", "21G115", "monterey", 4, (4,), (180, 3800), (15, 900), 600_000),
    Laptop("bob", "Mac14,2", "23E224", "sonoma", 4, (4,), (150, 4500), (10, 1400), 600_000),
    Laptop("carol", "Mac16,6", "24F74", "sequoia", 4, (5, 5), (400, 14000), (20, 28000), 600_000),
)
E_FREQS = (600, 972, 1332, 1704, 2064)
P_FREQS = (600, 828, 1056, 1284, 1500, 1728, 1956, 2184, 2388, 2592, 2772, 2988, 3096, 3144, 3204)


def _pct(rng: random.Random, value: float) -> str:
    """powermetrics' odd percent formats: '  0%', '.69%', '4.2%', ' 18%'."""
    if value < 0.005:
        return "  0%"
    if value < 1:
        return f"{value:.2f}%"[1:]
    if value < 10:
        return f"{value:.1f}%"
    return f"{value:3.0f}%"


def _residency(rng: random.Random, freqs: tuple[int, ...], active: float) -> str:
    weights = [rng.random() ** 3 for _ in freqs]
    total = sum(weights) or 1.0
    return " ".join(f"{f} MHz: {_pct(rng, active * w / total)}" for f, w in zip(freqs, weights, strict=True))


def _cluster_lines(
    rng: random.Random, lt: Laptop, name: str, cpus: range, *, freqs: tuple[int, ...], load: float
) -> list[str]:
    active = min(100.0, max(0.5, load * 100 * rng.uniform(0.6, 1.3)))
    lines = []
    if lt.layout == "monterey":
        lines.append(f"{name} Power: {{{name}}} mW")
    if lt.layout == "sequoia":
        lines.append(f"{name} Online: 100%")
    lines += [
        f"{name} HW active frequency: {int(freqs[1] + (freqs[-1] - freqs[1]) * load)} MHz",
        f"{name} HW active residency: {active:6.2f}% ({_residency(rng, freqs, active)})",
        f"{name} idle residency: {100 - active:6.2f}%",
    ]
    if lt.layout == "sequoia":
        lines.append(f"{name} down residency:   0.00%")
    if lt.layout == "monterey":
        lines += [
            f"{name} instructions retired: {rng.uniform(1, 9):.5}e+0{rng.randint(7, 9)}",
            f"{name} instructions per clock: {rng.uniform(0.6, 2.2):.6}",
        ]
    for cpu in cpus:
        cpu_active = min(100.0, active * rng.uniform(0.2, 1.1))
        lines.append(f"CPU {cpu} frequency: {int(freqs[1] + (freqs[-1] - freqs[1]) * rng.random())} MHz")
        if lt.layout == "monterey":
            lines.append(f"CPU {cpu} idle residency: {100 - cpu_active:6.2f}%")
            lines.append(
                f"CPU {cpu} active residency: {cpu_active:6.2f}% ({_residency(rng, freqs, cpu_active)})"
            )
        else:
            lines.append(
                f"CPU {cpu} active residency: {cpu_active:6.2f}% ({_residency(rng, freqs, cpu_active)})"
            )
            lines.append(f"CPU {cpu} idle residency: {100 - cpu_active:6.2f}%")
            if lt.layout == "sequoia":
                lines.append(f"CPU {cpu} down residency:   0.00%")
    lines.append("")
    return lines


def _sample(
    rng: random.Random, lt: Laptop, end_local: datetime, *, elapsed_ms: float, load: float, gpu_load: float
) -> tuple[str, int, int]:
    """One sample's text, and the CPU and GPU power (mW) it states."""
    cpu = int(lt.cpu_mw[0] + (lt.cpu_mw[1] - lt.cpu_mw[0]) * load * rng.uniform(0.8, 1.1))
    gpu = int(lt.gpu_mw[0] + (lt.gpu_mw[1] - lt.gpu_mw[0]) * gpu_load * rng.uniform(0.7, 1.1))
    ane = 0 if rng.random() < 0.97 else rng.randint(5, 400)
    stamp = end_local.strftime("%a %b ") + f"{end_local.day:2d}" + end_local.strftime(" %H:%M:%S %Y %z")
    out = [f"*** Sampled system activity ({stamp}) ({elapsed_ms:.2f}ms elapsed) ***", "", ""]
    out += ["**** Processor usage ****", ""]
    body: list[str] = []
    cpu_no = 0
    e_name = "E-Cluster"
    body += _cluster_lines(rng, lt, e_name, range(cpu_no, cpu_no + lt.e_cpus), freqs=E_FREQS, load=load)
    cpu_no += lt.e_cpus
    for i, size in enumerate(lt.p_clusters):
        name = "P-Cluster" if len(lt.p_clusters) == 1 else f"P{i}-Cluster"
        body += _cluster_lines(rng, lt, name, range(cpu_no, cpu_no + size), freqs=P_FREQS, load=load)
        cpu_no += size
    if lt.layout == "monterey":
        e_share = rng.uniform(0.1, 0.3)
        body = [
            line.replace("{E-Cluster}", str(int(cpu * e_share))).replace(
                "{P-Cluster}", str(cpu - int(cpu * e_share))
            )
            for line in body
        ]
        dram = int(40 + 260 * load * rng.uniform(0.7, 1.2))
        package = int((cpu + gpu + ane + dram) * rng.uniform(1.08, 1.2))
        body += [
            f"System instructions retired: {rng.uniform(1, 9):.5}e+0{rng.randint(8, 9)}",
            f"System instructions per clock: {rng.uniform(0.8, 1.9):.6}",
            f"ANE Power: {ane} mW",
            f"DRAM Power: {dram} mW",
            f"CPU Power: {cpu} mW",
            f"GPU Power: {gpu} mW",
            f"Package Power: {package} mW",
            "",
            "",
        ]
    else:
        gpu_active = min(100.0, gpu_load * 100 * rng.uniform(0.7, 1.2))
        body += [
            f"CPU Power: {cpu} mW",
            f"GPU Power: {gpu} mW",
            f"ANE Power: {ane} mW",
            f"Combined Power (CPU + GPU + ANE): {cpu + gpu + ane} mW",
            "",
            "**** GPU usage ****",
            "",
            f"GPU HW active frequency: {int(338 + 1000 * gpu_load)} MHz",
            f"GPU HW active residency: {gpu_active:6.2f}% (338 MHz: {_pct(rng, gpu_active)} 618 MHz:   0%)",
            "GPU SW requested state: (P1 : 100% P2 :   0% P3 :   0% P4 :   0% P5 :   0% P6 :   0%)",
            f"GPU SW state: (SW_P1 : {_pct(rng, gpu_active)} SW_P2 :   0% SW_P3 :   0% SW_P4 :   0%)",
            f"GPU idle residency: {100 - gpu_active:6.2f}%",
            f"GPU Power: {gpu} mW",
            "",
            "",
        ]
    return "\n".join(out + body) + "\n", cpu, gpu


def _workdays() -> list[date]:
    day, days = MONTH_START, []
    while day < MONTH_END:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


@dataclass(frozen=True)
class PowerSample:
    end_utc: datetime
    elapsed_ms: float
    cpu_mw: int
    gpu_mw: int


def write_laptop(rng: random.Random, lt: Laptop, target: Path) -> list[PowerSample]:
    """Write one laptop's month of powermetrics text; returns the samples' powers (for CodeCarbon)."""
    text = io.StringIO()
    written: list[PowerSample] = []
    days = [d for d in _workdays() if rng.random() > 0.06]  # a day off now and then
    for day in days:
        start = datetime(day.year, day.month, day.day, 8, 30, tzinfo=BERLIN) + timedelta(
            minutes=rng.randint(0, 75)
        )
        stop = start + timedelta(hours=rng.uniform(7.5, 9.5))
        boot = start - timedelta(minutes=rng.randint(3, 40))
        text.write(f"Machine model: {lt.model}\nOS version: {lt.os_build}\nBoot arguments: \n")
        text.write(
            f"Boot time: {boot.strftime('%a %b ')}{boot.day:2d}{boot.strftime(' %H:%M:%S %Y')}\n\n\n\n"
        )
        clock = start
        heavy = rng.random() < 0.3  # a day of local training / big builds
        while clock < stop:
            elapsed = lt.interval_ms + rng.uniform(1.0, 30.0)
            clock += timedelta(milliseconds=elapsed)
            hour = clock.hour
            meeting = 10 <= hour < 11 or (14 <= hour < 15 and rng.random() < 0.5)
            load = rng.uniform(0.05, 0.25) + (0.5 if heavy and rng.random() < 0.4 else 0.0)
            gpu_load = rng.uniform(0.02, 0.1) + (0.25 if meeting else 0.0)
            if lt.name == "carol" and heavy and rng.random() < 0.5:
                gpu_load = rng.uniform(0.6, 0.95)  # MLX fine-tuning on the laptop GPU
            local = clock.astimezone(BERLIN)
            sample, cpu_mw, gpu_mw = _sample(
                rng, lt, local, elapsed_ms=elapsed, load=min(load, 1.0), gpu_load=min(gpu_load, 1.0)
            )
            text.write(sample)
            written.append(PowerSample(local.astimezone(UTC), elapsed, cpu_mw, gpu_mw))
    content = text.getvalue()
    if lt.name == "bob":  # the Mac shut down while powermetrics was writing: the last sample is cut off
        content = content[: content.rindex("Combined Power") + len("Combined Pow")]
    _write_gz(target, content)
    return written


# -- GPU server: nvidia-smi --query-gpu CSV with units ---------------------------------------------

GPU_HEADER = (
    "timestamp, index, uuid, name, power.draw [W], utilization.gpu [%], memory.used [MiB], "
    "memory.total [MiB], temperature.gpu"
)
GPU_UUIDS = (
    "GPU-3f2a9c1e-7b4d-4e8a-9c61-0d5e2b7a8f13",
    "GPU-8c1d5e7f-2a3b-4c9d-8e0f-1a2b3c4d5e6f",
    "GPU-b7e4a2c9-5d1f-4a8e-b3c6-9f0e1d2c3b4a",
    "GPU-4a9e7c2b-1f3d-4b6a-8c5e-7d0f2a1b9c8e",
)
GPU_NAME = "NVIDIA A100-PCIE-40GB"
LOG_INTERVAL_S = 300


def _training_jobs(rng: random.Random) -> list[tuple[datetime, datetime, tuple[int, ...]]]:
    jobs = []
    clock = datetime(2026, 10, 1, 7, 0, tzinfo=UTC)
    end = datetime(2026, 11, 1, tzinfo=UTC)
    while len(jobs) < 42 and clock < end - timedelta(hours=6):
        gpus = rng.choice(((0,), (1,), (0, 1), (2, 3), (0, 1, 2, 3), (2,), (3,)))
        length = timedelta(hours=rng.choice((1.5, 3, 5, 8, 12, 20, 30)) * rng.uniform(0.8, 1.2))
        jobs.append((clock, min(clock + length, end), gpus))
        clock += timedelta(hours=rng.uniform(2, 24))
    return jobs


def write_gpu_server(rng: random.Random, target: Path) -> int:
    jobs = _training_jobs(rng)
    maintenance = (datetime(2026, 10, 14, 8, 0, tzinfo=UTC), datetime(2026, 10, 14, 10, 35, tzinfo=UTC))
    flaky = (datetime(2026, 10, 20, 13, 0, tzinfo=UTC), datetime(2026, 10, 20, 13, 45, tzinfo=UTC))
    text = io.StringIO()
    text.write(GPU_HEADER + "\n")
    clock = datetime(2026, 9, 30, 22, 0, 1, 412000, tzinfo=UTC)  # 2026-10-01 00:00 in Berlin
    end = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # 2026-11-01 00:00 in Berlin (CET)
    rows = 0
    restarted = False
    while clock < end:
        if maintenance[0] <= clock < maintenance[1]:
            clock = maintenance[1] + timedelta(seconds=rng.uniform(20, 50))
            restarted = True
            continue
        if restarted:
            text.write(GPU_HEADER + "\n")  # the logging service appends a fresh run after the reboot
            restarted = False
        for index in range(4):
            busy = any(a <= clock < b and index in g for a, b, g in jobs)
            util = rng.randint(86, 100) if busy else (rng.randint(1, 4) if rng.random() < 0.05 else 0)
            power = rng.uniform(195, 249) if busy else rng.uniform(33, 41)
            memory = rng.randint(30500, 39800) if busy else 4
            temp = rng.randint(62, 78) if busy else rng.randint(30, 36)
            stamp = (clock + timedelta(milliseconds=3 * index)).astimezone(BERLIN)
            power_text = "[N/A]" if index == 2 and flaky[0] <= clock < flaky[1] else f"{power:.2f} W"
            text.write(
                f"{stamp:%Y/%m/%d %H:%M:%S}.{stamp.microsecond // 1000:03d}, {index}, {GPU_UUIDS[index]}, "
                f"{GPU_NAME}, {power_text}, {util} %, {memory} MiB, 40960 MiB, {temp}\n"
            )
            rows += 1
        clock += timedelta(seconds=LOG_INTERVAL_S, milliseconds=rng.uniform(1, 15))
    _write_gz(target, text.getvalue())
    return rows


# -- CI: sci-report runtime log (tdp-proxy) ---------------------------------------------------------

WORKFLOWS = (
    ("ci.yml", ("lint", "unit-tests", "build")),
    ("train-smoke.yml", ("smoke-train",)),
    ("docs.yml", ("docs",)),
)
JOB_MINUTES = {"lint": (1, 3), "unit-tests": (4, 14), "build": (3, 8), "smoke-train": (9, 25), "docs": (2, 5)}


def write_ci(rng: random.Random, target: Path) -> int:
    runs = 0
    rows: list[list[str]] = []
    day = MONTH_START
    while day < MONTH_END:
        per_day = rng.randint(22, 36) if day.weekday() < 5 else rng.randint(0, 4)
        for _ in range(per_day):
            runs += 1
            start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                hours=rng.uniform(6.5, 18.5), seconds=rng.randint(0, 59)
            )
            workflow, jobs = WORKFLOWS[0] if rng.random() < 0.8 else rng.choice(WORKFLOWS[1:])
            for job in jobs:
                low, high = JOB_MINUTES[job]
                queued = timedelta(seconds=rng.randint(3, 40))
                duration = timedelta(seconds=rng.randint(low * 60, high * 60))
                runner = f"GitHub Actions {rng.randint(1, 60)}"
                rows.append(
                    [
                        (start + queued).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        (start + queued + duration).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        runner,
                        "acme-ml/forecast",
                        workflow,
                        job,
                        str(runs),
                    ]
                )
        day += timedelta(days=1)
    rows.sort()
    with target.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["start", "end", "device", "repository", "workflow", "job", "run_number"])
        writer.writerows(rows)
    return runs


# -- carol's laptop: one CodeCarbon run over her powermetrics log (overlap, precedence) --------------

CODECARBON_HEADER = (
    "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,"
    "ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,country_name,country_iso_code,"
    "region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,"
    "gpu_model,longitude,latitude,ram_total_size,tracking_mode,cpu_utilization_percent,"
    "gpu_utilization_percent,ram_utilization_percent,ram_used_gb,on_cloud,pue,wue"
)  # CodeCarbon 3.3.2's 38 columns, as in tests/fixtures/codecarbon/emissions_v3.3.2_generated.csv
CODECARBON_RAM_W = 5.0  # CodeCarbon's RAM estimate (a fixed power: nothing meters DRAM on Apple Silicon)
CODECARBON_DE_KG_PER_KWH = 0.381  # the run's own grid figure (not the bundle's): for comparison only


def write_codecarbon(rng: random.Random, samples: list[PowerSample], target: Path) -> str:
    """One ``EmissionsTracker`` run around carol's MLX fine-tuning, on the busiest GPU afternoon of her log.

    CodeCarbon reads the same powermetrics counters at its own interval, so its CPU and GPU energy differ
    from the log's by a few per cent; both name the device "carol", so the report shows the overlap and
    precedence counts the finer source (powermetrics, 10-minute samples) for CPU and GPU. CodeCarbon's
    RAM estimate has no counterpart in the log and counts.
    """
    by_day: dict[date, list[PowerSample]] = {}
    for sample in samples:
        by_day.setdefault(sample.end_utc.astimezone(BERLIN).date(), []).append(sample)
    day = max(sorted(by_day), key=lambda d: sum(s.gpu_mw * s.elapsed_ms for s in by_day[d]))
    start = datetime(day.year, day.month, day.day, 13, 5, 12, tzinfo=BERLIN).astimezone(UTC)
    end = min(start + timedelta(hours=3, minutes=40, seconds=31.4), by_day[day][-1].end_utc)
    inside = [s for s in by_day[day] if start < s.end_utc <= end]
    duration_s = (end - start).total_seconds()
    cpu_kwh = sum(s.cpu_mw * s.elapsed_ms for s in inside) / 3.6e12 * rng.uniform(1.02, 1.05)
    gpu_kwh = sum(s.gpu_mw * s.elapsed_ms for s in inside) / 3.6e12 * rng.uniform(0.96, 0.99)
    ram_kwh = CODECARBON_RAM_W * duration_s / 3.6e6
    total = cpu_kwh + gpu_kwh + ram_kwh
    emissions = total * CODECARBON_DE_KG_PER_KWH
    local_end = end.astimezone(BERLIN).replace(tzinfo=None)
    row = [
        local_end.isoformat(timespec="seconds"),
        "forecast-finetune",
        "7d3e9b2a-51c4-4f0e-9a6d-2c8b1e4f7a90",
        "5b0fa12a-3dd7-45bb-9766-cc326314d9f1",
        repr(duration_s),
        repr(emissions),
        repr(emissions / duration_s),
        repr(cpu_kwh * 3.6e6 / duration_s),
        repr(gpu_kwh * 3.6e6 / duration_s),
        repr(CODECARBON_RAM_W),
        repr(cpu_kwh),
        repr(gpu_kwh),
        repr(ram_kwh),
        repr(total),
        "0.0",
        "Germany",
        "DEU",
        "berlin",
        "",
        "",
        "macOS-15.5-arm64-arm-64bit-Mach-O",
        "3.12.10",
        "3.3.2",
        "14",
        "Apple M4 Max",
        "1",
        "Apple M4 Max",
        "13.4105",
        "52.5244",
        "48.0",
        "machine",
        "61.4",
        "83.7",
        "58.2",
        "27.9",
        "N",
        "1.0",
        "0.0",
    ]
    with target.open("w", newline="", encoding="utf-8") as stream:
        stream.write(CODECARBON_HEADER + "\n")
        csv.writer(stream, lineterminator="\n").writerow(row)
    return f"{start:%Y-%m-%d %H:%M}Z to {end:%H:%M}Z, {total * 1000:.1f} Wh"


# -- cloud: AWS Data Exports CARBON_EMISSIONS (model v3.0.0, split by scope) -------------------------

AWS_HEADER = (
    "last_refresh_timestamp,location,model_version,payer_account_id,product_code,region_code,"
    "total_lbm_emissions_unit,total_lbm_emissions_value,total_mbm_emissions_unit,total_mbm_emissions_value,"
    "total_scope_1_emissions_unit,total_scope_1_emissions_value,total_scope_2_lbm_emissions_unit,"
    "total_scope_2_lbm_emissions_value,total_scope_2_mbm_emissions_unit,total_scope_2_mbm_emissions_value,"
    "total_scope_3_lbm_emissions_unit,total_scope_3_lbm_emissions_value,total_scope_3_mbm_emissions_unit,"
    "total_scope_3_mbm_emissions_value,usage_account_id,usage_period_end,usage_period_start"
)  # alphabetical, as tests/fixtures/aws_carbon/carbon_emissions_v3_scopes.csv (the documented schema)
AWS_ROWS = (  # product, region_code, location, scope 1, scope 2 lbm, scope 2 mbm, scope 3 (t CO2e)
    ("AmazonEC2", "eu-central-1", "Europe (Frankfurt)", 0.000412, 0.061870, 0.002104, 0.018930),
    ("AmazonS3", "eu-central-1", "Europe (Frankfurt)", 0.000009, 0.001240, 0.000041, 0.000977),
    ("AmazonRDS", "eu-central-1", "Europe (Frankfurt)", 0.000051, 0.007610, 0.000259, 0.002318),
    ("AmazonCloudFront", "", "Global", 0.000003, 0.000366, 0.000118, 0.000187),
)
AWS_ACCOUNT, AWS_PAYER = "111122223333", "999988887777"  # AWS's documentation placeholders


def write_aws_carbon(target: Path) -> int:
    """October 2026 as AWS publishes it (refreshed 21 November): scope 1 + 2 + 3 = each total, lbm and mbm."""
    with target.open("w", newline="", encoding="utf-8") as stream:
        stream.write(AWS_HEADER + "\n")
        writer = csv.writer(stream, lineterminator="\n")
        for product, region, location, s1, s2_lbm, s2_mbm, s3 in AWS_ROWS:
            t = "MTCO2e"
            writer.writerow(
                [
                    "2026-11-21 04:17:09Z",
                    location,
                    "v3.0.0",
                    AWS_PAYER,
                    product,
                    region,
                    t,
                    f"{s1 + s2_lbm + s3:.6f}",
                    t,
                    f"{s1 + s2_mbm + s3:.6f}",
                    t,
                    f"{s1:.6f}",
                    t,
                    f"{s2_lbm:.6f}",
                    t,
                    f"{s2_mbm:.6f}",
                    t,
                    f"{s3:.6f}",
                    t,
                    f"{s3:.6f}",
                    AWS_ACCOUNT,
                    "2026-11-01 00:00:00Z",
                    "2026-10-01 00:00:00Z",
                ]
            )
    return len(AWS_ROWS)


def _write_gz(target: Path, text: str) -> None:
    with target.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as stream:
        stream.write(text.encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples/team"))
    out = parser.parse_args().out
    rng = random.Random(SEED)
    logs: dict[str, list[PowerSample]] = {}
    for lt in LAPTOPS:
        folder = out / "laptops" / lt.name
        folder.mkdir(parents=True, exist_ok=True)
        logs[lt.name] = write_laptop(rng, lt, folder / "powermetrics-2026-10.txt.gz")
        print(f"{folder}: {len(logs[lt.name])} powermetrics samples")
    (out / "gpu-server").mkdir(parents=True, exist_ok=True)
    print(f"gpu-server: {write_gpu_server(rng, out / 'gpu-server' / 'nvidia-smi-2026-10.csv.gz')} rows")
    (out / "ci").mkdir(parents=True, exist_ok=True)
    print(f"ci: {write_ci(rng, out / 'ci' / 'jobs-2026-10.csv')} pipeline runs")
    # added later, with their own generator, so that the files above keep their bytes
    extra = random.Random(SEED + 1)
    run = write_codecarbon(extra, logs["carol"], out / "laptops" / "carol" / "emissions.csv")
    print(f"laptops/carol/emissions.csv: one CodeCarbon run, {run}")
    (out / "cloud").mkdir(parents=True, exist_ok=True)
    rows = write_aws_carbon(out / "cloud" / "carbon-emissions-2026-10.csv")
    print(f"cloud/carbon-emissions-2026-10.csv: {rows} rows")


if __name__ == "__main__":
    main()
