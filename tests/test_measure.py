"""sci.measure: the backends against recorded readings, the sampler, prediction, Tracker, KFP metrics,
and `sci-report measure` end to end with a real subprocess."""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pynvml
import pytest
from hypothesis import given
from hypothesis import strategies as st
from measure_fakes import MAX_UJ, RecordedNvml, rapl_tree, set_uj, uj

from sci.cli import main
from sci.errors import SciError
from sci.measure import Tracker, backends, cpu_proxy, kfp, nvml, rapl
from sci.measure.backends import BackendOptions, open_backends, parse_choice
from sci.measure.predict import predict_total, t_quantile
from sci.measure.readings import METHOD_CPU_PROXY, METHOD_NVML_ENERGY, METHOD_NVML_POWER, Reading, Unavailable
from sci.measure.sampler import Sampler

A100 = "NVIDIA A100-SXM4-40GB"


# -- NVML -------------------------------------------------------------------------------------------------


def test_nvml_differences_the_energy_counter_and_falls_back_to_power(monkeypatch: pytest.MonkeyPatch) -> None:
    RecordedNvml(
        [
            ("GPU-aaa", A100, [1_000_000, 1_250_000, 1_400_000], [0], [90, 40]),
            ("GPU-bbb", "Tesla T4", None, [70_000, 35_000], [10, 20]),
        ]
    ).patch(monkeypatch)
    backend = nvml.open_nvml()
    first = backend.read(1.0)
    assert [(r.device, r.method, r.energy_j, r.power_w, r.utilisation) for r in first] == [
        ("gpu0", METHOD_NVML_ENERGY, 250.0, 250.0, 0.9),
        ("gpu1", METHOD_NVML_POWER, 70.0, 70.0, 0.1),
    ]
    second = backend.read(2.0)
    assert [(r.energy_j, r.power_w) for r in second] == [(150.0, 75.0), (70.0, 35.0)]
    assert backend.describe()["devices"][1] == {
        "device": "gpu1",
        "uuid": "GPU-bbb",
        "model": "Tesla T4",
        "method": METHOD_NVML_POWER,
    }


def test_nvml_without_a_driver_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_library() -> None:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)

    monkeypatch.setattr(pynvml, "nvmlInit", no_library)
    with pytest.raises(Unavailable, match="NVML cannot start"):
        nvml.open_nvml()


def test_nvml_counter_restart_gives_no_figure_for_that_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    RecordedNvml([("GPU-aaa", A100, [5_000, 1_000, 3_000], [0], [50])]).patch(monkeypatch)
    backend = nvml.open_nvml()
    assert backend.read(1.0) == []
    assert [r.energy_j for r in backend.read(1.0)] == [2.0]


# -- RAPL -------------------------------------------------------------------------------------------------


def test_rapl_sums_packages_keeps_dram_apart_and_skips_psys_core_and_mmio_copies(tmp_path: Path) -> None:
    root = rapl_tree(tmp_path)
    backend = rapl.open_rapl(root)
    zones = backend.describe()["zones"]
    assert zones["package"] == ["intel-rapl:0 (package-0)"]
    assert zones["dram"] == ["intel-rapl:0:2 (dram)"]
    assert any("intel-rapl-mmio:0" in s for s in zones["skipped"])
    assert any("psys" in s for s in zones["skipped"])
    for zone, add in (
        ("intel-rapl:0", 30_000_000),
        ("intel-rapl:0:2", 2_000_000),
        ("intel-rapl:1", 99_000_000),
    ):
        set_uj(root, zone, uj(root, zone) + add)
    set_uj(root, "intel-rapl:0:0", uj(root, "intel-rapl:0:0") + 25_000_000)  # core: inside the package
    package, dram = backend.read(2.0)
    assert (package.component, package.energy_j, package.power_w, package.wrapped) == (
        "package",
        30.0,
        15.0,
        False,
    )
    assert (dram.component, dram.energy_j) == ("dram", 2.0)


def test_rapl_corrects_a_wrap_at_max_energy_range(tmp_path: Path) -> None:
    root = rapl_tree(tmp_path)
    set_uj(root, "intel-rapl:0", MAX_UJ - 1_000_000)
    backend = rapl.open_rapl(root)
    set_uj(root, "intel-rapl:0", 4_000_000)
    package = backend.read(1.0)[0]
    assert package.energy_j == 5.0
    assert package.wrapped


def test_rapl_root_only_counter_is_unavailable_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = rapl_tree(tmp_path)
    real = Path.read_text

    def denied(self: Path, *args: object, **kw: object) -> str:
        if self.name == "energy_uj":
            raise PermissionError(13, "Permission denied")
        return real(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(Unavailable, match="CVE-2020-8694"):
        rapl.open_rapl(root)
    with pytest.raises(Unavailable, match="does not exist"):
        rapl.open_rapl(tmp_path / "none")


# -- CPU proxy and selection ----------------------------------------------------------------------------


def test_cpu_proxy_is_utilisation_through_the_load_curve_times_tdp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu_proxy.psutil, "cpu_percent", lambda interval=None: 50.0)
    backend = cpu_proxy.open_cpu_proxy(tdp_w=100.0)
    (reading,) = backend.read(2.0)
    assert (reading.method, reading.utilisation, reading.power_w, reading.energy_j) == (
        METHOD_CPU_PROXY,
        0.5,
        75.0,
        150.0,
    )


def test_cpu_proxy_tdp_from_the_table_and_a_miss_names_tdp_w(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC 7763 64-Core Processor\n")
    assert cpu_proxy.cpu_model(info) == "AMD EPYC 7763 64-Core Processor"
    assert cpu_proxy.CpuProxyBackend(model=cpu_proxy.cpu_model(info)).tdp_w == 280.0
    with pytest.raises(SciError) as caught:
        cpu_proxy.CpuProxyBackend(model="Imaginary CPU 9000")
    assert "--tdp-w" in caught.value.hint


def test_auto_takes_gpus_and_rapl_else_the_proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    RecordedNvml([("GPU-aaa", A100, [0], [0], [0])]).patch(monkeypatch)
    with_rapl = open_backends(("auto",), BackendOptions(powercap_root=rapl_tree(tmp_path)))
    assert [b.name for b in with_rapl.backends] == ["nvml", "rapl"]
    without = open_backends(("auto",), BackendOptions(tdp_w=65.0, powercap_root=tmp_path / "none"))
    assert [b.name for b in without.backends] == ["nvml", "cpu-proxy"]
    assert [u.backend for u in without.unavailable] == ["rapl"]


def test_backend_choices(tmp_path: Path) -> None:
    assert parse_choice("nvml, rapl") == ("nvml", "rapl")
    for bad in ("gpu", "auto,rapl", "rapl,cpu-proxy", ""):
        with pytest.raises(SciError):
            parse_choice(bad)
    with pytest.raises(SciError, match="rapl is unavailable"):
        open_backends(("rapl",), BackendOptions(powercap_root=tmp_path / "none"))


# -- sampler ----------------------------------------------------------------------------------------------


class Steady:
    """A backend drawing ``power_w`` constantly."""

    name = "steady"

    def __init__(self, power_w: float) -> None:
        self.power_w = power_w

    def describe(self) -> dict[str, object]:
        return {"name": self.name}

    def read(self, elapsed_s: float) -> list[Reading]:
        return [Reading("cpu", "cpu", METHOD_CPU_PROXY, self.power_w * elapsed_s, self.power_w, 0.5)]

    def close(self) -> None:
        pass


def test_sampler_covers_the_run_without_gaps_and_sums_energy() -> None:
    seen = []
    sampler = Sampler([Steady(10.0)], interval_s=0.01, on_sample=seen.append)
    sampler.start()
    while sampler.samples < 3:
        sampler.sample_now()
    sampler.stop()
    assert all(a.t_end == b.t_start for a, b in itertools.pairwise(seen))
    total_s = seen[-1].t_end - seen[0].t_start
    assert math.isclose(sampler.energy_j, 10.0 * total_s, rel_tol=1e-9)


# -- prediction -------------------------------------------------------------------------------------------


@given(st.floats(min_value=1e-6, max_value=1e6), st.integers(min_value=2, max_value=50), st.integers(0, 500))
def test_constant_steps_predict_exactly_with_no_interval(energy: float, k: int, more: int) -> None:
    estimate = predict_total([energy] * k, total_steps=k + more)
    assert math.isclose(estimate.value, energy * (k + more), rel_tol=1e-9)
    assert estimate.low is not None
    assert estimate.high is not None
    assert math.isclose(estimate.low, estimate.value, rel_tol=1e-9)
    assert math.isclose(estimate.high, estimate.value, rel_tol=1e-9)


def test_interval_narrows_as_steps_accumulate_on_noisy_iid_steps() -> None:
    rng = random.Random(21031)
    steps = [rng.gauss(100.0, 15.0) for _ in range(400)]
    widths = []
    for k in (5, 20, 80, 320):
        estimate = predict_total(steps[:k], total_steps=400)
        assert estimate.low is not None
        assert estimate.high is not None
        widths.append(estimate.high - estimate.low)
        assert estimate.low <= math.fsum(steps) <= estimate.high  # the realised total (seeded)
    assert widths == sorted(widths, reverse=True)
    done = predict_total(steps, total_steps=400)
    assert done.low == done.high == done.value


def test_t_quantiles_match_tables() -> None:
    for df, table in ((1, 6.314), (2, 2.920), (4, 2.132), (10, 1.812), (30, 1.697)):
        assert math.isclose(t_quantile(0.95, df), table, abs_tol=2e-3)


# -- Tracker and KFP --------------------------------------------------------------------------------------


def test_tracker_steps_predict_and_write_kfp_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(backends.OPENERS, "cpu-proxy", lambda _options: Steady(50.0))
    metrics = tmp_path / "mlpipeline-metrics.json"
    log_path = tmp_path / "run.scimeasure.jsonl"
    with Tracker(
        total_steps=10,
        interval_s=0.05,
        backends="cpu-proxy",
        location="DE",
        log_path=log_path,
        kfp_metrics_path=metrics,
    ) as tracker:
        for _ in range(3):
            tracker.step()
        prediction = tracker.predict()
    assert prediction.steps_done == 3
    assert prediction.carbon_g is not None
    assert prediction.energy_kwh.low is not None
    assert prediction.energy_kwh.high is not None
    assert prediction.energy_kwh.low <= prediction.energy_kwh.value <= prediction.energy_kwh.high
    written = json.loads(metrics.read_text())
    names = {m["name"]: m for m in written["metrics"]}
    assert set(names) == {"energy-kwh", "duration-s", "carbon-g"}
    assert all(m["format"] == "RAW" and kfp.NAME.match(m["name"]) for m in written["metrics"])
    assert tracker.result is not None
    assert math.isclose(names["energy-kwh"]["numberValue"], tracker.result.energy_kwh)
    assert log_path.read_text().splitlines()[-1].startswith('{"end"')


def test_kfp_rejects_names_the_ui_would_not_show() -> None:
    with pytest.raises(ValueError, match="KFP metric name"):
        kfp.metrics_json({"Carbon_g": 1.0})


# -- the command ------------------------------------------------------------------------------------------


def _run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


def _team(tmp_path: Path) -> Path:
    config = tmp_path / "sci.toml"
    config.write_text(
        '[project]\nname = "t"\n\n[[platforms]]\nname = "gpu-servers"\nlocation = "DE"\npue = 1.5\n'
    )
    return config


@pytest.mark.parametrize("code", [0, 3])
def test_measure_runs_the_command_stores_the_log_and_exits_with_its_code(
    code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(backends.OPENERS, "cpu-proxy", lambda _options: Steady(36.0))
    config = _team(tmp_path)
    script = f"import time; time.sleep(0.2); print('child says hi'); raise SystemExit({code})"
    args = ["measure", "-c", str(config), "--interval", "0.05", "--backends", "cpu-proxy"]
    exit_code, out = _run_cli(
        [*args, "--unit-count", "4", "--unit", "runs", "--", sys.executable, "-c", script], capsys
    )
    assert exit_code == code
    (log_path,) = (tmp_path / "measurements").glob("*.scimeasure.jsonl")
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert lines[0]["format"] == "sci-report-measure"
    assert lines[-1]["exit_code"] == code
    energy_j = sum(line.get("energy_j", 0.0) for line in lines)
    assert "ingest: 1 files (1 ingested)" in out
    e_kwh = energy_j / 3_600_000 * 1.5
    carbon = e_kwh * 344.14  # DE in the bundle
    printed = {key: float(value) for key, value in re.findall(r"^(E|carbon|SCI): ([0-9.e+-]+)", out, re.M)}
    assert math.isclose(printed["E"], e_kwh, rel_tol=1e-5)
    assert math.isclose(printed["carbon"], carbon, rel_tol=1e-5)
    assert math.isclose(printed["SCI"], carbon / 4, rel_tol=1e-5)
    assert "gCO2e / runs" in out
    from sci import app
    from sci.config import load_config

    result = app.run_compute(load_config(config))
    assert math.isclose(result.platforms[0].energy_kwh, e_kwh, rel_tol=1e-6)


def test_measure_without_config_prints_and_sci_undefined_for_r_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(backends.OPENERS, "cpu-proxy", lambda _options: Steady(10.0))
    log_path = tmp_path / "x.scimeasure.jsonl"
    metrics = tmp_path / "m.json"
    args = [
        "measure",
        "--interval",
        "0.05",
        "--backends",
        "cpu-proxy",
        "--location",
        "FR",
        "--unit-count",
        "0",
    ]
    code, out = _run_cli(
        [*args, "--log", str(log_path), "--kfp-metrics", str(metrics), "--", sys.executable, "-c", "pass"],
        capsys,
    )
    assert code == 0
    assert "ingest" not in out
    assert "SCI: undefined (R = 0)" in out
    assert log_path.is_file()
    assert {m["name"] for m in json.loads(metrics.read_text())["metrics"]} == {
        "energy-kwh",
        "duration-s",
        "carbon-g",
    }


def test_measure_missing_command_exits_127(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(backends.OPENERS, "cpu-proxy", lambda _options: Steady(10.0))
    code, out = _run_cli(["measure", "--backends", "cpu-proxy", "--", "no-such-command-xyz"], capsys)
    assert code == 127
    assert "command not found: no-such-command-xyz" in out
    assert not list((tmp_path / "measurements").glob("*"))


_CHILD_WAITS_FOR_A_SIGNAL = """
import pathlib, signal, sys, time
def handler(signum, frame):
    pathlib.Path(sys.argv[2]).write_text(str(signum))
    sys.exit(7)
signal.signal(signal.SIGINT, handler)
signal.signal(signal.SIGTERM, handler)
pathlib.Path(sys.argv[1]).write_text("ready")
time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_measure_forwards_a_signal_to_the_command_and_ends_with_its_exit_code(
    sig: signal.Signals, tmp_path: Path
) -> None:
    """Not a terminal's Ctrl-C (that reaches the whole foreground group): a signal sent to sci-report
    alone, as by `kill` or a CI runner cancelling a job, is passed on; the log is still written."""
    ready, got, log = tmp_path / "ready", tmp_path / "got", tmp_path / "run.scimeasure.jsonl"
    argv = [sys.executable, "-m", "sci", "measure", "--interval", "0.1", "--backends", "cpu-proxy"]
    argv += ["--tdp-w", "65", "--location", "DE", "--log", str(log), "--"]
    argv += [sys.executable, "-c", _CHILD_WAITS_FOR_A_SIGNAL, str(ready), str(got)]
    proc = subprocess.Popen(
        argv, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), proc.communicate(timeout=5)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert got.read_text() == str(int(sig))  # the command got the signal itself
    assert proc.returncode == 7, (out, err)  # and sci-report ended with the command's code
    last = json.loads(log.read_text().splitlines()[-1])
    assert last["exit_code"] == 7
    assert b"E: " in out + err  # the figures were still printed
