#!/usr/bin/env bash
# `make test`: build what is missing (environments, Chromium, the Rasa model — each cached), then run the
# two halves of the test suite: tests/bot in the Rasa environment (Python 3.10) and everything else in the
# services environment (Python 3.11). Exits non-zero if either half fails.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD" OMP_WAIT_POLICY=PASSIVE HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
       TOKENIZERS_PARALLELISM=false TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1

WITH_BROWSER=1 bash scripts/ensure_envs.sh || exit 1
.venv/rasa/bin/python -m scripts.train_model || { echo "error: training the Rasa model failed" >&2; exit 1; }
.venv/services/bin/python -m retrieval ingest || { echo "error: building the knowledge-base index failed" >&2; exit 1; }

status=0
echo "==> tests/bot (Rasa environment, Python 3.10)"
.venv/rasa/bin/python -m pytest tests/bot -p no:cacheprovider "$@" || status=1
echo "==> tests (services environment, Python 3.11)"
.venv/services/bin/python -m pytest tests --ignore=tests/bot -p no:cacheprovider "$@" || status=1
exit $status
