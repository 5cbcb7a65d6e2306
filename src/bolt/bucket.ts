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
  ErrKeyRequired,
  ErrKeyTooLarge,
  ErrTxClosed,
  ErrTxNotWritable,
  ErrValueTooLarge,
} from './errors.js';
import { Node } from './node.js';
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
  put64,
  put64n,
  u32,
  u64,
  u64n,
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

export class Bucket {
  /** Root page id; 0 for an inline bucket. */
  root: number;
  sequenceValue: bigint;
  rootNode: Node | undefined;
  /** Inline page (value bytes after the header), when the bucket is inline. */
  page: Page | undefined;
  /** Child buckets opened in a write transaction, by name (latin1). */
  readonly buckets = new Map<string, Bucket>();
  /** Materialized nodes by page id. */
  readonly nodes = new Map<number, Node>();
  /** Split threshold as a fraction of the page size (0.1..1.0), as bbolt's FillPercent. */
  fillPercent = DEFAULT_FILL_PERCENT;
  /** Nesting depth (root bucket 0), to bound recursion on hostile files. */
  readonly depth: number;

  constructor(
    readonly tx: Tx,
    root: number,
    sequence: bigint,
    depth = 0,
  ) {
    this.root = root;
    this.sequenceValue = sequence;
    this.depth = depth;
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
    this.checkOpen();
    const n = toBytes(name);
    // Only write transactions cache child buckets (as bbolt), so a read transaction skips the
    // map and the key-to-string conversion its lookup needs.
    if (this.tx.writable) {
      const cached = this.buckets.get(byteKey(n));
      if (cached) return cached;
    }
    const c = new Cursor(this);
    const kv = c.seekKV(n);
    if (kv.key === undefined || !equalKeys(n, kv.key) || (kv.flags & BUCKET_LEAF_FLAG) === 0) return undefined;
    const child = this.openBucket(kv.value!);
    if (this.tx.writable) this.buckets.set(byteKey(n), child);
    return child;
  }

  /** Decodes a bucket header value into a Bucket. */
  openBucket(value: Uint8Array): Bucket {
    if (value.length < BUCKET_HEADER_SIZE) throw new CorruptionError(`bucket value of ${value.length} bytes is shorter than a bucket header`);
    if (this.depth + 1 > MAX_DEPTH) throw new CorruptionError(`buckets nested deeper than ${MAX_DEPTH} levels`);
    const root = u64n(value, 0, 'bucket root');
    const child = new Bucket(this.tx, root, u64(value, 8), this.depth + 1);
    if (root === 0) {
      if (value.length < BUCKET_HEADER_SIZE + PAGE_HEADER_SIZE) throw new CorruptionError(`inline bucket value of ${value.length} bytes is too short`);
      child.page = new Page(value, BUCKET_HEADER_SIZE);
    }
    return child;
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
    const bucket = new Bucket(this.tx, 0, 0n, this.depth + 1);
    const root = new Node(bucket);
    root.isLeaf = true;
    bucket.rootNode = root;
    const value = bucket.write();
    const k = key.slice();
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
    child.free();
    c.node().del(key);
  }

  /** The value of `key`, or undefined when missing or a nested bucket. Valid for the transaction. */
  get(key: Bytes): Uint8Array | undefined {
    this.checkOpen();
    const k = toBytes(key);
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
    const c = new Cursor(this);
    const kv = c.seekKV(k);
    if (kv.key !== undefined && equalKeys(k, kv.key) && kv.flags & BUCKET_LEAF_FLAG) throw new ErrIncompatibleValue();
    // Copy both: the caller may reuse its buffers before commit.
    const kc = k.slice();
    c.node().put(kc, kc, v.slice(), 0, 0);
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
    const c = new Cursor(this);
    for (let e = c.first(); e; e = c.next()) fn(e[0], e[1]);
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

  /** Materializes the node for page `pgid` (child of `parent`). */
  node(pgid: number, parent: Node | undefined): Node {
    const existing = this.nodes.get(pgid);
    if (existing) return existing;
    const n = new Node(this);
    n.parent = parent;
    if (!parent) this.rootNode = n;
    else parent.children.push(n);
    const p = this.page ?? this.tx.page(pgid);
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
    for (const n of [...this.nodes.values()]) if (this.nodes.get(n.pgid) === n) n.rebalance();
    for (const child of this.buckets.values()) child.rebalance();
  }

  /** Writes dirty nodes to pages; child buckets first, in key order (deterministic). */
  spill(): void {
    const names = [...this.buckets.entries()].sort((a, b) => compareKeys(Buffer.from(a[0], 'latin1'), Buffer.from(b[0], 'latin1')));
    for (const [nameKey, child] of names) {
      let value: Uint8Array;
      if (child.inlineable()) {
        child.free();
        value = child.write();
      } else {
        child.spill();
        value = new Uint8Array(BUCKET_HEADER_SIZE);
        put64n(value, 0, child.root);
        put64(value, 8, child.sequenceValue);
      }
      if (!child.rootNode) continue;
      const name = new Uint8Array(Buffer.from(nameKey, 'latin1'));
      const c = new Cursor(this);
      const kv = c.seekKV(name);
      if (kv.key === undefined || !equalKeys(name, kv.key)) throw new Error(`misplaced bucket header: ${Buffer.from(name).toString('hex')}`);
      if ((kv.flags & BUCKET_LEAF_FLAG) === 0) throw new Error(`unexpected bucket header flag: ${kv.flags}`);
      c.node().put(name, name, value, 0, BUCKET_LEAF_FLAG);
    }
    if (!this.rootNode) return;
    this.rootNode.spill();
    this.rootNode = this.rootNode.root();
    if (this.rootNode.pgid >= this.tx.meta.pgid) throw new Error(`pgid (${this.rootNode.pgid}) above high water mark (${this.tx.meta.pgid})`);
    this.root = this.rootNode.pgid;
  }

  /** True when the bucket can be stored inline in its parent's leaf. */
  inlineable(): boolean {
    const n = this.rootNode;
    if (!n || !n.isLeaf) return false;
    let size = PAGE_HEADER_SIZE;
    const max = this.tx.db.pageSize / 4;
    for (const inode of n.inodes) {
      size += LEAF_PAGE_ELEMENT_SIZE + inode.key.length + inode.value.length;
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
    put64(value, 8, this.sequenceValue);
    n.write(value, BUCKET_HEADER_SIZE);
    return value;
  }

  /** Page and key statistics of this bucket and all nested buckets, as bbolt's Bucket.Stats. */
  stats(): BucketStats {
    this.checkOpen();
    const s = emptyStats();
    const sub = emptyStats();
    const pageSize = this.tx.db.pageSize;
    s.bucketN += 1;
    if (this.root === 0) s.inlineBucketN += 1;
    this.forEachPage((p, depth) => {
      const flags = p.flags;
      const count = p.count;
      if (flags & LEAF_PAGE_FLAG) {
        s.keyN += count;
        let used = PAGE_HEADER_SIZE;
        if (count !== 0) {
          used += LEAF_PAGE_ELEMENT_SIZE * (count - 1);
          const e = p.off + PAGE_HEADER_SIZE + (count - 1) * LEAF_PAGE_ELEMENT_SIZE;
          used += u32(p.buf, e + 4) + u32(p.buf, e + 8) + u32(p.buf, e + 12);
        }
        if (this.root === 0) s.inlineBucketInuse += used;
        else {
          s.leafPageN++;
          s.leafInuse += used;
          s.leafOverflowN += p.overflow;
          for (let i = 0; i < count; i++) {
            if (p.leafFlags(i) & BUCKET_LEAF_FLAG) addStats(sub, this.openBucket(p.leafValue(i)).stats());
          }
        }
      } else if (flags & BRANCH_PAGE_FLAG) {
        s.branchPageN++;
        const e = p.off + PAGE_HEADER_SIZE + ((count - 1) & 0xffff) * BRANCH_PAGE_ELEMENT_SIZE;
        let used = PAGE_HEADER_SIZE + BRANCH_PAGE_ELEMENT_SIZE * ((count - 1) & 0xffff);
        used += u32(p.buf, e) + u32(p.buf, e + 4);
        s.branchInuse += used;
        s.branchOverflowN += p.overflow;
      }
      if (depth + 1 > s.depth) s.depth = depth + 1;
    });
    s.branchAlloc = (s.branchPageN + s.branchOverflowN) * pageSize;
    s.leafAlloc = (s.leafPageN + s.leafOverflowN) * pageSize;
    s.depth += sub.depth;
    addStats(s, sub);
    return s;
  }
}
