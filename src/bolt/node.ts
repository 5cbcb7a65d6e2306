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
  compareKeys,
  equalKeys,
  put16,
  put32,
  put64n,
  u32,
  wordsOf,
} from './page.js';
import { CorruptionError, ErrInternal } from './errors.js';

export interface Inode {
  flags: number;
  pgid: number;
  key: Uint8Array;
  value: Uint8Array;
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
    for (const i of this.inodes) sz += elsz + i.key.length + i.value.length;
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
      if (compareKeys(this.inodes[mid]!.key, key) < 0) lo = mid + 1;
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
    const exact = index < this.inodes.length && equalKeys(this.inodes[index]!.key, oldKey);
    if (exact) {
      const inode = this.inodes[index]!;
      inode.flags = flags;
      inode.key = newKey;
      inode.value = value;
      inode.pgid = pgid;
    } else {
      this.inodes.splice(index, 0, { flags, key: newKey, value, pgid });
    }
  }

  /**
   * put(key, key, value, 0, flags) when the caller knows `index`, the first inode whose key is
   * >= key (the search put would repeat), and has checked the key is not empty.
   */
  putAt(index: number, key: Uint8Array, value: Uint8Array, flags: number): void {
    const inodes = this.inodes;
    if (index < inodes.length && equalKeys(inodes[index]!.key, key)) {
      const inode = inodes[index]!;
      inode.flags = flags;
      inode.key = key;
      inode.value = value;
      inode.pgid = 0;
    } else if (index === inodes.length) inodes.push({ flags, key, value, pgid: 0 });
    else inodes.splice(index, 0, { flags, key, value, pgid: 0 });
  }

  del(key: Uint8Array): void {
    const index = this.search(key);
    if (index >= this.inodes.length || !equalKeys(this.inodes[index]!.key, key)) return;
    this.inodes.splice(index, 1);
    this.unbalanced = true;
  }

  /**
   * Loads the node from a page: an inode per element, its key and value views of the page (as
   * Page.leafKey/leafValue/branchKey/branchPgid make them, with the same checks and errors).
   * Written out: a random-write transaction reads ~1,000 leaves of ~30 elements each, and a call
   * per field, a `.buffer` (a call into C++) per view and four byte loads per u32 were most of it.
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
    const ab = buf.buffer;
    const base = buf.byteOffset;
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
        inodes[i] = { flags: f0, pgid: 0, key: new Uint8Array(ab, base + kStart, f2), value: new Uint8Array(ab, base + vStart, f3) };
      } else {
        // pos, ksize, pgid (u64)
        if (f3 >= 0x200000) p.branchPgid(i); // throws: past 2^53
        const kStart = e + f0;
        if (kStart + f1 > len) throw new CorruptionError(`page ${p.safeId()}: element ${i} lies outside the page`, p.safeId());
        inodes[i] = { flags: 0, pgid: f3 === 0 ? f2 : f3 * 0x100000000 + f2 /* as u64n */, key: new Uint8Array(ab, base + kStart, f1), value: EMPTY };
      }
    }
    this.inodes = inodes;
    this.key = count > 0 ? inodes[0]!.key : undefined;
  }

  /** Writes the node into a page buffer at `buf[off]` (header id/overflow already set). */
  write(buf: Uint8Array, off: number): void {
    const flagsOff = off + 8;
    buf[flagsOff] = buf[flagsOff]! | (this.isLeaf ? LEAF_PAGE_FLAG : BRANCH_PAGE_FLAG);
    const n = this.inodes.length;
    if (n >= 0xffff) throw new ErrInternal(`inode overflow: ${n} (pgid=${this.pgid})`);
    put16(buf, off + 10, n);
    if (n === 0) return;
    let data = off + PAGE_HEADER_SIZE + 16 * n;
    for (let i = 0; i < n; i++) {
      const item = this.inodes[i]!;
      const e = off + PAGE_HEADER_SIZE + 16 * i;
      if (this.isLeaf) {
        put32(buf, e, item.flags);
        put32(buf, e + 4, data - e);
        put32(buf, e + 8, item.key.length);
        put32(buf, e + 12, item.value.length);
      } else {
        put32(buf, e, data - e);
        put32(buf, e + 4, item.key.length);
        put64n(buf, e + 8, item.pgid);
      }
      buf.set(item.key, data);
      data += item.key.length;
      buf.set(item.value, data);
      data += item.value.length;
    }
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
    this.children.sort((a, b) => compareKeys(a.inodes[0]?.key ?? EMPTY, b.inodes[0]?.key ?? EMPTY));
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
        const key = node.key ?? node.inodes[0]!.key;
        node.parent.put(key, node.inodes[0]!.key, EMPTY, node.pgid, 0);
        node.key = node.inodes[0]!.key;
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
    sz += elsz + inode.key.length + inode.value.length;
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
    const s = elsz + inode.key.length + inode.value.length;
    if (i >= MIN_KEYS_PER_PAGE && sz + s > threshold) break;
    sz += s;
  }
  return index;
}
