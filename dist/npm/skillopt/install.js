// skillopt's postinstall: puts the native binaries where npm's `bin` links point.
//
// The package's bin/ holds sh shims (shim.sh) and npm links each `bin` entry to its file before
// it runs this script. Here each shim is replaced, in place and atomically (a hard link, or a
// copy across file systems, then a rename), by the binary of the same name from the platform
// package npm installed (@skillopt/<os>-<cpu>, chosen by its `os`/`cpu` fields). Agents then run
// the hooks natively: no node, no sh, at every session start, tool use and prompt. Node runs
// only here, once per install.
//
// On a platform skillopt ships binaries for, a missing platform package fails the install (npm
// then says so, and an upgrade does not leave hooks that silently do nothing: a registry mirror
// that lags, say). Elsewhere, or on an error placing a binary, the shims stay, and they find the
// binaries themselves or say what is missing.
'use strict';

const fs = require('fs');
const path = require('path');

const NAMES = [
  'skillopt',
  'skillopt-session-start',
  'skillopt-pre-tool-use',
  'skillopt-user-prompt-submit',
];

const SHIPPED = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64'];

function platformBinDir() {
  const platform = `${process.platform}-${process.arch}`;
  const pkg = `@skillopt/${platform}`;
  try {
    return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'bin');
  } catch (e) {
    if (SHIPPED.includes(platform)) {
      console.error(
        `skillopt: ${pkg}, which carries the native binaries, was not installed ` +
          '(optional dependencies omitted, or the registry lacks it): install it with skillopt'
      );
      process.exit(1);
    }
    console.warn(`skillopt: no native binaries for ${platform}`);
    return null;
  }
}

function place(src, dst) {
  const tmp = `${dst}.tmp-${process.pid}`;
  fs.rmSync(tmp, { force: true });
  try {
    fs.linkSync(src, tmp);
  } catch (e) {
    fs.copyFileSync(src, tmp);
  }
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, dst);
}

const dir = platformBinDir();
if (dir) {
  for (const name of NAMES) {
    try {
      place(path.join(dir, name), path.join(__dirname, 'bin', name));
    } catch (e) {
      console.warn(`skillopt: ${name} stays a sh launcher: ${e.message}`);
    }
  }
}
