// The Go reference program (test/reference/ref.go, bbolt 1.3.6 from Debian's
// golang-github-coreos-bbolt-dev), built on first use into test/reference/bin (gitignored).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../reference/', import.meta.url));
const src = path.join(dir, 'ref.go');
const bin = path.join(dir, 'bin', 'ref');
const GOCODE = '/usr/share/gocode';

/** Builds the reference program when it is missing or older than its source; returns its path. */
export function buildReference(): string {
  if (fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= fs.statSync(src).mtimeMs) return bin;
  if (!fs.existsSync(path.join(GOCODE, 'src', 'go.etcd.io', 'bbolt'))) {
    throw new Error('Go bbolt source missing: apt-get install golang-go golang-github-coreos-bbolt-dev golang-golang-x-sys-dev');
  }
  // GOPATH mode: a private GOPATH holding this package, then Debian's tree.
  const gopath = path.join(dir, 'bin', 'gopath');
  const pkg = path.join(gopath, 'src', 'tsboltref');
  fs.mkdirSync(pkg, { recursive: true });
  fs.copyFileSync(src, path.join(pkg, 'ref.go'));
  const cache = path.join(dir, 'bin', 'gocache');
  execFileSync('go', ['build', '-o', bin, 'tsboltref'], {
    env: { ...process.env, GO111MODULE: 'off', GOPATH: `${gopath}:${GOCODE}`, GOCACHE: cache, GOFLAGS: '' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return bin;
}

/** Runs the reference program; stdin (an object is sent as JSON); returns its parsed JSON. */
export function runReference(args: string[], stdin?: string | object): any {
  const input = stdin === undefined ? '' : typeof stdin === 'string' ? stdin : JSON.stringify(stdin);
  const r = spawnSync(buildReference(), args, { input, maxBuffer: 1 << 30 });
  const out = r.stdout.toString();
  let parsed: any;
  try {
    parsed = JSON.parse(out);
  } catch {
    throw new Error(`reference ${args.join(' ')} printed no JSON (exit ${r.status}): ${out.slice(0, 300)} ${r.stderr.toString().slice(0, 500)}`);
  }
  if (r.status !== 0) throw new Error(`reference ${args.join(' ')}: ${parsed.error ?? out}`);
  return parsed;
}
