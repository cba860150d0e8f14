"""The measurement log (``*.scimeasure.jsonl``): a header, one line per sample per device component, and
an end line. Format: ``docs/formats/measure.md``; the ``measure`` collector reads it back."""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sci.errors import SciError
from sci.measure.readings import Backend
from sci.measure.sampler import Sample

FORMAT = "sci-report-measure"
VERSION = 1
SUFFIX = ".scimeasure.jsonl"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")  # a host name may hold "/": never a folder in the log's name
_DIGITS = 6  # µs for times, µJ for energy: finer than any meter, and keeps lines short


def header(
    *,
    command: Sequence[str],
    started_utc: datetime,
    interval_s: float,
    backends: Sequence[Backend],
    host: str | None = None,
) -> dict[str, Any]:
    described = [b.describe() for b in backends]
    proxy = next((d for d in described if "tdp_w" in d), {})
    return {
        "format": FORMAT,
        "version": VERSION,
        "host": host or socket.gethostname(),
        "command": list(command),
        "started_utc": started_utc.astimezone(UTC).isoformat(),
        "interval_s": interval_s,
        "backends": described,
        "tdp_w": proxy.get("tdp_w"),
        "cpu_model": proxy.get("cpu_model"),
    }


def sample_lines(sample: Sample) -> list[dict[str, Any]]:
    lines = []
    for r in sample.readings:
        line: dict[str, Any] = {
            "t_start": round(sample.t_start, _DIGITS),
            "t_end": round(sample.t_end, _DIGITS),
            "device": r.device,
            "component": r.component,
            "method": r.method,
            "energy_j": round(r.energy_j, _DIGITS),
            "power_w": round(r.power_w, _DIGITS),
            "utilisation": None if r.utilisation is None else round(r.utilisation, 4),
        }
        if r.wrapped:
            line["wrapped"] = True
        lines.append(line)
    return lines


class LogWriter:
    """Writes the log as the run goes: each sample is flushed, so a killed run keeps what it measured."""

    def __init__(self, path: Path, head: dict[str, Any]) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file: TextIO = path.open("w", encoding="utf-8")
        except OSError as exc:
            raise SciError(
                f"cannot write the measurement log {path}: {exc.strerror or exc}",
                hint="give a writable --log",
            ) from None
        self._write([head])

    def _write(self, objects: list[dict[str, Any]]) -> None:
        self._file.write("".join(json.dumps(o, separators=(",", ":")) + "\n" for o in objects))
        self._file.flush()

    def write_sample(self, sample: Sample) -> None:
        self._write(sample_lines(sample))

    def close(self, *, end: float, exit_code: int | None) -> None:
        self._write([{"end": round(end, _DIGITS), "exit_code": exit_code}])
        self._file.close()


def default_name(started_utc: datetime, host: str | None = None) -> str:
    stamp = started_utc.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = _UNSAFE.sub("_", host or socket.gethostname()).strip("_")[:64] or "host"
    return f"{stamp}-{name}-{os.getpid()}{SUFFIX}"
