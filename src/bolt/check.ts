// Consistency check with bbolt 1.3.7's invariants and messages (tx_check.go):
//   - no page is freed twice;
//   - every page of every bucket is referenced once, is a branch or leaf, is not free, and
//     lies below the high-water mark;
//   - keys are sorted within pages and lie between their ancestors' separator keys;
//   - every page below the high-water mark is reachable (metas, freelist, trees) or free.
// Unlike Go, a hostile file does not stop the check: pages past the end of the file, cycles
// and unreadable elements become findings of their own, and the walk goes on. And unlike Go, the
// check ends on every file: Go walks a bucket as often as it is referenced, so a bucket value
// that points at an enclosing bucket's root recurses until the stack overflows, and buckets
// whose values share roots fan out exponentially. Here a bucket root that was checked already
// is reported once (`page N: multiple references`, or a cycle when it encloses the bucket) and
// not walked again; the names of nested buckets come from the walk (each leaf read once, where
// Go's cursor reads a leaf once per path to it); and all walks together visit at most
// VISITS_PER_PAGE pages per page of the file (a sound file needs one each), past which the check
// says it stopped and names no page "unreachable unfreed" (it could not tell).

import type { Bucket } from './bucket.js';
import { BoltError, CorruptionError } from './errors.js';
import { BRANCH_PAGE_FLAG, BUCKET_LEAF_FLAG, LEAF_PAGE_FLAG, Page, compareKeys, pageTypeName } from './page.js';
import type { Tx } from './tx.js';
import { readFreelistIds } from './freelist.js';
import { MAX_DEPTH } from './cursor.js';

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const goSlice = (s: readonly number[]): string => `[${s.join(' ')}]`;

function errText(e: unknown): string {
  if (e instanceof BoltError) return e.message;
  throw e;
}

/**
 * The free and pending ids as the transaction's snapshot recorded them. A write
 * transaction uses the database's live freelist (as bbolt does); a read transaction uses
 * the freelist page of its own meta (or a scan), so a reader that began before later
 * commits is checked against its own snapshot, not against pages freed since, nor against
 * what a write transaction still in progress has freed or allocated. (bbolt checks a read
 * transaction against the live freelist, so a Check that runs while a writer has deleted a
 * bucket reports "reachable freed" for pages the reader can still see; we do not.)
 */
function snapshotFreeIds(tx: Tx): number[] {
  const db = tx.db;
  if (tx.writable) return db.loadFreelist().copyall();
  if (tx.meta.freelist !== undefined) return readFreelistIds(tx.page(tx.meta.freelist));
  const reachable = reachablePages(tx);
  const ids: number[] = [];
  for (let i = 2; i < tx.meta.pgid; i++) if (!reachable.has(i)) ids.push(i);
  return ids;
}

export function* checkTx(tx: Tx): Generator<string> {
  let all: number[];
  try {
    all = snapshotFreeIds(tx);
  } catch (e) {
    yield `freelist: ${errText(e)}`;
    all = [];
  }
  const freed = new Set<number>();
  for (const id of all) {
    if (freed.has(id)) yield `page ${id}: already freed`;
    freed.add(id);
  }

  const reachable = new Set<number>([0, 1]);
  if (tx.meta.freelist !== undefined) {
    let overflow = 0;
    try {
      overflow = tx.page(tx.meta.freelist).overflow;
    } catch (e) {
      yield `page ${tx.meta.freelist}: ${errText(e)}`;
    }
    for (let i = 0; i <= overflow; i++) reachable.add(tx.meta.freelist + i);
  }

  const budget = VISITS_PER_PAGE * (tx.meta.pgid + 16);
  const state: CheckState = { reachable, freed, visits: budget, keyVisits: budget, roots: new Set(), enclosing: [] };
  yield* checkBucket(tx, tx.root, state);

  if (state.visits < 0 || state.keyVisits < 0) {
    yield `check stopped after ${budget} page visits: the page trees share pages (unreachable pages not reported)`;
    return;
  }
  for (let i = 0; i < tx.meta.pgid; i++) {
    if (!reachable.has(i) && !freed.has(i)) yield `page ${i}: unreachable unfreed`;
  }
}

/** How many page visits per page of the file all walks of one check may make together. */
const VISITS_PER_PAGE = 16;

interface CheckState {
  reachable: Set<number>;
  freed: Set<number>;
  /** Page visits left for the page walks and for the key-order walks. */
  visits: number;
  keyVisits: number;
  /** Root pages of the buckets checked so far, and of the buckets enclosing the current one. */
  roots: Set<number>;
  enclosing: number[];
}

function* checkBucket(tx: Tx, b: Bucket, state: CheckState): Generator<string> {
  if (b.root === 0) return;
  const { reachable, freed } = state;
  state.roots.add(b.root);
  // Pages of this bucket. A page seen before is reported and not descended into again,
  // so cycles end.
  const stack: number[] = [b.root];
  const findings: string[] = [];
  // The names of the nested buckets, from the leaves in the walk's order (a cursor's), each
  // leaf read once: a cursor reads a leaf once per reference, and under branch pages that
  // share children that is exponential.
  const names: Uint8Array[] = [];
  const leaves = new Set<number>();
  // Go walks a page as often as it is referenced; so do we, except around a cycle (a page
  // that is its own ancestor) and past the visit budget (a DAG can fan out exponentially).
  const walk = (): void => {
    if (--state.visits < 0) return;
    const ref = stack[stack.length - 1]!;
    let p: Page;
    try {
      p = tx.page(ref);
    } catch (e) {
      findings.push(`page ${ref}: ${errText(e)} (stack: ${goSlice(stack)})`);
      return;
    }
    const id = p.id;
    if (id > tx.meta.pgid) findings.push(`page ${id}: out of bounds: ${tx.meta.pgid} (stack: ${goSlice(stack)})`);
    for (let i = 0; i <= p.overflow; i++) {
      if (reachable.has(id + i)) findings.push(`page ${id + i}: multiple references (stack: ${goSlice(stack)})`);
      reachable.add(id + i);
    }
    if (freed.has(id)) findings.push(`page ${id}: reachable freed`);
    else if ((p.flags & (BRANCH_PAGE_FLAG | LEAF_PAGE_FLAG)) === 0) findings.push(`page ${id}: invalid type: ${pageTypeName(p.flags)} (stack: ${goSlice(stack)})`);
    if (stack.indexOf(ref) !== stack.length - 1) {
      findings.push(`page ${ref}: cycle in the page tree (stack: ${goSlice(stack)})`);
      return;
    }
    if (p.flags & BRANCH_PAGE_FLAG) {
      if (stack.length >= MAX_DEPTH) {
        findings.push(`page ${id}: tree deeper than ${MAX_DEPTH} levels (stack: ${goSlice(stack)})`);
        return;
      }
      for (let i = 0; i < p.count; i++) {
        let child: number;
        try {
          child = p.branchPgid(i);
        } catch (e) {
          findings.push(`page ${id}: ${errText(e)}`);
          continue;
        }
        stack.push(child);
        walk();
        stack.pop();
      }
    } else if ((p.flags & LEAF_PAGE_FLAG) === 0 && !leaves.has(ref)) {
      // Where bbolt's ForEach over the bucket panics (a cursor reaches a page of no known type).
      leaves.add(ref);
      findings.push(`bucket at page ${b.root}: invalid page type: ${ref}: ${p.flags.toString(16)}`);
    } else if (p.flags & LEAF_PAGE_FLAG && !leaves.has(ref)) {
      leaves.add(ref);
      try {
        for (let i = 0; i < p.count; i++) if (p.leafFlags(i) & BUCKET_LEAF_FLAG) names.push(p.leafKey(i));
      } catch (e) {
        findings.push(`page ${id}: ${errText(e)} (stack: ${goSlice(stack)})`);
      }
    }
  };
  walk();
  yield* findings;
  yield* checkKeyOrder(tx, b.root, state);

  // Nested buckets, by name (as bbolt's ForEach then Bucket(name)).
  for (const k of names) {
    let child: Bucket | undefined;
    try {
      child = b.bucket(k);
    } catch (e) {
      yield `bucket ${hex(k)}: ${errText(e)}`;
      continue;
    }
    if (!child || child.root === 0) continue;
    if (state.roots.has(child.root)) {
      // Checked already (Go would walk it again, and again below it).
      yield state.enclosing.includes(child.root) || child.root === b.root
        ? `bucket ${hex(k)}: cycle in the bucket tree: its root page ${child.root} is the root of an enclosing bucket`
        : `page ${child.root}: multiple references (stack: [${child.root}])`;
      continue;
    }
    state.enclosing.push(b.root);
    try {
      yield* checkBucket(tx, child, state);
    } finally {
      state.enclosing.pop();
    }
  }
}

/** bbolt's recursivelyCheckPages: key order within pages and against ancestors. */
function checkKeyOrder(tx: Tx, root: number, state: CheckState): string[] {
  const out: string[] = [];
  const rec = (pgid: number, minKeyClosed: Uint8Array | undefined, maxKeyOpen: Uint8Array | undefined, stack: number[]): Uint8Array | undefined => {
    let p: Page;
    try {
      p = tx.page(pgid);
    } catch {
      return undefined; // reported by the page walk
    }
    if (stack.includes(pgid) || stack.length >= MAX_DEPTH || --state.keyVisits < 0) return undefined;
    stack = [...stack, pgid];
    let maxKeyInSubtree: Uint8Array | undefined;
    try {
      if (p.flags & BRANCH_PAGE_FLAG) {
        let runningMin = minKeyClosed;
        const n = p.count;
        for (let i = 0; i < n; i++) {
          const key = p.branchKey(i);
          const child = p.branchPgid(i);
          verifyKeyOrder(out, child, 'branch', i, key, runningMin, maxKeyOpen, stack);
          const maxKey = i < n - 1 ? p.branchKey(i + 1) : maxKeyOpen;
          maxKeyInSubtree = rec(child, key, maxKey, stack);
          runningMin = maxKeyInSubtree;
        }
        return maxKeyInSubtree;
      } else if (p.flags & LEAF_PAGE_FLAG) {
        let runningMin = minKeyClosed;
        const n = p.count;
        for (let i = 0; i < n; i++) {
          const key = p.leafKey(i);
          verifyKeyOrder(out, pgid, 'leaf', i, key, runningMin, maxKeyOpen, stack);
          runningMin = key;
        }
        if (n > 0) return p.leafKey(n - 1);
      } else {
        out.push(`unexpected page type for pgId:${pgid}`);
      }
    } catch (e) {
      out.push(`page ${pgid}: ${errText(e)}`);
    }
    return maxKeyInSubtree;
  };
  rec(root, undefined, undefined, []);
  return out;
}

function verifyKeyOrder(
  out: string[],
  pgid: number,
  pageType: string,
  index: number,
  key: Uint8Array,
  previousKey: Uint8Array | undefined,
  maxKeyOpen: Uint8Array | undefined,
  stack: number[],
): void {
  if (index === 0 && previousKey !== undefined && compareKeys(previousKey, key) > 0) {
    out.push(`the first key[${index}]=(hex)${hex(key)} on ${pageType} page(${pgid}) needs to be >= the key in the ancestor (${hex(previousKey)}). Stack: ${goSlice(stack)}`);
  }
  if (index > 0) {
    const cmp = compareKeys(previousKey ?? new Uint8Array(0), key);
    if (cmp > 0) out.push(`key[${index}]=(hex)${hex(key)} on ${pageType} page(${pgid}) needs to be > (found <) than previous element (hex)${hex(previousKey!)}. Stack: ${goSlice(stack)}`);
    if (cmp === 0) out.push(`key[${index}]=(hex)${hex(key)} on ${pageType} page(${pgid}) needs to be > (found =) than previous element (hex)${hex(previousKey!)}. Stack: ${goSlice(stack)}`);
  }
  if (maxKeyOpen !== undefined && compareKeys(key, maxKeyOpen) >= 0) {
    out.push(`key[${index}]=(hex)${hex(key)} on ${pageType} page(${pgid}) needs to be < than key of the next element in ancestor (hex)${hex(previousKey ?? new Uint8Array(0))}. Pages stack: ${goSlice(stack)}`);
  }
}

/**
 * Ids of every page reachable from the root (metas, freelist, all bucket trees). Each page is
 * read once: a page reached before (shared by two trees, or its own ancestor) is not walked
 * again, so hostile files cost no more than sound ones.
 */
export function reachablePages(tx: Tx): Set<number> {
  const reachable = new Set<number>([0, 1]);
  if (tx.meta.freelist !== undefined) {
    const ov = tx.page(tx.meta.freelist).overflow;
    for (let i = 0; i <= ov; i++) reachable.add(tx.meta.freelist + i);
  }
  // By the id referenced (reachable takes the id in the page's header, as bbolt's does).
  const read = new Set<number>();
  const visit = (b: Bucket): void => {
    if (b.root === 0) return; // inline (bbolt's freepages ignores what an inline bucket holds, too)
    const walk = (id: number, depth: number): void => {
      if (read.has(id)) return;
      read.add(id);
      if (depth > MAX_DEPTH) throw new CorruptionError(`page ${id}: tree deeper than ${MAX_DEPTH} levels`, id);
      const p = tx.page(id);
      for (let i = 0; i <= p.overflow; i++) reachable.add(p.id + i);
      if (p.flags & BRANCH_PAGE_FLAG) {
        for (let i = 0; i < p.count; i++) walk(p.branchPgid(i), depth + 1);
      } else if (p.flags & LEAF_PAGE_FLAG) {
        for (let i = 0; i < p.count; i++) if (p.leafFlags(i) & BUCKET_LEAF_FLAG) visit(b.openBucket(p.leafValue(i)));
      }
    };
    walk(b.root, 0);
  };
  visit(tx.root);
  return reachable;
}
