"""The README's first command shows its real output: the demo block must match `sci-report run`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from sci.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_demo_output_is_what_the_example_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"==> sci-report run examples/team\n(.*?)```", readme, re.DOTALL)
    assert block is not None
    shutil.copytree(
        ROOT / "examples" / "team",
        tmp_path / "examples" / "team",
        ignore=shutil.ignore_patterns("out", "*.duckdb*"),
    )
    monkeypatch.chdir(tmp_path)
    main(["run", "examples/team", "--no-pdf"])
    printed = capsys.readouterr().out.replace(
        "report.html\n", "report.html and examples/team/out/report.pdf\n"
    )
    assert printed == block[1]
