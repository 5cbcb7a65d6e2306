// Crash basics: a writer killed with SIGKILL at random moments during a stream of commits
// leaves a file that opens, passes check, and holds the last transaction it reported
// committed (or the next one, whose meta landed before the report was printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { open } from '../../src/bolt/index.js';
import { pageAccounting, tmpdir } from '../helpers/bolt.js';
import { runReference } from '../helpers/reference.js';

const writer = fileURLToPath(new URL('../bolt/children/writer.ts', import.meta.url));
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1e9);
console.log(`crash seed ${SEED}`);
let rng = SEED;
const rand = () => ((rng = (rng * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

async function runAndKill(file: string, afterCommits: number, extraMs: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, file, '1000000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last = -1;
  let buf = '';
  const done = new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const m = /^committed (\d+)$/.exec(l);
        if (m) last = Number(m[1]);
      }
      if (last >= afterCommits) resolve();
    });
    child.once('exit', () => resolve());
  });
  await done;
  await new Promise((r) => setTimeout(r, extraMs));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  return last;
}

test('Crash_sigkillDuringCommits_leavesLastCommittedState', async () => {
  const file = path.join(tmpdir(), 'crash.db');
  let expectedAtLeast = 0;
  for (let round = 0; round < 8; round++) {
    const target = expectedAtLeast + 1 + Math.floor(rand() * 20);
    const last = await runAndKill(file, target, Math.floor(rand() * 40));
    assert.ok(last >= target, `writer reported ${last}`);
    const db = open(file);
    try {
      db.view((tx) => {
        assert.deepEqual(tx.check(), []);
        const w = tx.bucket('w')!;
        const n = Number(Buffer.from(w.get('n')!).toString());
        assert.ok(n === last || n === last + 1, `file holds ${n}, writer last reported ${last}`);
        for (let k = 0; k < 200; k++) assert.equal(Number(Buffer.from(w.get(`k${k}`)!).subarray(0, 12).toString()), n);
        expectedAtLeast = n;
      });
      assert.deepEqual(pageAccounting(db), []);
    } finally {
      db.close();
    }
    // Go's Check agrees.
    assert.deepEqual(runReference(['check', file]).check, []);
  }
});
