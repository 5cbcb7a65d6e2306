// Writing leases: v1/<ns>/leases/<id>/ (containerd 1.6 metadata/leases.go leaseManager).
//
//   createdat       time.MarshalBinary (Create: now)
//   labels/         written only when labels are given (replaced whole; empty values dropped)
//   content/<digest>, ingests/<ref>, snapshots/<snapshotter>/<key>   resources, empty values
//
// Resource types of 1.6 (parseLeaseResource): "content" (id a valid digest), "ingests", "snapshots/<name>".
// "images" (leases/<id>/images/<name>) arrived with 2.x: accepted only in a file of dbVersion 4 or newer.
// Anything else is ErrNotImplemented. Removing a resource that is not there is not an error.

import type { Tx } from '../bolt/index.js';
import { BUCKET_KEY_CREATED_AT, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_IMAGES, BUCKET_KEY_OBJECT_INGESTS, BUCKET_KEY_OBJECT_LEASES, BUCKET_KEY_OBJECT_SNAPSHOTS, SCHEMA_VERSION, namespaceBucket } from './buckets.js';
import { ERRDEFS, type Clock, checkTime, createBucketPath, digestError, q, requireNamespace, writeLabels } from './boltutil.js';
import { encodeTime, type GoTime } from './encoding.js';
import { ErrAlreadyExists, ErrInvalidArgument, ErrNotFound, ErrNotImplemented } from './errors.js';
import type { Labels } from './labels.js';
import type { Lease, LeaseResource } from './leases.js';

export interface CreateLeaseOptions {
  /** Keep this creation time instead of now (imports, copies). */
  createdAt?: GoTime;
}

const EMPTY = new Uint8Array(0);

/** leaseManager.Create. Lease ids are not validated beyond being non-empty (as containerd 1.6). */
export function createLease(tx: Tx, ns: string, id: string, labels: Labels | undefined, options: CreateLeaseOptions, clock: Clock): Lease {
  if (id === '') throw new ErrInvalidArgument('lease id must be provided');
  requireNamespace(ns);
  const top = createBucketPath(tx, SCHEMA_VERSION, ns, BUCKET_KEY_OBJECT_LEASES);
  if (top.get(id) !== undefined || top.bucket(id)) throw new ErrAlreadyExists(`lease ${q(id)}: ${ERRDEFS.alreadyExists}`);
  const lbkt = top.createBucket(id);
  const createdAt = options.createdAt ? checkTime(options.createdAt, 'lease.CreatedAt') : clock();
  lbkt.put(BUCKET_KEY_CREATED_AT, encodeTime(createdAt));
  const lease: Lease = { id, createdAt, resources: [] };
  if (labels !== undefined) {
    const stored = writeLabels(lbkt, labels);
    if (stored) lease.labels = stored;
  }
  return lease;
}

/** leaseManager.Delete: the lease and its references (the resources themselves stay, for the GC to judge). */
export function deleteLease(tx: Tx, ns: string, id: string): void {
  requireNamespace(ns);
  const top = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_LEASES);
  if (!top || !top.bucket(id)) throw new ErrNotFound(`lease ${q(id)}: ${ERRDEFS.notFound}`);
  top.deleteBucket(id);
}

/** parseLeaseResource: the bucket path under the lease and the key; `dbVersion` 4+ (2.x) also takes "images". */
export function parseLeaseResource(r: LeaseResource, dbVersion?: number): { keys: string[]; ref: string } {
  const keys = r.type.split('/');
  const k = keys[0];
  let ref = r.id;
  // 1.6 and 1.7 have no image resources: for their files, "images" is an unknown type.
  const known = k === BUCKET_KEY_OBJECT_IMAGES && (dbVersion === undefined || dbVersion < 4) ? undefined : k;
  switch (known) {
    case BUCKET_KEY_OBJECT_CONTENT:
    case BUCKET_KEY_OBJECT_INGESTS:
    case BUCKET_KEY_OBJECT_IMAGES:
      if (keys.length !== 1) throw new ErrInvalidArgument(`invalid resource type ${r.type}: ${ERRDEFS.invalidArgument}`);
      if (k === BUCKET_KEY_OBJECT_CONTENT) {
        const err = digestError(ref);
        if (err) throw new ErrInvalidArgument(`invalid content resource id ${ref}: ${err}: ${ERRDEFS.invalidArgument}`);
      }
      break;
    case BUCKET_KEY_OBJECT_SNAPSHOTS:
      if (keys.length !== 2) throw new ErrInvalidArgument(`invalid snapshot resource type ${r.type}: ${ERRDEFS.invalidArgument}`);
      // bolt refuses an empty bucket name; say so as an argument error.
      if (keys[1] === '') throw new ErrInvalidArgument(`invalid snapshot resource type ${r.type}: ${ERRDEFS.invalidArgument}`);
      break;
    default:
      throw new ErrNotImplemented(`resource type ${r.type} not supported yet: ${ERRDEFS.notImplemented}`);
  }
  if (ref === '') throw new ErrInvalidArgument(`resource id must not be empty: ${ERRDEFS.invalidArgument}`);
  return { keys, ref };
}

function leaseBucket(tx: Tx, ns: string, id: string) {
  requireNamespace(ns);
  const b = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_LEASES, id);
  if (!b) throw new ErrNotFound(`lease ${q(id)}: ${ERRDEFS.notFound}`);
  return b;
}

/** leaseManager.AddResource. */
export function addLeaseResource(tx: Tx, ns: string, id: string, r: LeaseResource, dbVersion?: number): void {
  let bkt = leaseBucket(tx, ns, id);
  const { keys, ref } = parseLeaseResource(r, dbVersion);
  for (const key of keys) bkt = bkt.createBucketIfNotExists(key);
  bkt.put(ref, EMPTY);
}

/** leaseManager.DeleteResource: a missing resource is not an error. */
export function deleteLeaseResource(tx: Tx, ns: string, id: string, r: LeaseResource, dbVersion?: number): void {
  let bkt = leaseBucket(tx, ns, id);
  const { keys, ref } = parseLeaseResource(r, dbVersion);
  for (const key of keys) {
    const next = bkt.bucket(key);
    if (!next) return;
    bkt = next;
  }
  bkt.delete(ref);
}
