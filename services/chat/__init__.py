"""Chat gateway: conversations, messages, the widget's WebSocket and the bridge to Rasa and to handoff."""
