// The gogo/protobuf Any reference (test/reference/anyref), built on first use into test/reference/bin.
import { spawnSync } from 'node:child_process';
import { buildGoProgram } from './gobuild.js';

export function buildAnyref(): string {
  return buildGoProgram({
    source: 'anyref/main.go',
    name: 'anyref',
    needs: { dir: 'github.com/gogo/protobuf/types', what: 'gogo/protobuf source' },
    apt: 'apt-get install -y golang-go golang-github-gogo-protobuf-dev',
  });
}

/** What gogo's proto.Unmarshal into types.Any gives for each input: the fields (hex) or the error text. */
export function gogoAny(inputs: Uint8Array[]): ({ typeUrl: string; value: string } | { error: string })[] {
  const r = spawnSync(buildAnyref(), [], { input: inputs.map((b) => Buffer.from(b).toString('hex')).join('\n') + '\n', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`anyref exited ${r.status}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l));
}
