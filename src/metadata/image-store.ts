// Writing images: v1/<ns>/images/<name>/ (containerd metadata/images.go Create, Update, Delete, writeImage).
//
//   createdat, updatedat   time.MarshalBinary (Create: both now; Update: createdat kept, updatedat now)
//   labels/                replaced whole; empty values dropped
//   annotations/           the target's annotations, replaced whole
//   target/                digest (text), mediatype (text), size (signed varint); keys put, never cleared
//
// Validation (validateImage): name required, labels <= 4096 bytes each, target digest valid (go-digest),
// size > 0, media type set.

import type { Bucket, Tx } from '../bolt/index.js';
import { BUCKET_KEY_DIGEST, BUCKET_KEY_MEDIA_TYPE, BUCKET_KEY_OBJECT_IMAGES, BUCKET_KEY_SIZE, BUCKET_KEY_TARGET, SCHEMA_VERSION, namespaceBucket } from './buckets.js';
import { ERRDEFS, type Clock, createBucketPath, createTimes, updateTime, digestError, isInt64, q, requireNamespace, validateLabelsAs, writeAnnotations, writeLabels, writeTimestamps } from './boltutil.js';
import { encodeVarint, type GoTime } from './encoding.js';
import { ErrAlreadyExists, ErrInvalidArgument, ErrNotFound } from './errors.js';
import { readImage, type Descriptor, type Image } from './images.js';
import type { Labels } from './labels.js';
import { applyMapFieldpath } from './fieldpaths.js';

/** An image to write. Times are containerd's (now) unless given: given times are kept (imports, copies). */
export interface ImageInput {
  name: string;
  labels?: Labels;
  target: Descriptor;
  createdAt?: GoTime;
  updatedAt?: GoTime;
}

/** validateImage / validateTarget. */
export function validateImage(image: { name: string; labels?: Labels | undefined; target: Descriptor }): void {
  if (image.name === '') throw new ErrInvalidArgument(`image name must not be empty: ${ERRDEFS.invalidArgument}`);
  validateLabelsAs('image.Labels', image.labels);
  const t = image.target;
  const derr = digestError(t.digest);
  if (derr) throw new ErrInvalidArgument(`Target.Digest ${q(t.digest)} invalid: ${derr}: ${ERRDEFS.invalidArgument}`);
  if (!isInt64(t.size)) throw new ErrInvalidArgument(`Target.Size ${t.size} is not an integer: ${ERRDEFS.invalidArgument}`);
  if (t.size <= 0) throw new ErrInvalidArgument(`Target.Size must be greater than zero: ${ERRDEFS.invalidArgument}`);
  if (t.mediaType === '') throw new ErrInvalidArgument(`Target.MediaType must be set: ${ERRDEFS.invalidArgument}`);
}

function writeImage(bkt: Bucket, image: Image): void {
  writeTimestamps(bkt, image.createdAt, image.updatedAt);
  const labels = writeLabels(bkt, image.labels);
  if (labels) image.labels = labels;
  else delete image.labels;
  const annotations = writeAnnotations(bkt, image.target.annotations);
  if (annotations) image.target.annotations = annotations;
  else delete image.target.annotations;
  const tbkt = bkt.createBucketIfNotExists(BUCKET_KEY_TARGET);
  tbkt.put(BUCKET_KEY_DIGEST, image.target.digest);
  tbkt.put(BUCKET_KEY_MEDIA_TYPE, image.target.mediaType);
  tbkt.put(BUCKET_KEY_SIZE, encodeVarint(image.target.size));
}

function copyDescriptor(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.annotations !== undefined) out.annotations = { ...d.annotations };
  return out;
}

/** imageStore.Create. Returns the image as stored. */
export function createImage(tx: Tx, ns: string, input: ImageInput, clock: Clock): Image {
  requireNamespace(ns);
  validateImage(input);
  const bkt = createBucketPath(tx, SCHEMA_VERSION, ns, BUCKET_KEY_OBJECT_IMAGES);
  if (bkt.bucket(input.name)) throw new ErrAlreadyExists(`image ${q(input.name)}: ${ERRDEFS.alreadyExists}`);
  const ibkt = bkt.createBucket(input.name);
  const { createdAt, updatedAt } = createTimes(input, 'image', clock);
  const image: Image = { name: input.name, target: copyDescriptor(input.target), createdAt, updatedAt };
  if (input.labels !== undefined) image.labels = { ...input.labels };
  writeImage(ibkt, image);
  return image;
}

/**
 * imageStore.Update. Without fieldpaths the image is replaced (times excepted). Field paths:
 * "labels", "labels.<key>", "annotations", "annotations.<key>", "target" (the whole descriptor).
 */
export function updateImage(tx: Tx, ns: string, input: ImageInput, fieldpaths: string[] | undefined, clock: Clock): Image {
  requireNamespace(ns);
  if (input.name === '') throw new ErrInvalidArgument(`image name is required for update: ${ERRDEFS.invalidArgument}`);
  const bkt = createBucketPath(tx, SCHEMA_VERSION, ns, BUCKET_KEY_OBJECT_IMAGES);
  const ibkt = bkt.bucket(input.name);
  if (!ibkt) throw new ErrNotFound(`image ${q(input.name)}: ${ERRDEFS.notFound}`);
  const current = readImage(input.name, ibkt);
  let updated: Image;
  if (fieldpaths && fieldpaths.length > 0) {
    updated = { ...current, target: copyDescriptor(current.target) };
    if (current.labels) updated.labels = { ...current.labels };
    for (const path of fieldpaths) {
      if (applyMapFieldpath(updated, input, 'labels', path) || applyMapFieldpath(updated.target, input.target, 'annotations', path)) continue;
      switch (path) {
        case 'target': {
          updated.target = copyDescriptor(input.target);
          break;
        }
        default:
          throw new ErrInvalidArgument(`cannot update ${q(path)} field on image ${q(input.name)}: ${ERRDEFS.invalidArgument}`);
      }
    }
  } else {
    updated = { name: input.name, target: copyDescriptor(input.target), createdAt: current.createdAt, updatedAt: current.updatedAt };
    if (input.labels !== undefined) updated.labels = { ...input.labels };
  }
  validateImage(updated);
  updated.createdAt = current.createdAt;
  updated.updatedAt = updateTime(input, 'image', clock);
  writeImage(ibkt, updated);
  return updated;
}

/** imageStore.Delete (the metadata only; content is left to garbage collection). */
export function deleteImage(tx: Tx, ns: string, name: string): void {
  requireNamespace(ns);
  const bkt = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_IMAGES);
  if (!bkt || !bkt.bucket(name)) throw new ErrNotFound(`image ${q(name)}: ${ERRDEFS.notFound}`);
  bkt.deleteBucket(name);
}
