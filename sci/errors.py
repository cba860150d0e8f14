"""The project's one family of expected errors.

Every error names where the problem is (a file and line, or a config key) and says what to do next.
The CLI turns them into ``Error: ...`` / ``hint: ...`` and exit code 1 in one place.
"""

from __future__ import annotations

from pathlib import Path


class SciError(Exception):
    """An expected problem, with a hint on how to fix it."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    @property
    def where(self) -> str:
        return ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ConfigError(SciError):
    """A problem in ``sci.toml``, named by its dotted key (``platforms[1].sources[0].paths``)."""

    def __init__(self, key: str, message: str, *, hint: str = "", path: Path | None = None) -> None:
        super().__init__(message, hint=hint)
        self.key = key
        self.path = path

    @property
    def where(self) -> str:
        prefix = f"{self.path}: " if self.path else ""
        return f"{prefix}[{self.key}]" if self.key else str(self.path or "")


class CollectorError(SciError):
    """A file that cannot be read, named by path and (1-based) line."""

    def __init__(self, path: Path | str, line: int | None, message: str, *, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.path = Path(path)
        self.line = line

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)


class StoreError(SciError):
    """A problem with the DuckDB store (locked, newer schema, unreadable)."""


class FactorError(SciError):
    """A factor that is missing from the bundle and from the config overrides."""
