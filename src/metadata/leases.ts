// Leases: v1/<ns>/leases/<id>/ (metadata/leases.go).
//   createdat   time.MarshalBinary
//   labels/     string map (containerd.io/gc.expire, ...)
//   content/<digest>, ingests/<ref>, images/<name> (2.x), snapshots/<snapshotter>/<key>   empty values

import type { Tx } from '../bolt/index.js';
import {
  BUCKET_KEY_CREATED_AT,
  BUCKET_KEY_OBJECT_CONTENT,
  BUCKET_KEY_OBJECT_IMAGES,
  BUCKET_KEY_OBJECT_INGESTS,
  BUCKET_KEY_OBJECT_LEASES,
  BUCKET_KEY_OBJECT_SNAPSHOTS,
  ZERO_TIME,
  childBuckets,
  namespaceBucket,
  plainKeys,
  readLabels,
  readTime,
  str,
} from './buckets.js';
import type { GoTime } from './encoding.js';
import { checkMap, type Adaptor } from './filters.js';
import { readRecord } from './damaged-records.js';

export interface LeaseResource {
  id: string;
  /** "content", "ingests", "images" or "snapshots/<snapshotter>". */
  type: string;
}

export interface Lease {
  id: string;
  createdAt: GoTime;
  labels?: Record<string, string>;
  resources: LeaseResource[];
}

export function listLeases(tx: Tx, ns: string): Lease[] {
  const bkt = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_LEASES);
  const out: Lease[] = [];
  bkt?.forEach((k, v) => {
    if (v !== undefined) return;
    const b = bkt.bucket(k)!;
    const lease = readRecord(tx, 'lease', ns, str(k), (): Lease => {
      const r: Lease = { id: str(k), createdAt: readTime(b, BUCKET_KEY_CREATED_AT) ?? ZERO_TIME, resources: [] };
      const labels = readLabels(b);
      if (labels) r.labels = labels;
      for (const t of [BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_INGESTS, BUCKET_KEY_OBJECT_IMAGES]) {
        for (const id of plainKeys(b.bucket(t))) r.resources.push({ id, type: t });
      }
      const sb = b.bucket(BUCKET_KEY_OBJECT_SNAPSHOTS);
      for (const sn of childBuckets(sb)) {
        for (const id of plainKeys(sb!.bucket(sn))) r.resources.push({ id, type: `snapshots/${sn}` });
      }
      return r;
    });
    if (lease) out.push(lease);
  });
  return out;
}

/** Filter fields of a lease (metadata/adaptors.go adaptLease). */
export function adaptLease(l: Lease): Adaptor {
  return (fp) => {
    switch (fp[0]) {
      case 'id':
        return [l.id, l.id.length > 0];
      case 'labels':
        return checkMap(fp.slice(1), l.labels);
    }
    return ['', false];
  };
}
