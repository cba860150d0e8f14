"""Shared helpers of the AWS collector tests: parse a fixture, ingest through a tmp sci.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from collectors.base import Collector, SourceContext
from sci import app
from sci.config import Config, load_config
from sci.model import QualityIssue, Record
from sci.results import ComputeResult

FIXTURES = Path(__file__).parent / "fixtures"


def parse(cls: type[Collector], path: Path, **options: Any) -> tuple[list[Record], list[QualityIssue]]:
    records: list[Record] = []
    issues: list[QualityIssue] = []
    for item in cls().parse(SourceContext(path=path, device=path.name.split(".")[0], options=options)):
        (records if isinstance(item, Record) else issues).append(item)  # type: ignore[arg-type]
    return records, issues


def config(tmp_path: Path, source: str, *, region: str = "aws:us-east-1", month: str = "2025-03") -> Config:
    """A one-platform sci.toml in ``tmp_path`` with ``source`` as its [[platforms.sources]] body."""
    (tmp_path / "sci.toml").write_text(
        f'[project]\nname = "aws test"\n[window]\nmonth = "{month}"\n'
        f'[[platforms]]\nname = "cloud"\nregion = "{region}"\n'
        f"[[platforms.sources]]\n{source}\n",
        encoding="utf-8",
    )
    return load_config(tmp_path / "sci.toml")


def ingest_and_compute(cfg: Config) -> ComputeResult:
    app.run_ingest(cfg)
    return app.run_compute(cfg)
