"""Logging that carries ids, never personal data, and never prints the bot token.

Our own loggers (`fieldbot`, `conversations`) follow FIELDBOT_LOG_LEVEL; their DEBUG lines are
held to the same rule as the others (ids, states and counts only). The libraries' loggers do
not: at DEBUG, PTB logs every request it sends and every update it receives (message texts,
lodging, phones, coordinates), aiosqlite every SQL statement with its parameters, httpx request
bodies. They stay at INFO (httpx, httpcore and apscheduler at WARNING: httpx's INFO lines carry
URLs with the token) unless FIELDBOT_LIBRARY_LOG_LEVEL asks otherwise, and a library level below
INFO is announced loudly at start.
"""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")

OWN = ("fieldbot", "conversations")
# Named as well as quietened through the root logger, so that they stay quiet even when the
# root logger is turned up (a test's capture, an embedding application).
LIBRARIES = ("telegram", "aiosqlite", "httpx", "httpcore", "apscheduler", "geopy", "hpack",
             "PIL", "asyncio", "tzlocal", "babel", "uvicorn", "starlette", "aiosmtplib")
_CHATTY_AT_INFO = ("httpx", "httpcore", "apscheduler")


class RedactTokens(logging.Filter):
    """Replace anything shaped like a bot token in a log record with a placeholder."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _TOKEN.search(message):
            record.msg = _TOKEN.sub("<token>", message)
            record.args = ()
        return True


def setup_logging(level: str = "INFO", library_level: str | None = None) -> None:
    """Log to stderr: ours at `level`, libraries at INFO or above unless `library_level`."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    own = logging.getLevelNamesMapping()[level]
    asked = library_level is not None
    libraries = logging.getLevelNamesMapping()[library_level] if library_level is not None \
        else max(own, logging.INFO)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(libraries)  # any other library follows the libraries' level
    for name in OWN:
        logging.getLogger(name).setLevel(own)
    for name in LIBRARIES:
        quiet = name in _CHATTY_AT_INFO and not asked
        logging.getLogger(name).setLevel(max(libraries, logging.WARNING) if quiet else libraries)
    if libraries < logging.INFO:
        logging.getLogger("fieldbot").warning(
            "FIELDBOT_LIBRARY_LOG_LEVEL=%s: library logs now include PERSONAL DATA (message "
            "texts, lodging, phone numbers, coordinates, SQL parameters) and must not be kept; "
            "unset it as soon as the fault is found", logging.getLevelName(libraries))
