// Workloads in the reference program's JSON format (test/reference), applied by our engine,
// and seeded generators for the differential tests.
import type { Bucket, DB, Tx } from '../../src/bolt/index.js';

export type WorkloadOp =
  | { op: 'createBucket' | 'createBucketIfNotExists' | 'deleteBucket'; path: string[] }
  | { op: 'put'; path: string[]; key: string; value: string }
  | { op: 'delete'; path: string[]; key: string }
  /** Cursor.delete() where cursor.seek(key) lands: the key, the next one, or past the end. */
  | { op: 'seekDelete'; path: string[]; key: string }
  | { op: 'setSequence'; path: string[]; seq: string }
  | { op: 'nextSequence'; path: string[] }
  | { op: 'fillPercent'; path: string[]; value: number };
export interface WorkloadTx {
  rollback?: boolean;
  ops: WorkloadOp[];
  /** Before the write transaction: end this many of the oldest read transactions held... */
  closeReaders?: number;
  /** ...then begin one more, held until closed so or to the end of the workload. */
  openReader?: boolean;
}
export interface Workload {
  txs: WorkloadTx[];
}

const hb = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

function resolve(tx: Tx, path: string[], cache: Map<string, Bucket>): Bucket | undefined {
  const id = path.join('/');
  const hit = cache.get(id);
  if (hit) return hit;
  let b: Bucket | undefined = tx.bucket(hb(path[0]!));
  for (const n of path.slice(1)) b = b?.bucket(hb(n));
  if (b) cache.set(id, b);
  return b;
}

/** Applies a workload; returns, per transaction, null or the error message of each op. */
export function applyWorkload(db: DB, w: Workload): (string | null)[][] {
  const results: (string | null)[][] = [];
  const readers: Tx[] = [];
  for (const t of w.txs) {
    for (let i = 0; i < (t.closeReaders ?? 0) && readers.length > 0; i++) readers.shift()!.rollback();
    if (t.openReader) readers.push(db.begin(false));
    const tx = db.begin(true);
    const cache = new Map<string, Bucket>();
    const res: (string | null)[] = [];
    for (const o of t.ops) {
      try {
        if (o.op === 'createBucket' || o.op === 'createBucketIfNotExists' || o.op === 'deleteBucket') {
          const parent = o.path.length === 1 ? tx.root : resolve(tx, o.path.slice(0, -1), cache);
          if (!parent) throw new Error('bucket not found');
          const name = hb(o.path.at(-1)!);
          if (o.op === 'deleteBucket') {
            for (const k of [...cache.keys()]) if (k === o.path.join('/') || k.startsWith(o.path.join('/') + '/')) cache.delete(k);
            parent.deleteBucket(name);
          } else if (o.op === 'createBucket') parent.createBucket(name);
          else parent.createBucketIfNotExists(name);
        } else {
          const b = resolve(tx, o.path, cache);
          if (!b) throw new Error('bucket not found');
          if (o.op === 'put') b.put(hb(o.key), hb(o.value));
          else if (o.op === 'delete') b.delete(hb(o.key));
          else if (o.op === 'seekDelete') {
            const c = b.cursor();
            c.seek(hb(o.key));
            c.delete();
          }
          else if (o.op === 'setSequence') b.setSequence(BigInt(o.seq));
          else if (o.op === 'nextSequence') b.nextSequence();
          else if (o.op === 'fillPercent') b.fillPercent = o.value;
        }
        res.push(null);
      } catch (e) {
        res.push((e as Error).message);
      }
    }
    if (t.rollback) tx.rollback();
    else tx.commit();
    results.push(res);
  }
  for (const r of readers) r.rollback();
  return results;
}

/** A small seeded PRNG (mulberry32), so workloads are reproducible from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');

export interface GenOptions {
  txs: number;
  opsPerTx: number;
  /** Allow deletes (Go's rebalance order then depends on map iteration). */
  deletes?: boolean;
  /** Allow rolled-back transactions. */
  rollbacks?: boolean;
  /** Touch only one bucket path per transaction (where Go is deterministic). */
  onePathPerTx?: boolean;
  /** Allow deleting buckets. */
  bucketDeletes?: boolean;
  /** Hold read transactions across write transactions (pages they can see stay pending). */
  readers?: boolean;
}

/** A random workload over a few nested buckets. */
export function randomWorkload(seed: number, o: GenOptions): Workload {
  const r = prng(seed);
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)]!;
  const paths = [['a'], ['b'], ['a', 'x'], ['a', 'x', 'y'], ['b', 'z'], ['a', 'x', 'y', 'w'], ['a', 'x', 'y', 'w', 'v']];
  const txs: WorkloadTx[] = [];
  // First transaction creates the tree.
  txs.push({ ops: paths.map((p) => ({ op: 'createBucketIfNotExists' as const, path: p.map(hex) })) });
  for (let t = 0; t < o.txs; t++) {
    const ops: WorkloadOp[] = [];
    const fixed = pick(paths);
    for (let i = 0; i < o.opsPerTx; i++) {
      const p = (o.onePathPerTx ? fixed : pick(paths)).map(hex);
      const x = r();
      // Now and then the name of a bucket nested in this one: puts and deletes on it fail.
      const child = paths.find((c) => c.length === p.length + 1 && c.slice(0, -1).every((n, j) => hex(n) === p[j]));
      const y = r();
      const key = hex(child && y < 0.03 ? child.at(-1)! : y < 0.1 ? String.fromCharCode(0, Math.floor(r() * 256)) : `k${Math.floor(r() * 3000)}`);
      if (o.bucketDeletes && x < 0.01 && !o.onePathPerTx) {
        const victim = pick(paths);
        ops.push({ op: 'deleteBucket', path: victim.map(hex) });
        ops.push({ op: 'createBucketIfNotExists', path: victim.map(hex) });
      } else if (o.deletes && x < 0.27) ops.push({ op: 'delete', path: p, key });
      else if (o.deletes && x < 0.3) ops.push({ op: 'seekDelete', path: p, key });
      else if (x < 0.31) ops.push({ op: 'setSequence', path: p, seq: String(Math.floor(r() * 2 ** 40)) });
      else if (x < 0.32) ops.push({ op: 'fillPercent', path: p, value: pick([0.05, 0.1, 0.3, 0.5, 0.9, 1.0, 1.5]) });
      else if (x < 0.34) ops.push({ op: 'nextSequence', path: p });
      else {
        const size = r() < 0.02 ? 5000 + Math.floor(r() * 30000) : r() < 0.1 ? 0 : Math.floor(r() * 200);
        const value = Buffer.alloc(size, Math.floor(r() * 256)).toString('hex');
        ops.push({ op: 'put', path: p, key, value });
      }
    }
    const t: WorkloadTx = { ops, rollback: !!o.rollbacks && r() < 0.15 };
    if (o.readers) {
      const z = r();
      if (z < 0.3) t.openReader = true;
      else if (z < 0.45) t.closeReaders = 1 + Math.floor(r() * 2);
    }
    txs.push(t);
  }
  if (o.readers && o.txs >= 2) {
    // At least one reader opened and one closed, whatever the draws (25 transactions draw no
    // close ~2% of the time, which failed the test that holds readers on ~1 run in 10).
    if (!txs.some((t) => t.openReader)) txs[1]!.openReader = true;
    if (!txs.some((t) => t.closeReaders)) txs[txs.length - 1]!.closeReaders = 1;
  }
  return { txs };
}
