// Model-based property test of the pager: random sequences of bucket and key operations,
// commits, rollbacks, reopens and readers, against an in-memory model. After every commit,
// rollback and reopen the database must equal the model and every page below the
// high-water mark must be reachable, free or pending exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import fc from 'fast-check';
import { open, type DB, type Tx, type Bucket, BoltError } from '../../src/bolt/index.js';
import { dumpTx, pageAccounting, tmpdir, type DumpItem } from '../helpers/bolt.js';

const SEED = Number(process.env.FC_SEED ?? Date.now() % 1e9);
const RUNS = Number(process.env.FC_RUNS ?? 1500);
console.log(`pager.property seed ${SEED} runs ${RUNS}`);

// ---- the model ----
interface MBucket {
  seq: bigint;
  keys: Map<string, string>; // hex key -> hex value
  buckets: Map<string, MBucket>;
}
const newBucket = (): MBucket => ({ seq: 0n, keys: new Map(), buckets: new Map() });
function clone(b: MBucket): MBucket {
  return { seq: b.seq, keys: new Map(b.keys), buckets: new Map([...b.buckets].map(([k, v]) => [k, clone(v)])) };
}
function modelDump(b: MBucket): DumpItem[] {
  const items: DumpItem[] = [];
  for (const [k, v] of b.keys) items.push({ k, v });
  for (const [k, c] of b.buckets) items.push({ k, seq: c.seq.toString(), bucket: modelDump(c) });
  return items.sort((a, b2) => Buffer.compare(Buffer.from(a.k, 'hex'), Buffer.from(b2.k, 'hex')));
}

// ---- operations ----
// Few names and mostly short paths, so operations land in buckets that exist.
const name = fc.oneof({ weight: 6, arbitrary: fc.constant('a') }, { weight: 3, arbitrary: fc.constant('b') }, { weight: 1, arbitrary: fc.constant('dd') });
const bpath = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(name) },
  { weight: 3, arbitrary: fc.tuple(name, name) },
  { weight: 1, arbitrary: fc.tuple(name, name, name) },
).map((t) => [...t] as string[]);
const key = fc.oneof(
  fc.constantFrom('k1', 'k2', 'k3', 'a', 'b'),
  fc.integer({ min: 0, max: 400 }).map((i) => `key${i}`),
  fc.uint8Array({ minLength: 1, maxLength: 3 }).map((b) => Buffer.from(b).toString('latin1')),
);
const value = fc.oneof(
  { weight: 8, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.integer({ min: 100, max: 1500 }).map((n) => 'v'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 4000, max: 20000 }).map((n) => 'o'.repeat(n)) },
);
type Op =
  | { op: 'create'; path: string[] }
  | { op: 'deleteBucket'; path: string[] }
  | { op: 'put'; path: string[]; key: string; value: string }
  | { op: 'putMany'; path: string[]; from: number; n: number; size: number }
  | { op: 'delete'; path: string[]; key: string }
  | { op: 'deleteRange'; path: string[]; from: number; n: number }
  | { op: 'seq'; path: string[]; seq: bigint }
  | { op: 'commit' }
  | { op: 'rollback' }
  | { op: 'reopen' }
  | { op: 'openReader' }
  | { op: 'closeReader' };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: bpath.map((p) => ({ op: 'create' as const, path: p })) },
  { weight: 1, arbitrary: bpath.map((p) => ({ op: 'deleteBucket' as const, path: p })) },
  { weight: 8, arbitrary: fc.record({ path: bpath, key, value }).map((r) => ({ op: 'put' as const, ...r })) },
  { weight: 3, arbitrary: fc.record({ path: bpath, from: fc.integer({ min: 0, max: 300 }), n: fc.integer({ min: 10, max: 1200 }), size: fc.integer({ min: 1, max: 300 }) }).map((r) => ({ op: 'putMany' as const, ...r })) },
  { weight: 3, arbitrary: fc.record({ path: bpath, key }).map((r) => ({ op: 'delete' as const, ...r })) },
  { weight: 2, arbitrary: fc.record({ path: bpath, from: fc.integer({ min: 0, max: 300 }), n: fc.integer({ min: 10, max: 400 }) }).map((r) => ({ op: 'deleteRange' as const, ...r })) },
  { weight: 1, arbitrary: fc.record({ path: bpath, seq: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }).map((r) => ({ op: 'seq' as const, ...r })) },
  { weight: 3, arbitrary: fc.constant({ op: 'commit' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'rollback' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'openReader' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'closeReader' as const }) },
);
/** Most sequences start by creating the buckets that later operations use. */
const opsArb = fc
  .tuple(fc.subarray([['a'], ['b'], ['a', 'a'], ['a', 'b'], ['b', 'a'], ['a', 'a', 'a']]), fc.array(opArb, { minLength: 1, maxLength: 80 }))
  .map(([setup, ops]) => [...setup.map((p): Op => ({ op: 'create', path: p })), ...ops]);

const hexOf = (s: string) => Buffer.from(s, 'latin1').toString('hex');
const bytesOf = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

function modelAt(root: MBucket, p: string[]): MBucket | undefined {
  let b: MBucket | undefined = root;
  for (const n of p) b = b?.buckets.get(hexOf(n));
  return b;
}
function txAt(tx: Tx, p: string[]): Bucket | undefined {
  let b: Bucket | undefined = tx.bucket(bytesOf(p[0]!));
  for (const n of p.slice(1)) b = b?.bucket(bytesOf(n));
  return b;
}

class Runner {
  file: string;
  db: DB;
  committed = newBucket();
  pending = newBucket();
  tx: Tx | undefined;
  readers: { tx: Tx; expect: DumpItem[] }[] = [];
  constructor(
    pageSize: number,
    readonly freelistType: 'array' | 'hashmap' = 'array',
  ) {
    this.file = path.join(tmpdir('pager-'), 'db');
    this.db = open(this.file, { pageSize, freelistType });
  }
  wtx(): Tx {
    return (this.tx ??= this.db.begin(true));
  }
  expectOk(): void {
    assert.deepEqual(pageAccounting(this.db), []);
    assert.deepEqual(
      this.db.view((t) => t.check()),
      [],
    );
    assert.deepEqual(
      this.db.view((t) => dumpTx(t)),
      modelDump(this.committed),
    );
  }
  apply(o: Op): void {
    switch (o.op) {
      case 'create': {
        const parent = o.path.length === 1 ? this.pending : modelAt(this.pending, o.path.slice(0, -1));
        const tx = this.wtx();
        const last = bytesOf(o.path.at(-1)!);
        const tparent = o.path.length === 1 ? tx.root : txAt(tx, o.path.slice(0, -1));
        if (!parent) {
          assert.equal(tparent, undefined);
          return;
        }
        const k = hexOf(o.path.at(-1)!);
        if (parent.buckets.has(k)) assert.throws(() => tparent!.createBucket(last), (e: BoltError) => e.code === 'ERR_BUCKET_EXISTS');
        else if (parent.keys.has(k)) assert.throws(() => tparent!.createBucket(last), (e: BoltError) => e.code === 'ERR_INCOMPATIBLE_VALUE');
        else {
          tparent!.createBucket(last);
          parent.buckets.set(k, newBucket());
        }
        return;
      }
      case 'deleteBucket': {
        const parent = o.path.length === 1 ? this.pending : modelAt(this.pending, o.path.slice(0, -1));
        const tx = this.wtx();
        const tparent = o.path.length === 1 ? tx.root : txAt(tx, o.path.slice(0, -1));
        if (!parent) return;
        const k = hexOf(o.path.at(-1)!);
        if (parent.buckets.has(k)) {
          tparent!.deleteBucket(bytesOf(o.path.at(-1)!));
          parent.buckets.delete(k);
        } else if (parent.keys.has(k)) assert.throws(() => tparent!.deleteBucket(bytesOf(o.path.at(-1)!)), (e: BoltError) => e.code === 'ERR_INCOMPATIBLE_VALUE');
        else assert.throws(() => tparent!.deleteBucket(bytesOf(o.path.at(-1)!)), (e: BoltError) => e.code === 'ERR_BUCKET_NOT_FOUND');
        return;
      }
      case 'put':
      case 'putMany': {
        const m = modelAt(this.pending, o.path);
        const b = txAt(this.wtx(), o.path);
        assert.equal(!!b, !!m);
        if (!m || !b) return;
        const pairs: [string, string][] = o.op === 'put' ? [[o.key, o.value]] : Array.from({ length: o.n }, (_, i) => [`key${o.from + i}`, 'x'.repeat(o.size)]);
        for (const [k, v] of pairs) {
          const hk = hexOf(k);
          if (m.buckets.has(hk)) assert.throws(() => b.put(bytesOf(k), bytesOf(v)), (e: BoltError) => e.code === 'ERR_INCOMPATIBLE_VALUE');
          else {
            b.put(bytesOf(k), bytesOf(v));
            m.keys.set(hk, hexOf(v));
          }
        }
        return;
      }
      case 'delete':
      case 'deleteRange': {
        const m = modelAt(this.pending, o.path);
        const b = txAt(this.wtx(), o.path);
        if (!m || !b) return;
        const ks = o.op === 'delete' ? [o.key] : Array.from({ length: o.n }, (_, i) => `key${o.from + i}`);
        for (const k of ks) {
          const hk = hexOf(k);
          if (m.buckets.has(hk)) assert.throws(() => b.delete(bytesOf(k)), (e: BoltError) => e.code === 'ERR_INCOMPATIBLE_VALUE');
          else {
            b.delete(bytesOf(k));
            m.keys.delete(hk);
          }
        }
        return;
      }
      case 'seq': {
        const m = modelAt(this.pending, o.path);
        const b = txAt(this.wtx(), o.path);
        if (!m || !b) return;
        b.setSequence(o.seq);
        m.seq = o.seq;
        return;
      }
      case 'commit':
        if (this.tx) {
          assert.deepEqual(dumpTx(this.tx), modelDump(this.pending));
          this.tx.commit();
          this.tx = undefined;
        }
        this.committed = clone(this.pending);
        this.expectOk();
        return;
      case 'rollback':
        this.tx?.rollback();
        this.tx = undefined;
        this.pending = clone(this.committed);
        this.expectOk();
        return;
      case 'reopen':
        this.tx?.rollback();
        this.tx = undefined;
        this.pending = clone(this.committed);
        for (const r of this.readers) r.tx.rollback();
        this.readers = [];
        this.db.close();
        this.db = open(this.file, { freelistType: this.freelistType });
        this.expectOk();
        return;
      case 'openReader':
        this.readers.push({ tx: this.db.begin(false), expect: modelDump(this.committed) });
        return;
      case 'closeReader': {
        const r = this.readers.shift();
        if (!r) return;
        assert.deepEqual(dumpTx(r.tx), r.expect);
        assert.deepEqual(r.tx.check(), []);
        r.tx.rollback();
        return;
      }
    }
  }
  finish(): void {
    this.apply({ op: 'commit' });
    for (const r of this.readers) {
      assert.deepEqual(dumpTx(r.tx), r.expect);
      r.tx.rollback();
    }
    this.readers = [];
    this.db.close();
    fs.rmSync(path.dirname(this.file), { recursive: true, force: true });
  }
}

for (const pageSize of [4096, 16384]) {
  test(`Pager_randomOperations_matchModel_pageSize${pageSize}`, () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        const r = new Runner(pageSize);
        try {
          for (const o of ops) r.apply(o);
          r.finish();
        } finally {
          try {
            r.db.close();
          } catch {
            // already closed
          }
        }
      }),
      { seed: SEED + pageSize, numRuns: pageSize === 4096 ? RUNS : Math.ceil(RUNS / 3) },
    );
  });
}

test('Pager_randomOperations_matchModel_hashmapFreelist', () => {
  fc.assert(
    fc.property(opsArb, (ops) => {
      const r = new Runner(4096, 'hashmap');
      try {
        for (const o of ops) r.apply(o);
        r.finish();
      } finally {
        try {
          r.db.close();
        } catch {
          // already closed
        }
      }
    }),
    { seed: SEED + 7, numRuns: Math.ceil(RUNS / 3) },
  );
});
