// Engine behaviour through the public API: transactions, buckets, errors, growth, metas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { open, DB, type Tx, ErrBucketExists, ErrBucketNotFound, ErrBucketNameRequired, ErrIncompatibleValue, ErrKeyRequired, ErrKeyTooLarge, ErrTxClosed, ErrTxNotWritable, ErrDatabaseReadOnly, ErrManagedTx, ErrWriterBusy, ErrFileTooSmall, ErrInvalid, ErrTimeout, BoltError, MAX_KEY_SIZE } from '../../src/bolt/index.js';
import { fnv64a } from '../../src/bolt/meta.js';
import { dumpTx, pageAccounting, tmpdir } from '../helpers/bolt.js';

const te = new TextEncoder();
const s = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString());

function fresh(options = {}): { db: DB; file: string } {
  const file = path.join(tmpdir(), 'db');
  return { db: open(file, options), file };
}

test('DB_open_newFileHasFourPagesAndTwoMetas', () => {
  const { db, file } = fresh();
  assert.equal(fs.statSync(file).size, 4 * 4096);
  const metas = db.metas();
  assert.deepEqual(metas.map((m) => [m.meta.txid, m.meta.root, m.meta.freelist, m.meta.pgid, m.error]), [
    [0, 3, 2, 4, undefined],
    [1, 3, 2, 4, undefined],
  ]);
  db.close();
});

test('Tx_update_commitsAndMetaAlternates', () => {
  const { db, file } = fresh();
  db.update((tx) => tx.createBucket('a').put('k', 'v'));
  assert.equal(db.meta().txid, 2);
  db.update((tx) => tx.bucket('a')!.put('k2', 'v2'));
  assert.equal(db.meta().txid, 3);
  const metas = db.metas().map((m) => m.meta.txid);
  assert.deepEqual(metas, [2, 3]); // txid 2 on page 0, txid 3 on page 1
  // File growth as bbolt 1.3.6: truncated to the 32 KiB mmap size on the first commit.
  assert.equal(fs.statSync(file).size, 32768);
  db.close();
  const db2 = open(file, { readOnly: true });
  assert.equal(db2.view((tx) => s(tx.bucket('a')!.get('k2'))), 'v2');
  db2.close();
});

test('Tx_update_rollsBackWhenCallbackThrows', () => {
  const { db } = fresh();
  db.update((tx) => tx.createBucket('a').put('k', 'v'));
  assert.throws(
    () =>
      db.update((tx) => {
        tx.bucket('a')!.put('k', 'changed');
        tx.createBucket('b');
        throw new Error('boom');
      }),
    /boom/,
  );
  db.view((tx) => {
    assert.equal(s(tx.bucket('a')!.get('k')), 'v');
    assert.equal(tx.bucket('b'), undefined);
  });
  assert.deepEqual(pageAccounting(db), []);
  db.close();
});

test('Tx_readersKeepTheirSnapshotAcrossCommits', () => {
  const { db } = fresh();
  db.update((tx) => {
    const b = tx.createBucket('a');
    for (let i = 0; i < 2000; i++) b.put(`k${i}`, 'x'.repeat(50));
  });
  const reader = db.begin(false);
  for (let round = 0; round < 5; round++) {
    db.update((tx) => {
      const b = tx.bucket('a')!;
      for (let i = 0; i < 2000; i += 2) b.delete(`k${i}`);
      for (let i = 0; i < 500; i++) b.put(`n${round}-${i}`, 'y'.repeat(200));
    });
  }
  let n = 0;
  reader.bucket('a')!.forEach((k, v) => {
    n++;
    assert.equal(s(v), 'x'.repeat(50));
  });
  assert.equal(n, 2000);
  assert.deepEqual(reader.check(), []);
  reader.rollback();
  assert.deepEqual(pageAccounting(db), []);
  db.close();
});

test('Tx_checkOfReader_ignoresWhatAWriterInProgressFreedOrAllocated', () => {
  // Found by the pager property test: a reader's Check must judge its own snapshot. bbolt
  // 1.3.6 checks against the live freelist and reports "reachable freed" here.
  const { db } = fresh();
  db.update((tx) => {
    tx.createBucket('a').createBucket('b');
    for (let i = 0; i < 3; i++) tx.createBucket(`big${i}`).put(te.encode('x'), new Uint8Array(3000));
  });
  const r = db.begin(false);
  const w = db.begin(true);
  w.deleteBucket('a');
  w.bucket('big0')!.put(te.encode('k'), new Uint8Array(20000)); // allocates pages the reader sees as free
  assert.deepEqual(r.check(), []);
  w.commit();
  assert.deepEqual(r.check(), []);
  assert.equal(r.bucket('a')?.bucket('b') !== undefined, true);
  r.rollback();
  assert.deepEqual(db.view((t) => t.check()), []);
  db.close();
});

test('Bucket_rebalance_mergedSiblingIsNotMergedTwice', () => {
  // Found by the pager property test: two neighbouring leaves left under 25% by one delete
  // range; the second, once merged into the first, must not be rebalanced again.
  const { db } = fresh();
  db.update((tx) => {
    const a = tx.createBucket('a');
    a.createBucket('b');
    for (let i = 88; i < 180; i++) a.put(te.encode(`key${i}`), te.encode('x'.repeat(44)));
  });
  db.update((tx) => {
    for (let i = 61; i < 145; i++) tx.bucket('a')!.delete(te.encode(`key${i}`));
  });
  assert.deepEqual(db.view((t) => t.check()), []);
  const keys = db.view((t) => {
    const out: string[] = [];
    t.bucket('a')!.forEach((k) => void out.push(Buffer.from(k).toString()));
    return out;
  });
  const want = ['b', ...Array.from({ length: 35 }, (_, i) => `key${145 + i}`)]; // key88..key99 fall in the deleted range
  assert.deepEqual(keys, want);
  db.close();
});

test('Tx_managedTxCannotCommitOrRollback', () => {
  const { db } = fresh();
  assert.throws(() => db.update((tx) => tx.commit()), ErrManagedTx);
  assert.throws(() => db.view((tx) => tx.rollback()), ErrManagedTx);
  db.close();
});

test('Tx_closedAndReadOnlyErrors', () => {
  const { db } = fresh();
  const tx = db.begin(true);
  const b = tx.createBucket('a');
  tx.commit();
  assert.throws(() => tx.commit(), ErrTxClosed);
  assert.throws(() => b.put('k', 'v'), ErrTxClosed);
  const r = db.begin(false);
  assert.throws(() => r.createBucket('x'), ErrTxNotWritable);
  assert.throws(() => r.bucket('a')!.put('k', 'v'), ErrTxNotWritable);
  assert.throws(() => r.commit(), ErrTxNotWritable);
  r.rollback();
  const w = db.begin(true);
  assert.throws(() => db.begin(true), ErrWriterBusy);
  w.rollback();
  db.close();
});

test('Bucket_errorsCarryStableCodes', () => {
  const { db } = fresh();
  db.update((tx) => {
    const a = tx.createBucket('a');
    assert.throws(() => tx.createBucket('a'), (e: BoltError) => e instanceof ErrBucketExists && e.code === 'ERR_BUCKET_EXISTS');
    assert.throws(() => tx.createBucket(''), (e: BoltError) => e.code === 'ERR_BUCKET_NAME_REQUIRED' && e instanceof ErrBucketNameRequired);
    assert.throws(() => tx.deleteBucket('nope'), (e: BoltError) => e.code === 'ERR_BUCKET_NOT_FOUND' && e instanceof ErrBucketNotFound);
    a.put('v', '1');
    assert.throws(() => a.createBucket('v'), (e: BoltError) => e.code === 'ERR_INCOMPATIBLE_VALUE' && e instanceof ErrIncompatibleValue);
    a.createBucket('sub');
    assert.throws(() => a.put('sub', 'x'), ErrIncompatibleValue);
    assert.throws(() => a.delete('sub'), ErrIncompatibleValue);
    assert.throws(() => a.deleteBucket('v'), ErrIncompatibleValue);
    assert.equal(a.get('sub'), undefined);
    assert.throws(() => a.put('', 'x'), (e: BoltError) => e.code === 'ERR_KEY_REQUIRED' && e instanceof ErrKeyRequired);
    assert.throws(() => a.put(new Uint8Array(MAX_KEY_SIZE + 1), 'x'), (e: BoltError) => e.code === 'ERR_KEY_TOO_LARGE' && e instanceof ErrKeyTooLarge);
    a.put(new Uint8Array(MAX_KEY_SIZE).fill(7), 'max key is fine');
    assert.equal(a.createBucketIfNotExists('sub').sequence(), 0n);
  });
  db.close();
});

test('Bucket_sequences_are64bit', () => {
  const { db, file } = fresh();
  db.update((tx) => {
    const b = tx.createBucket('a');
    assert.equal(b.nextSequence(), 1n);
    assert.equal(b.nextSequence(), 2n);
    b.createBucket('c').setSequence(2n ** 64n - 2n);
    assert.throws(() => b.setSequence(-1), RangeError);
  });
  db.update((tx) => assert.equal(tx.bucket('a')!.bucket('c')!.nextSequence(), 2n ** 64n - 1n));
  db.close();
  const r = open(file, { readOnly: true });
  r.view((tx) => {
    assert.equal(tx.bucket('a')!.sequence(), 2n);
    assert.equal(tx.bucket('a')!.bucket('c')!.sequence(), 2n ** 64n - 1n);
  });
  r.close();
});

test('Cursor_navigation_andDeleteAndSeek', () => {
  const { db } = fresh();
  db.update((tx) => {
    const b = tx.createBucket('a');
    for (let i = 0; i < 1000; i++) b.put(`k${String(i).padStart(4, '0')}`, `${i}`);
    b.createBucket('k0500x');
  });
  db.view((tx) => {
    const c = tx.bucket('a')!.cursor();
    assert.equal(s(c.first()![0]), 'k0000');
    assert.equal(s(c.last()![0]), 'k0999');
    assert.equal(c.next(), undefined);
    assert.equal(s(c.prev()![0]), 'k0998');
    assert.equal(s(c.seek('k0500')![1]), '500');
    const e = c.next()!;
    assert.equal(s(e[0]), 'k0500x');
    assert.equal(e[1], undefined); // a nested bucket has no value
    assert.equal(s(c.seek('k05000')![0]), 'k0500x');
    assert.equal(s(c.seek('j')![0]), 'k0000');
    assert.equal(c.seek('z'), undefined);
    let n = 0;
    for (let e2 = c.last(); e2; e2 = c.prev()) n++;
    assert.equal(n, 1001);
  });
  db.update((tx) => {
    const c = tx.bucket('a')!.cursor();
    for (let e = c.first(); e; ) {
      if (Number(s(e[1]) ?? -1) % 3 === 0) {
        c.delete();
        e = c.seek(e[0]);
      } else e = c.next();
    }
  });
  db.view((tx) => {
    let n = 0;
    tx.bucket('a')!.forEach((k, v) => {
      if (v) assert.notEqual(Number(s(v)) % 3, 0);
      n++;
    });
    assert.equal(n, 1001 - 334);
    assert.deepEqual(tx.check(), []);
  });
  db.close();
});

test('Bucket_deepNesting_inlineAndOverflow_survivesReopen', () => {
  const { db, file } = fresh();
  const big = new Uint8Array(100_000).map((_, i) => i % 251);
  db.update((tx) => {
    let b = tx.createBucket('l1');
    for (let d = 2; d <= 6; d++) b = b.createBucket(`l${d}`);
    b.put('deep', 'yes');
    b.put('big', big);
    b.put('empty', new Uint8Array(0));
    const inl = tx.createBucket('inline');
    inl.put('a', '1');
  });
  const before = db.view(dumpTx);
  db.close();
  const r = open(file, { readOnly: true });
  r.view((tx) => {
    assert.deepEqual(dumpTx(tx), before);
    assert.equal(tx.bucket('inline')!.root, 0); // small bucket stored inline
    let b = tx.bucket('l1')!;
    for (let d = 2; d <= 6; d++) b = b.bucket(`l${d}`)!;
    assert.deepEqual(b.get('big'), big);
    assert.equal(b.get('empty')!.length, 0);
    assert.deepEqual(tx.check(), []);
    const st = tx.root.stats();
    assert.ok(st.leafOverflowN >= 24);
    assert.equal(st.bucketN, 8);
  });
  r.close();
});

test('Bucket_deleteBucket_freesAllPagesIncludingNested', () => {
  const { db } = fresh();
  db.update((tx) => {
    const a = tx.createBucket('a');
    for (let i = 0; i < 3000; i++) a.put(`k${i}`, 'v'.repeat(100));
    const n = a.createBucket('n');
    for (let i = 0; i < 3000; i++) n.put(`k${i}`, 'w'.repeat(100));
  });
  db.update((tx) => {
    tx.bucket('a')!.bucket('n')!.put('touch', 'x'); // modify, then delete in the same tx
    tx.deleteBucket('a');
  });
  assert.deepEqual(pageAccounting(db), []);
  assert.deepEqual(db.view((tx) => tx.check()), []);
  db.close();
});

test('DB_readOnly_refusesWritesAndLeavesFileUntouched', () => {
  const { db, file } = fresh();
  db.update((tx) => tx.createBucket('a').put('k', 'v'));
  db.close();
  const st = fs.statSync(file);
  const bytes = fs.readFileSync(file);
  const r = open(file, { readOnly: true });
  assert.throws(() => r.begin(true), ErrDatabaseReadOnly);
  r.view((tx) => tx.check());
  r.close();
  assert.deepEqual(fs.readFileSync(file), bytes);
  assert.equal(fs.statSync(file).mtimeMs, st.mtimeMs);
});

test('DB_lock_excludesWritersWithinProcess', () => {
  const { db, file } = fresh();
  assert.throws(() => open(file, { timeout: 120 }), ErrTimeout);
  assert.throws(() => open(file, { readOnly: true, timeout: 120 }), ErrTimeout);
  db.close();
  const r1 = open(file, { readOnly: true, timeout: 120 });
  const r2 = open(file, { readOnly: true, timeout: 120 }); // shared locks coexist
  assert.throws(() => open(file, { timeout: 120 }), ErrTimeout);
  r1.close();
  r2.close();
});

test('DB_open_badFiles', () => {
  const dir = tmpdir();
  const empty = path.join(dir, 'empty');
  fs.writeFileSync(empty, '');
  assert.throws(() => open(empty, { readOnly: true }), ErrFileTooSmall);
  const junk = path.join(dir, 'junk');
  fs.writeFileSync(junk, Buffer.alloc(16384, 0x5a));
  assert.throws(() => open(junk, { readOnly: true }), ErrInvalid);
  const small = path.join(dir, 'small');
  fs.writeFileSync(small, Buffer.alloc(100));
  assert.throws(() => open(small, { readOnly: true }), (e: unknown) => e instanceof BoltError);
  assert.throws(() => open(path.join(dir, 'missing'), { readOnly: true }), (e: BoltError) => e.code === 'ERR_IO');
  assert.equal(fs.existsSync(path.join(dir, 'missing')), false);
});

test('DB_tornNewestMeta_fallsBackToPrevious', () => {
  const { db, file } = fresh();
  db.update((tx) => tx.createBucket('a').put('k', 'old'));
  db.update((tx) => tx.bucket('a')!.put('k', 'new')); // txid 3, meta page 1
  db.close();
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.alloc(20, 0xee), 0, 20, 4096 + 16 + 30); // tear meta 1
  fs.closeSync(fd);
  const r = open(file, { readOnly: true });
  assert.equal(r.meta().txid, 2);
  assert.equal(r.view((tx) => s(tx.bucket('a')!.get('k'))), 'old');
  assert.deepEqual(r.view((tx) => tx.check()), []);
  r.close();
});

test('DB_noFreelistSync_writesNoFreelistAndRebuildsIt', () => {
  const { db, file } = fresh({ noFreelistSync: true });
  db.update((tx) => {
    const b = tx.createBucket('a');
    for (let i = 0; i < 2000; i++) b.put(`k${i}`, 'v'.repeat(64));
  });
  db.update((tx) => {
    const b = tx.bucket('a')!;
    for (let i = 0; i < 2000; i += 3) b.delete(`k${i}`);
  });
  assert.equal(db.meta().freelist, undefined);
  db.close();
  const again = open(file, { noFreelistSync: true });
  assert.ok(again.loadFreelist().freeCount() > 0); // rebuilt by scanning
  assert.deepEqual(pageAccounting(again), []);
  again.close();
  // Opening without noFreelistSync writes a freelist page (as bbolt does).
  const synced = open(file);
  assert.notEqual(synced.meta().freelist, undefined);
  assert.deepEqual(synced.view((tx) => tx.check()), []);
  synced.close();
});

test('DB_pageSizes_16kAnd64k', () => {
  for (const pageSize of [16384, 65536]) {
    const { db, file } = fresh({ pageSize });
    db.update((tx) => {
      const b = tx.createBucket('a');
      for (let i = 0; i < 5000; i++) b.put(`k${i}`, `v${i}`);
    });
    db.close();
    const r = open(file, { readOnly: true });
    assert.equal(r.pageSize, pageSize);
    r.view((tx) => {
      let n = 0;
      tx.bucket('a')!.forEach(() => n++);
      assert.equal(n, 5000);
      assert.deepEqual(tx.check(), []);
    });
    r.close();
  }
});

test('DB_open_metaZeroTorn_findsThePageSizeAtMetaOne', () => {
  // Meta 0 torn in a 16 KiB-page file: the page size comes from meta 1, probed at 1 KiB << i
  // (bbolt 1.3.7's probe), with whole and chunked mappings; the file is left as it was.
  const { db, file } = fresh({ pageSize: 16384 });
  db.update((tx) => tx.createBucket('a').put('k', 'v2')); // txid 2, meta 0
  db.update((tx) => tx.bucket('a')!.put('k', 'v3')); // txid 3, meta 1
  db.close();
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.alloc(8, 0xee), 0, 8, 16); // meta 0's magic and version
  fs.closeSync(fd);
  const before = fs.readFileSync(file);
  const mtime = fs.statSync(file).mtimeMs;
  for (const chunk of [undefined, 4096]) {
    const r = open(file, { readOnly: true, mmapChunkSize: chunk });
    assert.equal(r.pageSize, 16384);
    assert.equal(r.meta().txid, 3);
    assert.equal(r.view((tx) => s(tx.bucket('a')!.get('k'))), 'v3');
    r.close();
  }
  assert.ok(fs.readFileSync(file).equals(before));
  assert.equal(fs.statSync(file).mtimeMs, mtime);
  // Both metas torn: no page size anywhere, so the file is refused.
  const fd2 = fs.openSync(file, 'r+');
  fs.writeSync(fd2, Buffer.alloc(8, 0xee), 0, 8, 16384 + 16);
  fs.closeSync(fd2);
  assert.throws(() => open(file, { readOnly: true }), ErrInvalid);
});

test('DB_chunkedMapping_pagesStraddlingChunks', () => {
  const { db, file } = fresh();
  const big = new Uint8Array(30_000).map((_, i) => (i * 7) % 256);
  db.update((tx) => {
    const b = tx.createBucket('a');
    for (let i = 0; i < 40; i++) b.put(`big${i}`, big);
  });
  const expected = db.view(dumpTx);
  db.close();
  // 8 KiB chunks: every overflow page spans several chunks and must be stitched.
  const r = open(file, { readOnly: true, mmapChunkSize: 8192 });
  r.view((tx) => {
    assert.deepEqual(dumpTx(tx), expected);
    assert.deepEqual(tx.check(), []);
  });
  r.close();
});

test('DB_readsPagesPast4GiB', () => {
  // A sparse file whose root leaf and freelist lie past 4 GiB: meta points there.
  const { db, file } = fresh();
  db.update((tx) => tx.createBucket('far').put('key', 'value past 4 GiB'));
  const meta = db.meta();
  db.close();
  const ps = 4096;
  const farBase = 2 ** 32 / ps + 10; // page id whose offset is past 4 GiB
  const fd = fs.openSync(file, 'r+');
  const buf = Buffer.alloc(ps);
  // Copy each page reachable from the meta (root leaf, freelist) to farBase + i.
  const ids = [meta.root, meta.freelist!];
  ids.forEach((id, i) => {
    fs.readSync(fd, buf, 0, ps, id * ps);
    buf.writeBigUInt64LE(BigInt(farBase + i), 0);
    fs.writeSync(fd, buf, 0, ps, (farBase + i) * ps);
  });
  fs.closeSync(fd);
  // Rewrite the newest meta to point at the far pages.
  const mpage = Buffer.alloc(ps);
  const fdr = fs.openSync(file, 'r');
  fs.readSync(fdr, mpage, 0, ps, (meta.txid % 2) * ps);
  fs.closeSync(fdr);
  mpage.writeBigUInt64LE(BigInt(farBase), 16 + 16);
  mpage.writeBigUInt64LE(BigInt(farBase + 1), 16 + 32);
  mpage.writeBigUInt64LE(BigInt(farBase + 2), 16 + 40);
  mpage.writeBigUInt64LE(fnv64a(mpage, 16, 72), 16 + 56);
  const fd2 = fs.openSync(file, 'r+');
  fs.writeSync(fd2, mpage, 0, ps, (meta.txid % 2) * ps);
  fs.closeSync(fd2);
  assert.ok(fs.statSync(file).size > 2 ** 32);
  const r = open(file, { readOnly: true });
  r.view((tx) => {
    assert.equal(s(tx.bucket('far')!.get('key')), 'value past 4 GiB');
  });
  r.close();
  fs.rmSync(file);
});


test('DB_batch_coalescesCallsAndRetriesFailuresAlone', async () => {
  const { db } = fresh();
  db.update((tx) => tx.createBucket('a'));
  const before = db.meta().txid;
  const ps = [];
  for (let i = 0; i < 20; i++) ps.push(db.batch((tx) => tx.bucket('a')!.put(`k${i}`, `${i}`)));
  const bad = db.batch(() => {
    throw new Error('bad call');
  });
  await Promise.all(ps);
  await assert.rejects(bad, /bad call/);
  const after = db.meta().txid;
  assert.ok(after - before <= 3, `expected few commits, got ${after - before}`);
  assert.equal(db.view((tx) => { let n = 0; tx.bucket('a')!.forEach(() => n++); return n; }), 20);
  db.close();
});

test('Tx_onCommit_runsOnlyAfterCommit', () => {
  const { db } = fresh();
  const calls: string[] = [];
  db.update((tx) => tx.onCommit(() => calls.push('a')));
  try {
    db.update((tx) => {
      tx.onCommit(() => calls.push('b'));
      throw new Error('x');
    });
  } catch {
    // rolled back
  }
  assert.deepEqual(calls, ['a']);
  db.close();
});

test('Tx_writeTo_makesAConsistentCopy', async () => {
  const { db } = fresh();
  db.update((tx) => {
    const b = tx.createBucket('a');
    for (let i = 0; i < 3000; i++) b.put(`k${i}`, `v${i}`);
  });
  const dir = tmpdir();
  const copy = path.join(dir, 'copy.db');
  const reader = db.begin(false);
  db.update((tx) => tx.bucket('a')!.put('later', 'x')); // after the reader began
  const n = reader.writeTo(copy);
  assert.equal(n, reader.size());
  const expected = dumpTx(reader);
  reader.rollback();
  const c = open(copy, { readOnly: true });
  c.view((tx) => {
    assert.deepEqual(dumpTx(tx), expected);
    assert.deepEqual(tx.check(), []);
  });
  c.close();
  db.close();
});

void te;

test('DB_growth_followsBbolt136', () => {
  // Under 16 MiB the file is truncated to bbolt's mmap size, which initialMmapSize raises.
  const { db, file } = fresh({ initialMmapSize: 1 << 20 });
  db.update((tx) => tx.createBucket('a').put('k', 'v'));
  assert.equal(fs.statSync(file).size, 1 << 20);
  db.close();
  // noGrowSync: no truncation, the file only extends by page writes.
  const ng = fresh({ noGrowSync: true });
  ng.db.update((tx) => tx.createBucket('a').put('k', 'v'));
  assert.equal(fs.statSync(ng.file).size, ng.db.meta().pgid * 4096);
  ng.db.close();
});

/** This process's mappings of `file`, as /proc/self/smaps lists them: size and resident KiB each. */
function mappingsOf(file: string): { sizeKiB: number; rssKiB: number }[] {
  const real = fs.realpathSync(file);
  const out: { sizeKiB: number; rssKiB: number }[] = [];
  let cur: { sizeKiB: number; rssKiB: number } | undefined;
  for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = head[1] === real ? { sizeKiB: 0, rssKiB: 0 } : undefined;
      if (cur) out.push(cur);
    } else if (cur && /^Size:/.test(line)) cur.sizeKiB = Number(line.split(/\s+/)[1]);
    else if (cur && /^Rss:/.test(line)) cur.rssKiB = Number(line.split(/\s+/)[1]);
  }
  return out;
}
const residentKiB = (file: string) => mappingsOf(file).reduce((a, m) => a + m.rssKiB, 0);

/** A database of 3,000 keys with 100-byte values (~500 KiB), closed. */
function keysFile(): string {
  const { db, file } = fresh();
  db.update((tx) => {
    const b = tx.createBucket('b');
    for (let i = 0; i < 3000; i++) b.put(`k${String(i).padStart(5, '0')}`, 'v'.repeat(100));
  });
  db.close();
  return file;
}
const readAll = (tx: Tx): number => {
  let n = 0;
  tx.bucket('b')!.forEach((k, v) => (n += k.length + v!.length));
  return n;
};

// mmap-io cannot unmap: a closed database's mapping goes when V8 collects its Buffer, which a
// synchronous loop of opens may not reach for thousands of files. Close gives the pages back.
test('DB_close_givesBackTheMappedPages', () => {
  const file = keysFile();
  const db = open(file, { readOnly: true });
  assert.equal(db.view(readAll), 3000 * 106);
  assert.ok(residentKiB(file) >= 200, `resident after the walk: ${residentKiB(file)} KiB`);
  db.close();
  assert.equal(residentKiB(file), 0);
});

test('DB_close_withAReaderOpen_keepsTheMappingUntilTheReaderEnds', () => {
  const file = keysFile();
  const db = open(file, { readOnly: true });
  const tx = db.begin(false);
  db.close();
  assert.equal(readAll(tx), 3000 * 106);
  assert.ok(residentKiB(file) >= 200);
  assert.equal(s(tx.bucket('b')!.get('k02999')), 'v'.repeat(100));
  tx.rollback();
  assert.equal(residentKiB(file), 0);
});

test('Tx_commit_remap_releasesTheOldMappingOnceNoReaderHoldsIt', () => {
  const file = keysFile();
  const db = open(file);
  const reader = db.begin(false);
  assert.equal(readAll(reader), 3000 * 106);
  const [old] = mappingsOf(file);
  assert.ok(old !== undefined && old.rssKiB >= 200);
  // Grows the file past the mapping: the next transactions read through a new one.
  db.update((tx) => {
    const b = tx.bucket('b')!;
    for (let i = 3000; i < 9000; i++) b.put(`k${String(i).padStart(5, '0')}`, 'v'.repeat(100));
  });
  assert.equal(db.view(readAll), 9000 * 106);
  const during = mappingsOf(file);
  assert.ok(during.length >= 2, `mappings: ${JSON.stringify(during)}`);
  assert.ok(during.find((m) => m.sizeKiB === old.sizeKiB)!.rssKiB >= 200, 'the reader still reads through the old mapping');
  // The reader still sees its snapshot, through the old mapping.
  assert.equal(readAll(reader), 3000 * 106);
  reader.rollback();
  const after = mappingsOf(file);
  assert.equal(after.find((m) => m.sizeKiB === old.sizeKiB)?.rssKiB ?? 0, 0); // (gone if the GC already took it)
  assert.ok(after.some((m) => m.sizeKiB !== old.sizeKiB && m.rssKiB >= 200), 'the current mapping keeps its pages');
  assert.equal(db.view(readAll), 9000 * 106);
  db.close();
  assert.equal(residentKiB(file), 0);
});

test('DB_openCloseLoop_reusesTheReleasedMapping', () => {
  const file = keysFile();
  for (let i = 0; i < 300; i++) {
    const db = open(file, { readOnly: true });
    assert.equal(db.view(readAll), 3000 * 106);
    db.close();
  }
  // Without the reuse each open left one more mapping until the GC (300 here).
  assert.ok(mappingsOf(file).length <= 2, `mappings: ${mappingsOf(file).length}`);
  // A reused mapping shows what was written since; a file grown past it gets a new one.
  const w = open(file);
  w.update((tx) => tx.bucket('b')!.put('k00000', 'changed'));
  w.close();
  const r = open(file, { readOnly: true });
  assert.equal(r.view((tx) => s(tx.bucket('b')!.get('k00000'))), 'changed');
  r.close();
  const g = open(file);
  g.update((tx) => {
    const b = tx.bucket('b')!;
    for (let i = 3000; i < 9000; i++) b.put(`k${String(i).padStart(5, '0')}`, 'v'.repeat(100));
  });
  g.close();
  const r2 = open(file, { readOnly: true });
  assert.equal(r2.view((tx) => tx.bucket('b')!.get('k08999')?.length), 100);
  assert.deepEqual(r2.view((tx) => tx.check()), []);
  r2.close();
  assert.equal(residentKiB(file), 0);
});

test('DB_meta_seesMetaBytesChangedUnderTheMapping', () => {
  // meta() keeps its last answer while the two metas' bytes stay the same; bytes written to the
  // file by anything else (here a plain pwrite, as another process's commit would land through
  // MAP_SHARED) must be seen at once: a torn newest meta falls back to the other, and back.
  const { db, file } = fresh();
  try {
    for (let i = 0; i < 3; i++) db.update((tx) => tx.createBucketIfNotExists(`b${i}`));
    const newest = db.meta().txid;
    const m = db.meta();
    m.txid = 12345; // the caller's copy: changing it changes nothing the DB reads
    assert.equal(db.meta().txid, newest);
    assert.equal(db.view((tx) => tx.id()), newest);
    const fd = fs.openSync(file, 'r+');
    try {
      const at = (newest % 2) * 4096 + 16 + 56; // the newest meta's checksum
      const saved = Buffer.alloc(8);
      fs.readSync(fd, saved, 0, 8, at);
      fs.writeSync(fd, Buffer.from(saved.map((b) => b ^ 0xff)), 0, 8, at);
      assert.equal(db.meta().txid, newest - 1);
      assert.equal(db.view((tx) => tx.id()), newest - 1);
      fs.writeSync(fd, saved, 0, 8, at);
      assert.equal(db.meta().txid, newest);
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    db.close();
  }
});
