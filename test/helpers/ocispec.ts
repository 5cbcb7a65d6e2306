// The OCI runtime spec program (test/reference/ocispec/main.go): specs-go from Debian's
// golang-github-opencontainers-specs-dev, the package the Debian-built ctr 1.6 decodes container specs
// into. Built on first use into test/reference/bin (gitignored), in GOPATH mode against /usr/share/gocode.
import { spawnSync } from 'node:child_process';
import { buildGoProgram } from './gobuild.js';

export function buildOcispec(): string {
  return buildGoProgram({
    source: 'ocispec/main.go',
    name: 'ocispec',
    needs: { dir: 'github.com/opencontainers/runtime-spec/specs-go', what: 'runtime-spec source' },
    apt: 'apt-get install -y golang-go golang-github-opencontainers-specs-dev',
  });
}

/** `ocispec schema`: the specs.Spec type tree. */
export function ocispecSchema(): { root: string; version: string; types: Record<string, [string, string, boolean, string][]> } {
  const r = spawnSync(buildOcispec(), ['schema']);
  if (r.status !== 0) throw new Error(`ocispec schema: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.toString());
}

/** `ocispec marshal`: what Go's json.MarshalIndent of the text decoded into specs.Spec prints, or Go's decode error. */
export function goRemarshalSpec(json: string): { out: string } | { error: string } {
  const r = spawnSync(buildOcispec(), ['marshal'], { input: json });
  return r.status === 0 ? { out: r.stdout.toString() } : { error: JSON.parse(r.stdout.toString()).error };
}
