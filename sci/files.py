"""Writing output files so that a failure never leaves a half-written one."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sci.errors import SciError


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``target`` and rename it into place.

    The temporary name is unique in the target's directory (so the rename is atomic) and created with
    ``open(..., "xb")`` rather than ``mkstemp``, so the file gets the usual permissions from the umask.
    On failure an existing ``target`` is left as it was.
    """
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with temporary.open("xb") as stream:
            stream.write(data)
        temporary.replace(target)
    except OSError as exc:
        raise SciError(
            f"cannot write {target}: {exc.strerror or exc}",
            hint="check that the output directory exists, is writable and has free space",
        ) from exc
    finally:
        temporary.unlink(missing_ok=True)
