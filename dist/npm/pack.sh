#!/usr/bin/env bash
# Builds skillopt's npm packages for the platform at hand and packs them (`npm pack`) into OUTDIR:
#   bash dist/npm/pack.sh OUTDIR
# writes OUTDIR/skillopt-<version>.tgz (the `skillopt` package) and
# OUTDIR/skillopt-<os>-<cpu>-<version>.tgz (`@skillopt/<os>-<cpu>`), and prints their paths.
#
#   SKILLOPT_DIST_BIN_DIR=DIR  pack the four binaries already in DIR (skillopt,
#                              skillopt-session-start, skillopt-pre-tool-use,
#                              skillopt-user-prompt-submit) instead of `cargo build --release`
#   SKILLOPT_NPM_PLATFORM=P    the platform package to make (linux-x64, linux-arm64, darwin-x64,
#                              darwin-arm64; default: this machine's), for binaries built for
#                              another target
#
# The layout (see skillopt/install.js and skillopt/shim.sh): `skillopt` has the four `bin`
# entries, each a sh shim, and one optional dependency per platform package; npm installs only
# the platform package whose `os`/`cpu` (and, for glibc-linked binaries, `libc`) match. Its
# postinstall replaces each shim in place by the native binary, so the hooks an agent runs are
# native; with install scripts off the shims exec the binaries from the platform package. Every
# package.json takes its version from the workspace Cargo.toml, and binaries that run here must
# report that version.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: bash dist/npm/pack.sh OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
command -v npm >/dev/null || { echo "pack.sh needs npm (and node)" >&2; exit 1; }

version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml")
[ -n "$version" ] || { echo "no [workspace.package] version in $root/Cargo.toml" >&2; exit 1; }

platform=${SKILLOPT_NPM_PLATFORM:-}
if [ -z "$platform" ]; then
  case $(uname -s) in Linux) os=linux ;; Darwin) os=darwin ;; *) os=unsupported ;; esac
  case $(uname -m) in x86_64 | amd64) cpu=x64 ;; aarch64 | arm64) cpu=arm64 ;; *) cpu=unsupported ;; esac
  platform=$os-$cpu
fi
case $platform in
  linux-x64 | linux-arm64 | darwin-x64 | darwin-arm64) ;;
  *) echo "no npm package for platform $platform" >&2; exit 1 ;;
esac

names="skillopt skillopt-session-start skillopt-pre-tool-use skillopt-user-prompt-submit"
if [ -n "${SKILLOPT_DIST_BIN_DIR:-}" ]; then
  bins=$(cd "$SKILLOPT_DIST_BIN_DIR" && pwd)
else
  (cd "$root" && cargo build --release -p skillopt-hooks -p skillopt-worker)
  bins=${CARGO_TARGET_DIR:-$root/target}/release
fi
for n in $names; do
  [ -x "$bins/$n" ] || { echo "$bins/$n is missing" >&2; exit 1; }
done
# Linux binaries linked to glibc (a plain `cargo build`) need a glibc system: the platform
# package says so (`libc`), and npm skips it on musl systems such as Alpine. Static (musl)
# builds, the release's, run on any Linux and carry no such field.
libc=""
case $platform in
  linux-*) if LC_ALL=C grep -qa 'ld-linux' "$bins/skillopt-session-start"; then libc=glibc; fi ;;
esac
if have=$("$bins/skillopt" --version 2>/dev/null); then
  case $have in
    "skillopt $version "*) ;;
    *) echo "$bins/skillopt is \"$have\", not version $version" >&2; exit 1 ;;
  esac
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Writes package.json from a template: the version, and for a platform package its name and
# what npm matches it on.
manifest() { # TEMPLATE DEST [PLATFORM]
  VERSION=$version PLATFORM=${3:-} LIBC=$libc node - "$1" "$2" <<'JS'
const fs = require('fs');
const [template, dest] = process.argv.slice(2);
const { VERSION: version, PLATFORM: platform, LIBC: libc } = process.env;
const pkg = JSON.parse(fs.readFileSync(template, 'utf8'));
pkg.version = version;
if (platform) {
  const [os, cpu] = platform.split('-');
  pkg.name = `@skillopt/${platform}`;
  pkg.description = pkg.description.replace('PLATFORM', platform);
  pkg.os = [os];
  pkg.cpu = [cpu];
  if (libc) pkg.libc = [libc];
} else {
  for (const dep of Object.keys(pkg.optionalDependencies)) pkg.optionalDependencies[dep] = version;
}
fs.writeFileSync(dest, JSON.stringify(pkg, null, 2) + '\n');
JS
}

# The platform package: the four native binaries.
plat=$stage/platform
mkdir -p "$plat/bin"
for n in $names; do
  cp "$bins/$n" "$plat/bin/$n"
  chmod 755 "$plat/bin/$n"
done
manifest "$here/platform/package.json" "$plat/package.json" "$platform"
cat > "$plat/README.md" <<EOF
# @skillopt/$platform

skillopt $version's native binaries for $platform, installed through the \`skillopt\` package:
\`npm install -g skillopt\`.
EOF

# The main package: the shims, the postinstall, the README.
main=$stage/skillopt
mkdir -p "$main/bin"
for n in $names; do
  cp "$here/skillopt/shim.sh" "$main/bin/$n"
  chmod 755 "$main/bin/$n"
done
cp "$here/skillopt/install.js" "$here/skillopt/README.md" "$main/"
manifest "$here/skillopt/package.json" "$main/package.json"

for dir in "$plat" "$main"; do
  (cd "$dir" && npm pack --silent --pack-destination "$out" >/dev/null)
done
echo "$out/skillopt-$platform-$version.tgz"
echo "$out/skillopt-$version.tgz"
