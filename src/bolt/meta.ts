// The meta page: pages 0 and 1. A commit writes its meta to page txid % 2, so the two
// alternate and one always holds the previous committed state.
//
// Meta, at page offset PAGE_HEADER_SIZE (16), META_SIZE = 64 bytes
//   off size type  field
//   0   4    u32   magic      0xED0CDAED
//   4   4    u32   version    2
//   8   4    u32   pageSize
//   12  4    u32   flags      (unused, 0)
//   16  8    u64   root.root  root bucket's page id
//   24  8    u64   root.seq   root bucket's sequence
//   32  8    u64   freelist   freelist page id, or PGID_NO_FREELIST (NoFreelistSync)
//   40  8    u64   pgid       high-water mark: first page id past the end of the data
//   48  8    u64   txid
//   56  8    u64   checksum   FNV-1a 64 of bytes 0..56
// Checksum 0 is rejected, as bbolt 1.3.7+ does (1.3.6 accepted it: validateMeta's third argument).

import { ErrChecksum, ErrInvalid, ErrVersionMismatch, BoltError } from './errors.js';
import { META_PAGE_FLAG, PAGE_HEADER_SIZE, put16, put32, put64, put64n, u32, u64, u64n } from './page.js';

export const MAGIC = 0xed0cdaed;
export const VERSION = 2;
export const META_SIZE = 64;
/** meta.freelist when no freelist page is kept (NoFreelistSync). */
export const PGID_NO_FREELIST = 0xffffffffffffffffn;

export interface Meta {
  magic: number;
  version: number;
  pageSize: number;
  flags: number;
  /** Root bucket page id. */
  root: number;
  /** Root bucket sequence. */
  sequence: bigint;
  /** Freelist page id, or undefined when meta.freelist is PGID_NO_FREELIST. */
  freelist: number | undefined;
  /** High-water mark. */
  pgid: number;
  txid: number;
  checksum: bigint;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** FNV-1a 64-bit hash, as Go's hash/fnv New64a. Works in two 32-bit halves for speed. */
export function fnv64a(b: Uint8Array, start = 0, end = b.length): bigint {
  // 64-bit multiply by 0x100000001b3 = (x << 40) + x * 0x1b3, done on 16-bit limbs.
  let h0 = 0x2325,
    h1 = 0x8422,
    h2 = 0x9ce4,
    h3 = 0xcbf2;
  for (let i = start; i < end; i++) {
    h0 ^= b[i]!;
    // x * 0x1b3
    let t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3;
    let t3 = h3 * 0x1b3;
    // + x << 40 : limb shift by 2.5 limbs -> (x << 8) into limbs 2,3
    t2 += h0 << 8;
    t3 += h1 << 8;
    t1 += t0 >>> 16;
    h0 = t0 & 0xffff;
    t2 += t1 >>> 16;
    h1 = t1 & 0xffff;
    t3 += t2 >>> 16;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  return (BigInt(((h3 << 16) | h2) >>> 0) << 32n) | BigInt(((h1 << 16) | h0) >>> 0);
}

/** Reference FNV-1a (bigint), used by tests to check the fast version. */
export function fnv64aSlow(b: Uint8Array): bigint {
  let h = FNV_OFFSET;
  for (const x of b) h = ((h ^ BigInt(x)) * FNV_PRIME) & MASK64;
  return h;
}

/** Decodes the meta stored in the page at `buf[off]` (off = page start). */
export function readMeta(buf: Uint8Array, off: number): Meta {
  const m = off + PAGE_HEADER_SIZE;
  const fl = u64(buf, m + 32);
  return {
    magic: u32(buf, m),
    version: u32(buf, m + 4),
    pageSize: u32(buf, m + 8),
    flags: u32(buf, m + 12),
    root: safe(buf, m + 16),
    sequence: u64(buf, m + 24),
    freelist: fl === PGID_NO_FREELIST ? undefined : safe(buf, m + 32),
    pgid: safe(buf, m + 40),
    txid: safe(buf, m + 48),
    checksum: u64(buf, m + 56),
  };
}

// Out-of-range fields only matter when the meta is valid; an invalid meta is reported by
// validateMeta, so decoding clamps instead of throwing.
function safe(buf: Uint8Array, o: number): number {
  try {
    return u64n(buf, o);
  } catch {
    return Number.MAX_SAFE_INTEGER;
  }
}

/** The error bbolt's meta.validate() gives, or undefined when the meta is valid. */
export function validateMeta(buf: Uint8Array, off: number, acceptZeroChecksum = false): BoltError | undefined {
  const m = off + PAGE_HEADER_SIZE;
  if (m + META_SIZE > buf.length) return new ErrInvalid();
  if (u32(buf, m) !== MAGIC) return new ErrInvalid();
  if (u32(buf, m + 4) !== VERSION) return new ErrVersionMismatch();
  const sum = u64(buf, m + 56);
  if ((sum !== 0n || !acceptZeroChecksum) && sum !== fnv64a(buf, m, m + 56)) return new ErrChecksum();
  return undefined;
}

/** Writes `meta` into a page buffer (page id txid % 2, META flag) with a fresh checksum. */
export function writeMeta(meta: Meta, page: Uint8Array): void {
  page.fill(0, 0, PAGE_HEADER_SIZE + META_SIZE);
  put64n(page, 0, meta.txid % 2);
  put16(page, 8, META_PAGE_FLAG);
  const m = PAGE_HEADER_SIZE;
  put32(page, m, meta.magic);
  put32(page, m + 4, meta.version);
  put32(page, m + 8, meta.pageSize);
  put32(page, m + 12, meta.flags);
  put64n(page, m + 16, meta.root);
  put64(page, m + 24, meta.sequence);
  if (meta.freelist === undefined) put64(page, m + 32, PGID_NO_FREELIST);
  else put64n(page, m + 32, meta.freelist);
  put64n(page, m + 40, meta.pgid);
  put64n(page, m + 48, meta.txid);
  meta.checksum = fnv64a(page, m, m + 56);
  put64(page, m + 56, meta.checksum);
}

export function copyMeta(m: Meta): Meta {
  return { ...m };
}
