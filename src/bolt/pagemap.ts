// Page map: what every page of a bolt file is, and how much each bucket holds (the data behind
// `tsbolt map`). One read transaction, nothing written.
//
//   page id   0   1   fl  ...                                   hwm        file end
//             meta meta freelist | branch/leaf (+overflow) | free | unreachable | unallocated
//
// Kinds, per page id below max(high-water mark, pages in the file):
//   meta          pages 0 and 1
//   freelist      the meta's freelist page (its overflow pages are 'overflow')
//   branch, leaf  the first page of a tree node of some bucket
//   overflow      the continuation pages of a node (page.overflow of them)
//   free          listed in the freelist (free and pending ids are stored together)
//   unreachable   below the high-water mark, neither reached nor free (bbolt's "unreachable unfreed")
//   unallocated   in the file at or past the high-water mark (the file grows ahead of use)
// A hostile file does not stop the walk: a page that cannot be read becomes an error string and
// the walk goes on; every page id is visited at most once (cycles end).

import { BUCKET_LEAF_FLAG, BRANCH_PAGE_FLAG, LEAF_PAGE_FLAG } from './page.js';
import type { Bucket } from './bucket.js';
import { BoltError } from './errors.js';
import { readFreelistIds } from './freelist.js';
import type { Tx } from './tx.js';

export const PAGE_KINDS = ['meta', 'freelist', 'branch', 'leaf', 'overflow', 'free', 'unreachable', 'unallocated'] as const;
export type PageKind = (typeof PAGE_KINDS)[number];

/** One bucket's own pages and keys (`own`) and those of its nested buckets too (`total`). */
export interface BucketUsage {
  /** Index in PageMap.buckets (0 = the root bucket). */
  index: number;
  /** Name bytes (empty for the root bucket). */
  name: Uint8Array;
  depth: number;
  inline: boolean;
  /** Root page id (0 when inline). */
  root: number;
  own: UsageCounts;
  total: UsageCounts;
  children: BucketUsage[];
}

export interface UsageCounts {
  /** Key/value pairs (nested bucket entries not counted). */
  keys: number;
  /** Nested buckets (own: direct children; total: all descendants). */
  buckets: number;
  branchPages: number;
  leafPages: number;
  overflowPages: number;
  /** Bytes the bucket occupies: its pages times the page size, or its inline value for an inline bucket. */
  bytes: number;
}

export interface PageMap {
  pageSize: number;
  txid: number;
  /** High-water mark: pages 0 .. hwm-1 are in use or free. */
  hwm: number;
  /** Whole pages in the file. */
  filePages: number;
  /** PAGE_KINDS index per page id, for ids 0 .. max(hwm, filePages) - 1. */
  kinds: Uint8Array;
  /** Index of the owning bucket per page id (-1: none). */
  owners: Int32Array;
  counts: Record<PageKind, number>;
  root: BucketUsage;
  /** Every bucket in walk order (index = BucketUsage.index). */
  buckets: BucketUsage[];
  /** Pages that could not be read, and other contradictions found on the way. */
  errors: string[];
}

const zero = (): UsageCounts => ({ keys: 0, buckets: 0, branchPages: 0, leafPages: 0, overflowPages: 0, bytes: 0 });

function add(a: UsageCounts, b: UsageCounts): void {
  a.keys += b.keys;
  a.buckets += b.buckets;
  a.branchPages += b.branchPages;
  a.leafPages += b.leafPages;
  a.overflowPages += b.overflowPages;
  a.bytes += b.bytes;
}

function errText(e: unknown): string {
  if (e instanceof BoltError) return e.message;
  throw e;
}

const KIND = Object.fromEntries(PAGE_KINDS.map((k, i) => [k, i])) as Record<PageKind, number>;
const UNSET = 255;

/** Builds the page map of the transaction's snapshot. */
export function pageMap(tx: Tx): PageMap {
  const db = tx.db;
  const pageSize = db.pageSize;
  const hwm = tx.meta.pgid;
  const filePages = Math.floor(db.file.size() / pageSize);
  const n = Math.max(hwm, filePages);
  const kinds = new Uint8Array(n).fill(UNSET);
  const owners = new Int32Array(n).fill(-1);
  const errors: string[] = [];
  const mark = (id: number, kind: PageKind, owner = -1): boolean => {
    if (id < 0 || id >= n) {
      errors.push(`page ${id}: ${kind} page past the end of the file and the high-water mark`);
      return false;
    }
    if (kinds[id] !== UNSET) {
      errors.push(`page ${id}: reached twice (${PAGE_KINDS[kinds[id]!]} and ${kind})`);
      return false;
    }
    kinds[id] = KIND[kind];
    owners[id] = owner;
    return true;
  };

  for (const id of [0, 1]) if (id < n) mark(id, 'meta');
  if (tx.meta.freelist !== undefined) {
    try {
      const p = tx.page(tx.meta.freelist);
      if (mark(tx.meta.freelist, 'freelist')) for (let i = 1; i <= p.overflow; i++) mark(tx.meta.freelist + i, 'overflow');
    } catch (e) {
      errors.push(`freelist page ${tx.meta.freelist}: ${errText(e)}`);
    }
  }

  const buckets: BucketUsage[] = [];
  const visit = (b: Bucket, name: Uint8Array, depth: number): BucketUsage => {
    const u: BucketUsage = { index: buckets.length, name, depth, inline: b.root === 0, root: b.root, own: zero(), total: zero(), children: [] };
    buckets.push(u);
    const nested: [Uint8Array, Uint8Array][] = [];
    const leaf = (p: { count: number; leafFlags(i: number): number; leafKey(i: number): Uint8Array; leafValue(i: number): Uint8Array }): void => {
      for (let i = 0; i < p.count; i++) {
        try {
          if (p.leafFlags(i) & BUCKET_LEAF_FLAG) nested.push([p.leafKey(i), p.leafValue(i)]);
          else u.own.keys++;
        } catch (e) {
          errors.push(`bucket ${u.index}: element ${i}: ${errText(e)}`);
        }
      }
    };
    if (b.page) {
      u.own.bytes = b.page.buf.length; // the whole inline value: bucket header + page image
      leaf(b.page);
    } else {
      const stack = [b.root];
      while (stack.length > 0) {
        const id = stack.pop()!;
        let p;
        try {
          p = tx.page(id);
        } catch (e) {
          errors.push(`page ${id}: ${errText(e)}`);
          continue;
        }
        const isBranch = (p.flags & BRANCH_PAGE_FLAG) !== 0;
        const isLeaf = (p.flags & LEAF_PAGE_FLAG) !== 0;
        if (!isBranch && !isLeaf) {
          errors.push(`page ${id}: invalid type ${p.typ()} in bucket ${u.index}`);
          continue;
        }
        if (!mark(id, isBranch ? 'branch' : 'leaf', u.index)) continue;
        if (isBranch) u.own.branchPages++;
        else u.own.leafPages++;
        for (let i = 1; i <= p.overflow; i++) if (mark(id + i, 'overflow', u.index)) u.own.overflowPages++;
        if (isBranch) {
          for (let i = p.count - 1; i >= 0; i--) {
            try {
              stack.push(p.branchPgid(i));
            } catch (e) {
              errors.push(`page ${id}: element ${i}: ${errText(e)}`);
            }
          }
        } else leaf(p);
      }
      u.own.bytes = (u.own.branchPages + u.own.leafPages + u.own.overflowPages) * pageSize;
    }
    u.own.buckets = nested.length;
    add(u.total, u.own);
    for (const [k, v] of nested) {
      let child: Bucket;
      try {
        child = b.openBucket(v);
      } catch (e) {
        errors.push(`bucket ${u.index}: nested bucket ${Buffer.from(k).toString('hex')}: ${errText(e)}`);
        continue;
      }
      const c = visit(child, k, depth + 1);
      u.children.push(c);
      add(u.total, c.total);
    }
    return u;
  };
  const root = visit(tx.root, new Uint8Array(0), 0);

  let free: number[] = [];
  if (tx.meta.freelist !== undefined) {
    try {
      free = readFreelistIds(tx.page(tx.meta.freelist));
    } catch {
      // reported above
    }
  } else {
    // NoFreelistSync: what is not reachable is free (as a read-write open rebuilds it).
    for (let i = 2; i < hwm; i++) if (kinds[i] === UNSET) free.push(i);
  }
  for (const id of free) {
    if (id >= n || id < 0) errors.push(`page ${id}: free page past the end of the file and the high-water mark`);
    else if (kinds[id] === KIND.free) errors.push(`page ${id}: freed twice`);
    else if (kinds[id] !== UNSET) errors.push(`page ${id}: reachable and free`);
    else kinds[id] = KIND.free;
  }
  for (let i = 0; i < n; i++) if (kinds[i] === UNSET) kinds[i] = i < hwm ? KIND.unreachable : KIND.unallocated;

  const counts = Object.fromEntries(PAGE_KINDS.map((k) => [k, 0])) as Record<PageKind, number>;
  for (let i = 0; i < n; i++) counts[PAGE_KINDS[kinds[i]!]!]++;
  return { pageSize, txid: tx.meta.txid, hwm, filePages, kinds, owners, counts, root, buckets, errors };
}
