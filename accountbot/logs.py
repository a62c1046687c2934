"""Structured logs with a redaction step: no password, code, token, full email or phone.

Every record passes one filter that masks what looks like a secret or an address, whatever the
code that logged it meant to do (PRODUCT §3); the formatter writes one JSON object per line.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from core.domain.addresses import mask_email, mask_phone
from core.log_context import current

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+\d[\d\s()-]{8,17}\d")
CODE = re.compile(r"(?<![\w/.-])\d{6}(?![\w/.-])")
TOKEN = re.compile(r"(?<![\w-])[A-Za-z0-9_-]{32,}(?![\w-])")
BOT_TOKEN = re.compile(r"\d{6,}:[A-Za-z0-9_-]{20,}")
STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact(text: str) -> str:
    text = BOT_TOKEN.sub("[bot-token]", text)
    text = EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    text = PHONE.sub(lambda m: mask_phone("+" + re.sub(r"\D", "", m.group(0))), text)
    text = TOKEN.sub("[token]", text)
    return CODE.sub("[code]", text)


class Redact(logging.Filter):
    """Rewrites the message and string extras of every record before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        for key, value in list(vars(record).items()):
            if key not in STANDARD and isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class RequestId(logging.Filter):
    """Adds `request_id`: the Telegram update's or web request's being handled, if any
    (core.log_context), so every line of one update or request can be found by it."""

    def filter(self, record: logging.LogRecord) -> bool:
        ident = current()
        if ident is not None and not hasattr(record, "request_id"):
            record.request_id = ident
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in STANDARD})
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: str = "INFO", *, as_json: bool = True) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(Redact())
    handler.addFilter(RequestId())  # after: a proxy's UUID is an id, not a token to mask
    fmt = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
    text = logging.Formatter(fmt, defaults={"request_id": "-"})
    handler.setFormatter(JsonFormatter() if as_json else text)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
