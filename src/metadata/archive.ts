// Image archives as containerd 1.6 reads them (images/archive/importer.go ImportIndex): one pass over
// a tar stream, every regular file written into the content store, then the archive interpreted.
//
//   OCI image layout                     docker save (v1.1, v1.2)
//   ----------------                     -----------------------
//   oci-layout   {"imageLayoutVersion"}  manifest.json  [{Config, RepoTags, Layers}]
//   index.json   the index (a blob)      <id>.json      image config (a blob)
//   blobs/<alg>/<hex>                    <id>/layer.tar layers (blobs; symlinks allowed)
//                                        repositories, <id>/json, <id>/VERSION (blobs, unreferenced)
//
// oci-layout and manifest.json are read as JSON and not stored; every other regular file becomes a
// blob. An OCI layout (oci-layout present, preferred) yields index.json as the index. A docker save
// archive yields an index containerd synthesises: per manifest.json entry a docker schema 2 manifest
// (config as application/vnd.docker.container.image.v1+json, each layer as
// application/vnd.docker.image.rootfs.diff.tar[.gzip] by its first bytes, or an existing compressed
// blob labelled containerd.io/uncompressed=<layer digest>), written as a blob with the platform of its
// config, then one index entry per RepoTag (normalised: alpine -> docker.io/library/alpine:latest,
// annotated io.containerd.image.name and org.opencontainers.image.ref.name), or one without name.
// The JSON is encoded as Go's encoding/json does, so the synthesised digests are containerd's.
//
// Unlike containerd, a blobs/<alg>/<hex> file is verified against its name (containerd hashes every
// file with sha256 and stores it by that, whatever the name says).

import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import type tarStream from 'tar-stream';
import { ContentAlreadyExistsError, ContentDigestMismatchError, Digester, digestOf, parseDigest, type ContentStore } from '../content/index.js';
import { ErrImportArchive } from './errors.js';
import type { OciDescriptor } from './imagewalk.js';
import { normalizePlatform, type Platform } from './platforms.js';
import { normalizeReference, ociReferenceName } from './reference.js';

export const MT_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MT_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MT_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MT_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MT_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const MT_DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const MT_DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar';
export const MT_DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
export const LABEL_UNCOMPRESSED = 'containerd.io/uncompressed';
const OCI_LAYOUT_FILE = 'oci-layout';
const OCI_LAYOUT_VERSION = '1.0.0';
const JSON_LIMIT = 20 << 20;

/** A blob this import put into (or found in) the content store. */
export interface ArchiveBlob {
  digest: string;
  size: number;
  /** The file did not exist before: this import made it (and may remove it again). */
  created: boolean;
}

export interface ImportIndexOptions {
  /** Prefix of the content store refs the blobs are written under. */
  refPrefix: string;
  /**
   * The namespace's compressed blob for an uncompressed layer digest (a record labelled
   * containerd.io/uncompressed=<digest>), as containerd's walk of the namespace finds it.
   */
  findCompressed?: (uncompressed: string) => { digest: string; size: number } | undefined;
  /** Called after every chunk written: the archive's bytes consumed so far. */
  onBytes?: (n: number) => void;
}

export interface ImportIndexResult {
  /** The index: index.json of an OCI layout, or the one synthesised for a docker save archive. */
  index: OciDescriptor;
  /** Every blob written, by digest (archive files and synthesised manifests and index). */
  blobs: Map<string, ArchiveBlob>;
}

/** Go's encoding/json text for a JSON value: no spaces, HTML characters and U+2028/9 escaped. */
export function goJSON(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** path.Clean for tar member names. */
function cleanPath(p: string): string {
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const s = (rooted ? '/' : '') + out.join('/');
  return s === '' ? '.' : s;
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i);
}

/** Go's json.Unmarshal field matching is case-insensitive; manifest.json uses Config, RepoTags, Layers. */
function field(o: Record<string, unknown>, name: string): unknown {
  if (name in o) return o[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

interface DockerManifest {
  config: string;
  repoTags: string[];
  layers: string[];
}

function parseDockerManifests(v: unknown): DockerManifest[] | undefined {
  if (v === null) return undefined;
  if (!Array.isArray(v)) throw new ErrImportArchive('format', 'json: cannot unmarshal into Go value of type []struct { Config string; RepoTags []string; Layers []string }');
  return v.map((e) => {
    const o = (e ?? {}) as Record<string, unknown>;
    const str = (x: unknown): string => (typeof x === 'string' ? x : '');
    const strs = (x: unknown): string[] => (Array.isArray(x) ? x.map(str) : []);
    return { config: str(field(o, 'Config')), repoTags: strs(field(o, 'RepoTags')), layers: strs(field(o, 'Layers')) };
  });
}

/** compression.DetectCompression over a blob's first bytes. */
export function detectCompression(head: Uint8Array): 'gzip' | 'zstd' | 'uncompressed' {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'uncompressed';
}

/** A blobs/<alg>/<hex> path names the digest its bytes must have. */
function expectedDigest(name: string): string | undefined {
  const m = /^blobs\/(sha256|sha384|sha512)\/([0-9a-f]+)$/.exec(name);
  return m ? `${m[1]}:${m[2]}` : undefined;
}

async function readAll(stream: AsyncIterable<Uint8Array>, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    if (n < limit) parts.push(Buffer.from(c).subarray(0, limit - n));
    n += c.length;
  }
  return Buffer.concat(parts);
}

/** encoding/json's Decoder.Decode of the first value (what containerd does with oci-layout and manifest.json). */
function decodeJSON(b: Buffer): unknown {
  const text = b.toString('utf8').trim();
  if (text === '') throw new ErrImportArchive('format', 'EOF');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ErrImportArchive('format', `invalid JSON: ${(e as Error).message}`, { cause: e });
  }
}

class Importer {
  readonly blobs = new Map<string, ArchiveBlob>();
  constructor(
    private readonly store: ContentStore,
    private readonly opts: ImportIndexOptions,
  ) {}

  /** content.WriteBlob for one archive member (or synthesised bytes); the digest is computed, or checked when known. */
  async writeBlob(ref: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number, expected: string | undefined): Promise<ArchiveBlob> {
    let w;
    try {
      w = await this.store.writer({ ref: this.storeRef(ref), total: size, ...(expected ? { expected } : {}) });
    } catch (e) {
      if (!(e instanceof ContentAlreadyExistsError) || expected === undefined) throw e;
      // The blob is there already: its bytes are only hashed, so a wrong file is still refused.
      const h = new Digester(parseDigest(expected).algorithm);
      for await (const c of source) h.update(c);
      if (h.digest() !== expected) {
        throw new ErrImportArchive('digest', `failed to ingest ${JSON.stringify(ref.replace(/^tar-/, ''))}: unexpected commit digest ${h.digest()}, expected ${expected}`);
      }
      return this.remember({ digest: expected, size, created: false });
    }
    try {
      if (w.status().offset > 0) await w.truncate(0); // an earlier, interrupted import's bytes
      try {
        for await (const chunk of source) await w.write(chunk);
      } catch (e) {
        // the archive broke off inside this member: its ingest goes, as containerd's GC would take it
        await w.close();
        await this.store.abort(this.storeRef(ref)).catch(() => undefined);
        throw e;
      }
      try {
        const digest = await w.commit(size, expected);
        return this.remember({ digest, size, created: true });
      } catch (e) {
        if (e instanceof ContentAlreadyExistsError) return this.remember({ digest: e.digest, size, created: false });
        // A failed commit keeps its ingest for a resume; an import starts over instead, so it goes.
        await w.close();
        await this.store.abort(this.storeRef(ref)).catch(() => undefined);
        if (e instanceof ContentDigestMismatchError) {
          throw new ErrImportArchive('digest', `failed to ingest ${JSON.stringify(ref.replace(/^tar-/, ''))}: ${e.message}`, { cause: e });
        }
        throw e;
      }
    } finally {
      await w.close();
    }
  }

  /** The content store ref of a member: containerd's "tar-<name>", hashed when the name is too long for a ref. */
  private storeRef(ref: string): string {
    const r = this.opts.refPrefix + ref;
    return r.length <= 1024 ? r : `${this.opts.refPrefix}tar-${digestOf(ref).slice(7)}`;
  }

  private remember(b: ArchiveBlob): ArchiveBlob {
    const had = this.blobs.get(b.digest);
    if (had) had.created ||= b.created;
    else this.blobs.set(b.digest, b);
    return had ?? b;
  }

  /** writeManifest: Go JSON bytes written as a blob under "manifest-<digest>". */
  async writeManifest(value: unknown, mediaType: string): Promise<OciDescriptor> {
    const bytes = Buffer.from(goJSON(value));
    const digest = digestOf(bytes);
    await this.writeBlob(`manifest-${digest}`, [bytes], bytes.length, digest);
    return { mediaType, digest, size: bytes.length };
  }

  async head(digest: string, n: number): Promise<Buffer> {
    return this.store.read(digest, 0, n);
  }
}

// tar-stream (and the stream modules under it) cost ~14 ms to load; only an import needs them,
// so they load on first use rather than with every CLI command.
const require = createRequire(import.meta.url);
let tarStreamLib: typeof tarStream | undefined;
const tarStreamModule = (): typeof tarStream => (tarStreamLib ??= require('tar-stream') as typeof tarStream);

/** Runs `fn` over each tar member in order, translating tar-stream's errors to ErrImportArchive('not-tar'). */
async function eachEntry(source: AsyncIterable<Uint8Array>, onBytes: ((n: number) => void) | undefined, fn: (h: tarStream.Header, body: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void> {
  const extract = tarStreamModule().extract();
  let consumed = 0;
  const counted = async function* () {
    for await (const c of source) {
      consumed += c.length;
      yield c;
    }
  };
  const input = Readable.from(counted());
  input.on('error', (e) => extract.destroy(e));
  input.pipe(extract as unknown as NodeJS.WritableStream);
  // A member's body stream fails with "Stream was destroyed" when the archive breaks off inside it;
  // the extractor's own error says why.
  let extractError: unknown;
  let inside: tarStream.Header | undefined;
  extract.on('error', (e: unknown) => {
    extractError ??= e;
  });
  try {
    for await (const entry of extract) {
      inside = entry.header;
      await fn(entry.header, entry as unknown as AsyncIterable<Uint8Array>);
      inside = undefined;
      onBytes?.(consumed);
    }
  } catch (caught) {
    input.destroy();
    if (caught instanceof ErrImportArchive) throw caught;
    const e = extractError ?? caught;
    // tar-stream's texts become Go archive/tar's, as ctr prints them.
    const m = (e as Error).message ?? String(e);
    if ((e as { code?: string }).code === undefined) {
      if (/Unexpected end of data/i.test(m)) {
        // Go's tar reader ends the member's body short: the text depends on who was reading it.
        const name = inside?.name;
        const clean = name === undefined ? '' : cleanPath(name);
        const text =
          inside === undefined || inside.type !== 'file'
            ? 'unexpected EOF'
            : clean === OCI_LAYOUT_FILE
              ? `untar oci layout ${JSON.stringify(name)}: unexpected EOF`
              : clean === 'manifest.json'
                ? `untar manifest ${JSON.stringify(name)}: unexpected EOF`
                : `failed to ingest ${JSON.stringify(name)}: failed to read expected number of bytes: unexpected EOF`;
        throw new ErrImportArchive('not-tar', text, { cause: e });
      }
      if (/Invalid tar header|Invalid (pax|base-256)|tar/i.test(m)) throw new ErrImportArchive('not-tar', 'archive/tar: invalid tar header', { cause: e });
    }
    throw e;
  }
  onBytes?.(consumed);
}

/**
 * ImportIndex: writes every regular file of the archive into `store` and returns the index to import.
 * On failure the blobs this call created are removed again (they were new: nothing references them).
 */
export async function importIndex(store: ContentStore, source: AsyncIterable<Uint8Array>, opts: ImportIndexOptions): Promise<ImportIndexResult> {
  const im = new Importer(store, opts);
  try {
    return await readArchive(im, source, opts);
  } catch (e) {
    await removeCreated(store, im.blobs.values());
    throw e;
  }
}

/** Removes the blob files an import created and did not keep. */
export async function removeCreated(store: ContentStore, blobs: Iterable<ArchiveBlob>, keep: (digest: string) => boolean = () => false): Promise<void> {
  for (const b of blobs) {
    if (!b.created || keep(b.digest)) continue;
    await store.delete(b.digest).catch(() => undefined);
  }
}

async function readArchive(im: Importer, source: AsyncIterable<Uint8Array>, opts: ImportIndexOptions): Promise<ImportIndexResult> {
  let layoutVersion = '';
  let mfsts: DockerManifest[] | undefined;
  const symlinks = new Map<string, string>();
  const files = new Map<string, { digest: string; size: number }>();

  await eachEntry(source, opts.onBytes, async (hdr, body) => {
    const drain = async () => {
      for await (const _ of body) {
        // not a regular file: skipped, as containerd does
      }
    };
    if (hdr.type === 'symlink') symlinks.set(hdr.name, cleanPath(`${dirname(hdr.name)}/${hdr.linkname ?? ''}`));
    if (hdr.type !== 'file') return drain();
    const name = cleanPath(hdr.name);
    if (name === OCI_LAYOUT_FILE) {
      try {
        const v = decodeJSON(await readAll(body, JSON_LIMIT)) as { imageLayoutVersion?: unknown } | null;
        layoutVersion = typeof v?.imageLayoutVersion === 'string' ? v.imageLayoutVersion : '';
      } catch (e) {
        throw new ErrImportArchive('format', `untar oci layout ${JSON.stringify(hdr.name)}: ${(e as Error).message}`, { cause: e });
      }
      return;
    }
    if (name === 'manifest.json') {
      try {
        mfsts = parseDockerManifests(decodeJSON(await readAll(body, JSON_LIMIT)));
      } catch (e) {
        throw new ErrImportArchive('format', `untar manifest ${JSON.stringify(hdr.name)}: ${(e as Error).message}`, { cause: e });
      }
      return;
    }
    const b = await im.writeBlob(`tar-${name}`, body, hdr.size ?? 0, expectedDigest(name));
    files.set(name, { digest: b.digest, size: hdr.size ?? 0 });
  });

  if (layoutVersion !== '') {
    if (layoutVersion !== OCI_LAYOUT_VERSION) throw new ErrImportArchive('format', `unsupported OCI version ${layoutVersion}`);
    const idx = files.get('index.json');
    if (!idx) throw new ErrImportArchive('missing', `missing index.json in OCI layout ${OCI_LAYOUT_VERSION}`);
    return { index: { mediaType: MT_OCI_INDEX, digest: idx.digest, size: idx.size }, blobs: im.blobs };
  }
  if (mfsts === undefined) throw new ErrImportArchive('format', 'unrecognized image format');

  for (const [name, target] of symlinks) {
    const d = files.get(target);
    if (!d) throw new ErrImportArchive('missing', `no target for symlink layer from ${JSON.stringify(name)} to ${JSON.stringify(target)}`);
    files.set(name, d);
  }

  const manifests: OciDescriptor[] = [];
  for (const mfst of mfsts) {
    const cfg = files.get(mfst.config);
    if (!cfg) throw new ErrImportArchive('missing', `image config ${JSON.stringify(mfst.config)} not found`);
    const config: OciDescriptor = { mediaType: MT_DOCKER_CONFIG, digest: cfg.digest, size: cfg.size };
    const layers = await resolveLayers(im, mfst.layers, files, opts);
    const desc = await im.writeManifest(
      { schemaVersion: 2, mediaType: MT_DOCKER_MANIFEST, config: descriptorJSON(config), layers: layers.map(descriptorJSON) },
      MT_DOCKER_MANIFEST,
    );
    // images.Platforms of a manifest: its config's os/architecture, normalised (no variant from the config).
    const c = JSON.parse((await im.head(cfg.digest, cfg.size)).toString('utf8') || 'null') as { os?: unknown; architecture?: unknown } | null;
    const platform: Platform = normalizePlatform({ os: typeof c?.os === 'string' ? c.os : '', architecture: typeof c?.architecture === 'string' ? c.architecture : '' });
    desc.platform = platform;
    if (mfst.repoTags.length === 0) {
      manifests.push(desc);
      continue;
    }
    for (const ref of mfst.repoTags) {
      const normalized = normalizeReference(ref);
      manifests.push({ ...desc, annotations: { [ANNOTATION_IMAGE_NAME]: normalized, [ANNOTATION_REF_NAME]: ociReferenceName(normalized) } });
    }
  }
  const index = await im.writeManifest({ schemaVersion: 2, manifests: manifests.length > 0 ? manifests.map(descriptorJSON) : null }, MT_OCI_INDEX);
  return { index, blobs: im.blobs };
}

/** ocispec.Descriptor's JSON field order: mediaType, digest, size, annotations (keys sorted), platform. */
export function descriptorJSON(d: OciDescriptor): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (d.mediaType) o.mediaType = d.mediaType;
  o.digest = d.digest;
  o.size = d.size;
  if (d.annotations && Object.keys(d.annotations).length > 0) {
    o.annotations = Object.fromEntries(Object.entries(d.annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  if (d.platform) {
    const p: Record<string, unknown> = { architecture: d.platform.architecture, os: d.platform.os };
    if (d.platform.variant) p.variant = d.platform.variant;
    o.platform = p;
  }
  return o;
}

async function resolveLayers(im: Importer, layerFiles: string[], files: Map<string, { digest: string; size: number }>, opts: ImportIndexOptions): Promise<OciDescriptor[]> {
  const layers: OciDescriptor[] = [];
  for (const f of layerFiles) {
    const d = files.get(f);
    if (!d) throw new ErrImportArchive('missing', `failed to resolve layers: layer ${JSON.stringify(f)} not found`);
    layers.push({ mediaType: '', digest: d.digest, size: d.size });
  }
  for (const l of layers) {
    const compressed = opts.findCompressed?.(l.digest);
    if (compressed) {
      l.digest = compressed.digest;
      l.size = compressed.size;
    }
    // A layer's media type from its first bytes (gzip and zstd both name the gzip type, as containerd 1.6 does).
    const head = l.size > 0 ? await im.head(l.digest, 10) : Buffer.alloc(0);
    l.mediaType = detectCompression(head) === 'uncompressed' ? MT_DOCKER_LAYER : MT_DOCKER_LAYER_GZIP;
  }
  return layers;
}
