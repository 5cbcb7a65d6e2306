// Lock-free reads of a database that another process holds locked and is writing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { open, ErrTimeout, ErrInvalidOption } from '../../src/bolt/index.js';
import { tmpdir } from '../helpers/bolt.js';

const writer = fileURLToPath(new URL('./children/writer.ts', import.meta.url));

test('Snapshot_lockFreeReadsOfALiveWriterAreConsistent', async () => {
  const file = path.join(tmpdir(), 'live.db');
  const child = spawn(process.execPath, ['--import', 'tsx', writer, file, '100000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last = 0;
  child.stdout.on('data', (d: Buffer) => {
    const m = /committed (\d+)\n$/.exec(d.toString());
    if (m) last = Number(m[1]);
  });
  try {
    while (last < 5) await new Promise((r) => setTimeout(r, 20));
    // The writer holds LOCK_EX: a locking open times out...
    assert.throws(() => open(file, { readOnly: true, timeout: 100 }), ErrTimeout);
    assert.throws(() => open(file, { lock: false }), ErrInvalidOption);
    // ...a lock-free one reads consistent snapshots while commits keep landing.
    const seen = new Set<number>();
    const deadline = Date.now() + 4000;
    let reads = 0;
    while (Date.now() < deadline) {
      const db = open(file, { readOnly: true, lock: false });
      db.view((tx) => {
        const w = tx.bucket('w')!;
        const n = Number(Buffer.from(w.get('n')!).toString());
        for (let k = 0; k < 200; k++) assert.equal(Number(Buffer.from(w.get(`k${k}`)!).subarray(0, 12).toString()), n);
        assert.equal(tx.id() >= n, true);
        assert.deepEqual(tx.check(), []);
        seen.add(n);
      });
      db.close();
      reads++;
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(seen.size >= 3, `saw only ${seen.size} distinct states in ${reads} reads`);
    console.log(`lock-free reads: ${reads} in 4 s (${(reads / 4).toFixed(0)}/s), ${seen.size} distinct states`);
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
});

test('Snapshot_lockAuto_usesTheLockWhenFreeAndSnapshotsWhenHeld', async () => {
  const file = path.join(tmpdir(), 'auto.db');
  const db = open(file);
  db.update((tx) => tx.createBucket('a').put('k', 'v'));
  // Held by a writer in this process (flock is per open file description): auto snapshots.
  const auto = open(file, { readOnly: true, lock: 'auto' });
  assert.ok(auto.snapshotInfo !== undefined);
  assert.equal(auto.view((tx) => Buffer.from(tx.bucket('a')!.get('k')!).toString()), 'v');
  auto.close();
  db.close();
  // Free: auto takes the shared lock and maps the file.
  const locked = open(file, { readOnly: true, lock: 'auto' });
  assert.equal(locked.snapshotInfo, undefined);
  assert.throws(() => open(file, { timeout: 100 }), ErrTimeout); // our shared lock excludes writers
  locked.close();
});
