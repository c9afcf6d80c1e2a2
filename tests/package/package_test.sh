#!/usr/bin/env bash
# Builds the Debian package from a build tree with cpack, unpacks it with `dpkg-deb -x` into a
# scratch folder (no change to the system) and checks what an operator gets: the binaries run
# (--version), the systemd unit and the docs are where docs/OPERATIONS.md says, and Depends
# names the Debian 12 runtime libraries.  Usage: package_test.sh BUILD_DIR VERSION
set -euo pipefail
build=$1
version=$2
scratch=$(mktemp -d "${TMPDIR:-/tmp}/civitas-package.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

arch=$(dpkg --print-architecture)
(cd "$build" && cpack -G DEB --config CPackConfig.cmake -B "$scratch/out" >"$scratch/cpack.log" 2>&1) ||
  { cat "$scratch/cpack.log"; fail "cpack failed"; }
deb="$scratch/out/civitas_${version}_${arch}.deb"
[ -f "$deb" ] || { ls -R "$scratch/out"; fail "no $deb"; }

# Control data.
[ "$(dpkg-deb -f "$deb" Package)" = civitas ] || fail "package name"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "version"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 librocksdb libgrpc++ libprotobuf libssl libsecp256k1 libsystemd0 libjemalloc adduser; do
  [[ "$depends" == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
dpkg-deb -I "$deb" postinst | grep -q "adduser --system" || fail "postinst does not create the civitas user"

# Contents, unpacked into a scratch root.
root="$scratch/root"
dpkg-deb -x "$deb" "$root"
for f in usr/bin/civitasd usr/bin/civitas usr/bin/civitas-asm usr/bin/civitas-loadgen \
         usr/lib/systemd/system/civitasd@.service usr/share/doc/civitas/OPERATIONS.md \
         usr/share/doc/civitas/STORAGE.md; do
  [ -e "$root/$f" ] || fail "missing $f"
done
for b in civitasd civitas civitas-asm; do
  out=$("$root/usr/bin/$b" --version) || fail "$b --version exited $?"
  [[ "$out" == "$b $version (commit "*")" ]] || fail "$b --version printed: $out"
done
# The unit runs the binary the package installs.
grep -q '^ExecStart=/usr/bin/civitasd start --home /var/lib/civitas/%i$' \
  "$root/usr/lib/systemd/system/civitasd@.service" || fail "unit ExecStart"
echo "package OK: $(basename "$deb"), Depends: $depends"
