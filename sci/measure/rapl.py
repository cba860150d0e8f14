"""Intel/AMD RAPL energy counters through Linux powercap sysfs (``/sys/class/powercap``).

Zones are read by their ``name`` file, never by position: top-level ``package-N`` zones are summed into
one ``package`` reading and ``dram`` zones (top-level or a package's subzone) into one ``dram`` reading.
``core``/``uncore`` (inside a package) and ``psys`` (the platform, which contains the packages) are never
added on top. ``intel-rapl-mmio`` zones repeating an ``intel-rapl`` zone's name are the same counter and
are skipped. A counter below its previous value wrapped at ``max_energy_range_uj``.
``energy_uj`` is readable by root only on most distributions since CVE-2020-8694: then the backend is
unavailable, with that reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sci.measure.readings import METHOD_RAPL, Reading, Unavailable
from sci.units import UJ_PER_J

NAME = "rapl"
POWERCAP_ROOT = Path("/sys/class/powercap")
_ZONE = re.compile(r"^(intel-rapl(?:-mmio)?):([0-9a-f]+)$")
_SUBZONE = re.compile(r"^(intel-rapl(?:-mmio)?):([0-9a-f]+):([0-9a-f]+)$")
_CONTROL_TYPES = ("intel-rapl", "intel-rapl-mmio")  # real sysfs nests the zones here too


@dataclass(slots=True)
class _Counter:
    zone: str  # "intel-rapl:0", "intel-rapl:0:2"
    name: str  # "package-0", "dram"
    energy_path: Path
    max_uj: int
    last_uj: int

    def delta_uj(self) -> tuple[int, bool]:
        """Energy since the last read, and whether the counter wrapped."""
        now = _read_int(self.energy_path, self.zone)
        last, self.last_uj = self.last_uj, now
        if now >= last:
            return now - last, False
        return self.max_uj - last + now, True


def _read_int(path: Path, zone: str) -> int:
    try:
        return int(path.read_text(encoding="ascii").strip())
    except PermissionError:
        raise Unavailable(
            NAME,
            f"{path} is readable by root only (CVE-2020-8694); run as root, or allow reading it with "
            f"`sudo chmod a+r {path.parent.parent}/intel-rapl:*/energy_uj` (resets at boot)",
        ) from None
    except (OSError, ValueError) as exc:
        raise Unavailable(NAME, f"cannot read {zone} {path.name}: {exc}") from None


def _zone_dirs(root: Path) -> dict[str, Path]:
    """Top-level zone directories by zone name (``intel-rapl:0``), wherever the tree puts them."""
    found: dict[str, Path] = {}
    for folder in (root, *(root / c for c in _CONTROL_TYPES)):
        if folder.is_dir():
            for entry in sorted(folder.iterdir()):
                if _ZONE.match(entry.name) and entry.is_dir():
                    found.setdefault(entry.name, entry)
    return found


def _subzone_dirs(root: Path, zone: str, folder: Path) -> list[Path]:
    candidates = [*folder.iterdir(), *(root.iterdir() if root.is_dir() else [])]
    by_name: dict[str, Path] = {}
    for entry in sorted(candidates):
        match = _SUBZONE.match(entry.name)
        if match and f"{match[1]}:{match[2]}" == zone and entry.is_dir():
            by_name.setdefault(entry.name, entry)
    return list(by_name.values())


def _name(folder: Path) -> str | None:
    try:
        return (folder / "name").read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _counter(zone: str, folder: Path) -> _Counter:
    name = _name(folder) or zone
    max_uj = _read_int(folder / "max_energy_range_uj", zone)
    energy = folder / "energy_uj"
    return _Counter(zone, name, energy, max_uj, _read_int(energy, zone))


def discover(root: Path) -> tuple[list[_Counter], list[_Counter], list[str]]:
    """Package counters, DRAM counters, and what was skipped (and why)."""
    packages: list[_Counter] = []
    dram: list[_Counter] = []
    skipped: list[str] = []
    seen_names: set[str] = set()
    zones = _zone_dirs(root)
    for zone in sorted(zones, key=lambda z: z.startswith("intel-rapl-mmio")):  # msr zones first
        folder = zones[zone]
        name = _name(folder)
        if name is None:
            skipped.append(f"{zone}: no readable name")
            continue
        if name in seen_names:
            skipped.append(f"{zone} ({name}): a second copy of the {name} counter")
            continue
        seen_names.add(name)
        if name.startswith("package-"):
            packages.append(_counter(zone, folder))
            dram.extend(
                _counter(sub.name, sub) for sub in _subzone_dirs(root, zone, folder) if _name(sub) == "dram"
            )
        elif name == "dram":
            dram.append(_counter(zone, folder))
        else:
            skipped.append(f"{zone} ({name}): contains the packages, not added on top")
    return packages, dram, skipped


class RaplBackend:
    name = NAME

    def __init__(self, root: Path = POWERCAP_ROOT) -> None:
        self.root = root
        self.packages, self.dram, self.skipped = discover(root)
        if not self.packages:
            raise Unavailable(NAME, f"no RAPL package zone under {root}")

    def describe(self) -> dict[str, Any]:
        return {
            "name": NAME,
            "method": METHOD_RAPL,
            "root": str(self.root),
            "zones": {
                "package": [f"{c.zone} ({c.name})" for c in self.packages],
                "dram": [f"{c.zone} ({c.name})" for c in self.dram],
                "skipped": self.skipped,
            },
        }

    def read(self, elapsed_s: float) -> list[Reading]:
        readings = [self._sum("package", self.packages, elapsed_s)]
        if self.dram:
            readings.append(self._sum("dram", self.dram, elapsed_s))
        return readings

    @staticmethod
    def _sum(component: str, counters: list[_Counter], elapsed_s: float) -> Reading:
        total_uj = 0
        wrapped = False
        for counter in counters:
            delta, wrap = counter.delta_uj()
            total_uj += delta
            wrapped = wrapped or wrap
        energy_j = total_uj / UJ_PER_J
        power_w = energy_j / elapsed_s if elapsed_s > 0 else 0.0
        return Reading("cpu", component, METHOD_RAPL, energy_j, power_w, None, wrapped)

    def close(self) -> None:
        """Nothing to release: every read opens its file."""


def open_rapl(root: Path = POWERCAP_ROOT) -> RaplBackend:
    """The RAPL backend, or ``Unavailable`` (no powercap, no package zone, energy_uj not readable)."""
    if not root.is_dir():
        raise Unavailable(NAME, f"{root} does not exist (no powercap: not Linux, or RAPL not exposed)")
    return RaplBackend(root)
