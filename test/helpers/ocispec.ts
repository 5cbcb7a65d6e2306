// The OCI runtime spec program (test/reference/ocispec/main.go): specs-go from Debian's
// golang-github-opencontainers-specs-dev, the package the Debian-built ctr 1.6 decodes container specs
// into. Built on first use into test/reference/bin (gitignored), in GOPATH mode against /usr/share/gocode.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../reference/', import.meta.url));
const src = path.join(dir, 'ocispec', 'main.go');
const bin = path.join(dir, 'bin', 'ocispec');
const GOCODE = '/usr/share/gocode';
const APT = 'apt-get install -y golang-go golang-github-opencontainers-specs-dev';

export function buildOcispec(): string {
  if (fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= fs.statSync(src).mtimeMs) return bin;
  if (!fs.existsSync(path.join(GOCODE, 'src', 'github.com', 'opencontainers', 'runtime-spec', 'specs-go'))) {
    throw new Error(`runtime-spec source missing under ${GOCODE}: ${APT}`);
  }
  const gopath = path.join(dir, 'bin', `gopath-ocispec-${process.pid}`);
  const pkg = path.join(gopath, 'src', 'tsboltocispec');
  fs.mkdirSync(pkg, { recursive: true });
  fs.copyFileSync(src, path.join(pkg, 'main.go'));
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    execFileSync('go', ['build', '-o', tmp, 'tsboltocispec'], {
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

/** `ocispec schema`: the specs.Spec type tree. */
export function ocispecSchema(): { root: string; version: string; types: Record<string, [string, string, boolean][]> } {
  const r = spawnSync(buildOcispec(), ['schema']);
  if (r.status !== 0) throw new Error(`ocispec schema: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.toString());
}

/** `ocispec marshal`: what Go's json.MarshalIndent of the text decoded into specs.Spec prints, or Go's decode error. */
export function goRemarshalSpec(json: string): { out: string } | { error: string } {
  const r = spawnSync(buildOcispec(), ['marshal'], { input: json });
  return r.status === 0 ? { out: r.stdout.toString() } : { error: JSON.parse(r.stdout.toString()).error };
}
