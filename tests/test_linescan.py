"""The line scan (``collectors/_linescan.py``): the C module and the numpy reference give the same answer,
and the C module is built wherever the build hook can build it.

The C module has two forms: SSE2 on x86-64, and a portable one (``-DLINESCAN_PORTABLE``) for other
machines, which the tests compile too. Blocks are generated (hypothesis) from lines made of the
prefixes, pieces of them, other text, empty lines, and now and then a byte that makes the block not
plain; the implementations must agree on every field, for bytes and for a view of a reused buffer (what
``BlockSource(reuse=True)`` hands on).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import collectors._linescan as linescan
import hatch_build

ROOT = Path(__file__).resolve().parents[1]
PREFIXES = (
    b"*** Sampled system activity",
    b"CPU Power:",
    b"Combined Power (CPU + GPU + ANE):",
    b"GPU Power:",
)

native = pytest.mark.skipif(not linescan.NATIVE, reason="collectors._linescan_c is not built")


def _fields(found: linescan.Found | None) -> object:
    if found is None:
        return None
    return (
        found.count,
        found.index.tolist(),
        found.which.tolist(),
        found.starts.tolist(),
        found.ends.tolist(),
        found.data,
    )


_LINES = st.lists(
    st.one_of(
        st.sampled_from([p.decode() for p in PREFIXES]),
        st.sampled_from([p.decode() + " 12 mW" for p in PREFIXES]),
        st.sampled_from([p.decode()[:k] for p in PREFIXES for k in (1, 7, 8, 9)]),  # pieces of prefixes
        st.text(alphabet="CPU Power:*# -\t0123456789", max_size=40),
        st.just(""),
    ),
    max_size=60,
)


@pytest.fixture(scope="module")
def portable(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The C module compiled in its portable form (memchr, 8 bytes at a time: what other machines than
    x86-64 run), loaded from a temporary folder."""
    target = tmp_path_factory.mktemp("portable") / "_linescan_c.so"
    problem = hatch_build.compile_module(ROOT / hatch_build.SOURCE, target, ("-DLINESCAN_PORTABLE",))
    if problem is not None:
        pytest.skip(f"this machine cannot build it: {problem}")
    spec = importlib.util.spec_from_file_location("_linescan_c", target)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.kept


def _block(lines: list[str], tail: str, odd: str | None, at: int) -> bytes:
    data = ("".join(line + "\n" for line in lines) + tail).encode("latin-1")
    if odd is not None and data:
        where = at % len(data)
        data = data[:where] + odd.encode("latin-1") + data[where:]
    return data


_BLOCKS = {
    "lines": _LINES,
    "tail": st.sampled_from(["", "CPU Power: 3 mW", "x"]),  # bytes after the last line end are not a line
    "odd": st.sampled_from([None, "\r", "\x80", "\xff"]),
    "at": st.integers(min_value=0, max_value=10_000),
}


@native
@settings(max_examples=400, deadline=None)
@given(**_BLOCKS)
def test_the_c_scan_equals_the_numpy_scan(lines: list[str], tail: str, odd: str | None, at: int) -> None:
    data = _block(lines, tail, odd, at)
    expected = _fields(linescan.kept_numpy(data, PREFIXES))
    assert _fields(linescan.kept(data, PREFIXES)) == expected
    buffer = bytearray(data + b"stale bytes after the view\n")  # a reused buffer: more after the view
    assert _fields(linescan.kept(memoryview(buffer)[: len(data)], PREFIXES)) == expected


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**_BLOCKS)
def test_the_portable_c_scan_equals_the_numpy_scan(
    portable: Any, lines: list[str], tail: str, odd: str | None, at: int
) -> None:
    data = _block(lines, tail, odd, at)
    expected = linescan.kept_numpy(data, PREFIXES)
    got = portable(data, PREFIXES)
    if expected is None:
        assert got is None
        return
    assert got is not None
    count, index, which, starts, ends, kept = got
    assert (count, kept) == (expected.count, expected.data)
    assert np.frombuffer(index, np.int64).tolist() == expected.index.tolist()
    assert np.frombuffer(which, np.int8).tolist() == expected.which.tolist()
    assert np.frombuffer(starts, np.int64).tolist() == expected.starts.tolist()
    assert np.frombuffer(ends, np.int64).tolist() == expected.ends.tolist()


@pytest.mark.parametrize("implementation", ["c", "numpy"])
def test_a_known_block(implementation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if implementation == "c" and not linescan.NATIVE:
        pytest.skip("collectors._linescan_c is not built")
    if implementation == "numpy":
        monkeypatch.setattr(linescan, "_native_kept", None)
    data = b"CPU Power: 1 mW\nCPU Powe\n\nGPU Power: 2 mW\n  CPU Power: 3 mW\nCPU Power:\nCPU Power: 4"
    found = linescan.kept(data, PREFIXES)
    assert found is not None
    assert found.count == 6
    assert found.index.tolist() == [0, 3, 5]
    assert found.which.tolist() == [1, 3, 1]
    assert found.data == b"CPU Power: 1 mW\nGPU Power: 2 mW\nCPU Power:\n"
    assert [found.data[a : b + 1] for a, b in zip(found.starts, found.ends, strict=True)] == [
        b"CPU Power: 1 mW\n",
        b"GPU Power: 2 mW\n",
        b"CPU Power:\n",
    ]
    assert linescan.kept(b"CPU Power: 1 mW\r\n", PREFIXES) is None
    assert linescan.kept("CPU Power: 1 mW\nCaf\u00e9\n".encode(), PREFIXES) is None
    empty = linescan.kept(b"", PREFIXES)
    assert empty is not None
    assert (empty.count, empty.data) == (0, b"")
    with pytest.raises(ValueError, match="at least 8"):
        linescan.kept(data, (b"CPU",))


@native
def test_a_large_block_scans_the_same() -> None:
    rng = np.random.default_rng(7)
    pieces = [b"CPU Power: 947 mW", b"GPU Power: 0 mW", b"  idle residency: 12%", b"", b"*** Sampled system"]
    lines = [pieces[k] for k in rng.integers(0, len(pieces), 200_000)]
    data = b"\n".join(lines) + b"\n"
    assert _fields(linescan.kept(data, PREFIXES)) == _fields(linescan.kept_numpy(data, PREFIXES))


def test_the_c_module_is_built_wherever_the_build_hook_can_build_it(tmp_path: Path) -> None:
    """If this machine can compile the module, the installed package must have it: otherwise the fast
    path (and the comparison above) would be skipped without anyone noticing."""
    problem = hatch_build.compile_module(ROOT / hatch_build.SOURCE, tmp_path / "_linescan_c.so")
    if problem is not None:
        pytest.skip(f"this machine cannot build it: {problem}")
    assert linescan.NATIVE, "a C compiler is here, but collectors._linescan_c is not: reinstall (./dev test)"


def test_the_build_hook_says_what_it_lacks_instead_of_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No compiler (or no headers) is a warning and a pure-Python install, never a failed one."""
    target = tmp_path / "_linescan_c.so"
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    problem = hatch_build.compile_module(ROOT / hatch_build.SOURCE, target)
    assert problem is not None
    assert "no-such-cc" in problem
    monkeypatch.setenv("CC", "false")  # a compiler that fails
    problem = hatch_build.compile_module(ROOT / hatch_build.SOURCE, target)
    assert problem is not None
    assert "failed" in problem
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind
    monkeypatch.delenv("CC")
    monkeypatch.setattr(hatch_build.sysconfig, "get_paths", lambda: {"include": str(tmp_path)})
    assert hatch_build.compile_module(ROOT / hatch_build.SOURCE, target) == f"no Python.h in {tmp_path}"
