"""The support lead's workspace (``/console/lead``): review conversations, curate training data, retrain and
promote models, find the knowledge base's gaps and manage its articles.

Each area has its own API module (``api_<area>.py``: a ``router`` and optional ``on_startup``/``on_shutdown``
hooks), its own service module and its own page script (``static/<area>.js``); ``feature.py`` only lists them.
Every lead action is written to the workspace audit log (``audit.py``) with who, when, what, before and after.
"""
