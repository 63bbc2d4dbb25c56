"""Personal-data redaction for the services environment: the shared rules of ``pii/`` with maintained
libraries doing the validation — validate-docbr (CPF, CNPJ check digits) and phonenumbers (Brazilian and
international phone numbers, with real numbering plans instead of a pattern).

Use :func:`redact` for text, :func:`redact_log_text` for log lines and :func:`install_log_redaction` once at
process start-up (``python -m services`` does).
"""

from services.privacy.rules import LIBRARY_RULES, find, install_log_redaction, redact, redact_log_text

__all__ = ["LIBRARY_RULES", "find", "install_log_redaction", "redact", "redact_log_text"]
