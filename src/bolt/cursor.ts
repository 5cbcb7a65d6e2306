// Cursor: walks a bucket's B+tree in key order, over pages (read) or materialized nodes
// (write). The stack holds one entry per level, root first. Mirrors bbolt's cursor.go,
// plus guards against hostile files: page types are checked and depth is bounded.

import type { Bucket } from './bucket.js';
import { CorruptionError, ErrIncompatibleValue, ErrTxClosed, ErrTxNotWritable } from './errors.js';
import type { Node } from './node.js';
import { BRANCH_PAGE_FLAG, BUCKET_LEAF_FLAG, LEAF_PAGE_FLAG, Page, compareKeys, wordsOf } from './page.js';

/** Deeper than any real tree (a 64-level tree of 2-key pages holds 2^64 keys): a cycle. */
export const MAX_DEPTH = 64;

class ElemRef {
  /** Element count when this is a leaf page (not a node), else 0: next()'s fast path. */
  readonly leafCount: number;
  constructor(
    readonly page: Page | undefined,
    readonly node: Node | undefined,
    public index: number,
  ) {
    this.leafCount = page !== undefined && node === undefined && (page.flags & LEAF_PAGE_FLAG) !== 0 ? page.count : 0;
  }
  isLeaf(): boolean {
    return this.node ? this.node.isLeaf : (this.page!.flags & LEAF_PAGE_FLAG) !== 0;
  }
  count(): number {
    return this.node ? this.node.inodes.length : this.page!.count;
  }
  childPgid(): number {
    return this.node ? this.node.inodes[this.index]!.pgid : this.page!.branchPgid(this.index);
  }
}

/** A key/value pair; value is undefined when the key names a nested bucket. */
export type Entry = [key: Uint8Array, value: Uint8Array | undefined];

interface KV {
  key: Uint8Array | undefined;
  value: Uint8Array | undefined;
  flags: number;
}
const NONE: KV = { key: undefined, value: undefined, flags: 0 };

export class Cursor {
  private stack: ElemRef[] = [];
  /** The byte array next()'s fast path last read, with its .buffer and .byteOffset. */
  private viewBuf: Uint8Array | undefined = undefined;
  private viewAb: ArrayBufferLike | undefined = undefined;
  private viewBase = 0;
  /** viewBuf as u32 words when its element headers are aligned (see wordsOf), else undefined. */
  private viewWords: Uint32Array | undefined = undefined;

  constructor(readonly bucket: Bucket) {}

  /** The cursor's bucket. */
  getBucket(): Bucket {
    return this.bucket;
  }

  private checkOpen(): void {
    if (this.bucket.tx.closed) throw new ErrTxClosed();
  }

  private push(pgid: number): ElemRef {
    if (this.stack.length >= MAX_DEPTH) throw new CorruptionError(`page ${pgid}: tree deeper than ${MAX_DEPTH} levels (a cycle?)`, pgid);
    // bucket.pageNode(pgid), without the [page, node] tuple it allocates.
    const b = this.bucket;
    let p: Page | undefined;
    let n: Node | undefined;
    if (b.root === 0 || b.rootNode !== undefined) [p, n] = b.pageNode(pgid);
    else p = b.tx.page(pgid);
    if (p && (p.flags & (BRANCH_PAGE_FLAG | LEAF_PAGE_FLAG)) === 0) {
      throw new CorruptionError(`invalid page type: ${pgid}: ${p.flags.toString(16)}`, pgid);
    }
    const ref = new ElemRef(p, n, 0);
    this.stack.push(ref);
    return ref;
  }

  /** Moves to the first item; undefined when the bucket is empty. */
  first(): Entry | undefined {
    this.checkOpen();
    return toEntry(this.firstKV());
  }

  /** Moves to the last item; undefined when the bucket is empty. */
  last(): Entry | undefined {
    this.checkOpen();
    this.stack.length = 0;
    const ref = this.push(this.bucket.root);
    ref.index = ref.count() - 1;
    this.descendLast();
    return toEntry(this.keyValue());
  }

  /** Moves to the next item; undefined past the end. */
  next(): Entry | undefined {
    if (this.bucket.tx.closed) throw new ErrTxClosed();
    // Fast path: the next element is on the same leaf page (almost every step of a scan). It is
    // written out, without calls: a cold scan runs its first ~100k steps in the interpreter,
    // where each call costs more than the work, before the optimizing compiler catches up.
    let top = this.stack[this.stack.length - 1];
    if (top !== undefined && top.index + 1 < top.leafCount) top.index++;
    else {
      // Onto the next leaf; its first element is built below when it is a page (a scan's case).
      if (!this.moveNext()) return undefined;
      top = this.stack[this.stack.length - 1]!;
      if (top.index >= top.leafCount) return toEntry(this.keyValue());
    }
    {
      const p = top.page!;
      const buf = p.buf;
      if (buf !== this.viewBuf) {
        this.viewBuf = buf;
        this.viewAb = buf.buffer;
        this.viewBase = buf.byteOffset;
        this.viewWords = wordsOf(buf);
      }
      const i = top.index;
      // Leaf element i (see page.ts): u32 flags, pos, ksize, vsize; key at elem + pos. The sizes
      // are written as literals (16 = PAGE_HEADER_SIZE = LEAF_PAGE_ELEMENT_SIZE, 1 =
      // BUCKET_LEAF_FLAG): optimized code loads an imported constant from its module cell with a
      // hole check and, not knowing it is a small integer, does this arithmetic in doubles.
      const e = p.off + 16 + i * 16;
      if (e + 16 > buf.length) throw new CorruptionError(`page ${p.safeId()}: element ${i} lies outside the page`, p.safeId());
      // A page of the mapped file starts at a multiple of the page size, so its element headers
      // are whole little-endian u32 words: one load each instead of four bytes and six shifts/ors.
      const w = this.viewWords;
      let kStart: number, kEnd: number, vEnd: number, flags: number;
      if (w !== undefined) {
        const q = e >>> 2;
        flags = w[q]!;
        kStart = e + w[q + 1]!;
        kEnd = kStart + w[q + 2]!;
        vEnd = kEnd + w[q + 3]!;
      } else {
        flags = buf[e]!;
        kStart = e + ((buf[e + 4]! | (buf[e + 5]! << 8) | (buf[e + 6]! << 16) | (buf[e + 7]! << 24)) >>> 0);
        kEnd = kStart + ((buf[e + 8]! | (buf[e + 9]! << 8) | (buf[e + 10]! << 16) | (buf[e + 11]! << 24)) >>> 0);
        vEnd = kEnd + ((buf[e + 12]! | (buf[e + 13]! << 8) | (buf[e + 14]! << 16) | (buf[e + 15]! << 24)) >>> 0);
      }
      if (vEnd > buf.length) throw new CorruptionError(`page ${p.safeId()}: element ${i} lies outside the page`, p.safeId());
      // new Uint8Array(buffer, ...) makes the same view as subarray at half the cost (no species
      // lookup); the ArrayBuffer is kept above because .buffer is a call into C++ (~8 ns) that
      // optimized code does not inline.
      const ab = this.viewAb!;
      const base = this.viewBase;
      const key = new Uint8Array(ab, base + kStart, kEnd - kStart);
      if ((flags & 1) === 0) return [key, new Uint8Array(ab, base + kEnd, vEnd - kEnd)];
      // A nested bucket: remember where its header is, so that bucket.bucket(key) with this
      // very key (forEach, then open each child: containerd's listing pattern) skips the search.
      // (Read transactions only: there the pages do not change under the view.)
      const b = this.bucket;
      if (!b.tx.writable) {
        b.cursorKey = key;
        b.cursorBuf = buf;
        b.cursorVal = kEnd;
        b.cursorValLen = vEnd - kEnd;
      }
      return [key, undefined];
    }
  }

  /**
   * @internal Bucket.forEach: fn for every item from the first. In a read transaction the rest
   * of each leaf page is walked in this loop instead of a next() call per item (the same
   * decoding as next(), written out again): a cold listing spends less per item before the
   * optimizing compiler catches up, and this loop is compiled on the stack (OSR) early.
   */
  each(fn: (key: Uint8Array, value: Uint8Array | undefined) => void): void {
    const b = this.bucket;
    const tx = b.tx;
    const readOnly = !tx.writable;
    for (let entry = this.first(); entry !== undefined; entry = this.next()) {
      fn(entry[0], entry[1]);
      if (!readOnly) continue;
      const top = this.stack[this.stack.length - 1];
      if (top === undefined || top.leafCount === 0) continue;
      const p = top.page!;
      const buf = p.buf;
      if (buf !== this.viewBuf) {
        this.viewBuf = buf;
        this.viewAb = buf.buffer;
        this.viewBase = buf.byteOffset;
        this.viewWords = wordsOf(buf);
      }
      const ab = this.viewAb!;
      const base = this.viewBase;
      const w = this.viewWords;
      const n = top.leafCount;
      const len = buf.length;
      for (let i = top.index + 1; i < n; i++) {
        if (tx.closed) throw new ErrTxClosed();
        top.index = i;
        const e = p.off + 16 + i * 16;
        if (e + 16 > len) throw new CorruptionError(`page ${p.safeId()}: element ${i} lies outside the page`, p.safeId());
        let kStart: number, kEnd: number, vEnd: number, flags: number;
        if (w !== undefined) {
          const q = e >>> 2;
          flags = w[q]!;
          kStart = e + w[q + 1]!;
          kEnd = kStart + w[q + 2]!;
          vEnd = kEnd + w[q + 3]!;
        } else {
          flags = buf[e]!;
          kStart = e + ((buf[e + 4]! | (buf[e + 5]! << 8) | (buf[e + 6]! << 16) | (buf[e + 7]! << 24)) >>> 0);
          kEnd = kStart + ((buf[e + 8]! | (buf[e + 9]! << 8) | (buf[e + 10]! << 16) | (buf[e + 11]! << 24)) >>> 0);
          vEnd = kEnd + ((buf[e + 12]! | (buf[e + 13]! << 8) | (buf[e + 14]! << 16) | (buf[e + 15]! << 24)) >>> 0);
        }
        if (vEnd > len) throw new CorruptionError(`page ${p.safeId()}: element ${i} lies outside the page`, p.safeId());
        const key = new Uint8Array(ab, base + kStart, kEnd - kStart);
        if ((flags & 1) === 0) fn(key, new Uint8Array(ab, base + kEnd, vEnd - kEnd));
        else {
          b.cursorKey = key;
          b.cursorBuf = buf;
          b.cursorVal = kEnd;
          b.cursorValLen = vEnd - kEnd;
          fn(key, undefined);
        }
      }
    }
  }

  /** Moves to the previous item; undefined before the start. */
  prev(): Entry | undefined {
    this.checkOpen();
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const e = this.stack[i]!;
      if (e.index > 0) {
        e.index--;
        break;
      }
      this.stack.length = i;
    }
    if (this.stack.length === 0) return undefined;
    this.descendLast();
    return toEntry(this.keyValue());
  }

  /** Moves to `key`, or the next key after it; undefined when there is none. */
  seek(key: Uint8Array | string): Entry | undefined {
    this.checkOpen();
    let kv = this.seekKV(typeof key === 'string' ? new TextEncoder().encode(key) : key);
    const ref = this.top();
    if (ref.index >= ref.count()) kv = this.nextKV();
    return toEntry(kv);
  }

  /** Deletes the item under the cursor (not a nested bucket). */
  delete(): void {
    this.checkOpen();
    if (!this.bucket.tx.writable) throw new ErrTxNotWritable();
    const kv = this.keyValue();
    if (kv.flags & BUCKET_LEAF_FLAG) throw new ErrIncompatibleValue();
    if (kv.key === undefined) return;
    this.node().del(kv.key);
  }

  // ---- internals shared with Bucket ----

  firstKV(): KV {
    this.stack.length = 0;
    this.push(this.bucket.root);
    this.descendFirst();
    // An empty page can be reached (boltdb#450): move on.
    if (this.top().count() === 0) return this.nextKV();
    return this.keyValue();
  }

  /** Positions at key (or where it would be) without moving past a page end. */
  seekKV(key: Uint8Array): KV {
    this.stack.length = 0;
    this.search(key, this.bucket.root);
    return this.keyValue();
  }

  private top(): ElemRef {
    return this.stack[this.stack.length - 1]!;
  }

  private descendFirst(): void {
    for (;;) {
      const ref = this.top();
      if (ref.isLeaf()) break;
      this.push(ref.childPgid());
    }
  }

  private descendLast(): void {
    for (;;) {
      const ref = this.top();
      if (ref.isLeaf()) break;
      const next = this.push(ref.childPgid());
      next.index = next.count() - 1;
    }
  }

  nextKV(): KV {
    return this.moveNext() ? this.keyValue() : NONE;
  }

  /** Moves to the next element (skipping empty pages); false past the end. */
  private moveNext(): boolean {
    for (;;) {
      let i: number;
      for (i = this.stack.length - 1; i >= 0; i--) {
        const e = this.stack[i]!;
        if (e.index < e.count() - 1) {
          e.index++;
          break;
        }
      }
      if (i === -1) return false;
      this.stack.length = i + 1;
      this.descendFirst();
      if (this.top().count() === 0) continue;
      return true;
    }
  }

  private search(key: Uint8Array, pgid: number): void {
    for (;;) {
      const e = this.push(pgid);
      if (e.isLeaf()) {
        this.nsearch(key);
        return;
      }
      // Branch: the last child whose key is <= key (or the first).
      const n = e.count();
      let lo = 0,
        hi = n,
        exact = false;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const c = e.node ? compareKeys(e.node.inodes[mid]!.key, key) : e.page!.compareBranchKey(mid, key);
        if (c === 0) exact = true;
        if (c < 0) lo = mid + 1;
        else hi = mid;
      }
      let index = lo;
      if (!exact && index > 0) index--;
      if (n === 0) throw new CorruptionError(`branch page ${pgid} has no elements`, pgid);
      e.index = index;
      pgid = e.childPgid();
    }
  }

  private nsearch(key: Uint8Array): void {
    const e = this.top();
    const n = e.count();
    let lo = 0,
      hi = n;
    if (e.node) {
      const inodes = e.node.inodes;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareKeys(inodes[mid]!.key, key) < 0) lo = mid + 1;
        else hi = mid;
      }
    } else {
      const p = e.page!;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (p.compareLeafKey(mid, key) < 0) lo = mid + 1;
        else hi = mid;
      }
    }
    e.index = lo;
  }

  keyValue(): KV {
    const ref = this.top();
    const count = ref.count();
    if (count === 0 || ref.index >= count) return NONE;
    if (ref.node) {
      const inode = ref.node.inodes[ref.index]!;
      return { key: inode.key, value: inode.value, flags: inode.flags };
    }
    const p = ref.page!;
    return { key: p.leafKey(ref.index), value: p.leafValue(ref.index), flags: p.leafFlags(ref.index) };
  }

  /** The leaf node under the cursor, materializing the path from the root. */
  node(): Node {
    const ref = this.top();
    if (ref.node && ref.isLeaf()) return ref.node;
    const root = this.stack[0]!;
    let n = root.node ?? this.bucket.node(root.page!.id, undefined);
    for (let i = 0; i < this.stack.length - 1; i++) n = n.childAt(this.stack[i]!.index);
    return n;
  }
}

function toEntry(kv: KV): Entry | undefined {
  if (kv.key === undefined) return undefined;
  return [kv.key, kv.flags & BUCKET_LEAF_FLAG ? undefined : kv.value];
}
