"""How each derived powermetrics plist fixture is made from the real M1 Pro document (see its README).

``tests/test_powermetrics_plist.py`` rebuilds every variant with these functions and checks that the bytes
are identical, so the README, this module and the files cannot drift apart. Run this module to rewrite them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

FOLDER = Path(__file__).parent / "fixtures" / "powermetrics_plist"
REAL = FOLDER / "m1pro_sonoma_plist_excerpt.plist"
ELAPSED_NS = 132_882_041
STAMP = "<date>2024-12-26T13:33:44Z</date>"
BASE = datetime(2024, 12, 26, 13, 33, 44, tzinfo=UTC)
GPU_SAMPLER = b"<key>gpu_energy</key><integer>36</integer>\n"
CPU = b"<key>cpu_energy</key>\n<integer>297</integer>"
APPLE_ENERGY = re.compile(
    rb"<key>cpu_energy</key>\n<integer>\d+</integer>\n<key>cpu_power</key>\n<real>2422.19</real>\n"
    rb"<key>gpu_energy</key>\n<integer>36</integer>\n<key>gpu_power</key>\n<real>293.599</real>\n"
    rb"<key>ane_energy</key>\n<integer>0</integer>\n<key>ane_power</key>\n<real>0</real>\n"
    rb"<key>combined_power</key>\n<real>2715.79</real>\n"
)


def document(real: bytes, k: int, *, shift_s: int = 0) -> bytes:
    """Sample k of a 132.882 ms stream: its stamp is the whole second of 13:33:44 + k x elapsed (as
    powermetrics truncates it), plus ``shift_s``; cpu_energy is 297 + k mJ."""
    end = BASE + timedelta(microseconds=k * ELAPSED_NS // 1000)
    stamp = (end.replace(microsecond=0) + timedelta(seconds=shift_s)).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = real.replace(STAMP.encode(), f"<date>{stamp}</date>".encode())
    return out.replace(CPU, b"<key>cpu_energy</key>\n<integer>%d</integer>" % (297 + k))


def stream(real: bytes) -> bytes:
    return b"".join(document(real, k) for k in range(10))


def truncated(real: bytes) -> bytes:
    return b"".join(document(real, k) for k in range(4)) + document(real, 4)[:2000]


def non_monotonic(real: bytes) -> bytes:
    return b"".join(document(real, k, shift_s=-10 if k == 5 else 0) for k in range(10))


def gap(real: bytes) -> bytes:
    return b"".join(document(real, k, shift_s=120 if k >= 5 else 0) for k in range(10))


def no_energy(real: bytes) -> bytes:
    docs = [document(real, k) for k in range(6)]
    for k in (3, 4):
        docs[k] = APPLE_ENERGY.sub(b"", docs[k]).replace(GPU_SAMPLER, b"")
    return b"".join(docs)


def package_joules(real: bytes) -> bytes:
    package = b"<key>package_joules</key>\n<real>0.25</real>\n"
    docs = [APPLE_ENERGY.sub(package, document(real, k)) for k in range(3)]
    return b"".join(docs)


def restarted(real: bytes) -> bytes:
    return document(real, 0) + document(real, 1)[:3000] + document(real, 2)


VARIANTS: dict[str, Callable[[bytes], bytes]] = {
    "m1pro_sonoma_plist_stream.plist": stream,
    "m1pro_sonoma_plist_truncated.plist": truncated,
    "m1pro_sonoma_plist_non_monotonic.plist": non_monotonic,
    "m1pro_sonoma_plist_gap.plist": gap,
    "m1pro_sonoma_plist_no_energy.plist": no_energy,
    "m1pro_sonoma_plist_package_joules.plist": package_joules,
    "m1pro_sonoma_plist_restarted.plist": restarted,
}

if __name__ == "__main__":
    real = REAL.read_bytes()
    for name, derive in VARIANTS.items():
        (FOLDER / name).write_bytes(derive(real))
