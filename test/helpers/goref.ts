// Small Go references built on first use into test/reference/bin: gogo/protobuf's Any (test/reference/anyref)
// and Go's RFC3339 parsing (test/reference/timeref).
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

export function buildTimeref(): string {
  return buildGoProgram({ source: 'timeref/main.go', name: 'timeref', apt: 'apt-get install -y golang-go' });
}

/** What Go's Time.UnmarshalText (time.Parse(time.RFC3339, s)) gives for each input. */
export function goParseRFC3339(inputs: Uint8Array[]): ({ unix: number; nanos: number; offset: number } | { error: string })[] {
  const r = spawnSync(buildTimeref(), [], { input: inputs.map((b) => Buffer.from(b).toString('hex')).join('\n') + '\n', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`timeref exited ${r.status}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l));
}
