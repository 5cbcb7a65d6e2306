// Helpers over a store, as containerd's content/helpers.go: copy a stream into the store
// (WriteBlob / Copy), resuming where an earlier attempt stopped. Progress is reported through
// the writer's onProgress callback; the CLI draws it (src/cli/format/progress.ts).

import type { Readable } from 'node:stream';
import { ContentAlreadyExistsError, ContentInvalidArgumentError } from './errors.js';
import { parseDigest } from './digest.js';
import type { ContentStore } from './store.js';
import type { ProgressFn } from './writer.js';

export interface IngestOptions {
  /** The digest the bytes must have; when the blob exists already nothing is read. */
  expected?: string;
  /** The size the bytes must have (0 / absent = unchecked). */
  total?: number;
  onProgress?: ProgressFn;
  labels?: Record<string, string>;
}

export interface IngestResult {
  digest: string;
  size: number;
  /** True when the blob was there already (at open or at commit). */
  existed: boolean;
}

/**
 * Copies `source` into the store under `ref` and commits it. If the ingest has bytes already
 * (an interrupted earlier attempt, ours or containerd's), that many bytes of `source` are
 * skipped: the source must be the same content from its start (containerd's seekReader).
 */
export async function ingest(store: ContentStore, ref: string, source: Readable | AsyncIterable<Uint8Array>, opts: IngestOptions = {}): Promise<IngestResult> {
  let w;
  try {
    w = await store.writer({ ref, ...(opts.total !== undefined ? { total: opts.total } : {}), ...(opts.expected ? { expected: opts.expected } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  } catch (e) {
    if (e instanceof ContentAlreadyExistsError) {
      const info = await store.info(parseDigest(opts.expected).digest);
      return { digest: info.digest, size: info.size, existed: true };
    }
    throw e;
  }
  try {
    let skip = w.status().offset;
    for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
      let bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (skip > 0) {
        if (bytes.length <= skip) {
          skip -= bytes.length;
          continue;
        }
        bytes = bytes.subarray(skip);
        skip = 0;
      }
      await w.write(bytes);
    }
    if (skip > 0) throw new ContentInvalidArgumentError(`source ended ${skip} bytes before the ingest's resume offset ${w.status().offset}`);
    const size = w.status().offset;
    try {
      const digest = await w.commit(opts.total ?? 0, opts.expected, opts.labels ? { labels: opts.labels } : {});
      return { digest, size, existed: false };
    } catch (e) {
      if (e instanceof ContentAlreadyExistsError) return { digest: e.digest, size, existed: true };
      throw e;
    }
  } finally {
    await w.close();
  }
}
