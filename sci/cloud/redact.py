"""Masking credentials in the cloud SDKs' own log records.

sci-report never logs a secret, but the SDKs may: botocore logs every request's headers and its canonical
request at DEBUG, the session token (``X-Amz-Security-Token``) among them. Once a client holds credentials,
``mask_in_sdk_logs`` puts a filter on the SDK's loggers that replaces those values with ``***`` in any
record, so turning on DEBUG logging (a handler on the root logger) never writes them anywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

MASK = "***"


class _Mask(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        found = [secret for secret in self.secrets if secret in message]
        if found:
            for secret in found:
                message = message.replace(secret, MASK)
            record.msg, record.args = message, None
        return True


_FILTER = _Mask()


def mask_in_sdk_logs(secrets: Iterable[str | None], prefixes: tuple[str, ...]) -> None:
    """Mask ``secrets`` in the records of every existing logger named by one of ``prefixes``."""
    _FILTER.secrets.update(s for s in secrets if s and len(s) >= 8)
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in prefixes]
    for name in [*prefixes, *names]:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
