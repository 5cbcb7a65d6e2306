// Small Go references built on first use into test/reference/bin: gogo/protobuf's Any (test/reference/anyref)
// and Go's standard library as containerd uses it (test/reference/stdref: RFC3339 times, JSON syntax).
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

export function buildStdref(): string {
  return buildGoProgram({ source: 'stdref/main.go', name: 'stdref', apt: 'apt-get install -y golang-go' });
}

function stdref(mode: 'time' | 'jsontime' | 'json', inputs: Uint8Array[]): unknown[] {
  const r = spawnSync(buildStdref(), [mode], { input: inputs.map((b) => Buffer.from(b).toString('hex')).join('\n') + '\n', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`stdref exited ${r.status}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l));
}

/** What json.Unmarshal says of each input's syntax: {ok: true} or {error: Go's text}. */
export function goJSONSyntax(inputs: Uint8Array[]): ({ ok: true } | { error: string })[] {
  return stdref('json', inputs) as ({ ok: true } | { error: string })[];
}

/** What Go's Time.UnmarshalText (time.Parse(time.RFC3339, s)) gives for each input. */
export function goParseRFC3339(inputs: Uint8Array[], json = false): ({ unix: number; nanos: number; offset: number } | { error: string })[] {
  return stdref(json ? 'jsontime' : 'time', inputs) as ({ unix: number; nanos: number; offset: number } | { error: string })[];
}
