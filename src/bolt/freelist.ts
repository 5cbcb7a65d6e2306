// The freelist: which pages below the high-water mark hold nothing live.
//
// Freelist page (flags FREELIST_PAGE_FLAG)
//   header.count < 0xFFFF: count u64 page ids follow the header
//   header.count = 0xFFFF: the first u64 is the real count, then that many ids
//   +--------+----------------+-----+-----+-----+
//   | header | [count if esc] | id0 | id1 | ... |   ids sorted, free and pending together
//   +--------+----------------+-----+-----+-----+
//
// In memory (bbolt's array freelist): `ids` are free now; `pending[txid]` were freed by
// that transaction and become free once no open reader can see a txid before it.
// `allocs[pgid]` remembers which transaction allocated a page (to release pages that were
// allocated and freed between two open readers).

import { CorruptionError } from './errors.js';
import { FREELIST_PAGE_FLAG, PAGE_HEADER_SIZE, Page, put16, put64n, u64n, pageTypeName } from './page.js';

interface TxPending {
  ids: number[];
  alloctx: number[];
  lastReleaseBegin: number;
}

const COUNT_ESCAPE = 0xffff;

function sortNumeric(a: number[]): number[] {
  return a.sort((x, y) => x - y);
}

/** Merges two sorted arrays, keeping duplicates (as bbolt's mergepgids). */
export function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  if (a.length === 0) return b.slice();
  if (b.length === 0) return a.slice();
  const out = new Array<number>(a.length + b.length);
  let i = 0,
    j = 0,
    k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/** Page ids below this are kept in PageTxids' chunks (16M pages: 64 GiB of 4 KiB pages), others in a Map. */
const CHUNKED_IDS = 1 << 24;

/**
 * Page id -> txid, as bbolt's `allocs` map: chunks of 4,096 slots (a Float64Array each, txid + 1
 * stored, 0 for none) for ids below CHUNKED_IDS, a Map for the rest (hostile ids, huge files).
 * A Map of the ~40k pages a 1M-key file's transactions allocate cost ~260 ns for each delete of
 * one page and set of another (V8's ordered hash table, a cache miss each); a commit of 1,000
 * random puts does ~1,000 of each. 32 KiB per 16 MiB of file (4 KiB pages) that has been written.
 * @internal exported for its tests
 */
export class PageTxids {
  private readonly chunks: (Float64Array | undefined)[] = [];
  private readonly others = new Map<number, number>();

  get(id: number): number | undefined {
    if (id >= CHUNKED_IDS) return this.others.get(id);
    const c = this.chunks[id >>> 12];
    if (c === undefined) return undefined;
    const v = c[id & 4095]!;
    return v === 0 ? undefined : v - 1;
  }

  set(id: number, txid: number): void {
    if (id >= CHUNKED_IDS) {
      this.others.set(id, txid);
      return;
    }
    const k = id >>> 12;
    let c = this.chunks[k];
    if (c === undefined) {
      while (this.chunks.length <= k) this.chunks.push(undefined);
      c = this.chunks[k] = new Float64Array(4096);
    }
    c[id & 4095] = txid + 1;
  }

  delete(id: number): void {
    if (id >= CHUNKED_IDS) {
      this.others.delete(id);
      return;
    }
    const c = this.chunks[id >>> 12];
    if (c !== undefined) c[id & 4095] = 0;
  }
}

/** bbolt's two freelist types: the on-disk format is the same, allocation differs. */
export type FreelistType = 'array' | 'hashmap';

export class Freelist {
  constructor(readonly type: FreelistType = 'array') {}

  /**
   * Free page ids, sorted (duplicates are kept as read, so Check can report them): freeIds[head..].
   * Array allocation takes the lowest id (one page) at almost every call; removing it moves the
   * start (as Go reslices f.ids) instead of every id after it, which a splice did: ~1,500 free ids
   * in a random-write transaction of 1M keys, ~1,000 allocations a commit.
   */
  private freeIds: number[] = [];
  private head = 0;
  /** Which transaction allocated each page allocated since open (bbolt's allocs). */
  allocs = new PageTxids();
  pending = new Map<number, TxPending>();
  /** Every free or pending id. */
  cache = new Set<number>();

  /** The free page ids, sorted. */
  get ids(): number[] {
    if (this.head > 0) {
      this.freeIds.splice(0, this.head);
      this.head = 0;
    }
    return this.freeIds;
  }
  set ids(ids: number[]) {
    this.freeIds = ids;
    this.head = 0;
  }

  freeCount(): number {
    return this.freeIds.length - this.head;
  }
  pendingCount(): number {
    let n = 0;
    for (const p of this.pending.values()) n += p.ids.length;
    return n;
  }
  count(): number {
    return this.freeCount() + this.pendingCount();
  }

  /** Bytes the freelist page needs (header + ids, + 1 id for the count escape). */
  size(): number {
    let n = this.count();
    if (n >= COUNT_ESCAPE) n++;
    return PAGE_HEADER_SIZE + 8 * n;
  }

  /** All free and pending ids, sorted. */
  copyall(): number[] {
    const m: number[] = [];
    for (const p of this.pending.values()) for (const id of p.ids) m.push(id);
    return mergeSorted(this.ids, sortNumeric(m));
  }

  /**
   * Array allocation: the lowest run of n consecutive free ids, removed from the list.
   * Returns 0 when no run is long enough (the caller extends the file).
   */
  allocate(txid: number, n: number): number {
    return this.type === 'hashmap' ? this.hashmapAllocate(txid, n) : this.arrayAllocate(txid, n);
  }

  /**
   * Hashmap allocation: a free span of exactly n pages, else a larger span, taken from its
   * start. Go picks among candidate spans in map order (so its choice varies run to run);
   * we take the exact span with the lowest start, else the smallest larger span (lowest
   * start among equals), so the result is deterministic and one Go could have made.
   */
  private hashmapAllocate(txid: number, n: number): number {
    const ids = this.ids;
    if (n === 0 || ids.length === 0) return 0;
    let exact = -1;
    let best = -1,
      bestSize = Infinity;
    for (let i = 0; i < ids.length; ) {
      let j = i + 1;
      while (j < ids.length && ids[j] === ids[j - 1]! + 1) j++;
      const size = j - i;
      if (size === n) {
        exact = i;
        break;
      }
      if (size > n && size < bestSize) {
        best = i;
        bestSize = size;
      }
      i = j;
    }
    const at = exact >= 0 ? exact : best;
    if (at < 0) return 0;
    const start = ids[at]!;
    if (start <= 1) throw new CorruptionError(`invalid page allocation: ${start}`, start);
    ids.splice(at, n);
    for (let k = 0; k < n; k++) this.cache.delete(start + k);
    this.allocs.set(start, txid);
    return start;
  }

  private arrayAllocate(txid: number, n: number): number {
    const ids = this.freeIds;
    const head = this.head;
    if (ids.length === head) return 0;
    let initial = 0,
      previd = 0;
    for (let i = head; i < ids.length; i++) {
      const id = ids[i]!;
      if (id <= 1) throw new CorruptionError(`invalid page allocation: ${id}`, id);
      if (previd === 0 || id - previd !== 1) initial = id;
      if (id - initial + 1 === n) {
        if (i - n + 1 === head) this.head = head + n;
        else ids.splice(i - n + 1, n);
        for (let k = 0; k < n; k++) this.cache.delete(initial + k);
        this.allocs.set(initial, txid);
        return initial;
      }
      previd = id;
    }
    return 0;
  }

  /** Frees page `id` and its `overflow` pages, pending until txid can no longer be seen. */
  free(txid: number, id: number, overflow: number, isFreelistPage: boolean): void {
    if (id <= 1) throw new CorruptionError(`cannot free page 0 or 1: ${id}`, id);
    let txp = this.pending.get(txid);
    if (!txp) {
      txp = { ids: [], alloctx: [], lastReleaseBegin: 0 };
      this.pending.set(txid, txp);
    }
    let allocTxid = this.allocs.get(id);
    if (allocTxid !== undefined) this.allocs.delete(id);
    else if (isFreelistPage) allocTxid = txid - 1; // the freelist is always allocated by the prior tx
    else allocTxid = 0;
    for (let p = id; p <= id + overflow; p++) {
      if (this.cache.has(p)) throw new CorruptionError(`page ${p} already freed`, p);
      txp.ids.push(p);
      txp.alloctx.push(allocTxid);
      this.cache.add(p);
    }
  }

  /** Moves pages freed by transactions <= txid to the free list. */
  release(txid: number): void {
    const m: number[] = [];
    for (const [tid, txp] of this.pending) {
      if (tid <= txid) {
        for (const id of txp.ids) m.push(id);
        this.pending.delete(tid);
      }
    }
    this.mergeSpans(m);
  }

  /** Releases pages freed in [begin, end] that were also allocated in [begin, end]. */
  releaseRange(begin: number, end: number): void {
    if (begin > end) return;
    const m: number[] = [];
    for (const [tid, txp] of this.pending) {
      if (tid < begin || tid > end) continue;
      if (txp.lastReleaseBegin === begin) continue;
      for (let i = 0; i < txp.ids.length; i++) {
        const atx = txp.alloctx[i]!;
        if (atx < begin || atx > end) continue;
        m.push(txp.ids[i]!);
        txp.ids[i] = txp.ids[txp.ids.length - 1]!;
        txp.ids.pop();
        txp.alloctx[i] = txp.alloctx[txp.alloctx.length - 1]!;
        txp.alloctx.pop();
        i--;
      }
      txp.lastReleaseBegin = begin;
      if (txp.ids.length === 0) this.pending.delete(tid);
    }
    this.mergeSpans(m);
  }

  /** Undoes the frees of a transaction that did not commit. */
  rollback(txid: number): void {
    const txp = this.pending.get(txid);
    if (!txp) return;
    const m: number[] = [];
    for (let i = 0; i < txp.ids.length; i++) {
      const id = txp.ids[i]!;
      this.cache.delete(id);
      const tx = txp.alloctx[i]!;
      if (tx === 0) continue;
      if (tx !== txid) this.allocs.set(id, tx); // pending free aborted: the page is live again
      else m.push(id); // allocated and freed by this tx: it is free
    }
    this.pending.delete(txid);
    this.mergeSpans(m);
  }

  private mergeSpans(m: number[]): void {
    if (m.length === 0) return;
    sortNumeric(m);
    for (const id of m) this.cache.add(id);
    this.ids = mergeSorted(this.ids, m);
  }

  /** Replaces the free ids (pending is kept) and rebuilds the cache. */
  readIDs(ids: number[]): void {
    this.ids = ids;
    this.reindex();
  }

  private reindex(): void {
    this.cache = new Set(this.ids);
    for (const p of this.pending.values()) for (const id of p.ids) this.cache.add(id);
  }

  /** Loads the free ids from a freelist page. */
  read(page: Page): void {
    this.readIDs(readFreelistIds(page));
  }

  /** Reloads from a freelist page, leaving out ids that are pending in memory. */
  reload(page: Page): void {
    this.noSyncReload(readFreelistIds(page));
  }

  noSyncReload(ids: number[]): void {
    const pcache = new Set<number>();
    for (const p of this.pending.values()) for (const id of p.ids) pcache.add(id);
    this.readIDs(ids.filter((id) => !pcache.has(id)));
  }

  /** Writes free and pending ids into `buf` (a page buffer whose header id is set). */
  write(buf: Uint8Array): void {
    put16(buf, 8, FREELIST_PAGE_FLAG);
    const all = this.copyall();
    const l = all.length;
    let o = PAGE_HEADER_SIZE;
    if (l < COUNT_ESCAPE) put16(buf, 10, l);
    else {
      put16(buf, 10, COUNT_ESCAPE);
      put64n(buf, o, l);
      o += 8;
    }
    for (const id of all) {
      put64n(buf, o, id);
      o += 8;
    }
  }
}

/** The ids stored on a freelist page, sorted (duplicates kept). */
export function readFreelistIds(page: Page): number[] {
  const flags = page.flags;
  if ((flags & FREELIST_PAGE_FLAG) === 0) {
    throw new CorruptionError(`invalid freelist page: ${page.safeId()}, page type is ${pageTypeName(flags)}`, page.safeId());
  }
  let count = page.count;
  let o = page.off + PAGE_HEADER_SIZE;
  if (count === COUNT_ESCAPE) {
    count = u64n(page.buf, o, 'freelist count', page.safeId());
    o += 8;
  }
  if (o + count * 8 > page.buf.length) {
    throw new CorruptionError(`freelist page ${page.safeId()}: ${count} ids run past the end of the file`, page.safeId());
  }
  const ids = new Array<number>(count);
  for (let i = 0; i < count; i++) ids[i] = u64n(page.buf, o + i * 8, 'freelist id', page.safeId());
  return sortNumeric(ids);
}
