#!/usr/bin/env bash
# Regenerates every result and figure of faithful-tda.
#
#   ./reproduce.sh [--preset quick|full] [--only 01,03|NAME,...] [--skip-experiments] [--no-notebooks] [--force-png] [--setup] [--dry-run]
#   (the preset may also be given bare: ./reproduce.sh full)
#
# 0. prints the plan with a cost estimate per experiment (this machine's last run, else the committed reference run
#    scripts/reference-timings.tsv); --dry-run stops there;
# 1. runs each experiment: npx tsx lib/cli.ts experiment <name> --preset <preset>, with a progress line (N of M,
#    elapsed, ETA from those timings, scaled by this machine's pace so far). Experiments are cached and resumable
#    under results/cache, so a rerun only recomputes what changed;
# 2. executes the notebooks headless (scripts/notebooks.ts) — or, without Jupyter (or with --no-notebooks), builds
#    the same figures directly with scripts/figures.ts — as SVG, Plotly JSON, data JSON and HTML;
# 3. renders every figure to PNG with headless Chromium (skipping figures whose Plotly JSON is unchanged since their
#    PNG; --force-png re-renders all) and writes the index README.md + index.html. The full preset publishes into
#    figures/ (tracked); any other preset is a smoke test written to figures/<preset>/ (ignored by git);
# 4. prints the headline numbers (scripts/summary.ts; also results/reproduce/<preset>/headline.md).
# Nothing is installed unless --setup is given: it first installs the missing Debian packages (Jupyter, Chromium)
# with apt-get, echoing the command. Without Chromium the PNGs are skipped and the install command is printed.
# Exit status: 0 when every experiment that exists ran, every figure whose results exist was written, and every PNG
# that could be rendered is not blank.
set -euo pipefail
cd "$(dirname "$0")"

PRESET=quick
ONLY=""
RUN_EXPERIMENTS=1
NOTEBOOKS=1
SETUP=0
FORCE_PNG=0
DRY_RUN=0
usage() { echo "usage: ./reproduce.sh [--preset quick|full] [--only LIST] [--skip-experiments] [--no-notebooks] [--force-png] [--setup] [--dry-run]"; }
while [ $# -gt 0 ]; do
  case "$1" in
    quick|full) PRESET="$1" ;;
    --preset) PRESET="${2:?--preset needs a name, e.g. quick or full}"; shift ;;
    --preset=*) PRESET="${1#--preset=}" ;;
    --only) ONLY="${2:?--only needs a list, e.g. 01,03 or optimizer-mismatch}"; shift ;;
    --only=*) ONLY="${1#--only=}" ;;
    --skip-experiments) RUN_EXPERIMENTS=0 ;;
    --no-notebooks) NOTEBOOKS=0 ;;
    --force-png) FORCE_PNG=1 ;;
    --setup) SETUP=1 ;;
    --dry-run) DRY_RUN=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "reproduce.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if ! [[ "$PRESET" =~ ^[a-z][a-z0-9-]*$ ]]; then
  echo "reproduce.sh: --preset must be a preset name such as quick or full, got '$PRESET'" >&2
  exit 2
fi

# --- tools -------------------------------------------------------------------------------------------------
JUPYTER_PKGS=(jupyter-nbconvert jupyter-client python3-ipykernel)
CHROMIUM_PKGS=(chromium)
have_jupyter() { command -v jupyter >/dev/null 2>&1 && jupyter nbconvert --version >/dev/null 2>&1; }
find_chromium() {
  if [ -n "${FTDA_CHROMIUM:-}" ]; then command -v "$FTDA_CHROMIUM" 2>/dev/null || return 1; return 0; fi
  local c
  for c in chromium chromium-browser google-chrome google-chrome-stable; do
    command -v "$c" 2>/dev/null && return 0
  done
  return 1
}
SUDO=""
[ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo "

if [ "$SETUP" = 1 ]; then
  missing=()
  have_jupyter || missing+=("${JUPYTER_PKGS[@]}")
  # An FTDA_CHROMIUM that does not resolve is the user's choice to fix, not a reason to install another browser.
  find_chromium >/dev/null || [ -n "${FTDA_CHROMIUM:-}" ] || missing+=("${CHROMIUM_PKGS[@]}")
  if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: Jupyter and Chromium are already installed"
  elif ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: apt-get not found; install these with your package manager: ${missing[*]}" >&2
    exit 2
  else
    echo "setup: installing ${missing[*]}"
    echo "+ ${SUDO}apt-get update && ${SUDO}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
    ${SUDO}apt-get update
    ${SUDO}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
  if [ ! -x node_modules/.bin/tsx ]; then
    echo "+ npm install"
    npm install --no-audit --no-fund
  fi
fi

export NO_COLOR=1 FTDA_PRESET="$PRESET"
# Real data comes from the workspace mirror when there is one (as in .ci/run); the resolver verifies checksums.
if [ -z "${FTDA_DATA_MIRROR:-}" ] && [ -d ../shared/data ]; then
  FTDA_DATA_MIRROR="$(cd ../shared/data && pwd)"
  export FTDA_DATA_MIRROR
fi
if [ ! -x node_modules/.bin/tsx ]; then
  echo "reproduce.sh: node_modules is missing; run 'npm install' first (or ./reproduce.sh --setup)" >&2
  exit 2
fi

TSX=(node_modules/.bin/tsx)
ONLY_ARGS=()
[ -n "$ONLY" ] && ONLY_ARGS=(--only "$ONLY")
LOGS="${FTDA_RESULTS_DIR:-results}/reproduce/$PRESET"
TIMINGS="$LOGS/timings.tsv"
mkdir -p "$LOGS"
T0=$SECONDS
status=0
ran=() skipped=() failed=()

fmt_s() { # seconds → 42 s / 3m07s / 1h05m
  local s=$1
  if [ "$s" -lt 60 ]; then echo "${s} s"; elif [ "$s" -lt 3600 ]; then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%dh%02dm' $((s / 3600)) $((s % 3600 / 60)); fi
}
bar() { # done total → [#####---------------]
  local fill=$(($1 * 20 / ($2 > 0 ? $2 : 1))) out="" i
  for ((i = 0; i < 20; i++)); do if [ $i -lt $fill ]; then out+="#"; else out+="-"; fi; done
  echo "[$out]"
}

echo "== faithful-tda: reproduce (preset $PRESET${ONLY:+, only $ONLY}) =="
echo "tools: node $(node --version)"
JUPYTER_OK=0
if have_jupyter; then
  JUPYTER_OK=1
  echo "       jupyter nbconvert $(jupyter nbconvert --version 2>/dev/null)"
elif [ "$NOTEBOOKS" = 1 ]; then
  echo "       Jupyter (nbconvert) is not installed: the notebooks are not executed; scripts/figures.ts builds the same"
  echo "       figures from the result files instead. To run the notebooks, install it:"
  echo "         ${SUDO}apt-get install -y --no-install-recommends ${JUPYTER_PKGS[*]}   (or: ./reproduce.sh --setup)"
fi
if CHROMIUM="$(find_chromium)"; then
  echo "       chromium $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null | head -n1 || echo 'version unknown'))"
elif [ -n "${FTDA_CHROMIUM:-}" ]; then
  echo "       FTDA_CHROMIUM=$FTDA_CHROMIUM is not an executable: no PNGs (figures are still written as SVG, Plotly JSON"
  echo "       and HTML). Point it at a Chromium/Chrome executable, or unset it to use chromium from PATH."
else
  echo "       Chromium is not installed: figures are still written as SVG, Plotly JSON and HTML, but no PNGs."
  echo "       To render PNGs, install it:"
  echo "         ${SUDO}apt-get install -y chromium   (or: ./reproduce.sh --setup; or set FTDA_CHROMIUM=/path/to/chrome)"
fi

# --- 1. experiments ----------------------------------------------------------------------------------------
if [ "$RUN_EXPERIMENTS" = 1 ]; then
  EXPERIMENTS=()
  mapfile -t EXPERIMENTS < <("${TSX[@]}" scripts/figures.ts --list-experiments "${ONLY_ARGS[@]}")
  if [ ${#EXPERIMENTS[@]} -eq 0 ]; then
    echo "reproduce.sh: no experiments selected (see: ${TSX[*]} scripts/figures.ts --list-experiments ${ONLY_ARGS[*]})" >&2
    exit 2
  fi
  # Seconds per experiment: this machine's last uncached run of the preset (results/reproduce/<preset>/timings.tsv),
  # else the committed reference run (scripts/reference-timings.tsv, measured on the 2-core development machine).
  # Experiments differ by orders of magnitude, so a mean over the ones done so far would mislead; the remaining
  # estimate is scaled by how fast this machine has been against the same table. Cached reruns finish sooner.
  declare -A LAST=() REF=()
  REF_SRC=""
  if [ -f scripts/reference-timings.tsv ]; then
    while IFS=$'\t' read -r p n s when; do
      [ "$p" = "$PRESET" ] && [ -n "$n" ] && REF[$n]=$s && REF_SRC="reference run of $when"
    done < <(grep -v '^#' scripts/reference-timings.tsv)
  fi
  if [ -f "$TIMINGS" ]; then
    while IFS=$'\t' read -r n s; do [ -n "$n" ] && LAST[$n]=$s; done <"$TIMINGS"
  fi
  expected() { if [ -n "${LAST[$1]:-}" ]; then echo "${LAST[$1]}"; elif [ -n "${REF[$1]:-}" ]; then echo "${REF[$1]}"; else echo ""; fi; }
  total=0 unknown=0
  echo "plan: ${#EXPERIMENTS[@]} experiments (preset $PRESET)"
  for n in "${EXPERIMENTS[@]}"; do
    e=$(expected "$n")
    if [ -n "$e" ]; then total=$((total + e)); printf '  %-22s ~%s%s\n' "$n" "$(fmt_s "$e")" "$([ -n "${LAST[$n]:-}" ] && echo ' (this machine, last run)' || echo " ($REF_SRC)")"
    else unknown=$((unknown + 1)); printf '  %-22s  no timing yet\n' "$n"; fi
  done
  echo "estimate: ~$(fmt_s "$total") for the experiments${unknown:+$([ "$unknown" -gt 0 ] && echo ", plus $unknown without a timing")} (less where results are cached)"
  if [ "$DRY_RUN" = 1 ]; then exit 0; fi
  declare -A NOW=()
  M=${#EXPERIMENTS[@]}
  PHASE0=$SECONDS
  i=0
  predicted_done=0
  for name in "${EXPERIMENTS[@]}"; do
    elapsed=$((SECONDS - PHASE0))
    eta="" known=1 rest=0
    for n in "${EXPERIMENTS[@]:$i}"; do
      e=$(expected "$n")
      if [ -n "$e" ]; then rest=$((rest + e)); else known=0; fi
    done
    # Scale by this machine's pace so far against the table (only once a few seconds of evidence exist).
    if [ "$predicted_done" -ge 5 ] && [ "$elapsed" -gt 0 ]; then rest=$((rest * elapsed / predicted_done)); fi
    if [ "$known" = 1 ] && [ "$rest" -gt 0 ]; then eta="  ETA ~$(fmt_s "$rest")"
    elif [ "$rest" -gt 0 ]; then eta="  ETA > $(fmt_s "$rest") (some experiments have no timing yet)"
    elif [ "$i" -gt 0 ]; then eta="  ETA ~$(fmt_s $((elapsed * (M - i) / i))) (mean so far; no timings)"; fi
    echo
    echo "$(bar "$i" "$M") $i/$M  elapsed $(fmt_s "$elapsed")$eta"
    echo "-- experiment $name (preset $PRESET) --"
    t=$SECONDS
    set +e
    "${TSX[@]}" lib/cli.ts experiment "$name" --preset "$PRESET" 2>&1 | tee "$LOGS/$name.log"
    rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" -eq 0 ]; then
      ran+=("$name")
      NOW[$name]=$((SECONDS - t))
      echo "-- $name: done in $(fmt_s $((SECONDS - t))) (log: $LOGS/$name.log)"
    elif [ "$rc" -eq 2 ] && grep -q "unknown name '$name'" "$LOGS/$name.log"; then
      skipped+=("$name")
      echo "-- $name: skipped, lib/cli.ts does not know this experiment yet"
    else
      failed+=("$name")
      status=1
      echo "-- $name: FAILED (exit $rc; log: $LOGS/$name.log)"
    fi
    e=$(expected "$name")
    predicted_done=$((predicted_done + ${e:-0}))
    i=$((i + 1))
  done
  echo
  echo "$(bar "$M" "$M") $M/$M  experiments done in $(fmt_s $((SECONDS - PHASE0)))"
  # Keep the slowest time seen per experiment (the uncached one), so the ETA stays an honest upper bound.
  for n in "${!NOW[@]}"; do
    if [ -z "${LAST[$n]:-}" ] || [ "${NOW[$n]}" -gt "${LAST[$n]}" ]; then LAST[$n]=${NOW[$n]}; fi
  done
  if [ ${#LAST[@]} -gt 0 ]; then
    for n in "${!LAST[@]}"; do printf '%s\t%s\n' "$n" "${LAST[$n]}"; done | sort >"$TIMINGS"
  fi
fi

# --- 2. figures (notebooks or direct) ----------------------------------------------------------------------
echo
if [ "$NOTEBOOKS" = 1 ] && [ "$JUPYTER_OK" = 1 ]; then
  echo "-- notebooks --"
  # --no-run: the notebooks only read the results written above; --allow-pending: a notebook whose results do
  # not exist (experiment skipped) is reported, not failed.
  "${TSX[@]}" scripts/notebooks.ts run --preset "$PRESET" --no-run --allow-pending "${ONLY_ARGS[@]}" || status=1
  FIG_CMD=(render --index)
  echo
  echo "-- PNG (headless Chromium) and figure index --"
else
  echo "-- figures (directly from the result files, no Jupyter), PNG (headless Chromium) and figure index --"
  FIG_CMD=(--allow-pending --png --index)
fi

# --- 3. PNGs + index (in the direct route, the same process that builds the figures: tsx starts once) -------
FIG_FLAGS=(--preset "$PRESET" "${ONLY_ARGS[@]}")
[ "$FORCE_PNG" = 1 ] && FIG_FLAGS+=(--force)
"${TSX[@]}" scripts/figures.ts "${FIG_CMD[@]}" "${FIG_FLAGS[@]}" || status=1

# --- 4. headline numbers -----------------------------------------------------------------------------------
echo
"${TSX[@]}" scripts/summary.ts --preset "$PRESET" "${ONLY_ARGS[@]}" || status=1
# The full preset is the published study: its numbers in the README and docs/ are regenerated from the results
# (scripts/blocks.ts), and git shows which published results and numbers changed.
if [ "$PRESET" = full ]; then
  "${TSX[@]}" scripts/blocks.ts || status=1
  git status --short -- results README.md docs 2>/dev/null | sed 's/^/changed: /' || true
fi

echo
shopt -s nullglob
# The full preset publishes into figures/ (tracked); any other preset is a smoke test under figures/<preset>/ (ignored).
FIGDIR=figures; [ "$PRESET" = full ] || FIGDIR="figures/$PRESET"
svgs=("$FIGDIR"/*.svg) pngs=("$FIGDIR"/*.png)
echo "figures: ${#svgs[@]} SVG, ${#pngs[@]} PNG in $FIGDIR/ — index: $FIGDIR/README.md, $FIGDIR/index.html"
echo "headline numbers: $LOGS/headline.md"
if [ "$RUN_EXPERIMENTS" = 1 ]; then
  echo "experiments: ran ${#ran[@]} (${ran[*]:-none}), skipped ${#skipped[@]} (${skipped[*]:-none}), failed ${#failed[@]} (${failed[*]:-none})"
fi
echo "reproduce.sh: $([ $status = 0 ] && echo ok || echo FAILED) in $(fmt_s $((SECONDS - T0)))"
exit $status
