// Reading a database that another process holds locked and may be writing (containerd holds
// LOCK_EX on meta.db for as long as it runs). We never take the lock and never write.
//
// Procedure: find the newest valid meta (txid T) on disk; copy the file; read the metas on
// disk again. If the newest valid txid is still T, no commit landed while we copied, so
// every page reachable from T was unchanged (a writer only writes pages that were free at
// T until its own meta lands; pages freed by T+1 can be reused only from T+2 on). The copy
// is then a consistent snapshot at T. Otherwise try again, up to `attempts` times.

import { ErrSnapshotUnstable } from './errors.js';
import type { FileIO } from './file.js';
import { readMeta, validateMeta } from './meta.js';
import { sleepSync } from './file.js';

/** The txid of the newest valid meta on disk, or undefined when neither is valid. */
export function newestValidTxid(file: FileIO, pageSize: number): number | undefined {
  let best: number | undefined;
  const buf = new Uint8Array(pageSize);
  for (let i = 0; i < 2; i++) {
    buf.fill(0);
    if (file.readAt(buf, i * pageSize) < 16 + 64) continue;
    if (validateMeta(buf, 0)) continue;
    const t = readMeta(buf, 0).txid;
    if (best === undefined || t > best) best = t;
  }
  return best;
}

export interface Snapshot {
  bytes: Uint8Array;
  /** txid of the newest valid meta the snapshot was validated against (undefined: none valid). */
  txid: number | undefined;
  /** Attempts it took. */
  attempts: number;
}

/** Copies the file into memory as a consistent snapshot (see above). */
export function readSnapshot(file: FileIO, pageSize: number, attempts = 20): Snapshot {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const before = newestValidTxid(file, pageSize);
    const size = file.size();
    const bytes = new Uint8Array(size);
    const n = file.readAt(bytes, 0);
    const after = newestValidTxid(file, pageSize);
    if (before === after && n === size) return { bytes, txid: before, attempts: attempt };
    sleepSync(Math.min(5 * attempt, 50));
  }
  throw new ErrSnapshotUnstable(attempts);
}
