// The database: one file, opened with a flock, memory-mapped for reads, written with
// pwrite + fdatasync. Mirrors bbolt's db.go (1.3.6 for write behaviour: growth, freelist
// handling; 1.3.7 for finding the page size when meta 0 is damaged).
//
// File layout
//   page 0: meta (even txids)   page 1: meta (odd txids)
//   page 2..pgid-1: freelist, branch, leaf and overflow pages, and free pages
// A new file is 4 pages: meta 0 (txid 0), meta 1 (txid 1), empty freelist (2), empty root leaf (3).

import {
  CorruptionError,
  ErrDatabaseNotOpen,
  ErrDatabaseReadOnly,
  ErrFileTooSmall,
  ErrInvalid,
  ErrInvalidOption,
  ErrManagedTx,
  ErrWriterBusy,
  BoltError,
} from './errors.js';
import { DataMap, type DataSource, type FileIO, NodeFile, flock, funlock, tryFlock } from './file.js';
import { Freelist, type FreelistType } from './freelist.js';
import { MAGIC, VERSION, copyMeta, readMeta, validateMeta, writeMeta, type Meta } from './meta.js';
import { FREELIST_PAGE_FLAG, LEAF_PAGE_FLAG, PAGE_HEADER_SIZE, Page, put16, put64n, u32 } from './page.js';
import { Tx, type DirtyPage, type TxStats, emptyTxStats } from './tx.js';
import { reachablePages } from './check.js';
import { readSnapshot } from './snapshot.js';

export const DEFAULT_PAGE_SIZE = 4096;
export const DEFAULT_ALLOC_SIZE = 16 * 1024 * 1024;
export const DEFAULT_MAX_BATCH_SIZE = 1000;
export const DEFAULT_MAX_BATCH_DELAY = 10;
const MAX_MMAP_STEP = 1 << 30;
const MAX_MAP_SIZE = 0xffffffffffff; // 256 TiB, as bbolt on 64-bit

export interface Options {
  /** Open read-only with a shared lock. */
  readOnly?: boolean;
  /** Milliseconds to wait for the file lock; 0 waits forever (bbolt's default). */
  timeout?: number;
  /** Skip fdatasync after commits (unsafe; for bulk loads). */
  noSync?: boolean;
  /** Skip truncate + fsync when the file grows. */
  noGrowSync?: boolean;
  /** Do not write a freelist page; rebuild the freelist by scanning on a read-write open. */
  noFreelistSync?: boolean;
  /** Page size for new files (default 4096). Existing files use their own. */
  pageSize?: number;
  /** Initial size bbolt would map, which decides how the file grows. */
  initialMmapSize?: number;
  /** bbolt's freelist types (same file format; allocation differs). Default "array". */
  freelistType?: FreelistType;
  /** File mode for a new file. */
  mode?: number;
  /**
   * Take the flock (default true). With `readOnly: true, lock: false` the database is read
   * without the lock, as a consistent in-memory snapshot (see snapshot.ts): for files that a
   * running process (containerd) holds locked. `'auto'` (read-only): take the shared lock
   * when it is free, else read lock-free; what tools that must never hang want.
   * Read-write opens always lock.
   */
  lock?: boolean | 'auto';
  /** Lock-free reads: how many times to retry a snapshot that a writer disturbed (default 20). */
  snapshotAttempts?: number;
  /** Run tx.check() after every commit and throw on findings. */
  strictMode?: boolean;
  /** Size of one mapped chunk (default 1 GiB; tests use small ones). */
  mmapChunkSize?: number;
  /** Use this file instead of opening `path` (fault injection in tests). */
  file?: FileIO;
}

export interface DBStats {
  txN: number;
  openTxN: number;
  freePageN: number;
  pendingPageN: number;
  freeAlloc: number;
  freelistInuse: number;
  txStats: TxStats;
}

/** mmap size bbolt would choose for `size` bytes: doubling from 32 KiB to 1 GiB, then +1 GiB. */
export function mmapSize(size: number, pageSize: number): number {
  for (let i = 15; i <= 30; i++) if (size <= 2 ** i) return 2 ** i;
  if (size > MAX_MAP_SIZE) throw new BoltError('mmap too large');
  let sz = size;
  const rem = sz % MAX_MMAP_STEP;
  if (rem > 0) sz += MAX_MMAP_STEP - rem;
  if (sz % pageSize !== 0) sz = (Math.floor(sz / pageSize) + 1) * pageSize;
  return Math.min(sz, MAX_MAP_SIZE);
}

interface BatchCall {
  fn: (tx: Tx) => void;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class DB {
  readonly path: string;
  readonly file: FileIO;
  readonly readOnly: boolean;
  pageSize: number = DEFAULT_PAGE_SIZE;
  noSync: boolean;
  noGrowSync: boolean;
  noFreelistSync: boolean;
  strictMode: boolean;
  readonly freelistType: FreelistType;
  allocSize = DEFAULT_ALLOC_SIZE;
  maxBatchSize = DEFAULT_MAX_BATCH_SIZE;
  maxBatchDelay = DEFAULT_MAX_BATCH_DELAY;

  private data: DataMap | undefined;
  private readonly chunkSize: number | undefined;
  /** bbolt's datasz: the size it would have mapped (drives growth). */
  private datasz = 0;
  /** True when grow() ran since afterCommit last checked the file's size. */
  private grewSinceMap = false;
  /** currentMeta()'s last answer, the mapping it read, that mapping's first two pages as words and the two metas' bytes then. */
  private metaMemo: { data: DataMap; words: Uint32Array; saved: Uint32Array; meta: Meta } | undefined;
  /** @internal The last write transaction's dirty-page arena, zeroed, for the next one (Tx.pageBytes). */
  spareArena: ArrayBuffer | undefined = undefined;
  /** bbolt's filesz: 0 after open, set by init and grow. */
  private filesz = 0;
  freelist: Freelist | undefined;
  private rwtx: Tx | undefined;
  private readonly txs: Tx[] = [];
  private opened = true;
  private locked = false;
  private readonly dbStats: DBStats = { txN: 0, openTxN: 0, freePageN: 0, pendingPageN: 0, freeAlloc: 0, freelistInuse: 0, txStats: emptyTxStats() };
  private batchCalls: BatchCall[] = [];
  private batchTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(path: string, file: FileIO, options: Options) {
    this.path = path;
    this.file = file;
    this.readOnly = !!options.readOnly;
    this.noSync = !!options.noSync;
    this.noGrowSync = !!options.noGrowSync;
    this.noFreelistSync = !!options.noFreelistSync;
    this.strictMode = !!options.strictMode;
    this.chunkSize = options.mmapChunkSize;
    this.freelistType = options.freelistType ?? 'array';
  }

  /** Opens (or, read-write, creates) the database at `path`. */
  static open(path: string, options: Options = {}): DB {
    if (options.freelistType !== undefined && options.freelistType !== 'array' && options.freelistType !== 'hashmap') {
      throw new ErrInvalidOption(`freelistType ${JSON.stringify(options.freelistType)}: use "array" or "hashmap"`);
    }
    if (options.pageSize !== undefined && (options.pageSize < 1024 || options.pageSize > 65536 * 4 || options.pageSize % 512 !== 0)) {
      throw new ErrInvalidOption(`invalid pageSize ${options.pageSize}`);
    }
    const file = options.file ?? NodeFile.open(path, !!options.readOnly, options.mode);
    const db = new DB(path, file, options);
    try {
      db.openFile(options);
    } catch (e) {
      db.closeFile();
      throw e;
    }
    return db;
  }

  private openFile(options: Options): void {
    if (options.lock === false || options.lock === 'auto') {
      if (!this.readOnly) throw new ErrInvalidOption(`lock: ${String(options.lock)} needs readOnly: true (writing without the lock would corrupt the file)`);
      if (options.lock === 'auto' && tryFlock(this.file, false)) this.locked = true;
      else {
        this.openSnapshot(options);
        return;
      }
    } else {
      flock(this.file, !this.readOnly, options.timeout ?? 0);
      this.locked = true;
    }
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    const size = this.file.size();
    if (size === 0) {
      if (this.readOnly) throw new ErrFileTooSmall('file size too small: the file is empty');
      this.init();
    } else {
      this.pageSize = this.findPageSize(size);
    }
    this.mmap(options.initialMmapSize ?? 0);
    if (this.readOnly) return;
    this.loadFreelist();
    // A file without a freelist page gets one when opened without noFreelistSync, so that
    // programs unaware of NoFreelistSync can open it later.
    if (!this.noFreelistSync && this.currentMeta().freelist === undefined) {
      const tx = this.begin(true);
      tx.commit();
    }
  }

  /** Lock-free read-only open: the file copied and validated (snapshot.ts). */
  private openSnapshot(options: Options): void {
    const size = this.file.size();
    if (size === 0) throw new ErrFileTooSmall('file size too small: the file is empty');
    this.pageSize = this.findPageSize(size);
    const snap = readSnapshot(this.file, this.pageSize, options.snapshotAttempts ?? 20);
    if (snap.bytes.length < this.pageSize * 2) throw new ErrFileTooSmall();
    this.snapshotInfo = { txid: snap.txid, attempts: snap.attempts };
    this.data = DataMap.fromBytes(snap.bytes, this.chunkSize);
    this.metaMemo = undefined; // it holds the mapping it read
    this.datasz = mmapSize(snap.bytes.length, this.pageSize);
    const e0 = validateMeta(this.data.bytes(0, this.pageSize), 0);
    const e1 = validateMeta(this.data.bytes(this.pageSize, this.pageSize), 0);
    if (e0 && e1) throw e0;
  }

  /** For lock-free opens: the txid the snapshot was validated at and the attempts it took. */
  snapshotInfo: { txid: number | undefined; attempts: number } | undefined;

  /** Page size from meta 0, else from meta 1 probed at 1 KiB << i (bbolt 1.3.7). */
  private findPageSize(fileSize: number): number {
    const buf = new Uint8Array(0x1000);
    let canRead = false;
    if (this.file.readAt(buf, 0) === buf.length) {
      canRead = true;
      if (!validateMeta(buf, 0)) return u32(buf, PAGE_HEADER_SIZE + 8);
    }
    for (let i = 0; i <= 14; i++) {
      const pos = 1024 << i;
      if (pos >= fileSize - 1024) break;
      buf.fill(0);
      const n = this.file.readAt(buf, pos);
      if (n === buf.length || n === fileSize - pos) {
        canRead = true;
        if (!validateMeta(buf, 0)) return u32(buf, PAGE_HEADER_SIZE + 8);
      }
    }
    if (canRead) return this.pageSize;
    throw new ErrInvalid();
  }

  /** Writes the 4 pages of a new database. */
  private init(): void {
    const ps = this.pageSize;
    const buf = new Uint8Array(ps * 4);
    for (let i = 0; i < 2; i++) {
      const meta: Meta = { magic: MAGIC, version: VERSION, pageSize: ps, flags: 0, root: 3, sequence: 0n, freelist: 2, pgid: 4, txid: i, checksum: 0n };
      writeMeta(meta, buf.subarray(i * ps, (i + 1) * ps));
    }
    put64n(buf, 2 * ps, 2);
    put16(buf, 2 * ps + 8, FREELIST_PAGE_FLAG);
    put64n(buf, 3 * ps, 3);
    put16(buf, 3 * ps + 8, LEAF_PAGE_FLAG);
    this.file.writeAt(buf, 0);
    this.file.datasync();
    this.filesz = buf.length;
  }

  /** Maps the file at open (afterCommit remaps); validates the metas (an error only when both are invalid). */
  private mmap(minsz: number): void {
    const fileSize = this.file.size();
    if (fileSize < this.pageSize * 2) throw new ErrFileTooSmall();
    this.datasz = mmapSize(Math.max(fileSize, minsz), this.pageSize);
    this.data = DataMap.map(this.file, fileSize, this.chunkSize);
    this.metaMemo = undefined; // it holds the mapping it read
    const e0 = validateMeta(this.data.bytes(0, Math.min(this.pageSize, fileSize)), 0);
    const e1 = validateMeta(this.data.bytes(this.pageSize, this.pageSize), 0);
    if (e0 && e1) throw e0;
  }

  /** @internal the current mapping (transactions keep the one they began with). */
  dataSource(): DataSource {
    if (!this.data) throw new ErrDatabaseNotOpen();
    return this.data;
  }

  /** The meta with the highest valid txid (falling back to the other): a copy, the caller's to change. */
  meta(): Meta {
    return copyMeta(this.currentMeta());
  }

  /**
   * @internal meta() without the copy: shared, never to be changed (Tx copies it, the DB's own
   * reads only read it).
   *
   * Every transaction begins with this. Decoding and checking both metas (u64 fields and the
   * FNV-1a checksum as BigInts) cost ~0.7-1.3 us optimized and ~13 us in the interpreter and
   * baseline code a fresh process runs first, as much as the rest of a read transaction's
   * begin and end. So the answer is kept with a copy of the 2 x 64 bytes it came from, when
   * both meta pages lie in the first mapped chunk, and given again while those bytes are the
   * same (a commit, ours or, through MAP_SHARED, another process's, changes them).
   */
  currentMeta(): Readonly<Meta> {
    const d = this.dataSource();
    const ps = this.pageSize;
    let words: Uint32Array | undefined;
    if (d instanceof DataMap) {
      const memo = this.metaMemo;
      if (memo !== undefined && memo.data === d) {
        words = memo.words;
        if (sameMetaWords(words, memo.saved, ps >>> 2)) return memo.meta;
      } else {
        const c = d.chunks[0];
        if (c !== undefined && c.length >= 2 * ps && (c.byteOffset & 3) === 0) words = new Uint32Array(c.buffer, c.byteOffset, (2 * ps) >>> 2);
      }
    }
    const meta = this.readMetas(d, ps);
    if (words !== undefined) {
      const saved = new Uint32Array(32);
      const q = ps >>> 2;
      for (let i = 0; i < 16; i++) {
        saved[i] = words[4 + i]!;
        saved[16 + i] = words[q + 4 + i]!;
      }
      this.metaMemo = { data: d as DataMap, words, saved, meta };
    }
    return meta;
  }

  /**
   * @internal A commit wrote meta page `which` (0 or 1) from `buf`: the memo takes those bytes and
   * that meta, which is what currentMeta() would now decode (the other page holds an older txid), so the
   * next transaction's begin does not decode both again.
   */
  metaWritten(buf: Uint8Array, which: number): void {
    const memo = this.metaMemo;
    if (memo === undefined || memo.data !== this.data || (buf.byteOffset & 3) !== 0) return;
    const w = new Uint32Array(buf.buffer, buf.byteOffset, 20);
    const o = which * 16;
    for (let i = 0; i < 16; i++) memo.saved[o + i] = w[4 + i]!;
    memo.meta = readMeta(buf, 0);
  }

  /** currentMeta() without the memo: both metas decoded and checked. */
  private readMetas(d: DataSource, ps: number): Meta {
    const b0 = d.bytes(0, ps);
    const b1 = d.bytes(ps, ps);
    const m0 = readMeta(b0, 0);
    const m1 = readMeta(b1, 0);
    const e0 = validateMeta(b0, 0);
    const e1 = validateMeta(b1, 0);
    const [a, ea, b, eb] = m1.txid > m0.txid ? [m1, e1, m0, e0] : [m0, e0, m1, e1];
    if (!ea) return a;
    if (!eb) return b;
    throw new CorruptionError('invalid meta pages', 0);
  }

  /** Both metas as stored, with their validation errors (for info and salvage). */
  metas(): { meta: Meta; error: BoltError | undefined }[] {
    const d = this.dataSource();
    return [0, 1].map((i) => {
      const b = d.bytes(i * this.pageSize, this.pageSize);
      return { meta: readMeta(b, 0), error: validateMeta(b, 0) };
    });
  }

  /** @internal page `id` from a mapping; checks it (and its overflow) lies inside the file. */
  pageFrom(data: DataSource, id: number): Page {
    const ps = this.pageSize;
    const off = id * ps;
    if (!Number.isSafeInteger(off) || off + ps > data.length) {
      throw new CorruptionError(`page ${id}: beyond the end of the file (${Math.floor(data.length / ps)} pages)`, id);
    }
    const head = data.locate(off, ps);
    const overflow = u32(head.buf, head.off + 12);
    if (overflow === 0) return new Page(head.buf, head.off);
    const len = (overflow + 1) * ps;
    if (off + len > data.length) throw new CorruptionError(`page ${id}: overflow of ${overflow} pages runs past the end of the file`, id);
    const whole = data.locate(off, len);
    return new Page(whole.buf, whole.off);
  }

  /** Page `id` from the current mapping. */
  page(id: number): Page {
    return this.pageFrom(this.dataSource(), id);
  }

  // ---- freelist ----

  /** Loads the freelist (from its page, or by scanning when there is none) once. */
  loadFreelist(): Freelist {
    if (this.freelist) return this.freelist;
    const fl = new Freelist(this.freelistType);
    const meta = this.currentMeta();
    if (meta.freelist === undefined) fl.readIDs(this.scanFreePages());
    else fl.read(this.page(meta.freelist));
    this.freelist = fl;
    this.dbStats.freePageN = fl.freeCount();
    return fl;
  }

  /** Page ids from 2 to the high-water mark that no tree reaches (NoFreelistSync rebuild). */
  private scanFreePages(): number[] {
    const tx = new Tx(this, false);
    try {
      const reachable = reachablePages(tx);
      const ids: number[] = [];
      for (let i = 2; i < tx.meta.pgid; i++) if (!reachable.has(i)) ids.push(i);
      return ids;
    } finally {
      tx.closed = true;
    }
  }

  /** @internal after a failed commit: reload the freelist from the file. */
  reloadFreelist(): void {
    const fl = this.freelist!;
    const meta = this.currentMeta();
    if (meta.freelist === undefined) fl.noSyncReload(this.scanFreePages());
    else fl.reload(this.page(meta.freelist));
  }

  /** Releases pending pages that no open reader can see. */
  private freePages(): void {
    const fl = this.freelist!;
    const txs = [...this.txs].sort((a, b) => a.meta.txid - b.meta.txid);
    let minid = Number.MAX_SAFE_INTEGER;
    if (txs.length > 0) minid = txs[0]!.meta.txid;
    if (minid > 0) fl.release(minid - 1);
    for (const t of txs) {
      fl.releaseRange(minid, t.meta.txid - 1);
      minid = t.meta.txid + 1;
    }
    fl.releaseRange(minid, Number.MAX_SAFE_INTEGER);
  }

  // ---- allocation and growth ----

  /** @internal a buffer for `count` pages with an id from the freelist or the end of the file. */
  allocate(tx: Tx, count: number): DirtyPage {
    const buf = tx.pageBytes(count * this.pageSize);
    let id = this.freelist!.allocate(tx.meta.txid, count);
    if (id === 0) {
      id = tx.meta.pgid;
      const minsz = (id + count + 1) * this.pageSize;
      if (minsz >= this.datasz) this.datasz = mmapSize(Math.max(this.file.size(), minsz), this.pageSize);
      tx.meta.pgid += count;
    }
    put64n(buf, 0, id);
    buf[12] = (count - 1) & 0xff;
    buf[13] = ((count - 1) >>> 8) & 0xff;
    buf[14] = ((count - 1) >>> 16) & 0xff;
    buf[15] = ((count - 1) >>> 24) & 0xff;
    return { id, buf };
  }

  /** @internal grows the file as bbolt 1.3.6 does (to the mmap size under 16 MiB, else +16 MiB). */
  grow(sz: number): void {
    if (sz <= this.filesz) return;
    if (this.datasz < this.allocSize) sz = this.datasz;
    else sz += this.allocSize;
    if (!this.noGrowSync && !this.readOnly) {
      this.file.truncate(sz);
      this.file.sync();
    }
    this.filesz = sz;
    this.grewSinceMap = true;
  }

  /**
   * @internal after a commit: map the file again when it grew. `pgid` is the committed high-water
   * mark: when every page lies inside the current mapping and grow() did not truncate since,
   * the file has its mapped size and the fstat is skipped.
   */
  afterCommit(pgid: number): void {
    const data = this.data;
    if (data !== undefined && !this.grewSinceMap && pgid * this.pageSize <= data.length) {
      data.invalidate();
      return;
    }
    this.grewSinceMap = false;
    const size = this.file.size();
    // Mapped with room to grow as bbolt sizes its mmap (doubling to 1 GiB), so most growth
    // reuses the mapping.
    if (this.data && size !== this.data.length) {
      const old = this.data;
      this.data = old.grown(size) ?? DataMap.map(this.file, size, this.chunkSize, mmapSize(size, this.pageSize));
      this.metaMemo = undefined; // it holds the mapping it read
      this.releaseUnused(old);
    } else this.data?.invalidate();
  }

  /**
   * Releases the pages of a mapping the database no longer reads through (see DataMap.release),
   * unless the current mapping or an open transaction still reads through it; the last such
   * transaction releases it when it closes (txClosed).
   */
  private releaseUnused(d: DataSource | undefined): void {
    if (!(d instanceof DataMap) || d.sharesMapping(this.data) || d.sharesMapping(this.rwtx?.data)) return;
    for (const t of this.txs) if (d.sharesMapping(t.data)) return;
    d.release();
  }

  // ---- transactions ----

  /** Begins a transaction; a write transaction must end with commit() or rollback(). */
  begin(writable = false): Tx {
    if (!this.opened) throw new ErrDatabaseNotOpen();
    if (writable) {
      if (this.readOnly) throw new ErrDatabaseReadOnly();
      if (this.rwtx) throw new ErrWriterBusy();
      const t = new Tx(this, true);
      this.rwtx = t;
      this.freePages();
      return t;
    }
    const t = new Tx(this, false);
    this.txs.push(t);
    this.dbStats.txN++;
    this.dbStats.openTxN = this.txs.length;
    return t;
  }

  /** Runs fn in a write transaction: commits when it returns, rolls back when it throws. */
  update<T>(fn: (tx: Tx) => T): T {
    const tx = this.begin(true);
    tx.managed = true;
    let result: T;
    try {
      result = fn(tx);
      if (result instanceof Promise) throw new ErrManagedTx('update callbacks must be synchronous');
    } catch (e) {
      tx.managed = false;
      tx.rollbackInternal();
      throw e;
    }
    tx.managed = false;
    tx.commitInternal();
    if (this.strictMode) {
      const problems = this.view((t) => t.check());
      if (problems.length > 0) throw new CorruptionError(`check failed after commit: ${problems.join('; ')}`);
    }
    return result;
  }

  /** Runs fn in a read transaction. */
  view<T>(fn: (tx: Tx) => T): T {
    const tx = this.begin(false);
    tx.managed = true;
    try {
      return fn(tx);
    } finally {
      tx.managed = false;
      tx.rollbackInternal();
    }
  }

  /**
   * Runs fn in a write transaction shared with other batch() calls made within
   * maxBatchDelay ms (or until maxBatchSize calls). fn may run more than once: when one
   * call throws, the batch is rolled back, that call is re-run alone and the others again.
   */
  batch(fn: (tx: Tx) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.batchCalls.push({ fn, resolve, reject });
      if (this.batchCalls.length >= this.maxBatchSize) this.runBatch();
      else if (!this.batchTimer) this.batchTimer = setTimeout(() => this.runBatch(), this.maxBatchDelay);
    });
  }

  private runBatch(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    let calls = this.batchCalls;
    this.batchCalls = [];
    while (calls.length > 0) {
      let failIdx = -1;
      try {
        this.update((tx) => {
          for (let i = 0; i < calls.length; i++) {
            failIdx = i;
            calls[i]!.fn(tx);
          }
          failIdx = -1;
        });
      } catch (e) {
        if (failIdx >= 0) {
          const c = calls[failIdx]!;
          calls = calls.filter((_, i) => i !== failIdx);
          try {
            this.update(c.fn);
            c.resolve();
          } catch (e2) {
            c.reject(e2);
          }
          continue;
        }
        for (const c of calls) c.reject(e);
        return;
      }
      for (const c of calls) c.resolve();
      return;
    }
  }

  /** @internal */
  txClosed(tx: Tx): void {
    if (tx.writable) {
      const fl = this.freelist!;
      this.rwtx = undefined;
      this.dbStats.freePageN = fl.freeCount();
      this.dbStats.pendingPageN = fl.pendingCount();
      this.dbStats.freeAlloc = (fl.freeCount() + fl.pendingCount()) * this.pageSize;
      this.dbStats.freelistInuse = fl.size();
      addTxStats(this.dbStats.txStats, tx.stats);
    } else {
      const i = this.txs.indexOf(tx);
      if (i >= 0) this.txs.splice(i, 1);
      this.dbStats.openTxN = this.txs.length;
      addTxStats(this.dbStats.txStats, tx.stats);
    }
    this.releaseUnused(tx.data);
  }

  stats(): DBStats {
    return { ...this.dbStats, txStats: { ...this.dbStats.txStats } };
  }

  info(): { pageSize: number; path: string } {
    return { pageSize: this.pageSize, path: this.path };
  }

  isReadOnly(): boolean {
    return this.readOnly;
  }

  /** fdatasync, for databases opened with noSync. */
  sync(): void {
    this.file.datasync();
  }

  /** Closes the database. Open read transactions keep their snapshot until released. */
  close(): void {
    if (!this.opened) return;
    if (this.rwtx) this.rwtx.rollbackInternal();
    this.opened = false;
    this.closeFile();
  }

  private closeFile(): void {
    const data = this.data;
    this.data = undefined;
    this.metaMemo = undefined; // it holds the mapping it read
    this.releaseUnused(data);
    if (this.locked) funlock(this.file);
    this.locked = false;
    try {
      this.file.close();
    } catch {
      // already closed
    }
  }
}

function addTxStats(a: TxStats, b: TxStats): void {
  for (const k of Object.keys(a) as (keyof TxStats)[]) a[k] += b[k];
}

/** Whether the metas (bytes 16..80 of pages 0 and 1; `q` words a page) still hold the bytes `saved` copied. */
function sameMetaWords(words: Uint32Array, saved: Uint32Array, q: number): boolean {
  for (let i = 0; i < 16; i++) if (words[4 + i] !== saved[i] || words[q + 4 + i] !== saved[16 + i]) return false;
  return true;
}

/** Opens a bbolt database (see Options). */
export function open(path: string, options: Options = {}): DB {
  return DB.open(path, options);
}
