"""Custom actions of the Lumo assistant (run with ``rasa run actions --actions bot.actions``).

rasa-sdk registers every ``Action`` subclass that is imported, so this package imports each module.
"""

from bot.actions import escalation, greeting, knowledge, order_status, session  # noqa: F401
