#!/usr/bin/env bash
# Chaos test on real processes (issue 9; docs/RELIABILITY.md): four civitasd validators whose
# P2P links all pass through a loopback TCP proxy the test controls, a steady load of signed
# transfers, and a seeded random schedule of SIGKILL + restart, SIGSTOP + SIGCONT, cut links, a
# 2|2 partition and added latency; then safety and liveness checks.
#   scripts/chaos.sh --short                   about 75 s of perturbations (CI)
#   scripts/chaos.sh --duration 600 --seed N   as long as asked; the same seed replays the schedule
#   scripts/chaos.sh --soak 400 [--seed N]     a soak of 400 perturbations (about 55 min): adds
#                                              restarts with the clock 60-90 s off
#                                              (CIVITAS_CLOCK_SKEW_MS), a full disk (a tmpfs;
#                                              root) and one twin validator
# Options: --seed N, --duration SECONDS, --dir DIR (default build/chaos/<seed>-<time>),
#          --no-build (use build/ as it is); anything else goes to tests/chaos/chaos.py.
# Exit status non-zero on any violation; the summary prints the seed and the node logs' path.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
duration=600
seed=""
dir=""
build=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --short) duration=75 ;;
    --duration) duration=$2; shift ;;
    --seed) seed=$2; shift ;;
    --dir) dir=$2; shift ;;
    --no-build) build=0 ;;
    *) extra+=("$1") ;;
  esac
  shift
done
[ -n "$seed" ] || seed=$(( (RANDOM << 15 | RANDOM) % 1000000 + 1 ))
[ -n "$dir" ] || dir=$root/build/chaos/seed$seed-$(date +%Y%m%d-%H%M%S)

if [ $build = 1 ]; then
  bash scripts/build.sh civitasd civitas civitas-loadgen >/dev/null
fi
# Debian's interpreter, where apt installs python3-grpcio (a python3 earlier on PATH may not
# see it).
python=/usr/bin/python3
[ -x $python ] || python=python3
protoc=$(command -v protoc || true)
[ -n "$protoc" ] || { echo "chaos: protoc not found (scripts/setup.sh installs it)" >&2; exit 2; }

mkdir -p "$(dirname "$dir")"
# The Python side kills its nodes on exit; this trap covers a signal to the script itself.
pid=""
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
set +e
$python "$root/tests/chaos/chaos.py" --civitasd "$root/build/node/civitasd" --protoc "$protoc" \
  --proto-dir "$root/proto" --dir "$dir" --seed "$seed" --duration "$duration" \
  ${extra[@]+"${extra[@]}"} &
pid=$!
wait $pid
rc=$?
pid=""
set -e
if [ $rc != 0 ]; then
  echo "chaos: FAILED (seed $seed); run directory and node logs: $dir" >&2
fi
exit $rc
