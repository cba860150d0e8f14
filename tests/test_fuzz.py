"""One fuzzing module for every registered collector and for the config loader.

Each collector in ``collectors.BUILTIN`` gets arbitrary bytes (``strategies.file_bytes``) and format-shaped
bytes: its good fixture (``tests/corpus/bad/sources.toml``) with byte flips, truncations, duplicated or
dropped lines and inserted junk, sometimes gzip-compressed. The config loader gets arbitrary text and
mutations of the example sci.toml. The only exceptions allowed out are the project's own (``SciError``);
anything else is a bug. ``max_examples`` keeps the whole module well under a minute.
"""

from __future__ import annotations

import contextlib
import gzip
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import file_bytes

import collectors
from collectors.base import SourceContext, head_bytes
from sci.config import load_config
from sci.errors import SciError

ROOT = Path(__file__).resolve().parents[1]
SOURCES: dict[str, dict[str, Any]] = tomllib.loads(
    (ROOT / "tests" / "corpus" / "bad" / "sources.toml").read_text(encoding="utf-8")
)
NAMES = [name for name, _ in collectors.BUILTIN]
EXAMPLES_PER_COLLECTOR = 400
EXAMPLES_CONFIG = 600
CONFIG = (ROOT / "examples" / "team" / "sci.toml").read_bytes()

Mutation = Callable[[bytes], bytes]


def _flip(at: int, mask: int) -> Mutation:
    def apply(data: bytes) -> bytes:
        i = at % len(data)
        return data[:i] + bytes([data[i] ^ mask]) + data[i + 1 :]

    return apply


def _truncate(at: int) -> Mutation:
    return lambda data: data[: at % (len(data) + 1)]


def _lines(op: str, at: int) -> Mutation:
    def apply(data: bytes) -> bytes:
        lines = data.splitlines(keepends=True)
        i = at % len(lines)
        if op == "duplicate":
            return b"".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
        if op == "drop":
            return b"".join(lines[:i] + lines[i + 1 :])
        return b"".join([*lines[:i], *lines[i + 1 :], lines[i]])  # move a line to the end

    return apply


def _insert(at: int, junk: bytes) -> Mutation:
    return lambda data: data[: at % (len(data) + 1)] + junk + data[at % (len(data) + 1) :]


MUTATIONS = st.one_of(
    st.builds(_flip, st.integers(min_value=0), st.integers(min_value=1, max_value=255)),
    st.builds(_truncate, st.integers(min_value=0)),
    st.builds(_lines, st.sampled_from(["duplicate", "drop", "move"]), st.integers(min_value=0)),
    st.builds(
        _insert,
        st.integers(min_value=0),
        st.sampled_from([b"\x00", b"\n", b",", b"-", b"nan", b"1e999", b'"', b"{", b"]", b"\xff\xfe"])
        | st.binary(max_size=8),
    ),
)


def mutated(good: bytes) -> st.SearchStrategy[bytes]:
    """``good`` with one to five mutations applied in turn, gzip-compressed one time in five."""

    def apply(mutations: list[Mutation], compress: bool) -> bytes:
        data = good
        for mutation in mutations:
            data = mutation(data) if data else data
        return gzip.compress(data, mtime=0) if compress else data

    compress = st.integers(0, 4).map(lambda n: n == 0)
    return st.builds(apply, st.lists(MUTATIONS, min_size=1, max_size=5), compress)


def _parse(name: str, data: bytes) -> None:
    spec = SOURCES[name]
    cls = collectors.load(name)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("input" + Path(spec["fixture"]).suffix)
        path.write_bytes(data)
        cls.sniff(head_bytes(path))  # never raises
        zone = ZoneInfo(spec["timezone"]) if "timezone" in spec else None
        ctx = SourceContext(path=path, device="d", timezone=zone, options=spec.get("options", {}))
        with contextlib.suppress(SciError):
            for _ in cls().parse(ctx):
                pass


def _fuzz(name: str) -> Callable[[], None]:
    good = (ROOT / "tests" / "fixtures" / SOURCES[name]["fixture"]).read_bytes()

    @settings(max_examples=EXAMPLES_PER_COLLECTOR)
    @given(data=file_bytes(max_size=600) | mutated(good))
    def run(data: bytes) -> None:
        _parse(name, data)

    return run


def test_every_registered_collector_is_fuzzed() -> None:
    assert set(SOURCES) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_a_collector_raises_only_its_own_errors(name: str) -> None:
    _fuzz(name)()


@settings(max_examples=EXAMPLES_CONFIG)
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode) | mutated(CONFIG))
def test_the_config_loader_raises_only_its_own_errors(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sci.toml"
        path.write_bytes(data)
        with contextlib.suppress(SciError):
            load_config(path)
