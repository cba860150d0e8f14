"""One measured session: backends opened, the sampler running, the log written; used by the
``measure`` command and by ``Tracker``."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sci.errors import SciError
from sci.measure import log
from sci.measure.backends import BackendOptions, close_all, open_backends, parse_choice
from sci.measure.readings import Unavailable
from sci.measure.sampler import Sample, Sampler


class Session:
    """Open with ``Session(...)``, then ``start()``; ``finish(exit_code)`` stops, ends the log, closes."""

    def __init__(
        self,
        *,
        command: Sequence[str],
        interval_s: float,
        backends: str = "auto",
        options: BackendOptions | None = None,
        log_path: Path | None = None,
    ) -> None:
        opened = open_backends(parse_choice(backends), options or BackendOptions())
        self.backends = opened.backends
        self.unavailable: list[Unavailable] = opened.unavailable
        self.started_utc = datetime.now(UTC)
        self.host = socket.gethostname()
        self.writer: log.LogWriter | None = None
        try:
            if log_path is not None:
                head = log.header(
                    command=command,
                    started_utc=self.started_utc,
                    interval_s=interval_s,
                    backends=self.backends,
                    host=self.host,
                )
                self.writer = log.LogWriter(log_path, head)
        except SciError:
            close_all(self.backends)
            raise
        self.sampler = Sampler(self.backends, interval_s=interval_s, on_sample=self._write)

    @property
    def names(self) -> list[str]:
        return [b.name for b in self.backends]

    def _write(self, sample: Sample) -> None:
        if self.writer is not None:
            self.writer.write_sample(sample)

    def start(self) -> None:
        self.sampler.start()

    def finish(self, exit_code: int | None) -> None:
        try:
            self.sampler.stop()
        finally:
            if self.writer is not None:
                self.writer.close(end=self.sampler.now(), exit_code=exit_code)
            close_all(self.backends)

    @property
    def duration_s(self) -> float:
        return self.sampler.now() - self.sampler.started_at
