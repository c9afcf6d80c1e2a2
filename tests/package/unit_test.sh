#!/usr/bin/env bash
# Checks packaging/civitasd@.service with `systemd-analyze verify` (an unknown key or section,
# a bad value, a missing executable are reported) on an instance whose ExecStart is this
# build's civitasd, and that the hardening docs/OPERATIONS.md promises is there.
# Usage: unit_test.sh UNIT_FILE CIVITASD
set -euo pipefail
unit=$1
civitasd=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed: skipped"; exit 77; }
scratch=$(mktemp -d "${TMPDIR:-/tmp}/civitas-unit.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
sed "s|/usr/bin/civitasd|$civitasd|" "$unit" >"$scratch/civitasd@check.service"
out=$(systemd-analyze verify "$scratch/civitasd@check.service" 2>&1) || fail "verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify reported: $out"
for line in Type=notify User=civitas ProtectSystem=strict ProtectHome=yes NoNewPrivileges=yes \
            PrivateTmp=yes PrivateDevices=yes ReadWritePaths=/var/lib/civitas/%i \
            TimeoutStopSec=120 KillSignal=SIGTERM; do
  grep -qx "$line" "$unit" || fail "the unit lacks $line"
done
echo "unit OK"
