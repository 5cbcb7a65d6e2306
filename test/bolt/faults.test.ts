// Fault injection through the FileIO seam: failed writes and syncs mid-commit, and power
// loss that drops or tears unsynced writes. The file must always reopen clean, holding the
// last durable commit (or the interrupted one, if its meta became durable).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, BoltIOError, type DB } from '../../src/bolt/index.js';
import { MemFile } from '../helpers/memfile.js';
import { dumpTx, pageAccounting, type DumpItem } from '../helpers/bolt.js';

const SEED = Number(process.env.FAULT_SEED ?? Date.now() % 1e9);
console.log(`faults seed ${SEED}`);
let rng = SEED;
const rand = () => ((rng = (rng * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

function workload(db: DB, round: number): void {
  db.update((tx) => {
    const b = tx.createBucketIfNotExists('b');
    for (let i = 0; i < 150; i++) {
      const k = `k${(round * 37 + i * 11) % 700}`;
      if ((i + round) % 4 === 0) b.delete(k);
      else b.put(k, `${round}:`.padEnd(20 + ((round * i) % 400), '#'));
    }
    if (round % 5 === 0) tx.createBucketIfNotExists(`n${round % 3}`).put('x', String(round));
    if (round % 7 === 0 && tx.bucket(`n${(round + 1) % 3}`)) tx.deleteBucket(`n${(round + 1) % 3}`);
  });
}

function reopenClean(img: Uint8Array): { dump: DumpItem[] } {
  const f = new MemFile('crashed.db', img);
  const db = open('crashed.db', { file: f });
  try {
    assert.deepEqual(db.view((tx) => tx.check()), []);
    assert.deepEqual(pageAccounting(db), []);
    return { dump: db.view(dumpTx) };
  } finally {
    db.close();
  }
}

test('Faults_powerLossAfterCommit_keepsEveryDurableCommit', () => {
  for (let trial = 0; trial < 30; trial++) {
    const f = new MemFile();
    const db = open('mem.db', { file: f });
    const rounds = 1 + Math.floor(rand() * 12);
    for (let r = 0; r < rounds; r++) workload(db, r);
    const expected = db.view(dumpTx);
    const img = f.crashImage(rand);
    db.close();
    // Everything was synced by the commits: a crash now loses nothing.
    assert.deepEqual(reopenClean(img).dump, expected);
  }
});

test('Faults_deathMidCommit_thenPowerLoss_leavesOldOrNewState', () => {
  for (let trial = 0; trial < 60; trial++) {
    const f = new MemFile();
    const db = open('mem.db', { file: f });
    const rounds = Math.floor(rand() * 8);
    for (let r = 0; r < rounds; r++) workload(db, r);
    const before = db.view(dumpTx);
    // Apply the next commit on a twin to know the state it would produce.
    const twin = new MemFile('twin.db', f.crashImage(() => 0.99));
    const tdb = open('twin.db', { file: twin });
    workload(tdb, rounds);
    const after = tdb.view(dumpTx);
    tdb.close();
    // Die after a random number of writes into the commit.
    f.failAfterWrites = f.writes + Math.floor(rand() * 12);
    let failed = false;
    try {
      workload(db, rounds);
    } catch (e) {
      assert.ok(e instanceof BoltIOError);
      failed = true;
    }
    const img = f.crashImage(rand);
    db.close();
    const got = reopenClean(img).dump;
    if (failed) assert.ok(JSON.stringify(got) === JSON.stringify(before) || JSON.stringify(got) === JSON.stringify(after), 'state is neither the old nor the new commit');
    else assert.deepEqual(got, after);
  }
});

test('Faults_failedSync_rollsBackAndTheDatabaseStaysUsable', () => {
  const f = new MemFile();
  const db = open('mem.db', { file: f });
  workload(db, 0);
  const before = db.view(dumpTx);
  f.failSync = true;
  assert.throws(() => workload(db, 1), (e: unknown) => e instanceof BoltIOError && e.code === 'ERR_IO');
  f.failSync = false;
  assert.deepEqual(db.view(dumpTx), before);
  assert.deepEqual(pageAccounting(db), []);
  workload(db, 2);
  assert.deepEqual(db.view((tx) => tx.check()), []);
  assert.deepEqual(pageAccounting(db), []);
  db.close();
});
