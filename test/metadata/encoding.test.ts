// Varint and time decoding: the number fast paths (varints of up to 7 bytes, timestamps whose
// seconds fit 2^53) must give what the exact BigInt decoding gives, including its errors, for any
// bytes (and goUvarint/goVarint give Go's value with its error ignored). The references below decode
// with BigInt arithmetic only, as Go's binary.Uvarint/Varint and
// time.UnmarshalBinary define it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeTime, decodeUvarint, decodeVarint, goUvarint, goVarint } from '../../src/metadata/index.js';

/** Go's binary.Uvarint over all of b, as BigInt: [value, n] or an error word. */
function refUvarint(b: Uint8Array, offset: number): [bigint, number] | 'truncated' | 'overflow' {
  let x = 0n;
  for (let i = 0; i < 10; i++) {
    const c = b[offset + i];
    if (c === undefined) return 'truncated';
    if (c < 0x80) {
      if (i === 9 && c > 1) return 'overflow';
      return [x | (BigInt(c) << BigInt(7 * i)), i + 1];
    }
    x |= BigInt(c & 0x7f) << BigInt(7 * i);
  }
  return 'overflow';
}

function outcome(f: () => [number, number]): string {
  try {
    return JSON.stringify(f());
  } catch (e) {
    return `throws ${(e as Error).name}: ${(e as Error).message}`;
  }
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

// Bytes shaped like varints: a run of continuation bytes (0-11 of them) then a final byte, or cut short.
const varintBytes = fc
  .tuple(fc.array(fc.integer({ min: 0x80, max: 0xff }), { maxLength: 11 }), fc.option(fc.integer({ min: 0, max: 0x7f }), { nil: undefined }), fc.integer({ min: 0, max: 2 }))
  .map(([cont, last, pad]) => ({ bytes: Uint8Array.from([...Array(pad).fill(0x99), ...cont, ...(last === undefined ? [] : [last])]), offset: pad }));

test('decodeUvarint_andDecodeVarint_matchExactDecoding', () => {
  fc.assert(
    fc.property(varintBytes, ({ bytes, offset }) => {
      const ref = refUvarint(bytes, offset);
      const u = outcome(() => decodeUvarint(bytes, offset));
      const v = outcome(() => decodeVarint(bytes, offset));
      if (typeof ref === 'string') {
        assert.match(u, new RegExp(`throws .*${ref === 'truncated' ? 'truncated' : 'overflows'}`));
        assert.match(v, new RegExp(`throws .*${ref === 'truncated' ? 'truncated' : 'overflows'}`));
        return;
      }
      const [ux, n] = ref;
      if (ux <= SAFE) assert.equal(u, JSON.stringify([Number(ux), n]));
      else assert.match(u, /throws .*exceeds the safe integer range/);
      const x = ux & 1n ? -(ux >> 1n) - 1n : ux >> 1n; // zigzag
      if (x <= SAFE && x >= -SAFE) assert.equal(v, JSON.stringify([Number(x), n]));
      else assert.match(v, /throws .*exceeds the safe integer range/);
    }),
    { numRuns: 3000 },
  );
  // The edges of the 7-byte fast path and of the safe range.
  for (const [hex, want] of [
    ['7f', [127, 1]],
    ['ffffffffffff7f', [2 ** 49 - 1, 7]],
    ['8080808080808001', [2 ** 49, 8]],
    ['ffffffffffffff0f', [2 ** 53 - 1, 8]],
  ] as const) {
    assert.deepEqual(decodeUvarint(Buffer.from(hex, 'hex')), want);
  }
  assert.deepEqual(decodeVarint(Buffer.from('ffffffffffff7f', 'hex')), [-(2 ** 48), 7]);
  assert.deepEqual(decodeVarint(Buffer.from('feffffffffff7f', 'hex')), [2 ** 48 - 1, 7]);
});

test('decodeTime_matchesExactDecoding', () => {
  const int64 = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: 62135596800n - 2n ** 40n, max: 62135596800n + 2n ** 40n }), fc.constantFrom(2n ** 53n - 1n, -(2n ** 53n), 2n ** 53n, (2n ** 21n) << 32n, -(2n ** 21n) << 32n));
  fc.assert(
    fc.property(int64, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -32768, max: 32767 }), fc.option(fc.integer({ min: -128, max: 127 }), { nil: undefined }), (sec, nanos, offMin, offSec) => {
      const b = Buffer.alloc(offSec === undefined ? 15 : 16);
      b[0] = offSec === undefined ? 1 : 2;
      b.writeBigInt64BE(sec, 1);
      b.writeInt32BE(nanos, 9);
      b.writeInt16BE(offMin, 13);
      if (offSec !== undefined) b.writeInt8(offSec, 15);
      const offset = offMin * 60 + (offSec ?? 0);
      const want: { unix: number; nanos: number; offset?: number } = { unix: Number(sec - 62135596800n), nanos };
      if (offset !== -60) want.offset = offset;
      assert.deepEqual(decodeTime(b), want);
    }),
    { numRuns: 3000 },
  );
});

test('goUvarint_andGoVarint_areGosWithTheErrorIgnored', () => {
  // containerd reads stored numbers as `x, _ := binary.Varint(v)`: what does not decode is 0.
  fc.assert(
    fc.property(varintBytes, ({ bytes, offset }) => {
      const ref = refUvarint(bytes, offset);
      if (typeof ref === 'string') {
        assert.equal(goUvarint(bytes, offset), 0);
        assert.equal(goVarint(bytes, offset), 0);
        return;
      }
      const [ux] = ref;
      assert.equal(goUvarint(bytes, offset), Number(ux));
      assert.equal(goVarint(bytes, offset), Number(ux & 1n ? -(ux >> 1n) - 1n : ux >> 1n));
    }),
    { numRuns: 3000 },
  );
  assert.equal(goVarint(Uint8Array.of(0xff)), 0); // truncated
  assert.equal(goVarint(new Uint8Array(10).fill(0xff)), 0); // a tenth byte over 1
  assert.equal(goVarint(new Uint8Array(11).fill(0x80)), 0); // longer than 10 bytes
  assert.equal(goVarint(Uint8Array.of(0x03)), -2);
});

test('decodeTime_errors_areGosTexts', () => {
  // time.Time.UnmarshalBinary's texts, as ctr 1.6 prints them for a damaged record
  // (test/interop/damaged-records.test.ts compares whole outputs with real ctr's).
  assert.throws(() => decodeTime(new Uint8Array(0)), { code: 'ERR_CORRUPT_VALUE', message: 'Time.UnmarshalBinary: no data' });
  assert.throws(() => decodeTime(Uint8Array.of(0xff, 1)), { message: 'Time.UnmarshalBinary: unsupported version' });
  assert.throws(() => decodeTime(Uint8Array.of(1, 2, 3)), { message: 'Time.UnmarshalBinary: invalid length' });
  assert.throws(() => decodeTime(new Uint8Array(16).fill(1)), { message: 'Time.UnmarshalBinary: invalid length' });
});
