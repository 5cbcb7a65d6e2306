// tsctr gc [--dry-run] | gc why OBJECT, and the removals that end in containerd's collector:
// `snapshots [--snapshotter S] rm KEY...` and `containers rm [--keep-snapshot] ID...`, on a stopped root.
//
// gc --dry-run and gc why read meta.db through the read path (lock-free when containerd holds it) and
// change nothing. gc and the removals open meta.db read-write with a short lock timeout and refuse while
// containerd runs. The removals print what ctr 1.6 prints (recorded: fixtures/ctr-rm/); ctr has no gc command,
// so gc prints its own table (STORE TYPE ID), one row per record, snapshot, directory, blob and ingest removed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ErrTimeout } from '../../bolt/index.js';
import { ErrNotFound, ErrInvalidArgument, SnapshotterDB, type MetadataDB } from '../../metadata/index.js';
import { getContainer } from '../../metadata/containers.js';
import { deleteContainer } from '../../metadata/container-store.js';
import { gcPlan, nodeId, whyChain, type GCNode, type GCLink } from '../../metadata/gc.js';
import { garbageCollect, planGarbageCollect, removeBackendAndDir, SUPPORTED_SNAPSHOTTERS, type GCRun } from '../../metadata/gc-cleanup.js';
import { snapshotterRoot } from '../../metadata/root.js';
import { removeSnapshotRecord } from '../../metadata/snapshot-store.js';
import { listImages } from '../../metadata/images.js';
import { listLeases } from '../../metadata/leases.js';
import { listIngests, listContent, isDigest } from '../../metadata/content.js';
import { listSnapshotters, listSnapshotRefs } from '../../metadata/snapshots.js';
import { TabWriter } from '../format/tabwriter.js';
import { RootLockedError, WRITE_LOCK_TIMEOUT_MS, withRootRead, withRootWrite } from './root.js';
import { CtrCommandError, type RepairIO } from './repair.js';
import { logrusLine } from '../format/logrus.js';
import { takeBoolFlags } from './flags.js';

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A snapshotter's database is locked too while containerd runs. */
function lockedAs<T>(root: string, snapshotter: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ErrTimeout) throw new RootLockedError(join(snapshotterRoot(root, snapshotter), 'metadata.db'));
    throw e;
  }
}

/** The gc table: meta.db records, then each dirty snapshotter, then the content store. */
export function formatGCRun(run: GCRun): string {
  const tw = new TabWriter(1, 8, 1, ' ');
  tw.write('STORE\tTYPE\tID\t\n');
  for (const n of run.plan.removed) tw.write(`meta.db\t${n.type}\t${n.namespace}/${n.key}\t\n`);
  for (const s of run.snapshotters) {
    if (!s.supported) {
      tw.write(`${s.snapshotter}\tskipped\t(tsctr cleans native and overlayfs backends only)\t\n`);
      continue;
    }
    for (const b of s.remove) tw.write(`${s.snapshotter}\tsnapshot\t${b.name}\t\n`);
    for (const b of s.refused) tw.write(`${s.snapshotter}\tkept\t${b.name} (cannot remove snapshot with child)\t\n`);
    for (const d of s.dirs) tw.write(`${s.snapshotter}\tdir\t${d}\t\n`);
  }
  for (const d of run.content?.blobs ?? []) tw.write(`content\tblob\t${d}\t\n`);
  for (const r of run.content?.ingests ?? []) tw.write(`content\tingest\t${r}\t\n`);
  return tw.flush();
}

/** Finds what OBJECT names in the namespace: a digest, an image, "<snapshotter>/<key>", a lease, an ingest ref, a container. */
function resolveObject(m: MetadataDB, ns: string, object: string): GCNode {
  return m.view((tx) => {
    const node = (type: GCNode['type'], key: string): GCNode => ({ type, namespace: ns, key });
    if (isDigest(object) && listContent(tx, ns).some((c) => c.digest === object)) return node('content', object);
    if (listImages(tx, ns).some((i) => i.name === object)) return node('image', object);
    const i = object.indexOf('/');
    if (i > 0) {
      const sn = object.slice(0, i);
      const key = object.slice(i + 1);
      if (listSnapshotters(tx, ns).includes(sn) && listSnapshotRefs(tx, ns, sn).some((s) => s.key === key)) return node('snapshot', object);
    }
    if (listLeases(tx, ns).some((l) => l.id === object)) return node('lease', object);
    if (listIngests(tx, ns).some((g) => g.ref === object)) return node('ingest', object);
    if (getContainer(tx, ns, object)) return node('container', object);
    throw new ErrNotFound(`${JSON.stringify(object)} in namespace ${JSON.stringify(ns)}: no image, blob, snapshot (<snapshotter>/<key>), lease, ingest or container of that name: not found`);
  });
}

export function formatChain(node: GCNode, chain: GCLink[] | undefined, note = ''): string {
  if (!chain) return `${nodeId(node)}: not referenced: would be collected${note}\n`;
  return chain.map((l) => `${nodeId(l.node)}: ${l.from ? l.edge : `root (${l.edge})`}\n`).join('');
}

export function gcWhy(root: string, ns: string, object: string, io: RepairIO, now = new Date()): void {
  withRootRead(root, (m) => {
    const node = resolveObject(m, ns, object);
    const plan = m.view((tx) => gcPlan(tx, now));
    // An expired lease is no root: say so, it is the one reason a lease goes.
    const exp = node.type === 'lease' ? m.leases(ns).find((l) => l.id === node.key)?.labels?.['containerd.io/gc.expire'] : undefined;
    io.stdout.write(formatChain(node, whyChain(plan, node), exp !== undefined ? ` (containerd.io/gc.expire=${exp} has passed)` : ''));
  });
}

export function gcDryRun(root: string, io: RepairIO, now = new Date()): void {
  const run = withRootRead(root, (m) => planGarbageCollect(root, m, now));
  io.stdout.write(formatGCRun(run));
  io.stderr.write(gcWarnings(run));
}

/**
 * The backends whose cleanup failed, as containerd logs them (a warning each, with the
 * snapshotter as a field); the collection itself has succeeded.
 */
export function gcWarnings(run: GCRun): string {
  let out = '';
  for (const s of run.snapshotters) {
    if (s.error !== undefined) out += logrusLine('warning', 'snapshot garbage collection failed', s.error, new Date(), { snapshotter: s.snapshotter });
  }
  if (run.contentError !== undefined) out += logrusLine('warning', 'content garbage collection failed', run.contentError);
  return out;
}

/** Refuses before anything is written when a snapshotter's metadata.db is locked (containerd holds them all). */
function checkSnapshottersUnlocked(root: string): void {
  for (const sn of SUPPORTED_SNAPSHOTTERS) {
    const path = join(snapshotterRoot(root, sn), 'metadata.db');
    if (!existsSync(path)) continue;
    lockedAs(root, sn, () => SnapshotterDB.open(path, { readOnly: false, timeout: WRITE_LOCK_TIMEOUT_MS }).close());
  }
}

/** containerd's collection, offline: what `gc` does, and what `images rm --sync` / `leases rm --sync` wait for. */
export function collectGarbage(root: string, now = new Date()): GCRun {
  return withRootWrite(root, (m) => {
    checkSnapshottersUnlocked(root);
    return garbageCollect(root, m, now, WRITE_LOCK_TIMEOUT_MS);
  });
}

export function gcCollect(root: string, io: RepairIO, now = new Date()): void {
  const run = collectGarbage(root, now);
  io.stdout.write(formatGCRun(run));
  io.stderr.write(gcWarnings(run));
}

/** A snapshotter containerd would have loaded on this root: its plugin directory exists. */
function snapshotterLoaded(root: string, sn: string): boolean {
  return sn !== '' && existsSync(snapshotterRoot(root, sn));
}

/**
 * Removes what containerd's GC would after a committed removal: the snapshot's backend record and
 * directory. The removal itself has succeeded by then (ctr has returned), so a failure here is a
 * warning, and what is left waits for the next collection (`tsctr gc` or containerd's).
 */
function cleanupBackend(root: string, snapshotter: string, name: string, io: RepairIO): void {
  try {
    lockedAs(root, snapshotter, () => removeBackendAndDir(root, snapshotter, name, WRITE_LOCK_TIMEOUT_MS));
  } catch (e) {
    io.stderr.write(logrusLine('warning', `${snapshotter} snapshot cleanup failed; the next garbage collection removes what is left`, msg(e)));
  }
}

/**
 * ctr snapshots rm KEY...: stops at the first failure ("failed to remove %q: ..."); the keys before it are removed.
 * Each key's meta.db records go in a transaction of their own (as each snapshotter.Remove); then each backend
 * snapshot (record + directory), as the collection containerd schedules right after would remove it.
 */
export function snapshotsRm(root: string, ns: string, snapshotter: string, keys: string[], io: RepairIO): void {
  if (keys.length === 0) return;
  if (!snapshotterLoaded(root, snapshotter)) throw new CtrCommandError(`failed to remove ${JSON.stringify(keys[0])}: snapshotter not loaded: ${snapshotter}: invalid argument`);
  let failure: string | undefined;
  // One transaction per key, as each snapshotter.Remove of ctr's loop: a failing key is rolled back alone.
  const names = withRootWrite(root, (m) => {
    const out: string[] = [];
    for (const k of keys) {
      try {
        out.push(m.update((tx) => removeSnapshotRecord(tx, ns, snapshotter, k)));
      } catch (e) {
        failure = `failed to remove ${JSON.stringify(k)}: ${msg(e)}`;
        break;
      }
    }
    return out;
  });
  for (const n of names) if (n !== '') cleanupBackend(root, snapshotter, n, io);
  if (failure !== undefined) throw new CtrCommandError(failure);
}

/**
 * ctr containers rm [--keep-snapshot] ID...: each container's snapshot first (unless kept; a missing one is fine),
 * then the container; a failing ID is logged and the next one tried; the first error is returned.
 */
export function containersRm(root: string, ns: string, ids: string[], keepSnapshot: boolean, io: RepairIO): void {
  if (ids.length === 0) throw new CtrCommandError('must specify at least one container to delete: invalid argument');
  const errors: string[] = [];
  const removedSnapshots: [string, string][] = [];
  // One transaction per container (containerd's Delete of each): a failing one is rolled back alone,
  // and when every one fails the file is left as it was.
  withRootWrite(root, (m) => {
    for (const id of ids) {
      try {
        // The snapshot's backend directory goes only once the transaction that removed its record committed.
        const removed = m.update((tx): [string, string] | undefined => {
          const c = getContainer(tx, ns, id);
          if (!c) throw new ErrNotFound(`container ${JSON.stringify(id)} in namespace ${JSON.stringify(ns)}: not found`);
          let snapshot: [string, string] | undefined;
          if (!keepSnapshot && c.snapshotKey !== '') {
            if (c.snapshotter === '') throw new ErrInvalidArgument('container.Snapshotter must be set to cleanup rootfs snapshot: invalid argument');
            if (!snapshotterLoaded(root, c.snapshotter)) throw new ErrInvalidArgument(`snapshotter not loaded: ${c.snapshotter}: invalid argument`);
            try {
              const name = removeSnapshotRecord(tx, ns, c.snapshotter, c.snapshotKey);
              if (name !== '') snapshot = [c.snapshotter, name];
            } catch (e) {
              if (!(e instanceof ErrNotFound)) throw e;
            }
          }
          deleteContainer(tx, ns, id);
          return snapshot;
        });
        if (removed) removedSnapshots.push(removed);
      } catch (e) {
        errors.push(msg(e));
        io.stderr.write(logrusLine('error', `failed to delete container ${JSON.stringify(id)}`, msg(e)));
      }
    }
  });
  for (const [sn, name] of removedSnapshots) cleanupBackend(root, sn, name, io);
  if (errors.length > 0) throw new CtrCommandError(errors[0]!);
}

const RM = new Set(['rm', 'remove', 'delete', 'del']);

/**
 * gc, snapshots rm and containers rm; undefined when the command is none of them. `argv` is what follows the
 * command name (e.g. ["--snapshotter", "native", "rm", "k"] for snapshots).
 */
export function runGC(root: string, ns: string, cmd: string, argv: string[], io: RepairIO, env: NodeJS.ProcessEnv): number | undefined {
  if (cmd === 'gc') {
    if (argv[0] === 'why') {
      const object = argv[1];
      if (object === undefined || argv.length !== 2) throw new CtrCommandError('usage: gc why OBJECT (an image, a digest, <snapshotter>/<key>, a lease)', { exitCode: 2 });
      gcWhy(root, ns, object, io);
      return 0;
    }
    const f = takeBoolFlags(argv, ['dry-run', 'n']);
    if (f.args.length > 0) throw new CtrCommandError(`gc: unexpected argument ${f.args[0]}`, { exitCode: 2 });
    if (f.flags.size > 0) gcDryRun(root, io);
    else gcCollect(root, io);
    return 0;
  }
  if (cmd === 'snapshots' || cmd === 'snapshot') {
    let snapshotter = env.CONTAINERD_SNAPSHOTTER || 'overlayfs';
    let i = 0;
    for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
      const mm = /^--?snapshotter(?:=(.*))?$/s.exec(argv[i]!);
      if (!mm) return undefined; // the listing commands report their own flag errors
      const v = mm[1] ?? argv[++i];
      if (v === undefined) return undefined;
      snapshotter = v || 'overlayfs'; // ctr: an empty value stands for the default
    }
    if (!RM.has(argv[i] ?? '')) return undefined;
    snapshotsRm(root, ns, snapshotter, takeBoolFlags(argv.slice(i + 1), []).args, io);
    return 0;
  }
  if ((cmd === 'containers' || cmd === 'container' || cmd === 'c') && RM.has(argv[0] ?? '')) {
    const f = takeBoolFlags(argv.slice(1), ['keep-snapshot']);
    containersRm(root, ns, f.args, f.flags.has('keep-snapshot'), io);
    return 0;
  }
  return undefined;
}
