// Salvage: copy what is still readable from a damaged bbolt file into a new, valid file.
//
// The damaged file is only ever read (fs.readFileSync: no lock, no write, mtime unchanged).
// The output is written by our engine (open + one update), so it is a sound database.
//
// Strategy, in order:
//   (a) the newest valid meta: if its whole tree (every bucket, nested and inline) walks without
//       a CorruptionError, copy every bucket, key, value and sequence from it;
//   (b) else the other valid meta (older txid), the same way, unless its tree has fewer keys
//       than the lenient walk of (c) reads from the newest one;
//   (c) else a lenient walk of the newest valid meta: every readable page is copied, every
//       unreadable one is reported; then every page of the file is scanned for leaf pages
//       that no tree reached (page ids 2 .. min(high-water mark, pages in the file) - 1, minus
//       the pages the meta's freelist lists as free, which hold stale copies). A scanned leaf
//       is accepted when its header id is its own page id, its flags are LEAF only, and all its
//       elements lie inside the page with non-empty keys in strictly ascending order. Nested
//       bucket values in it (BUCKET_LEAF_FLAG) are followed when their root page is readable.
//       Where it goes:
//         - when the lenient walk lost exactly one subtree below a readable branch page whose
//           key range (from that branch's separator keys) contains all of the leaf's keys, into
//           that subtree's bucket (keys already present there are kept, the scanned copy
//           skipped); the root bucket only takes leaves made entirely of bucket entries. A lost
//           bucket *root* page gives no key range, so its leaves are not placed this way;
//         - otherwise into a new top-level bucket named `__salvaged__/<pageid>` (decimal id),
//           e.g. `__salvaged__/17`.
//       Leaf pages that are themselves the root of a nested bucket found in another scanned leaf
//       go under that bucket, not to a bucket of their own.
// With no valid meta at all, the page size comes from options.pageSize (default 4096) and
// only the scan runs, over every page of the file.
//
// The report says where every leaf page's items came from (meta txid and bucket, or page scan)
// and lists every unreadable page with the CorruptionError message.

import fs from 'node:fs';
import { BoltError, CorruptionError } from './errors.js';
import { open } from './db.js';
import type { Bucket } from './bucket.js';
import { MAX_KEY_SIZE } from './bucket.js';
import { readMeta, validateMeta, type Meta } from './meta.js';
import { BRANCH_PAGE_FLAG, BUCKET_LEAF_FLAG, FREELIST_PAGE_FLAG, LEAF_PAGE_FLAG, PAGE_HEADER_SIZE, Page, compareKeys, u16, u32, u64 } from './page.js';
import { readFreelistIds } from './freelist.js';
import { MAX_DEPTH } from './cursor.js';

/** Salvage could not start (output exists, input unreadable); `message` says why. */
export class SalvageError extends BoltError {
  static override readonly code = 'ERR_SALVAGE';
}

/** The top-level bucket prefix for leaf pages whose place in the tree is unknown. */
export const SALVAGED_BUCKET_PREFIX = '__salvaged__/';

export interface SalvageOptions {
  /** Page size when neither meta is valid (default 4096). */
  pageSize?: number;
  /** Also scan pages listed as free (stale copies of old data; off by default). */
  includeFreePages?: boolean;
  /** Run the page scan even when a meta's tree walks cleanly. */
  alwaysScan?: boolean;
}

/** A bucket path: names as text (null when not UTF-8) and as hex. */
export interface ReportPath {
  names: (string | null)[];
  hex: string[];
}

export interface SalvageSource {
  /** The leaf page the items were read from (0 for an inline bucket's page). */
  pgid: number;
  /** 'tree': reached from meta `txid`'s root; 'scan': found by the page scan. */
  via: 'tree' | 'scan';
  txid?: number;
  /** The bucket the items were written to in the output. */
  bucket: ReportPath;
  /** For scanned pages: 'inferred' (placed into the bucket whose lost subtree fits) or 'salvaged' (own bucket). */
  placement?: 'tree' | 'inferred' | 'salvaged';
  keys: number;
  buckets: number;
  /** Items skipped because the target already had them. */
  skipped: number;
}

export interface UnreadablePage {
  pgid: number;
  /** What the page was needed for: 'tree' (a bucket's page), 'freelist', 'meta', 'scan'. */
  role: 'tree' | 'freelist' | 'meta';
  bucket?: ReportPath;
  error: string;
}

export interface SalvageReport {
  file: string;
  output: string;
  pageSize: number;
  fileSize: number;
  metas: { page: number; txid: number; root: number; freelist: number | null; pgid: number; valid: boolean; error?: string }[];
  /** 'newest-meta' (a), 'older-meta' (b), 'scan' (c: lenient walk + page scan), 'scan-only' (no valid meta). */
  strategy: 'newest-meta' | 'older-meta' | 'scan' | 'scan-only';
  /** The meta whose tree was copied (null for scan-only). */
  meta: { page: number; txid: number } | null;
  /** Why the metas not used failed their clean walk. */
  rejectedMetas: { page: number; txid: number; error: string }[];
  keys: number;
  buckets: number;
  unreadablePages: number;
  scannedLeafPages: number;
  sources: SalvageSource[];
  unreadable: UnreadablePage[];
}

// ---- in-memory result tree ----

interface SBucket {
  sequence: bigint;
  values: Map<string, { key: Uint8Array; value: Uint8Array }>;
  buckets: Map<string, { name: Uint8Array; bucket: SBucket }>;
}
const newBucket = (sequence = 0n): SBucket => ({ sequence, values: new Map(), buckets: new Map() });
const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const utf8 = new TextDecoder('utf-8', { fatal: true });
function textOrNull(b: Uint8Array): string | null {
  try {
    return utf8.decode(b);
  } catch {
    return null;
  }
}
function reportPath(path: Uint8Array[]): ReportPath {
  return { names: path.map(textOrNull), hex: path.map(hexOf) };
}

function errText(e: unknown): string {
  if (e instanceof BoltError) return e.message;
  throw e;
}

/** A subtree the lenient walk could not read, with the key range its parent branch gives it. */
interface LostSlot {
  bucket: SBucket;
  path: Uint8Array[];
  /** Inclusive lower bound (the separator key), undefined for a bucket root. */
  lo: Uint8Array | undefined;
  /** Exclusive upper bound (the next separator), undefined when unbounded. */
  hi: Uint8Array | undefined;
  isRoot: boolean;
}

class Salvager {
  readonly pageCount: number;
  readonly sources: SalvageSource[] = [];
  readonly unreadable: UnreadablePage[] = [];
  readonly lost: LostSlot[] = [];
  /** Pages a walk has read (with their overflow). */
  readonly visited = new Set<number>();

  constructor(
    readonly bytes: Uint8Array,
    readonly pageSize: number,
    /** Throw on the first problem (clean walk) instead of recording it. */
    readonly strict: boolean,
    readonly txid: number | undefined,
    /** Page ids at or past this are outside the tree (the meta's high-water mark). */
    readonly hwm: number,
  ) {
    this.pageCount = Math.floor(bytes.length / pageSize);
  }

  /** Page `id` with its overflow; checks bounds and that the header names the page. */
  page(id: number): Page {
    const ps = this.pageSize;
    if (!Number.isSafeInteger(id) || id < 2) throw new CorruptionError(`page ${id}: not a data page id`, id);
    if (id >= this.hwm) throw new CorruptionError(`page ${id}: past the high-water mark ${this.hwm}`, id);
    if ((id + 1) * ps > this.bytes.length) throw new CorruptionError(`page ${id}: beyond the end of the file (${this.pageCount} pages)`, id);
    const off = id * ps;
    const hid = u64(this.bytes, off);
    if (hid !== BigInt(id)) throw new CorruptionError(`page ${id}: header names page ${hid}`, id);
    const overflow = u32(this.bytes, off + 12);
    if ((id + 1 + overflow) * ps > this.bytes.length) throw new CorruptionError(`page ${id}: overflow of ${overflow} pages runs past the end of the file`, id);
    return new Page(this.bytes.subarray(0, (id + 1 + overflow) * ps), off);
  }

  /** Reads a leaf's elements, checking them (see sane leaf, file comment). */
  leafItems(p: Page, id: number): { flags: number; key: Uint8Array; value: Uint8Array }[] {
    if ((p.flags & ~LEAF_PAGE_FLAG) !== 0 || !(p.flags & LEAF_PAGE_FLAG)) throw new CorruptionError(`page ${id}: not a leaf page (${pageTypeText(p.flags)})`, id);
    const n = p.count;
    if (PAGE_HEADER_SIZE + n * 16 > p.buf.length - p.off) throw new CorruptionError(`page ${id}: ${n} elements do not fit in the page`, id);
    const out: { flags: number; key: Uint8Array; value: Uint8Array }[] = [];
    for (let i = 0; i < n; i++) {
      const key = p.leafKey(i);
      const value = p.leafValue(i);
      const flags = p.leafFlags(i);
      if (key.length === 0 || key.length > MAX_KEY_SIZE) throw new CorruptionError(`page ${id}: element ${i} has a key of ${key.length} bytes`, id);
      if ((flags & ~BUCKET_LEAF_FLAG) !== 0) throw new CorruptionError(`page ${id}: element ${i} has unknown flags 0x${flags.toString(16)}`, id);
      const prev = out[out.length - 1];
      if (prev && compareKeys(prev.key, key) >= 0) throw new CorruptionError(`page ${id}: key ${i} is not above key ${i - 1}`, id);
      out.push({ flags, key, value });
    }
    return out;
  }

  /** Records a problem (lenient) or throws it (strict). */
  problem(e: unknown, pgid: number, path: Uint8Array[], role: UnreadablePage['role'] = 'tree'): void {
    const msg = errText(e);
    if (this.strict) throw e;
    this.unreadable.push({ pgid, role, bucket: reportPath(path), error: msg });
  }

  /**
   * Copies the bucket whose {root, sequence} header is `value` into `target`. `path` is the
   * bucket's path (for the report).
   */
  walkBucketValue(value: Uint8Array, target: SBucket, path: Uint8Array[], depth: number, lostCtx: { pgid: number }): void {
    if (value.length < 16) {
      this.problem(new CorruptionError(`page ${lostCtx.pgid}: bucket value of ${value.length} bytes`, lostCtx.pgid), lostCtx.pgid, path);
      return;
    }
    const root = u64(value, 0);
    target.sequence = u64(value, 8);
    if (root === 0n) {
      // Inline bucket: a leaf page image after the 16-byte header.
      const inline = new Page(value, 16);
      let items;
      try {
        if (value.length < 16 + PAGE_HEADER_SIZE) throw new CorruptionError(`page ${lostCtx.pgid}: inline bucket of ${value.length} bytes`, lostCtx.pgid);
        items = this.leafItems(inline, 0);
      } catch (e) {
        this.problem(e, lostCtx.pgid, path);
        return;
      }
      this.addItems(items, target, path, depth, 0, 'tree');
      return;
    }
    if (root > BigInt(Number.MAX_SAFE_INTEGER)) {
      this.problem(new CorruptionError(`bucket root page ${root} out of range`, lostCtx.pgid), lostCtx.pgid, path);
      return;
    }
    this.walkTree(Number(root), target, path, depth, [], undefined, undefined);
  }

  /** Walks the page tree under `id` (a bucket's root or a subtree), copying leaf items. */
  walkTree(id: number, target: SBucket, path: Uint8Array[], depth: number, stack: number[], lo: Uint8Array | undefined, hi: Uint8Array | undefined): void {
    const lose = (e: unknown): void => {
      this.problem(e, id, path);
      this.lost.push({ bucket: target, path, lo, hi, isRoot: stack.length === 0 });
    };
    if (stack.length >= MAX_DEPTH || depth >= MAX_DEPTH) {
      lose(new CorruptionError(`page ${id}: tree deeper than ${MAX_DEPTH} levels`, id));
      return;
    }
    if (this.visited.has(id)) {
      lose(new CorruptionError(`page ${id}: reached twice (a cycle, or a page shared by two parents)`, id));
      return;
    }
    let p: Page;
    try {
      p = this.page(id);
    } catch (e) {
      lose(e);
      return;
    }
    for (let i = 0; i <= p.overflow; i++) this.visited.add(id + i);
    if (p.flags === BRANCH_PAGE_FLAG) {
      let children: { key: Uint8Array; pgid: number }[];
      try {
        children = [];
        if (p.count === 0) throw new CorruptionError(`page ${id}: branch page with no elements`, id);
        if (PAGE_HEADER_SIZE + p.count * 16 > p.buf.length - p.off) throw new CorruptionError(`page ${id}: ${p.count} elements do not fit in the page`, id);
        for (let i = 0; i < p.count; i++) {
          const key = p.branchKey(i);
          const prev = children[children.length - 1];
          if (prev && compareKeys(prev.key, key) >= 0) throw new CorruptionError(`page ${id}: branch key ${i} is not above key ${i - 1}`, id);
          children.push({ key, pgid: p.branchPgid(i) });
        }
      } catch (e) {
        lose(e);
        return;
      }
      children.forEach((c, i) => {
        const clo = i === 0 && lo !== undefined ? lo : c.key;
        const chi = i + 1 < children.length ? children[i + 1]!.key : hi;
        this.walkTree(c.pgid, target, path, depth, [...stack, id], clo, chi);
      });
      return;
    }
    let items;
    try {
      items = this.leafItems(p, id);
    } catch (e) {
      lose(e);
      return;
    }
    this.addItems(items, target, path, depth, id, 'tree');
  }

  /** Adds leaf items to `target`, following nested buckets; records the source. */
  addItems(
    items: { flags: number; key: Uint8Array; value: Uint8Array }[],
    target: SBucket,
    path: Uint8Array[],
    depth: number,
    pgid: number,
    placement: 'tree' | 'inferred' | 'salvaged',
  ): void {
    const src: SalvageSource = { pgid, via: placement === 'tree' ? 'tree' : 'scan', bucket: reportPath(path), keys: 0, buckets: 0, skipped: 0 };
    if (placement === 'tree' && this.txid !== undefined) src.txid = this.txid;
    if (placement !== 'tree') src.placement = placement;
    for (const it of items) {
      const h = hexOf(it.key);
      if (target.values.has(h) || target.buckets.has(h)) {
        src.skipped++;
        continue;
      }
      if (it.flags & BUCKET_LEAF_FLAG) {
        const child = newBucket();
        target.buckets.set(h, { name: it.key, bucket: child });
        src.buckets++;
        this.walkBucketValue(it.value, child, [...path, it.key], depth + 1, { pgid });
      } else {
        target.values.set(h, { key: it.key, value: it.value });
        src.keys++;
      }
    }
    this.sources.push(src);
  }
}

function pageTypeText(flags: number): string {
  if (flags === BRANCH_PAGE_FLAG) return 'branch';
  if (flags === LEAF_PAGE_FLAG) return 'leaf';
  if (flags === FREELIST_PAGE_FLAG) return 'freelist';
  if (flags === 0x04) return 'meta';
  return `flags 0x${flags.toString(16)}`;
}

/** Page size: a valid meta 0, else meta 1 probed at 1 KiB << i (as bbolt 1.3.7), else the fallback. */
function findPageSize(bytes: Uint8Array, fallback: number): number {
  if (bytes.length >= 1024 && !validateMeta(bytes.subarray(0, Math.min(bytes.length, 4096)), 0)) return u32(bytes, PAGE_HEADER_SIZE + 8);
  for (let i = 0; i <= 14; i++) {
    const pos = 1024 << i;
    if (pos + 1024 > bytes.length) break;
    const b = bytes.subarray(pos, Math.min(bytes.length, pos + 4096));
    if (!validateMeta(b, 0)) return u32(b, PAGE_HEADER_SIZE + 8);
  }
  return fallback;
}

/** Counts keys and buckets (all levels) of a result tree. */
function countTree(b: SBucket): { keys: number; buckets: number } {
  let keys = b.values.size;
  let buckets = b.buckets.size;
  for (const { bucket } of b.buckets.values()) {
    const c = countTree(bucket);
    keys += c.keys;
    buckets += c.buckets;
  }
  return { keys, buckets };
}

function sortedEntries<T extends { key?: Uint8Array; name?: Uint8Array }>(m: Map<string, T>, k: (t: T) => Uint8Array): T[] {
  return [...m.values()].sort((a, b) => compareKeys(k(a), k(b)));
}

function writeTree(dst: Bucket, b: SBucket, isRoot: boolean): void {
  if (!isRoot) dst.setSequence(b.sequence);
  for (const { name, bucket } of sortedEntries(b.buckets, (t) => t.name)) writeTree(dst.createBucket(name), bucket, false);
  for (const { key, value } of sortedEntries(b.values, (t) => t.key)) dst.put(key, value);
}

/**
 * Recovers what is readable in the bbolt file at `path` into a new database at `out` (which
 * must not exist). Never writes to `path`. Returns the report (see the file comment).
 */
export function salvage(path: string, out: string, options: SalvageOptions = {}): SalvageReport {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(fs.readFileSync(path));
  } catch (e) {
    throw new SalvageError(`read ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (fs.existsSync(out)) throw new SalvageError(`output file ${JSON.stringify(out)} already exists`);

  const pageSize = findPageSize(bytes, options.pageSize ?? 4096);
  const pageCount = Math.floor(bytes.length / pageSize);
  const metas: SalvageReport['metas'] = [];
  const valid: { page: number; meta: Meta }[] = [];
  for (const i of [0, 1]) {
    if ((i + 1) * pageSize > bytes.length && i * pageSize + PAGE_HEADER_SIZE + 64 > bytes.length) {
      metas.push({ page: i, txid: 0, root: 0, freelist: null, pgid: 0, valid: false, error: 'beyond the end of the file' });
      continue;
    }
    const b = bytes.subarray(i * pageSize, Math.min(bytes.length, (i + 1) * pageSize));
    const m = readMeta(b, 0);
    const err = validateMeta(b, 0);
    metas.push({ page: i, txid: m.txid, root: m.root, freelist: m.freelist ?? null, pgid: m.pgid, valid: !err, ...(err ? { error: err.message } : {}) });
    if (!err) valid.push({ page: i, meta: m });
  }
  valid.sort((a, b) => b.meta.txid - a.meta.txid);

  const rejectedMetas: SalvageReport['rejectedMetas'] = [];
  let result: SBucket | undefined;
  let used: Salvager | undefined;
  let strategy: SalvageReport['strategy'] = 'scan-only';
  let usedMeta: { page: number; meta: Meta } | undefined;
  const rootValue = (m: Meta): Uint8Array => {
    const v = new Uint8Array(16);
    new DataView(v.buffer).setBigUint64(0, BigInt(m.root), true);
    new DataView(v.buffer).setBigUint64(8, m.sequence, true);
    return v;
  };

  // The lenient walk of the newest valid meta: what (b) must not give up, and the start of (c).
  let lenient: { s: Salvager; tree: SBucket; keys: number } | undefined;
  const lenientWalk = (cand: { page: number; meta: Meta }): { s: Salvager; tree: SBucket; keys: number } => {
    const s = new Salvager(bytes, pageSize, false, cand.meta.txid, cand.meta.pgid);
    const tree = newBucket();
    s.walkBucketValue(rootValue(cand.meta), tree, [], 0, { pgid: cand.page });
    return { s, tree, keys: countTree(tree).keys };
  };

  // (a), (b): a clean walk.
  for (const [i, cand] of valid.entries()) {
    const s = new Salvager(bytes, pageSize, true, cand.meta.txid, cand.meta.pgid);
    const tree = newBucket();
    try {
      s.walkBucketValue(rootValue(cand.meta), tree, [], 0, { pgid: cand.page });
    } catch (e) {
      rejectedMetas.push({ page: cand.page, txid: cand.meta.txid, error: errText(e) });
      continue;
    }
    if (i > 0) {
      // An older snapshot, but not one that gives up keys the newest tree still has (as when
      // the older meta is the one before the first write, and the newest tree has a bucket
      // value pointing at the wrong page): then (c).
      lenient ??= lenientWalk(valid[0]!);
      const keys = countTree(tree).keys;
      if (keys < lenient.keys) {
        rejectedMetas.push({ page: cand.page, txid: cand.meta.txid, error: `its tree has ${keys} keys, fewer than the ${lenient.keys} still readable from meta txid ${valid[0]!.meta.txid}` });
        continue;
      }
    }
    result = tree;
    used = s;
    usedMeta = cand;
    strategy = i === 0 ? 'newest-meta' : 'older-meta';
    break;
  }

  // (c): lenient walk of the newest valid meta, then the page scan.
  let scan = false;
  if (!result) {
    scan = true;
    const cand = valid[0];
    if (cand) {
      usedMeta = cand;
      strategy = 'scan';
      lenient ??= lenientWalk(cand);
      used = lenient.s;
      result = lenient.tree;
    } else {
      used = new Salvager(bytes, pageSize, false, undefined, Number.MAX_SAFE_INTEGER);
      result = newBucket();
    }
  }
  const s = used!;
  const tree = result;
  if (options.alwaysScan) scan = true;

  // The freelist of the meta used: its pages hold stale data, and a damaged one is reported.
  const free = new Set<number>();
  if (usedMeta && usedMeta.meta.freelist !== undefined) {
    const fl = usedMeta.meta.freelist;
    try {
      const p = s.page(fl);
      if (p.flags !== FREELIST_PAGE_FLAG) throw new CorruptionError(`page ${fl}: not a freelist page (${pageTypeText(p.flags)})`, fl);
      for (let i = 0; i <= p.overflow; i++) s.visited.add(fl + i);
      for (const id of readFreelistIds(p)) free.add(id);
    } catch (e) {
      s.unreadable.push({ pgid: fl, role: 'freelist', error: errText(e) });
    }
  }
  for (const m of metas) if (!m.valid) s.unreadable.push({ pgid: m.page, role: 'meta', error: m.error ?? 'invalid' });

  let scannedLeafPages = 0;
  if (scan) {
    const end = usedMeta ? Math.min(usedMeta.meta.pgid, pageCount) : pageCount;
    // Candidate leaves: sane, not reached, not free.
    const candidates = new Map<number, { flags: number; key: Uint8Array; value: Uint8Array }[]>();
    for (let id = 2; id < end; id++) {
      if (s.visited.has(id) || (!options.includeFreePages && free.has(id))) continue;
      const off = id * pageSize;
      if (u64(bytes, off) !== BigInt(id) || u16(bytes, off + 8) !== LEAF_PAGE_FLAG) continue;
      try {
        candidates.set(id, s.leafItems(s.page(id), id));
      } catch {
        // not a sane leaf: not data we can trust
      }
    }
    scannedLeafPages = candidates.size;
    // Leaves that are the root of a nested bucket named in another candidate go with it.
    const claimed = new Set<number>();
    for (const items of candidates.values()) {
      for (const it of items) {
        if (!(it.flags & BUCKET_LEAF_FLAG) || it.value.length < 16) continue;
        const r = u64(it.value, 0);
        if (r !== 0n && r <= BigInt(Number.MAX_SAFE_INTEGER) && candidates.has(Number(r))) claimed.add(Number(r));
      }
    }
    const place = (id: number, items: { flags: number; key: Uint8Array; value: Uint8Array }[]): void => {
      for (let i = 0; i <= s.page(id).overflow; i++) s.visited.add(id + i);
      const first = items[0];
      const last = items[items.length - 1];
      // Only subtrees bounded by a readable branch: a lost bucket root gives no key range, and
      // the leaves of its nested buckets would fit it as well as its own.
      const fits = first && last ? s.lost.filter((l) => !l.isRoot && (l.lo === undefined || compareKeys(first.key, l.lo) >= 0) && (l.hi === undefined || compareKeys(last.key, l.hi) < 0)) : [];
      const slot = fits.length === 1 ? fits[0]! : undefined;
      const rootOk = slot && (slot.path.length > 0 || items.every((it) => it.flags & BUCKET_LEAF_FLAG));
      if (slot && rootOk) {
        s.addItems(items, slot.bucket, slot.path, slot.path.length, id, 'inferred');
        return;
      }
      const name = new TextEncoder().encode(`${SALVAGED_BUCKET_PREFIX}${id}`);
      const b = newBucket();
      tree.buckets.set(hexOf(name), { name, bucket: b });
      s.addItems(items, b, [name], 1, id, 'salvaged');
    };
    for (const [id, items] of candidates) if (!claimed.has(id) && !s.visited.has(id)) place(id, items);
    // Claimed leaves whose owner never reached them (a cycle among orphans): on their own.
    for (const [id, items] of candidates) if (!s.visited.has(id)) place(id, items);
  }

  // Write the output.
  const db = open(out, { pageSize });
  try {
    db.update((tx) => writeTree(tx.root, tree, true));
  } finally {
    db.close();
  }

  const counts = countTree(tree);
  return {
    file: path,
    output: out,
    pageSize,
    fileSize: bytes.length,
    metas,
    strategy,
    meta: usedMeta ? { page: usedMeta.page, txid: usedMeta.meta.txid } : null,
    rejectedMetas,
    keys: counts.keys,
    buckets: counts.buckets,
    unreadablePages: new Set(s.unreadable.map((u) => u.pgid)).size,
    scannedLeafPages,
    sources: s.sources,
    unreadable: s.unreadable,
  };
}

/** The one-line summary the CLI prints. */
export function salvageSummary(r: SalvageReport): string {
  const from = r.meta ? `meta txid ${r.meta.txid}` : 'no valid meta; page scan only';
  return `salvaged ${r.keys} keys in ${r.buckets} buckets from ${r.file} (${from}); ${r.unreadablePages} pages unreadable`;
}
