#!/usr/bin/env bash
# Regenerates every result and figure of faithful-tda.
#
#   ./reproduce.sh [quick|full] [--only 01,03|NAME,...] [--skip-experiments] [--no-notebooks]
#
# 1. runs each finding's experiment: npx tsx lib/cli.ts experiment <name> --preset <preset> (cached and
#    resumable under results/cache; a name the CLI does not know yet is skipped with a message);
# 2. executes the notebooks headless (scripts/notebooks.ts: project-local Deno kernelspec, executed copies in
#    results/notebooks/<preset>/, each notebook's figure files verified) — or, without Jupyter (or with
#    --no-notebooks), builds the same figures directly with scripts/figures.ts;
# 3. lists the figures in figures/.
# Exit status: 0 when every experiment that exists ran and every figure whose results exist was written.
set -euo pipefail
cd "$(dirname "$0")"

PRESET=quick
ONLY=""
RUN_EXPERIMENTS=1
NOTEBOOKS=1
while [ $# -gt 0 ]; do
  case "$1" in
    quick|full) PRESET="$1" ;;
    --only) ONLY="${2:?--only needs a list, e.g. 01,03 or optimizer-mismatch}"; shift ;;
    --only=*) ONLY="${1#--only=}" ;;
    --skip-experiments) RUN_EXPERIMENTS=0 ;;
    --no-notebooks) NOTEBOOKS=0 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "reproduce.sh: unknown argument '$1' (usage: ./reproduce.sh [quick|full] [--only LIST] [--skip-experiments] [--no-notebooks])" >&2; exit 2 ;;
  esac
  shift
done

export NO_COLOR=1 FTDA_PRESET="$PRESET"
# Real data comes from the workspace mirror when there is one (as in .ci/run); the resolver verifies checksums.
if [ -z "${FTDA_DATA_MIRROR:-}" ] && [ -d ../shared/data ]; then
  FTDA_DATA_MIRROR="$(cd ../shared/data && pwd)"
  export FTDA_DATA_MIRROR
fi
if [ ! -x node_modules/.bin/tsx ]; then
  echo "reproduce.sh: node_modules is missing; run 'npm install' first" >&2
  exit 2
fi

TSX=(node_modules/.bin/tsx)
ONLY_ARGS=()
[ -n "$ONLY" ] && ONLY_ARGS=(--only "$ONLY")
LOGS="results/reproduce/$PRESET"
mkdir -p "$LOGS"
T0=$SECONDS
status=0
ran=() skipped=() failed=()

echo "== faithful-tda: reproduce (preset $PRESET${ONLY:+, only $ONLY}) =="
if [ "$RUN_EXPERIMENTS" = 1 ]; then
  EXPERIMENTS=()
  mapfile -t EXPERIMENTS < <("${TSX[@]}" scripts/figures.ts --list-experiments "${ONLY_ARGS[@]}")
  if [ ${#EXPERIMENTS[@]} -eq 0 ]; then
    echo "reproduce.sh: no experiments selected (see: ${TSX[*]} scripts/figures.ts --list-experiments ${ONLY_ARGS[*]})" >&2
    exit 2
  fi
  for name in "${EXPERIMENTS[@]}"; do
    echo
    echo "-- experiment $name (preset $PRESET) --"
    t=$SECONDS
    set +e
    "${TSX[@]}" lib/cli.ts experiment "$name" --preset "$PRESET" 2>&1 | tee "$LOGS/$name.log"
    rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" -eq 0 ]; then
      ran+=("$name")
      echo "-- $name: done in $((SECONDS - t)) s (log: $LOGS/$name.log)"
    elif [ "$rc" -eq 2 ] && grep -q "unknown name '$name'" "$LOGS/$name.log"; then
      skipped+=("$name")
      echo "-- $name: skipped, lib/cli.ts does not know this experiment yet"
    else
      failed+=("$name")
      status=1
      echo "-- $name: FAILED (exit $rc; log: $LOGS/$name.log)"
    fi
  done
fi

echo
if [ "$NOTEBOOKS" = 1 ] && command -v jupyter >/dev/null 2>&1 && jupyter nbconvert --version >/dev/null 2>&1; then
  echo "-- notebooks --"
  # --no-run: the notebooks only read the results written above; --allow-pending: a notebook whose results do
  # not exist (experiment skipped) is reported, not failed.
  "${TSX[@]}" scripts/notebooks.ts run --preset "$PRESET" --no-run --allow-pending "${ONLY_ARGS[@]}" || status=1
else
  if [ "$NOTEBOOKS" = 1 ]; then
    echo "Jupyter (nbconvert) is not installed, so the notebooks are not executed. To run them, install:"
    echo "  sudo apt-get install -y --no-install-recommends jupyter-nbconvert jupyter-client python3-ipykernel"
    echo "  (or: pip install nbconvert jupyter_client ipykernel)"
  fi
  echo "-- figures (directly from the result files, no Jupyter) --"
  "${TSX[@]}" scripts/figures.ts --preset "$PRESET" --allow-pending "${ONLY_ARGS[@]}" || status=1
fi

echo
echo "-- figures/ --"
shopt -s nullglob
svgs=(figures/*.svg)
if [ ${#svgs[@]} -eq 0 ]; then
  echo "(none)"
else
  for f in "${svgs[@]}"; do
    printf '  %-48s %7s bytes  %s\n' "$f" "$(wc -c <"$f")" "$(date -r "$f" '+%Y-%m-%d %H:%M:%S')"
  done
fi
echo
echo "experiments: ran ${#ran[@]} (${ran[*]:-none}), skipped ${#skipped[@]} (${skipped[*]:-none}), failed ${#failed[@]} (${failed[*]:-none})"
echo "reproduce.sh: $([ $status = 0 ] && echo ok || echo FAILED) in $((SECONDS - T0)) s"
exit $status
