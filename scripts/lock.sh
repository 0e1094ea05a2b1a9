#!/usr/bin/env bash
# `make lock`: regenerate requirements.lock, the exact versions `make install` (and so `make demo`,
# `make test` and CI) installs. Run it after changing a dependency range in pyproject.toml.
#
# uv resolves once for every platform and Python >= 3.11 (--universal), from the same package indexes
# pip uses on this machine: uv reads no pip.conf, so the index, extra indexes and wheel folders are
# taken from `pip config` and PIP_* and handed over, and "best match across indexes" is pip's rule.
# Versions already in the lockfile are kept unless pyproject.toml rules them out (uv prefers them).
# No index or folder is written into the lockfile, so it means the same on any machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
UV=${UV:-.venv/bin/uv}

pip_setting() {  # the first of: PIP_<NAME>, pip config global.<name>
  local env_name="PIP_$(echo "$1" | tr 'a-z-' 'A-Z_')"
  if [ -n "${!env_name:-}" ]; then echo "${!env_name}"; else "$PY" -m pip config get "global.$1" 2>/dev/null || true; fi
}

args=()
index=$(pip_setting index-url)
[ -n "$index" ] && args+=(--index-url "$index")
for url in $(pip_setting extra-index-url); do args+=(--extra-index-url "$url"); done
for place in $(pip_setting find-links); do args+=(--find-links "$place"); done

exec "$UV" pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
  --index-strategy unsafe-best-match "${args[@]}" \
  --custom-compile-command "make lock" --quiet -o requirements.lock "$@"
