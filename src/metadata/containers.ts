// Containers: v1/<ns>/containers/<id>/ (metadata/containers.go readContainer).
//   createdat, updatedat    time.MarshalBinary
//   labels/                 string map
//   image, snapshotter, snapshotKey, sandboxid (1.7+)   text
//   runtime/{name, options} text, protobuf Any
//   spec                    protobuf Any (value: OCI runtime spec JSON)
//   extensions/<name>       protobuf Any

import type { Bucket, Tx } from '../bolt/index.js';
import { decodeAny, type Any } from './any.js';
import {
  BUCKET_KEY_EXTENSIONS,
  BUCKET_KEY_IMAGE,
  BUCKET_KEY_NAME,
  BUCKET_KEY_OBJECT_CONTAINERS,
  BUCKET_KEY_OPTIONS,
  BUCKET_KEY_RUNTIME,
  BUCKET_KEY_SANDBOX_ID,
  BUCKET_KEY_SNAPSHOTTER,
  BUCKET_KEY_SNAPSHOT_KEY,
  BUCKET_KEY_SPEC,
  namespaceBucket,
  readLabels,
  readTimestamps,
  str,
} from './buckets.js';
import type { GoTime } from './encoding.js';
import { checkMap, type Adaptor } from './filters.js';
import { readRecord } from './damaged-records.js';
import { ErrCorruptValue } from './errors.js';

export interface RuntimeInfo {
  name: string;
  options?: Any;
}

export interface Container {
  id: string;
  labels?: Record<string, string>;
  image: string;
  runtime: RuntimeInfo;
  spec?: Any;
  snapshotKey: string;
  snapshotter: string;
  createdAt: GoTime;
  updatedAt: GoTime;
  extensions?: Record<string, Any>;
  sandboxId?: string;
}

export function readContainer(id: string, bkt: Bucket): Container {
  const { createdAt, updatedAt } = readTimestamps(bkt);
  const c: Container = { id, image: '', runtime: { name: '' }, snapshotKey: '', snapshotter: '', createdAt, updatedAt };
  const labels = readLabels(bkt);
  if (labels) c.labels = labels;
  bkt.forEach((k, v) => {
    switch (str(k)) {
      case BUCKET_KEY_IMAGE:
        c.image = str(v);
        break;
      case BUCKET_KEY_RUNTIME: {
        const rbkt = bkt.bucket(BUCKET_KEY_RUNTIME);
        if (!rbkt) break;
        const n = rbkt.get(BUCKET_KEY_NAME);
        if (n !== undefined) c.runtime.name = str(n);
        const o = rbkt.get(BUCKET_KEY_OPTIONS);
        if (o !== undefined && o.length > 0) {
          // boltutil.ReadAny wraps its error; the spec and extensions are read bare.
          try {
            c.runtime.options = decodeAny(o);
          } catch (e) {
            if (e instanceof ErrCorruptValue) throw new ErrCorruptValue(`failed to unmarshal any: ${e.message}`, { cause: e });
            throw e;
          }
        }
        break;
      }
      case BUCKET_KEY_SPEC:
        if (v !== undefined) c.spec = decodeAny(v);
        break;
      case BUCKET_KEY_SNAPSHOT_KEY:
        c.snapshotKey = str(v);
        break;
      case BUCKET_KEY_SNAPSHOTTER:
        c.snapshotter = str(v);
        break;
      case BUCKET_KEY_SANDBOX_ID:
        c.sandboxId = str(v);
        break;
      case BUCKET_KEY_EXTENSIONS: {
        const ebkt = bkt.bucket(BUCKET_KEY_EXTENSIONS);
        if (!ebkt) break;
        const ext: Record<string, Any> = {};
        ebkt.forEach((ek, ev) => {
          if (ev !== undefined) ext[str(ek)] = decodeAny(ev);
        });
        c.extensions = ext;
        break;
      }
    }
  });
  return c;
}

/** Containers of a namespace in id order. */
export function listContainers(tx: Tx, ns: string): Container[] {
  const bkt = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_CONTAINERS);
  const out: Container[] = [];
  bkt?.forEach((k, v) => {
    if (v !== undefined) return;
    const id = str(k);
    const c = readRecord(tx, 'container', ns, id, () => readContainerWrapped(id, bkt.bucket(k)!));
    if (c) out.push(c);
  });
  return out;
}

/** readContainer with containerd's wrap of its errors (metadata/containers.go Get and List). */
function readContainerWrapped(id: string, bkt: Bucket): Container {
  try {
    return readContainer(id, bkt);
  } catch (e) {
    if (e instanceof ErrCorruptValue) throw new ErrCorruptValue(`failed to read container ${JSON.stringify(id)}: ${e.message}`, { cause: e });
    throw e;
  }
}

export function getContainer(tx: Tx, ns: string, id: string): Container | undefined {
  const b = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_CONTAINERS, id);
  return b ? readContainerWrapped(id, b) : undefined;
}

/** Filter fields of a container (metadata/adaptors.go adaptContainer). */
export function adaptContainer(c: Container): Adaptor {
  return (fp) => {
    switch (fp[0]) {
      case 'id':
        return [c.id, c.id.length > 0];
      case 'runtime':
        return fp[1] === 'name' ? [c.runtime.name, c.runtime.name.length > 0] : ['', false];
      case 'image':
        return [c.image, c.image.length > 0];
      case 'labels':
        return checkMap(fp.slice(1), c.labels);
    }
    return ['', false];
  };
}
