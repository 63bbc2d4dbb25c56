"""Start-up checks of the YAML files a support lead edits (schemas.py: what each file may contain)."""

from services.configcheck.check import ConfigError, Problem, check_all, ensure_valid

__all__ = ["ConfigError", "Problem", "check_all", "ensure_valid"]
