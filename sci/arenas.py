"""Fewer glibc malloc arenas for the commands that ingest: the same speed, a third less peak memory.

glibc gives each thread that allocates its own malloc arena, up to eight per core. An ingest runs a
reader, a parser and DuckDB's threads, file after file, and the memory they free stays spread over many
arenas: over the reference team's 0.2 of a month (bench/team.py's inputs) `sci-report ingest` peaked
at 855 MiB, and at 583-597 MiB with two arenas, in the same time (20.5 and 21.7 s against 20.4 and 21.8 s).
Called before the store opens, so that DuckDB's threads share the two too. A ``MALLOC_ARENA_MAX`` set
in the environment is left alone; off glibc, nothing happens.
"""

from __future__ import annotations

import os
import sys

ARENAS = 2
_M_ARENA_MAX = -8  # glibc's malloc.h


def fewer_malloc_arenas() -> bool:
    """Limit glibc to ``ARENAS`` malloc arenas from now on; whether it did."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, ARENAS))
