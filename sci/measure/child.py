"""Running the measured command: no shell, its exit code passed through, signals forwarded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

from sci.errors import SciError

EXIT_NOT_FOUND = 127  # the shell's codes: command not found, found but not executable
EXIT_NOT_EXECUTABLE = 126
SIGNAL_EXIT_BASE = 128  # a child killed by signal N exits 128 + N, as in a shell
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class CommandError(SciError):
    """The command could not be started; ``exit_code`` is the shell's code for it."""

    def __init__(self, message: str, *, hint: str, exit_code: int) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


def start(command: Sequence[str]) -> subprocess.Popen[bytes]:
    if not command:
        raise CommandError(
            "no command to measure",
            hint="give it after --: sci-report measure -- python train.py",
            exit_code=2,
        )
    try:
        return subprocess.Popen(list(command))  # noqa: S603 - running the user's command is the point
    except FileNotFoundError:
        raise CommandError(
            f"command not found: {command[0]}", hint="check the name and PATH", exit_code=EXIT_NOT_FOUND
        ) from None
    except PermissionError:
        raise CommandError(
            f"command not executable: {command[0]}", hint="chmod +x it", exit_code=EXIT_NOT_EXECUTABLE
        ) from None


def wait(process: subprocess.Popen[bytes]) -> int:
    """Wait for ``process`` with SIGINT/SIGTERM/SIGHUP forwarded to it; its exit code (128 + N if killed)."""
    with _forwarding(process):
        code = process.wait()
    return code if code >= 0 else SIGNAL_EXIT_BASE - code


def _terminal_delivers_sigint() -> bool:
    """Whether we are the terminal's foreground group: then Ctrl-C already reached the child."""
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError, AttributeError):
        return False


@contextmanager
def _forwarding(process: subprocess.Popen[bytes]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from_terminal = _terminal_delivers_sigint()

    def forward(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGINT and from_terminal:
            return  # the child is in our process group and got Ctrl-C itself
        if process.poll() is None:
            process.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in _FORWARDED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
