"""Self-service help center: article pages built from ``kb_articles/``, categories, language switch, search."""
