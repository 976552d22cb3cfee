"""The access log never writes an API key down: `api_key=` values in logged URLs are redacted."""

from __future__ import annotations

import logging
import re

KEY_IN_URL = re.compile(r"(?i)((?:^|[?&])api_key=)[^&\s]*")
REDACTED = r"\1REDACTED"


def redact(text: str) -> str:
    return KEY_IN_URL.sub(REDACTED, text)


class RedactKeys(logging.Filter):
    """For uvicorn's access log, whose arguments are (client, method, path+query, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install(logger_name: str = "uvicorn.access") -> None:
    """Idempotent: one filter per logger, however many apps a process builds."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactKeys) for f in logger.filters):
        logger.addFilter(RedactKeys())
