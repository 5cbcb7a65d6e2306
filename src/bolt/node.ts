// In-memory nodes: the writable form of a page. A write transaction reads the pages it
// changes into nodes ("materializes" them); at commit the nodes are rebalanced, split to
// fit pages ("spilled") and written to newly allocated pages. Mirrors bbolt's node.go.

import type { Bucket } from './bucket.js';
import {
  BRANCH_PAGE_ELEMENT_SIZE,
  BRANCH_PAGE_FLAG,
  LEAF_PAGE_ELEMENT_SIZE,
  LEAF_PAGE_FLAG,
  MIN_KEYS_PER_PAGE,
  PAGE_HEADER_SIZE,
  Page,
  compareAt,
  put16,
  put32,
  put64n,
  u32,
  wordsOf,
} from './page.js';
import { CorruptionError, ErrInternal } from './errors.js';

/**
 * One element of a node, its key and value as ranges rather than views:
 *
 *   key   = kbuf[koff, koff + klen)
 *   value = vbuf[voff, voff + vlen)      (empty in a branch node)
 *
 * An element read from a page points into the page's bytes (kbuf === vbuf, the value right
 * after the key, as the page lays them out); one put by this transaction points at the copies
 * put made (offset 0, the whole array). No view is made per element: a write transaction that
 * changes one key of a page reads all of the page's elements into a node, and two views each
 * (~20 ns and ~90 bytes apiece in V8) were most of that cost. inodeKey makes a view of a key
 * where one is needed (a node's first key); the cursor makes its own from the ranges.
 */
export interface Inode {
  flags: number;
  pgid: number;
  kbuf: Uint8Array;
  koff: number;
  klen: number;
  vbuf: Uint8Array;
  voff: number;
  vlen: number;
}

/** An inode whose key and value are whole arrays (a put, a branch entry for a spilled child). */
function wholeInode(flags: number, pgid: number, key: Uint8Array, value: Uint8Array): Inode {
  return { flags, pgid, kbuf: key, koff: 0, klen: key.length, vbuf: value, voff: 0, vlen: value.length };
}

/** Makes `i` the inode wholeInode would make. */
function setWhole(i: Inode, flags: number, pgid: number, key: Uint8Array, value: Uint8Array): void {
  i.flags = flags;
  i.pgid = pgid;
  i.kbuf = key;
  i.koff = 0;
  i.klen = key.length;
  i.vbuf = value;
  i.voff = 0;
  i.vlen = value.length;
}

/** buf[off, off + len) as a view; buf itself when that is all of it. */
function rangeView(buf: Uint8Array, off: number, len: number): Uint8Array {
  return off === 0 && len === buf.length ? buf : new Uint8Array(buf.buffer, buf.byteOffset + off, len);
}

/** The inode's key as a view (valid for the transaction, like every view of a page). */
function inodeKey(i: Inode): Uint8Array {
  return rangeView(i.kbuf, i.koff, i.klen);
}

/** compareKeys(inodeKey(i), key) without the view. */
export function compareInodeKey(i: Inode, key: Uint8Array): number {
  return compareAt(i.kbuf, i.koff, i.klen, key);
}

/** equalKeys(inodeKey(i), key) without the view. */
export function inodeKeyEquals(i: Inode, key: Uint8Array): boolean {
  const n = i.klen;
  if (n !== key.length) return false;
  const b = i.kbuf;
  const o = i.koff;
  for (let j = 0; j < n; j++) if (b[o + j] !== key[j]) return false;
  return true;
}

/** compareKeys of two inodes' keys (an absent inode sorts as the empty key). */
export function compareInodes(a: Inode | undefined, b: Inode | undefined): number {
  if (a === undefined || b === undefined) return (a === undefined ? 0 : a.klen) - (b === undefined ? 0 : b.klen);
  const ab = a.kbuf;
  const ao = a.koff;
  const bb = b.kbuf;
  const bo = b.koff;
  const n = a.klen < b.klen ? a.klen : b.klen;
  for (let j = 0; j < n; j++) {
    const d = ab[ao + j]! - bb[bo + j]!;
    if (d !== 0) return d;
  }
  return a.klen - b.klen;
}

/**
 * dst[doff, doff + len) = src[soff, soff + len). A byte loop for short ranges (most keys), where
 * TypedArray.prototype.set's call and the view it needs cost more than the copy.
 */
function copyRange(dst: Uint8Array, doff: number, src: Uint8Array, soff: number, len: number): void {
  if (len <= 32) {
    for (let j = 0; j < len; j++) dst[doff + j] = src[soff + j]!;
  } else if (soff === 0 && len === src.length) dst.set(src, doff);
  else dst.set(new Uint8Array(src.buffer, src.byteOffset + soff, len), doff);
}

const EMPTY = new Uint8Array(0);
export const MIN_FILL_PERCENT = 0.1;
export const MAX_FILL_PERCENT = 1.0;

export class Node {
  isLeaf = false;
  unbalanced = false;
  spilled = false;
  key: Uint8Array | undefined;
  pgid = 0;
  parent: Node | undefined;
  children: Node[] = [];
  inodes: Inode[] = [];

  constructor(readonly bucket: Bucket) {}

  root(): Node {
    let n: Node = this;
    while (n.parent) n = n.parent;
    return n;
  }

  minKeys(): number {
    return this.isLeaf ? 1 : 2;
  }

  /** Size of the node once written to a page. */
  size(): number {
    const elsz = this.isLeaf ? LEAF_PAGE_ELEMENT_SIZE : BRANCH_PAGE_ELEMENT_SIZE;
    let sz = PAGE_HEADER_SIZE;
    for (const i of this.inodes) sz += elsz + i.klen + i.vlen;
    return sz;
  }

  pageElementSize(): number {
    return this.isLeaf ? LEAF_PAGE_ELEMENT_SIZE : BRANCH_PAGE_ELEMENT_SIZE;
  }

  childAt(index: number): Node {
    if (this.isLeaf) throw new CorruptionError(`invalid childAt(${index}) on a leaf node`, this.pgid);
    return this.bucket.node(this.inodes[index]!.pgid, this);
  }

  /** Index of the first inode whose key is >= key. */
  private search(key: Uint8Array): number {
    let lo = 0,
      hi = this.inodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareInodeKey(this.inodes[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  childIndex(child: Node): number {
    return this.search(child.key ?? EMPTY);
  }

  numChildren(): number {
    return this.inodes.length;
  }

  nextSibling(): Node | undefined {
    if (!this.parent) return undefined;
    const idx = this.parent.childIndex(this);
    if (idx >= this.parent.numChildren() - 1) return undefined;
    return this.parent.childAt(idx + 1);
  }

  prevSibling(): Node | undefined {
    if (!this.parent) return undefined;
    const idx = this.parent.childIndex(this);
    if (idx === 0) return undefined;
    return this.parent.childAt(idx - 1);
  }

  /** Inserts or replaces the inode at oldKey. */
  put(oldKey: Uint8Array, newKey: Uint8Array, value: Uint8Array, pgid: number, flags: number): void {
    if (pgid >= this.bucket.tx.meta.pgid) throw new CorruptionError(`pgid (${pgid}) above high water mark (${this.bucket.tx.meta.pgid})`, pgid);
    if (oldKey.length === 0) throw new ErrInternal('put: zero-length old key');
    if (newKey.length === 0) throw new ErrInternal('put: zero-length new key');
    const index = this.search(oldKey);
    const exact = index < this.inodes.length && inodeKeyEquals(this.inodes[index]!, oldKey);
    if (exact) setWhole(this.inodes[index]!, flags, pgid, newKey, value);
    else this.inodes.splice(index, 0, wholeInode(flags, pgid, newKey, value));
  }

  /**
   * put(key, key, value, 0, flags) when the caller knows `index`, the first inode whose key is
   * >= key (the search put would repeat), and has checked the key is not empty.
   */
  putAt(index: number, key: Uint8Array, value: Uint8Array, flags: number): void {
    const inodes = this.inodes;
    if (index < inodes.length && inodeKeyEquals(inodes[index]!, key)) setWhole(inodes[index]!, flags, 0, key, value);
    else if (index === inodes.length) inodes.push(wholeInode(flags, 0, key, value));
    else inodes.splice(index, 0, wholeInode(flags, 0, key, value));
  }

  del(key: Uint8Array): void {
    const index = this.search(key);
    if (index >= this.inodes.length || !inodeKeyEquals(this.inodes[index]!, key)) return;
    this.inodes.splice(index, 1);
    this.unbalanced = true;
  }

  /**
   * Loads the node from a page: an inode per element, its key and value as ranges of the page's
   * bytes, with the checks Page.leafKey/leafValue/branchKey/branchPgid make and their errors.
   * Written out: a random-write transaction reads ~1,000 leaves of ~30 elements each, and a call
   * per field and four byte loads per u32 were most of it.
   */
  read(p: Page): void {
    this.pgid = p.id;
    const buf = p.buf;
    const off = p.off;
    const leaf = (buf[off + 8]! & LEAF_PAGE_FLAG) !== 0;
    this.isLeaf = leaf;
    const count = buf[off + 10]! | (buf[off + 11]! << 8);
    const inodes = new Array<Inode>(count);
    const len = buf.length;
    // Element headers as u32 words when they are aligned (a page of the mapped file).
    const w = (off & 3) === 0 ? wordsOf(buf) : undefined;
    for (let i = 0; i < count; i++) {
      const e = off + 16 + i * 16;
      if (e + 16 > len) throw new CorruptionError(`page ${p.safeId()}: element ${i} lies outside the page`, p.safeId());
      const q = e >>> 2;
      const f0 = w !== undefined ? w[q]! : u32(buf, e);
      const f1 = w !== undefined ? w[q + 1]! : u32(buf, e + 4);
      const f2 = w !== undefined ? w[q + 2]! : u32(buf, e + 8);
      const f3 = w !== undefined ? w[q + 3]! : u32(buf, e + 12);
      if (leaf) {
        // flags, pos, ksize, vsize
        const kStart = e + f1;
        const vStart = kStart + f2;
        const vEnd = vStart + f3;
        if (vEnd > len || vStart > len) throw new CorruptionError(`page ${p.safeId()}: element ${i} lies outside the page`, p.safeId());
        inodes[i] = { flags: f0, pgid: 0, kbuf: buf, koff: kStart, klen: f2, vbuf: buf, voff: vStart, vlen: f3 };
      } else {
        // pos, ksize, pgid (u64)
        if (f3 >= 0x200000) p.branchPgid(i); // throws: past 2^53
        const kStart = e + f0;
        if (kStart + f1 > len) throw new CorruptionError(`page ${p.safeId()}: element ${i} lies outside the page`, p.safeId());
        inodes[i] = { flags: 0, pgid: f3 === 0 ? f2 : f3 * 0x100000000 + f2 /* as u64n */, kbuf: buf, koff: kStart, klen: f1, vbuf: EMPTY, voff: 0, vlen: 0 };
      }
    }
    this.inodes = inodes;
    this.key = count > 0 ? inodeKey(inodes[0]!) : undefined;
  }

  /**
   * Writes the node into a page buffer at `buf[off]` (header id/overflow already set). Inodes
   * read from one page and still in their page order lie back to back there (the value right
   * after its key, the next key right after the value), so each such run is copied at once.
   */
  write(buf: Uint8Array, off: number): void {
    const flagsOff = off + 8;
    const leaf = this.isLeaf;
    buf[flagsOff] = buf[flagsOff]! | (leaf ? LEAF_PAGE_FLAG : BRANCH_PAGE_FLAG);
    const inodes = this.inodes;
    const n = inodes.length;
    if (n >= 0xffff) throw new ErrInternal(`inode overflow: ${n} (pgid=${this.pgid})`);
    put16(buf, off + 10, n);
    if (n === 0) return;
    let data = off + PAGE_HEADER_SIZE + 16 * n;
    // The pending run: src[runOff, runEnd) goes to buf[runDst, ...).
    let src: Uint8Array = EMPTY;
    let runOff = 0;
    let runEnd = 0;
    let runDst = data;
    for (let i = 0; i < n; i++) {
      const item = inodes[i]!;
      const e = off + PAGE_HEADER_SIZE + 16 * i;
      const klen = item.klen;
      const vlen = item.vlen;
      if (leaf) {
        put32(buf, e, item.flags);
        put32(buf, e + 4, data - e);
        put32(buf, e + 8, klen);
        put32(buf, e + 12, vlen);
      } else {
        put32(buf, e, data - e);
        put32(buf, e + 4, klen);
        put64n(buf, e + 8, item.pgid);
      }
      const kbuf = item.kbuf;
      const koff = item.koff;
      if (kbuf === src && koff === runEnd) runEnd += klen;
      else {
        if (runEnd > runOff) copyRange(buf, runDst, src, runOff, runEnd - runOff);
        src = kbuf;
        runOff = koff;
        runEnd = koff + klen;
        runDst = data;
      }
      data += klen;
      if (vlen > 0) {
        if (item.vbuf === src && item.voff === runEnd) runEnd += vlen;
        else {
          if (runEnd > runOff) copyRange(buf, runDst, src, runOff, runEnd - runOff);
          src = item.vbuf;
          runOff = item.voff;
          runEnd = runOff + vlen;
          runDst = data;
        }
        data += vlen;
      }
    }
    if (runEnd > runOff) copyRange(buf, runDst, src, runOff, runEnd - runOff);
  }

  /**
   * Splits into nodes that each fit a page (the first is this node): bbolt's split/splitTwo,
   * cutting the one inode array once per node rather than re-slicing the rest at each cut
   * (a 1,000-key leaf became 32 copies of what was left of it).
   */
  split(pageSize: number): Node[] {
    const nodes: Node[] = [];
    const all = this.inodes;
    const elsz = this.pageElementSize();
    let node: Node = this;
    let start = 0;
    for (;;) {
      // splitTwo's test: few enough inodes, or they fit in a page.
      if (all.length - start <= MIN_KEYS_PER_PAGE * 2 || sizeLessThanFrom(all, start, elsz, pageSize)) break;
      let fill = this.bucket.fillPercent;
      if (fill < MIN_FILL_PERCENT) fill = MIN_FILL_PERCENT;
      else if (fill > MAX_FILL_PERCENT) fill = MAX_FILL_PERCENT;
      const threshold = Math.trunc(pageSize * fill);
      const splitIndex = splitIndexFrom(all, start, elsz, threshold);
      if (!node.parent) {
        const parent = new Node(this.bucket);
        parent.children = [node];
        node.parent = parent;
      }
      const next = new Node(this.bucket);
      next.isLeaf = node.isLeaf;
      next.parent = node.parent;
      node.parent.children.push(next);
      node.inodes = all.slice(start, start + splitIndex);
      this.bucket.tx.stats.split++;
      nodes.push(node);
      start += splitIndex;
      node = next;
    }
    node.inodes = start === 0 ? all : all.slice(start);
    nodes.push(node);
    return nodes;
  }

  /** Writes this node and its children to dirty pages, splitting as needed. */
  spill(): void {
    const tx = this.bucket.tx;
    if (this.spilled) return;
    // Children first, in key order. Spilling a child can add siblings, so re-read length.
    this.children.sort((a, b) => compareInodes(a.inodes[0], b.inodes[0]));
    for (let i = 0; i < this.children.length; i++) this.children[i]!.spill();
    this.children = [];

    const nodes = this.split(tx.db.pageSize);
    for (const node of nodes) {
      if (node.pgid > 0) {
        tx.freePage(node.pgid);
        node.pgid = 0;
      }
      const count = Math.floor((node.size() + tx.db.pageSize - 1) / tx.db.pageSize);
      const p = tx.allocate(count);
      if (p.id >= tx.meta.pgid) throw new CorruptionError(`pgid (${p.id}) above high water mark (${tx.meta.pgid})`, p.id);
      node.pgid = p.id;
      node.write(p.buf, 0);
      node.spilled = true;
      if (node.parent) {
        const first = inodeKey(node.inodes[0]!);
        node.parent.put(node.key ?? first, first, EMPTY, node.pgid, 0);
        node.key = first;
      }
      tx.stats.spill++;
    }
    // If the root split, spill the new root too.
    if (this.parent && this.parent.pgid === 0) {
      this.children = [];
      this.parent.spill();
    }
  }

  /** Merges a node that lost keys into a sibling when it is under 25% full. */
  rebalance(): void {
    if (!this.unbalanced) return;
    this.unbalanced = false;
    const b = this.bucket;
    b.tx.stats.rebalance++;
    const threshold = b.tx.db.pageSize / 4;
    if (this.size() > threshold && this.inodes.length > this.minKeys()) return;

    if (!this.parent) {
      // A root branch with one child collapses into that child.
      if (!this.isLeaf && this.inodes.length === 1) {
        const child = b.node(this.inodes[0]!.pgid, this);
        this.isLeaf = child.isLeaf;
        this.inodes = child.inodes.slice();
        this.children = child.children;
        for (const inode of this.inodes) {
          const c = b.nodes.get(inode.pgid);
          if (c) c.parent = this;
        }
        child.parent = undefined;
        b.nodes.delete(child.pgid);
        child.free();
      }
      return;
    }

    const parent = this.parent;
    if (this.numChildren() === 0) {
      parent.del(this.key ?? EMPTY);
      parent.removeChild(this);
      b.nodes.delete(this.pgid);
      this.free();
      parent.rebalance();
      return;
    }

    if (parent.numChildren() <= 1) throw new CorruptionError(`page ${parent.pgid}: a branch with ${parent.numChildren()} child under a node being merged (a branch needs at least 2)`, parent.pgid);
    const useNextSibling = parent.childIndex(this) === 0;
    const target = useNextSibling ? this.nextSibling() : this.prevSibling();
    if (!target) throw new CorruptionError(`page ${parent.pgid}: no sibling for a node being merged (branch keys out of order?)`, parent.pgid);
    if (useNextSibling) {
      for (const inode of target.inodes) {
        const child = b.nodes.get(inode.pgid);
        if (child) {
          child.parent!.removeChild(child);
          child.parent = this;
          this.children.push(child);
        }
      }
      this.inodes = this.inodes.concat(target.inodes);
      parent.del(target.key ?? EMPTY);
      parent.removeChild(target);
      b.nodes.delete(target.pgid);
      target.free();
    } else {
      for (const inode of this.inodes) {
        const child = b.nodes.get(inode.pgid);
        if (child) {
          child.parent!.removeChild(child);
          child.parent = target;
          target.children.push(child);
        }
      }
      target.inodes = target.inodes.concat(this.inodes);
      parent.del(this.key ?? EMPTY);
      parent.removeChild(this);
      b.nodes.delete(this.pgid);
      this.free();
    }
    parent.rebalance();
  }

  removeChild(target: Node): void {
    const i = this.children.indexOf(target);
    if (i >= 0) this.children.splice(i, 1);
  }

  /** Returns this node's page to the freelist (pending). */
  free(): void {
    if (this.pgid !== 0) {
      this.bucket.tx.freePage(this.pgid);
      this.pgid = 0;
    }
  }
}

/** True when the inodes from `start` on fit in a node of less than `v` bytes (bbolt's sizeLessThan). */
function sizeLessThanFrom(inodes: Inode[], start: number, elsz: number, v: number): boolean {
  let sz = PAGE_HEADER_SIZE;
  for (let i = start; i < inodes.length; i++) {
    const inode = inodes[i]!;
    sz += elsz + inode.klen + inode.vlen;
    if (sz >= v) return false;
  }
  return true;
}

/** bbolt's splitIndex over the inodes from `start` on; returns an index relative to `start`. */
function splitIndexFrom(inodes: Inode[], start: number, elsz: number, threshold: number): number {
  let sz = PAGE_HEADER_SIZE;
  let index = 0;
  const n = inodes.length - start;
  for (let i = 0; i < n - MIN_KEYS_PER_PAGE; i++) {
    index = i;
    const inode = inodes[start + i]!;
    const s = elsz + inode.klen + inode.vlen;
    if (i >= MIN_KEYS_PER_PAGE && sz + s > threshold) break;
    sz += s;
  }
  return index;
}
