// Cursor: walks a bucket's B+tree in key order, over pages (read) or materialized nodes
// (write). The stack holds one entry per level, root first. Mirrors bbolt's cursor.go,
// plus guards against hostile files: page types are checked, depth is bounded, and a pass in
// one direction enters no more leaves than the file has pages (see Cursor.leafRun).

import type { Bucket } from './bucket.js';
import { CorruptionError, ErrIncompatibleValue, ErrTxClosed, ErrTxNotWritable } from './errors.js';
import { compareInodeKey, type Node } from './node.js';
import type { Tx } from './tx.js';
import { DataMap } from './file.js';
import { BRANCH_PAGE_FLAG, BUCKET_LEAF_FLAG, LEAF_PAGE_ELEMENT_SIZE, LEAF_PAGE_FLAG, PAGE_HEADER_SIZE, Page, compareAt, compareKeys, u32, wordsOf } from './page.js';

/** Deeper than any real tree (a 64-level tree of 2-key pages holds 2^64 keys): a cycle. */
export const MAX_DEPTH = 64;

class ElemRef {
  /** Element count when this is a leaf page (not a node), else 0: moveNext's fast path. */
  leafCount: number;
  constructor(
    public page: Page | undefined,
    readonly node: Node | undefined,
    public index: number,
  ) {
    this.leafCount = page !== undefined && node === undefined && (page.flags & LEAF_PAGE_FLAG) !== 0 ? page.count : 0;
  }
  /** Makes this page entry the one for leaf page p (count elements), at its first element. */
  moveToLeaf(p: Page, count: number): void {
    this.page = p;
    this.leafCount = count;
    this.index = 0;
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

const EMPTY = new Uint8Array(0);
/** Cursor.leafTop before the first leaf: with leafCount 0 it never takes the fast path. */
const NO_LEAF = new ElemRef(undefined, undefined, 0);

function outsidePage(p: Page, i: number): CorruptionError {
  return new CorruptionError(`page ${p.safeId()}: element ${i} lies outside the page`, p.safeId());
}

/**
 * The item a Cursor's move methods (moveFirst, moveNext, ...) stand on, read in place: no view
 * is made for it, so a scan that only counts, measures or compares keys allocates nothing per
 * item (next() makes two views and a tuple per item, ~40 ns of its ~55).
 *
 *   key   = keyBuf[keyStart, keyEnd)
 *   value = valueBuf[valueStart, valueEnd)   (the nested bucket's header when isBucket)
 *
 * On a page keyBuf and valueBuf are the bytes the page lies in (a chunk of the mapped file, in
 * a read transaction), and the offsets count from their start; on a node (a bucket changed by
 * this write transaction) they are the node's own arrays. The
 * fields are read-only for callers; they change with the cursor's next move and, like every
 * view, are valid for the transaction only. After a move that returned false they describe no
 * item (empty key).
 */
export class CursorItem {
  keyBuf: Uint8Array = EMPTY;
  keyStart = 0;
  keyEnd = 0;
  valueBuf: Uint8Array = EMPTY;
  valueStart = 0;
  valueEnd = 0;
  /** The element flags (BUCKET_LEAF_FLAG: a nested bucket). */
  flags = 0;

  /** True when the item is a nested bucket (Cursor.next() returns its value as undefined). */
  get isBucket(): boolean {
    return (this.flags & BUCKET_LEAF_FLAG) !== 0;
  }
  get keyLength(): number {
    return this.keyEnd - this.keyStart;
  }
  get valueLength(): number {
    return this.valueEnd - this.valueStart;
  }
  /** The key as a view, as next() returns it. */
  key(): Uint8Array {
    return view(this.keyBuf, this.keyStart, this.keyEnd);
  }
  /** The value as a view, as next() returns it: undefined for a nested bucket. */
  value(): Uint8Array | undefined {
    return this.flags & BUCKET_LEAF_FLAG ? undefined : view(this.valueBuf, this.valueStart, this.valueEnd);
  }
  /** compareKeys(key(), other) without making the view: < 0, 0 or > 0. */
  compareKey(other: Uint8Array): number {
    return compareAt(this.keyBuf, this.keyStart, this.keyEnd - this.keyStart, other);
  }
  /** Whether the key starts with `prefix`. */
  keyHasPrefix(prefix: Uint8Array): boolean {
    const n = prefix.length;
    if (this.keyEnd - this.keyStart < n) return false;
    const b = this.keyBuf;
    const o = this.keyStart;
    for (let i = 0; i < n; i++) if (b[o + i] !== prefix[i]) return false;
    return true;
  }

  /** @internal */
  clear(): void {
    this.keyBuf = EMPTY;
    this.keyStart = this.keyEnd = 0;
    this.valueBuf = EMPTY;
    this.valueStart = this.valueEnd = 0;
    this.flags = 0;
  }
}

/**
 * The error of a cursor pass that entered more leaves than the file has pages (see
 * Cursor.leafRun): `pgid` the leaf it was entering (the stack entry's page, else its node's).
 */
function sharedLeaves(ref: ElemRef, pages: number, pgid = ref.page?.safeId() ?? ref.node?.pgid): CorruptionError {
  return new CorruptionError(`page ${pgid}: a cursor pass entered more leaf pages than the file has pages (${pages}): branch pages share children`, pgid);
}

/** buf[start, end) as a view; buf itself when that is all of it (a node's key, as Go returns). */
function view(buf: Uint8Array, start: number, end: number): Uint8Array {
  return start === 0 && end === buf.length ? buf : new Uint8Array(buf.buffer, buf.byteOffset + start, end - start);
}

export class Cursor {
  /** Where the last move*() call left the cursor (see CursorItem). */
  readonly item = new CursorItem();
  private stack: ElemRef[] = [];
  /**
   * The leaf page moveNext steps over without the stack: leafTop (the stack's top entry while
   * leafCount > 0), its element count, and where its element table starts in viewBuf. Any
   * change to the stack sets leafCount to 0 (push, truncate, noItem), back to moveNextSlow.
   */
  private leafTop: ElemRef = NO_LEAF;
  private leafCount = 0;
  private leafElems = 0;
  /** The byte array next()'s fast path last read, with its .buffer and .byteOffset. */
  private viewBuf: Uint8Array | undefined = undefined;
  private viewAb: ArrayBufferLike | undefined = undefined;
  private viewBase = 0;
  private viewLength = 0;
  /** viewBuf as u32 words when its element headers are aligned (see wordsOf), else undefined. */
  private viewWords: Uint32Array | undefined = undefined;

  /** bucket.tx, one load closer for moveNext's check. */
  private readonly tx: Tx;
  /**
   * Leaf pages (or nodes) entered since the cursor was last positioned (first, last, seek) or
   * turned round: counted up going forward, down going back. In a sound tree a pass in one
   * direction enters each leaf once, so no more leaves than the file has pages (meta.pgid); a
   * damaged file whose branch elements share pages can make a pass enter the same leaves over
   * and over (exponentially many times, level after level: Go's cursor goes round them all).
   * Past that many, the move throws CorruptionError (sharedLeaves).
   */
  private leafRun = 0;

  constructor(readonly bucket: Bucket) {
    this.tx = bucket.tx;
  }

  /** The cursor's bucket. */
  getBucket(): Bucket {
    return this.bucket;
  }

  private checkOpen(): void {
    if (this.tx.closed) throw new ErrTxClosed();
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
    this.leafCount = 0;
    return ref;
  }

  /** Moves to the first item; undefined when the bucket is empty. */
  first(): Entry | undefined {
    return this.moveFirst() ? this.entry() : undefined;
  }

  /** Moves to the last item; undefined when the bucket is empty. */
  last(): Entry | undefined {
    return this.moveLast() ? this.entry() : undefined;
  }

  /** Moves to the next item; undefined past the end. */
  next(): Entry | undefined {
    return this.moveNext() ? this.entry() : undefined;
  }

  /** this.item as an Entry: a key view and a value view (undefined for a nested bucket). */
  private entry(): Entry {
    const it = this.item;
    const buf = it.keyBuf;
    if (buf !== this.viewBuf || it.valueBuf !== buf) return [it.key(), it.value()];
    // On the page moveNext decoded: new Uint8Array(buffer, ...) makes the same view as subarray
    // at half the cost (no species lookup); the ArrayBuffer is kept because .buffer is a call
    // into C++ (~8 ns) that optimized code does not inline.
    const ab = this.viewAb!;
    const base = this.viewBase;
    const key = new Uint8Array(ab, base + it.keyStart, it.keyEnd - it.keyStart);
    if ((it.flags & 1) === 0) return [key, new Uint8Array(ab, base + it.valueStart, it.valueEnd - it.valueStart)];
    // A nested bucket: remember where its header is, so that bucket.bucket(key) with this
    // very key (forEach, then open each child: containerd's listing pattern) skips the search.
    // (Read transactions only: there the pages do not change under the view.)
    const b = this.bucket;
    if (!b.tx.writable) {
      const more = b.more ?? b.extras();
      more.cursorKey = key;
      more.cursorBuf = buf;
      more.cursorVal = it.valueStart;
      more.cursorValLen = it.valueEnd - it.valueStart;
    }
    return [key, undefined];
  }

  /**
   * @internal Bucket.forEach: fn for every item from the first, as first()/next() return them.
   * (A copy of the element decoding walked each leaf page here until moveNext's fast path made
   * it no faster: a cold listing of 10k images, median of 21, 33.4 -> 32.0 ms without it.)
   */
  each(fn: (key: Uint8Array, value: Uint8Array | undefined) => void): void {
    for (let ok = this.moveFirst(); ok; ok = this.moveNext()) {
      const e = this.entry();
      fn(e[0], e[1]);
    }
  }

  /** Moves to the previous item; undefined before the start. */
  prev(): Entry | undefined {
    return this.movePrev() ? this.entry() : undefined;
  }

  /** Moves to `key`, or the next key after it; undefined when there is none. */
  seek(key: Uint8Array | string): Entry | undefined {
    return this.moveTo(key) ? this.entry() : undefined;
  }

  // ---- moving without views: the item is this.item (see CursorItem) ----

  /** first(), in place: true when the bucket has an item, then this.item is it. */
  moveFirst(): boolean {
    this.checkOpen();
    this.truncate(0);
    this.push(this.bucket.root);
    this.descendFirst();
    // An empty page can be reached (boltdb#450): move on.
    if (this.top().count() === 0 && !this.advance()) return this.noItem();
    return this.loadItem();
  }

  /** last(), in place. */
  moveLast(): boolean {
    this.checkOpen();
    this.truncate(0);
    const ref = this.push(this.bucket.root);
    ref.index = ref.count() - 1;
    this.descendLast();
    return this.loadItem();
  }

  /**
   * next(), in place: true when there is a next item, then this.item is it.
   *
   * The next element of the same leaf page (almost every step of a scan) is decoded here from
   * what the leaf's first step cached on the cursor (leafTop, leafCount, leafElems and the view
   * fields), in as few property loads as possible: a cold scan runs its first thousands of steps
   * before the optimizing compiler has this function, and there each load is an inline cache
   * lookup. Everything else is moveNextSlow's.
   */
  moveNext(): boolean {
    if (this.tx.closed) throw new ErrTxClosed();
    const top = this.leafTop;
    const i = top.index + 1;
    if (i >= this.leafCount) return this.stepLeaf();
    top.index = i;
    // Leaf element i (see page.ts): u32 flags, pos, ksize, vsize; key at elem + pos. 16 is
    // LEAF_PAGE_ELEMENT_SIZE, written as a literal: optimized code loads an imported constant
    // from its module cell with a hole check and, not knowing it is a small integer, does this
    // arithmetic in doubles.
    const e = this.leafElems + i * 16;
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
      const buf = this.viewBuf!;
      flags = buf[e]!;
      kStart = e + ((buf[e + 4]! | (buf[e + 5]! << 8) | (buf[e + 6]! << 16) | (buf[e + 7]! << 24)) >>> 0);
      kEnd = kStart + ((buf[e + 8]! | (buf[e + 9]! << 8) | (buf[e + 10]! << 16) | (buf[e + 11]! << 24)) >>> 0);
      vEnd = kEnd + ((buf[e + 12]! | (buf[e + 13]! << 8) | (buf[e + 14]! << 16) | (buf[e + 15]! << 24)) >>> 0);
    }
    if (vEnd > this.viewLength) throw outsidePage(top.page!, i);
    // keyBuf and valueBuf were set to this page's bytes with leafTop.
    const it = this.item;
    it.keyStart = kStart;
    it.keyEnd = kEnd;
    it.valueStart = kEnd;
    it.valueEnd = vEnd;
    it.flags = flags;
    return true;
  }

  /**
   * moveNext past the cached leaf: nextLeaf, else moveNextSlow. One call site in moveNext, taken at
   * every leaf step, so the optimizing compiler has feedback for it: with `nextLeaf() ||
   * moveNextSlow()` in moveNext, moveNextSlow's call had none (a scan's first step is the only one
   * that takes it before the parent's last child), and moveNext's optimized code was thrown away
   * at the first end of a branch page and compiled again.
   */
  private stepLeaf(): boolean {
    return this.nextLeaf() || this.moveNextSlow();
  }

  /**
   * moveNext from the last item of a cached leaf onto the first of the next leaf, in a read
   * transaction over the mapped file, when that leaf is the parent's next child and lies in the
   * same chunk (almost every leaf step of a scan): the parent's element and the leaf's header and
   * first element are read as words of the chunk, as seekBranches reads them, and the leaf becomes
   * the cached one. False, with nothing changed, in any other case (moveNextSlow's). Kept apart
   * from moveNextSlow and small: a cold scan runs it once per leaf, in the interpreter until the
   * optimizing compiler has it, and moveNextSlow with its general walk took 14 ms to compile.
   */
  private nextLeaf(): boolean {
    if (this.leafCount === 0) return false;
    const stack = this.stack;
    const depth = stack.length;
    if (depth < 2) return false;
    const top = stack[depth - 1]!;
    const parent = stack[depth - 2]!;
    const pp = parent.page;
    const pw = this.viewWords;
    const tx = this.tx;
    const data = tx.data;
    if (top !== this.leafTop || pp === undefined || parent.node !== undefined || pw === undefined || pp.buf !== this.viewBuf) return false;
    if (tx.writable || this.bucket.rootNode !== undefined || !(data instanceof DataMap)) return false;
    const pbuf = pp.buf;
    const j = parent.index + 1;
    const ph = pp.off >>> 2;
    const pe = pp.off + 16 + j * 16;
    if (j >= pw[ph + 2]! >>> 16 || pe + 16 > pbuf.length) return false;
    const pq = pe >>> 2;
    const hi = pw[pq + 3]!;
    const pgid = hi === 0 ? pw[pq + 2]! : hi * 0x100000000 + pw[pq + 2]!;
    const ps = tx.db.pageSize;
    const pos = pgid * ps;
    const chunkSize = data.chunkSize;
    const ci = pos < chunkSize ? 0 : Math.floor(pos / chunkSize);
    const off = pos - ci * chunkSize;
    if (data.chunks[ci] !== pbuf || pos + ps > data.length || off + ps > pbuf.length) return false;
    const h = off >>> 2;
    const fc = pw[h + 2]!;
    const n = fc >>> 16;
    if ((fc & LEAF_PAGE_FLAG) === 0 || n === 0 || pw[h + 3]! !== 0) return false;
    // The element table and the first element lie in the chunk, as moveNextSlow requires to cache
    // a leaf (else it takes this step, and loadItem checks each element).
    const elems = off + 16;
    if (elems + n * 16 > pbuf.length) return false;
    const q = elems >>> 2;
    const kStart = elems + pw[q + 1]!;
    const kEnd = kStart + pw[q + 2]!;
    const vEnd = kEnd + pw[q + 3]!;
    if (vEnd > pbuf.length) return false;
    // forwardLeaf, written out: a cold scan runs this function in the interpreter for ~100k
    // steps, where a call costs more than the count.
    const run = this.leafRun < 0 ? 1 : this.leafRun + 1;
    if (run > tx.meta.pgid) throw sharedLeaves(top, tx.meta.pgid, pgid);
    this.leafRun = run;
    parent.index = j;
    // The exhausted entry is a leaf page's too: it becomes this one's (no allocation but the Page).
    top.moveToLeaf(new Page(pbuf, off), n);
    this.leafCount = n;
    this.leafElems = elems;
    const it = this.item;
    it.keyBuf = pbuf;
    it.keyStart = kStart;
    it.keyEnd = kEnd;
    it.valueBuf = pbuf;
    it.valueStart = kEnd;
    it.valueEnd = vEnd;
    it.flags = pw[q]!;
    return true;
  }

  /**
   * moveNext's other cases: the first step on a leaf since its cache was dropped, the move onto
   * the next leaf when nextLeaf cannot make it, and nodes. The next leaf is usually the parent's
   * next child: that page takes the exhausted one's place here; anything else (a node, an empty
   * or non-leaf page, the parent's last child) takes the general walk, advance(). A leaf page
   * reached is cached for moveNext's fast path, unless its element table does not fit in it
   * (then loadItem checks each element).
   */
  private moveNextSlow(): boolean {
    const stack = this.stack;
    const depth = stack.length;
    let top = stack[depth - 1];
    if (top === undefined) return this.noItem();
    if (top.index + 1 < top.leafCount) top.index++;
    else {
      const parent = depth >= 2 ? stack[depth - 2]! : undefined;
      let leaf: ElemRef | undefined;
      if (top.leafCount !== 0 && parent !== undefined && parent.node === undefined && this.bucket.rootNode === undefined) {
        const pp = parent.page!;
        const j = parent.index + 1;
        if (j < pp.count) {
          const p = this.tx.page(pp.branchPgid(j));
          const n = p.count;
          if ((p.flags & LEAF_PAGE_FLAG) !== 0 && n !== 0) {
            parent.index = j;
            top.moveToLeaf(p, n);
            this.forwardLeaf(top);
            leaf = top;
          }
        }
      }
      if (leaf !== undefined) top = leaf;
      else {
        if (!this.advance()) return this.noItem();
        top = stack[stack.length - 1]!;
      }
    }
    this.leafCount = 0;
    if (top.leafCount === 0) return this.loadItem(); // a node
    const p = top.page!;
    const buf = p.buf;
    if (buf !== this.viewBuf) {
      this.viewBuf = buf;
      this.viewAb = buf.buffer;
      this.viewBase = buf.byteOffset;
      this.viewLength = buf.length;
      this.viewWords = wordsOf(buf);
    }
    const elems = p.off + PAGE_HEADER_SIZE;
    if (elems + top.leafCount * LEAF_PAGE_ELEMENT_SIZE <= buf.length) {
      this.leafTop = top;
      this.leafCount = top.leafCount;
      this.leafElems = elems;
    }
    return this.loadItem();
  }

  /** prev(), in place. */
  movePrev(): boolean {
    this.checkOpen();
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const e = this.stack[i]!;
      if (e.index > 0) {
        e.index--;
        break;
      }
      this.truncate(i);
    }
    if (this.stack.length === 0) return this.noItem();
    this.descendLast();
    return this.loadItem();
  }

  /** seek(key), in place: true when there is an item at or after key, then this.item is it. */
  moveTo(key: Uint8Array | string): boolean {
    this.checkOpen();
    this.truncate(0);
    this.search(typeof key === 'string' ? new TextEncoder().encode(key) : key, this.bucket.root);
    const ref = this.top();
    if (ref.index >= ref.count() && !this.advance()) return this.noItem();
    return this.loadItem();
  }

  /** Drops the stack below depth n. */
  private truncate(n: number): void {
    this.stack.length = n;
    this.leafCount = 0;
    if (n === 0) this.leafRun = 0;
  }

  /** Counts a leaf entered going forward (see leafRun): `ref` is its stack entry. */
  private forwardLeaf(ref: ElemRef): void {
    const run = this.leafRun < 0 ? 1 : this.leafRun + 1;
    this.leafRun = run;
    if (run > this.tx.meta.pgid) throw sharedLeaves(ref, this.tx.meta.pgid);
  }

  /** Counts a leaf entered going back (see leafRun). */
  private backwardLeaf(ref: ElemRef): void {
    const run = this.leafRun > 0 ? -1 : this.leafRun - 1;
    this.leafRun = run;
    if (-run > this.tx.meta.pgid) throw sharedLeaves(ref, this.tx.meta.pgid);
  }

  private noItem(): false {
    this.leafCount = 0;
    this.item.clear();
    return false;
  }

  /** Reads the element under the cursor into this.item, checked as keyValue() checks it. */
  private loadItem(): boolean {
    const ref = this.top();
    const count = ref.count();
    if (count === 0 || ref.index >= count) return this.noItem();
    const it = this.item;
    if (ref.node) {
      const inode = ref.node.inodes[ref.index]!;
      it.keyBuf = inode.kbuf;
      it.keyStart = inode.koff;
      it.keyEnd = inode.koff + inode.klen;
      it.valueBuf = inode.vbuf;
      it.valueStart = inode.voff;
      it.valueEnd = inode.voff + inode.vlen;
      it.flags = inode.flags;
      return true;
    }
    const p = ref.page!;
    const buf = p.buf;
    const i = ref.index;
    const e = p.off + PAGE_HEADER_SIZE + i * LEAF_PAGE_ELEMENT_SIZE;
    if (e + LEAF_PAGE_ELEMENT_SIZE > buf.length) throw new CorruptionError(`page ${p.safeId()}: element ${i} lies outside the page`, p.safeId());
    const kStart = e + u32(buf, e + 4);
    const kEnd = kStart + u32(buf, e + 8);
    const vEnd = kEnd + u32(buf, e + 12);
    if (vEnd > buf.length) throw new CorruptionError(`page ${p.safeId()}: element ${i} lies outside the page`, p.safeId());
    it.keyBuf = buf;
    it.keyStart = kStart;
    it.keyEnd = kEnd;
    it.valueBuf = buf;
    it.valueStart = kEnd;
    it.valueEnd = vEnd;
    it.flags = u32(buf, e);
    return true;
  }

  /** Deletes the item under the cursor (not a nested bucket). */
  delete(): void {
    this.checkOpen();
    if (!this.bucket.tx.writable) throw new ErrTxNotWritable();
    const kv = this.keyValue();
    if (kv.flags & BUCKET_LEAF_FLAG) throw new ErrIncompatibleValue();
    if (kv.key === undefined) {
      // Past the last item (after a seek past the end) or in an empty bucket, bbolt still
      // materializes the leaf's path (c.node().del(nil)), so commit writes those pages anew:
      // do the same, for the same bytes. With no position at all bbolt panics; we do nothing.
      if (this.stack.length > 0) this.node();
      return;
    }
    this.node().del(kv.key);
  }

  // ---- internals shared with Bucket ----

  firstKV(): KV {
    this.truncate(0);
    this.push(this.bucket.root);
    this.descendFirst();
    // An empty page can be reached (boltdb#450): move on.
    if (this.top().count() === 0) return this.nextKV();
    return this.keyValue();
  }

  /** Positions at key (or where it would be) without moving past a page end. */
  seekKV(key: Uint8Array): KV {
    this.truncate(0);
    this.search(key, this.bucket.root);
    return this.keyValue();
  }

  private top(): ElemRef {
    return this.stack[this.stack.length - 1]!;
  }

  private descendFirst(): void {
    for (let pushed = false; ; pushed = true) {
      const ref = this.top();
      if (ref.isLeaf()) {
        if (pushed) this.forwardLeaf(ref);
        return;
      }
      this.push(ref.childPgid());
    }
  }

  private descendLast(): void {
    for (let pushed = false; ; pushed = true) {
      const ref = this.top();
      if (ref.isLeaf()) {
        if (pushed) this.backwardLeaf(ref);
        return;
      }
      const next = this.push(ref.childPgid());
      next.index = next.count() - 1;
    }
  }

  nextKV(): KV {
    return this.advance() ? this.keyValue() : NONE;
  }

  /** Moves to the next element (skipping empty pages); false past the end. */
  private advance(): boolean {
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
      this.truncate(i + 1);
      this.descendFirst();
      if (this.top().count() === 0) continue;
      return true;
    }
  }

  private search(key: Uint8Array, pgid: number): void {
    for (;;) {
      const e = this.push(pgid);
      if (e.isLeaf()) {
        this.forwardLeaf(e);
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
        const c = e.node ? compareInodeKey(e.node.inodes[mid]!, key) : e.page!.compareBranchKey(mid, key);
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
        if (compareInodeKey(inodes[mid]!, key) < 0) lo = mid + 1;
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

  /** The element under the cursor as views (a nested bucket's value is its header), as loadItem checks it. */
  keyValue(): KV {
    if (!this.loadItem()) return NONE;
    const it = this.item;
    return { key: view(it.keyBuf, it.keyStart, it.keyEnd), value: view(it.valueBuf, it.valueStart, it.valueEnd), flags: it.flags };
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
