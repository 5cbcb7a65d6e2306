// src/metadata/gojson-scan.ts against Go's own json.Unmarshal (test/reference/stdref json, the Go
// 1.19 that builds Debian's containerd): for manifests as containerd stores them, their near misses
// (cut short, one byte changed or added) and arbitrary bytes, the same verdict and the same text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { goJSONSyntaxError } from '../../src/metadata/gojson-scan.js';
import { goJSONSyntax } from '../helpers/goref.js';

const SEED = Number(process.env.FC_SEED ?? Date.now() % 1e9);
console.log(`gojson-reference seed ${SEED}`);

const jsonText = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v, null, Math.random() < 0.5 ? 0 : 2));
const manifest = fc.constant(
  JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:' + 'a'.repeat(64), size: 1.5e3, annotations: { 'a\\u00e9': 'x\n' } }, layers: [{ size: -12, urls: ['u'] }], t: true, f: false, n: null }),
);
const base = fc.oneof(jsonText, manifest);
const bytes = fc.constantFrom(...'{}[]",:\\/ \t\n\r-+.eE0123456789tfnulrasxu'.split('').map((c) => c.charCodeAt(0)), 0x00, 0x1f, 0x7f, 0x80, 0x9f, 0xa0, 0xad, 0xe9, 0xff, 0x27);
const mutated = fc.tuple(base, fc.nat(), bytes, fc.integer({ min: 0, max: 2 })).map(([s, n, c, op]) => {
  const b = Buffer.from(s, 'utf8');
  const i = b.length === 0 ? 0 : n % b.length;
  if (op === 0) return b.subarray(0, i);
  if (op === 1) return Buffer.concat([b.subarray(0, i), Buffer.of(c), b.subarray(i + 1)]);
  return Buffer.concat([b.subarray(0, i), Buffer.of(c), b.subarray(i)]);
});
const inputs = fc.oneof(base.map((s) => Buffer.from(s, 'utf8')), mutated, fc.uint8Array({ maxLength: 16 }).map((u) => Buffer.from(u)));

test('Interop_goJSONSyntaxError_sameTextAsGo', () => {
  const cases = fc.sample(inputs, { numRuns: 6000, seed: SEED });
  cases.push(Buffer.from(''), Buffer.from('  '), Buffer.from('-'), Buffer.from('1.'), Buffer.from('1e'), Buffer.from('1e+'), Buffer.from('tr'), Buffer.from('"\\'), Buffer.from('"\\u12'), Buffer.from('01'), Buffer.from('[1,]'), Buffer.from('{"a" 1}'), Buffer.from('{,}'), Buffer.from("'"));
  const theirs = goJSONSyntax(cases);
  let errors = 0;
  for (let i = 0; i < cases.length; i++) {
    const want = theirs[i]!;
    const got = goJSONSyntaxError(cases[i]!);
    if ('error' in want) errors++;
    assert.deepEqual(got === undefined ? { ok: true } : { error: got }, want, `input ${JSON.stringify(cases[i]!.toString('latin1'))} (seed ${SEED})`);
  }
  assert.ok(errors > 1500, `only ${errors} invalid inputs`);
});
