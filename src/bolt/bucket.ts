// Buckets: named collections of keys, nested to any depth. A bucket's value in its parent:
//
// Bucket header (BUCKET_HEADER_SIZE = 16), the value of a key whose leaf flag is BUCKET_LEAF_FLAG
//   off size type  field
//   0   8    u64   root      root page id; 0 = inline bucket
//   8   8    u64   sequence  NextSequence counter
//   16  ...        page      inline buckets only: a leaf page image (header id 0) holding the items
//
// A bucket is written inline when it is one leaf, has no sub-buckets and
// 16 + sum(16 + |k| + |v|) <= pageSize / 4. Mirrors bbolt's bucket.go.

import { Cursor, type Entry, MAX_DEPTH } from './cursor.js';
import {
  CorruptionError,
  ErrBucketExists,
  ErrBucketNameRequired,
  ErrBucketNotFound,
  ErrIncompatibleValue,
  ErrInternal,
  ErrKeyRequired,
  ErrKeyTooLarge,
  ErrTxClosed,
  ErrTxNotWritable,
  ErrValueTooLarge,
} from './errors.js';
import { DataMap } from './file.js';
import { Node, compareInodeKey, compareInodes, inodeKeyEquals, type Inode } from './node.js';
import {
  BRANCH_PAGE_ELEMENT_SIZE,
  BRANCH_PAGE_FLAG,
  BUCKET_LEAF_FLAG,
  LEAF_PAGE_ELEMENT_SIZE,
  LEAF_PAGE_FLAG,
  PAGE_HEADER_SIZE,
  Page,
  compareKeys,
  equalKeys,
  put32,
  put64n,
  u32,
  u64n,
  wordsOf,
} from './page.js';
import type { Tx } from './tx.js';

export const BUCKET_HEADER_SIZE = 16;
export const MAX_KEY_SIZE = 32768;
export const MAX_VALUE_SIZE = 0x7ffffffe; // (1 << 31) - 2
export const DEFAULT_FILL_PERCENT = 0.5;

const encoder = new TextEncoder();
/** Names, keys and values may be given as strings (UTF-8). */
export type Bytes = Uint8Array | string;
export function toBytes(b: Bytes): Uint8Array {
  if (typeof b !== 'string') return b;
  // Short ASCII names ('v1', 'images', 'target') are most string arguments: copying the char
  // codes is several times faster than a TextEncoder call for them.
  const n = b.length;
  if (n <= 64) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = b.charCodeAt(i);
      if (c > 0x7f) return encoder.encode(b);
      out[i] = c;
    }
    return out;
  }
  return encoder.encode(b);
}
/**
 * toBytes for lookups (bucket, get), whose key is only read: short string names ('v1',
 * 'images', 'target', 'digest' ...) are converted once and the bytes shared. A Map lookup is a
 * fraction of the conversion loop while that runs in the interpreter, in every short-lived
 * process. Bounded: past LOOKUP_CACHE_MAX names it converts without caching.
 */
const lookupCache = new Map<string, Uint8Array>();
const LOOKUP_CACHE_MAX = 256;
function lookupBytes(b: Bytes): Uint8Array {
  if (typeof b !== 'string') return b;
  const hit = lookupCache.get(b);
  if (hit !== undefined) return hit;
  const out = toBytes(b);
  if (b.length <= 64 && lookupCache.size < LOOKUP_CACHE_MAX) lookupCache.set(b, out);
  return out;
}
/** A byte string as a Map key (latin1: one char per byte, so distinct bytes stay distinct). */
export function byteKey(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

export interface BucketStats {
  branchPageN: number;
  branchOverflowN: number;
  leafPageN: number;
  leafOverflowN: number;
  keyN: number;
  depth: number;
  branchAlloc: number;
  branchInuse: number;
  leafAlloc: number;
  leafInuse: number;
  bucketN: number;
  inlineBucketN: number;
  inlineBucketInuse: number;
}

export function emptyStats(): BucketStats {
  return {
    branchPageN: 0,
    branchOverflowN: 0,
    leafPageN: 0,
    leafOverflowN: 0,
    keyN: 0,
    depth: 0,
    branchAlloc: 0,
    branchInuse: 0,
    leafAlloc: 0,
    leafInuse: 0,
    bucketN: 0,
    inlineBucketN: 0,
    inlineBucketInuse: 0,
  };
}

export function addStats(s: BucketStats, o: BucketStats): void {
  s.branchPageN += o.branchPageN;
  s.branchOverflowN += o.branchOverflowN;
  s.leafPageN += o.leafPageN;
  s.leafOverflowN += o.leafOverflowN;
  s.keyN += o.keyN;
  if (s.depth < o.depth) s.depth = o.depth;
  s.branchAlloc += o.branchAlloc;
  s.branchInuse += o.branchInuse;
  s.leafAlloc += o.leafAlloc;
  s.leafInuse += o.leafInuse;
  s.bucketN += o.bucketN;
  s.inlineBucketN += o.inlineBucketN;
  s.inlineBucketInuse += o.inlineBucketInuse;
}

/** The maps of read-transaction buckets: always empty (only write transactions cache buckets or materialize nodes). */
class EmptyMap<K, V> extends Map<K, V> {
  override set(): this {
    throw new ErrInternal('a read transaction cached a bucket or node');
  }
}
const NO_BUCKETS: Map<string, Bucket> = new EmptyMap();
const NO_NODES: Map<number, Node> = new EmptyMap();

// Result of Bucket.seekElem (a read path that allocates nothing): the element's offset, or
// NOT_FOUND (the search ended past the leaf's last element), or SLOW: something unusual (a
// page outside one mapped chunk, a dirty page, an element or page that fails a check, ...)
// for which the caller takes the Cursor path, which raises the errors for hostile files.
const NOT_FOUND = -1;
const SLOW = -2;
/** Set by every leafNodeFor descent that reaches a leaf: the node under which it began to materialize nodes, if it did. */
let newNodesUnder: Node | undefined;

/** The element seekElem found: its buffer, flags, key buf[seekKStart, +seekKLen) and value length (the value follows the key). */
let seekBuf: Uint8Array = new Uint8Array(0);
let seekFlags = 0;
let seekKStart = 0;
let seekKLen = 0;
let seekVLen = 0;
/** The last buffer get made a view into, with its .buffer and .byteOffset (.buffer is a call into C++, ~8 ns). */
let viewSrc: Uint8Array | undefined;
let viewAb: ArrayBufferLike = seekBuf.buffer;
let viewBase = 0;
/** buf[start, start + key.length) equals key. */
function sameBytes(buf: Uint8Array, start: number, key: Uint8Array): boolean {
  for (let i = 0; i < key.length; i++) if (buf[start + i] !== key[i]) return false;
  return true;
}
/** Bucket.seekLeaf's answer when the root is not a leaf page: seekBranches walks the tree. */
const BRANCH = -3;

/** seekElem below a root that is a branch page (after Bucket.seekLeaf returned BRANCH). */
function seekBranches(data: DataMap, ps: number, root: number, key: Uint8Array): number {
  const chunkSize = data.chunkSize;
  const keyLen = key.length;
  let pgid = root;
  // Common prefix of `key` with both ends of the key range the current page covers (in a
  // sound tree a child's keys lie between its branch key and the next one).
  let rangeLcp = 0;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const pos = pgid * ps;
    if (pos + ps > data.length) return SLOW;
    const ci = Math.floor(pos / chunkSize);
    const buf = data.chunks[ci];
    const off = pos - ci * chunkSize;
    if (buf === undefined || off + ps > buf.length) return SLOW;
    const w = wordsOf(buf);
    if (w === undefined) return SLOW;
    const h = off >>> 2;
    const overflow = w[h + 3]!;
    if (overflow !== 0) {
      const len = (overflow + 1) * ps;
      if (pos + len > data.length || off + len > buf.length) return SLOW;
    }
    const fc = w[h + 2]!; // u16 flags, u16 count
    const flags = fc & 0xffff;
    const count = fc >>> 16;
    const end = buf.length;
    const elems = off + 16;
    const leaf = (flags & LEAF_PAGE_FLAG) !== 0;
    if (!leaf && ((flags & BRANCH_PAGE_FLAG) === 0 || count === 0)) return SLOW;
    // One binary search for both page types: a leaf element's pos/ksize are words 1/2, a
    // branch element's words 0/1.
    const ko = leaf ? 1 : 0;
    let lo = 0,
      hi = count,
      loLcp = rangeLcp,
      hiLcp = rangeLcp,
      exact = false,
      wholeMatch = -1; // an element whose whole key, from byte 0, was compared equal
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = elems + mid * 16;
      if (e + 16 > end) return SLOW;
      const q = (e >>> 2) + ko;
      const kStart = e + w[q]!;
      const kLen = w[q + 1]!;
      if (kStart + kLen > end) return SLOW;
      // Compare from the known common prefix; i ends as the new common prefix.
      const n = kLen < keyLen ? kLen : keyLen;
      const from = loLcp < hiLcp ? loLcp : hiLcp;
      let i = from;
      let c = 0;
      for (; i < n; i++) {
        c = buf[kStart + i]! - key[i]!;
        if (c !== 0) break;
      }
      if (c === 0) {
        c = kLen - keyLen;
        i = n;
      }
      if (c === 0) {
        exact = true;
        if (from === 0) wholeMatch = mid;
      }
      if (c < 0) {
        lo = mid + 1;
        loLcp = i;
      } else {
        hi = mid;
        hiLcp = i;
      }
    }
    if (leaf) {
      if (lo >= count) return NOT_FOUND;
      const e = elems + lo * 16;
      if (e + 16 > end) return SLOW;
      const q = e >>> 2;
      const kStart = e + w[q + 1]!;
      const kLen = w[q + 2]!;
      const vLen = w[q + 3]!;
      if (kStart + kLen + vLen > end) return SLOW;
      // The whole key, from byte 0 (the search skipped prefixes it inferred from sorted order),
      // unless the search already compared this element's whole key.
      if (lo !== wholeMatch && (kLen !== keyLen || !sameBytes(buf, kStart, key))) return NOT_FOUND;
      seekBuf = buf;
      seekFlags = w[q]!;
      seekKStart = kStart;
      seekKLen = kLen;
      seekVLen = vLen;
      return e;
    }
    // The last child whose key is <= key (or the first); it covers [key[lo-1], key[lo])
    // when the key fell between two branch keys.
    if (!exact && lo > 0) {
      lo--;
      rangeLcp = loLcp < hiLcp ? loLcp : hiLcp;
    } else rangeLcp = 0;
    const e = elems + lo * 16;
    if (e + 16 > end) return SLOW;
    const q = e >>> 2;
    const hi32 = w[q + 3]!;
    if (hi32 >= 0x200000) return SLOW;
    pgid = hi32 === 0 ? w[q + 2]! : hi32 * 0x100000000 + w[q + 2]!; // as u64n
  }
  return SLOW;
}

// Key comparisons in seekElem start at min(common prefix with the search's lower bound, with
// its upper bound): every key sorted between two keys that share a prefix with `key` shares it
// too, so container names with a long common prefix ('registry.example.com/team/app-') are
// compared from where they differ instead of from byte 0 at every step (463 -> 126 bytes
// compared per lookup of 10k image names). On a corrupt page whose keys are out of order the
// search may end at a different element than a plain one; callers compare the whole key
// before using it, so a lookup never returns another key's value.

/**
 * What only some buckets need (write hints, the cursor's memo, an inline page object, a set fill
 * percent), kept out of Bucket itself and made on first use: a cold listing opens two Buckets per
 * image, each of which had these ten fields too (21 in all, set by a class-field initializer).
 * With them here and Bucket's fields set in its constructor, a cold listing of 10k images took
 * 33.3 instead of 34.9 ms (median of 41 runs in turn); 200k sequential puts did not change.
 */
class BucketExtras {
  /**
   * The leaf node leafNodeFor found last, under root node `hintRoot`, and the keys that reach it
   * from the root: [hintLo, hintHi) (undefined: unbounded). Branch nodes keep their keys until
   * commit rebalances and spills them, so within a transaction any key in that range goes to
   * the same leaf (a run of sequential puts skips the descent). The bounds are the branch
   * inodes that hold those keys (held, not viewed: a view per level per descent cost more than
   * the hint saved on random puts); inodes of a branch node are not changed before commit.
   */
  hintLeaf: Node | undefined = undefined;
  hintRoot: Node | undefined = undefined;
  hintLo: Inode | undefined = undefined;
  hintHi: Inode | undefined = undefined;
  /**
   * The nested bucket a Cursor's next() stepped onto last in a read transaction: the key view
   * it returned and where the bucket header lies (buf[cursorVal, cursorVal + cursorValLen)).
   * bucket(name) with that same view object opens it without searching: in a read transaction
   * the pages do not change, and the view is unique to that element.
   */
  cursorKey: Uint8Array | undefined = undefined;
  cursorBuf: Uint8Array | undefined = undefined;
  cursorVal = 0;
  cursorValLen = 0;
  /** An inline bucket's `page`, once made. */
  inlinePage: Page | undefined = undefined;
  /**
   * fillPercent when set. A field holding 0.5 would be a boxed double in V8, allocated with
   * every BucketExtras; undefined is not.
   */
  fillSet: number | undefined = undefined;
}

// Bucket's fields are `declare`d and set in the constructor: as class fields (ES2022 [[Define]]
// semantics) each `new Bucket` also ran a separate field-initializer function, one more call and
// one more function for the optimizing compiler on a cold listing's path.
export class Bucket {
  declare readonly tx: Tx;
  /** Root page id; 0 for an inline bucket. */
  declare root: number;
  /** The sequence as two u32 halves (a BigInt per bucket open costs more than the lookup). */
  declare private seqLo: number;
  declare private seqHi: number;
  declare rootNode: Node | undefined;
  /** @internal State only some buckets need (see BucketExtras); made on first use by extras(). */
  declare more: BucketExtras | undefined;
  /**
   * An inline bucket's value, header and page image: inlineBuf[inlineStart, inlineEnd) (a view
   * of the page that holds it; no view of its own is made for a lookup). undefined otherwise.
   */
  declare private inlineBuf: Uint8Array | undefined;
  declare private inlineStart: number;
  declare private inlineEnd: number;
  /** Child buckets opened in a write transaction, by name (latin1). */
  declare readonly buckets: Map<string, Bucket>;
  /** Materialized nodes by page id. */
  declare readonly nodes: Map<number, Node>;
  /** Nesting depth (root bucket 0), to bound recursion on hostile files. */
  declare readonly depth: number;

  constructor(tx: Tx, root: number, depth = 0) {
    this.tx = tx;
    this.root = root;
    this.seqLo = 0;
    this.seqHi = 0;
    this.rootNode = undefined;
    this.more = undefined;
    this.inlineBuf = undefined;
    this.inlineStart = 0;
    this.inlineEnd = 0;
    // Two Maps per bucket were most of the cost of opening one in a read transaction.
    this.buckets = tx.writable ? new Map() : NO_BUCKETS;
    this.nodes = tx.writable ? new Map() : NO_NODES;
    this.depth = depth;
  }

  /** Split threshold as a fraction of the page size (0.1..1.0), as bbolt's FillPercent. */
  get fillPercent(): number {
    return this.more?.fillSet ?? DEFAULT_FILL_PERCENT;
  }
  set fillPercent(v: number) {
    this.extras().fillSet = v;
  }

  /** Inline page (value bytes after the header), when the bucket is inline; made on first use. */
  get page(): Page | undefined {
    const buf = this.inlineBuf;
    if (buf === undefined) return this.more?.inlinePage;
    const more = this.extras();
    if (more.inlinePage === undefined) {
      const value = this.inlineStart === 0 && this.inlineEnd === buf.length ? buf : buf.subarray(this.inlineStart, this.inlineEnd);
      more.inlinePage = new Page(value, BUCKET_HEADER_SIZE);
    }
    return more.inlinePage;
  }
  /** Only ever cleared: the bucket's inline page is no longer authoritative (nodes are). */
  set page(p: undefined) {
    this.inlineBuf = undefined;
    if (this.more !== undefined) this.more.inlinePage = p;
  }

  /** @internal This bucket's BucketExtras, made on first use. */
  extras(): BucketExtras {
    return (this.more ??= new BucketExtras());
  }

  get sequenceValue(): bigint {
    return this.seqHi === 0 ? BigInt(this.seqLo) : (BigInt(this.seqHi) << 32n) | BigInt(this.seqLo);
  }
  set sequenceValue(v: bigint) {
    this.seqLo = Number(v & 0xffffffffn);
    this.seqHi = Number((v >> 32n) & 0xffffffffn);
  }

  /** True when the bucket's transaction is writable. */
  writable(): boolean {
    return this.tx.writable;
  }

  private checkOpen(): void {
    if (this.tx.closed) throw new ErrTxClosed();
  }
  private checkWritable(): void {
    this.checkOpen();
    if (!this.tx.writable) throw new ErrTxNotWritable();
  }

  cursor(): Cursor {
    this.checkOpen();
    this.tx.stats.cursorCount++;
    return new Cursor(this);
  }

  /** The nested bucket `name`, or undefined when missing or not a bucket. */
  bucket(name: Bytes): Bucket | undefined {
    // The read path (here and in get) is written out, with few calls of small helpers: it runs
    // cold in short-lived processes, where each call costs and each small function that gets
    // hot is one more job queued for the optimizing compiler before the ones that matter. The
    // write and Cursor paths are in this method too: at over 460 bytes of bytecode V8 does not
    // inline it into its callers, so the optimizing compiler compiles it once instead of again
    // inside each caller (and inside forEach's loop): a cold listing of 10k images, median of
    // 41, 29.1 -> 28.2 ms.
    const tx = this.tx;
    if (tx.closed) throw new ErrTxClosed();
    const more = this.more;
    if (more !== undefined && name === more.cursorKey) return this.openBucketAt(more.cursorBuf!, more.cursorVal, more.cursorValLen);
    const n = typeof name === 'string' ? (lookupCache.get(name) ?? lookupBytes(name)) : name;
    // Only write transactions cache child buckets (as bbolt), so a read transaction skips the
    // map and the key-to-string conversion its lookup needs.
    if (tx.writable) {
      const cached = this.buckets.get(byteKey(n));
      if (cached) return cached;
      const e = this.seekElem(n);
      if (e === NOT_FOUND) return undefined;
      if (e !== SLOW) {
        if ((seekFlags & BUCKET_LEAF_FLAG) === 0) return undefined;
        const child = this.openBucketAt(seekBuf, seekKStart + seekKLen, seekVLen);
        this.buckets.set(byteKey(n), child);
        return child;
      }
    } else if (this.rootNode === undefined) {
      let e = this.seekLeaf(n);
      if (e === BRANCH) e = seekBranches(tx.data as DataMap, tx.db.pageSize, this.root, n);
      if (e === NOT_FOUND) return undefined;
      if (e !== SLOW) return (seekFlags & BUCKET_LEAF_FLAG) === 0 ? undefined : this.openBucketAt(seekBuf, seekKStart + seekKLen, seekVLen);
    }
    // Through a Cursor (materialized nodes, dirty pages, anything unusual), which raises the
    // errors for hostile files.
    const kv = new Cursor(this).seekKV(n);
    if (kv.key === undefined || !equalKeys(n, kv.key) || (kv.flags & BUCKET_LEAF_FLAG) === 0) return undefined;
    const child = this.openBucket(kv.value!);
    if (tx.writable) this.buckets.set(byteKey(n), child);
    return child;
  }

  /** Decodes a bucket header value into a Bucket. */
  openBucket(value: Uint8Array): Bucket {
    return this.openBucketAt(value, 0, value.length);
  }

  /** openBucket(buf[start, start+len)); an inline bucket keeps buf and reads its page in place. */
  private openBucketAt(buf: Uint8Array, start: number, len: number): Bucket {
    if (len < BUCKET_HEADER_SIZE) throw new CorruptionError(`bucket value of ${len} bytes is shorter than a bucket header`);
    if (this.depth + 1 > MAX_DEPTH) throw new CorruptionError(`buckets nested deeper than ${MAX_DEPTH} levels`);
    const lo = (buf[start]! | (buf[start + 1]! << 8) | (buf[start + 2]! << 16) | (buf[start + 3]! << 24)) >>> 0;
    const hi = (buf[start + 4]! | (buf[start + 5]! << 8) | (buf[start + 6]! << 16) | (buf[start + 7]! << 24)) >>> 0;
    if (hi >= 0x200000) u64n(buf, start, 'bucket root'); // throws: past 2^53
    const root = hi === 0 ? lo : hi * 0x100000000 + lo; // as u64n
    const child = new Bucket(this.tx, root, this.depth + 1);
    child.seqLo = (buf[start + 8]! | (buf[start + 9]! << 8) | (buf[start + 10]! << 16) | (buf[start + 11]! << 24)) >>> 0;
    child.seqHi = (buf[start + 12]! | (buf[start + 13]! << 8) | (buf[start + 14]! << 16) | (buf[start + 15]! << 24)) >>> 0;
    if (root === 0) {
      if (len < BUCKET_HEADER_SIZE + PAGE_HEADER_SIZE) throw new CorruptionError(`inline bucket value of ${len} bytes is too short`);
      child.inlineBuf = buf;
      child.inlineStart = start;
      child.inlineEnd = start + len;
    }
    return child;
  }

  /**
   * Finds the leaf element for `key` as Cursor.seekKV does, over pages only and without
   * allocating: returns its offset in `seekBuf` (and sets seekFlags/seekKStart/...), NOT_FOUND,
   * or SLOW when the bucket has materialized nodes or dirty pages, or anything is unusual (the
   * caller then takes the Cursor path, which raises the errors for hostile files).
   */
  private seekElem(key: Uint8Array): number {
    if (this.rootNode !== undefined) return SLOW;
    const tx = this.tx;
    if (tx.pages !== undefined && tx.pages.size > 0) return SLOW;
    const e = this.seekLeaf(key);
    return e === BRANCH ? seekBranches(tx.data as DataMap, tx.db.pageSize, this.root, key) : e;
  }

  /**
   * seekElem over the bucket's own leaf page image, for the lookups of bucket(), get() and
   * seekElem: an inline bucket's (inlineBuf after the header, at any alignment) or a root leaf
   * page of the mapped file (containerd's image, container, lease and target buckets: a handful
   * of keys each), read byte by byte; nothing past the inline value or the page's chunk is read.
   * BRANCH when the root is a branch page (the caller then takes seekBranches), SLOW as seekElem.
   *
   * One function for both kinds of bucket and both callers, written out without calls: a cold
   * listing of 10k images runs both kinds of lookup (an image's bucket has a root page, its
   * target bucket is inline) from both bucket() and get(), and one function leaves the
   * interpreter sooner than several and costs one compile job (the optimizing compiler's jobs,
   * 1-3 ms each here, compete with the listing for the 2 cores). The binary search compares
   * whole keys (seekBranches' common-prefix bookkeeping only pays over many keys) and stops at
   * the element that compares equal; the comparison is written out, not a compareAt call per
   * probe (with the call a cold listing took 1.2 ms longer, two batches of 41 runs in turn).
   */
  private seekLeaf(key: Uint8Array): number {
    let buf: Uint8Array | undefined;
    let off: number, end: number;
    const root = this.root;
    if (root === 0) {
      buf = this.inlineBuf;
      if (buf === undefined) return SLOW;
      off = this.inlineStart + BUCKET_HEADER_SIZE;
      end = this.inlineEnd;
      if (off + 16 > end || (buf[off + 8]! & LEAF_PAGE_FLAG) === 0) return SLOW;
    } else {
      const tx = this.tx;
      const data = tx.data;
      if (!(data instanceof DataMap)) return SLOW;
      const ps = tx.db.pageSize;
      const pos = root * ps;
      if (pos + ps > data.length) return SLOW;
      const chunkSize = data.chunkSize;
      const ci = pos < chunkSize ? 0 : Math.floor(pos / chunkSize);
      buf = data.chunks[ci];
      off = pos - ci * chunkSize;
      if (buf === undefined || off + ps > buf.length) return SLOW;
      if ((buf[off + 8]! & LEAF_PAGE_FLAG) === 0) return BRANCH;
      const overflow = (buf[off + 12]! | (buf[off + 13]! << 8) | (buf[off + 14]! << 16) | (buf[off + 15]! << 24)) >>> 0;
      if (overflow !== 0 && (pos + (overflow + 1) * ps > data.length || off + (overflow + 1) * ps > buf.length)) return SLOW;
      end = buf.length;
    }
    // Page header (see page.ts): u64 id, u16 flags, u16 count, u32 overflow; then the leaf
    // elements, 16 bytes each: u32 flags, pos, ksize, vsize (the key at element + pos).
    const count = buf[off + 10]! | (buf[off + 11]! << 8);
    const keyLen = key.length;
    const elems = off + 16;
    let lo = 0,
      hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = elems + mid * 16;
      if (e + 16 > end) return SLOW;
      const kStart = e + ((buf[e + 4]! | (buf[e + 5]! << 8) | (buf[e + 6]! << 16) | (buf[e + 7]! << 24)) >>> 0);
      const kLen = (buf[e + 8]! | (buf[e + 9]! << 8) | (buf[e + 10]! << 16) | (buf[e + 11]! << 24)) >>> 0;
      if (kStart + kLen > end) return SLOW;
      const n = kLen < keyLen ? kLen : keyLen;
      let c = 0;
      for (let i = 0; i < n; i++) {
        c = buf[kStart + i]! - key[i]!;
        if (c !== 0) break;
      }
      if (c === 0) c = kLen - keyLen;
      if (c < 0) lo = mid + 1;
      else if (c > 0) hi = mid;
      else {
        // The key itself (in a sound page the only copy; on a damaged one whose keys are out of
        // order, an element that does hold this key, never a neighbour).
        const vLen = (buf[e + 12]! | (buf[e + 13]! << 8) | (buf[e + 14]! << 16) | (buf[e + 15]! << 24)) >>> 0;
        if (kStart + kLen + vLen > end) return SLOW;
        seekBuf = buf;
        seekFlags = buf[e]!;
        seekKStart = kStart;
        seekKLen = kLen;
        seekVLen = vLen;
        return e;
      }
    }
    return NOT_FOUND;
  }

  createBucket(name: Bytes): Bucket {
    this.checkWritable();
    const key = toBytes(name);
    if (key.length === 0) throw new ErrBucketNameRequired();
    if (key.length > MAX_KEY_SIZE) throw new ErrKeyTooLarge();
    const c = new Cursor(this);
    const kv = c.seekKV(key);
    if (kv.key !== undefined && equalKeys(key, kv.key)) {
      if (kv.flags & BUCKET_LEAF_FLAG) throw new ErrBucketExists();
      throw new ErrIncompatibleValue();
    }
    // A new bucket is an empty inline bucket.
    const bucket = new Bucket(this.tx, 0, this.depth + 1);
    const root = new Node(bucket);
    root.isLeaf = true;
    bucket.rootNode = root;
    const value = bucket.write();
    const k = this.tx.copyBytes(key);
    c.node().put(k, k, value, 0, BUCKET_LEAF_FLAG);
    // This bucket's own inline page (if any) is no longer authoritative.
    this.page = undefined;
    return this.bucket(k)!;
  }

  createBucketIfNotExists(name: Bytes): Bucket {
    this.checkWritable();
    const key = toBytes(name);
    if (key.length === 0) throw new ErrBucketNameRequired();
    const existing = this.bucket(key);
    if (existing) return existing;
    return this.createBucket(key);
  }

  deleteBucket(name: Bytes): void {
    this.checkWritable();
    const key = toBytes(name);
    const c = new Cursor(this);
    const kv = c.seekKV(key);
    if (kv.key === undefined || !equalKeys(key, kv.key)) throw new ErrBucketNotFound();
    if ((kv.flags & BUCKET_LEAF_FLAG) === 0) throw new ErrIncompatibleValue();
    const child = this.bucket(key)!;
    // Delete nested buckets first (collect names: deleting while iterating moves nodes).
    const names: Uint8Array[] = [];
    child.forEachBucket((k) => names.push(k.slice()));
    for (const k of names) child.deleteBucket(k);
    this.buckets.delete(byteKey(key));
    child.nodes.clear();
    child.rootNode = undefined;
    child.dropHint();
    child.free();
    c.node().del(key);
  }

  /** The value of `key`, or undefined when missing or a nested bucket. Valid for the transaction. */
  get(key: Bytes): Uint8Array | undefined {
    const tx = this.tx;
    if (tx.closed) throw new ErrTxClosed();
    const k = typeof key === 'string' ? (lookupCache.get(key) ?? lookupBytes(key)) : key;
    if (this.rootNode === undefined && (tx.pages === undefined || tx.pages.size === 0)) {
      let e = this.seekLeaf(k);
      if (e === BRANCH) e = seekBranches(tx.data as DataMap, tx.db.pageSize, this.root, k);
      if (e === NOT_FOUND) return undefined;
      if (e !== SLOW) {
        if ((seekFlags & BUCKET_LEAF_FLAG) !== 0) return undefined;
        const buf = seekBuf;
        if (buf !== viewSrc) {
          viewSrc = buf;
          viewAb = buf.buffer;
          viewBase = buf.byteOffset;
        }
        return new Uint8Array(viewAb, viewBase + seekKStart + seekKLen, seekVLen);
      }
    }
    // Through a Cursor (materialized nodes, dirty pages, anything unusual).
    const kv = new Cursor(this).seekKV(k);
    if (kv.flags & BUCKET_LEAF_FLAG) return undefined;
    if (kv.key === undefined || !equalKeys(k, kv.key)) return undefined;
    return kv.value;
  }

  put(key: Bytes, value: Bytes): void {
    this.checkWritable();
    const k = toBytes(key);
    const v = toBytes(value);
    if (k.length === 0) throw new ErrKeyRequired();
    if (k.length > MAX_KEY_SIZE) throw new ErrKeyTooLarge();
    if (v.length > MAX_VALUE_SIZE) throw new ErrValueTooLarge();
    const leaf = this.leafNodeFor(k);
    if (leaf !== undefined) {
      const inodes = leaf.inodes;
      const n = inodes.length;
      // The first inode whose key is >= k; a key past the last one (sequential puts) is checked first.
      let lo = 0;
      if (n > 0 && compareInodeKey(inodes[n - 1]!, k) < 0) lo = n;
      else {
        let hi = n;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (compareInodeKey(inodes[mid]!, k) < 0) lo = mid + 1;
          else hi = mid;
        }
      }
      if (lo < n && inodes[lo]!.flags & BUCKET_LEAF_FLAG && inodeKeyEquals(inodes[lo]!, k)) {
        // bbolt checks through a cursor before it materializes anything, so a failed put
        // leaves no node behind (a node would be written again at commit, to a new page).
        this.forgetNewNodes();
        throw new ErrIncompatibleValue();
      }
      const kc = this.tx.copyBytes(k);
      leaf.putAt(lo, kc, this.tx.copyBytes(v), 0);
      return;
    }
    const c = new Cursor(this);
    const kv = c.seekKV(k);
    if (kv.key !== undefined && equalKeys(k, kv.key) && kv.flags & BUCKET_LEAF_FLAG) throw new ErrIncompatibleValue();
    // Copy both: the caller may reuse its buffers before commit.
    const kc = this.tx.copyBytes(k);
    c.node().put(kc, kc, this.tx.copyBytes(v), 0, 0);
  }

  /**
   * The leaf node where `key` belongs, when the root is already materialized (every put after
   * the first of a write transaction): the path Cursor.seekKV + Cursor.node() take, through
   * the nodes directly (materializing children as childAt does), without a Cursor and a stack
   * entry per level. Undefined sends the caller down the Cursor path (no root node yet, or a
   * branch without elements or a tree too deep, whose errors the Cursor raises).
   */
  private leafNodeFor(key: Uint8Array): Node | undefined {
    let n = this.rootNode;
    if (n === undefined) return undefined;
    const more = this.more;
    const h = more?.hintLeaf;
    if (h !== undefined && more!.hintRoot === n) {
      const lo = more!.hintLo;
      const hi = more!.hintHi;
      if ((lo === undefined || compareInodeKey(lo, key) <= 0) && (hi === undefined || compareInodeKey(hi, key) > 0)) {
        newNodesUnder = undefined;
        return h;
      }
    }
    const root = n;
    // The node above the first one this descent materializes (see forgetNewNodes).
    let firstNew: Node | undefined;
    // The range of keys that take the path taken so far: child i of a branch takes
    // [key(i), key(i+1)), child 0 everything below key(1), the last child everything from its key.
    let rangeLo: Inode | undefined;
    let rangeHi: Inode | undefined;
    for (let depth = 1; !n.isLeaf; depth++) {
      const inodes = n.inodes;
      if (inodes.length === 0 || depth >= MAX_DEPTH - 1) return undefined;
      // The last child whose key is <= key (or the first), as Cursor.search.
      let lo = 0,
        hi = inodes.length,
        exact = false;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const c = compareInodeKey(inodes[mid]!, key);
        if (c === 0) exact = true;
        if (c < 0) lo = mid + 1;
        else hi = mid;
      }
      if (!exact && lo > 0) lo--;
      // A child read for the first time must be a branch or leaf page (else the Cursor path
      // raises its 'invalid page type' error).
      const pgid = inodes[lo]!.pgid;
      let child = this.nodes.get(pgid);
      if (child === undefined) {
        const p = this.tx.page(pgid);
        if ((p.flags & (BRANCH_PAGE_FLAG | LEAF_PAGE_FLAG)) === 0) return undefined;
        if (firstNew === undefined) firstNew = n;
        // childAt(lo), with the page just read (a second tx.page per node read was ~1/3 of its cost).
        child = this.node(pgid, n, p);
      }
      if (lo > 0) {
        const b = inodes[lo]!;
        if (rangeLo === undefined || compareInodes(b, rangeLo) > 0) rangeLo = b;
      }
      if (lo + 1 < inodes.length) {
        const b = inodes[lo + 1]!;
        if (rangeHi === undefined || compareInodes(b, rangeHi) < 0) rangeHi = b;
      }
      n = child;
    }
    newNodesUnder = firstNew;
    const m = more ?? this.extras();
    m.hintLeaf = n;
    m.hintRoot = root;
    m.hintLo = rangeLo;
    m.hintHi = rangeHi;
    return n;
  }

  /**
   * Undoes what the last leafNodeFor descent materialized, when the put it was for fails: the
   * nodes it made form one chain, the first of them the last child of `newNodesUnder` (from its
   * hint nothing was made). Afterwards the bucket holds the nodes bbolt would hold.
   */
  private forgetNewNodes(): void {
    const top = newNodesUnder;
    newNodesUnder = undefined;
    this.dropHint();
    if (top === undefined) return;
    let m = top.children.pop();
    while (m !== undefined) {
      this.nodes.delete(m.pgid);
      this.tx.stats.nodeCount--;
      m = m.children[0];
    }
  }

  /** Forgets leafNodeFor's hint: the node tree is about to change shape (commit) or go. */
  private dropHint(): void {
    const m = this.more;
    if (m === undefined) return;
    m.hintLeaf = undefined;
    m.hintRoot = undefined;
    m.hintLo = undefined;
    m.hintHi = undefined;
  }

  delete(key: Bytes): void {
    this.checkWritable();
    const k = toBytes(key);
    const c = new Cursor(this);
    const kv = c.seekKV(k);
    if (kv.key === undefined || !equalKeys(k, kv.key)) return;
    if (kv.flags & BUCKET_LEAF_FLAG) throw new ErrIncompatibleValue();
    c.node().del(k);
  }

  /** The bucket's sequence (64-bit). */
  sequence(): bigint {
    this.checkOpen();
    return this.sequenceValue;
  }

  setSequence(v: number | bigint): void {
    this.checkWritable();
    const n = BigInt(v);
    if (n < 0n || n > 0xffffffffffffffffn) throw new RangeError(`sequence out of range: ${n}`);
    if (!this.rootNode) this.node(this.root, undefined);
    this.sequenceValue = n;
  }

  nextSequence(): bigint {
    this.checkWritable();
    if (!this.rootNode) this.node(this.root, undefined);
    this.sequenceValue = (this.sequenceValue + 1n) & 0xffffffffffffffffn;
    return this.sequenceValue;
  }

  /** Calls fn for every item in key order; value is undefined for nested buckets. */
  forEach(fn: (key: Uint8Array, value: Uint8Array | undefined) => void): void {
    this.checkOpen();
    new Cursor(this).each(fn);
  }

  /** Calls fn with the name of every nested bucket, in key order. */
  forEachBucket(fn: (name: Uint8Array) => void): void {
    this.checkOpen();
    const c = new Cursor(this);
    for (let kv = c.firstKV(); kv.key !== undefined; kv = c.nextKV()) {
      if (kv.flags & BUCKET_LEAF_FLAG) fn(kv.key);
    }
  }

  /** Iterates [key, value] pairs (value undefined for nested buckets). */
  *entries(): Generator<Entry> {
    const c = this.cursor();
    for (let e = c.first(); e; e = c.next()) yield e;
  }

  // ---- pages and nodes ----

  /** The page or the materialized node for a page id. */
  pageNode(id: number): [Page | undefined, Node | undefined] {
    if (this.root === 0) {
      if (id !== 0) throw new CorruptionError(`inline bucket non-zero page access(2): ${id} != 0`, id);
      if (this.rootNode) return [undefined, this.rootNode];
      return [this.page, undefined];
    }
    const n = this.nodes.get(id);
    if (n) return [undefined, n];
    return [this.tx.page(id), undefined];
  }

  /** Materializes the node for page `pgid` (child of `parent`); `page` when the caller has just read it. */
  node(pgid: number, parent: Node | undefined, page?: Page): Node {
    const existing = this.nodes.get(pgid);
    if (existing) return existing;
    const n = new Node(this);
    n.parent = parent;
    if (!parent) this.rootNode = n;
    else parent.children.push(n);
    const p = this.page ?? page ?? this.tx.page(pgid);
    n.read(p);
    this.nodes.set(pgid, n);
    this.tx.stats.nodeCount++;
    return n;
  }

  /** Visits every page of the bucket (not nested buckets) with its depth and page-id stack. */
  forEachPage(fn: (p: Page, depth: number, stack: number[]) => void): void {
    if (this.page) {
      fn(this.page, 0, [this.root]);
      return;
    }
    this.tx.forEachPage(this.root, fn);
  }

  private forEachPageNode(fn: (p: Page | undefined, n: Node | undefined, depth: number) => void): void {
    if (this.page) {
      fn(this.page, undefined, 0);
      return;
    }
    const walk = (id: number, depth: number): void => {
      if (depth > MAX_DEPTH) throw new CorruptionError(`page ${id}: tree deeper than ${MAX_DEPTH} levels (a cycle?)`, id);
      const [p, n] = this.pageNode(id);
      fn(p, n, depth);
      if (p) {
        if (p.flags & BRANCH_PAGE_FLAG) for (let i = 0; i < p.count; i++) walk(p.branchPgid(i), depth + 1);
      } else if (n && !n.isLeaf) {
        for (const inode of n.inodes) walk(inode.pgid, depth + 1);
      }
    };
    walk(this.root, 0);
  }

  /** Returns all of the bucket's pages to the freelist. */
  free(): void {
    if (this.root === 0) return;
    const tx = this.tx;
    this.forEachPageNode((p, n) => {
      if (p) tx.freePage(p.id);
      else n!.free();
    });
    this.root = 0;
  }

  /** Rebalances nodes that lost keys, then child buckets. */
  rebalance(): void {
    // Go ranges over the nodes map while rebalance deletes merged siblings from it, and a
    // deleted entry is never visited afterwards. Iterate a copy in insertion order (Go's order
    // is random; see README) but skip nodes a merge has already removed: rebalancing one of
    // those would merge its keys into a sibling a second time.
    this.dropHint();
    for (const n of [...this.nodes.values()]) if (this.nodes.get(n.pgid) === n) n.rebalance();
    for (const child of this.buckets.values()) child.rebalance();
  }

  /** Writes dirty nodes to pages; child buckets first, in key order (deterministic). */
  spill(): void {
    this.dropHint();
    // The names are latin1 strings, one code unit per byte (byteKey), so comparing the strings
    // orders them as compareKeys orders the bytes, without two Buffers per comparison.
    const names = [...this.buckets.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [nameKey, child] of names) {
      let value: Uint8Array;
      if (child.inlineable()) {
        child.free();
        value = child.write();
      } else {
        child.spill();
        value = new Uint8Array(BUCKET_HEADER_SIZE);
        put64n(value, 0, child.root);
        put32(value, 8, child.seqLo);
        put32(value, 12, child.seqHi);
      }
      if (!child.rootNode) continue;
      const name = new Uint8Array(Buffer.from(nameKey, 'latin1'));
      const c = new Cursor(this);
      const kv = c.seekKV(name);
      if (kv.key === undefined || !equalKeys(name, kv.key)) throw new ErrInternal(`misplaced bucket header: ${Buffer.from(name).toString('hex')}`);
      if ((kv.flags & BUCKET_LEAF_FLAG) === 0) throw new ErrInternal(`unexpected bucket header flag: ${kv.flags}`);
      c.node().put(name, name, value, 0, BUCKET_LEAF_FLAG);
    }
    if (!this.rootNode) return;
    this.rootNode.spill();
    this.rootNode = this.rootNode.root();
    if (this.rootNode.pgid >= this.tx.meta.pgid) throw new CorruptionError(`pgid (${this.rootNode.pgid}) above high water mark (${this.tx.meta.pgid})`, this.rootNode.pgid);
    this.root = this.rootNode.pgid;
  }

  /** True when the bucket can be stored inline in its parent's leaf. */
  inlineable(): boolean {
    const n = this.rootNode;
    if (!n || !n.isLeaf) return false;
    let size = PAGE_HEADER_SIZE;
    const max = this.tx.db.pageSize / 4;
    for (const inode of n.inodes) {
      size += LEAF_PAGE_ELEMENT_SIZE + inode.klen + inode.vlen;
      if (inode.flags & BUCKET_LEAF_FLAG) return false;
      if (size > max) return false;
    }
    return true;
  }

  /** The bucket as an inline value: header + the root node as a page image. */
  write(): Uint8Array {
    const n = this.rootNode!;
    const value = new Uint8Array(BUCKET_HEADER_SIZE + n.size());
    put64n(value, 0, this.root);
    put32(value, 8, this.seqLo);
    put32(value, 12, this.seqHi);
    n.write(value, BUCKET_HEADER_SIZE);
    return value;
  }

  /** Page and key statistics of this bucket and all nested buckets, as bbolt's Bucket.Stats. */
  stats(): BucketStats {
    this.checkOpen();
    return this.statsOf(new Map()).s;
  }

  /**
   * bbolt's Bucket.Stats, which walks a page (and a nested bucket) as often as it is referenced.
   * So does this, in effect: what a page adds is the same at every reference, so it is summed
   * once per stats() and added again at the others (`memo`, by page id). On a sound file no page
   * is referenced twice; on a damaged one whose bucket values or branch elements share pages
   * (buckets that fan out level after level), Go takes exponential time and this gives Go's
   * figures at once. A page that is its own ancestor still ends as the depth bounds say.
   */
  private statsOf(memo: Map<number, PageStats>): { s: BucketStats; nest: number } {
    const s = emptyStats();
    const sub = emptyStats();
    const pageSize = this.tx.db.pageSize;
    s.bucketN += 1;
    let nest = 1;
    if (this.root === 0) {
      s.inlineBucketN += 1;
      s.depth = 1; // its one page
      const p = this.page;
      if (p && p.flags & LEAF_PAGE_FLAG) {
        s.keyN += p.count;
        s.inlineBucketInuse += leafInuse(p);
      } else if (p && p.flags & BRANCH_PAGE_FLAG) {
        // (a damaged value: bbolt counts what the page says)
        s.branchPageN++;
        s.branchInuse += branchInuse(p);
        s.branchOverflowN += p.overflow;
        s.branchAlloc = (s.branchPageN + s.branchOverflowN) * pageSize;
      }
      return { s, nest };
    }
    const walk = (id: number, depth: number): PageStats => {
      if (depth >= MAX_DEPTH) throw new CorruptionError(`page ${id}: tree deeper than ${MAX_DEPTH} levels (a cycle?)`, id);
      const seen = memo.get(id);
      if (seen) {
        if (depth + seen.height > MAX_DEPTH) throw new CorruptionError(`page ${id}: tree deeper than ${MAX_DEPTH} levels (a cycle?)`, id);
        if (this.depth + seen.nest > MAX_DEPTH) throw new CorruptionError(`buckets nested deeper than ${MAX_DEPTH} levels`);
        return seen;
      }
      const p = this.tx.page(id);
      const own = emptyStats();
      const below = emptyStats();
      let height = 1;
      let nestBelow = 0;
      const flags = p.flags;
      const count = p.count;
      if (flags & LEAF_PAGE_FLAG) {
        own.keyN += count;
        own.leafPageN++;
        own.leafInuse += leafInuse(p);
        own.leafOverflowN += p.overflow;
        for (let i = 0; i < count; i++) {
          if (p.leafFlags(i) & BUCKET_LEAF_FLAG) {
            const child = this.openBucket(p.leafValue(i));
            const r = child.statsOf(memo);
            addStats(below, r.s);
            if (r.nest > nestBelow) nestBelow = r.nest;
          }
        }
      } else if (flags & BRANCH_PAGE_FLAG) {
        own.branchPageN++;
        own.branchInuse += branchInuse(p);
        own.branchOverflowN += p.overflow;
        for (let i = 0; i < count; i++) {
          const r = walk(p.branchPgid(i), depth + 1);
          addStats(own, r.own); // (own holds page counts only: the rest stays 0)
          addStats(below, r.below);
          if (r.height + 1 > height) height = r.height + 1;
          if (r.nest > nestBelow) nestBelow = r.nest;
        }
      }
      const r: PageStats = { own, below, height, nest: nestBelow };
      memo.set(id, r);
      return r;
    };
    const r = walk(this.root, 0);
    addStats(s, r.own);
    addStats(sub, r.below);
    nest += r.nest;
    s.depth = r.height;
    s.branchAlloc = (s.branchPageN + s.branchOverflowN) * pageSize;
    s.leafAlloc = (s.leafPageN + s.leafOverflowN) * pageSize;
    s.depth += sub.depth;
    addStats(s, sub);
    return { s, nest };
  }
}

/** What one page and the pages under it add to a bucket's stats (Bucket.statsOf). */
interface PageStats {
  /** This bucket's pages: counts, in-use bytes and keys. */
  own: BucketStats;
  /** The stats of the buckets nested in them, summed as bbolt's subStats. */
  below: BucketStats;
  /** Levels of pages from this one down (1: a leaf). */
  height: number;
  /** Levels of buckets nested under these pages (0: none). */
  nest: number;
}

/** Bytes in use on a branch page: its header, elements and the last element's key. */
function branchInuse(p: Page): number {
  const count = p.count;
  const e = p.off + PAGE_HEADER_SIZE + ((count - 1) & 0xffff) * BRANCH_PAGE_ELEMENT_SIZE;
  return PAGE_HEADER_SIZE + BRANCH_PAGE_ELEMENT_SIZE * ((count - 1) & 0xffff) + u32(p.buf, e) + u32(p.buf, e + 4);
}

/** Bytes in use on a leaf page: its header, elements and the last element's key and value. */
function leafInuse(p: Page): number {
  const count = p.count;
  let used = PAGE_HEADER_SIZE;
  if (count !== 0) {
    used += LEAF_PAGE_ELEMENT_SIZE * (count - 1);
    const e = p.off + PAGE_HEADER_SIZE + (count - 1) * LEAF_PAGE_ELEMENT_SIZE;
    used += u32(p.buf, e + 4) + u32(p.buf, e + 8) + u32(p.buf, e + 12);
  }
  return used;
}
