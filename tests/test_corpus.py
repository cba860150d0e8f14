"""The bad-input corpus (``tests/corpus/bad/<collector>/``, written by ``tools/make_bad_corpus.py`` plus
hand-written time cases): every file gives a one-line ``file:line`` error with a hint, or is accepted with
its oddities counted in data quality. No traceback, ever, and a rejected file leaves the store as it was."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sci.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus" / "bad"
GOOD = {
    "powermetrics": "powermetrics/m1_monterey_text_gap.txt",
    "nvidia-smi": "nvidia_smi/query_gpu_csv_nounits_2gpu_l1.csv",
    "tdp-proxy": "../corpus/good/runtime.csv",
}
ZONE_NEEDED = {"nvidia-smi"}
BENIGN = {"crlf"}  # variants a collector may accept without any finding
CASES = sorted(p for p in CORPUS.glob("*/*") if p.name != "README.md")


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert {p.parent.name for p in CASES} >= set(GOOD)


def _state(store: Path) -> list[Any]:
    with duckdb.connect(str(store), read_only=True) as con:
        return [
            con.execute("SELECT path, sha256, record_count, issue_count FROM files ORDER BY path").fetchall(),
            con.execute("SELECT count(*), sum(energy_kwh), sum(runtime_s) FROM samples").fetchall(),
            con.execute("SELECT count(*) FROM quality_issues").fetchall(),
        ]


def _ingest(tmp: Path, collector: str, path: Path) -> list[str]:
    args = ["ingest", "-c", str(tmp / "sci.toml"), "--platform", "p", "--format", collector]
    if collector in ZONE_NEEDED:
        args += ["--timezone", "Europe/Berlin"]
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
    (tmp_path / "sci.toml").write_text('[[platforms]]\nname = "p"\nlocation = "DE"\n', encoding="utf-8")
    good = tmp_path / ("good" + Path(GOOD[collector]).suffix)
    shutil.copy(ROOT / "tests" / "fixtures" / GOOD[collector], good)
    main(_ingest(tmp_path, collector, good))
    before = _state(tmp_path / "sci.duckdb")
    bad = tmp_path / case.name
    shutil.copy(case, bad)
    capsys.readouterr()
    code = _exit_code(_ingest(tmp_path, collector, bad))
    if code is not None:
        assert code == 1
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 2, err
        assert err[0].startswith(f"Error: {bad}:"), err[0]
        location = err[0].removeprefix(f"Error: {bad}")
        assert location[1:].split(":", 1)[0].isdigit() or "decompression" in location, err[0]
        assert err[1].startswith("hint: ")
        assert len(err[1]) > 12
        assert _state(tmp_path / "sci.duckdb") == before  # nothing of the rejected file is stored
        return
    out = capsys.readouterr().out
    assert "1 ingested" in out
    after = _state(tmp_path / "sci.duckdb")
    (row,) = [f for f in after[0] if f[0] == bad.name]
    if case.stem not in BENIGN:
        assert row[3] >= 1, f"{case.name} was accepted without any data-quality finding"
