// Compaction: copy every bucket, key and sequence of `src` into `dst`, as bbolt's compact.go.
// The copy is made by a recursive walk in one read transaction of src, written in write
// transactions of dst that are committed whenever the bytes (keys + values) copied since the
// last commit would pass txMaxSize (0: one transaction). Buckets of dst are filled to 100%.
//
//   walk order: top-level bucket -> its keys and nested buckets in key order, depth first
//   callback(keys, k, v, seq): keys = path of bucket names to the owner of k;
//                              v undefined = k names a bucket (with sequence seq)

import type { Bucket } from './bucket.js';
import type { DB } from './db.js';
import { CorruptionError } from './errors.js';
import type { Tx } from './tx.js';

type WalkFn = (keys: Uint8Array[], k: Uint8Array, v: Uint8Array | undefined, seq: bigint) => void;

/**
 * `roots`: the root pages of the buckets walked so far. A damaged file can hold two bucket
 * values with one root page (or one that encloses its own bucket); bbolt copies such a bucket
 * once per value, and where they share roots level after level (4 values a level, 24 levels:
 * 4^24 copies) it never ends, so this stops at the second one instead.
 */
function walkBucket(b: Bucket, keypath: Uint8Array[], k: Uint8Array, v: Uint8Array | undefined, seq: bigint, fn: WalkFn, roots: Set<number>): void {
  fn(keypath, k, v, seq);
  if (v !== undefined) return;
  if (b.root !== 0) {
    if (roots.has(b.root)) {
      const name = [...keypath, k].map((x) => Buffer.from(x).toString('hex')).join('/');
      throw new CorruptionError(`page ${b.root}: the root of bucket ${name} is the root of another bucket too (check names them; salvage copies such a bucket once)`, b.root);
    }
    roots.add(b.root);
  }
  const path = [...keypath, k];
  b.forEach((ck, cv) => {
    if (cv === undefined) {
      const child = b.bucket(ck);
      if (!child) throw new CorruptionError(`bucket ${Buffer.from(ck).toString('hex')} could not be opened`);
      walkBucket(child, path, ck, undefined, child.sequence(), fn, roots);
    } else walkBucket(b, path, ck, cv, b.sequence(), fn, roots);
  });
}

/** Walks every bucket and key of `db` in one read transaction. */
function walk(db: DB, fn: WalkFn): void {
  db.view((tx) => {
    const roots = new Set<number>();
    // Every key and bucket is an element of 16 bytes or more on some page: past this many, the
    // cursor is going round branch pages that share children (bbolt copies the same keys again
    // for as long as the paths through them last, exponential in the depth).
    const most = Math.ceil((tx.meta.pgid * db.pageSize) / 16);
    let n = 0;
    const counted: WalkFn = (keys, k, v, seq) => {
      if (++n > most) throw new CorruptionError(`more keys than ${tx.meta.pgid} pages can hold: branch pages share children (check names them; salvage copies each page once)`);
      fn(keys, k, v, seq);
    };
    tx.forEach((name, b) => {
      // bbolt dereferences the missing bucket and panics; a plain key at the top level
      // cannot be copied as a bucket.
      if (!b) throw new CorruptionError(`top-level key ${Buffer.from(name).toString('hex')} is not a bucket`);
      walkBucket(b, [], name, undefined, b.sequence(), counted, roots);
    });
  });
}

/**
 * Copies `src` into `dst` (which should be new and empty). `txMaxSize` bounds the bytes of
 * keys and values per write transaction; 0 copies everything in one transaction.
 */
export function compact(dst: DB, src: DB, txMaxSize: number): void {
  let size = 0;
  let tx: Tx = dst.begin(true);
  try {
    walk(src, (keys, k, v, seq) => {
      const sz = k.length + (v?.length ?? 0);
      if (size + sz > txMaxSize && txMaxSize !== 0) {
        tx.commit();
        tx = dst.begin(true);
        size = 0;
      }
      size += sz;
      const key = k.slice();
      if (keys.length === 0) {
        tx.createBucket(key).setSequence(seq);
        return;
      }
      let b = tx.bucket(keys[0]!);
      for (const name of keys.slice(1)) b = b?.bucket(name);
      if (!b) throw new CorruptionError(`compact: destination bucket ${keys.map((x) => Buffer.from(x).toString('hex')).join('/')} is missing`);
      b.fillPercent = 1.0;
      if (v === undefined) {
        b.createBucket(key).setSequence(seq);
        return;
      }
      b.put(key, v.slice());
    });
    tx.commit();
  } catch (e) {
    if (!tx.closed) tx.rollback();
    throw e;
  }
}
