// Writing namespaces: v1/<namespace>/labels/ (containerd metadata/namespaces.go, services/namespaces).
//
//   Create      validates the name and labels, creates v1/<ns>/ and an (always present, maybe empty) labels/
//   SetLabel    creates v1/<ns>/labels/ if needed (so, like containerd, it creates a missing namespace);
//               an empty value deletes the key
//   Update      without a field mask (setNamespaceLabels): every current label is removed through SetLabel,
//               then every new one set; the labels/ bucket stays
//   Delete      refused while images, blobs, containers or snapshots on any snapshotter remain (1.6 checks only
//               these four; leases, ingests and sandboxes do not block it and are deleted with the namespace)

import type { Tx } from '../bolt/index.js';
import { BUCKET_KEY_OBJECT_BLOB, BUCKET_KEY_OBJECT_CONTAINERS, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_IMAGES, BUCKET_KEY_OBJECT_LABELS, BUCKET_KEY_OBJECT_SNAPSHOTS, SCHEMA_VERSION, namespaceBucket, str } from './buckets.js';
import { ERRDEFS, createBucketPath, identifierError, isBucketEmpty, labelError, q } from './boltutil.js';
import { ErrAlreadyExists, ErrFailedPrecondition, ErrInvalidArgument, ErrNotFound } from './errors.js';
import type { Labels } from './labels.js';

function validateName(name: string): void {
  const err = identifierError(name);
  if (err) throw new ErrInvalidArgument(err);
  if (name === 'version') throw new ErrInvalidArgument(`namespace "version" is reserved: ${ERRDEFS.invalidArgument}`);
}

function validateNamespaceLabels(labels: Labels | undefined): void {
  for (const [k, v] of Object.entries(labels ?? {})) {
    const err = labelError(k, v);
    if (err) throw new ErrInvalidArgument(`namespace.Labels: ${err}`);
  }
}

/** namespaceStore.Create. Empty label values are stored as given (containerd writes them). */
export function createNamespace(tx: Tx, name: string, labels?: Labels): void {
  const top = tx.createBucketIfNotExists(SCHEMA_VERSION);
  validateName(name);
  validateNamespaceLabels(labels);
  if (top.bucket(name)) throw new ErrAlreadyExists(`namespace ${q(name)}: ${ERRDEFS.alreadyExists}`);
  const lbkt = top.createBucket(name).createBucketIfNotExists(BUCKET_KEY_OBJECT_LABELS);
  for (const [k, v] of Object.entries(labels ?? {})) lbkt.put(k, v);
}

/** namespaceStore.SetLabel: one key; "" removes it. */
export function setNamespaceLabel(tx: Tx, name: string, key: string, value: string): void {
  const err = labelError(key, value);
  if (err) throw new ErrInvalidArgument(`namespace.Labels: ${err}`);
  validateName(name);
  const lbkt = createBucketPath(tx, SCHEMA_VERSION, name, BUCKET_KEY_OBJECT_LABELS);
  if (value === '') lbkt.delete(key);
  else lbkt.put(key, value);
}

/** The namespaces service's Update without a field mask: the labels become exactly `labels` (empty values dropped). */
export function setNamespaceLabels(tx: Tx, name: string, labels: Labels): void {
  validateName(name);
  const current: string[] = [];
  namespaceBucket(tx, name, BUCKET_KEY_OBJECT_LABELS)?.forEach((k) => current.push(str(k)));
  for (const k of current) setNamespaceLabel(tx, name, k, '');
  for (const [k, v] of Object.entries(labels)) setNamespaceLabel(tx, name, k, v);
}

/** What still lives in a namespace, in containerd's words and order (namespaces.go listNs). */
export function namespaceContents(tx: Tx, name: string): string[] {
  const out: string[] = [];
  if (!isBucketEmpty(namespaceBucket(tx, name, BUCKET_KEY_OBJECT_IMAGES))) out.push('images');
  if (!isBucketEmpty(namespaceBucket(tx, name, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_BLOB))) out.push('blobs');
  if (!isBucketEmpty(namespaceBucket(tx, name, BUCKET_KEY_OBJECT_CONTAINERS))) out.push('containers');
  const snbkt = namespaceBucket(tx, name, BUCKET_KEY_OBJECT_SNAPSHOTS);
  snbkt?.forEach((k, v) => {
    if (v === undefined && !isBucketEmpty(snbkt.bucket(k))) out.push(`snapshots on ${q(str(k))} snapshotter`);
  });
  return out;
}

/** namespaceStore.Delete. */
export function deleteNamespace(tx: Tx, name: string): void {
  const types = namespaceContents(tx, name);
  if (types.length > 0) {
    throw new ErrFailedPrecondition(`namespace ${q(name)} must be empty, but it still has ${types.join(', ')}: ${ERRDEFS.failedPrecondition}`);
  }
  const top = tx.bucket(SCHEMA_VERSION);
  if (!top || !top.bucket(name)) throw new ErrNotFound(`namespace ${q(name)}: ${ERRDEFS.notFound}`);
  top.deleteBucket(name);
}
