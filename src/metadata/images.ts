// Images: v1/<ns>/images/<name>/ (metadata/images.go readImage).
//   createdat, updatedat   time.MarshalBinary
//   labels/, annotations/  string maps (annotations belong to the target descriptor)
//   target/                digest (text), mediatype (text), size (signed varint)

import type { Bucket, Tx } from '../bolt/index.js';
import {
  BUCKET_KEY_DIGEST,
  BUCKET_KEY_MEDIA_TYPE,
  BUCKET_KEY_OBJECT_IMAGES,
  BUCKET_KEY_SIZE,
  BUCKET_KEY_TARGET,
  namespaceBucket,
  readAnnotations,
  readLabels,
  readTimestamps,
  str,
} from './buckets.js';
import { goVarint, type GoTime } from './encoding.js';
import { ErrCorruptValue } from './errors.js';
import { checkMap, type Adaptor } from './filters.js';
import { readRecord } from './damaged-records.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface Image {
  name: string;
  labels?: Record<string, string>;
  target: Descriptor;
  createdAt: GoTime;
  updatedAt: GoTime;
}

export function readImage(name: string, bkt: Bucket): Image {
  const { createdAt, updatedAt } = readTimestamps(bkt);
  const target: Descriptor = { mediaType: '', digest: '', size: 0 };
  const annotations = readAnnotations(bkt);
  if (annotations) target.annotations = annotations;
  const tbkt = bkt.bucket(BUCKET_KEY_TARGET);
  if (!tbkt) throw new ErrCorruptValue('unable to read target bucket');
  // containerd ranges over the bucket and picks these keys; three lookups read the same values
  // (a nested bucket under one of the names is skipped either way) without decoding every key.
  const digest = tbkt.get(BUCKET_KEY_DIGEST);
  if (digest !== undefined) target.digest = str(digest);
  const mediaType = tbkt.get(BUCKET_KEY_MEDIA_TYPE);
  if (mediaType !== undefined) target.mediaType = str(mediaType);
  const size = tbkt.get(BUCKET_KEY_SIZE);
  // containerd: `image.Target.Size, _ = binary.Varint(v)`; bytes that do not decode read as 0.
  if (size !== undefined && size.length > 0) target.size = goVarint(size);
  const img: Image = { name, target, createdAt, updatedAt };
  const labels = readLabels(bkt);
  if (labels) img.labels = labels;
  return img;
}

/** Images of a namespace in key (name) order, as images.Store List returns them. */
export function listImages(tx: Tx, ns: string): Image[] {
  const bkt = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_IMAGES);
  const out: Image[] = [];
  bkt?.forEach((k, v) => {
    if (v !== undefined) return;
    const name = str(k);
    const img = readRecord(tx, 'image', ns, name, () => readImage(name, bkt.bucket(k)!));
    if (img) out.push(img);
  });
  return out;
}

/** containerd's Get, which names the image in a read error (`image "x": ...`); List does not. */
export function getImage(tx: Tx, ns: string, name: string): Image | undefined {
  const b = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_IMAGES, name);
  if (!b) return undefined;
  try {
    return readImage(name, b);
  } catch (e) {
    if (e instanceof ErrCorruptValue) throw new ErrCorruptValue(`image ${JSON.stringify(name)}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Filter fields of an image (metadata/adaptors.go adaptImage). */
export function adaptImage(img: Image): Adaptor {
  return (fp) => {
    switch (fp[0]) {
      case 'name':
        return [img.name, img.name.length > 0];
      case 'target':
        if (fp[1] === 'digest') return [img.target.digest, img.target.digest.length > 0];
        if (fp[1] === 'mediatype') return [img.target.mediaType, img.target.mediaType.length > 0];
        return ['', false];
      case 'labels':
        return checkMap(fp.slice(1), img.labels);
      case 'annotations':
        return checkMap(fp.slice(1), img.target.annotations);
    }
    return ['', false];
  };
}
