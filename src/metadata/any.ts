// google.protobuf.Any as containerd stores it (container spec, runtime options, extensions):
//   field 1 (bytes, wire type 2) type_url
//   field 2 (bytes, wire type 2) value
// Parsed with @bufbuild/protobuf's wire reader; unknown fields are skipped as protobuf does.
// The reader loads on first use (~15 ms at startup otherwise, paid by every CLI command).

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

export function decodeAny(b: Uint8Array): Any {
  const out: Any = { typeUrl: '', value: new Uint8Array(0) };
  try {
    const { BinaryReader, WireType } = wire();
    const r = new BinaryReader(b);
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      if (no === 1 && wt === WireType.LengthDelimited) out.typeUrl = textDecoder.decode(r.bytes());
      else if (no === 2 && wt === WireType.LengthDelimited) out.value = r.bytes().slice();
      else r.skip(wt, no);
    }
  } catch (e) {
    if (e instanceof ErrCorruptValue) throw e;
    throw new ErrCorruptValue(`protobuf Any: ${(e as Error).message}`, { cause: e });
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
