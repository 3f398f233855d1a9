#!/usr/bin/env bash
# Regenerate every figure family: executes the notebooks with papermill for one profile.
#   ./run_all.sh [--profile smoke|laptop|paper] [--rehearse] [--yes] [--only 01,03] [--jobs N]
#                [-p name value ...] [-y name yaml ...] [--executor local|slurm|ray] [--executor-opt key=value ...]
# --profile paper first prints each notebook's estimated GPU-hours, memory and downloads and, from
# a terminal, asks before starting (--yes skips the question; without a terminal it never asks).
# --rehearse (with --profile paper) runs every code path of the paper profile at toy sizes, on
# synthetic stand-ins of missing datasets, into its own run store, figures and reports under the
# name paper-rehearsal: see docs/rehearsal.md.
# -p passes a scalar (papermill -p); -y a YAML value such as a list: -y widths "[1, 2, 4]".
# --executor trains the notebooks' sweeps here (local, the default), as Slurm jobs or on Ray;
# --executor-opt sets one of its options (repeatable), e.g. --executor-opt partition=gpu
# (the list: .venv/bin/python -m ddlib.execution help slurm); see docs/cluster.md.
# --jobs N runs N notebooks at a time, each with (CPU cores / N) threads (default: one per core,
# at most 2: the small models of the laptop profile use two single-threaded processes better).
# Executed notebooks, HTML exports and the gathered claims report go to reports/<profile>/,
# figures to figures/<profile>/<notebook>/. The report never shrinks: it holds every notebook's
# last successful claims (with time, commit and overrides); a failed notebook keeps its last good
# results and its attempt is kept as reports/<profile>/<notebook>.failed.ipynb and .failed.log.
# Finished runs are reused: re-running trains nothing; an interrupted run resumes.
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
# wait until one background notebook ends: `wait -n` where bash has it (>= 4.3), else poll
# (macOS ships bash 3.2)
wait_for_one() {
  if (( BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 3) )); then
    wait -n || true
  else
    sleep 1
  fi
}
cores="$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 1)"  # Linux, POSIX, macOS
profile=laptop; only=""; jobs=$(( cores < 2 ? 1 : 2 )); names=(); values=(); kinds=()
executor=""; executor_opts=(); rehearse=0; yes=0
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="${2:?--profile needs a value}"; shift 2 ;;
    --rehearse) rehearse=1; shift ;;
    --yes) yes=1; shift ;;
    --only) only="${2:?--only needs a value such as 01,03}"; shift 2 ;;
    --jobs) jobs="${2:?--jobs needs a number}"; shift 2
            [[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "run_all.sh: --jobs '$jobs' is not allowed; use a positive integer"; exit 2; } ;;
    -p|-y) [ "${2:-}" != profile ] || { echo "run_all.sh: $1 profile is not allowed; use --profile"; exit 2; }
           kinds+=("$1"); names+=("${2:?$1 needs a name and a value}")
           values+=("${3:?$1 $2 needs a value}"); shift 3 ;;
    --executor) executor="${2:?--executor needs a value: local, slurm or ray}"; shift 2
                case "$executor" in local|slurm|ray) ;; *)
                  echo "run_all.sh: --executor '$executor' is unknown; allowed: local, slurm, ray"; exit 2 ;; esac ;;
    --executor-opt) opt="${2:?--executor-opt needs KEY=VALUE, e.g. partition=gpu}"; shift 2
                    [[ "$opt" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || {
                      echo "run_all.sh: --executor-opt '$opt' is not KEY=VALUE (e.g. --executor-opt partition=gpu)"; exit 2; }
                    executor_opts+=("$opt") ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run_all.sh: unknown option '$1'"; usage; exit 2 ;;
  esac
done
case "$profile" in smoke|laptop|paper) ;; *)
  echo "run_all.sh: --profile '$profile' is unknown; allowed: smoke, laptop, paper"; exit 2 ;; esac
output="$profile"  # the name of this run's report and figure folders
if [ "$rehearse" -eq 1 ]; then
  [ "$profile" = paper ] || { echo "run_all.sh: --rehearse rehearses the paper profile; add --profile paper"; exit 2; }
  output=paper-rehearsal
  if [ -n "$executor" ] && [ "$executor" != local ]; then
    echo "run_all.sh: --rehearse runs here (its stand-in data is local to each notebook); drop --executor $executor"; exit 2
  fi
fi
if [ ${#executor_opts[@]} -gt 0 ] && [ "$executor" != slurm ] && [ "$executor" != ray ]; then
  echo "run_all.sh: --executor-opt needs --executor slurm or ray (local takes no options)"; exit 2
fi

source scripts/ensure_venv.sh
py=.venv/bin/python
# The executor and its options are checked (and its engine looked for) before anything runs; they
# are global: passed to every notebook as -p executor NAME -y "executor_options: {...}".
executor_args=()
if [ -n "$executor" ]; then
  executor_yaml="$($py -m ddlib.execution options "$executor" "${executor_opts[@]+"${executor_opts[@]}"}")" || exit 2
  executor_args=(-p executor "$executor" -y "executor_options: $executor_yaml")
fi
notebooks=(); keys=()
for nb in notebooks/[0-9][0-9]_*.ipynb; do
  key="$(basename "$nb" | cut -c1-2)"
  if [ -z "$only" ] || [[ ",$only," == *",$key,"* ]]; then notebooks+=("$nb"); keys+=("$key"); fi
done
if [ -n "$only" ]; then
  for key in ${only//,/ }; do
    ls notebooks/"$key"_*.ipynb >/dev/null 2>&1 || { echo "run_all.sh: --only: no notebook $key"; exit 2; }
  done
fi
if [ "$profile" = paper ] && [ "$rehearse" -eq 0 ]; then
  $py -m ddlib.studies cost paper "${keys[@]}" || exit 2
  if [ "$yes" -eq 0 ] && [ -t 0 ]; then
    read -r -p "Start the paper run? (rehearse it first: --rehearse) [y/N] " answer || answer=""
    case "$answer" in y|Y|yes|YES) ;; *) echo "run_all.sh: not started"; exit 0 ;; esac
  fi
fi

# Every -p name must belong to at least one selected notebook; it is passed to those that know it.
for name in "${names[@]+"${names[@]}"}"; do
  known=0
  for nb in "${notebooks[@]}"; do
    $py -m ddlib.studies check "$(basename "$nb" | cut -c1-2)" "$name" >/dev/null && known=1
  done
  [ "$known" -eq 1 ] || { echo "run_all.sh: -p $name is not a parameter of any selected notebook"
    for nb in "${notebooks[@]}"; do $py -m ddlib.studies check "$(basename "$nb" | cut -c1-2)" "$name" || true; done
    exit 2; }
done

out="$($py -c "from ddlib.core.paths import reports_dir; print(reports_dir('$output'))")"; mkdir -p "$out"
if [ "$rehearse" -eq 1 ]; then  # every rehearsal trains its runs again: its store is disposable
  rm -rf "$($py -c "from ddlib.core.paths import rehearsal_runs_root; print(rehearsal_runs_root())")"
fi
export TQDM_DISABLE=1 MPLBACKEND=Agg
threads=$(( cores / jobs > 0 ? cores / jobs : 1 ))
export OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
status_dir="$(mktemp -d)"; trap 'rm -rf "$status_dir"' EXIT
board="$status_dir/board"; mkdir -p "$board"; export DDLIB_SWEEP_BOARD="$board"; : > "$out/helpers.log"
stems=(); notebook_pids=()

# run_one <notebook> <stem> <override>... -- <papermill args...>: one attempt (ddlib/core/report.py).
# papermill writes into the attempt's own folders; the attempt is then published whole (figure
# set, executed notebook, HTML, log, claims rows) or, when it failed, kept beside the last good
# results as <stem>.failed.ipynb / .failed.log. Prints one line.
run_one() {
  local nb="$1" stem="$2"; shift 2
  local overrides=(); while [ "$1" != "--" ]; do overrides+=("$1"); shift; done; shift
  local start=$SECONDS line status=ok attempt="" figures="" owner=$BASHPID  # this lane's process
  IFS=$'\t' read -r attempt figures < <($py -m ddlib.core.report begin "$output" "$stem" "$owner") || true
  if [ -z "$attempt" ]; then
    printf '%s  %-32s FAILED  (could not create its attempt folders)\n' "$(date +%H:%M:%S)" "$stem"
    touch "$status_dir/$stem.failed"; return
  fi
  if DDLIB_FIGURES="$figures" $py -m papermill "$nb" "$attempt/$stem.ipynb" "$@" -k ddlib \
       --cwd notebooks --no-progress-bar > "$attempt/$stem.log" 2>&1; then
    line="ok      $((SECONDS - start)) s"
    $py -m jupyter nbconvert --to html "$attempt/$stem.ipynb" --output-dir "$attempt" >/dev/null 2>&1 \
      || line="$line (html export failed)"
  else
    status=failed; touch "$status_dir/$stem.failed"
    line="FAILED  $((SECONDS - start)) s  (log: $out/$stem.failed.log; last good results kept)"
  fi
  $py -m ddlib.core.report finish "$output" "$stem" "$attempt" "$figures" "$status" \
    "$((SECONDS - start))" "${overrides[@]+"${overrides[@]}"}" \
    || { line="$line (report update failed)"; touch "$status_dir/$stem.failed"; }
  printf '%s  %-32s %s\n' "$(date +%H:%M:%S)" "$stem" "$line"
}

echo "running ${#notebooks[@]} notebook(s), $jobs at a time, $threads thread(s) each"
for nb in "${notebooks[@]}"; do
  stem="$(basename "$nb" .ipynb)"; key="${stem:0:2}"; stems+=("$stem")
  args=(-p profile "$profile" "${executor_args[@]+"${executor_args[@]}"}"); overrides=()
  [ "$rehearse" -eq 0 ] || args+=(-p rehearse True)
  for i in "${!names[@]}"; do
    $py -m ddlib.studies check "$key" "${names[$i]}" >/dev/null || continue
    if [ "${kinds[$i]}" = "-p" ]; then args+=(-p "${names[$i]}" "${values[$i]}")
    else args+=(-y "${names[$i]}: ${values[$i]}"); fi
    overrides+=("${names[$i]}=${values[$i]}")
  done
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait_for_one; done
  printf '%s  %-32s started\n' "$(date +%H:%M:%S)" "$stem"
  run_one "$nb" "$stem" "${overrides[@]+"${overrides[@]}"}" -- "${args[@]}" &
  notebook_pids+=($!)
done
# A lane with no notebook left helps the running notebooks: it trains runs of their published
# sweeps at the same thread count, so every run is bit-identical to the notebook's own
# (ddlib/execution/sharing.py); a helper's log is $out/helpers.log.
helpers=()
while :; do
  alive=0
  for pid in "${notebook_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=$((alive + 1)); done
  [ "$alive" -eq 0 ] && break
  # (not in a rehearsal: its notebooks read stand-in data folders that a helper does not see)
  if [ "$rehearse" -eq 0 ] && [ $((alive + ${#helpers[@]})) -lt "$jobs" ]; then
    printf '%s  %-32s started (a free lane trains runs of the notebooks still running)\n' \
      "$(date +%H:%M:%S)" "helper $((${#helpers[@]} + 1))"
    $py -m ddlib.execution share "$board" "$threads" >> "$out/helpers.log" 2>&1 &
    helpers+=($!)
  fi
  sleep 2
done
touch "$board/stop"
wait || true
[ ${#helpers[@]} -eq 0 ] || printf '%s  helpers trained %s run(s)\n' "$(date +%H:%M:%S)" \
  "$(find "$board/helped" -type f 2>/dev/null | wc -l)"
failed=()
for stem in "${stems[@]}"; do [ -e "$status_dir/$stem.failed" ] && failed+=("$stem"); done
$py -m ddlib.core.report summary "$output"
if [ ${#failed[@]} -gt 0 ]; then
  echo "run_all.sh: failed notebook(s): ${failed[*]}"; exit 1
fi
