// The metadata database (containerd's meta.db) as a whole: open, schema version, per-namespace readers.

import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { open, readMeta, validateMeta, type DB, type Tx } from '../bolt/index.js';
import { systemClock, type Clock } from './boltutil.js';
import { createContainer, deleteContainer, updateContainer, type ContainerInput } from './container-store.js';
import { addBlobRecord, deleteBlobRecord, updateContentLabels, type BlobRecordOptions, type UpdateContentOptions } from './content-store.js';
import { createImage, deleteImage, updateImage, type ImageInput } from './image-store.js';
import type { Labels } from './labels.js';
import { addLeaseResource, createLease, deleteLease, deleteLeaseResource, type CreateLeaseOptions } from './lease-store.js';
import { initSchema, type InitResult } from './migrations.js';
import { createNamespace, deleteNamespace, setNamespaceLabel, setNamespaceLabels } from './namespace-store.js';
import { BUCKET_KEY_DB_VERSION, SCHEMA_VERSION } from './buckets.js';
import { listContainers, getContainer, type Container } from './containers.js';
import { listContent, listIngests, type ContentInfo, type Ingest } from './content.js';
import { goVarint } from './encoding.js';
import { ErrAlreadyExists, ErrNotFound, ErrUnknownSchemaVersion } from './errors.js';
import { listImages, getImage, type Image } from './images.js';
import { listLeases, type Lease, type LeaseResource } from './leases.js';
import { listNamespaces, namespaceLabels, type Namespace } from './namespaces.js';
import { listSandboxes, type Sandbox } from './sandboxes.js';
import { createSandbox, deleteSandbox, sandboxLayoutFor, updateSandbox, type SandboxInput, type SandboxLayout } from './sandbox-store.js';
import { getSnapshotRef, listSnapshotRefs, listSnapshotters, type SnapshotRef } from './snapshots.js';
import { reportDamagedRecords, type DamagedRecordHandler } from './damaged-records.js';

/** dbVersion of containerd 1.6/1.7 (3) and 2.x (4); the newest this library writes. */
export const DB_VERSION_V3 = 3;
export const DB_VERSION_V4 = 4;
export const MAX_KNOWN_DB_VERSION = DB_VERSION_V4;

export interface OpenMetadataOptions {
  /** Open read-only (shared lock, nothing written). Default true. */
  readOnly?: boolean;
  /** Milliseconds to wait for the file lock (0 = forever). */
  timeout?: number;
  /** Read-write: the clock that stamps createdat/updatedat (default: now, UTC, nanoseconds). */
  clock?: Clock;
  /**
   * Records that cannot be decoded are reported here and left out of listings (damaged-records.ts);
   * without it a listing fails on the first one, as containerd's does.
   */
  onDamagedRecord?: DamagedRecordHandler;
}

/** Reads v1/version; undefined when the file has none (trimmed or empty files). */
export function readDBVersion(tx: Tx): number | undefined {
  const v = tx.bucket(SCHEMA_VERSION)?.get(BUCKET_KEY_DB_VERSION);
  // containerd: `binary.Varint(vb)`, the error ignored.
  return v === undefined || v.length === 0 ? undefined : goVarint(v);
}

export class MetadataDB {
  /** Schema version stored in the file (undefined when absent). */
  readonly version: number | undefined;
  /** What containerd's Init did on a read-write open (undefined read-only). */
  readonly init: InitResult | undefined;
  /** Stamps createdat/updatedat of what this handle writes. */
  readonly clock: Clock;

  constructor(readonly db: DB, readonly readOnly: boolean, clock: Clock = systemClock) {
    this.clock = clock;
    if (!readOnly) {
      // containerd's DB.Init: create v1/version on a new file, migrate an old one; never lowers a version.
      // Like containerd, a file that needs nothing is not committed (no new txid, not a byte changed).
      const tx = db.begin(true);
      try {
        this.init = initSchema(tx);
      } catch (e) {
        tx.rollback();
        throw e;
      }
      if (this.init.wrote) tx.commit();
      else tx.rollback();
    }
    this.version = db.view(readDBVersion);
    if (!readOnly && this.version !== undefined && this.version > MAX_KNOWN_DB_VERSION) {
      throw new ErrUnknownSchemaVersion(this.version);
    }
  }

  close(): void {
    this.db.close();
  }

  /** Set from OpenMetadataOptions.onDamagedRecord: registered on every read transaction. */
  onDamagedRecord: DamagedRecordHandler | undefined;

  view<T>(fn: (tx: Tx) => T): T {
    const h = this.onDamagedRecord;
    if (h === undefined) return this.db.view(fn);
    return this.db.view((tx) => {
      reportDamagedRecords(tx, h);
      return fn(tx);
    });
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

  /** One snapshot record (containerd's Stat reads only it); undefined when missing. */
  snapshot(ns: string, snapshotter: string, key: string): SnapshotRef | undefined {
    return this.view((tx) => getSnapshotRef(tx, ns, snapshotter, key));
  }

  leases(ns: string): Lease[] {
    return this.view((tx) => listLeases(tx, ns));
  }

  sandboxes(ns: string): Sandbox[] {
    return this.view((tx) => listSandboxes(tx, ns));
  }

  sandbox(ns: string, id: string): Sandbox {
    const s = this.sandboxes(ns).find((x) => x.id === id);
    if (!s) throw new ErrNotFound(`sandbox ${JSON.stringify(id)}: not found`);
    return s;
  }

  /** Where this file keeps sandboxes: v1/<ns>/sandboxes (dbVersion 4, 2.x) or <ns>/sandboxes (1.7). */
  get sandboxLayout(): SandboxLayout {
    return sandboxLayoutFor(this.version);
  }

  // --- writes: one bolt transaction per call (namespace-store.ts, image-store.ts, ...) ---

  /** Runs fn in one write transaction (rolled back when it throws). */
  update<T>(fn: (tx: Tx) => T): T {
    return this.db.update(fn);
  }

  createNamespace(name: string, labels?: Labels): void {
    this.update((tx) => createNamespace(tx, name, labels));
  }

  /** The namespace's labels become exactly `labels` (empty values dropped). */
  setNamespaceLabels(name: string, labels: Labels): void {
    this.update((tx) => setNamespaceLabels(tx, name, labels));
  }

  /** One label; "" removes it. */
  setNamespaceLabel(name: string, key: string, value: string): void {
    this.update((tx) => setNamespaceLabel(tx, name, key, value));
  }

  /** Refused (ErrFailedPrecondition) while images, blobs, containers or snapshots remain. */
  deleteNamespace(name: string): void {
    this.update((tx) => deleteNamespace(tx, name));
  }

  createImage(ns: string, image: ImageInput): Image {
    return this.update((tx) => createImage(tx, ns, image, this.clock));
  }

  updateImage(ns: string, image: ImageInput, fieldpaths?: string[]): Image {
    return this.update((tx) => updateImage(tx, ns, image, fieldpaths, this.clock));
  }

  deleteImage(ns: string, name: string): void {
    this.update((tx) => deleteImage(tx, ns, name));
  }

  createContainer(ns: string, container: ContainerInput): Container {
    return this.update((tx) => createContainer(tx, ns, container, this.clock));
  }

  updateContainer(ns: string, container: ContainerInput, fieldpaths?: string[]): Container {
    return this.update((tx) => updateContainer(tx, ns, container, fieldpaths, this.clock));
  }

  deleteContainer(ns: string, id: string): void {
    this.update((tx) => deleteContainer(tx, ns, id));
  }

  createLease(ns: string, id: string, labels?: Labels, options: CreateLeaseOptions = {}): Lease {
    return this.update((tx) => createLease(tx, ns, id, labels, options, this.clock));
  }

  deleteLease(ns: string, id: string): void {
    this.update((tx) => deleteLease(tx, ns, id));
  }

  /** Types: "content" (id a digest), "ingests", "snapshots/<snapshotter>"; "images" in a 2.x file (dbVersion 4). */
  addLeaseResource(ns: string, id: string, resource: LeaseResource): void {
    this.update((tx) => addLeaseResource(tx, ns, id, resource, this.version));
  }

  deleteLeaseResource(ns: string, id: string, resource: LeaseResource): void {
    this.update((tx) => deleteLeaseResource(tx, ns, id, resource, this.version));
  }

  /** sandboxStore.Create, in the layout of the file's version (sandboxLayout). */
  createSandbox(ns: string, sandbox: SandboxInput): Sandbox {
    return this.update((tx) => createSandbox(tx, ns, sandbox, this.sandboxLayout, this.clock));
  }

  updateSandbox(ns: string, sandbox: SandboxInput, fieldpaths?: string[]): Sandbox {
    return this.update((tx) => updateSandbox(tx, ns, sandbox, fieldpaths, this.sandboxLayout, this.clock));
  }

  deleteSandbox(ns: string, id: string): void {
    this.update((tx) => deleteSandbox(tx, ns, id, this.sandboxLayout));
  }

  /** content/blob/<digest>/ for a blob already in the content store. */
  addBlobRecord(ns: string, digest: string, size: number, labels?: Labels, options: BlobRecordOptions = {}): ContentInfo {
    return this.update((tx) => addBlobRecord(tx, ns, digest, size, labels, options, this.clock));
  }

  /** A blob record's labels become exactly `labels` (or, with fieldpaths "labels.<key>", single keys change). */
  setContentLabels(ns: string, digest: string, labels: Labels, fieldpaths?: string[], options: UpdateContentOptions = {}): ContentInfo {
    return this.update((tx) => updateContentLabels(tx, ns, digest, labels, fieldpaths, options, this.clock));
  }

  deleteBlobRecord(ns: string, digest: string): void {
    this.update((tx) => deleteBlobRecord(tx, ns, digest));
  }
}

/**
 * Whether the file keeps its freelist on disk: false for NoFreelistSync files (containerd 1.7 and 2.x open
 * meta.db that way). Read from the newest valid meta page; true for a missing, empty or unreadable file.
 */
export function persistsFreelist(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return true;
  }
  try {
    const read = (off: number, n: number): Uint8Array => {
      const b = new Uint8Array(n);
      readSync(fd, b, 0, n, off);
      return b;
    };
    const p0 = read(0, 4096);
    const metas = [];
    if (!validateMeta(p0, 0)) metas.push(readMeta(p0, 0));
    const pageSize = metas[0]?.pageSize ?? 4096;
    const p1 = read(pageSize, 4096);
    if (!validateMeta(p1, 0)) metas.push(readMeta(p1, 0));
    const newest = metas.sort((a, b) => b.txid - a.txid)[0];
    return newest === undefined || newest.freelist !== undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a containerd meta.db. Read-only unless `readOnly: false`; a read-write open (creating a missing file)
 * first runs containerd 1.6's Init (migrations.ts): v1/version = 3 on a new file, migrations on an older one,
 * nothing written when the file is at 3 or newer. A file without a freelist on disk (NoFreelistSync, as
 * containerd 1.7 and 2.x write meta.db) is opened NoFreelistSync and stays so: bbolt would otherwise commit a
 * freelist page at open, changing a file that needs nothing.
 */
export function openMetadata(path: string, options: OpenMetadataOptions = {}): MetadataDB {
  const readOnly = options.readOnly ?? true;
  // Read-only opens never wait for containerd's lock: lock-free snapshot when it is held.
  const db = open(
    path,
    readOnly
      ? { readOnly, lock: 'auto' }
      : { readOnly, ...(options.timeout !== undefined ? { timeout: options.timeout } : {}), ...(persistsFreelist(path) ? {} : { noFreelistSync: true }) },
  );
  try {
    const m = new MetadataDB(db, readOnly, options.clock);
    m.onDamagedRecord = options.onDamagedRecord;
    return m;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Creates a new meta.db as containerd 1.6 initialises one (v1/version = 3); refuses an existing non-empty file. */
export function createMetadata(path: string, options: Omit<OpenMetadataOptions, 'readOnly'> = {}): MetadataDB {
  if (existsSync(path) && statSync(path).size > 0) throw new ErrAlreadyExists(`metadata database ${JSON.stringify(path)}: already exists`);
  return openMetadata(path, { ...options, readOnly: false });
}
