// Walking an image's descriptor tree through a blob reader: image size and platforms as ctr computes them
// (images.Image.Size with platforms.Default(), images.Platforms). The reader returns a blob's bytes or
// throws (missing blob); errors end the walk and are returned beside the partial result, as Go does.

import type { Descriptor } from './images.js';
import { formatPlatform, normalizePlatform, type MatchComparer, type Platform } from './platforms.js';
import { ErrInvalidArgument, ErrNotFound } from './errors.js';

export type BlobReader = (digest: string) => Uint8Array;

export interface OciDescriptor extends Descriptor {
  platform?: Platform;
}

const MT_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const MT_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const MT_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MT_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const MT_DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const MT_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

const SKIP = Symbol('skip');

/** A descriptor as Go decodes one from a manifest or index: fields of the wrong type are left zero. */
export function toDescriptor(o: unknown): OciDescriptor {
  const d = (o ?? {}) as Record<string, unknown>;
  const out: OciDescriptor = {
    mediaType: typeof d.mediaType === 'string' ? d.mediaType : '',
    digest: typeof d.digest === 'string' ? d.digest : '',
    size: typeof d.size === 'number' ? d.size : 0,
  };
  if (d.annotations && typeof d.annotations === 'object') {
    const a = Object.entries(d.annotations as Record<string, unknown>).filter(([, v]) => typeof v === 'string') as [string, string][];
    if (a.length > 0) out.annotations = Object.fromEntries(a);
  }
  const p = d.platform as Record<string, unknown> | undefined;
  if (p && typeof p === 'object') {
    out.platform = { os: String(p.os ?? ''), architecture: String(p.architecture ?? '') };
    if (typeof p.variant === 'string' && p.variant) out.platform.variant = p.variant;
  }
  return out;
}

/** images.Children: a manifest's config and layers, an index's manifests, nothing for other types. */
export function children(read: BlobReader, desc: Descriptor): OciDescriptor[] {
  switch (desc.mediaType) {
    case MT_DOCKER_MANIFEST:
    case MT_OCI_MANIFEST: {
      const m = JSON.parse(Buffer.from(read(desc.digest)).toString('utf8')) as { config?: unknown; layers?: unknown[] };
      return [toDescriptor(m.config), ...(m.layers ?? []).map(toDescriptor)];
    }
    case MT_DOCKER_LIST:
    case MT_OCI_INDEX: {
      const m = JSON.parse(Buffer.from(read(desc.digest)).toString('utf8')) as { manifests?: unknown[] };
      return (m.manifests ?? []).map(toDescriptor);
    }
  }
  return [];
}

function walk(handler: (d: OciDescriptor) => OciDescriptor[] | typeof SKIP, descs: OciDescriptor[]): void {
  for (const d of descs) {
    const ch = handler(d);
    if (ch === SKIP) continue;
    if (ch.length > 0) walk(handler, ch);
  }
}

/** images.Image.Size(ctx, cs, platform): sum of the sizes reached for one platform. */
export function imageSize(read: BlobReader, target: Descriptor, platform: MatchComparer): { size: number; error?: Error } {
  let size = 0;
  try {
    walk((d) => {
      if (d.size < 0) throw new ErrInvalidArgument(`invalid size ${d.size} in ${d.digest} (${d.mediaType})`);
      size += d.size;
      let ch = children(read, d).filter((c) => !c.platform || platform.match(c.platform));
      if (d.mediaType === MT_OCI_INDEX || d.mediaType === MT_DOCKER_LIST) {
        ch = ch
          .map((c, i) => [c, i] as const)
          .sort(([a, ai], [b, bi]) => {
            const l = (x: OciDescriptor, y: OciDescriptor): boolean =>
              x.platform === undefined ? false : y.platform === undefined ? true : platform.less(x.platform, y.platform);
            return l(a, b) ? -1 : l(b, a) ? 1 : ai - bi;
          })
          .map(([c]) => c);
        if (ch.length === 0) throw new ErrNotFound('no match for platform in manifest: not found');
        ch = ch.slice(0, 1);
      }
      return ch;
    }, [target]);
  } catch (e) {
    return { size, error: e as Error };
  }
  return { size };
}

/** images.Platforms, formatted and de-duplicated and sorted as ctr images ls prints them. */
export function imagePlatforms(read: BlobReader, target: Descriptor): { platforms: string[]; error?: Error } {
  const specs: Platform[] = [];
  let error: Error | undefined;
  try {
    walk((d) => {
      if (d.platform) {
        specs.push(d.platform);
        return SKIP;
      }
      if (d.mediaType === MT_DOCKER_CONFIG || d.mediaType === MT_OCI_CONFIG) {
        const c = JSON.parse(Buffer.from(read(d.digest)).toString('utf8')) as { os?: string; architecture?: string };
        specs.push(normalizePlatform({ os: c.os ?? '', architecture: c.architecture ?? '' }));
      }
      return children(read, d);
    }, [target as OciDescriptor]);
  } catch (e) {
    error = e as Error;
  }
  if (error) return { platforms: [], error };
  return { platforms: [...new Set(specs.map(formatPlatform))].sort() };
}
