"""Write ``tests/corpus/bad/<collector>/``: damaged variants of one good fixture per collector.

Run from the repository root: ``python tools/make_bad_corpus.py``. The variants are the same for every
format (empty, binary, wrong encoding, truncated mid-line, a huge line, NaN/inf/negative numbers, garbage
rows after a valid header), plus hand-written time cases in ``tests/corpus/bad/README.md``'s table. Each
file must give a one-line ``file:line`` error with a hint, or be accepted with its oddities counted
(``tests/test_corpus.py``). The output is deterministic.
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
OUT = REPO / "tests" / "corpus" / "bad"

# collector name -> (a good fixture, its file suffix)
GOOD: dict[str, str] = {
    "powermetrics": "powermetrics/m1_monterey_text_gap.txt",
    "nvidia-smi": "nvidia_smi/query_gpu_csv_nounits_2gpu_l1.csv",
    "tdp-proxy": "../corpus/good/runtime.csv",
}
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
        "negative_values": _numbers(good, None),
        "garbage_rows": header + b"\n".join(bytes(f"{i},;;\t??,{i * 7}", "ascii") for i in range(40)) + b"\n",
        "crlf": good.replace(b"\n", b"\r\n"),
        "nul_bytes": good[:half] + b"\x00" * 64 + good[half:],
    }


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
    for collector, fixture in GOOD.items():
        good = (FIXTURES / fixture).read_bytes()
        suffix = Path(fixture).suffix
        folder = OUT / collector
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in variants(good).items():
            target = folder / (name if name.endswith(".gz") else f"{name}{suffix}")
            target.write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
