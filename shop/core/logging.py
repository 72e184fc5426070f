"""Structured logs on stdout, with personal and payment data kept out of them."""

import logging
import re
from datetime import datetime

from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from shop.core.validators import contains_card_number

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_DIGITS = re.compile(r"(?:\d[ -]?){13,19}")


def redact(text: str) -> str:
    """Mask email addresses and anything that looks like a card number."""
    text = _EMAIL.sub("[email]", text)
    if contains_card_number(text):
        text = _DIGITS.sub("[card number]", text)
    return text


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(BaseJsonFormatter):
    """One JSON object a line (python-json-logger): time (ISO, UTC), level, logger, message, the
    fields passed in `extra=` and the exception, every text in it masked as `redact` does."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", ["levelname", "name", "message"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger", "exc_info": "exception"})
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_data):
        return {key: _masked(value) for key, value in super().process_log_record(log_data).items()}


def _masked(value):
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return redact(str(value))
