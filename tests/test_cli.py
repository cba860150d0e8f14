"""The command line: one-line errors with hints, exit codes, init."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sci import __version__
from sci.cli import main
from sci.errors import ConfigError


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    for command in ("init", "ingest", "compute", "report", "run"):
        assert command in out
    code, out, _ = run(["--version"], capsys)
    assert code == 0
    assert __version__ in out


def test_init_writes_a_valid_starter_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "sci.toml"
    assert run(["init", str(target)], capsys)[0] == 0
    assert "[[platforms]]" in target.read_text(encoding="utf-8")
    code, _, err = run(["init", str(target)], capsys)
    assert code == 1
    assert err.startswith("Error: ")
    assert "hint: use --force" in err
    assert run(["init", str(target), "--force"], capsys)[0] == 0


def test_a_config_error_is_one_line_with_the_key_and_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sci.toml"
    config.write_text('[[platforms]]\nname = "laptops"\nlocaton = "DE"\n', encoding="utf-8")
    code, out, err = run(["compute", "-c", str(config)], capsys)
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert lines[0] == f"Error: {config}: [platforms[0].locaton]: unknown key"
    assert lines[1] == "hint: did you mean 'location'?"
    assert "Traceback" not in err


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    config = tmp_path / "sci.toml"
    config.write_text('[[platforms]]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        main(["--debug", "compute", "-c", str(config)])


def test_a_missing_config_points_at_init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["run", str(tmp_path)], capsys)
    assert code == 1
    assert "no config file" in err
    assert "sci-report init" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["compute", "--bogus"], capsys)
    assert code == 2
    assert "No such option" in err


def test_the_console_script_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sci", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert result.returncode == 0, result.stderr
    assert "Software Carbon Intensity" in result.stdout
