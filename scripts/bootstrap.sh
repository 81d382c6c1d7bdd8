#!/usr/bin/env bash
# Create .venv with PerfDesk's dependencies if it is missing or stale (pyproject changed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras="${1:-}"
venv="$root/.venv"
stamp="$venv/.perfdesk-installed${extras:+-$extras}"
py="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  echo "Creating $venv ..." >&2
  "$py" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
  echo "Installing dependencies into $venv ..." >&2
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
  spec="$root"
  [ -n "$extras" ] && spec="$root[$extras]"
  "$venv/bin/python" -m pip install --quiet -e "$spec" >&2
  touch "$stamp"
fi
