// The image walk (images ls's SIZE and PLATFORMS) on blobs that list one another in ways no sound
// content store holds: the store does not check that a blob hashes to its digest (neither does
// containerd's ReadBlob), so a damaged or tampered blob can name itself or its ancestors, or blobs
// can name one another many times over. Go's images.Walk recurses until its stack overflows, or
// for as long as the paths last; ours ends with ErrCorruptValue naming what it found. Blobs are
// served from memory by digest, as namespaceBlobReader serves them from the content store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { imagePlatforms, imageSize, type BlobReader } from '../../src/metadata/imagewalk.js';
import { ErrCorruptValue } from '../../src/metadata/errors.js';
import { onlyPlatform, parsePlatform } from '../../src/metadata/platforms.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG = 'application/vnd.oci.image.config.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const amd64 = onlyPlatform(parsePlatform('linux/amd64'));

/** Digest i of a test (any well-formed digest: nothing hashes the blobs). */
const dg = (i: number | string) => `sha256:${createHash('sha256').update(String(i)).digest('hex')}`;
const desc = (mediaType: string, digest: string, size: number, platform?: { os: string; architecture: string }) => ({ mediaType, digest, size, ...(platform ? { platform } : {}) });

function reader(blobs: Map<string, unknown>): BlobReader {
  return (d) => {
    const b = blobs.get(d.digest);
    if (b === undefined) throw Object.assign(new Error(`content digest ${d.digest}: not found`), { code: 'ERR_NOT_FOUND' });
    return new TextEncoder().encode(JSON.stringify(b));
  };
}

const config = { os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [] } };

test('ImageWalk_soundImage_sameLayerTwice_isNoCycle', () => {
  // A manifest may list one blob twice (Go sums it twice): siblings, not a cycle.
  const blobs = new Map<string, unknown>([
    [dg('m'), { schemaVersion: 2, mediaType: MANIFEST, config: desc(CONFIG, dg('c'), 10), layers: [desc(LAYER, dg('l'), 100), desc(LAYER, dg('l'), 100)] }],
    [dg('c'), config],
  ]);
  const target = desc(MANIFEST, dg('m'), 1);
  assert.deepEqual(imageSize(reader(blobs), target, amd64), { size: 211 });
  assert.deepEqual(imagePlatforms(reader(blobs), target), { platforms: ['linux/amd64'] });
});

test('ImageWalk_indexListsItself_sizeEndsWithTheCycle_platformsAsGoReadsThem', () => {
  const a = dg('index');
  const blobs = new Map<string, unknown>([[a, { schemaVersion: 2, mediaType: INDEX, manifests: [desc(INDEX, a, 7, { os: 'linux', architecture: 'amd64' })] }]]);
  const target = desc(INDEX, a, 7);
  const s = imageSize(reader(blobs), target, amd64);
  // Go sums the index and then its entry (the same blob) before it would walk below it again.
  assert.equal(s.size, 14);
  assert.ok(s.error instanceof ErrCorruptValue);
  assert.equal(s.error.message, `children: invalid desc ${a}: descriptor cycle: ${a} -> ${a}`);
  // Platforms stops at an entry that names its platform (Go's handler skips its children): no cycle walked.
  assert.deepEqual(imagePlatforms(reader(blobs), target), { platforms: ['linux/amd64'] });
});

test('ImageWalk_manifestsListEachOther_bothWalksEndNamingTheCycle', () => {
  const a = dg('a');
  const b = dg('b');
  const blobs = new Map<string, unknown>([
    [a, { schemaVersion: 2, config: desc(CONFIG, dg('c'), 1), layers: [desc(MANIFEST, b, 1)] }],
    [b, { schemaVersion: 2, config: desc(CONFIG, dg('c'), 1), layers: [desc(LAYER, dg('l'), 1), desc(MANIFEST, a, 1)] }],
    [dg('c'), config],
  ]);
  const target = desc(MANIFEST, a, 1);
  const want = `children: invalid desc ${a}: descriptor cycle: ${a} -> ${b} -> ${a}`;
  const s = imageSize(reader(blobs), target, amd64);
  assert.ok(s.error instanceof ErrCorruptValue);
  assert.equal(s.error.message, want);
  const p = imagePlatforms(reader(blobs), target);
  assert.ok(p.error instanceof ErrCorruptValue);
  assert.equal(p.error.message, want);
  assert.deepEqual(p.platforms, []);
});

test('ImageWalk_blobsListOneAnotherManyTimesOver_endsAtItsVisitBound', () => {
  // 20 manifests, each listing the next 4 times: 4^19 paths to the last one, no cycle.
  const blobs = new Map<string, unknown>();
  for (let i = 0; i < 20; i++) blobs.set(dg(i), { schemaVersion: 2, layers: i === 19 ? [] : Array.from({ length: 4 }, () => desc(MANIFEST, dg(i + 1), 1)) });
  const target = desc(MANIFEST, dg(0), 1);
  const want = `children: more than 100000 descriptors below ${dg(0)}: blobs list one another many times over`;
  const s = imageSize(reader(blobs), target, amd64);
  assert.ok(s.error instanceof ErrCorruptValue);
  assert.equal(s.error.message, want);
  // Visited before the bound: 50,000 manifests of 1 byte and as many configs of 0 (Go's Children
  // lists a manifest's config even when the document has none).
  assert.equal(s.size, 50_000);
  const p = imagePlatforms(reader(blobs), target);
  assert.equal(p.error?.message, want);
});

test('ImageWalk_descriptorsNestedTooDeep_endsAtItsDepthBound', () => {
  // A chain of 40 distinct manifests, each listing the next: no cycle, deeper than any image.
  const blobs = new Map<string, unknown>();
  for (let i = 0; i < 40; i++) blobs.set(dg(i), { schemaVersion: 2, layers: i === 39 ? [] : [desc(MANIFEST, dg(i + 1), 1)] });
  const s = imageSize(reader(blobs), desc(MANIFEST, dg(0), 1), amd64);
  assert.ok(s.error instanceof ErrCorruptValue);
  assert.equal(s.error.message, `children: invalid desc ${dg(31)}: descriptors nested deeper than 32 levels`);
  assert.equal(s.size, 32);
});
