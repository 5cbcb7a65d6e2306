// A writer process for the live-read and crash tests. Every transaction sets `n` and the
// values of keys k0..k(K-1) in bucket `w` to the transaction's sequence number (so a
// consistent snapshot has them all equal), churns a second bucket to move pages around,
// and prints "committed N" after each commit.
//   node --import tsx writer.ts PATH COUNT [noSync]
import { open } from '../../../src/bolt/index.js';
import fs from 'node:fs';

const [file, countArg, mode] = process.argv.slice(2);
const count = Number(countArg ?? 1e9);
const db = open(file!, { noSync: mode === 'noSync' });
const K = 200;
let n = db.view((tx) => {
  const v = tx.bucket('w')?.get('n');
  return v ? Number(Buffer.from(v).toString()) : 0;
});
for (let i = 0; i < count; i++) {
  n++;
  db.update((tx) => {
    const w = tx.createBucketIfNotExists('w');
    const val = String(n).padStart(12, '0') + 'x'.repeat(n % 300);
    for (let k = 0; k < K; k++) w.put(`k${k}`, val);
    w.put('n', String(n));
    const churn = tx.createBucketIfNotExists('churn');
    for (let k = 0; k < 50; k++) {
      const key = `c${(n * 7 + k * 13) % 1000}`;
      if (k % 3 === 0) churn.delete(key);
      else churn.put(key, 'y'.repeat((n + k) % 500));
    }
  });
  fs.writeSync(1, `committed ${n}\n`);
}
db.close();
