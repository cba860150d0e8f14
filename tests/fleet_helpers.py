"""Three simulated machines that split examples/team between them, and the lead's store (test_fleet.py)."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

from sci import app
from sci.config import Config, load_config
from sci.results import ComputeResult

TEAM = Path(__file__).resolve().parents[1] / "examples" / "team"
MACHINES = {
    # machine -> (platforms whose sources it keeps, folders it holds)
    "laptop-fleet": (("laptops", "cloud"), ("laptops", "cloud")),
    "gpu-node-1": (("gpu-servers",), ("gpu-server",)),
    # the CI box also keeps a copy of bob's laptop log: the same bytes from two machines count once
    "ci-box": (("ci", "laptops"), ("ci", "laptops/bob")),
}
_SOURCES = re.compile(r"\n  \[\[platforms\.sources\]\]\n(?:  .*\n)*")
COMPARED = ("it_energy_kwh", "energy_kwh", "operational_g", "embodied_g", "carbon_g", "functional_units")


def team_toml(*, keep: tuple[str, ...], fleet: str = "") -> str:
    """examples/team/sci.toml with only the sources of the platforms in ``keep``, plus a [fleet] table."""
    head, *platforms = TEAM.joinpath("sci.toml").read_text(encoding="utf-8").split("\n[[platforms]]\n")
    kept = []
    for block in platforms:
        name = re.search(r'^name = "([^"]+)"', block, re.MULTILINE)
        assert name is not None
        kept.append(block if name[1] in keep else _SOURCES.sub("\n", block))
    return "\n[[platforms]]\n".join([head, *kept]) + (f"\n[fleet]\n{fleet}\n" if fleet else "")


def machine(root: Path, name: str, fleet: str) -> Config:
    """A machine's folder with its share of the team's files and its own sci.toml."""
    platforms, folders = MACHINES[name]
    home = root / name
    for folder in folders:
        shutil.copytree(TEAM / folder, home / folder)
    toml = team_toml(keep=platforms, fleet=f'{fleet}\nmachine = "{name}"')
    if folders == ("ci", "laptops/bob"):
        toml = toml.replace('paths = ["laptops/*/powermetrics-*.txt.gz"]', 'paths = ["laptops/bob/*.txt.gz"]')
        toml = re.sub(
            r"\n  \[\[platforms\.sources\]\]\n  collector = \"codecarbon\".*\n(?:  .*\n)*", "\n", toml
        )
    (home / "sci.toml").write_text(toml, encoding="utf-8")
    return load_config(home / "sci.toml")


def lead(root: Path, fleet: str = "") -> Config:
    """The lead's sci.toml: the team's platforms, embodied lines and R, and no files of its own."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "sci.toml").write_text(team_toml(keep=(), fleet=fleet), encoding="utf-8")
    return load_config(root / "sci.toml")


def direct(root: Path) -> ComputeResult:
    """The team's files ingested directly on one machine."""
    shutil.copytree(TEAM, root, ignore=shutil.ignore_patterns("out", "*.duckdb*"))
    config = load_config(root / "sci.toml")
    app.run_ingest(config)
    return app.run_compute(config)


def assert_same_totals(got: ComputeResult, want: ComputeResult) -> None:
    assert [p.platform for p in got.platforms] == [p.platform for p in want.platforms]
    for mine, theirs in zip(got.platforms, want.platforms, strict=True):
        for name in COMPARED:
            assert _close(getattr(mine, name), getattr(theirs, name)), (mine.platform, name)
        assert _close(mine.sci_g_per_unit, theirs.sci_g_per_unit), (mine.platform, "sci")
        assert mine.devices == theirs.devices
        assert mine.observed_device_hours == theirs.observed_device_hours or _close(
            mine.observed_device_hours, theirs.observed_device_hours
        )


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
