// Pages: the unit of the file. Everything on disk is host byte order; we read and write
// little-endian (amd64, arm64, ppc64le). A big-endian file is detected by its meta magic.
//
// Page header (PAGE_HEADER_SIZE = 16 bytes)
//   off size type  field
//   0   8    u64   id        page id (offset in file = id * pageSize)
//   8   2    u16   flags     BRANCH 0x01 | LEAF 0x02 | META 0x04 | FREELIST 0x10
//   10  2    u16   count     number of elements (freelist: ids, 0xFFFF = escape)
//   12  4    u32   overflow  number of further pages this page spans
//
// Leaf element (LEAF_PAGE_ELEMENT_SIZE = 16), from offset 16, count of them
//   0 u32 flags (BUCKET_LEAF_FLAG 0x01: value is a bucket)  4 u32 pos  8 u32 ksize  12 u32 vsize
// Branch element (BRANCH_PAGE_ELEMENT_SIZE = 16)
//   0 u32 pos  4 u32 ksize  8 u64 pgid (child page; key = child's first key)
// `pos` is relative to the element's own address: key at elem+pos, value right after the key.
//
//   +--------+-------+-------+-----+-----------------------------+
//   | header | elem0 | elem1 | ... | k0 v0 | k1 v1 | ...   (free) |
//   +--------+-------+-------+-----+-----------------------------+

import { CorruptionError } from './errors.js';

export const PAGE_HEADER_SIZE = 16;
export const LEAF_PAGE_ELEMENT_SIZE = 16;
export const BRANCH_PAGE_ELEMENT_SIZE = 16;
export const MIN_KEYS_PER_PAGE = 2;

export const BRANCH_PAGE_FLAG = 0x01;
export const LEAF_PAGE_FLAG = 0x02;
export const META_PAGE_FLAG = 0x04;
export const FREELIST_PAGE_FLAG = 0x10;

export const BUCKET_LEAF_FLAG = 0x01;

/** Largest page id we accept: ids must stay exact in a JS number. */
export const MAX_PGID = Number.MAX_SAFE_INTEGER;

// ---- little-endian accessors over Uint8Array (faster than a DataView per page) ----
export function u16(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8)) >>> 0;
}
export function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** The last buffer wordsOf made words of (a mapped chunk, shared by every cursor and lookup). */
let wordsBuf: Uint8Array | undefined;
let wordsView: Uint32Array | undefined;
/**
 * `buf` as a Uint32Array over the same memory, when element headers at 4-aligned offsets of buf
 * are aligned words of a little-endian host (a mapped chunk; not an inline bucket's value).
 */
export function wordsOf(buf: Uint8Array): Uint32Array | undefined {
  if (buf === wordsBuf) return wordsView;
  const base = buf.byteOffset;
  if (!LITTLE_ENDIAN || (base & 3) !== 0) return undefined;
  wordsBuf = buf;
  wordsView = new Uint32Array(buf.buffer, base, buf.length >>> 2);
  return wordsView;
}
/**
 * Reads a u64 as a number; throws CorruptionError when it does not fit in 2^53.
 *
 * Below 2^32 the result is `lo` itself, a small integer, not `0 * 2^32 + lo`, for which the
 * interpreter makes a heap number. Page ids are kept in object fields (Node.pgid, inodes,
 * Bucket.root), and V8 keeps a field a small integer only while every value stored in it is one:
 * one heap number turns the field into a boxed double, an extra allocation for every object made
 * afterwards. The other places that join two u32 halves do the same (`hi === 0 ? lo : ...`).
 */
export function u64n(b: Uint8Array, o: number, what = 'u64', pgid?: number): number {
  const lo = u32(b, o);
  const hi = u32(b, o + 4);
  if (hi >= 0x200000) throw new CorruptionError(`${what} out of range: 0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`, pgid);
  return hi === 0 ? lo : hi * 0x100000000 + lo;
}
export function u64(b: Uint8Array, o: number): bigint {
  return (BigInt(u32(b, o + 4)) << 32n) | BigInt(u32(b, o));
}
export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}
export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}
export function put64n(b: Uint8Array, o: number, v: number): void {
  put32(b, o, v >>> 0);
  put32(b, o + 4, Math.floor(v / 0x100000000) >>> 0);
}
export function put64(b: Uint8Array, o: number, v: bigint): void {
  put32(b, o, Number(v & 0xffffffffn));
  put32(b, o + 4, Number((v >> 32n) & 0xffffffffn));
}

/** Byte-wise comparison, as bytes.Compare. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** compareKeys(buf[start, start+len), key) without making a view. */
export function compareAt(buf: Uint8Array, start: number, len: number, key: Uint8Array): number {
  const n = len < key.length ? len : key.length;
  for (let i = 0; i < n; i++) {
    const d = buf[start + i]! - key[i]!;
    if (d !== 0) return d;
  }
  return len - key.length;
}

export function equalKeys(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Page type as bbolt's page.typ() names it. */
export function pageTypeName(flags: number): string {
  if (flags & BRANCH_PAGE_FLAG) return 'branch';
  if (flags & LEAF_PAGE_FLAG) return 'leaf';
  if (flags & META_PAGE_FLAG) return 'meta';
  if (flags & FREELIST_PAGE_FLAG) return 'freelist';
  return `unknown<${flags.toString(16).padStart(2, '0')}>`;
}

/**
 * A view of one page (plus its overflow) inside a byte array: `buf[off]` is the first header
 * byte. Element accessors check that what they return lies inside `buf`, so a hostile page
 * raises CorruptionError instead of reading garbage or throwing RangeError.
 */
export class Page {
  constructor(
    readonly buf: Uint8Array,
    readonly off: number,
  ) {}

  get id(): number {
    return u64n(this.buf, this.off, 'page id');
  }
  get flags(): number {
    return u16(this.buf, this.off + 8);
  }
  get count(): number {
    return u16(this.buf, this.off + 10);
  }
  get overflow(): number {
    return u32(this.buf, this.off + 12);
  }
  get isLeaf(): boolean {
    return (this.flags & LEAF_PAGE_FLAG) !== 0;
  }
  get isBranch(): boolean {
    return (this.flags & BRANCH_PAGE_FLAG) !== 0;
  }
  typ(): string {
    return pageTypeName(this.flags);
  }

  /** Offset (in buf) of element i. */
  private elem(i: number): number {
    return this.off + PAGE_HEADER_SIZE + i * 16;
  }

  /** compareKeys(leafKey(i), key), without allocating; bounds-checked like leafKey. */
  compareLeafKey(i: number, key: Uint8Array): number {
    const e = this.elem(i);
    const start = e + u32(this.buf, e + 4);
    const len = u32(this.buf, e + 8);
    if (start + len > this.buf.length || e + 16 > this.buf.length) this.leafKey(i); // throws CorruptionError
    return compareAt(this.buf, start, len, key);
  }

  /** compareKeys(branchKey(i), key), without allocating. */
  compareBranchKey(i: number, key: Uint8Array): number {
    const e = this.elem(i);
    const start = e + u32(this.buf, e);
    const len = u32(this.buf, e + 4);
    if (start + len > this.buf.length || e + 16 > this.buf.length) this.branchKey(i); // throws CorruptionError
    return compareAt(this.buf, start, len, key);
  }

  leafFlags(i: number): number {
    return u32(this.buf, this.elem(i));
  }
  leafKey(i: number): Uint8Array {
    const e = this.elem(i);
    const start = e + u32(this.buf, e + 4);
    const end = start + u32(this.buf, e + 8);
    return this.slice(start, end, i);
  }
  leafValue(i: number): Uint8Array {
    const e = this.elem(i);
    const start = e + u32(this.buf, e + 4) + u32(this.buf, e + 8);
    const end = start + u32(this.buf, e + 12);
    return this.slice(start, end, i);
  }
  branchKey(i: number): Uint8Array {
    const e = this.elem(i);
    const start = e + u32(this.buf, e);
    const end = start + u32(this.buf, e + 4);
    return this.slice(start, end, i);
  }
  branchPgid(i: number): number {
    return u64n(this.buf, this.elem(i) + 8, 'branch element pgid', this.safeId());
  }

  /** The page id for error messages, without throwing. */
  safeId(): number | undefined {
    try {
      return this.id;
    } catch {
      return undefined;
    }
  }

  private slice(start: number, end: number, i: number): Uint8Array {
    if (end > this.buf.length || start < this.off || this.elem(i) + 16 > this.buf.length) {
      throw new CorruptionError(`page ${this.safeId()}: element ${i} lies outside the page`, this.safeId());
    }
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset + start, end - start);
  }
}
