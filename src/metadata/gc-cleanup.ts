// What containerd 1.6 does after its metadata sweep (metadata/db.go GarbageCollect): for each snapshotter
// that lost a snapshot record, the snapshotter's garbageCollect (metadata/snapshot.go: remove every backend
// snapshot no namespace's record names, children first, then the snapshotter's Cleanup); when a blob or
// ingest record went, the content store's garbageCollect (metadata/content.go: delete every blob no
// namespace holds a record of, nor an ingest expects, and abort every ingest no record names).
//
// Planning reads only (nothing is opened for writing); applying is separate, so `gc --dry-run` and `gc`
// print the same plan.
//
//   <root>/io.containerd.snapshotter.v1.<sn>/metadata.db     backend records (snapshotter.ts)
//   <root>/io.containerd.snapshotter.v1.<sn>/snapshots/<id>  overlayfs: fs/ + work/; native: the tree itself
//   <root>/io.containerd.content.v1.content/blobs/<alg>/<hex>, ingest/<sha256(ref)>/ref

import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Tx } from '../bolt/index.js';
import {
  BUCKET_KEY_EXPECTED,
  BUCKET_KEY_NAME,
  BUCKET_KEY_OBJECT_BLOB,
  BUCKET_KEY_OBJECT_CONTENT,
  BUCKET_KEY_OBJECT_INGESTS,
  BUCKET_KEY_OBJECT_SNAPSHOTS,
  BUCKET_KEY_REF,
  SCHEMA_VERSION,
  childBuckets,
  str,
} from './buckets.js';
import { isDigest } from './content.js';
import { ErrFailedPrecondition } from './errors.js';
import type { MetadataDB } from './db.js';
import { gcPlan, nodeId, removeGarbage, splitSnapshotKey, type GCNode, type GCPlan } from './gc.js';
import { removeSnapshotDir, SnapshotterDB, type BackendSnapshot } from './snapshotter.js';
import { CONTENT_DIR, snapshotterRoot } from './root.js';

/** Snapshotters whose removal layout we know (overlayfs is async-remove + Cleanup; native removes its dir). */
export const SUPPORTED_SNAPSHOTTERS = ['native', 'overlayfs'] as const;

/** What the metadata records still name once `removed` are gone: the seen sets of the backends' collectors. */
export interface LiveRefs {
  /** Backend snapshot names per snapshotter (snapshots/<sn>/<key>/name over every namespace). */
  snapshots: Map<string, Set<string>>;
  /** Digests with a blob record in some namespace, or an ingest's expected digest. */
  content: Set<string>;
  /** Backend refs of the ingest records. */
  ingests: Set<string>;
}

export function liveRefs(tx: Tx, removed: GCNode[] = []): LiveRefs {
  const gone = new Set(removed.map(nodeId));
  const out: LiveRefs = { snapshots: new Map(), content: new Set(), ingests: new Set() };
  const v1 = tx.bucket(SCHEMA_VERSION);
  for (const ns of childBuckets(v1)) {
    const nbkt = v1!.bucket(ns)!;
    const sbkt = nbkt.bucket(BUCKET_KEY_OBJECT_SNAPSHOTS);
    for (const sn of childBuckets(sbkt)) {
      const ssbkt = sbkt!.bucket(sn)!;
      const seen = out.snapshots.get(sn) ?? new Set<string>();
      out.snapshots.set(sn, seen);
      for (const k of childBuckets(ssbkt)) {
        if (gone.has(nodeId({ type: 'snapshot', namespace: ns, key: `${sn}/${k}` }))) continue;
        const name = ssbkt.bucket(k)!.get(BUCKET_KEY_NAME);
        if (name && name.length > 0) seen.add(str(name));
      }
    }
    const cbkt = nbkt.bucket(BUCKET_KEY_OBJECT_CONTENT);
    for (const d of childBuckets(cbkt?.bucket(BUCKET_KEY_OBJECT_BLOB))) {
      if (!gone.has(nodeId({ type: 'content', namespace: ns, key: d }))) out.content.add(d);
    }
    const ibkt = cbkt?.bucket(BUCKET_KEY_OBJECT_INGESTS);
    for (const r of childBuckets(ibkt)) {
      if (gone.has(nodeId({ type: 'ingest', namespace: ns, key: r }))) continue;
      const b = ibkt!.bucket(r)!;
      const expected = b.get(BUCKET_KEY_EXPECTED);
      if (expected && expected.length > 0) out.content.add(str(expected));
      const bref = b.get(BUCKET_KEY_REF);
      if (bref && bref.length > 0) out.ingests.add(str(bref));
    }
  }
  return out;
}

/** The backends GarbageCollect cleans after removing `removed`: dirtySS (snapshotter names) and dirtyCS. */
export function dirtyStores(removed: GCNode[]): { snapshotters: string[]; content: boolean } {
  const ss = new Set<string>();
  let content = false;
  for (const n of removed) {
    if (n.type === 'snapshot') {
      const parts = splitSnapshotKey(n.key);
      if (parts && parts[0] !== '') ss.add(parts[0]);
    } else if (n.type === 'content' || n.type === 'ingest') content = true;
  }
  return { snapshotters: [...ss].sort(), content };
}

export interface SnapshotterCleanup {
  snapshotter: string;
  /** False when the snapshotter's plugin directory (or metadata.db) is absent, or its layout is not one we know. */
  supported: boolean;
  /** Backend snapshots removed, in pruneBranch order (children first). */
  remove: BackendSnapshot[];
  /** Unreferenced but kept: a child stays ("cannot remove snapshot with child", logged as a warning by containerd). */
  refused: BackendSnapshot[];
  /** Directories removed, relative to the snapshotter root ("snapshots/<id>"). */
  dirs: string[];
  /**
   * Why this snapshotter's cleanup failed or was held back (containerd logs a failed snapshotter
   * collection as a warning; the meta.db removals stand and what is left waits for the next run).
   */
  error?: string;
}

interface TreeNode {
  info?: BackendSnapshot;
  remove: boolean;
  children: TreeNode[];
}

/** The snapshotter's garbageCollect (walkTree + pruneBranch) and, for overlayfs, Cleanup; reads only. */
export function planSnapshotterCleanup(root: string, snapshotter: string, seen: Set<string>): SnapshotterCleanup {
  const sroot = snapshotterRoot(root, snapshotter);
  const dbPath = join(sroot, 'metadata.db');
  const out: SnapshotterCleanup = { snapshotter, supported: false, remove: [], refused: [], dirs: [] };
  if (!(SUPPORTED_SNAPSHOTTERS as readonly string[]).includes(snapshotter) || !existsSync(dbPath)) return out;
  out.supported = true;
  const sdb = SnapshotterDB.open(dbPath, { readOnly: true });
  let list: BackendSnapshot[];
  let parents: [number, number, string][];
  let unreadable: string[];
  try {
    list = sdb.list();
    parents = sdb.parents();
    unreadable = sdb.unreadableRecords();
  } finally {
    sdb.close();
  }
  const roots: TreeNode[] = [];
  const nodes = new Map<string, TreeNode>();
  for (const info of list) {
    let node = nodes.get(info.name);
    if (!node) nodes.set(info.name, (node = { remove: false, children: [] }));
    node.remove = !seen.has(info.name);
    node.info = info;
    if (info.parent === '') roots.push(node);
    else {
      let p = nodes.get(info.parent);
      if (!p) nodes.set(info.parent, (p = { remove: false, children: [] }));
      p.children.push(node);
    }
  }
  // storage.Remove refuses while the parents index has an entry under the snapshot's id.
  const childCount = new Map<number, number>();
  for (const [p] of parents) childCount.set(p, (childCount.get(p) ?? 0) + 1);
  const byName = new Map(list.map((s) => [s.name, s]));
  const prune = (node: TreeNode): void => {
    for (const c of node.children) prune(c);
    if (!node.remove || !node.info) return;
    if ((childCount.get(node.info.id) ?? 0) > 0) {
      out.refused.push(node.info);
      return;
    }
    out.remove.push(node.info);
    const parent = node.info.parent === '' ? undefined : byName.get(node.info.parent);
    if (parent) childCount.set(parent.id, (childCount.get(parent.id) ?? 1) - 1);
  };
  for (const r of roots) prune(r);
  if (snapshotter === 'native') {
    for (const s of out.remove) if (existsSync(join(sroot, 'snapshots', String(s.id)))) out.dirs.push(`snapshots/${s.id}`);
  } else if (unreadable.length > 0) {
    // Ours, not containerd's: a record whose id cannot be read still owns some directory, and the
    // sweep below would delete it. The records are removed; the directories wait for a repair.
    out.error = `not sweeping snapshots/: ${unreadable.length} backend record(s) unreadable (${unreadable.slice(0, 3).join(', ')}${unreadable.length > 3 ? ', ...' : ''})`;
  } else {
    // overlayfs removes asynchronously: Cleanup deletes every snapshots/ entry that no remaining record's id names.
    const removedNames = new Set(out.remove.map((s) => s.name));
    const ids = new Set(list.filter((s) => !removedNames.has(s.name)).map((s) => String(s.id)));
    let entries: string[] = [];
    try {
      entries = readdirSync(join(sroot, 'snapshots')).sort();
    } catch {
      entries = [];
    }
    for (const d of entries) if (!ids.has(d)) out.dirs.push(`snapshots/${d}`);
  }
  return out;
}

/** Applies a snapshotter plan: the records in one transaction of the snapshotter's metadata.db, then the directories. */
export function applySnapshotterCleanup(root: string, plan: SnapshotterCleanup, timeout: number): void {
  if (!plan.supported || (plan.remove.length === 0 && plan.dirs.length === 0)) return;
  const sroot = snapshotterRoot(root, plan.snapshotter);
  if (plan.remove.length > 0) {
    const sdb = SnapshotterDB.open(join(sroot, 'metadata.db'), { readOnly: false, timeout });
    try {
      sdb.remove(...plan.remove.map((s) => s.name));
    } finally {
      sdb.close();
    }
  }
  for (const d of plan.dirs) rmSync(join(sroot, d), { recursive: true, force: true });
}

export interface ContentCleanup {
  /** Blob files no record holds nor ingest expects ("sha256:<hex>"), in path order. */
  blobs: string[];
  /** Backend ingest refs ("<ns>/<seq>/<ref>") no ingest record names, in directory order. */
  ingests: string[];
}

/** The content store's garbageCollect: reads the directories only. */
export function planContentCleanup(root: string, live: LiveRefs): ContentCleanup {
  const dir = join(root, CONTENT_DIR);
  const out: ContentCleanup = { blobs: [], ingests: [] };
  const ls = (p: string): string[] => {
    try {
      return readdirSync(p).sort();
    } catch {
      return [];
    }
  };
  for (const alg of ls(join(dir, 'blobs'))) {
    for (const hex of ls(join(dir, 'blobs', alg))) {
      const d = `${alg}:${hex}`;
      if (!isDigest(d)) continue;
      try {
        if (!lstatSync(join(dir, 'blobs', alg, hex)).isFile()) continue;
      } catch {
        continue;
      }
      if (!live.content.has(d)) out.blobs.push(d);
    }
  }
  for (const name of ls(join(dir, 'ingest'))) {
    let ref: string;
    try {
      ref = readFileSync(join(dir, 'ingest', name, 'ref'), 'utf8');
    } catch {
      continue; // containerd logs "failed to read ingest ref" and goes on
    }
    if (!live.ingests.has(ref)) out.ingests.push(ref);
  }
  return out;
}

export function ingestDirName(ref: string): string {
  return createHash('sha256').update(ref).digest('hex');
}

export function applyContentCleanup(root: string, plan: ContentCleanup): void {
  const dir = join(root, CONTENT_DIR);
  for (const d of plan.blobs) {
    const [alg, hex] = d.split(':') as [string, string];
    try {
      unlinkSync(join(dir, 'blobs', alg, hex));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  for (const ref of plan.ingests) rmSync(join(dir, 'ingest', ingestDirName(ref)), { recursive: true, force: true });
}

/** Removes one backend snapshot as the metadata snapshotter's Remove + the GC right after it would (ctr snapshots rm). */
export function removeBackendAndDir(root: string, snapshotter: string, name: string, timeout: number): boolean {
  if (!(SUPPORTED_SNAPSHOTTERS as readonly string[]).includes(snapshotter)) return false;
  const sroot = snapshotterRoot(root, snapshotter);
  const dbPath = join(sroot, 'metadata.db');
  if (!existsSync(dbPath)) return false;
  const sdb = SnapshotterDB.open(dbPath, { readOnly: false, timeout });
  let id: number;
  try {
    if (!sdb.list().some((s) => s.name === name)) return false;
    try {
      id = sdb.remove(name)[0]!.id;
    } catch (e) {
      if (e instanceof ErrFailedPrecondition) return false; // a child stays in the backend: left to containerd's GC
      throw e;
    }
  } finally {
    sdb.close();
  }
  removeSnapshotDir(sroot, id);
  return true;
}

// ---- the whole collection ---------------------------------------------------------------------

export interface GCRun {
  plan: GCPlan;
  /** One entry per dirty snapshotter (sorted by name). */
  snapshotters: SnapshotterCleanup[];
  /** Present when a blob or ingest record was removed (containerd's dirtyCS). */
  content?: ContentCleanup;
  /** Why the content store's cleanup failed (a warning, as containerd logs it). */
  contentError?: string;
}

/** The text of an error a backend's cleanup reports as a warning: ours or Node's (with a code); anything else is a bug and goes up. */
function message(e: unknown): string {
  if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') return e.message;
  throw e;
}

/**
 * The backends' part of a collection, each on its own: one that cannot be read (a damaged
 * snapshotter database) is reported in its `error` and the others go on, as containerd runs
 * each snapshotter's and the content store's collection apart and only logs their failures.
 */
function planBackends(root: string, tx: Tx, plan: GCPlan, pending: GCNode[]): Omit<GCRun, 'plan'> {
  const live = liveRefs(tx, pending);
  const dirty = dirtyStores(plan.removed);
  const out: Omit<GCRun, 'plan'> = {
    snapshotters: dirty.snapshotters.map((sn) => {
      try {
        return planSnapshotterCleanup(root, sn, live.snapshots.get(sn) ?? new Set());
      } catch (e) {
        return { snapshotter: sn, supported: true, remove: [], refused: [], dirs: [], error: message(e) };
      }
    }),
  };
  if (dirty.content) {
    try {
      out.content = planContentCleanup(root, live);
    } catch (e) {
      out.contentError = message(e);
    }
  }
  return out;
}

/** What `garbageCollect` would do now, from a read transaction of meta.db (nothing is written anywhere). */
export function planGarbageCollect(root: string, m: MetadataDB, now: Date = new Date()): GCRun {
  return m.view((tx) => {
    const plan = gcPlan(tx, now);
    return { plan, ...planBackends(root, tx, plan, plan.removed) };
  });
}

/**
 * containerd 1.6's GarbageCollect on a stopped root: the records in one meta.db transaction, then each dirty
 * snapshotter (its records in one transaction of its metadata.db, then directories), then the content store's
 * files. `m` must be open read-write; snapshotter databases are opened with `timeout`.
 */
export function garbageCollect(root: string, m: MetadataDB, now: Date = new Date(), timeout = 500): GCRun {
  const plan = m.update((tx) => {
    const p = gcPlan(tx, now);
    removeGarbage(tx, p.removed);
    return p;
  });
  const run: GCRun = { plan, ...m.view((tx) => planBackends(root, tx, plan, [])) };
  for (const s of run.snapshotters) {
    try {
      applySnapshotterCleanup(root, s, timeout);
    } catch (e) {
      s.error = message(e);
    }
  }
  if (run.content) {
    try {
      applyContentCleanup(root, run.content);
    } catch (e) {
      run.contentError = message(e);
    }
  }
  return run;
}
