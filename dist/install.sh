#!/bin/sh
# Installs skillopt's four native binaries from a GitHub release, without a Rust toolchain:
#
#   curl -fsSL https://github.com/skillopt/skillopt/releases/latest/download/install.sh | sh
#
# Picks the tarball for this OS and CPU (linux or darwin, x64 or arm64), checks it against the
# release's SHA-256 checksum, and copies the binaries into ~/.local/bin. Never uses sudo, and
# installs nothing unless the checksum matches. Settings, from the environment:
#   SKILLOPT_INSTALL_DIR  where to install (default ~/.local/bin)
#   SKILLOPT_VERSION      a release such as v0.2.0 or 0.2.0 (default: the latest release)
#   SKILLOPT_RELEASE_URL  the folder holding the release's assets (default: GitHub's, for the
#                         version above); file:// works too
set -eu

repo="skillopt/skillopt"
bins="skillopt skillopt-session-start skillopt-pre-tool-use skillopt-user-prompt-submit"

say() { printf 'skillopt-install: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

platform() {
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) die "unsupported OS $(uname -s): install with 'npm install -g skillopt' or 'cargo install'" ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "unsupported CPU $(uname -m): install with 'cargo install'" ;;
  esac
  # A shell under Rosetta reports x86_64 on an Apple silicon Mac: take the native build.
  if [ "$os-$arch" = darwin-x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
    arch=arm64
  fi
  echo "$os-$arch"
}

fetch() { # URL FILE
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --proto "$proto" -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    die "neither curl nor wget is installed"
  fi
}

sha256() { # FILE
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    die "neither sha256sum nor shasum is installed: cannot verify the download"
  fi
}

main() {
  plat=$(platform)
  version=${SKILLOPT_VERSION:-latest}
  case "$version" in latest | v*) ;; *) version="v$version" ;; esac # tags are v<semver>
  proto='=https' # GitHub's downloads and their redirects: https only
  if [ -n "${SKILLOPT_RELEASE_URL:-}" ]; then
    base=${SKILLOPT_RELEASE_URL%/}
    proto='=https,http,file'
  elif [ "$version" = latest ]; then
    base="https://github.com/$repo/releases/latest/download"
  else
    base="https://github.com/$repo/releases/download/$version"
  fi
  dest=${SKILLOPT_INSTALL_DIR:-$HOME/.local/bin}
  name="skillopt-$plat"

  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  say "downloading $base/$name.tar.gz"
  fetch "$base/$name.tar.gz" "$tmp/$name.tar.gz" || die "cannot download $base/$name.tar.gz"
  fetch "$base/$name.tar.gz.sha256" "$tmp/sum" || die "cannot download $base/$name.tar.gz.sha256"
  want=$(cut -d ' ' -f 1 < "$tmp/sum")
  got=$(sha256 "$tmp/$name.tar.gz")
  [ -n "$want" ] && [ "$want" = "$got" ] ||
    die "checksum mismatch for $name.tar.gz (expected ${want:-nothing}, got $got): nothing installed"

  tar -xzf "$tmp/$name.tar.gz" -C "$tmp"
  for b in $bins; do
    [ -f "$tmp/$name/$b" ] || die "$name.tar.gz lacks $b: nothing installed"
  done
  mkdir -p "$dest"
  # Each binary is copied beside its final name and renamed over it: a hook running the old one
  # keeps running, and no one ever sees half a file.
  for b in $bins; do
    # Never through whatever may already sit at the temporary name (a link, say).
    rm -f "$dest/.$b.partial"
    cp "$tmp/$name/$b" "$dest/.$b.partial"
    chmod 755 "$dest/.$b.partial"
    mv -f "$dest/.$b.partial" "$dest/$b"
  done
  say "installed $("$dest/skillopt" --version 2>/dev/null || echo skillopt) into $dest"
  case ":$PATH:" in
    *":$dest:"*) ;;
    *) say "$dest is not on your PATH: add it (the hooks are run by name from PATH)" ;;
  esac
  say "next: skillopt install all    # hooks for Claude Code and Codex"
}

main "$@"
