// src/content/rfc3339.ts against Go's own time.Parse(time.RFC3339, s) (test/reference/stdref, the Go
// 1.19 that builds Debian's containerd): for timestamps as containerd writes them, their near misses
// (one character changed, cut, extended) and arbitrary bytes, the same time or the same error text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseGoRFC3339 } from '../../src/content/rfc3339.js';
import { goParseRFC3339 } from '../helpers/goref.js';

const SEED = Number(process.env.FC_SEED ?? Date.now() % 1e9);
console.log(`rfc3339-reference seed ${SEED}`);

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const valid = fc
  .record({
    y: fc.integer({ min: 0, max: 9999 }),
    mo: fc.integer({ min: 0, max: 13 }),
    d: fc.integer({ min: 0, max: 32 }),
    h: fc.integer({ min: 0, max: 25 }),
    mi: fc.integer({ min: 0, max: 61 }),
    s: fc.integer({ min: 0, max: 61 }),
    frac: fc.option(fc.stringMatching(/^[.,][0-9]{0,12}$/), { nil: '' }),
    zone: fc.oneof(fc.constant('Z'), fc.constant('z'), fc.tuple(fc.constantFrom('+', '-', ' '), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 })).map(([s, h, m]) => `${s}${pad(h, 2)}:${pad(m, 2)}`), fc.constant('')),
    oneDigitHour: fc.boolean(),
  })
  .map((t) => `${pad(t.y, 4)}-${pad(t.mo, 2)}-${pad(t.d, 2)}T${t.oneDigitHour && t.h < 10 ? t.h : pad(t.h, 2)}:${pad(t.mi, 2)}:${pad(t.s, 2)}${t.frac}${t.zone}`);

const mutated = fc.tuple(valid, fc.nat(), fc.constantFrom('x', '-', ':', 'T', '+', '0', '9', '.', '"', '\\', '\n', '\u00e9', '\u0000')).map(([s, n, c]) => {
  const b = Buffer.from(s, 'utf8');
  const i = b.length === 0 ? 0 : n % b.length;
  const op = n % 3;
  if (op === 0) return Buffer.concat([b.subarray(0, i), Buffer.from(c, 'utf8'), b.subarray(i + 1)]);
  if (op === 1) return b.subarray(0, i);
  return Buffer.concat([b, Buffer.from(c, 'utf8')]);
});

const inputs = fc.oneof(valid.map((s) => Buffer.from(s, 'utf8')), mutated, fc.uint8Array({ maxLength: 30 }).map((u) => Buffer.from(u)));

function ours(b: Uint8Array): { unix: number; nanos: number; offset: number } | { error: string } {
  try {
    const t = parseGoRFC3339(b);
    return { unix: t.unix, nanos: t.nanos, offset: t.offset ?? 0 };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

test('Interop_parseGoRFC3339_sameTimeOrErrorTextAsGo', () => {
  const cases = fc.sample(inputs, { numRuns: 6000, seed: SEED });
  cases.push(
    Buffer.from('2026-11-22T13:12:13.274316524Z'),
    Buffer.from('2026-11-22T13:12:13.274316524Z\n'),
    Buffer.from('garbage'),
    Buffer.from(''),
    Buffer.from('2024-02-29T00:00:00Z'),
    Buffer.from('2023-02-29T00:00:00Z'),
    Buffer.from('2026-01-01T00:00:00+-1:30'),
    Buffer.from('2026-01-01T00:00:00+0a:00'),
    Buffer.from('20x6-01-01T00:00:00Z'),
    Buffer.from('0000-01-01T00:00:00Z'),
    Buffer.from('2026-01-01T00:00:00,5Z'),
  );
  const theirs = goParseRFC3339(cases);
  assert.equal(theirs.length, cases.length);
  let accepted = 0;
  for (let i = 0; i < cases.length; i++) {
    if (!('error' in theirs[i]!)) accepted++;
    assert.deepEqual(ours(cases[i]!), theirs[i], `input ${JSON.stringify(cases[i]!.toString('latin1'))} (seed ${SEED})`);
  }
  assert.ok(accepted > 300 && accepted < cases.length - 1000, `${accepted} of ${cases.length} accepted`);
});

test('Interop_parseGoRFC3339Quoted_sameTimeOrErrorTextAsGosTimeUnmarshalJSON', () => {
  // Time.UnmarshalJSON parses a JSON value's raw text with RFC3339 between double quotes (an image
  // config's "created"): the same inputs quoted, cut inside the quotes, or not quoted at all.
  const raw = fc.sample(inputs, { numRuns: 3000, seed: SEED + 1 }).map((b, i) => (i % 3 === 0 ? b : i % 3 === 1 ? Buffer.concat([Buffer.from('"'), b, Buffer.from('"')]) : Buffer.concat([Buffer.from('"'), b])));
  raw.push(Buffer.from('null'), Buffer.from('"2026-11-22T13:12:13Z"'), Buffer.from('5'), Buffer.from('{"a":1}'));
  const theirs = goParseRFC3339(raw, true);
  for (let i = 0; i < raw.length; i++) {
    // Go's UnmarshalJSON takes "null" as no time at all; callers skip null before they parse.
    if (raw[i]!.toString('latin1') === 'null') continue;
    let got: unknown;
    try {
      const t = parseGoRFC3339(raw[i]!, true);
      got = { unix: t.unix, nanos: t.nanos, offset: t.offset ?? 0 };
    } catch (e) {
      got = { error: (e as Error).message };
    }
    assert.deepEqual(got, theirs[i], `input ${JSON.stringify(raw[i]!.toString('latin1'))} (seed ${SEED})`);
  }
});
