// Differential tests against Go bbolt 1.3.6 (the reference program in test/reference), both
// directions: the same workload applied by Go and by us gives the same dump; Go's Check
// passes on every file we write; files Go wrote, changed by us, still read and check clean
// in Go; where Go is deterministic our bytes equal Go's; locks exclude each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { open, compact, ErrTimeout } from '../../src/bolt/index.js';
import { buildReference, runReference } from '../helpers/reference.js';
import { applyWorkload, randomWorkload, type Workload } from '../helpers/workload.js';
import { dumpTx, pageAccounting, tmpdir } from '../helpers/bolt.js';

const SEED = Number(process.env.INTEROP_SEED ?? Date.now() % 1e9);
console.log(`bolt-reference seed ${SEED}`);
const refBin = buildReference();

function goApply(file: string, w: Workload, flags: string[] = []): unknown {
  return runReference(['apply', file, ...flags], w);
}
function goDump(file: string): { check: string[]; buckets: unknown; txid: number; pageSize: number } {
  return runReference(['dump', file]) as { check: string[]; buckets: unknown; txid: number; pageSize: number };
}

test('Interop_sameRandomWorkload_sameDump_andGoCheckPassesOnOurFile', () => {
  for (let i = 0; i < 12; i++) {
    const seed = SEED + i;
    // Every other seed holds readers across writes (bbolt then needs a mapping it never outgrows).
    const readers = i % 2 === 1;
    const w = randomWorkload(seed, { txs: 15, opsPerTx: 150, deletes: true, rollbacks: true, bucketDeletes: true, readers });
    const dir = tmpdir('interop-');
    const goFile = path.join(dir, 'go.db');
    const tsFile = path.join(dir, 'ts.db');
    const goRes = goApply(goFile, w, readers ? ['--initial-mmap-size', String(64 << 20)] : []) as { results: (string | null)[][] };
    const db = open(tsFile, { pageSize: 4096, initialMmapSize: readers ? 64 << 20 : undefined });
    const tsRes = applyWorkload(db, w);
    assert.deepEqual(db.view((tx) => tx.check()), [], `seed ${seed}: our check`);
    assert.deepEqual(pageAccounting(db), [], `seed ${seed}: page accounting`);
    const ours = db.view(dumpTx);
    db.close();
    // Go reads our file: same content, and its Check passes.
    const goOnOurs = goDump(tsFile);
    assert.deepEqual(goOnOurs.check, [], `seed ${seed}: Go's Check on our file`);
    assert.deepEqual(goOnOurs.buckets, ours, `seed ${seed}: Go reads what we wrote`);
    // Go wrote the same logical content.
    const goOnGo = goDump(goFile);
    assert.deepEqual(goOnGo.buckets, ours, `seed ${seed}: same dump as Go`);
    // The same operations failed (null = success).
    assert.deepEqual(
      tsRes.map((r) => r.map((x) => x === null)),
      goRes.results.map((r) => r.map((x) => x === null)),
      `seed ${seed}: same op outcomes`,
    );
    if (goOnGo.check.length > 0) console.log(`seed ${seed}: Go's own file fails Go's Check: ${goOnGo.check.slice(0, 3).join('; ')}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('Interop_goWritesWeChangeGoReadsAndChecks', () => {
  for (let i = 0; i < 6; i++) {
    const seed = SEED + 100 + i;
    const w1 = randomWorkload(seed, { txs: 8, opsPerTx: 200, deletes: true });
    const w2 = randomWorkload(seed + 1, { txs: 8, opsPerTx: 200, deletes: true, bucketDeletes: true });
    const dir = tmpdir('interop-');
    const shared = path.join(dir, 'shared.db');
    const model = path.join(dir, 'model.db');
    goApply(shared, w1);
    const db = open(shared);
    applyWorkload(db, w2);
    db.close();
    const m = open(model);
    applyWorkload(m, w1);
    applyWorkload(m, w2);
    const expected = m.view(dumpTx);
    m.close();
    const d = goDump(shared);
    assert.deepEqual(d.check, [], `seed ${seed}: Go's Check after our changes`);
    assert.deepEqual(d.buckets, expected);
    // And Go can keep writing to it.
    goApply(shared, randomWorkload(seed + 2, { txs: 3, opsPerTx: 100, deletes: true }));
    assert.deepEqual(goDump(shared).check, []);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('Interop_whereGoIsDeterministic_ourBytesEqualGos', () => {
  // One bucket path per transaction, no deletes, no rollbacks: Go spills and rebalances a
  // single path, so its output does not depend on map order.
  for (const pageSize of [4096, 16384, 65536]) {
    for (let i = 0; i < 4; i++) {
      const seed = SEED + 200 + i;
      const w = randomWorkload(seed, { txs: 25, opsPerTx: 120, onePathPerTx: true });
      // The first transaction creates every bucket: Go spills sibling buckets in map order
      // there, so it is applied alone and its file used as the common starting point.
      const dir = tmpdir('interop-');
      const goFile = path.join(dir, 'go.db');
      const tsFile = path.join(dir, 'ts.db');
      const setup = { txs: [{ ops: w.txs[0]!.ops.slice(0, 1) }] };
      const rest = { txs: [...w.txs[0]!.ops.slice(1).map((o) => ({ ops: [o] })), ...w.txs.slice(1)] };
      goApply(goFile, setup, ['--page-size', String(pageSize)]);
      const db = open(tsFile, { pageSize });
      applyWorkload(db, setup);
      applyWorkload(db, rest);
      db.close();
      goApply(goFile, rest);
      const a = fs.readFileSync(goFile);
      const b = fs.readFileSync(tsFile);
      assert.equal(b.length, a.length, `seed ${seed} pageSize ${pageSize}: file size`);
      assert.ok(a.equals(b), `seed ${seed} pageSize ${pageSize}: bytes differ from Go's`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('Interop_withReadersHeldAcrossWrites_ourBytesEqualGos', () => {
  // Read transactions held across write transactions keep the pages they can see pending
  // (bbolt's freePages releases only what no reader sees); the allocations that follow must
  // match. One path per transaction and no deletes as above, with rollbacks. bbolt's remap waits
  // for open readers (here held by the goroutine that writes), so both map 64 MiB from the
  // start; that mapping size also decides growth, so each side reopens the file after the setup
  // (Go's second process starts with the on-disk size unknown).
  const MM = 64 << 20;
  for (let i = 0; i < 6; i++) {
    const seed = SEED + 400 + i;
    const w = randomWorkload(seed, { txs: 25, opsPerTx: 120, onePathPerTx: true, readers: true, rollbacks: i % 2 === 1 });
    assert.ok(w.txs.some((t) => t.openReader) && w.txs.some((t) => t.closeReaders));
    const dir = tmpdir('interop-');
    const goFile = path.join(dir, 'go.db');
    const tsFile = path.join(dir, 'ts.db');
    const setup = { txs: [{ ops: w.txs[0]!.ops.slice(0, 1) }] };
    const rest = { txs: [...w.txs[0]!.ops.slice(1).map((o) => ({ ops: [o] })), ...w.txs.slice(1)] };
    goApply(goFile, setup, ['--initial-mmap-size', String(MM)]);
    goApply(goFile, rest, ['--initial-mmap-size', String(MM)]);
    const s1 = open(tsFile, { initialMmapSize: MM });
    applyWorkload(s1, setup);
    s1.close();
    const db = open(tsFile, { initialMmapSize: MM });
    applyWorkload(db, rest);
    assert.deepEqual(pageAccounting(db), [], `seed ${seed}: page accounting`);
    db.close();
    const a = fs.readFileSync(goFile);
    const b = fs.readFileSync(tsFile);
    assert.equal(b.length, a.length, `seed ${seed}: file size`);
    assert.ok(a.equals(b), `seed ${seed}: bytes differ from Go's`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('Interop_noFreelistSync_filesReadBothWays', () => {
  const w = randomWorkload(SEED + 300, { txs: 10, opsPerTx: 200, deletes: true });
  const dir = tmpdir('interop-');
  const goFile = path.join(dir, 'go.db');
  goApply(goFile, w, ['--no-freelist-sync']);
  const r = open(goFile, { readOnly: true });
  assert.equal(r.meta().freelist, undefined);
  assert.deepEqual(r.view((tx) => tx.check()), []);
  const expected = r.view(dumpTx);
  r.close();
  const ours = path.join(dir, 'ts.db');
  const db = open(ours, { noFreelistSync: true });
  applyWorkload(db, w);
  db.close();
  const d = goDump(ours);
  assert.deepEqual(d.check, []);
  assert.deepEqual(d.buckets, expected);
});

function goHold(file: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(refBin, ['hold', file, String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
    p.stdout.once('data', () => resolve());
    p.once('error', reject);
  });
}

test('Interop_locksExcludeEachOtherBothWays', async () => {
  const dir = tmpdir('interop-');
  const file = path.join(dir, 'lock.db');
  goApply(file, { txs: [{ ops: [{ op: 'createBucket', path: ['61'] }] }] });
  // Go holds the exclusive lock: our opens, read-write or read-only, time out.
  await goHold(file, 1500);
  assert.throws(() => open(file, { timeout: 200 }), ErrTimeout);
  assert.throws(() => open(file, { readOnly: true, timeout: 200 }), ErrTimeout);
  // ...but a lock-free read still works.
  const snap = open(file, { readOnly: true, lock: false });
  assert.ok(snap.view((tx) => tx.bucket('a')) !== undefined);
  snap.close();
  await new Promise((r) => setTimeout(r, 1700));
  // We hold the exclusive lock: Go times out.
  const db = open(file);
  assert.deepEqual(runReference(['tryopen', file, '200']), { error: 'timeout' });
  assert.deepEqual(runReference(['tryopen', file, '200', '--read-only']), { error: 'timeout' });
  db.close();
  // Shared locks coexist.
  const ro = open(file, { readOnly: true });
  assert.deepEqual(runReference(['tryopen', file, '500', '--read-only']), { opened: true });
  ro.close();
  assert.deepEqual(runReference(['tryopen', file, '500']), { opened: true });
});

test('Interop_growthPast16MiB_andOverflowRuns_matchGoByteForByte', () => {
  // 20 transactions each adding a 1 MiB value (a 257-page overflow run): the file passes
  // bbolt's 16 MiB AllocSize, where growth switches from doubling to +16 MiB steps (and is
  // skipped when only the spill moved the high-water mark, a bbolt quirk we keep).
  const h = (s: string) => Buffer.from(s).toString('hex');
  const v = '00'.repeat(1 << 20);
  const w: Workload = { txs: Array.from({ length: 20 }, (_, i) => ({ ops: [{ op: 'createBucketIfNotExists' as const, path: [h('b')] }, { op: 'put' as const, path: [h('b')], key: h(`k${i}`), value: v }] })) };
  const dir = tmpdir('interop-');
  const goFile = path.join(dir, 'go.db');
  const tsFile = path.join(dir, 'ts.db');
  goApply(goFile, w);
  const db = open(tsFile);
  applyWorkload(db, w);
  db.close();
  const a = fs.readFileSync(goFile);
  const b = fs.readFileSync(tsFile);
  assert.ok(a.length > 16 << 20);
  assert.equal(b.length, a.length);
  assert.ok(a.equals(b), 'bytes differ from Go');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('Interop_rebalanceOfSeveralUnderfilledLeaves_bytesEqualOneOfGosOutcomes', () => {
  // Found by the pager property test: deleting a range leaves two neighbouring leaves under
  // 25%; merging the second into the first removes it from the bucket's nodes, and it must not
  // be rebalanced again (we once merged its keys twice). Go ranges over a map here, so its
  // result depends on map order: run Go several times and require our bytes to be one of its
  // outcomes, and our dump to equal Go's.
  const hx = (s: string) => Buffer.from(s).toString('hex');
  const put = Array.from({ length: 92 }, (_, i) => ({ op: 'put' as const, path: [hx('a')], key: hx(`key${88 + i}`), value: hx('x'.repeat(44)) }));
  const del = Array.from({ length: 84 }, (_, i) => ({ op: 'delete' as const, path: [hx('a')], key: hx(`key${61 + i}`) }));
  const setup: Workload = { txs: [{ ops: [{ op: 'createBucket', path: [hx('a')] }] }, { ops: [{ op: 'createBucket', path: [hx('a'), hx('b')] }, ...put] }] };
  const rest: Workload = { txs: [{ ops: del }] };
  const dir = tmpdir('interop-');
  const outcomes = new Set<string>();
  let goBuckets: unknown;
  for (let run = 0; run < 8; run++) {
    const goFile = path.join(dir, `go${run}.db`);
    goApply(goFile, setup);
    goApply(goFile, rest);
    const d = goDump(goFile);
    assert.deepEqual(d.check, []);
    goBuckets = d.buckets;
    outcomes.add(fs.readFileSync(goFile).toString('hex'));
  }
  const tsFile = path.join(dir, 'ts.db');
  const db = open(tsFile);
  applyWorkload(db, setup);
  applyWorkload(db, rest);
  assert.deepEqual(db.view((t) => t.check()), []);
  assert.deepEqual(pageAccounting(db), []);
  db.close();
  assert.deepEqual(goDump(tsFile).buckets, goBuckets);
  assert.deepEqual(goDump(tsFile).check, []);
  assert.ok(outcomes.has(fs.readFileSync(tsFile).toString('hex')), `our file is none of Go's ${outcomes.size} outcomes`);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('Interop_compact_ourCopyIsOneOfGosCopies_andGoChecksIt', () => {
  // bbolt.Compact and ours copy a Go-written file (deletes and bucket deletes left free pages
  // and half-empty leaves in it), at several transaction sizes and page sizes. Go spills a
  // bucket's child buckets in map order, so with two children its pages can come out in either
  // order (~1 run in 8 here gives the other one): Go runs until one of its copies equals ours.
  const configs = [[0, 4096], [4096, 4096], [65536, 4096], [0, 16384], [20000, 1024]] as const;
  for (let i = 0; i < 3; i++) {
    const seed = SEED + 300 + i;
    const dir = tmpdir('interop-');
    const src = path.join(dir, 'src.db');
    goApply(src, randomWorkload(seed, { txs: 12, opsPerTx: 300, deletes: true, bucketDeletes: true }));
    const expected = goDump(src).buckets;
    for (const [txMaxSize, pageSize] of configs) {
      const what = `seed ${seed}, tx max ${txMaxSize}, page size ${pageSize}`;
      const ours = path.join(dir, `ts-${txMaxSize}-${pageSize}.db`);
      const s = open(src, { readOnly: true });
      const d = open(ours, { pageSize });
      compact(d, s, txMaxSize);
      d.close();
      s.close();
      const d2 = goDump(ours);
      assert.deepEqual(d2.check, [], `${what}: Go's Check on our copy`);
      assert.deepEqual(d2.buckets, expected, `${what}: our copy holds what the source holds`);
      assert.equal(d2.pageSize, pageSize);
      const mine = fs.readFileSync(ours);
      let seen = 0;
      for (; seen < 8; seen++) {
        const theirs = path.join(dir, `go-${txMaxSize}-${pageSize}-${seen}.db`);
        runReference(['compact', src, theirs, String(txMaxSize), '--page-size', String(pageSize)]);
        if (fs.readFileSync(theirs).equals(mine)) break;
      }
      assert.ok(seen < 8, `${what}: none of 8 Go copies equals ours`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('Interop_failedPutOnABucketKey_andCursorDeleteWithNothingUnderIt_bytesEqualGos', () => {
  // bbolt materializes a leaf's nodes only when it changes it, except that Cursor.Delete with
  // nothing under the cursor still materializes the path to the leaf: those nodes are written
  // to new pages at commit. A put on a nested bucket's key fails before anything is
  // materialized. Each transaction touches one bucket, so Go's bytes are deterministic.
  const hx = (s: string) => Buffer.from(s).toString('hex');
  const a = [hx('a')];
  const e = [hx('e')];
  const fill = Array.from({ length: 300 }, (_, i) => ({ op: 'put' as const, path: a, key: hx(`k${String(i).padStart(3, '0')}`), value: hx('v'.repeat(60)) }));
  const w: Workload = {
    txs: [
      { ops: [{ op: 'createBucket', path: a }, ...fill, { op: 'createBucket', path: [...a, hx('k150x')] }] },
      { ops: [{ op: 'createBucket', path: e }] },
      // A put on a leaf, then a put on the nested bucket's key (fails) in another leaf.
      { ops: [{ op: 'put', path: a, key: hx('k010'), value: hx('new') }, { op: 'put', path: a, key: hx('k150x'), value: hx('x') }] },
      // Seek past the end, then delete: nothing is deleted, the last leaf is written anew.
      { ops: [{ op: 'seekDelete', path: a, key: hx('zz') }] },
      // Seek onto the next key (k101) and delete it; seek onto the nested bucket (fails).
      { ops: [{ op: 'seekDelete', path: a, key: hx('k100a') }, { op: 'seekDelete', path: a, key: hx('k150x') }] },
      // An empty inline bucket: its root node is materialized, so its header is written again.
      { ops: [{ op: 'seekDelete', path: e, key: hx('x') }] },
    ],
  };
  const dir = tmpdir('interop-');
  const goFile = path.join(dir, 'go.db');
  const tsFile = path.join(dir, 'ts.db');
  const goRes = goApply(goFile, w) as { results: (string | null)[][] };
  const db = open(tsFile);
  const tsRes = applyWorkload(db, w);
  assert.deepEqual(pageAccounting(db), []);
  db.close();
  const outcome = (r: (string | null)[][]) => r.map((t) => t.map((x) => x === null));
  assert.deepEqual(outcome(tsRes), outcome(goRes.results));
  assert.deepEqual(outcome(tsRes).slice(2), [[true, false], [true], [true, false], [true]]);
  assert.deepEqual(goDump(tsFile).buckets, goDump(goFile).buckets);
  assert.ok(fs.readFileSync(tsFile).equals(fs.readFileSync(goFile)), 'bytes differ from Go');
  fs.rmSync(dir, { recursive: true, force: true });
});
