"""Log records are masked whatever the handler: message, arguments, tracebacks and ``extra`` attributes."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import textwrap

from pii.logs import RedactingFilter, redact_record
from scripts.stack import REPO_ROOT
from services.privacy import redact_log_text

CPF = "529.982.247-25"


def _record(msg: object, args: tuple | dict | None = (), name: str = "test", **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_message_and_arguments_are_masked() -> None:
    record = _record("customer %s wrote %r", ("ana@x.com", {"text": f"meu cpf {CPF}"}))
    redact_record(record, redact_log_text)
    message = record.getMessage()
    assert "ana@x.com" not in message and CPF not in message
    assert "a***@***.com" in message


def test_a_cpf_passed_as_a_number_is_masked() -> None:
    record = _record("cpf=%d", (52998224725,))
    redact_record(record, redact_log_text)
    assert "52998224725" not in record.getMessage()


def test_uvicorn_access_record_keeps_its_argument_tuple() -> None:
    """uvicorn's AccessFormatter unpacks record.args; the path is masked inside the tuple."""
    record = _record('%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5", "GET", f"/api/search?q={CPF}", "1.1", 200),
                     name="uvicorn.access")
    redact_record(record, redact_log_text)
    assert isinstance(record.args, tuple) and len(record.args) == 5
    assert record.args[2] == "/api/search?q=***.***.***-25"


def test_extra_attributes_are_masked_by_the_filter() -> None:
    """Sanic's access log puts the request line in ``extra``."""
    record = _record("", (), name="sanic.access", request=f"GET /x?cpf={CPF}&token=abc", status=200)
    assert RedactingFilter(redact_log_text).filter(record) is True
    assert CPF not in record.request and "abc" not in record.request
    assert record.status == 200


def test_traceback_is_masked() -> None:
    try:
        raise ValueError(f"bad customer {CPF}")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    redact_record(record, redact_log_text)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.emit(record)
    assert "ValueError" in stream.getvalue() and CPF not in stream.getvalue()


def test_install_masks_records_of_handlers_configured_afterwards() -> None:
    """Rasa, Sanic and uvicorn configure their handlers after start-up; the masking must survive that."""
    script = textwrap.dedent(f"""
        import logging, logging.config, sys
        from services.privacy import install_log_redaction
        install_log_redaction()
        logging.config.dictConfig({{"version": 1,
            "formatters": {{"access": {{"format": "ACCESS %(request)s"}}}},
            "handlers": {{"h": {{"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}},
                         "a": {{"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                                "formatter": "access"}}}},
            "loggers": {{"sanic.access": {{"handlers": ["a"], "propagate": False}}}},
            "root": {{"handlers": ["h"], "level": "INFO"}}}})
        logging.getLogger("rasa.core").info("message from %s: %s", "ana@x.com", "cpf {CPF}")
        logging.getLogger("sanic.access").info("", extra={{"request": "GET /?q={CPF}"}})
        logging.getLogger("x").warning("sem dados pessoais: pedido 20481234")
        try:
            raise RuntimeError("cpf {CPF}")
        except RuntimeError:
            logging.getLogger("x").exception("crash")
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert CPF not in out and "ana@x.com" not in out
    assert "***.***.***-25" in out and "a***@***.com" in out
    assert "ACCESS GET /?q=***.***.***-25" in out
    assert "pedido 20481234" in out and "RuntimeError" in out
