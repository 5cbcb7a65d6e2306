// bbolt files too big to commit, written at test time by the Go reference program (bbolt 1.3.6).
import fs from 'node:fs';
import path from 'node:path';
import { hex, runReference, type Dump } from './reference.js';

export interface BigFreelistFixture {
  /** The database file. */
  path: string;
  pageSize: number;
  /** Go's dump of the finished file (freelistPgid, hwm, check, buckets: one bucket "keep" = {"k": "v"}). */
  dump: Dump;
  /** Milliseconds Go took to write it. */
  ms: number;
}

/**
 * Writes `dir/big-freelist.db`: a file whose freelist holds more than 65,535 page ids, so its
 * freelist page uses the count escape (count field 0xFFFF, the real count in the first u64).
 * Go fills bucket "big" with values of 64 pages each until about 70,000 pages are in use, deletes
 * the bucket, then creates bucket "keep" with key "k" = "v" in a last transaction (so the freed
 * pages are free, not pending, in the final freelist). NoSync: the bytes are the same, only faster.
 * Takes about 1-1.5 s and 290 MB of disk at 4 KiB pages, 0.4 s and 75 MB at 1 KiB pages
 * (1 KiB is a size bbolt 1.3.7 probes for; 4 KiB is what real files use).
 */
export function makeBigFreelistFixture(dir: string, opts: { pageSize?: 1024 | 4096 } = {}): BigFreelistFixture {
  const pageSize = opts.pageSize ?? 4096;
  const file = path.join(dir, 'big-freelist.db');
  fs.rmSync(file, { force: true });
  const start = Date.now();
  const valueBytes = 64 * pageSize - 64; // element header + key + page header fit in the 64 pages
  const count = Math.ceil(70_000 / 64);
  const flags = ['--page-size', String(pageSize), '--no-sync'];
  runReference(['fill', file, hex('big'), String(count), String(valueBytes), '--batch', '16', ...flags]);
  runReference(['apply', file, ...flags], {
    txs: [
      { ops: [{ op: 'deleteBucket', path: [hex('big')] }] },
      { ops: [{ op: 'createBucket', path: [hex('keep')] }, { op: 'put', path: [hex('keep')], key: hex('k'), value: hex('v') }] },
    ],
  });
  const ms = Date.now() - start;
  const dump: Dump = runReference(['dump', file]);
  return { path: file, pageSize, dump, ms };
}
