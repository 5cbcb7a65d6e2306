// Writing containers: v1/<ns>/containers/<id>/ (containerd metadata/containers.go Create, Update, Delete,
// writeContainer).
//
//   createdat, updatedat          time.MarshalBinary
//   spec                          protobuf Any (only when set; validation requires it)
//   image, snapshotter, snapshotKey   text, always put (maybe empty)
//   runtime/{name, options?}      recreated on every write; options a protobuf Any
//   extensions/<name>             protobuf Any; put into the existing bucket, never removed (as containerd)
//   labels/                       replaced whole; empty values dropped
//   sandboxid                     1.7+: put when the container has one (the fixtures' 1.7/2.x layouts);
//                                 kept across updates, as 1.7's Update never changes it
//
// Validation (validateContainer): id is an identifier, no empty extension name, labels <= 4096 bytes,
// runtime name set, spec set, snapshotter set when a snapshot key is.

import type { Bucket, Tx } from '../bolt/index.js';
import { copyAny, copyExtensions, type Any } from './any.js';
import { applyExtensionsFieldpath, applyMapFieldpath } from './fieldpaths.js';
import {
  BUCKET_KEY_IMAGE,
  BUCKET_KEY_NAME,
  BUCKET_KEY_OBJECT_CONTAINERS,
  BUCKET_KEY_OPTIONS,
  BUCKET_KEY_RUNTIME,
  BUCKET_KEY_SANDBOX_ID,
  BUCKET_KEY_SNAPSHOTTER,
  BUCKET_KEY_SNAPSHOT_KEY,
  BUCKET_KEY_SPEC,
  SCHEMA_VERSION,
  namespaceBucket,
} from './buckets.js';
import { ERRDEFS, type Clock, createBucketPath, createTimes, updateTime, identifierError, q, requireNamespace, validateLabelsAs, writeAny, writeExtensions, writeLabels, writeTimestamps } from './boltutil.js';
import { readContainer, type Container, type RuntimeInfo } from './containers.js';
import type { GoTime } from './encoding.js';
import { ErrAlreadyExists, ErrInvalidArgument, ErrNotFound } from './errors.js';
import type { Labels } from './labels.js';

/** The OCI runtime spec's type URL (typeurl of specs.Spec). */
export const SPEC_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Spec';

/** An OCI spec as the protobuf Any containerd stores (value: the JSON text). */
export function specAny(spec: unknown): Any {
  return { typeUrl: SPEC_TYPE_URL, value: new TextEncoder().encode(typeof spec === 'string' ? spec : JSON.stringify(spec)) };
}

/** A container to write. Times are containerd's (now) unless given: given times are kept (imports, copies). */
export interface ContainerInput {
  id: string;
  labels?: Labels;
  image?: string;
  runtime: RuntimeInfo;
  spec?: Any;
  snapshotKey?: string;
  snapshotter?: string;
  extensions?: Record<string, Any>;
  /** containerd 1.7+: the sandbox the container runs in (written as `sandboxid`; absent in 1.6 files). */
  sandboxId?: string;
  createdAt?: GoTime;
  updatedAt?: GoTime;
}

/** validateContainer; messages carry containerd's prefix for the operation. */
export function validateContainer(c: ContainerInput, prefix: string): void {
  const fail = (m: string): never => {
    throw new ErrInvalidArgument(`${prefix}: ${m}`);
  };
  const idErr = identifierError(c.id);
  if (idErr) fail(`container.ID: ${idErr}`);
  for (const k of Object.keys(c.extensions ?? {})) {
    if (k === '') fail(`container.Extension keys must not be zero-length: ${ERRDEFS.invalidArgument}`);
  }
  try {
    validateLabelsAs('containers.Labels', c.labels);
  } catch (e) {
    fail((e as Error).message);
  }
  if (c.runtime.name === '') fail(`container.Runtime.Name must be set: ${ERRDEFS.invalidArgument}`);
  if (c.spec === undefined) fail(`container.Spec must be set: ${ERRDEFS.invalidArgument}`);
  if ((c.snapshotKey ?? '') !== '' && (c.snapshotter ?? '') === '') {
    fail(`container.Snapshotter must be set if container.SnapshotKey is set: ${ERRDEFS.invalidArgument}`);
  }
}

function writeContainer(bkt: Bucket, c: Container): void {
  writeTimestamps(bkt, c.createdAt, c.updatedAt);
  writeAny(bkt, BUCKET_KEY_SPEC, c.spec);
  bkt.put(BUCKET_KEY_IMAGE, c.image);
  bkt.put(BUCKET_KEY_SNAPSHOTTER, c.snapshotter);
  bkt.put(BUCKET_KEY_SNAPSHOT_KEY, c.snapshotKey);
  if (bkt.bucket(BUCKET_KEY_RUNTIME)) bkt.deleteBucket(BUCKET_KEY_RUNTIME);
  const rbkt = bkt.createBucket(BUCKET_KEY_RUNTIME);
  rbkt.put(BUCKET_KEY_NAME, c.runtime.name);
  writeExtensions(bkt, c.extensions);
  writeAny(rbkt, BUCKET_KEY_OPTIONS, c.runtime.options);
  if (c.sandboxId !== undefined) bkt.put(BUCKET_KEY_SANDBOX_ID, c.sandboxId);
  const labels = writeLabels(bkt, c.labels);
  if (labels) c.labels = labels;
  else delete c.labels;
}

function fromInput(input: ContainerInput, createdAt: GoTime, updatedAt: GoTime): Container {
  const c: Container = {
    id: input.id,
    image: input.image ?? '',
    runtime: { name: input.runtime.name },
    snapshotKey: input.snapshotKey ?? '',
    snapshotter: input.snapshotter ?? '',
    createdAt,
    updatedAt,
  };
  if (input.runtime.options) c.runtime.options = copyAny(input.runtime.options);
  if (input.spec) c.spec = copyAny(input.spec);
  if (input.labels !== undefined) c.labels = { ...input.labels };
  if (input.extensions !== undefined) c.extensions = copyExtensions(input.extensions);
  if (input.sandboxId !== undefined) c.sandboxId = input.sandboxId;
  return c;
}

/** containerStore.Create. Returns the container as stored. */
export function createContainer(tx: Tx, ns: string, input: ContainerInput, clock: Clock): Container {
  requireNamespace(ns);
  validateContainer(input, 'create container failed validation');
  const bkt = createBucketPath(tx, SCHEMA_VERSION, ns, BUCKET_KEY_OBJECT_CONTAINERS);
  if (bkt.bucket(input.id)) throw new ErrAlreadyExists(`container ${q(input.id)}: ${ERRDEFS.alreadyExists}`);
  const cbkt = bkt.createBucket(input.id);
  const { createdAt, updatedAt } = createTimes(input, 'container', clock);
  const c = fromInput(input, createdAt, updatedAt);
  writeContainer(cbkt, c);
  return c;
}

/**
 * containerStore.Update. Field paths: "labels", "labels.<key>", "spec", "extensions", "extensions.<name>",
 * "image", "snapshotkey". Without fieldpaths those five are replaced and the snapshotter and runtime name,
 * which are immutable, must equal the stored ones.
 */
export function updateContainer(tx: Tx, ns: string, input: ContainerInput, fieldpaths: string[] | undefined, clock: Clock): Container {
  requireNamespace(ns);
  if (input.id === '') throw new ErrInvalidArgument(`must specify a container id: ${ERRDEFS.invalidArgument}`);
  const bkt = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_CONTAINERS);
  if (!bkt) throw new ErrNotFound(`cannot update container ${q(input.id)} in namespace ${q(ns)}: ${ERRDEFS.notFound}`);
  const cbkt = bkt.bucket(input.id);
  if (!cbkt) throw new ErrNotFound(`container ${q(input.id)}: ${ERRDEFS.notFound}`);
  const updated = readContainer(input.id, cbkt);
  const createdAt = updated.createdAt;
  let paths = fieldpaths ?? [];
  if (paths.length === 0) {
    paths = ['labels', 'spec', 'extensions', 'image', 'snapshotkey'];
    if (updated.snapshotter !== (input.snapshotter ?? '')) {
      throw new ErrInvalidArgument(`container.Snapshotter field is immutable: ${ERRDEFS.invalidArgument}`);
    }
    if (updated.runtime.name !== input.runtime.name) {
      throw new ErrInvalidArgument(`container.Runtime.Name field is immutable: ${ERRDEFS.invalidArgument}`);
    }
  }
  for (const path of paths) {
    if (applyMapFieldpath(updated, input, 'labels', path) || applyExtensionsFieldpath(updated, input, path)) continue;
    switch (path) {
      case 'spec':
        if (input.spec) updated.spec = copyAny(input.spec);
        else delete updated.spec;
        break;
      case 'image':
        updated.image = input.image ?? '';
        break;
      case 'snapshotkey':
        updated.snapshotKey = input.snapshotKey ?? '';
        break;
      default:
        throw new ErrInvalidArgument(`cannot update ${q(path)} field on ${q(input.id)}: ${ERRDEFS.invalidArgument}`);
    }
  }
  validateContainer(updated, 'update failed validation');
  updated.createdAt = createdAt;
  updated.updatedAt = updateTime(input, 'container', clock);
  writeContainer(cbkt, updated);
  // What the bucket now holds: extensions/ keeps entries the update left out (containerd never clears it).
  return readContainer(input.id, cbkt);
}

/** containerStore.Delete (the metadata only; its snapshot is left to garbage collection). */
export function deleteContainer(tx: Tx, ns: string, id: string): void {
  requireNamespace(ns);
  const bkt = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_CONTAINERS);
  if (!bkt) throw new ErrNotFound(`cannot delete container ${q(id)} in namespace ${q(ns)}: ${ERRDEFS.notFound}`);
  if (!bkt.bucket(id)) throw new ErrNotFound(`container ${id}: ${ERRDEFS.notFound}`);
  bkt.deleteBucket(id);
}
