// Sandboxes (containerd 1.7+; metadata/sandbox.go). 1.7 writes them to a top-level bucket
// <ns>/sandboxes/<id>/ (outside v1, dbVersion 3); 2.x (dbVersion 4, migration migrateSandboxes) moves
// them to v1/<ns>/sandboxes/<id>/.
//
//   <id>/
//   ├── createdat, updatedat   time.MarshalBinary
//   ├── labels/                string map
//   ├── extensions/<name>      protobuf Any
//   ├── spec                   protobuf Any (the OCI spec as JSON)
//   ├── sandboxer              text (2.x only)
//   └── runtime/{name, options}   text, protobuf Any

import type { Bucket, Tx } from '../bolt/index.js';
import { decodeAny, type Any } from './any.js';
import {
  BUCKET_KEY_EXTENSIONS,
  BUCKET_KEY_NAME,
  BUCKET_KEY_OBJECT_SANDBOXES,
  BUCKET_KEY_OPTIONS,
  BUCKET_KEY_RUNTIME,
  BUCKET_KEY_SANDBOXER,
  BUCKET_KEY_SPEC,
  getBucket,
  namespaceBucket,
  readLabels,
  readTimestamps,
  str,
} from './buckets.js';
import type { GoTime } from './encoding.js';
import { checkMap, type Adaptor } from './filters.js';
import { readRecord } from './damaged-records.js';

export interface Sandbox {
  id: string;
  labels?: Record<string, string>;
  runtime: { name: string; options?: Any };
  spec?: Any;
  extensions?: Record<string, Any>;
  sandboxer?: string;
  createdAt: GoTime;
  updatedAt: GoTime;
  /** Where it was found: "v1" (2.x layout) or "top-level" (1.7). */
  layout: 'v1' | 'top-level';
}

export function readSandbox(id: string, b: Bucket, layout: Sandbox['layout']): Sandbox {
  const s: Sandbox = { id, runtime: { name: '' }, layout, ...readTimestamps(b) };
  const labels = readLabels(b);
  if (labels) s.labels = labels;
  const rb = b.bucket(BUCKET_KEY_RUNTIME);
  if (rb) {
    s.runtime.name = str(rb.get(BUCKET_KEY_NAME));
    const o = rb.get(BUCKET_KEY_OPTIONS);
    if (o && o.length > 0) s.runtime.options = decodeAny(o);
  }
  const spec = b.get(BUCKET_KEY_SPEC);
  if (spec && spec.length > 0) s.spec = decodeAny(spec);
  const eb = b.bucket(BUCKET_KEY_EXTENSIONS);
  if (eb) {
    const ext: Record<string, Any> = {};
    eb.forEach((k, v) => {
      if (v !== undefined) ext[str(k)] = decodeAny(v);
    });
    s.extensions = ext;
  }
  const sb = b.get(BUCKET_KEY_SANDBOXER);
  if (sb !== undefined) s.sandboxer = str(sb);
  return s;
}

/** Sandboxes of a namespace from both layouts (2.x first), each id once. */
export function listSandboxes(tx: Tx, ns: string): Sandbox[] {
  const out: Sandbox[] = [];
  const seen = new Set<string>();
  const sources: [Bucket | undefined, Sandbox['layout']][] = [
    [namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_SANDBOXES), 'v1'],
    [ns === 'v1' ? undefined : getBucket(tx, ns, BUCKET_KEY_OBJECT_SANDBOXES), 'top-level'],
  ];
  for (const [bkt, layout] of sources) {
    bkt?.forEach((k, v) => {
      const id = str(k);
      if (v !== undefined || seen.has(id)) return;
      seen.add(id);
      const s = readRecord(tx, 'sandbox', ns, id, () => readSandbox(id, bkt.bucket(k)!, layout));
      if (s) out.push(s);
    });
  }
  return out;
}

/** Filter fields of a sandbox (metadata/adaptors.go adaptSandbox): id and labels. */
export function adaptSandbox(s: Sandbox): Adaptor {
  return (fp) => {
    switch (fp[0]) {
      case 'id':
        return [s.id, true];
      case 'labels':
        return checkMap(fp.slice(1), s.labels);
    }
    return ['', false];
  };
}
