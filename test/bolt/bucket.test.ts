// Bucket.put's fast path: the leaf a put reaches is remembered with the key range that reaches it,
// so later puts in the same transaction may skip the descent. Keys that belong to other leaves
// (below the first branch key, between leaves, past the last key, overwrites) must still land in
// their own leaf: the tree stays sorted, every key reads back, and the file checks clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { open } from '../../src/bolt/index.js';
import { tmpdir } from '../helpers/bolt.js';

const key = (n: number): Uint8Array => {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(Math.floor(n / 2 ** 32), 0);
  b.writeUInt32BE(n >>> 0, 4);
  return b;
};
const val = (n: number, gen: number): Uint8Array => new Uint8Array(40 + (n % 60)).fill((n + gen) % 251);

test('Bucket_put_interleavedKeysAcrossLeavesInOneTransaction', () => {
  const file = path.join(tmpdir(), 'db');
  const db = open(file);
  const model = new Map<number, Uint8Array>();
  // A tree of several levels: 20k keys (even numbers from 1000 on) in one transaction.
  db.update((tx) => {
    const b = tx.createBucket('b');
    for (let i = 0; i < 20_000; i++) {
      const n = 1000 + 2 * i;
      b.put(key(n), val(n, 0));
      model.set(n, val(n, 0));
    }
  });
  db.view((tx) => assert.ok(tx.bucket('b')!.stats().depth >= 3, 'the test needs two levels of branch pages'));
  // One transaction of puts that jump between leaves: odd keys between existing ones (stride
  // 997 wraps around the key space), keys below the first, past the last, and overwrites.
  db.update((tx) => {
    const b = tx.bucket('b')!;
    const ops: number[] = [];
    for (let i = 0; i < 6_000; i++) ops.push(1001 + 2 * ((i * 997) % 20_000));
    for (let i = 0; i < 500; i++) ops.push(999 - i, 50_000 + i * 3, 1000 + 2 * ((i * 131) % 20_000));
    ops.forEach((n, j) => {
      b.put(key(n), val(n, j + 1));
      model.set(n, val(n, j + 1));
      // Read back through the same transaction's nodes.
      if (j % 7 === 0) assert.deepEqual(b.get(key(n)), val(n, j + 1));
    });
    for (const [n, v] of model) if (n % 13 === 0) assert.deepEqual(b.get(key(n)), v, `key ${n} in the writing transaction`);
  });
  db.close();
  const again = open(file, { readOnly: true });
  again.view((tx) => {
    assert.deepEqual(tx.check(), []);
    const b = tx.bucket('b')!;
    const want = [...model.keys()].sort((x, y) => x - y);
    const got: number[] = [];
    const c = b.cursor();
    for (let e = c.first(); e; e = c.next()) {
      const n = Buffer.from(e[0]).readUInt32BE(0) * 2 ** 32 + Buffer.from(e[0]).readUInt32BE(4);
      got.push(n);
      assert.deepEqual(e[1], model.get(n), `value of key ${n}`);
    }
    assert.deepEqual(got, want);
  });
  again.close();
});
