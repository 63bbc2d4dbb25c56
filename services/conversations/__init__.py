"""The conversation lifecycle: who has the chat (one status), and what happened in it (an append-only event log).

Why a package of its own: the status of a conversation used to be kept in three places (Rasa's pause, the chat
gateway's ``mode`` and the handoff row) written in separate transactions. Here one function,
:meth:`services.conversations.lifecycle.Tx.set_status`, writes the status together with its event (and, because the
caller runs it inside the same :class:`~services.conversations.lifecycle.Tx`, with the handoff row), and every side
effect of a change (customer notices, console refreshes, webhooks, Rasa's resume) runs in listeners subscribed to
the event log (:mod:`services.conversations.bus`).
"""
