#!/usr/bin/env bash
# The VM's libFuzzer targets only (bytecode decoding and the fast/reference differential check):
#   scripts/fuzz-vm.sh [SECONDS]   (default 60)
# Corpora, dictionaries and artifacts as in scripts/fuzz.sh.
set -euo pipefail
exec bash "$(dirname "$0")/fuzz.sh" "${1:-60}" vm_fuzz vm_diff_fuzz
