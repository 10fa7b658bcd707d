#!/bin/sh
# Makes one platform's release tarball and its checksum from a directory of built binaries:
#
#   dist/release/tarball.sh BIN_DIR PLATFORM OUT_DIR
#
# PLATFORM is linux-x64, linux-arm64, darwin-arm64 or darwin-x64. Writes
# OUT_DIR/skillopt-PLATFORM.tar.gz (one folder, skillopt-PLATFORM/, holding the four binaries,
# LICENSE and README.md) and OUT_DIR/skillopt-PLATFORM.tar.gz.sha256 (`<hex>  <file name>`, the
# format `sha256sum -c` reads). The asset names carry no version, so
# `releases/latest/download/<name>` always names the newest release's (dist/install.sh relies on
# it). Used by .github/workflows/release.yml and by the tests.
set -eu

usage() { echo "usage: $0 BIN_DIR PLATFORM OUT_DIR" >&2; exit 2; }
[ "$#" -eq 3 ] || usage
bin_dir=$1 platform=$2 out_dir=$3
case "$platform" in
  linux-x64 | linux-arm64 | darwin-arm64 | darwin-x64) ;;
  *) echo "unknown platform: $platform (linux-x64, linux-arm64, darwin-arm64, darwin-x64)" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/../.." && pwd)
name="skillopt-$platform"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
for b in skillopt skillopt-session-start skillopt-pre-tool-use skillopt-user-prompt-submit; do
  [ -x "$bin_dir/$b" ] || { echo "missing binary: $bin_dir/$b" >&2; exit 1; }
  cp "$bin_dir/$b" "$stage/$name/$b"
  chmod 755 "$stage/$name/$b"
done
cp "$root/LICENSE" "$root/README.md" "$stage/$name/"

mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
# COPYFILE_DISABLE: no AppleDouble (._*) entries from macOS tar.
# Entries owned by root (uid 0), not by the build's user.
owner="--owner=0 --group=0 --numeric-owner"
tar --version 2>/dev/null | grep -q bsdtar && owner="--uid 0 --gid 0"
# shellcheck disable=SC2086 # $owner is a list of options
(cd "$stage" && COPYFILE_DISABLE=1 tar $owner -czf "$out_dir/$name.tar.gz" "$name")
if command -v sha256sum >/dev/null 2>&1; then
  sum=$(cd "$out_dir" && sha256sum "$name.tar.gz")
else
  sum=$(cd "$out_dir" && shasum -a 256 "$name.tar.gz")
fi
echo "$sum" > "$out_dir/$name.tar.gz.sha256"
echo "$out_dir/$name.tar.gz"
