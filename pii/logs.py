"""Mask personal data and secrets in every log record a process writes, whoever configures its handlers.

Why a record factory and not only a handler filter: Rasa, Sanic and uvicorn each (re)configure logging
after start-up (dictConfig, coloredlogs), replacing handlers — a filter added to a handler at start-up would
be dropped. The record factory is process-wide and runs for every record that passes its logger's level, so
the message, its arguments and any traceback are masked before any handler sees them. Values passed with
``extra=`` (Sanic's access log puts the request line there) are set after the factory runs, so the loggers
known to use them also get :class:`RedactingFilter`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from pii.redact import redact_log_text

TextRedactor = Callable[[str], str]

# Loggers whose formatters unpack ``record.args`` (uvicorn's access formatter does): their arguments are masked
# one by one and never merged into the message.
KEEP_ARGS = frozenset({"uvicorn.access"})
# Loggers that put request data in ``extra=`` attributes.
EXTRA_LOGGERS = ("sanic.access", "uvicorn.access", "uvicorn.error", "sanic.root", "sanic.error")
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_MARK = "_pii_masked"


def _mask_value(value: Any, redact: TextRedactor) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value  # numbers keep their type for %d; the whole-message check below catches a CPF as int
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - an object that cannot print itself cannot leak through %s either
        return value
    masked = redact(text)
    return value if masked == text else masked


def redact_record(record: logging.LogRecord, redact: TextRedactor = redact_log_text) -> None:
    """Mask personal data in ``record`` in place (message, arguments, traceback, stack, extra attributes)."""
    if not getattr(record, _MARK, False):
        record.msg = _mask_value(record.msg, redact)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_mask_value(a, redact) for a in args)
        elif isinstance(args, Mapping):
            record.args = {k: _mask_value(v, redact) for k, v in args.items()}
        if record.args and record.name not in KEEP_ARGS:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a malformed record is logging's problem to report, not ours
                message = None
            if message is not None:
                masked = redact(message)
                if masked != message:  # personal data spread across message and arguments, or in a number
                    record.msg, record.args = masked, ()
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        setattr(record, _MARK, True)
    for name, value in vars(record).items():
        if name not in _STANDARD_ATTRS and name != _MARK and isinstance(value, str):
            setattr(record, name, redact(value))


class RedactingFilter(logging.Filter):
    """Logging filter that masks personal data in place and never drops a record."""

    def __init__(self, redact: TextRedactor = redact_log_text) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record, self.redact)
        return True


_installed: dict[str, Any] = {}


def install(redact: TextRedactor = redact_log_text) -> None:
    """Mask personal data in every log record of this process from now on (idempotent)."""
    if _installed:
        _installed["redact"] = redact
        return
    _installed["redact"] = redact
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redact_record(record, _installed["redact"])
        return record

    logging.setLogRecordFactory(factory)
    log_filter = RedactingFilter(lambda text: _installed["redact"](text))
    for name in EXTRA_LOGGERS:
        logging.getLogger(name).addFilter(log_filter)
    for handler in logging.getLogger().handlers:
        handler.addFilter(log_filter)
