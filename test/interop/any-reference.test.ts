// src/metadata/any.ts against gogo/protobuf 1.3.2 (what containerd 1.6 decodes a stored Any with,
// test/reference/anyref): for well-formed values, values with unknown fields of every wire type,
// and damaged ones (truncated, bit-flipped, random bytes), the same fields or the same error text,
// which ctr prints for a damaged container record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeAny, encodeAny } from '../../src/metadata/any.js';
import { gogoAny } from '../helpers/goref.js';

const SEED = Number(process.env.FC_SEED ?? Date.now() % 1e9);
console.log(`any-reference seed ${SEED}`);

function ours(b: Uint8Array): { typeUrl: string; value: string } | { error: string } {
  try {
    const a = decodeAny(b);
    return { typeUrl: Buffer.from(a.typeUrl, 'utf8').toString('hex'), value: Buffer.from(a.value).toString('hex') };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const varint = (n: bigint): number[] => {
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  return out;
};

// A field of any number and wire type, with a payload that may or may not fit it.
const field = fc
  .tuple(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 12 }), fc.boolean())
  .map(([no, wt, payload, withLength]) => {
    const tag = (BigInt(no) << 3n) | BigInt(wt);
    const body = wt === 2 || withLength ? [...varint(BigInt(payload.length)), ...payload] : [...payload];
    return [...varint(BigInt.asUintN(64, tag)), ...body];
  });

const wellFormed = fc.record({ typeUrl: fc.string({ maxLength: 40 }), value: fc.uint8Array({ maxLength: 40 }) }).map((a) => encodeAny(a));

const inputs = fc.oneof(
  wellFormed,
  fc.tuple(wellFormed, fc.array(field, { maxLength: 3 })).map(([a, fs]) => Uint8Array.from([...a, ...fs.flat()])),
  fc.tuple(wellFormed, fc.nat()).map(([a, n]) => a.subarray(0, a.length === 0 ? 0 : n % a.length)),
  fc.tuple(wellFormed, fc.nat(), fc.integer({ min: 0, max: 7 })).map(([a, n, bit]) => {
    const b = Uint8Array.from(a);
    if (b.length > 0) b[n % b.length] = b[n % b.length]! ^ (1 << bit);
    return b;
  }),
  fc.array(field, { maxLength: 4 }).map((fs) => Uint8Array.from(fs.flat())),
  fc.uint8Array({ maxLength: 24 }),
);

test('Interop_decodeAny_sameFieldsOrErrorTextAsGogo', () => {
  const cases = fc.sample(inputs, { numRuns: 4000, seed: SEED });
  // Edges: group fields (start/end, nested, unmatched), long and overflowing varints.
  cases.push(
    Uint8Array.of(0x1b, 0x1c), // group 3 opened and closed
    Uint8Array.of(0x1b, 0x1b, 0x1c, 0x1c),
    Uint8Array.of(0x1b),
    Uint8Array.of(0x1c), // end group at top level
    Uint8Array.of(0x0c),
    Uint8Array.of(0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
    Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
    Uint8Array.of(0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
    Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
    Uint8Array.of(0x00),
    Uint8Array.of(0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00),
    Uint8Array.of(0x2a, 0x03, 0x01),
  );
  const theirs = gogoAny(cases);
  assert.equal(theirs.length, cases.length);
  let errors = 0;
  for (let i = 0; i < cases.length; i++) {
    const want = theirs[i]!;
    if ('error' in want) errors++;
    // Go keeps a type URL's bytes as they are; we decode them as UTF-8 (only well-formed text compared).
    const got = ours(cases[i]!);
    if ('typeUrl' in want && 'typeUrl' in got && !Buffer.from(want.typeUrl, 'hex').equals(Buffer.from(Buffer.from(want.typeUrl, 'hex').toString('utf8'), 'utf8'))) continue;
    assert.deepEqual(got, want, `input ${Buffer.from(cases[i]!).toString('hex')} (seed ${SEED})`);
  }
  assert.ok(errors > 500, `only ${errors} damaged inputs`);
});
