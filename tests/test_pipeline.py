"""End to end on the bundled example: ingest, compute, report; and the store's guarantees.

Refresh the golden result with ``SCI_UPDATE_GOLDEN=1 pytest tests/test_pipeline.py``.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from team_helpers import add_job, copy_team

from collectors.base import SourceContext
from collectors.powermetrics_text import PowermetricsText
from sci import app
from sci.cli import main
from sci.config import Config, load_config
from sci.factors import load_bundle
from sci.ingest import Outcome
from sci.model import Record
from sci.results import ComputeResult

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "example_result.json"
FIXED_NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
FIXTURES = ROOT / "tests" / "fixtures"


def _ctx(path: Path, device: str) -> SourceContext:
    return SourceContext(path=path, device=device)


@pytest.fixture
def team(tmp_path: Path) -> Path:
    return copy_team(tmp_path)


def config_of(team: Path) -> Config:
    return load_config(team / "sci.toml")


def samples(config: Config) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(config.store_path), read_only=True) as con:
        return con.execute(
            "SELECT f.path, count(*), sum(energy_kwh), sum(runtime_s) "
            "FROM samples JOIN files f USING (file_id) GROUP BY ALL ORDER BY 1"
        ).fetchall()


def test_ingesting_twice_changes_nothing(team: Path) -> None:
    config = config_of(team)
    first = app.run_ingest(config)
    assert {o.outcome for o in first} == {Outcome.INGESTED}
    before = samples(config)
    result_before = app.run_compute(config, now=FIXED_NOW)
    second = app.run_ingest(config)
    assert {o.outcome for o in second} == {Outcome.UNCHANGED}
    assert samples(config) == before
    result_after = app.run_compute(config, now=FIXED_NOW)
    assert result_after.to_json() == result_before.to_json()


def test_a_changed_file_replaces_only_its_own_rows(team: Path) -> None:
    config = config_of(team)
    app.run_ingest(config)
    before = {row[0]: row[1:] for row in samples(config)}
    add_job(team)
    outcomes = {o.name: o.outcome for o in app.run_ingest(config)}
    assert outcomes["ci/jobs-2026-10.csv"] == Outcome.REPLACED
    assert {v for k, v in outcomes.items() if k != "ci/jobs-2026-10.csv"} == {Outcome.UNCHANGED}
    after = {row[0]: row[1:] for row in samples(config)}
    assert after["ci/jobs-2026-10.csv"][0] == before["ci/jobs-2026-10.csv"][0] + 1
    assert after["ci/jobs-2026-10.csv"][2] == pytest.approx(before["ci/jobs-2026-10.csv"][2] + 600)
    assert {k: v for k, v in after.items() if k.startswith("laptops")} == {
        k: v for k, v in before.items() if k.startswith("laptops")
    }


def test_the_same_bytes_under_another_name_count_once(team: Path) -> None:
    config = config_of(team)
    app.run_ingest(config)
    result = app.run_compute(config, now=FIXED_NOW)
    copy = team / "laptops" / "alice" / "powermetrics-2026-10-copy.txt.gz"
    shutil.copy(team / "laptops" / "alice" / "powermetrics-2026-10.txt.gz", copy)
    outcomes = {o.name: o for o in app.run_ingest(config)}
    assert outcomes["laptops/alice/powermetrics-2026-10-copy.txt.gz"].outcome == Outcome.DUPLICATE
    again = app.run_compute(config, now=FIXED_NOW)
    assert again.total_carbon_g == result.total_carbon_g
    duplicate_rows = [q for q in again.quality if q.kind == "duplicate-file"]
    assert len(duplicate_rows) == 1
    assert duplicate_rows[0].file == "laptops/alice/powermetrics-2026-10-copy.txt.gz"


def test_a_malformed_line_fails_with_file_and_line_and_stores_nothing_of_it(
    team: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_of(team)
    app.run_ingest(config)
    before = samples(config)
    jobs = team / "ci" / "jobs-2026-10.csv"
    lines = jobs.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(100, "2026-10-05T10:00:00Z,not-a-time,GitHub Actions 3,r,ci.yml,lint,12\n")
    jobs.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(SystemExit) as caught:
        main(["ingest", "-c", str(team / "sci.toml")])
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert f"{jobs}:101" in err.splitlines()[0]
    assert "hint:" in err
    assert samples(config) == before  # the old version of the file is still there, nothing of the new


def test_a_file_no_longer_named_is_removed_on_a_full_ingest(team: Path) -> None:
    config = config_of(team)
    app.run_ingest(config)
    (team / "laptops" / "bob" / "powermetrics-2026-10.txt.gz").unlink()
    outcomes = {o.name: o.outcome for o in app.run_ingest(config)}
    assert outcomes["laptops/bob/powermetrics-2026-10.txt.gz"] == Outcome.REMOVED
    assert "laptops/bob/powermetrics-2026-10.txt.gz" not in {row[0] for row in samples(config)}


def test_compute_follows_the_formulas(team: Path) -> None:
    config = config_of(team)
    app.run_ingest(config)
    result = app.run_compute(config, now=FIXED_NOW)
    bundle = load_bundle()
    by_name = {p.platform: p for p in result.platforms}
    with duckdb.connect(str(config.store_path), read_only=True) as con:
        gpu_kwh = con.execute("SELECT sum(energy_kwh) FROM samples WHERE platform = 'gpu-servers'").fetchone()
    assert gpu_kwh is not None
    gpu = by_name["gpu-servers"]
    intensity = bundle.grid_intensity("DE").value
    assert gpu.it_energy_kwh == pytest.approx(gpu_kwh[0])
    assert gpu.energy_kwh == pytest.approx(gpu_kwh[0] * 1.5)
    assert gpu.operational_g == pytest.approx(gpu_kwh[0] * 1.5 * intensity)
    # M: one server and four GPUs reserved for the whole window: October in Berlin, 31 days + 1 hour
    # (the clocks go back on 25 October)
    window_h = 31 * 24 + 1
    assert result.window_days * 24 == pytest.approx(window_h)
    expected_m = sum(
        count * bundle.embodied(kind).value * 1000 * window_h / (bundle.lifespan(kind).value * 8760)
        for kind, count in (("server", 1), ("gpu", 4))
    )
    assert gpu.embodied_g == pytest.approx(expected_m)
    assert gpu.sci_g_per_unit == pytest.approx((gpu.operational_g + gpu.embodied_g) / 42)
    assert gpu.annual_carbon_g == pytest.approx(gpu.carbon_g * 365 * 24 / window_h)
    assert result.window_timezone == "Europe/Berlin"
    for platform in result.platforms:
        assert platform.carbon_g == pytest.approx(
            platform.operational_g + platform.provider_carbon_g + platform.embodied_g
        )
        assert platform.sci_g_per_unit is not None
    ci = by_name["ci"]
    assert ci.it_energy_by_tier_kwh == {"proxy-estimated": pytest.approx(ci.it_energy_kwh)}
    assert ci.pue == bundle.pue("azure").value


def test_the_example_counts_aws_carbon_as_reported_and_codecarbon_only_where_nothing_finer_is(
    team: Path,
) -> None:
    config = config_of(team)
    app.run_ingest(config)
    result = app.run_compute(config, now=FIXED_NOW)
    by_name = {p.platform: p for p in result.platforms}
    cloud = by_name["cloud"]  # AWS CARBON_EMISSIONS: four rows of 2026-10, lbm totals in t CO2e
    assert cloud.provider_carbon_g == pytest.approx((0.081212 + 0.002226 + 0.009979 + 0.000556) * 1e6)
    assert cloud.provider_market_carbon_g == pytest.approx((0.021446 + 0.001027 + 0.002628 + 0.000308) * 1e6)
    assert (cloud.energy_kwh, cloud.embodied_g) == (0.0, 0.0)
    assert cloud.sci_g_per_unit == pytest.approx(cloud.provider_carbon_g / 18_400)
    assert cloud.devices == 4
    assert cloud.observed_device_hours == pytest.approx(4 * 744)  # scopes 1-3 of a month: its hours once
    # carol's CodeCarbon run overlaps her powermetrics log: powermetrics (10-minute samples) counts for
    # cpu and gpu, CodeCarbon's cpu and gpu records are shown as dropped; its RAM estimate counts
    (overlap,) = [q for q in result.quality if q.kind == "overlap"]
    assert (overlap.file, overlap.action, overlap.rows) == ("laptops/carol/emissions.csv", "dropped", 2)
    assert "laptops/carol/powermetrics-2026-10.txt.gz, which counts first" in overlap.detail
    with duckdb.connect(str(config.store_path), read_only=True) as con:
        rows = con.execute(
            "SELECT component, energy_kwh FROM samples JOIN files f USING (file_id) "
            "WHERE f.path = 'laptops/carol/emissions.csv' ORDER BY 1"
        ).fetchall()
        pm = con.execute(
            "SELECT sum(energy_kwh) FROM samples JOIN files f USING (file_id) "
            "WHERE f.path LIKE 'laptops/%/powermetrics-%'"
        ).fetchone()
    assert [r[0] for r in rows] == ["cpu", "dram", "gpu"]
    assert pm is not None
    laptops = by_name["laptops"]
    assert laptops.it_energy_kwh == pytest.approx(pm[0] + dict(rows)["dram"])
    carol = next(d for d in result.top_devices if d.device == "carol")
    assert carol.files == ("laptops/carol/emissions.csv", "laptops/carol/powermetrics-2026-10.txt.gz")


def test_an_undeclared_r_gives_an_undefined_sci(team: Path) -> None:
    text = (team / "sci.toml").read_text(encoding="utf-8")
    (team / "sci.toml").write_text(
        text.replace('period = "2026-10"\ncount = 682', 'period = "2026-09"\ncount = 682')
    )
    config = config_of(team)
    app.run_ingest(config)
    ci = next(p for p in app.run_compute(config, now=FIXED_NOW).platforms if p.platform == "ci")
    assert ci.sci_g_per_unit is None
    assert ci.periods_without_r == ("2026-10",)
    assert ci.carbon_g > 0


def test_run_writes_the_report(team: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["run", str(team)])
    out = capsys.readouterr().out
    assert "ingest: 7 files (7 ingested)" in out
    for name in ("laptops", "gpu-servers", "ci", "cloud", "total"):
        assert name in out
    html = (team / "out" / "report.html").read_text(encoding="utf-8")
    assert "gpu-servers" in html
    assert "data:image/svg+xml;base64," in html
    assert (team / "out" / "report.pdf").read_bytes().startswith(b"%PDF")


def test_the_example_result_matches_the_golden_file(team: Path) -> None:
    config = config_of(team)
    app.run_ingest(config)
    result = app.run_compute(config, now=FIXED_NOW)
    actual = _comparable(result)
    if os.environ.get("SCI_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(actual, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert actual == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_gzip_and_plain_copies_give_the_same_records(team: Path) -> None:
    config = config_of(team)
    app.run_ingest(config)
    before = {row[0]: row[1:] for row in samples(config)}
    packed = team / "gpu-server" / "nvidia-smi-2026-10.csv.gz"
    plain = packed.with_suffix("")
    plain.write_bytes(gzip.decompress(packed.read_bytes()))
    packed.unlink()
    app.run_ingest(config)
    after = {row[0]: row[1:] for row in samples(config)}
    assert after["gpu-server/nvidia-smi-2026-10.csv"] == before["gpu-server/nvidia-smi-2026-10.csv.gz"]


def _comparable(result: ComputeResult) -> dict[str, Any]:
    """The result with numbers rounded to 9 significant digits and ingest times removed."""
    raw = json.loads(result.to_json())
    for item in raw["files"]:
        item.pop("ingested_at")
    return _round(raw)


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


class RecordingObserver:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def start(self, planned: Any, size_bytes: int) -> None:
        self.events.append(("start", (planned.name, size_bytes)))

    def advance(self, bytes_done: int) -> None:
        self.events.append(("advance", bytes_done))

    def finish(self, outcome: Any) -> None:
        self.events.append(("finish", outcome.outcome))


def test_progress_is_reported_in_bytes_read(team: Path) -> None:
    observer = RecordingObserver()
    app.run_ingest(config_of(team), observer=observer)
    starts = [value for kind, value in observer.events if kind == "start"]
    assert len(starts) == 7
    for name, size in starts:
        assert size == (team / name).stat().st_size
        index = observer.events.index(("start", (name, size)))
        following = observer.events[index + 1 :]
        done = [v for k, v in following[: following.index(("finish", Outcome.INGESTED))] if k == "advance"]
        assert done == sorted(done)
        assert done[-1] == size  # every byte was read, and reported
    observer.events.clear()
    app.run_ingest(config_of(team), observer=observer)
    assert {kind for kind, _ in observer.events} == {"finish"}  # unchanged files are not read again


def test_a_renamed_platform_keeps_its_data(team: Path) -> None:
    # Review finding: a copy named by a renamed platform was recorded as a duplicate of a file of the
    # platform that no longer exists, and the renamed platform came out at 0 g.
    config = config_of(team)
    app.run_ingest(config)
    before = next(p for p in app.run_compute(config, now=FIXED_NOW).platforms if p.platform == "ci")
    (team / "ci-new").mkdir()
    shutil.copy(team / "ci" / "jobs-2026-10.csv", team / "ci-new" / "jobs-2026-10.csv")
    text = (team / "sci.toml").read_text(encoding="utf-8")
    text = text.replace('name = "ci"', 'name = "ci-runners"').replace(
        'platform = "ci"', 'platform = "ci-runners"'
    )
    (team / "sci.toml").write_text(text.replace('paths = ["ci/jobs-*.csv"]', 'paths = ["ci-new/jobs-*.csv"]'))
    config = config_of(team)
    outcomes = {o.name: o.outcome for o in app.run_ingest(config)}
    assert outcomes["ci/jobs-2026-10.csv"] == Outcome.REMOVED
    assert outcomes["ci-new/jobs-2026-10.csv"] == Outcome.INGESTED
    after = next(p for p in app.run_compute(config, now=FIXED_NOW).platforms if p.platform == "ci-runners")
    assert after.carbon_g == pytest.approx(before.carbon_g)


def test_two_files_covering_the_same_device_and_time_count_once(team: Path) -> None:
    # Review finding: a snapshot of a log that later grew was summed with the full log (+52 %). Now the
    # full log counts (same tier and sampling; it covers more time) and the snapshot is shown as dropped.
    config = config_of(team)
    app.run_ingest(config)
    before = app.run_compute(config, now=FIXED_NOW)
    log = gzip.decompress((team / "gpu-server" / "nvidia-smi-2026-10.csv.gz").read_bytes())
    snapshot = team / "gpu-server" / "nvidia-smi-2026-10-snapshot.csv"
    snapshot.write_bytes(b"".join(log.splitlines(keepends=True)[:20_000]))
    config = config_of(team)
    app.run_ingest(config)
    after = app.run_compute(config, now=FIXED_NOW)
    for old, new in zip(before.platforms, after.platforms, strict=True):
        assert new.energy_kwh == pytest.approx(old.energy_kwh, rel=1e-12)
        assert new.observed_device_hours == pytest.approx(old.observed_device_hours, rel=1e-12)
    (row,) = [q for q in after.quality if q.kind == "overlap" and q.file.startswith("gpu-server/")]
    assert row.file == "gpu-server/nvidia-smi-2026-10-snapshot.csv"
    assert row.action == "dropped"
    assert row.rows > 19_000
    assert row.line_ranges.startswith("6-")  # header, then one row per GPU (4) opens its series
    assert "gpu-server/nvidia-smi-2026-10.csv.gz, which counts first" in row.detail
    assert any("overlaps gpu-server/nvidia-smi-2026-10.csv.gz" in note for note in after.notes)


def test_a_measured_source_counts_before_a_proxy_for_the_same_device(tmp_path: Path) -> None:
    # Precedence across tiers: a proxy runtime log and a measured log of one device and hour. The measured
    # records count; the proxy row counts only for the part of its interval that nothing measured covers.
    (tmp_path / "pm.txt").write_bytes((FIXTURES / "powermetrics" / "m1_monterey_text_gap.txt").read_bytes())
    records = [r for r in PowermetricsText().parse(_ctx(tmp_path / "pm.txt", "mac")) if isinstance(r, Record)]
    first, last = min(r.start_utc for r in records), max(r.end_utc for r in records)
    span_s = (last - first).total_seconds()
    (tmp_path / "runtime.csv").write_text(
        "start,end,utilisation_pct,tdp_w\n"
        f"{(first - timedelta(seconds=span_s)).isoformat()},{last.isoformat()},50,30\n",
        encoding="utf-8",
    )
    (tmp_path / "sci.toml").write_text(
        '[[platforms]]\nname = "laptops"\nlocation = "DE"\n'
        '[[platforms.sources]]\ncollector = "powermetrics"\npaths = ["pm.txt"]\ndevice = "mac"\n'
        '[[platforms.sources]]\ncollector = "tdp-proxy"\npaths = ["runtime.csv"]\ndevice = "mac"\n'
        'component = "cpu"\n',
        encoding="utf-8",
    )
    config = config_of(tmp_path)
    app.run_ingest(config)
    result = app.run_compute(config, now=FIXED_NOW)
    (row,) = [q for q in result.quality if q.kind == "overlap"]
    assert row.file == "runtime.csv"
    cpu_s = sum(r.duration_s for r in records if r.component == "cpu")
    assert row.seconds == pytest.approx(cpu_s)
    assert "powermetrics" not in row.file
    proxy = result.platforms[0].it_energy_by_tier_kwh["proxy-estimated"]
    full_kwh = 30 * 0.75 * 2 * span_s / 3_600_000  # Teads curve at 50 %: 0.75 of TDP
    assert proxy == pytest.approx(full_kwh * (1 - cpu_s / (2 * span_s)), rel=1e-9)


def test_every_factor_used_is_listed_with_its_own_source(team: Path) -> None:
    # Review finding: a second inventory line of the same class with its own TE, and a tdp_w given in
    # sci.toml, were used but missing from the factor list.
    text = (team / "sci.toml").read_text(encoding="utf-8")
    text = text.replace(
        'device_model = "AMD EPYC 7763"        # seen', "tdp_w = 280.0                         # seen"
    )
    text += (
        '\n[[embodied]]\nplatform = "gpu-servers"\ndevice_class = "server"\ncount = 1\ntotal_kgco2e = 3000\n'
    )
    (team / "sci.toml").write_text(text, encoding="utf-8")
    config = config_of(team)
    app.run_ingest(config)
    result = app.run_compute(config, now=FIXED_NOW)
    servers = [(f.value, f.source) for f in result.factors if f.kind == "embodied" and f.key == "server"]
    assert (3000.0, "sci.toml embodied[4].total_kgco2e") in servers
    assert any(value == 1000.0 for value, _ in servers)
    (tdp,) = [f for f in result.factors if f.kind == "cpu_tdp"]
    assert (tdp.value, tdp.licence) == (280.0, "user input")


def test_an_unknown_factor_is_a_config_error_before_anything_is_stored(
    team: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (team / "sci.toml").read_text(encoding="utf-8")
    (team / "sci.toml").write_text(text.replace('"AMD EPYC 7763"', '"AMD EPYC 7764X"'), encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["run", str(team)])
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith(
        "[platforms[2].sources[0].device_model]: no CPU TDP for 'AMD EPYC 7764X' in factor bundle 2026.12.1"
    )
    assert "'AMD EPYC 7763'" in lines[1]
    assert '[factors.cpu_tdp_w] "AMD EPYC 7764X"' in lines[1]
    assert not (team / "sci.duckdb").exists()


def test_a_partial_window_says_what_it_left_out(team: Path) -> None:
    text = (team / "sci.toml").read_text(encoding="utf-8")
    text = text.replace('month = "2026-10"           #', "start = 2026-10-01\nend = 2026-10-15  #")
    (team / "sci.toml").write_text(text, encoding="utf-8")
    config = config_of(team)
    app.run_ingest(config)
    result = app.run_compute(config, now=FIXED_NOW)
    assert result.window_days == 14
    notes = "\n".join(result.notes)
    for platform in ("laptops", "gpu-servers", "ci"):
        assert f"{platform}: " in notes
        assert "stored records start outside the window and are not counted" in notes
        assert f"{platform}: R is declared for all of 2026-10, but the window covers only part of it" in notes
