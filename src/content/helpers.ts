// Helpers over a store, as containerd's content/helpers.go: copy a stream into the store
// (WriteBlob / Copy), resuming where an earlier attempt stopped; and a progress renderer.

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

function human(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export interface ProgressBarOptions {
  /** Label printed before the bar. */
  label?: string;
  /** Columns for the bar itself (default 30). */
  width?: number;
  /** Minimum milliseconds between redraws (default 100). */
  intervalMs?: number;
}

/**
 * A progress callback drawing a one-line bar on `out` when it is a TTY ("\r" redraws), and
 * nothing otherwise. Call `done()` to end the line.
 */
export function progressBar(out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, opts: ProgressBarOptions = {}): ProgressFn & { done(): void } {
  const width = opts.width ?? 30;
  const interval = opts.intervalMs ?? 100;
  let last = 0;
  let drawn = false;
  const render = (done: number, total?: number): string => {
    const label = opts.label ? `${opts.label} ` : '';
    if (total && total > 0) {
      const frac = Math.min(1, done / total);
      const full = Math.round(frac * width);
      return `${label}[${'='.repeat(full)}${' '.repeat(width - full)}] ${human(done)}/${human(total)} ${(frac * 100).toFixed(0)}%`;
    }
    return `${label}${human(done)}`;
  };
  const fn = ((done: number, total?: number) => {
    if (!out.isTTY) return;
    const now = Date.now();
    if (now - last < interval && !(total && done >= total)) return;
    last = now;
    out.write(`\r${render(done, total)}\x1b[K`);
    drawn = true;
  }) as ProgressFn & { done(): void };
  fn.done = () => {
    if (drawn && out.isTTY) out.write('\n');
    drawn = false;
  };
  return fn;
}
