// The metadata database (containerd's meta.db) as a whole: open, schema version, per-namespace readers.

import { open, type DB, type Tx } from '../bolt/index.js';
import { BUCKET_KEY_DB_VERSION, SCHEMA_VERSION } from './buckets.js';
import { listContainers, getContainer, type Container } from './containers.js';
import { listContent, listIngests, type ContentInfo, type Ingest } from './content.js';
import { decodeVarint } from './encoding.js';
import { ErrNotFound, ErrUnknownSchemaVersion } from './errors.js';
import { listImages, getImage, type Image } from './images.js';
import { listLeases, type Lease } from './leases.js';
import { listNamespaces, namespaceLabels, type Namespace } from './namespaces.js';
import { listSandboxes, type Sandbox } from './sandboxes.js';
import { listSnapshotRefs, listSnapshotters, type SnapshotRef } from './snapshots.js';

/** dbVersion of containerd 1.6/1.7 (3) and 2.x (4); the newest this library writes. */
export const DB_VERSION_V3 = 3;
export const DB_VERSION_V4 = 4;
export const MAX_KNOWN_DB_VERSION = DB_VERSION_V4;

export interface OpenMetadataOptions {
  /** Open read-only (shared lock, nothing written). Default true. */
  readOnly?: boolean;
  /** Milliseconds to wait for the file lock (0 = forever). */
  timeout?: number;
}

/** Reads v1/version; undefined when the file has none (trimmed or empty files). */
export function readDBVersion(tx: Tx): number | undefined {
  const v = tx.bucket(SCHEMA_VERSION)?.get(BUCKET_KEY_DB_VERSION);
  return v === undefined || v.length === 0 ? undefined : decodeVarint(v)[0];
}

export class MetadataDB {
  /** Schema version stored in the file (undefined when absent). */
  readonly version: number | undefined;

  constructor(readonly db: DB, readonly readOnly: boolean) {
    this.version = db.view(readDBVersion);
    if (!readOnly && this.version !== undefined && this.version > MAX_KNOWN_DB_VERSION) {
      throw new ErrUnknownSchemaVersion(this.version);
    }
  }

  close(): void {
    this.db.close();
  }

  view<T>(fn: (tx: Tx) => T): T {
    return this.db.view(fn);
  }

  namespaces(): Namespace[] {
    return this.view((tx) => listNamespaces(tx).map((name) => ({ name, labels: namespaceLabels(tx, name) })));
  }

  images(ns: string): Image[] {
    return this.view((tx) => listImages(tx, ns));
  }

  image(ns: string, name: string): Image {
    const img = this.view((tx) => getImage(tx, ns, name));
    if (!img) throw new ErrNotFound(`image "${name}": not found`);
    return img;
  }

  containers(ns: string): Container[] {
    return this.view((tx) => listContainers(tx, ns));
  }

  container(ns: string, id: string): Container {
    const c = this.view((tx) => getContainer(tx, ns, id));
    if (!c) throw new ErrNotFound(`container "${id}" in namespace "${ns}": not found`);
    return c;
  }

  content(ns: string): ContentInfo[] {
    return this.view((tx) => listContent(tx, ns));
  }

  ingests(ns: string): Ingest[] {
    return this.view((tx) => listIngests(tx, ns));
  }

  snapshotters(ns: string): string[] {
    return this.view((tx) => listSnapshotters(tx, ns));
  }

  snapshots(ns: string, snapshotter: string): SnapshotRef[] {
    return this.view((tx) => listSnapshotRefs(tx, ns, snapshotter));
  }

  leases(ns: string): Lease[] {
    return this.view((tx) => listLeases(tx, ns));
  }

  sandboxes(ns: string): Sandbox[] {
    return this.view((tx) => listSandboxes(tx, ns));
  }
}

/** Opens a containerd meta.db. Read-only unless `readOnly: false`. */
export function openMetadata(path: string, options: OpenMetadataOptions = {}): MetadataDB {
  const readOnly = options.readOnly ?? true;
  // Read-only opens never wait for containerd's lock: lock-free snapshot when it is held.
  const db = open(path, readOnly ? { readOnly, lock: 'auto' } : { readOnly, ...(options.timeout !== undefined ? { timeout: options.timeout } : {}) });
  try {
    return new MetadataDB(db, readOnly);
  } catch (e) {
    db.close();
    throw e;
  }
}
