"""Write ``tests/corpus/bad/<collector>/``: damaged variants of one good fixture per collector.

Run from the repository root: ``python tools/make_bad_corpus.py``. The variants are the same for every
format (empty, binary, wrong encoding, truncated mid-line, a huge line, NaN/inf/negative numbers, garbage
rows after a valid header) of the fixture ``tests/corpus/bad/sources.toml`` names for each collector, plus
hand-written cases (time going backwards, zone-less and DST-ambiguous times, wrong units, ...). Each
file must give a one-line ``file:line`` error with a hint, or be accepted with its oddities counted
(``tests/test_corpus.py``). The output is deterministic.
"""

from __future__ import annotations

import gzip
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
OUT = REPO / "tests" / "corpus" / "bad"

SOURCES = OUT / "sources.toml"
"""collector -> its good fixture (relative to tests/fixtures), options and zone; shared with the harness."""
_NUMBER = re.compile(rb"(?<![\w.])(\d+\.\d+|\d{2,})(?![\w.:/])")


def variants(good: bytes) -> dict[str, bytes]:
    lines = good.splitlines(keepends=True)
    half = len(good) // 2
    header = b"".join(lines[:3])
    return {
        "empty": b"",
        "binary": bytes(range(256)) * 8,
        "gzip_garbage.gz": b"\x1f\x8b\x08\x00" + bytes(range(7, 200)),
        "gzip_cut.gz": gzip.compress(good, mtime=0)[: max(20, len(gzip.compress(good, mtime=0)) // 2)],
        "utf16": good.decode("utf-8").encode("utf-16"),
        "latin1": good.replace(b"e", b"\xe9", 3),
        "truncated_mid_line": good[:half],
        "huge_line": header + b"x" * 2_000_000 + b"\n" + b"".join(lines[3:]),
        "nan_values": _numbers(good, b"nan"),
        "inf_values": _numbers(good, b"inf"),
        "huge_values": _numbers(good, b"1e308"),  # finite in the file, infinite once converted (t -> g)
        "negative_values": _numbers(good, None),
        "garbage_rows": header + b"\n".join(bytes(f"{i},;;\t??,{i * 7}", "ascii") for i in range(40)) + b"\n",
        "crlf": good.replace(b"\n", b"\r\n"),
        "nul_bytes": good[:half] + b"\x00" * 64 + good[half:],
    }


# Hand-written cases: (collector, case name) -> edits of its good fixture (old, new, how many; 0 = all).
# Each edit must match, so a changed fixture fails loudly here rather than writing an undamaged case.
Edit = tuple[bytes, bytes, int]
HAND: dict[tuple[str, str], list[Edit]] = {
    ("codecarbon", "time_backwards"): [(b"2024-05-31T10:44:29", b"2024-05-31T09:44:29", 1)],
    ("codecarbon", "dst_ambiguous"): [(b"2024-05-31T10:", b"2024-10-27T02:", 0)],  # Paris falls back
    ("carbontracker", "time_backwards"): [
        (b"2026-11-22 03:55:33 - Monitoring", b"2026-11-22 02:55:33 - Monitoring", 1)
    ],
    ("carbontracker", "dst_ambiguous"): [(b"2026-11-22 03:", b"2026-10-25 02:", 0)],  # Copenhagen falls back
    ("nvidia-smi-dmon", "wrong_units"): [(b"# Idx     W", b"# Idx    mW", 1)],
    ("intel-power-gadget", "time_backwards"): [(b'"14:55:35:836"', b'"14:55:34:836"', 1)],
    ("rapl", "time_backwards"): [(b"1790000001.000000", b"1789999990.000000", 0)],
    ("measure", "time_backwards"): [
        (b'"t_start":1791190802.0,"t_end":1791190803.0', b'"t_start":1791190700.0,"t_end":1791190701.0', 1)
    ],
    ("scaphandre", "time_backwards"): [(b"1790000004.000246", b"1789999990.000246", 0)],
    ("aws-carbon", "wrong_units"): [(b"MTCO2e,0.012345", b"lbs,0.012345", 1)],
    ("aws-carbon", "overflowing_figure"): [(b"MTCO2e,0.012345", b"MTCO2e,1e308", 1)],  # inf once in grams
    ("aws-cur", "overflowing_figure"): [
        (b"RunInstances,i-0a1b2c3d4e5f60001,1.0,", b"RunInstances,i-0a1b2c3d4e5f60001,1e308,", 1)
    ],
    ("azure-carbon", "overflowing_figure"): [
        (b'"latestMonthEmissions": 0.1', b'"latestMonthEmissions": 1e308', 1)
    ],
    ("aws-carbon", "timezone_less"): [
        (b"2025-04-01 00:00:00Z,2025-03-01 00:00:00Z", b"2025-04-01 00:00:00,2025-03-01 00:00:00", 1)
    ],
    ("aws-cur", "timezone_less"): [
        (
            b"2025-03-01T00:00:00Z,2025-03-01T01:00:00Z,AmazonEC2",
            b"2025-03-01T00:00:00,2025-03-01T01:00:00,AmazonEC2",
            1,
        )
    ],
    ("aws-cur", "wrong_units"): [(b"m5.large,Hrs", b"m5.large,Seconds", 1)],
    ("gcp-carbon", "wrong_units"): [
        (b"carbon_footprint_total_kgCO2e.location_based", b"carbon_footprint_total_tCO2e.location_based", 1)
    ],
    ("github-usage", "wrong_units"): [(b"100,minutes", b"100,hours", 1)],
    ("github-jobs", "time_backwards"): [
        (b'"completed_at": "2020-01-20T17:44:39Z"', b'"completed_at": "2020-01-20T16:44:39Z"', 1)
    ],
    ("github-jobs", "timezone_less"): [
        (b'"started_at": "2020-01-20T17:42:40Z"', b'"started_at": "2020-01-20T17:42:40"', 1)
    ],
    ("gitlab-jobs", "time_backwards"): [
        (b'"finished_at": "2015-12-24T17:54:27.895Z"', b'"finished_at": "2015-12-24T16:54:27.895Z"', 1)
    ],
    ("gitlab-jobs", "timezone_less"): [
        (b'"started_at": "2015-12-24T17:54:27.722Z"', b'"started_at": "2015-12-24T17:54:27.722"', 1)
    ],
}


def hand_written(collector: str, good: bytes) -> dict[str, bytes]:
    cases = {}
    for (owner, name), edits in HAND.items():
        if owner != collector:
            continue
        data = good
        for old, new, count in edits:
            if old not in data:
                raise SystemExit(f"{collector}/{name}: {old!r} is not in the fixture any more")
            data = data.replace(old, new, count or -1)
        cases[name] = data
    return cases


def _numbers(good: bytes, replacement: bytes | None) -> bytes:
    """Every 5th number replaced (``None``: negated), after the first few lines."""
    lines = good.splitlines(keepends=True)
    count = 0

    def swap(match: re.Match[bytes]) -> bytes:
        nonlocal count
        count += 1
        if count % 5:
            return match.group(0)
        return replacement if replacement is not None else b"-" + match.group(0)

    return b"".join(lines[:4]) + b"".join(_NUMBER.sub(swap, line) for line in lines[4:])


def main() -> int:
    with SOURCES.open("rb") as file:
        sources = tomllib.load(file)
    for collector, source in sources.items():
        fixture = source["fixture"]
        good = (FIXTURES / fixture).read_bytes()
        suffix = Path(fixture).suffix
        folder = OUT / collector
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in (variants(good) | hand_written(collector, good)).items():
            target = folder / (name if name.endswith(".gz") else f"{name}{suffix}")
            target.write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
