// Value encodings containerd uses inside meta.db and the snapshotter metadata.db.
//
// Go time.MarshalBinary (timestamps: createdat, updatedat, expireat)
//   off size type      field
//   0   1    u8        version   1 (15 bytes) or 2 (16 bytes, when the zone offset has seconds)
//   1   8    i64 BE    sec       seconds since 0001-01-01T00:00:00Z (unix = sec - 62135596800)
//   9   4    i32 BE    nsec      nanoseconds 0..999999999
//   13  2    i16 BE    offmin    zone offset in minutes; -1 = UTC
//   15  1    i8        offsec    version 2 only: the offset's remaining seconds
//
// Varints: binary.PutVarint (signed, zigzag) for version, sizes and inodes; binary.PutUvarint for snapshotter ids.

import { ErrCorruptValue, ErrInvalidArgument } from './errors.js';
import { GoTimeParseError, parseGoRFC3339 } from '../content/rfc3339.js';

/** Seconds between 0001-01-01 and 1970-01-01 (Go's unixToInternal). */
export const UNIX_TO_INTERNAL = 62135596800n;
const UNIX_TO_INTERNAL_SECONDS = 62135596800;
const TIME_BINARY_VERSION_V1 = 1;
const TIME_BINARY_VERSION_V2 = 2;

/** A Go time.Time as stored: exact to the nanosecond, with its zone offset. */
export interface GoTime {
  /** Seconds since the Unix epoch. */
  unix: number;
  /** Nanoseconds within the second, 0..999999999. */
  nanos: number;
  /** Zone offset east of UTC in seconds; undefined = UTC (Go's offset -1). */
  offset?: number;
}

/** Decodes a time.MarshalBinary value (v1 15 bytes, v2 16 bytes). */
export function decodeTime(b: Uint8Array): GoTime {
  // Go's texts (time.Time.UnmarshalBinary), which ctr prints for a damaged record.
  if (b.length === 0) throw new ErrCorruptValue('Time.UnmarshalBinary: no data');
  const version = b[0];
  if (version !== TIME_BINARY_VERSION_V1 && version !== TIME_BINARY_VERSION_V2) {
    throw new ErrCorruptValue('Time.UnmarshalBinary: unsupported version');
  }
  const want = version === TIME_BINARY_VERSION_V1 ? 15 : 16;
  if (b.length !== want) throw new ErrCorruptValue('Time.UnmarshalBinary: invalid length');
  // Big-endian fields read from the bytes (a DataView and a BigInt per timestamp were most of
  // the cost of reading an image record). sec = hi * 2^32 + lo is exact while |hi| < 2^21.
  const hi = (b[1]! << 24) | (b[2]! << 16) | (b[3]! << 8) | b[4]!;
  const lo = ((b[5]! << 24) | (b[6]! << 16) | (b[7]! << 8) | b[8]!) >>> 0;
  const nanos = (b[9]! << 24) | (b[10]! << 16) | (b[11]! << 8) | b[12]!;
  let offsetSec = (((b[13]! << 24) | (b[14]! << 16)) >> 16) * 60;
  if (version === TIME_BINARY_VERSION_V2) offsetSec += (b[15]! << 24) >> 24;
  const unix =
    hi >= -0x200000 && hi < 0x200000
      ? hi * 0x100000000 + lo - UNIX_TO_INTERNAL_SECONDS
      : Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigInt64(1, false) - UNIX_TO_INTERNAL);
  const t: GoTime = { unix, nanos };
  // Go: offset == -1*60 means UTC (v2 adds the seconds byte, which is 0 then).
  if (offsetSec !== -60) t.offset = offsetSec;
  return t;
}

/** Encodes as time.MarshalBinary does: version 1 unless the offset has a seconds part. */
export function encodeTime(t: GoTime): Uint8Array {
  let offMin = -1;
  let offSec = 0;
  let version = TIME_BINARY_VERSION_V1;
  if (t.offset !== undefined) {
    if (t.offset % 60 !== 0) {
      version = TIME_BINARY_VERSION_V2;
      offSec = t.offset % 60;
    }
    offMin = Math.trunc(t.offset / 60);
    if (offMin < -32768 || offMin === -1 || offMin > 32767) throw new ErrInvalidArgument('time: unexpected zone offset');
  }
  const out = new Uint8Array(version === TIME_BINARY_VERSION_V1 ? 15 : 16);
  const dv = new DataView(out.buffer);
  out[0] = version;
  dv.setBigInt64(1, BigInt(t.unix) + UNIX_TO_INTERNAL, false);
  dv.setInt32(9, t.nanos, false);
  dv.setInt16(13, offMin, false);
  if (version === TIME_BINARY_VERSION_V2) dv.setInt8(15, offSec);
  return out;
}

/** A JS Date (millisecond precision) for a GoTime: an Invalid Date past its range (year 275760), which Go still holds; compare with compareTime. */
export function timeToDate(t: GoTime): Date {
  return new Date(t.unix * 1000 + Math.floor(t.nanos / 1e6));
}

/** A GoTime in UTC from a Date (or now). */
export function timeFromDate(d: Date = new Date(), extraNanos = 0): GoTime {
  const ms = d.getTime();
  const unix = Math.floor(ms / 1000);
  return { unix, nanos: (ms - unix * 1000) * 1e6 + extraNanos };
}

/** Compares two times: negative, 0, positive. */
export function compareTime(a: GoTime, b: GoTime): number {
  return a.unix !== b.unix ? a.unix - b.unix : a.nanos - b.nanos;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

function civil(unix: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const days = Math.floor(unix / 86400);
  const rem = unix - days * 86400;
  // Howard Hinnant's civil_from_days.
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const mo = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (mo <= 2 ? 1 : 0);
  return { y, mo, d, h: Math.floor(rem / 3600), mi: Math.floor((rem % 3600) / 60), s: rem % 60 };
}

/**
 * Go's time.Format with RFC3339 (nano = false) or RFC3339Nano (nano = true: trailing zeros of the
 * fraction dropped). `offset` overrides the time's own zone (seconds east of UTC; 0 prints "Z").
 */
export function formatRFC3339(t: GoTime, nano: boolean, offset: number | undefined = t.offset): string {
  const off = offset ?? 0;
  const c = civil(t.unix + off);
  let s = `${pad(c.y, 4)}-${pad(c.mo, 2)}-${pad(c.d, 2)}T${pad(c.h, 2)}:${pad(c.mi, 2)}:${pad(c.s, 2)}`;
  if (nano && t.nanos !== 0) s += '.' + pad(t.nanos, 9).replace(/0+$/, '');
  if (off === 0) return s + 'Z';
  const a = Math.abs(off);
  return `${s}${off < 0 ? '-' : '+'}${pad(Math.floor(a / 3600), 2)}:${pad(Math.floor((a % 3600) / 60), 2)}`;
}

/** Go's time.Parse(time.RFC3339, text) as a GoTime (content/rfc3339.ts); ErrCorruptValue with Go's text where Go errs. */
export function parseRFC3339(text: string): GoTime {
  let t;
  try {
    t = parseGoRFC3339(text);
  } catch (e) {
    if (e instanceof GoTimeParseError) throw new ErrCorruptValue(e.message, { cause: e });
    throw e;
  }
  const out: GoTime = { unix: t.unix, nanos: t.nanos };
  if (t.offset !== undefined) out.offset = t.offset;
  return out;
}

const MAX_VARINT_LEN64 = 10;

/** binary.Uvarint: returns [value, bytes read]. Throws on truncation or overflow. */
export function decodeUvarintBig(b: Uint8Array, offset = 0): [bigint, number] {
  let x = 0n;
  let s = 0n;
  for (let i = 0; i < MAX_VARINT_LEN64; i++) {
    const c = b[offset + i];
    if (c === undefined) throw new ErrCorruptValue('varint: truncated');
    if (c < 0x80) {
      if (i === MAX_VARINT_LEN64 - 1 && c > 1) throw new ErrCorruptValue('varint: overflows 64 bits');
      return [x | (BigInt(c) << s), i + 1];
    }
    x |= BigInt(c & 0x7f) << s;
    s += 7n;
  }
  throw new ErrCorruptValue('varint: overflows 64 bits');
}

function narrow(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new ErrCorruptValue(`${what}: ${v} exceeds the safe integer range`);
  }
  return Number(v);
}

/**
 * binary.Uvarint of at most 7 bytes (49 bits, exact as a number), as [value, bytes read]; -1 for
 * the value when the varint is longer or truncated (the caller decodes those as a BigInt, which
 * also raises the errors).
 */
function uvarintSmall(b: Uint8Array, offset: number): [number, number] {
  let x = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    const c = b[offset + i];
    if (c === undefined) break;
    if (c < 0x80) return [x + c * scale, i + 1];
    x += (c & 0x7f) * scale;
    scale *= 128;
  }
  return [-1, 0];
}

/** binary.Uvarint narrowed to a safe integer. */
export function decodeUvarint(b: Uint8Array, offset = 0): [number, number] {
  const small = uvarintSmall(b, offset);
  if (small[0] >= 0) return small;
  const [v, n] = decodeUvarintBig(b, offset);
  return [narrow(v, 'uvarint'), n];
}

/** binary.Varint (zigzag) narrowed to a safe integer. */
export function decodeVarint(b: Uint8Array, offset = 0): [number, number] {
  const small = uvarintSmall(b, offset);
  if (small[0] >= 0) {
    const ux = small[0];
    const half = Math.floor(ux / 2);
    small[0] = ux % 2 === 0 ? half : -half - 1;
    return small;
  }
  const [ux, n] = decodeUvarintBig(b, offset);
  let x = ux >> 1n;
  if (ux & 1n) x = ~x;
  return [narrow(x, 'varint'), n];
}

/**
 * A stored number as containerd reads it: `x, _ := binary.Uvarint(v)`, the error ignored, so bytes
 * that do not decode (truncated, overflowing) read as 0, as in Go. Past 2^53 the value is rounded
 * (Go keeps the int64; no real size or id gets there).
 */
export function goUvarint(b: Uint8Array, offset = 0): number {
  const small = uvarintSmall(b, offset);
  if (small[0] >= 0) return small[0];
  try {
    return Number(decodeUvarintBig(b, offset)[0]);
  } catch {
    return 0;
  }
}

/** `x, _ := binary.Varint(v)`: 0 for bytes that do not decode, as goUvarint. */
export function goVarint(b: Uint8Array, offset = 0): number {
  const small = uvarintSmall(b, offset);
  if (small[0] >= 0) {
    const ux = small[0];
    const half = Math.floor(ux / 2);
    return ux % 2 === 0 ? half : -half - 1;
  }
  let ux: bigint;
  try {
    ux = decodeUvarintBig(b, offset)[0];
  } catch {
    return 0;
  }
  let x = ux >> 1n;
  if (ux & 1n) x = ~x;
  return Number(x);
}

/** binary.PutUvarint. */
export function encodeUvarint(v: number | bigint): Uint8Array {
  let x = BigInt(v);
  if (x < 0n) throw new ErrInvalidArgument('uvarint: negative value');
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return Uint8Array.from(out);
}

/** binary.PutVarint (zigzag). */
export function encodeVarint(v: number | bigint): Uint8Array {
  const x = BigInt(v);
  let ux = x << 1n;
  if (x < 0n) ux = ~ux;
  return encodeUvarint(BigInt.asUintN(64, ux));
}
