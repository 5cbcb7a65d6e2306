// Chain ids: the names under which an unpacked image's layers live in a snapshotter
// (containerd's unpacker names each committed layer snapshot after its chain id, go-digest's
// identity.ChainIDs over the config's rootfs.diff_ids):
//
//   chain[0] = diff_ids[0]
//   chain[i] = "sha256:" + hex(sha256(chain[i-1] + " " + diff_ids[i]))
//
// The config blob (application/vnd.oci.image.config.v1+json or the Docker one):
//   { ..., "rootfs": { "type": "layers", "diff_ids": ["sha256:...", ...] } }

import { createHash } from 'node:crypto';
import type { Descriptor } from './images.js';
import { children, type BlobReader } from './imagewalk.js';
import { goJSONSyntaxError } from './gojson-scan.js';
import { ErrCorruptValue } from './errors.js';

const CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

/** identity.ChainIDs. */
export function chainIDs(diffIDs: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIDs) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : 'sha256:' + createHash('sha256').update(`${prev} ${d}`).digest('hex'));
  }
  return out;
}

/** rootfs.diff_ids of a config blob ([] when absent or not a list of strings). */
export function configDiffIDs(config: Uint8Array): string[] {
  const syntax = goJSONSyntaxError(config);
  if (syntax !== undefined) throw new ErrCorruptValue(syntax);
  const c = JSON.parse(Buffer.from(config).toString('utf8')) as { rootfs?: { diff_ids?: unknown } } | null;
  const r = c !== null && typeof c === 'object' ? c.rootfs : undefined;
  const d = r !== null && typeof r === 'object' ? r.diff_ids : undefined;
  return Array.isArray(d) ? d.filter((x): x is string => typeof x === 'string') : [];
}

export interface ImageChains {
  /** One list of chain ids per config reached (one per platform of an index). */
  chains: string[][];
  /** Blobs that could not be read or parsed on the way (the walk goes on past them). */
  errors: Error[];
}

/** The layer chain ids of every manifest an image's target reaches, all platforms. */
export function imageChainIDs(read: BlobReader, target: Descriptor): ImageChains {
  const chains: string[][] = [];
  const errors: Error[] = [];
  const seen = new Set<string>();
  const walk = (d: Descriptor, depth: number): void => {
    if (depth > 16 || seen.has(d.digest)) return;
    seen.add(d.digest);
    try {
      if (CONFIG_TYPES.has(d.mediaType)) {
        chains.push(chainIDs(configDiffIDs(read(d))));
        return;
      }
      for (const c of children(read, d)) walk(c, depth + 1);
    } catch (e) {
      // Ours (a blob missing or damaged), or Node's with a code; anything else is a bug and goes up.
      if (!(e instanceof Error && typeof (e as { code?: unknown }).code === 'string')) throw e;
      errors.push(e);
    }
  };
  walk(target, 0);
  return { chains, errors };
}
