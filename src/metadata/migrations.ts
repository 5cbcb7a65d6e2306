// Schema initialisation and migrations (containerd metadata/db.go Init, metadata/migrations.go).
//
// containerd 1.6 runs Init on every start:
//   - no `v1` bucket (a new file): create v1 and put version = 3 (signed varint 0x06); no migration runs;
//   - v1 with a version >= 3 (1.6/1.7 = 3, 2.x = 4): nothing is written, the version is never lowered;
//   - v1 with an older or missing version: every migration newer than it runs, in order, then version = 3.
//
// Migrations of schema v1, by the version they bring the file to:
//   1 addChildLinks   every snapshot with a parent gets its key in <parent>/children/ (parents that are
//                     missing are skipped, as containerd does)
//   2 migrateIngests  content/ingest (key -> backend ref) becomes content/ingests/<ref>/ref
//   3 noOp            the boltdb/bolt -> go.etcd.io/bbolt switch; nothing to do

import type { Tx } from '../bolt/index.js';
import {
  BUCKET_KEY_CHILDREN,
  BUCKET_KEY_DB_VERSION,
  BUCKET_KEY_OBJECT_CONTENT,
  BUCKET_KEY_OBJECT_INGESTS,
  BUCKET_KEY_OBJECT_SNAPSHOTS,
  BUCKET_KEY_PARENT,
  BUCKET_KEY_REF,
  SCHEMA_VERSION,
} from './buckets.js';
import { goVarint, encodeVarint } from './encoding.js';

/** The dbVersion containerd 1.6 writes (metadata/db.go dbVersion). */
export const DB_VERSION = 3;
/** containerd's name for the pre-v2 ingest bucket (content/ingest: ref -> backend ref). */
export const DEPRECATED_BUCKET_KEY_OBJECT_INGEST = 'ingest';

export interface Migration {
  schema: string;
  version: number;
  name: string;
  migrate: (tx: Tx) => void;
}

const EMPTY = new Uint8Array(0);

/** Migration 1: children links, so that a snapshot with children cannot be removed. */
export function addChildLinks(tx: Tx): void {
  const v1 = tx.bucket(SCHEMA_VERSION);
  v1?.forEach((nsKey, nsVal) => {
    if (nsVal !== undefined) return;
    const sbkt = v1.bucket(nsKey)!.bucket(BUCKET_KEY_OBJECT_SNAPSHOTS);
    sbkt?.forEach((snKey, snVal) => {
      if (snVal !== undefined) return;
      const snbkt = sbkt.bucket(snKey)!;
      // Collect first: creating children/ buckets while a cursor walks the same bucket moves its nodes.
      const links: [Uint8Array, Uint8Array][] = [];
      snbkt.forEach((k, v) => {
        if (v !== undefined) return;
        const parent = snbkt.bucket(k)!.get(BUCKET_KEY_PARENT);
        if (parent !== undefined && parent.length > 0) links.push([k.slice(), parent.slice()]);
      });
      for (const [k, parent] of links) {
        const pbkt = snbkt.bucket(parent);
        if (!pbkt) continue; // not enforcing consistency during migration, as containerd
        pbkt.createBucketIfNotExists(BUCKET_KEY_CHILDREN).put(k, EMPTY);
      }
    });
  });
}

/** Migration 2: content/ingest (flat) to content/ingests/<ref>/{ref}. */
export function migrateIngests(tx: Tx): void {
  const v1 = tx.bucket(SCHEMA_VERSION);
  if (!v1) return;
  const namespaces: Uint8Array[] = [];
  v1.forEach((k, v) => {
    if (v === undefined) namespaces.push(k.slice());
  });
  for (const ns of namespaces) {
    const bkt = v1.bucket(ns)!.bucket(BUCKET_KEY_OBJECT_CONTENT);
    const dbkt = bkt?.bucket(DEPRECATED_BUCKET_KEY_OBJECT_INGEST);
    if (!bkt || !dbkt) continue;
    const nbkt = bkt.createBucketIfNotExists(BUCKET_KEY_OBJECT_INGESTS);
    const refs: [Uint8Array, Uint8Array][] = [];
    dbkt.forEach((ref, bref) => refs.push([ref.slice(), (bref ?? EMPTY).slice()]));
    for (const [ref, bref] of refs) nbkt.createBucketIfNotExists(ref).put(BUCKET_KEY_REF, bref);
    bkt.deleteBucket(DEPRECATED_BUCKET_KEY_OBJECT_INGEST);
  }
}

/** Ordered by version; the last one is DB_VERSION. */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  { schema: SCHEMA_VERSION, version: 1, name: 'addChildLinks', migrate: addChildLinks },
  { schema: SCHEMA_VERSION, version: 2, name: 'migrateIngests', migrate: migrateIngests },
  { schema: SCHEMA_VERSION, version: 3, name: 'noOpMigration', migrate: () => {} },
]);

export interface InitResult {
  /** The version found (0 when v1 exists without one, undefined for a file without v1). */
  from: number | undefined;
  /** The migrations that ran, by name. */
  migrated: string[];
  /** Whether anything was written (false: containerd's errSkip, the transaction can roll back). */
  wrote: boolean;
}

/**
 * containerd's DB.Init inside a write transaction. Returns what it did; when `wrote` is false the
 * caller may roll back (containerd does, to skip a commit).
 */
export function initSchema(tx: Tx): InitResult {
  let schema = 'v0';
  let version = 0;
  let i = MIGRATIONS.length;
  for (; i > 0; i--) {
    const migration = MIGRATIONS[i - 1]!;
    const bkt = tx.bucket(migration.schema);
    if (!bkt) {
      if (schema === 'v0') continue;
      break;
    }
    if (schema === 'v0') {
      schema = migration.schema;
      const vb = bkt.get(BUCKET_KEY_DB_VERSION);
      // Go: binary.Varint of the bytes, errors ignored (a bad value reads as 0).
      if (vb !== undefined && vb.length > 0) version = goVarint(vb);
    }
    if (version >= migration.version) break;
  }
  const migrated: string[] = [];
  if (schema !== 'v0') {
    const updates = MIGRATIONS.slice(i);
    if (updates.length === 0) return { from: version, migrated, wrote: false };
    for (const m of updates) {
      m.migrate(tx);
      migrated.push(m.name);
    }
  }
  tx.createBucketIfNotExists(SCHEMA_VERSION).put(BUCKET_KEY_DB_VERSION, encodeVarint(DB_VERSION));
  return { from: schema === 'v0' ? undefined : version, migrated, wrote: true };
}
