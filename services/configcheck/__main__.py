"""``python -m services.configcheck``: check every lead-editable settings file and print what is wrong.

Exit status 0 when all files are valid, 1 otherwise (usable in CI and before a deploy).
"""

from __future__ import annotations

import sys

from services.configcheck.check import chat_file, check_all, policy_file, settings_file, texts_dir


def main() -> int:
    problems = check_all()
    if problems:
        print(f"{len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    files = [policy_file(), settings_file(), chat_file(), texts_dir()]
    print("all settings files are valid: " + ", ".join(str(f) for f in files) + " (and the topics file)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
