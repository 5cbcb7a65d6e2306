// Namespaces: the buckets under v1 (metadata/namespaces.go). The key "version" is a value, not a namespace.

import type { Tx } from '../bolt/index.js';
import { SCHEMA_VERSION, childBuckets, getBucket, readLabels } from './buckets.js';
import { readRecord } from './damaged-records.js';

export interface Namespace {
  name: string;
  labels: Record<string, string>;
}

/** Namespace names in key order (namespaces.List). */
export function listNamespaces(tx: Tx): string[] {
  return childBuckets(tx.bucket(SCHEMA_VERSION));
}

export function namespaceLabels(tx: Tx, ns: string): Record<string, string> {
  const b = getBucket(tx, SCHEMA_VERSION, ns);
  return readRecord(tx, 'namespace', '', ns, () => (b && readLabels(b)) ?? {}) ?? {};
}
