// Importing images from an archive into a stopped containerd root, as containerd 1.6's client.Import
// (import.go) does through its API, and what the root holds once its GC has run:
//
//   1. archive.ts writes every file of the tar into the content store (blobs/ only: no records yet).
//   2. The walk containerd does, from the index down: the top index names the images (the
//      io.containerd.image.name annotation, else org.opencontainers.image.ref.name through the
//      --base-name translator; --digests adds <base>@<digest>; --index-name the index itself);
//      children are filtered by platform (default: this host's platform and its compatible ones;
//      --platform: exactly that one; --all-platforms: every one); every blob with children gets
//      containerd.io/gc.ref.content.m.<i> / .config / .l.<i> / .<i> labels (images.SetChildrenLabels).
//   3. ONE bolt transaction writes the blob records, their labels and the images (Update of
//      "target" when the name exists, else Create). Nothing reaches meta.db before the content is
//      committed, so an interrupted import leaves either no image or all of it.
//
// containerd does all this under a lease (24h, random id) that it deletes when the import returns;
// from then on its GC collects whatever no image reaches: index.json (unless --index-name), the
// manifests and layers of other platforms, docker save's repositories and <id>/json files. Offline
// no GC can run between the steps, so no lease is needed, and the records of blobs nothing reaches
// are not written at all (their files, if this import made them, are removed after the commit):
// the root is what containerd's GC would leave. Blobs the namespace had already keep their records.

import type { ContentStore } from '../content/index.js';
import { importIndex, removeCreated, MT_DOCKER_LIST, MT_DOCKER_MANIFEST, MT_OCI_CONFIG, MT_OCI_INDEX, MT_OCI_MANIFEST, MT_DOCKER_CONFIG, LABEL_UNCOMPRESSED, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, type ArchiveBlob } from './archive.js';
import { systemClock, type Clock } from './boltutil.js';
import { listContent, type ContentInfo } from './content.js';
import { addBlobRecord, updateContentLabels } from './content-store.js';
import type { MetadataDB } from './db.js';
import { ErrImportArchive, ErrNotFound } from './errors.js';
import { createImage, updateImage } from './image-store.js';
import type { Image } from './images.js';
import { toDescriptor, type OciDescriptor } from './imagewalk.js';
import type { MatchComparer } from './platforms.js';

export interface ImportOptions {
  /** --index-name: an image for the index itself. */
  indexName?: string;
  /** Translates an OCI ref.name annotation into an image name ("" = no image). */
  imageRefT?: (ref: string) => string;
  /** --digests: an image name for each manifest's digest. */
  dgstRefT?: (digest: string) => string;
  /** --skip-digest-for-named: no digest image for manifests that have a name. */
  skipDgstRef?: (name: string) => boolean;
  /** Which platforms' content to walk (and label). */
  platform: MatchComparer;
  /** Stamps createdat/updatedat (default: now). */
  clock?: Clock;
  /** Archive bytes consumed so far (progress). */
  onBytes?: (n: number) => void;
}

export interface ImportResult {
  /** The images created or updated, in containerd's order. */
  images: Image[];
  /** The index the archive yielded. */
  index: OciDescriptor;
}

const GC_REF_CONTENT = 'containerd.io/gc.ref.content';

/** images.IsLayerType. */
function isLayerType(mt: string): boolean {
  if (mt.startsWith('application/vnd.oci.image.layer.')) return true;
  const base = mt.split('+')[0];
  return (
    base === 'application/vnd.docker.image.rootfs.diff.tar' ||
    base === 'application/vnd.docker.image.rootfs.diff.tar.gzip' ||
    base === 'application/vnd.docker.image.rootfs.foreign.diff.tar' ||
    base === 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'
  );
}

/** images.ChildGCLabels: the label key a child is referenced by (a trailing "." gets the index). */
function childGCLabel(d: OciDescriptor): string {
  const mt = d.mediaType;
  if (mt === MT_DOCKER_CONFIG || mt === MT_OCI_CONFIG || mt === 'application/vnd.containerd.container.criu.checkpoint.criu.tar' || mt === 'application/vnd.containerd.container.checkpoint.config.v1+proto') {
    return `${GC_REF_CONTENT}.config`;
  }
  if (mt === MT_DOCKER_MANIFEST || mt === MT_OCI_MANIFEST) return `${GC_REF_CONTENT}.m.`;
  if (isLayerType(mt)) return `${GC_REF_CONTENT}.l.`;
  return `${GC_REF_CONTENT}.`;
}

/** The blobs the import may read: the namespace's records and what this import wrote (containerd's namespaced store). */
type Reader = (digest: string) => Promise<Buffer>;

function parseJSON(b: Buffer, digest: string): Record<string, unknown> {
  try {
    const v = JSON.parse(b.toString('utf8')) as unknown;
    return (v ?? {}) as Record<string, unknown>;
  } catch (e) {
    throw new ErrImportArchive('format', `${digest}: ${(e as Error).message}`, { cause: e });
  }
}

/** images.Children with validateMediaType. */
async function children(read: Reader, d: OciDescriptor): Promise<OciDescriptor[]> {
  const isManifest = d.mediaType === MT_DOCKER_MANIFEST || d.mediaType === MT_OCI_MANIFEST;
  const isIndex = d.mediaType === MT_DOCKER_LIST || d.mediaType === MT_OCI_INDEX;
  if (!isManifest && !isIndex) return [];
  const doc = parseJSON(await read(d.digest), d.digest);
  if (doc.fsLayers !== undefined) throw new ErrImportArchive('format', `children: invalid desc ${d.digest}: media-type: schema 1 not supported`);
  if (isManifest) {
    if (doc.manifests !== undefined || doc.mediaType === MT_DOCKER_LIST || doc.mediaType === MT_OCI_INDEX) {
      throw new ErrImportArchive('format', `children: invalid desc ${d.digest}: media-type: expected manifest but found index (${d.mediaType})`);
    }
    return [toDescriptor(doc.config), ...(Array.isArray(doc.layers) ? doc.layers : []).map(toDescriptor)];
  }
  if (doc.config !== undefined || doc.layers !== undefined || doc.mediaType === MT_DOCKER_MANIFEST || doc.mediaType === MT_OCI_MANIFEST) {
    throw new ErrImportArchive('format', `children: invalid desc ${d.digest}: media-type: expected index but found manifest (${d.mediaType})`);
  }
  return (Array.isArray(doc.manifests) ? doc.manifests : []).map(toDescriptor);
}

/** What the walk decided: images to write and the labels each blob gets. */
interface WalkResult {
  images: { name: string; target: OciDescriptor }[];
  labels: Map<string, Record<string, string>>;
  /** Every descriptor the walk reached (configs and layers too, which containerd never reads). */
  visited: Set<string>;
}

async function walk(read: Reader, index: OciDescriptor, opts: ImportOptions): Promise<WalkResult> {
  const images: WalkResult['images'] = [];
  const labels = new Map<string, Record<string, string>>();
  if (opts.indexName) images.push({ name: opts.indexName, target: index });
  let empty = true;
  const visited = new Set<string>();
  const handle = async (desc: OciDescriptor): Promise<OciDescriptor[]> => {
    visited.add(desc.digest);
    let ch: OciDescriptor[];
    if (desc.digest !== index.digest) ch = await children(read, desc);
    else {
      const idx = parseJSON(await read(desc.digest), desc.digest);
      ch = (Array.isArray(idx.manifests) ? idx.manifests : []).map(toDescriptor);
      for (const m of ch) {
        const name = imageName(m.annotations, opts.imageRefT);
        if (name !== '') images.push({ name, target: m });
        if (opts.skipDgstRef?.(name)) continue;
        if (opts.dgstRefT) {
          const ref = opts.dgstRefT(m.digest);
          if (ref !== '') images.push({ name: ref, target: m });
        }
      }
    }
    // images.FilterPlatforms
    ch = ch.filter((c) => !c.platform || opts.platform.match(c.platform));
    // images.SetChildrenLabels
    if (ch.length > 0) {
      const keys = new Map<string, number>();
      const l = labels.get(desc.digest) ?? {};
      for (const c of ch) {
        let key = childGCLabel(c);
        const i = keys.get(key) ?? 0;
        keys.set(key, i + 1);
        if (i > 0 || key.endsWith('.')) key = `${key}${i}`;
        l[key] = c.digest;
      }
      labels.set(desc.digest, l);
      empty = false;
    }
    return ch;
  };
  // images.Walk follows every path, so indexes that each list the same index twice make 2^depth
  // paths (and a blob of the namespace that lists itself, never hashed on read, makes an endless
  // one). What handle does for a descriptor depends only on its media type and digest (the bytes
  // are fixed by the digest; labels are set, not added), so a descriptor handled once is skipped:
  // the images and labels are the same as Walk's, and a cycle ends.
  const done = new Set<string>();
  const rec = async (descs: OciDescriptor[]): Promise<void> => {
    for (const d of descs) {
      const key = `${d.mediaType} ${d.digest}`;
      if (done.has(key)) continue;
      done.add(key);
      const ch = await handle(d);
      if (ch.length > 0) await rec(ch);
    }
  };
  await rec([index]);
  if (empty) throw new ErrImportArchive('empty', 'image might be filtered out');
  return { images, labels, visited };
}

function imageName(annotations: Record<string, string> | undefined, ociCleanup: ((s: string) => string) | undefined): string {
  const name = annotations?.[ANNOTATION_IMAGE_NAME] ?? '';
  if (name !== '') return name;
  const ref = annotations?.[ANNOTATION_REF_NAME] ?? '';
  if (ref !== '' && ociCleanup) return ociCleanup(ref);
  return ref;
}

/** Digests reachable from the roots through containerd.io/gc.ref.content* labels (the GC's mark phase for content). */
function reachable(roots: Iterable<string>, labelsOf: (digest: string) => Record<string, string> | undefined): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const d = stack.pop()!;
    if (seen.has(d)) continue;
    seen.add(d);
    for (const [k, v] of Object.entries(labelsOf(d) ?? {})) {
      if (k === GC_REF_CONTENT || k.startsWith(`${GC_REF_CONTENT}.`) || k.startsWith(`${GC_REF_CONTENT}/`)) stack.push(v);
    }
  }
  return seen;
}

/**
 * Imports the archive `source` into namespace `ns`: blobs into `store`, then blob records, labels and
 * images in one transaction of `meta`. Throws ErrImportArchive (nothing changed) for bad archives.
 */
export async function importImages(meta: MetadataDB, store: ContentStore, ns: string, source: AsyncIterable<Uint8Array>, opts: ImportOptions): Promise<ImportResult> {
  const clock = opts.clock ?? systemClock;
  const existing = new Map<string, ContentInfo>(meta.view((tx) => listContent(tx, ns)).map((c) => [c.digest, c]));
  // resolveLayers' walk of the namespace: the last compressed blob (in digest order) labelled with the layer's digest.
  const compressed = new Map<string, { digest: string; size: number }>();
  for (const c of existing.values()) {
    const u = c.labels?.[LABEL_UNCOMPRESSED];
    if (u !== undefined) compressed.set(u, { digest: c.digest, size: c.size });
  }
  const res = await importIndex(store, source, {
    refPrefix: `${ns}/import/`,
    findCompressed: (u) => compressed.get(u),
    ...(opts.onBytes ? { onBytes: opts.onBytes } : {}),
  });
  const written: Map<string, ArchiveBlob> = res.blobs;
  let kept = new Set<string>();
  let images: Image[];
  try {
    const read: Reader = async (digest) => {
      if (!existing.has(digest) && !written.has(digest)) throw new ErrImportArchive('missing', `content digest ${digest}: not found`);
      try {
        return await store.read(digest);
      } catch (e) {
        throw new ErrImportArchive('missing', `content digest ${digest}: not found`, { cause: e });
      }
    };
    const w = await walk(read, res.index, opts);
    // containerd never reads configs and layers here: it imports an archive that lacks one and leaves
    // an image `ctr images check` calls incomplete. We refuse it (nothing written).
    for (const d of w.visited) {
      if (!existing.has(d) && !written.has(d)) throw new ErrImportArchive('missing', `content digest ${d}: not found`);
    }
    const finalLabels = (d: string): Record<string, string> | undefined => ({ ...(existing.get(d)?.labels ?? {}), ...(w.labels.get(d) ?? {}) });
    // Roots: the namespace's images after the import and the records it has (kept whatever happens).
    const roots = new Set<string>([...existing.keys(), ...w.images.map((i) => i.target.digest), ...meta.images(ns).map((i) => i.target.digest)]);
    kept = reachable(roots, finalLabels);
    images = meta.update((tx) => {
      for (const b of written.values()) {
        if (existing.has(b.digest) || !kept.has(b.digest)) continue;
        addBlobRecord(tx, ns, b.digest, b.size, undefined, {}, clock);
      }
      for (const [d, l] of w.labels) {
        if (!existing.has(d) && !kept.has(d)) continue;
        updateContentLabels(tx, ns, d, l, Object.keys(l).map((k) => `labels.${k}`), {}, clock);
      }
      const out: Image[] = [];
      for (const img of w.images) {
        const target = { mediaType: img.target.mediaType, digest: img.target.digest, size: img.target.size, ...(img.target.annotations ? { annotations: img.target.annotations } : {}) };
        try {
          out.push(updateImage(tx, ns, { name: img.name, target }, ['target'], clock));
        } catch (e) {
          if (!(e instanceof ErrNotFound)) throw e;
          out.push(createImage(tx, ns, { name: img.name, target }, clock));
        }
      }
      return out;
    });
  } catch (e) {
    // Nothing was recorded: every file this import made goes again.
    await removeCreated(store, written.values());
    throw e;
  }
  // Committed: the files this import made that no record names go (containerd's GC would take them).
  await removeCreated(store, written.values(), (d) => kept.has(d));
  return { images, index: res.index };
}
