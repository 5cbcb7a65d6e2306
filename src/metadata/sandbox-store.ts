// Writing sandboxes (containerd metadata/sandbox.go sandboxStore: Create, Update, Delete), in the layout
// of the file's own schema version, so a file stays what its containerd expects:
//
//   dbVersion 3 (1.7)   <ns>/sandboxes/<id>/      a top-level bucket named after the namespace
//   dbVersion 4 (2.x)   v1/<ns>/sandboxes/<id>/   plus `sandboxer`
//
//   createdat, updatedat   time.MarshalBinary (Create: both now; Update: updatedat now)
//   labels/                replaced whole; empty values dropped
//   extensions/<name>      put into the existing bucket, never removed (boltutil.WriteExtensions)
//   spec                   protobuf Any, only when set
//   sandboxer              text, always put (2.x layout only)
//   runtime/{name, options}   the bucket is kept across updates; options put only when set (as containerd)
//
// Validation (sandboxStore.validate): the id is an identifier; created and updated times are not zero.

import type { Bucket, Tx } from '../bolt/index.js';
import { copyAny, copyExtensions, type Any } from './any.js';
import { applyExtensionsFieldpath, applyMapFieldpath } from './fieldpaths.js';
import { BUCKET_KEY_NAME, BUCKET_KEY_OBJECT_SANDBOXES, BUCKET_KEY_OPTIONS, BUCKET_KEY_RUNTIME, BUCKET_KEY_SANDBOXER, BUCKET_KEY_SPEC, SCHEMA_VERSION, ZERO_TIME, getBucket } from './buckets.js';
import { ERRDEFS, type Clock, createBucketPath, createTimes, updateTime, identifierError, q, requireNamespace, writeAny, writeExtensions, writeLabels, writeTimestamps } from './boltutil.js';
import { compareTime, type GoTime } from './encoding.js';
import { ErrAlreadyExists, ErrInvalidArgument, ErrNotFound } from './errors.js';
import type { Labels } from './labels.js';
import { readSandbox, type Sandbox } from './sandboxes.js';

/** Where sandboxes live: "top-level" for containerd 1.7 files (dbVersion 3), "v1" for 2.x (dbVersion 4). */
export type SandboxLayout = Sandbox['layout'];

/** The layout a file of this schema version keeps sandboxes in. */
export function sandboxLayoutFor(version: number | undefined): SandboxLayout {
  return version !== undefined && version >= 4 ? 'v1' : 'top-level';
}

/** A sandbox to write. Times are containerd's (now) unless given (imports, copies). */
export interface SandboxInput {
  id: string;
  labels?: Labels;
  runtime: { name: string; options?: Any };
  spec?: Any;
  extensions?: Record<string, Any>;
  /** 2.x only: the sandbox controller's name (ignored in the 1.7 layout, which has no such key). */
  sandboxer?: string;
  createdAt?: GoTime;
  updatedAt?: GoTime;
}

function sandboxBucket(tx: Tx, ns: string, layout: SandboxLayout): Bucket | undefined {
  return layout === 'v1' ? getBucket(tx, SCHEMA_VERSION, ns, BUCKET_KEY_OBJECT_SANDBOXES) : getBucket(tx, ns, BUCKET_KEY_OBJECT_SANDBOXES);
}

function createSandboxBucket(tx: Tx, ns: string, layout: SandboxLayout): Bucket {
  if (layout === 'v1') return createBucketPath(tx, SCHEMA_VERSION, ns, BUCKET_KEY_OBJECT_SANDBOXES);
  // containerd 1.7 would write namespace "v1"'s sandboxes into v1/sandboxes, where they read as a namespace.
  if (ns === SCHEMA_VERSION) throw new ErrInvalidArgument(`namespace ${q(ns)} cannot hold sandboxes in the 1.7 layout: ${ERRDEFS.invalidArgument}`);
  return createBucketPath(tx, ns, BUCKET_KEY_OBJECT_SANDBOXES);
}

function isZero(t: GoTime): boolean {
  return compareTime(t, ZERO_TIME) === 0;
}

/** sandboxStore.validate. */
export function validateSandbox(s: { id: string; createdAt: GoTime; updatedAt: GoTime }): void {
  const err = identifierError(s.id);
  if (err) throw new ErrInvalidArgument(`invalid sandbox ID: ${err}`);
  if (isZero(s.createdAt)) throw new ErrInvalidArgument(`creation date must not be zero: ${ERRDEFS.invalidArgument}`);
  if (isZero(s.updatedAt)) throw new ErrInvalidArgument(`updated date must not be zero: ${ERRDEFS.invalidArgument}`);
}

/** sandboxStore.write: the record's fields into <id>/ (created, or reused when overwriting). */
function writeSandbox(parent: Bucket, s: Sandbox, overwrite: boolean, layout: SandboxLayout): void {
  let bkt: Bucket;
  if (overwrite) bkt = parent.createBucketIfNotExists(s.id);
  else {
    if (parent.bucket(s.id) || parent.get(s.id) !== undefined) throw new ErrAlreadyExists(`sandbox bucket ${q(s.id)} already exists: ${ERRDEFS.alreadyExists}`);
    bkt = parent.createBucket(s.id);
  }
  writeTimestamps(bkt, s.createdAt, s.updatedAt);
  const labels = writeLabels(bkt, s.labels);
  if (labels) s.labels = labels;
  else delete s.labels;
  writeExtensions(bkt, s.extensions);
  writeAny(bkt, BUCKET_KEY_SPEC, s.spec);
  if (layout === 'v1') bkt.put(BUCKET_KEY_SANDBOXER, s.sandboxer ?? '');
  const rbkt = bkt.createBucketIfNotExists(BUCKET_KEY_RUNTIME);
  rbkt.put(BUCKET_KEY_NAME, s.runtime.name);
  writeAny(rbkt, BUCKET_KEY_OPTIONS, s.runtime.options);
}

/** sandboxStore.Create. Returns the sandbox as stored. */
export function createSandbox(tx: Tx, ns: string, input: SandboxInput, layout: SandboxLayout, clock: Clock): Sandbox {
  requireNamespace(ns);
  const { createdAt, updatedAt } = createTimes(input, 'sandbox', clock);
  const s: Sandbox = { id: input.id, runtime: { name: input.runtime.name }, createdAt, updatedAt, layout };
  if (input.runtime.options) s.runtime.options = copyAny(input.runtime.options);
  if (input.labels !== undefined) s.labels = { ...input.labels };
  if (input.spec) s.spec = copyAny(input.spec);
  if (input.extensions !== undefined) s.extensions = copyExtensions(input.extensions);
  if (layout === 'v1') s.sandboxer = input.sandboxer ?? '';
  try {
    validateSandbox(s);
  } catch (e) {
    throw new ErrInvalidArgument(`failed to validate sandbox: ${(e as Error).message}`);
  }
  const parent = createSandboxBucket(tx, ns, layout);
  try {
    writeSandbox(parent, s, false, layout);
  } catch (e) {
    if (e instanceof ErrAlreadyExists) throw new ErrAlreadyExists(`write error: ${e.message}`);
    throw e;
  }
  return readSandbox(s.id, parent.bucket(s.id)!, layout);
}

/**
 * sandboxStore.Update. Field paths: "labels", "labels.<key>", "extensions", "extensions.<name>", "spec",
 * "runtime". Without fieldpaths the four are replaced and the runtime name, which is immutable, must equal
 * the stored one. The sandboxer never changes.
 */
export function updateSandbox(tx: Tx, ns: string, input: SandboxInput, fieldpaths: string[] | undefined, layout: SandboxLayout, clock: Clock): Sandbox {
  requireNamespace(ns);
  const parent = sandboxBucket(tx, ns, layout);
  if (!parent) throw new ErrNotFound(`no sandbox buckets: ${ERRDEFS.notFound}`);
  const bkt = parent.bucket(input.id);
  if (!bkt) throw new ErrNotFound(`bucket ${q(input.id)} not found: ${ERRDEFS.notFound}`);
  const updated = readSandbox(input.id, bkt, layout);
  let paths = fieldpaths ?? [];
  if (paths.length === 0) {
    paths = ['labels', 'extensions', 'spec', 'runtime'];
    if (updated.runtime.name !== input.runtime.name) throw new ErrInvalidArgument(`sandbox.Runtime.Name field is immutable: ${ERRDEFS.invalidArgument}`);
  }
  for (const path of paths) {
    if (applyMapFieldpath(updated, input, 'labels', path) || applyExtensionsFieldpath(updated, input, path)) continue;
    switch (path) {
      case 'runtime':
        updated.runtime = { name: input.runtime.name, ...(input.runtime.options ? { options: copyAny(input.runtime.options) } : {}) };
        break;
      case 'spec':
        if (input.spec) updated.spec = copyAny(input.spec);
        else delete updated.spec;
        break;
      default:
        throw new ErrInvalidArgument(`cannot update ${q(path)} field on sandbox ${q(input.id)}: ${ERRDEFS.invalidArgument}`);
    }
  }
  updated.updatedAt = updateTime(input, 'sandbox', clock);
  validateSandbox(updated);
  writeSandbox(parent, updated, true, layout);
  // What the bucket now holds (extensions and runtime options the update left out stay, as in containerd).
  return readSandbox(input.id, bkt, layout);
}

/** sandboxStore.Delete. */
export function deleteSandbox(tx: Tx, ns: string, id: string, layout: SandboxLayout): void {
  requireNamespace(ns);
  const parent = sandboxBucket(tx, ns, layout);
  if (!parent) throw new ErrNotFound(`no sandbox buckets: ${ERRDEFS.notFound}`);
  if (!parent.bucket(id)) throw new ErrNotFound(`failed to delete sandbox ${q(id)}: ${ERRDEFS.notFound}`);
  parent.deleteBucket(id);
}
