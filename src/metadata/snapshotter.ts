// A snapshotter's own metadata.db (io.containerd.snapshotter.v1.<name>/metadata.db; snapshots/storage/bolt.go).
//
//   v1/
//   ├── snapshots/<backend name>/
//   │   ├── id          unsigned varint, names the directory snapshots/<id>
//   │   ├── kind        1 byte: 1 View, 2 Active, 3 Committed
//   │   ├── parent      backend name of the parent (absent for roots)
//   │   ├── createdat, updatedat   time.MarshalBinary
//   │   ├── labels/     string map
//   │   └── inodes, size            signed varints (committed snapshots' usage)
//   └── parents/<uvarint parent id> 0x00 <uvarint child id> = child backend name

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Bucket, type DB, type Tx } from '../bolt/index.js';
import { BUCKET_KEY_PARENT, getBucket, readLabels, readTimestamps, str } from './buckets.js';
import { decodeUvarint, encodeUvarint, goUvarint, goVarint, type GoTime } from './encoding.js';
import { ErrFailedPrecondition, ErrNotFound } from './errors.js';

export const KIND_VIEW = 1;
export const KIND_ACTIVE = 2;
export const KIND_COMMITTED = 3;

export type SnapshotKind = 'View' | 'Active' | 'Committed' | 'Unknown';

/** snapshots.Kind.String(). */
export function kindName(k: number): SnapshotKind {
  return k === KIND_VIEW ? 'View' : k === KIND_ACTIVE ? 'Active' : k === KIND_COMMITTED ? 'Committed' : 'Unknown';
}

export interface BackendSnapshot {
  name: string;
  id: number;
  kind: SnapshotKind;
  parent: string;
  createdAt: GoTime;
  updatedAt: GoTime;
  labels?: Record<string, string>;
  inodes: number;
  size: number;
}

/** The directory holding a snapshot's files under the snapshotter root. */
export function snapshotDir(snapshotterRoot: string, snapshotter: string, id: number): string {
  return snapshotter === 'overlayfs' ? join(snapshotterRoot, 'snapshots', String(id), 'fs') : join(snapshotterRoot, 'snapshots', String(id));
}

export class SnapshotterDB {
  private constructor(readonly db: DB) {}

  /** Read-only opens never wait for containerd's lock; read-write ones wait `timeout` ms (0 = forever) and throw ErrTimeout. */
  static open(path: string, options: { readOnly?: boolean; timeout?: number } = { readOnly: true }): SnapshotterDB {
    const readOnly = options.readOnly ?? true;
    return new SnapshotterDB(open(path, readOnly ? { readOnly, lock: 'auto' } : { readOnly, ...(options.timeout !== undefined ? { timeout: options.timeout } : {}) }));
  }

  /** storage.Remove of each name in one write transaction (all or nothing). */
  remove(...names: string[]): RemovedSnapshot[] {
    return this.db.update((tx) => names.map((n) => removeBackendSnapshot(tx, n)));
  }

  close(): void {
    this.db.close();
  }

  /** Every snapshot in backend-name order. */
  list(): BackendSnapshot[] {
    return this.db.view((tx) => {
      const bkt = getBucket(tx, 'v1', 'snapshots');
      const out: BackendSnapshot[] = [];
      bkt?.forEach((k, v) => {
        if (v === undefined) out.push(readBackendSnapshot(str(k), bkt.bucket(k)!));
      });
      return out;
    });
  }

  /**
   * storage.GetInfo of one snapshot, reading only its record; ErrNotFound with containerd's texts
   * (withSnapshotBucket) when it or the buckets above it are missing.
   */
  stat(name: string): BackendSnapshot {
    return this.db.view((tx) => {
      const v1 = tx.bucket('v1');
      if (!v1) throw new ErrNotFound('bucket does not exist: not found');
      const snaps = v1.bucket('snapshots');
      if (!snaps) throw new ErrNotFound('snapshots bucket does not exist: not found');
      const b = snaps.bucket(name);
      if (!b) throw new ErrNotFound('snapshot does not exist: not found');
      return readBackendSnapshot(name, b);
    });
  }

  /**
   * Keys under v1/snapshots whose record cannot tell which directory is its own: a value where a
   * bucket should be, or a bucket whose id is missing or does not decode. containerd skips them
   * (IDMap) and its overlayfs Cleanup then deletes the directory such a record named; the offline
   * collection does not sweep directories while any is left (see planSnapshotterCleanup).
   */
  unreadableRecords(): string[] {
    return this.db.view((tx) => {
      const bkt = getBucket(tx, 'v1', 'snapshots');
      const out: string[] = [];
      bkt?.forEach((k, v) => {
        const idv = v === undefined ? bkt.bucket(k)!.get('id') : undefined;
        // readID: `binary.Uvarint`, errors ignored: 0 names no directory.
        if (idv === undefined || idv.length === 0 || goUvarint(idv) === 0) out.push(str(k));
      });
      return out;
    });
  }

  /** v1/parents entries: [parent id, child id, child name]. */
  parents(): [number, number, string][] {
    return this.db.view((tx) => {
      const out: [number, number, string][] = [];
      getBucket(tx, 'v1', 'parents')?.forEach((k, v) => {
        if (v === undefined) return;
        const [p, n] = decodeUvarint(k);
        const [c] = decodeUvarint(k, n + 1);
        out.push([p, c, str(v)]);
      });
      return out;
    });
  }
}

// ---- write side (snapshots/storage/bolt.go Remove) ----------------------------------------------

export interface RemovedSnapshot {
  name: string;
  id: number;
  kind: SnapshotKind;
}

function readId(b: { get(k: string): Uint8Array | undefined }): number {
  const v = b.get('id');
  return v && v.length > 0 ? goUvarint(v) : 0;
}

/** readSnapshot + getUsage of snapshots/storage/bolt.go. */
function readBackendSnapshot(name: string, b: Bucket): BackendSnapshot {
  const idv = b.get('id');
  const kv = b.get('kind');
  const ino = b.get('inodes');
  const sz = b.get('size');
  const s: BackendSnapshot = {
    name,
    // snapshots/storage/bolt.go reads these with binary.(U)Varint, errors ignored (0).
    id: idv && idv.length > 0 ? goUvarint(idv) : 0,
    kind: kindName(kv?.[0] ?? 0),
    parent: str(b.get(BUCKET_KEY_PARENT)),
    ...readTimestamps(b),
    inodes: ino && ino.length > 0 ? goVarint(ino) : 0,
    size: sz && sz.length > 0 ? goVarint(sz) : 0,
  };
  const labels = readLabels(b);
  if (labels) s.labels = labels;
  return s;
}

/** parentKey(parent, child): uvarint parent, 0x00, uvarint child. */
export function parentKey(parent: number, child: number): Uint8Array {
  const p = encodeUvarint(parent);
  const c = encodeUvarint(child);
  const out = new Uint8Array(p.length + 1 + c.length);
  out.set(p, 0);
  out.set(c, p.length + 1);
  return out;
}

/**
 * storage.Remove: deletes v1/snapshots/<name> and its v1/parents entry. Refuses a snapshot that still has a
 * child in the parents index ("cannot remove snapshot with child: failed precondition"), as containerd does.
 */
export function removeBackendSnapshot(tx: Tx, name: string): RemovedSnapshot {
  const bkt = getBucket(tx, 'v1', 'snapshots');
  const sbkt = bkt?.bucket(name);
  if (!bkt || !sbkt) throw new ErrNotFound(`snapshot ${name}: not found`);
  const id = readId(sbkt);
  const kind = kindName(sbkt.get('kind')?.[0] ?? 0);
  const parent = str(sbkt.get(BUCKET_KEY_PARENT));
  const pbkt = getBucket(tx, 'v1', 'parents');
  if (pbkt) {
    const prefix = encodeUvarint(id);
    const first = pbkt.cursor().seek(Uint8Array.from([...prefix, 0]));
    if (first && decodeUvarint(first[0])[0] === id) throw new ErrFailedPrecondition('cannot remove snapshot with child: failed precondition');
    if (parent !== '') {
      const spbkt = bkt.bucket(parent);
      if (!spbkt) throw new ErrNotFound(`snapshot ${name}: not found`);
      pbkt.delete(parentKey(readId(spbkt), id));
    }
  }
  bkt.deleteBucket(name);
  return { name, id, kind };
}

/** The directory a snapshot's removal deletes: overlayfs snapshots/<id> (fs/ and work/), native snapshots/<id>. */
export function snapshotRootDir(snapshotterRoot: string, id: number): string {
  return join(snapshotterRoot, 'snapshots', String(id));
}

/** Removes a snapshot's directory (os.RemoveAll: a missing one is fine). */
export function removeSnapshotDir(snapshotterRoot: string, id: number): void {
  rmSync(snapshotRootDir(snapshotterRoot, id), { recursive: true, force: true });
}
