#!/usr/bin/env bash
# Builds the Debian package build/civitas_<version>_<arch>.deb (docs/OPERATIONS.md,
# "Installing"): a release build of the installed binaries, then CPack's DEB generator, whose
# Depends come from dpkg-shlibdeps. Flags are those of scripts/build.sh (e.g. --unity).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh "$@" civitasd civitas civitas-asm civitas_loadgen
(cd build && cpack -G DEB --config CPackConfig.cmake)
deb=$(ls -t build/civitas_*.deb | head -1)
dpkg-deb -I "$deb" | sed -n '/Package:/,$p'
echo "built $deb"
