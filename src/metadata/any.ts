// google.protobuf.Any as containerd stores it (container spec, runtime options, extensions):
//   field 1 (bytes, wire type 2) type_url
//   field 2 (bytes, wire type 2) value
// Decoded as containerd 1.6 decodes it: gogo/protobuf's generated Any.Unmarshal, whose steps and
// error texts ("unexpected EOF", "proto: wrong wireType = 0 for field TypeUrl", ...) are what ctr
// prints for a damaged record, so the decoder is written out here rather than taken from a wire
// library (whose texts differ). Unknown fields are skipped as its skipAny does. Encoding uses
// @bufbuild/protobuf's writer, loaded on first use (~15 ms at startup otherwise).
//
//   tag: varint (field << 3 | wire type)   wire 4 -> "wiretype end group", field <= 0 -> "illegal tag"
//   1, 2: wire 2 required, varint length, bytes        anything else: skipAny from the tag

import { createRequire } from 'node:module';
import type * as Wire from '@bufbuild/protobuf/wire';
import { ErrCorruptValue } from './errors.js';

const require = createRequire(import.meta.url);
let wireLib: typeof Wire | undefined;
const wire = (): typeof Wire => (wireLib ??= require('@bufbuild/protobuf/wire') as typeof Wire);

export interface Any {
  typeUrl: string;
  /** The encoded message (for the OCI spec: JSON text). */
  value: Uint8Array;
}

const textDecoder = new TextDecoder();

const UNEXPECTED_EOF = 'unexpected EOF';
const INT_OVERFLOW = 'proto: integer overflow';
const NEGATIVE_LENGTH = 'proto: negative length found during unmarshaling';

/** Go's uint64 varint loop of the generated code at b[i]: [value as a BigInt wrapped to 64 bits, next index]. */
function varint(b: Uint8Array, i: number): [bigint, number] {
  let x = 0n;
  for (let shift = 0n; ; shift += 7n) {
    if (shift >= 64n) throw new ErrCorruptValue(INT_OVERFLOW);
    if (i >= b.length) throw new ErrCorruptValue(UNEXPECTED_EOF);
    const c = b[i++]!;
    x = BigInt.asUintN(64, x | (BigInt(c & 0x7f) << shift));
    if (c < 0x80) return [x, i];
  }
}

/** The varint at b[i] when it is one byte (nearly every tag and length here): [value, next], else undefined. */
function small(b: Uint8Array, i: number): [number, number] | undefined {
  const c = b[i];
  return c !== undefined && c < 0x80 ? [c, i + 1] : undefined;
}

const INT64_MAX = (1n << 63n) - 1n;

/** A length field: Go's int(...) of the varint, negative past 2^63. */
function length(b: Uint8Array, i: number): [number, number] {
  const s = small(b, i);
  if (s) return s;
  const [x, next] = varint(b, i);
  const n = BigInt.asIntN(64, x);
  if (n < 0n) throw new ErrCorruptValue(NEGATIVE_LENGTH);
  // Go adds it to the index in an int: past 2^63 the sum turns negative, "negative length".
  if (BigInt(next) + n > INT64_MAX) throw new ErrCorruptValue(NEGATIVE_LENGTH);
  return [n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n), next];
}

/** skipAny: the length of the field starting at b[start] (its tag included). */
function skip(b: Uint8Array, start: number): number {
  let i = start;
  let depth = 0;
  while (i < b.length) {
    let tag: bigint;
    [tag, i] = varint(b, i);
    const wt = Number(tag & 7n);
    switch (wt) {
      case 0:
        for (let shift = 0; ; shift += 7) {
          if (shift >= 64) throw new ErrCorruptValue(INT_OVERFLOW);
          if (i >= b.length) throw new ErrCorruptValue(UNEXPECTED_EOF);
          if (b[i++]! < 0x80) break;
        }
        break;
      case 1:
        i += 8;
        break;
      case 2: {
        let n: number;
        [n, i] = length(b, i);
        i += n;
        break;
      }
      case 3:
        depth++;
        break;
      case 4:
        if (depth === 0) throw new ErrCorruptValue('proto: unexpected end of group');
        depth--;
        break;
      case 5:
        i += 4;
        break;
      default:
        throw new ErrCorruptValue(`proto: illegal wireType ${wt}`);
    }
    if (depth === 0) return i - start;
  }
  throw new ErrCorruptValue(UNEXPECTED_EOF);
}

export function decodeAny(b: Uint8Array): Any {
  const out: Any = { typeUrl: '', value: new Uint8Array(0) };
  const l = b.length;
  let i = 0;
  while (i < l) {
    const pre = i;
    let tag: bigint;
    const s = small(b, i);
    if (s) {
      tag = BigInt(s[0]);
      i = s[1];
    } else [tag, i] = varint(b, i);
    const field = Number(BigInt.asIntN(32, tag >> 3n));
    const wt = Number(tag & 7n);
    if (wt === 4) throw new ErrCorruptValue('proto: Any: wiretype end group for non-group');
    if (field <= 0) throw new ErrCorruptValue(`proto: Any: illegal tag ${field} (wire type ${tag})`);
    if (field === 1 || field === 2) {
      if (wt !== 2) throw new ErrCorruptValue(`proto: wrong wireType = ${wt} for field ${field === 1 ? 'TypeUrl' : 'Value'}`);
      let n: number;
      [n, i] = length(b, i);
      const end = i + n;
      if (end > l) throw new ErrCorruptValue(UNEXPECTED_EOF);
      if (field === 1) out.typeUrl = textDecoder.decode(b.subarray(i, end));
      else out.value = b.slice(i, end);
      i = end;
    } else {
      const n = skip(b, pre);
      if (pre + n > l) throw new ErrCorruptValue(UNEXPECTED_EOF);
      i = pre + n;
    }
  }
  return out;
}

/** Encodes as Go's proto.Marshal does: empty fields omitted, field order 1, 2. */
export function encodeAny(a: Any): Uint8Array {
  const { BinaryWriter, WireType } = wire();
  const w = new BinaryWriter();
  if (a.typeUrl.length > 0) w.tag(1, WireType.LengthDelimited).string(a.typeUrl);
  if (a.value.length > 0) w.tag(2, WireType.LengthDelimited).bytes(a.value);
  return w.finish();
}

/** A copy owning its bytes (what the stores keep of a caller's Any). */
export function copyAny(a: Any): Any {
  return { typeUrl: a.typeUrl, value: a.value.slice() };
}

/** A container's or sandbox's extensions, each Any copied. */
export function copyExtensions(extensions: Record<string, Any>): Record<string, Any> {
  return Object.fromEntries(Object.entries(extensions).map(([k, v]) => [k, copyAny(v)]));
}
