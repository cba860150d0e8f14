"""Read the RAPL zones of a Linux powercap tree (``/sys/class/powercap``), for a sampler writing the RAPL log.

``read_zones(root)`` lists every zone below ``root`` (the class directory, or one control type such as
``/sys/class/powercap/intel-rapl``), each once, with its parent zone. It reads files only: no program is
run. ``energy_uj`` is root-only on most distributions since CVE-2020-8694; reading it without permission
is a ``SciError`` that says how to grant access.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sci.errors import SciError

_ZONE_DIR = re.compile(r"[a-z][a-z-]*(?::[0-9a-f]+)+")
ACCESS_HINT = (
    "since CVE-2020-8694 energy_uj is readable by root only. Run the sampler as root, or grant read "
    "access until the next boot: sudo chmod a+r /sys/class/powercap/*/energy_uj (or, permanently, a udev "
    'rule: SUBSYSTEM=="powercap", ACTION=="add", RUN+="/bin/chmod a+r /sys%p/energy_uj")'
)


@dataclass(frozen=True, slots=True)
class RaplZone:
    """One powercap zone: ``zone`` is its directory name (``intel-rapl:0:2``), ``parent`` its parent's."""

    zone: str
    name: str
    energy_uj: int
    max_energy_range_uj: int
    parent: str | None


class RaplAccessError(SciError):
    """``energy_uj`` exists but may not be read (CVE-2020-8694)."""


def parent_of(zone: str) -> str | None:
    """``intel-rapl:0:2`` -> ``intel-rapl:0``; a top-level zone (``intel-rapl:0``) has none."""
    head, _, _ = zone.rpartition(":")
    return head if ":" in head else None


def read_zones(root: Path) -> list[RaplZone]:
    """Every zone below ``root`` with a readable ``name`` and ``energy_uj``, sorted by zone id.

    Zone directories are found by name (``<type>:<index>[:<index>...]``) at any depth, so both the flat
    symlinks of ``/sys/class/powercap`` and the nested tree of ``.../intel-rapl`` work; a zone reached twice
    is listed once. A zone without ``energy_uj`` (not a counter) is left out.
    """
    found: dict[str, RaplZone] = {}
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            children = sorted(folder.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            continue
        except PermissionError as exc:
            raise RaplAccessError(f"cannot list {folder}: {exc.strerror}", hint=ACCESS_HINT) from None
        for child in children:
            if not _ZONE_DIR.fullmatch(child.name) or not child.is_dir() or child.name in found:
                continue
            zone = _read_zone(child)
            if zone is not None:
                found[zone.zone] = zone
            pending.append(child)
    return [found[key] for key in sorted(found)]


def _read_zone(folder: Path) -> RaplZone | None:
    name = _read(folder / "name")
    energy = _read(folder / "energy_uj")
    if name is None or energy is None:
        return None
    top = _read(folder / "max_energy_range_uj")
    try:
        return RaplZone(
            zone=folder.name,
            name=name,
            energy_uj=int(energy),
            max_energy_range_uj=int(top) if top else 0,
            parent=parent_of(folder.name),
        )
    except ValueError:
        raise SciError(
            f"{folder}: energy_uj {energy!r} or max_energy_range_uj {top!r} is not a whole number",
            hint="check that this is a powercap zone directory",
        ) from None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except PermissionError:
        raise RaplAccessError(f"cannot read {path}: permission denied", hint=ACCESS_HINT) from None
    except UnicodeDecodeError:
        raise SciError(f"{path} is not text", hint="check that this is a powercap zone directory") from None


__all__ = ["ACCESS_HINT", "RaplAccessError", "RaplZone", "parent_of", "read_zones"]
