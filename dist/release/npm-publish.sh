#!/bin/sh
# Publishes the npm packages that dist/npm/pack.sh packed, for every platform, from one folder:
#
#   dist/release/npm-publish.sh DIR [npm publish options…]
#
# The platform packages (`@skillopt/<os>-<cpu>`) go first and `skillopt` last, so the optional
# dependencies it names exist by the time anyone can install it. A name@version the registry
# already has is skipped, so a re-run of a half-finished release picks up where it stopped. Used
# by .github/workflows/release.yml; `npm` is whatever is on PATH.
set -eu

[ "$#" -ge 1 ] || { echo "usage: $0 DIR [npm publish options...]" >&2; exit 2; }
dir=$1
shift

# `name@version` of a packed package, from its package.json.
id_of() {
  tar -xzOf "$1" package/package.json |
    node -e 'const p = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(p.name + "@" + p.version)'
}

publish() { # TGZ [options...]
  id=$(id_of "$1")
  if npm view "$id" version >/dev/null 2>&1; then
    echo "$id is already published"
    return
  fi
  tgz=$1
  shift
  # A prerelease (1.2.0-rc.1) goes out under the `next` tag, never as `latest`.
  case ${id##*@} in
    *-*) npm publish "$tgz" --tag next "$@" ;;
    *) npm publish "$tgz" "$@" ;;
  esac
  echo "published $id"
}

main="" platforms=0
for f in "$dir"/*.tgz; do
  [ -f "$f" ] || continue
  case $(id_of "$f") in
    skillopt@*) main=$f ;;
    *) platforms=$((platforms + 1)) ;;
  esac
done
[ -n "$main" ] && [ "$platforms" -gt 0 ] || {
  echo "$dir lacks the skillopt package or its platform packages: nothing published" >&2
  exit 1
}
for f in "$dir"/*.tgz; do
  [ "$f" = "$main" ] || publish "$f" "$@"
done
publish "$main" "$@"
