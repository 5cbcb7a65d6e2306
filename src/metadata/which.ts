// Who owns a snapshot directory: from a directory under a snapshotter's root to the backend
// snapshot (its metadata.db record), the namespaced snapshot(s) of meta.db naming it, the
// containers standing on it and the images whose layers it is; and back, from a namespaced key
// to its directory.
//
//   <root>/io.containerd.snapshotter.v1.<sn>/
//   ├── metadata.db            v1/snapshots/<backend name>/{id, kind, parent, ...}
//   └── snapshots/<id>/        native: the snapshot's files; overlayfs: fs/ (files), work/
//
//   meta.db v1/<ns>/snapshots/<sn>/<key>/name = <backend name>   ("<ns>/<sequence>/<key>")
//   containers: v1/<ns>/containers/<id>/{snapshotter, snapshotKey}
//   images:     layer snapshots are keyed "sha256:<chain id>" (chainid.ts) of the image's config

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageChainIDs } from './chainid.js';
import { isDigest } from './content.js';
import { BUCKET_KEY_OBJECT_BLOB, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_SIZE, namespaceBucket, readTimestamps } from './buckets.js';
import { goVarint } from './encoding.js';
import type { MetadataDB } from './db.js';
import { ErrCorruptValue, ErrInvalidArgument, ErrNotFound } from './errors.js';
import type { BlobReader } from './imagewalk.js';
import type { SnapshotRef } from './snapshots.js';
import { SnapshotterDB, snapshotDir, type BackendSnapshot } from './snapshotter.js';
import { blobPath, snapshotterRoot } from './root.js';

/**
 * Reads blobs as ctr sees them through the content service: only digests the namespace has a
 * record of, and as content.ReadBlob reads them, exactly the size the blob's record gives (Info:
 * a file shorter than that is "unexpected EOF", bytes past it are not read, a record whose
 * timestamps do not decode fails the read). Errors that containerd returns without an errdefs
 * class carry the ": unknown" ctr adds to them.
 */
export function namespaceBlobReader(root: string, m: MetadataDB, ns: string): BlobReader {
  const sizes = new Map<string, number | Error>();
  const recordSize = (d: string): number => {
    let s = sizes.get(d);
    if (s === undefined) {
      try {
        s = m.view((tx) => {
          const b = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_BLOB, d);
          if (!b) throw new ErrNotFound(`content digest ${d}: not found`);
          readTimestamps(b); // readInfo decodes them, and fails on them
          const sz = b.get(BUCKET_KEY_SIZE);
          return sz && sz.length > 0 ? goVarint(sz) : 0;
        });
      } catch (e) {
        if (e instanceof ErrCorruptValue) s = new ErrCorruptValue(`${e.message}: unknown`, { cause: e });
        else if (e instanceof ErrNotFound) s = e;
        else throw e;
      }
      sizes.set(d, s);
    }
    if (s instanceof Error) throw s;
    return s;
  };
  return (desc) => {
    const d = desc.digest;
    // containerd's content service validates the digest first (codes.InvalidArgument).
    if (!isDigest(d)) throw new ErrInvalidArgument(`${JSON.stringify(d)} failed validation: invalid argument`);
    const size = Math.max(0, recordSize(d));
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(blobPath(root, d));
    } catch (e) {
      throw new ErrNotFound(`content digest ${d}: not found`, { cause: e });
    }
    if (bytes.length < size) throw new ErrCorruptValue('unexpected EOF');
    return bytes.subarray(0, size);
  };
}

export interface ContainerUse {
  id: string;
  /** 'snapshot': the container's own snapshot (its snapshotKey); 'parent': a layer below it. */
  role: 'snapshot' | 'parent';
}

export interface NamespacedSnapshot {
  namespace: string;
  key: string;
  parent: string;
  containers: ContainerUse[];
  /** Images of the namespace having this snapshot as one of their layers (sha256:<chain id>). */
  images: string[];
}

export interface SnapshotWhich {
  snapshotter: string;
  id: number;
  dir: string;
  /** The snapshotter's record with this id (undefined: no record has it). */
  backend: BackendSnapshot | undefined;
  /** meta.db snapshots naming the backend snapshot, in namespace order. */
  refs: NamespacedSnapshot[];
}

function backendSnapshots(root: string, snapshotter: string): BackendSnapshot[] {
  const sdb = SnapshotterDB.open(join(snapshotterRoot(root, snapshotter), 'metadata.db'), { readOnly: true });
  try {
    return sdb.list();
  } finally {
    sdb.close();
  }
}

function owners(root: string, m: MetadataDB, snapshotter: string, ns: string, ref: SnapshotRef, all: SnapshotRef[]): NamespacedSnapshot {
  const byKey = new Map(all.map((r) => [r.key, r]));
  const containers: ContainerUse[] = [];
  for (const c of m.containers(ns)) {
    if (c.snapshotter !== snapshotter || c.snapshotKey === '') continue;
    if (c.snapshotKey === ref.key) {
      containers.push({ id: c.id, role: 'snapshot' });
      continue;
    }
    // Walk the container's snapshot down its parents (bounded: a cycle in a damaged file ends).
    let cur = byKey.get(c.snapshotKey);
    for (let i = 0; cur && cur.parent !== '' && i < all.length; i++) {
      if (cur.parent === ref.key) {
        containers.push({ id: c.id, role: 'parent' });
        break;
      }
      cur = byKey.get(cur.parent);
    }
  }
  const images: string[] = [];
  if (ref.key.startsWith('sha256:')) {
    const read = namespaceBlobReader(root, m, ns);
    const byTarget = new Map<string, boolean>(); // many tags share one target
    for (const img of m.images(ns)) {
      let has = byTarget.get(img.target.digest);
      if (has === undefined) byTarget.set(img.target.digest, (has = imageChainIDs(read, img.target).chains.some((ch) => ch.includes(ref.key))));
      if (has) images.push(img.name);
    }
  }
  return { namespace: ns, key: ref.key, parent: ref.parent, containers, images };
}

/** What owns snapshots/<id> of the snapshotter. Throws ErrNotFound when the snapshotter has no metadata.db. */
export function whichSnapshotId(root: string, m: MetadataDB, snapshotter: string, id: number): SnapshotWhich {
  const backend = backendSnapshots(root, snapshotter).find((b) => b.id === id);
  const dir = snapshotDir(snapshotterRoot(root, snapshotter), snapshotter, id);
  const refs: NamespacedSnapshot[] = [];
  if (backend) {
    for (const { name: ns } of m.namespaces()) {
      const all = m.snapshots(ns, snapshotter);
      for (const r of all) if (r.name === backend.name) refs.push(owners(root, m, snapshotter, ns, r, all));
    }
  }
  return { snapshotter, id, dir, backend, refs };
}

/** The directory of the namespace's snapshot `key`; ErrNotFound when meta.db or the snapshotter has no such snapshot. */
export function snapshotKeyDir(root: string, m: MetadataDB, ns: string, snapshotter: string, key: string): { dir: string; backend: BackendSnapshot } {
  const ref = m.snapshots(ns, snapshotter).find((r) => r.key === key);
  if (!ref) throw new ErrNotFound(`snapshot ${key} does not exist: not found`);
  const backend = backendSnapshots(root, snapshotter).find((b) => b.name === ref.name);
  if (!backend) throw new ErrNotFound(`snapshot ${key}: backend snapshot ${ref.name} does not exist in ${snapshotter}: not found`);
  return { dir: snapshotDir(snapshotterRoot(root, snapshotter), snapshotter, backend.id), backend };
}

/**
 * Splits a path inside a snapshotter's snapshots directory: `<root>/io.containerd.snapshotter.v1.<sn>/snapshots/<id>[/...]`.
 * Returns undefined when the path is not inside one.
 */
export function parseSnapshotPath(root: string, absPath: string): { snapshotter: string; id: number } | undefined {
  const prefix = root.replace(/\/+$/, '') + '/io.containerd.snapshotter.v1.';
  if (!absPath.startsWith(prefix)) return undefined;
  const m = /^([^/]+)\/snapshots\/(\d+)(?:\/|$)/.exec(absPath.slice(prefix.length));
  if (!m) return undefined;
  return { snapshotter: m[1]!, id: Number(m[2]) };
}
