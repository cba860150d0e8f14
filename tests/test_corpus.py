"""The bad-input corpus (``tests/corpus/bad/<collector>/``, written by ``tools/make_bad_corpus.py`` plus
hand-written time cases): every file gives a one-line ``file:line`` error with a hint, or is accepted with
its oddities counted in data quality. No traceback, ever, and a rejected file leaves the store as it was."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

import duckdb
import pytest

import collectors
from sci.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus" / "bad"
SOURCES: dict[str, dict[str, Any]] = tomllib.loads((CORPUS / "sources.toml").read_text(encoding="utf-8"))
BENIGN = {"crlf"}  # variants a collector may accept without any finding
BENIGN_FOR = {
    "powermetrics-plist": {"huge_line"},  # XML text between plist elements carries no values
    "aws-carbon": {"timezone_less"},  # AWS documents its export times as UTC: a naive time is read as UTC
}
CASES = sorted(p for p in CORPUS.glob("*/*") if p.name != "README.md")


def test_the_corpus_covers_every_collector() -> None:
    builtin = {name for name, _ in collectors.BUILTIN}
    assert set(SOURCES) == builtin
    assert {p.parent.name for p in CASES} == builtin
    assert len(CASES) >= 14 * len(builtin)


def _state(store: Path) -> list[Any]:
    with duckdb.connect(str(store), read_only=True) as con:
        return [
            con.execute("SELECT path, sha256, record_count, issue_count FROM files ORDER BY path").fetchall(),
            con.execute("SELECT count(*), sum(energy_kwh), sum(runtime_s) FROM samples").fetchall(),
            con.execute("SELECT count(*) FROM quality_issues").fetchall(),
        ]


def _config(tmp: Path, collector: str) -> str:
    """sci.toml with platform ``p``; a collector that needs options or a zone gets a source reading in/*."""
    text = '[[platforms]]\nname = "p"\nlocation = "DE"\n'
    spec = SOURCES[collector]
    if "options" in spec:
        text += f'[[platforms.sources]]\ncollector = "{collector}"\npaths = ["in/*"]\n'
        text += "".join(f"{key} = {json.dumps(value)}\n" for key, value in spec["options"].items())
        if "timezone" in spec:
            text += f'timezone = "{spec["timezone"]}"\n'
    return text


def _ingest(tmp: Path, collector: str, path: Path) -> list[str]:
    """By the sci.toml source when the collector needs options, else by path with --format."""
    args = ["ingest", "-c", str(tmp / "sci.toml")]
    spec = SOURCES[collector]
    if "options" in spec:
        return [*args, str(path)]
    args += ["--platform", "p", "--format", collector]
    if "timezone" in spec:
        args += ["--timezone", spec["timezone"]]
    return [*args, str(path)]


def _exit_code(args: list[str]) -> int | str | None:
    try:
        main(args)
    except SystemExit as exit_:
        return exit_.code
    return None


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_bad_file_is_a_one_line_error_or_counted(
    case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    collector = case.parent.name
    (tmp_path / "sci.toml").write_text(_config(tmp_path, collector), encoding="utf-8")
    (tmp_path / "in").mkdir()
    fixture = SOURCES[collector]["fixture"]
    good = tmp_path / "in" / ("good" + Path(fixture).suffix)
    shutil.copy(ROOT / "tests" / "fixtures" / fixture, good)
    main(_ingest(tmp_path, collector, good))
    before = _state(tmp_path / "sci.duckdb")
    bad = tmp_path / "in" / case.name
    shutil.copy(case, bad)
    capsys.readouterr()
    code = _exit_code(_ingest(tmp_path, collector, bad))
    if code is not None:
        assert code == 1
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 2, err
        assert err[0].startswith(f"Error: {bad}:"), err[0]
        location = err[0].removeprefix(f"Error: {bad}")
        whole_file = "decompression" in location or "corrupt or cut off" in location  # no line to name
        assert location[1:].split(":", 1)[0].isdigit() or whole_file, err[0]
        assert err[1].startswith("hint: ")
        assert len(err[1]) > 12
        assert _state(tmp_path / "sci.duckdb") == before  # nothing of the rejected file is stored
        return
    out = capsys.readouterr().out
    assert "1 ingested" in out
    after = _state(tmp_path / "sci.duckdb")
    (row,) = [f for f in after[0] if Path(f[0]).name == bad.name]
    if case.stem not in BENIGN | BENIGN_FOR.get(collector, set()):
        assert row[3] >= 1, f"{case.name} was accepted without any data-quality finding"
