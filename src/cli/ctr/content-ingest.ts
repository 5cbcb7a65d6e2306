// tsctr content ingest: ctr's `content ingest [--expected-size N] [--expected-digest D] REF`,
// reading the blob from stdin, on a stopped containerd root. As containerd's namespaced content
// store does it: the bytes go through the content store's writer for REF (resuming what an
// earlier attempt left), are committed into blobs/, and only then is the blob record
// v1/<ns>/content/blob/<digest> added to meta.db, in one bolt transaction. A blob the
// namespace already has is success, as ctr's content.WriteBlob treats "already exists".
//
// meta.db is opened read-write first, with a short lock timeout: while a running containerd
// holds it, the command refuses before writing anything.
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { openContentStore, ingest, parseDigest } from '../../content/index.js';
import { ErrAlreadyExists } from '../../metadata/index.js';
import { progressBar, type ProgressOut } from '../format/progress.js';
import { CtrCommandError } from '../format/errors.js';
import { CONTENT_DIR, withRootWriteAsync } from './root.js';

export interface IngestArgs {
  root: string;
  namespace: string;
  ref: string;
  expectedSize?: number;
  expectedDigest?: string;
  stdin: Readable | AsyncIterable<Uint8Array>;
  stderr: ProgressOut;
}

/** Returns the committed digest. */
export async function contentIngest(a: IngestArgs): Promise<string> {
  if (a.ref === '') throw new CtrCommandError('must specify a transaction reference');
  if (a.expectedDigest !== undefined && a.expectedDigest !== '') parseDigest(a.expectedDigest);
  return withRootWriteAsync(a.root, async (meta) => {
    const store = await openContentStore(join(a.root, CONTENT_DIR));
    const bar = progressBar(a.stderr, { label: a.ref });
    let res;
    try {
      res = await ingest(store, a.ref, a.stdin, {
        ...(a.expectedSize ? { total: a.expectedSize } : {}),
        ...(a.expectedDigest ? { expected: a.expectedDigest } : {}),
        onProgress: bar,
      });
    } finally {
      bar.done();
    }
    try {
      meta.addBlobRecord(a.namespace, res.digest, res.size);
    } catch (e) {
      if (!(e instanceof ErrAlreadyExists)) throw e;
    }
    return res.digest;
  });
}
