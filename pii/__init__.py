"""Personal data (CPF, CNPJ, e-mail, phone, card numbers) found and masked in free text and in log records.

Why a top-level package with no dependencies: every process of the product writes logs — the Rasa server and
the action server in the Python 3.10 Rasa environment, the services app in Python 3.11 — and all of them must
mask the same things the same way. ``bot/`` may not import ``services/``, so the rules live here, stdlib only.
The services environment plugs maintained libraries (validate-docbr, phonenumbers) into the same detector
through :class:`pii.detect.Rules` (see ``services/privacy/``); the Rasa environment uses the built-in checks.
"""

from pii.detect import DEFAULT_RULES, Finding, Rules, find
from pii.redact import Redactor, redact, redact_log_text

__all__ = ["DEFAULT_RULES", "Finding", "Redactor", "Rules", "find", "redact", "redact_log_text"]
