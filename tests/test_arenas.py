"""sci/arenas.py: ingesting commands limit glibc's malloc arenas, unless the environment already does."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sci import arenas

_CHECK = "from sci.arenas import fewer_malloc_arenas as f; print(f())"


def _run(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", _CHECK], capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_the_limit_is_set_on_glibc_unless_the_environment_sets_one() -> None:
    assert _run({"PATH": "/usr/bin:/bin"}) == "True"
    assert _run({"PATH": "/usr/bin:/bin", "MALLOC_ARENA_MAX": "4"}) == "False"


def test_elsewhere_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arenas.sys, "platform", "darwin")
    assert arenas.fewer_malloc_arenas() is False
