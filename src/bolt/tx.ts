// Transactions. A read transaction sees the database as of the meta it started from, for as
// long as it is open (the pages it can reach are not reused until it closes). A write
// transaction changes nodes in memory and, on commit, writes them to fresh pages, then the
// freelist, then the meta page for txid % 2. Mirrors bbolt's tx.go.

import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { Bucket, type Bytes, type BucketStats } from './bucket.js';
import type { DB } from './db.js';
import type { Cursor } from './cursor.js';
import { CorruptionError, ErrManagedTx, ErrTxClosed, ErrTxNotWritable } from './errors.js';
import type { DataSource } from './file.js';
import { copyMeta, writeMeta, type Meta } from './meta.js';
import { FREELIST_PAGE_FLAG, Page, put64n } from './page.js';
import { checkTx } from './check.js';
import { MAX_DEPTH } from './cursor.js';

const SLAB_SIZE = 64 * 1024;
const SLAB_MAX_COPY = 512;
/** Largest write of consecutive dirty pages. */
const MAX_WRITE_RUN = 4 << 20;
/** Dirty-page arenas double from 16 KiB to 1 MiB; a page run larger than a quarter of that gets its own buffer. */
const PAGE_ARENA_FIRST = 16 * 1024;
const PAGE_ARENA_MAX = 1 << 20;

export interface TxStats {
  pageCount: number;
  pageAlloc: number;
  cursorCount: number;
  nodeCount: number;
  nodeDeref: number;
  rebalance: number;
  rebalanceTime: number;
  split: number;
  spill: number;
  spillTime: number;
  write: number;
  writeTime: number;
}

export function emptyTxStats(): TxStats {
  return { pageCount: 0, pageAlloc: 0, cursorCount: 0, nodeCount: 0, nodeDeref: 0, rebalance: 0, rebalanceTime: 0, split: 0, spill: 0, spillTime: 0, write: 0, writeTime: 0 };
}

/** A page being written by this transaction: `buf` holds (overflow + 1) pages. */
export interface DirtyPage {
  id: number;
  buf: Uint8Array;
}

/** True when pages[i..j) lie one after another in one ArrayBuffer (see Tx.pageBytes). */
function adjacent(pages: DirtyPage[], i: number, j: number): boolean {
  const ab = pages[i]!.buf.buffer;
  let end = pages[i]!.buf.byteOffset + pages[i]!.buf.length;
  for (let k = i + 1; k < j; k++) {
    const b = pages[k]!.buf;
    if (b.buffer !== ab || b.byteOffset !== end) return false;
    end += b.length;
  }
  return true;
}

export class Tx {
  readonly writable: boolean;
  meta: Meta;
  readonly root: Bucket;
  /** Dirty pages by id (write transactions). */
  pages: Map<number, DirtyPage> | undefined;
  /** The mapping this transaction reads from (kept alive by the reference). */
  readonly data: DataSource;
  closed = false;
  /** Set while inside db.update/db.view: commit and rollback belong to them. */
  managed = false;
  readonly stats: TxStats = emptyTxStats();
  private commitHandlers: (() => void)[] = [];
  /** Where copyBytes carves its copies from. */
  private slab: Uint8Array | undefined;
  /** slab.buffer, kept because reading .buffer is a call into C++ (~8 ns) per view. */
  private slabAb: ArrayBuffer | undefined;
  private slabUsed = 0;
  /** Size of the next slab: doubling from 1 KiB, so a one-key transaction does not zero 64 KiB. */
  private slabNext = 1024;
  /** Where pageBytes carves dirty pages from (zeroed, never reused), and its ArrayBuffer. */
  private arena: Uint8Array | undefined;
  private arenaAb: ArrayBuffer | undefined;
  private arenaUsed = 0;
  private arenaNext = PAGE_ARENA_FIRST;

  constructor(
    readonly db: DB,
    writable: boolean,
  ) {
    this.writable = writable;
    this.meta = copyMeta(db.currentMeta());
    this.data = db.dataSource();
    this.root = new Bucket(this, this.meta.root);
    this.root.sequenceValue = this.meta.sequence;
    if (writable) {
      this.pages = new Map();
      this.meta.txid += 1;
    }
  }

  /** The transaction id. */
  id(): number {
    return this.meta.txid;
  }

  /** Size of the database this transaction sees, in bytes. */
  size(): number {
    return this.meta.pgid * this.db.pageSize;
  }

  private checkOpen(): void {
    if (this.closed) throw new ErrTxClosed();
  }

  cursor(): Cursor {
    return this.root.cursor();
  }

  bucket(name: Bytes): Bucket | undefined {
    return this.root.bucket(name);
  }
  createBucket(name: Bytes): Bucket {
    return this.root.createBucket(name);
  }
  createBucketIfNotExists(name: Bytes): Bucket {
    return this.root.createBucketIfNotExists(name);
  }
  deleteBucket(name: Bytes): void {
    this.root.deleteBucket(name);
  }

  /** Calls fn for every top-level bucket, in name order. */
  forEach(fn: (name: Uint8Array, bucket: Bucket) => void): void {
    this.root.forEach((k) => fn(k, this.root.bucket(k)!));
  }

  /**
   * @internal A copy of `b` for the transaction's nodes (keys and values put). Small copies are
   * views into a shared slab (up to 64 KiB): an ArrayBuffer per key and per value (what slice()
   * makes) cost more than the rest of a put, in time and in memory.
   */
  copyBytes(b: Uint8Array): Uint8Array {
    const n = b.length;
    if (n > SLAB_MAX_COPY) return b.slice();
    let slab = this.slab;
    let off = this.slabUsed;
    if (slab === undefined || off + n > slab.length) {
      const size = this.slabNext;
      if (size < SLAB_SIZE) this.slabNext = size * 2;
      const ab = new ArrayBuffer(size);
      slab = this.slab = new Uint8Array(ab);
      this.slabAb = ab;
      off = 0;
    }
    if (n <= 16) for (let i = 0; i < n; i++) slab[off + i] = b[i]!;
    else slab.set(b, off);
    this.slabUsed = off + n;
    return new Uint8Array(this.slabAb!, off, n);
  }

  /**
   * `n` zeroed bytes for dirty pages: a view into a per-transaction arena. An ArrayBuffer per
   * page (allocation, zeroing, external-memory accounting) cost more than writing the node
   * into it, and pages allocated one after another for consecutive ids lie one after another
   * in the arena, so writePages writes them without copying them into one buffer first.
   */
  pageBytes(n: number): Uint8Array {
    if (n > PAGE_ARENA_MAX / 4) return new Uint8Array(n);
    let arena = this.arena;
    let off = this.arenaUsed;
    if (arena === undefined || off + n > arena.length) {
      let size = this.arenaNext;
      while (size < n) size *= 2;
      if (size < PAGE_ARENA_MAX) this.arenaNext = size * 2;
      // The previous write transaction's arena (zeroed) when it is large enough.
      const spare = this.db.spareArena;
      let ab: ArrayBuffer;
      if (spare !== undefined && spare.byteLength >= size) {
        ab = spare;
        this.db.spareArena = undefined;
      } else ab = new ArrayBuffer(size);
      arena = this.arena = new Uint8Array(ab);
      this.arenaAb = ab;
      off = 0;
    }
    this.arenaUsed = off + n;
    return new Uint8Array(this.arenaAb!, off, n);
  }

  /** Runs fn after a successful commit. */
  onCommit(fn: () => void): void {
    this.commitHandlers.push(fn);
  }

  /** Stats of every bucket, as `bbolt stats` aggregates them (root bucket excluded). */
  bucketStats(): BucketStats {
    return this.root.stats();
  }

  // ---- pages ----

  /** The page `id` as this transaction sees it (dirty pages first). */
  page(id: number): Page {
    const dirty = this.pages?.get(id);
    if (dirty) return new Page(dirty.buf, 0);
    return this.db.pageFrom(this.data, id);
  }

  /** Visits the page tree under `id` depth-first with the page-id stack (bbolt's forEachPage). */
  forEachPage(id: number, fn: (p: Page, depth: number, stack: number[]) => void): void {
    const stack: number[] = [id];
    const walk = (): void => {
      if (stack.length > MAX_DEPTH) throw new CorruptionError(`page ${stack[stack.length - 1]}: tree deeper than ${MAX_DEPTH} levels (a cycle?)`, stack[stack.length - 1]);
      const p = this.page(stack[stack.length - 1]!);
      fn(p, stack.length - 1, stack);
      if (p.isBranch) {
        for (let i = 0; i < p.count; i++) {
          stack.push(p.branchPgid(i));
          walk();
          stack.pop();
        }
      }
    };
    walk();
  }

  /** Allocates `count` contiguous pages for writing. */
  allocate(count: number): DirtyPage {
    const p = this.db.allocate(this, count);
    this.pages!.set(p.id, p);
    this.stats.pageCount += count;
    this.stats.pageAlloc += count * this.db.pageSize;
    return p;
  }

  /** Frees page `id` (and its overflow) as of this transaction. */
  freePage(id: number): void {
    const p = this.page(id);
    this.db.freelist!.free(this.meta.txid, id, p.overflow, (p.flags & FREELIST_PAGE_FLAG) !== 0);
  }

  // ---- commit / rollback ----

  commit(): void {
    if (this.managed) throw new ErrManagedTx();
    this.commitInternal();
  }

  /** @internal commit without the managed check (db.update). */
  commitInternal(): void {
    this.checkOpen();
    if (!this.writable) throw new ErrTxNotWritable();
    const db = this.db;
    try {
      let t = performance.now();
      this.root.rebalance();
      if (this.stats.rebalance > 0) this.stats.rebalanceTime += performance.now() - t;
      t = performance.now();
      this.root.spill();
      this.stats.spillTime += performance.now() - t;
      this.meta.root = this.root.root;
      // The old freelist page is freed: commit writes a fresh one.
      if (this.meta.freelist !== undefined) this.freePage(this.meta.freelist);
      if (!db.noFreelistSync) this.commitFreelist();
      else this.meta.freelist = undefined;
      t = performance.now();
      this.writePages();
      this.writeMetaPage();
      this.stats.writeTime += performance.now() - t;
    } catch (e) {
      this.rollbackAfterFailure();
      throw e;
    }
    this.close();
    db.afterCommit(this.meta.pgid);
    for (const fn of this.commitHandlers) fn();
  }

  private commitFreelist(): void {
    const db = this.db;
    const opgid = this.meta.pgid;
    const p = this.allocate(Math.floor(db.freelist!.size() / db.pageSize) + 1);
    db.freelist!.write(p.buf);
    this.meta.freelist = p.id;
    if (this.meta.pgid > opgid) db.grow((this.meta.pgid + 1) * db.pageSize);
  }

  private writePages(): void {
    const db = this.db;
    const ps = db.pageSize;
    const pages = [...this.pages!.values()].sort((a, b) => a.id - b.id);
    this.pages = new Map();
    // Pages with consecutive ids go out in one write (copied into one buffer): the same bytes
    // at the same offsets as a write per page (bbolt's way), with a fraction of the syscalls,
    // whose cost in Node is several times Go's (random writes of 100k keys: 23% of the time).
    for (let i = 0; i < pages.length; ) {
      const first = pages[i]!;
      let end = first.id + first.buf.length / ps;
      let j = i + 1;
      let bytes = first.buf.length;
      while (j < pages.length && pages[j]!.id === end && bytes + pages[j]!.buf.length <= MAX_WRITE_RUN) {
        bytes += pages[j]!.buf.length;
        end += pages[j]!.buf.length / ps;
        j++;
      }
      if (j === i + 1) db.file.writeAt(first.buf, first.id * ps);
      else if (adjacent(pages, i, j)) db.file.writeAt(new Uint8Array(first.buf.buffer, first.buf.byteOffset, bytes), first.id * ps);
      else {
        const run = new Uint8Array(bytes);
        let o = 0;
        for (let k = i; k < j; k++) {
          run.set(pages[k]!.buf, o);
          o += pages[k]!.buf.length;
        }
        db.file.writeAt(run, first.id * ps);
      }
      this.stats.write += j - i;
      i = j;
    }
    if (!db.noSync) db.file.datasync();
  }

  private writeMetaPage(): void {
    const db = this.db;
    const buf = new Uint8Array(db.pageSize);
    writeMeta(this.meta, buf);
    const which = this.meta.txid % 2;
    db.file.writeAt(buf, which * db.pageSize);
    db.metaWritten(buf, which);
    if (!db.noSync) db.file.datasync();
    this.stats.write++;
  }

  rollback(): void {
    if (this.managed) throw new ErrManagedTx();
    this.checkOpen();
    this.rollbackInternal();
  }

  /** @internal */
  rollbackInternal(): void {
    if (this.closed) return;
    if (this.writable) this.db.freelist!.rollback(this.meta.txid);
    this.close();
  }

  /** After a failed commit: undo frees and reload the freelist from the file. */
  private rollbackAfterFailure(): void {
    if (this.closed) return;
    const db = this.db;
    db.freelist!.rollback(this.meta.txid);
    db.reloadFreelist();
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pages = undefined;
    // The arena goes back to the DB for the next write transaction, zeroed where it was used:
    // zeroing the used bytes costs less than a new ArrayBuffer (~6 us a commit in the
    // 1-key-per-transaction rows). Nothing reads the dirty pages after close (pages is cleared
    // above; reads come from the file).
    const ab = this.arenaAb;
    if (ab !== undefined) {
      new Uint8Array(ab, 0, this.arenaUsed).fill(0);
      this.db.spareArena = ab;
      this.arena = undefined;
      this.arenaAb = undefined;
    }
    this.db.txClosed(this);
  }

  // ---- consistency and copies ----

  /** Every inconsistency found (bbolt 1.3.7 Check messages); empty when the file is sound. */
  check(): string[] {
    this.checkOpen();
    return [...checkTx(this)];
  }

  /** Generates the check findings one at a time. */
  checkIter(): Generator<string> {
    this.checkOpen();
    return checkTx(this);
  }

  /** The bytes of a consistent copy: two metas of this transaction, then the data pages. */
  private *copyChunks(): Generator<Uint8Array> {
    this.checkOpen();
    const ps = this.db.pageSize;
    const buf = new Uint8Array(ps);
    const m = copyMeta(this.meta);
    writeMeta(m, buf);
    put64n(buf, 0, 0);
    yield buf.slice();
    m.txid -= 1;
    writeMeta(m, buf);
    put64n(buf, 0, 1);
    yield buf.slice();
    const step = 256 * ps;
    const end = this.size();
    for (let off = 2 * ps; off < end; off += step) {
      const n = Math.min(step, end - off);
      const chunk = new Uint8Array(n);
      // Dirty pages of this write transaction are not in the file yet: bbolt copies the
      // file as it is, and so do we.
      const got = this.db.file.readAt(chunk, off);
      yield got === n ? chunk : chunk.subarray(0, got);
    }
  }

  /** Writes a consistent copy of the database to a path or file descriptor; returns bytes written. */
  writeTo(dest: string | number, mode = 0o600): number {
    const fd = typeof dest === 'number' ? dest : fs.openSync(dest, 'w', mode);
    let n = 0;
    try {
      for (const c of this.copyChunks()) {
        let done = 0;
        while (done < c.length) done += fs.writeSync(fd, c, done, c.length - done);
        n += c.length;
      }
      if (typeof dest !== 'number') fs.fsyncSync(fd);
    } finally {
      if (typeof dest !== 'number') fs.closeSync(fd);
    }
    return n;
  }

  /** Streams a consistent copy to a writable stream; resolves to the bytes written. */
  async writeToStream(w: Writable): Promise<number> {
    let n = 0;
    for (const c of this.copyChunks()) {
      n += c.length;
      if (!w.write(c)) await new Promise<void>((resolve, reject) => {
        const onErr = (e: Error) => reject(e);
        w.once('error', onErr);
        w.once('drain', () => {
          w.off('error', onErr);
          resolve();
        });
      });
    }
    return n;
  }
}
