// Builds a Go program of test/reference on first use into test/reference/bin (gitignored), in GOPATH mode
// against Debian's packaged sources: a private GOPATH holding the program's package, then /usr/share/gocode.
// Every file is written under a per-process name and renamed, so test files building at the same time do
// not collide.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../reference/', import.meta.url));
const GOCODE = '/usr/share/gocode';

export interface GoProgram {
  /** The source file, relative to test/reference. */
  source: string;
  /** The binary's name under test/reference/bin, also its package's name (tsbolt<name>). */
  name: string;
  /** A package directory under /usr/share/gocode/src the program imports, and what it is (for the error); none for the standard library only. */
  needs?: { dir: string; what: string };
  /** The apt-get command that installs Go and those sources. */
  apt: string;
}

/** Builds `p` when its binary is missing or older than its source; returns the binary's path. */
export function buildGoProgram(p: GoProgram): string {
  const src = path.join(dir, p.source);
  const bin = path.join(dir, 'bin', p.name);
  if (fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= fs.statSync(src).mtimeMs) return bin;
  if (spawnSync('go', ['version']).status !== 0) throw new Error(`Go is missing (needed to build test/reference/${p.source}): ${p.apt}`);
  if (p.needs && !fs.existsSync(path.join(GOCODE, 'src', p.needs.dir))) throw new Error(`${p.needs.what} missing under ${GOCODE}: ${p.apt}`);
  const gopath = path.join(dir, 'bin', `gopath-${p.name}-${process.pid}`);
  const pkg = path.join(gopath, 'src', `tsbolt${p.name}`);
  fs.mkdirSync(pkg, { recursive: true });
  fs.copyFileSync(src, path.join(pkg, path.basename(p.source)));
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    execFileSync('go', ['build', '-o', tmp, `tsbolt${p.name}`], {
      env: { ...process.env, GO111MODULE: 'off', GOPATH: `${gopath}:${GOCODE}`, GOCACHE: path.join(dir, 'bin', 'gocache'), GOFLAGS: '' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    fs.renameSync(tmp, bin);
  } finally {
    fs.rmSync(gopath, { recursive: true, force: true });
    fs.rmSync(tmp, { force: true });
  }
  return bin;
}
