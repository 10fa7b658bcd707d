#!/bin/sh
# skillopt's npm launcher of last resort: the package's postinstall (install.js) replaces this
# file with the native binary of the same name, so it runs only when install scripts were off
# (`--ignore-scripts`, `ignore-scripts=true`, npm's allowScripts policy). It execs the binary of
# its own name from the platform package npm picked (@skillopt/<os>-<cpu>, by `os`/`cpu`): one
# `sh` per call, never node.
#
# npm links a bin entry to this file from <prefix>/bin (global install) or node_modules/.bin
# (local), and puts the platform package under ours (global) or beside it (local, hoisted).
# Those places are tried first, from the link's own path; any other link is resolved.
name=${0##*/}
case $0 in */*) dir=${0%/*} ;; *) dir=. ;; esac
run() { # PACKAGE_DIR ARGS...
  pkg=$1
  shift
  for bin in "$pkg"/node_modules/@skillopt/*/bin/"$name" "$pkg"/../@skillopt/*/bin/"$name"; do
    [ -x "$bin" ] && exec "$bin" "$@"
  done
}
run "$dir/../lib/node_modules/skillopt" "$@"
run "$dir/../skillopt" "$@"
self=$dir/$name
while [ -L "$self" ]; do
  link=$(readlink "$self")
  case $link in /*) self=$link ;; *) self=${self%/*}/$link ;; esac
done
name=${self##*/}
run "${self%/*}/.." "$@"
if [ "$name" = skillopt ]; then
  echo "skillopt: no native binary for this platform in node_modules/@skillopt (there are packages for linux-x64, linux-arm64, darwin-x64, darwin-arm64): reinstall with npm install -g skillopt" >&2
  exit 1
fi
# A hook stays silent and exits 0 (it must never break the agent's session), after reading its
# payload up to the hooks' 16 MiB cap so the agent's write does not hit a closed pipe.
head -c 16777217 >/dev/null 2>&1
exit 0
