"""How each derived nvidia-smi dmon fixture is made from the real 4-GPU sample (see its README).

``tests/test_nvidia_smi_dmon.py`` rebuilds every variant with these functions and checks that the bytes
are identical. Run this module to rewrite them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

FOLDER = Path(__file__).parent / "fixtures" / "nvidia_smi_dmon"
REAL = FOLDER / "dmon_4gpu_deepspeech_issue178.txt"
NEW_NAMES = "# gpu    pwr  gtemp  mtemp     sm    mem    enc    dec    jpg    ofa   mclk   pclk\n"
NEW_UNITS = "# Idx      W      C      C      %      %      %      %      %      %    MHz    MHz\n"


def parts(real: str) -> tuple[str, str, list[str]]:
    names, units, *rows = real.splitlines(keepends=True)
    return names, units, rows


def ticks(real: str) -> str:
    """Three ticks of the real rows; dmon re-prints its header before the third."""
    names, units, rows = parts(real)
    return names + units + "".join(rows) * 2 + names + units + "".join(rows)


def dated(row: str, stamp: str) -> str:
    return f" {stamp}" + row


def dt(
    real: str, stamps: tuple[str, ...] = ("20240105 10:15:01", "20240105 10:15:03", "20240105 10:15:05")
) -> str:
    """`-o DT` at -d 2: Date and Time columns in front (names/units widened as dmon prints them)."""
    names, units, rows = parts(real)
    head = "#Date       Time     " + names[1:] + "#YYYYMMDD   HH:MM:SS " + units[1:]
    return head + "".join(dated(row, stamp) for stamp in stamps for row in rows)


def dt_non_monotonic(real: str) -> str:
    return dt(real, ("20240105 10:15:01", "20240105 10:15:03", "20240105 10:15:02", "20240105 10:15:05"))


def na_heavy(real: str) -> str:
    """Three ticks; pwr written as - for GPU 1 in ticks 2 and 3 and for GPU 3 in tick 3."""
    names, units, rows = parts(real)
    out = names + units + "".join(rows)
    for tick in (1, 2):
        for gpu, row in enumerate(rows):
            dash = gpu == 1 or (gpu == 3 and tick == 2)
            out += row[:8] + "  -" + row[11:] if dash else row
    return out


def truncated(real: str) -> str:
    """Two ticks, then the first row of a third cut after its pwr value, without a line end."""
    names, units, rows = parts(real)
    return names + units + "".join(rows) * 2 + rows[0][:11]


def driver_change(real: str) -> str:
    """Two ticks as the 2016 driver prints them, then a newer driver's header (gtemp, mtemp, jpg, ofa;
    no pviol...txpci) and two ticks of the same values in the new layout (mtemp unsupported: -)."""
    names, units, rows = parts(real)
    new_rows = []
    for row in rows:
        cells = row.split()
        gpu, pwr, temp, sm, mem, enc, dec, mclk, pclk = cells[:9]
        values = (gpu, pwr, temp, "-", sm, mem, enc, dec, "0", "0", mclk, pclk)
        new_rows.append("".join(f"{v:>7}" for v in values)[1:] + "\n")
    return names + units + "".join(rows) * 2 + NEW_NAMES + NEW_UNITS + "".join(new_rows) * 2


VARIANTS: dict[str, Callable[[str], str]] = {
    "dmon_4gpu_ticks.txt": ticks,
    "dmon_4gpu_dt.txt": dt,
    "dmon_4gpu_dt_non_monotonic.txt": dt_non_monotonic,
    "dmon_4gpu_na_heavy.txt": na_heavy,
    "dmon_4gpu_truncated.txt": truncated,
    "dmon_4gpu_driver_change.txt": driver_change,
}

if __name__ == "__main__":
    real = REAL.read_text(encoding="utf-8")
    for name, derive in VARIANTS.items():
        (FOLDER / name).write_text(derive(real), encoding="utf-8", newline="")
