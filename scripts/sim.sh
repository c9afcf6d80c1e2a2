#!/usr/bin/env bash
# Runs the deterministic consensus simulator over many seeds and reports the seeds and the
# simulated rounds. Builds civitas_sim first (in build-sim/, RelWithDebInfo) unless
# CIVITAS_SIM is set to an existing binary.
#
#   scripts/sim.sh [SEEDS] [extra civitas_sim flags...]
#   scripts/sim.sh 5000                 # n=4 and n=7 configurations, 5000 seeds each (the
#                                       # last two with idle and load phases and a heartbeat)
#   scripts/sim.sh 200 --n 7 --byz 2    # one configuration
#   scripts/sim.sh 1 --seed 898 --trace # replay one seed (a failure prints this line)
#
# Exit status is non-zero if any seed violates an invariant.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
seeds="${1:-1000}"
shift || true

sim="${CIVITAS_SIM:-}"
if [ -z "$sim" ]; then
  build="${CIVITAS_SIM_BUILD:-$root/build-sim}"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$build" -j"${JOBS:-1}" civitas_sim_cli >/dev/null
  sim="$build/tests/sim/civitas_sim"
fi

status=0
if [ "$#" -gt 0 ]; then
  configs=("$*")
else
  configs=("--n 4 --byz 1" "--n 7 --byz 2" "--n 7 --byz 1 --fault-ms 15000"
           "--n 4 --byz 1 --heartbeat-ms 600 --fault-ms 8000"
           "--n 7 --byz 2 --heartbeat-ms 600 --fault-ms 8000")
fi
for config in "${configs[@]}"; do
  # shellcheck disable=SC2086
  "$sim" --seeds "$seeds" $config || status=1
done
exit $status
