#!/usr/bin/env bash
# Installs the Deno Jupyter kernel for faithful-tda's notebooks.
#
#   scripts/kernel.sh           project-local kernelspec 'deno' (the name the notebooks carry) in .cache/jupyter,
#                               touching nothing else; use it with JUPYTER_PATH="$PWD/.cache/jupyter" jupyter lab notebooks/
#   scripts/kernel.sh --user    also the user-wide kernelspec 'deno' (deno jupyter --install), so any Jupyter
#                               opens them directly
set -euo pipefail
cd "$(dirname "$0")/.."
node_modules/.bin/tsx scripts/notebooks.ts install-kernel
if [ "${1:-}" = "--user" ]; then
  NO_COLOR=1 node_modules/.bin/deno jupyter --install --force
fi
