// Live reading: a real containerd 1.6 imports and removes an image in a loop (ctr images import of a
// small OCI tarball built here, ctr images rm) while tsctr images ls, tsbolt keys and tsbolt check read
// its root over and over for ~20 s, without the lock containerd holds. Every tsctr output equals what
// ctr images ls printed for one of the two states (recorded in the same run, from the same daemon),
// every keys output is the image names of one of them, check always says OK; no errors, no read
// slower than a few seconds. A second reader runs the built bin/tsctr.js as its own process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main as tsctr } from '../../src/cli/tsctr.js';
import { main as tsbolt } from '../../src/cli/tsbolt.js';
import { startContainerd } from '../helpers/containerd.js';
import { ociTarball } from '../helpers/oci.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const DURATION_MS = 20_000;
const SLOW_MS = 5_000;

function sink() {
  let s = '';
  return { w: { write: (x: string | Uint8Array) => ((s += typeof x === 'string' ? x : Buffer.from(x).toString()), true) }, text: () => s };
}

function runBin(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [path.join(REPO, 'bin', 'tsctr.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

test('Live_importRemoveLoop_everyReadIsOneOfCtrsTwoStates', { timeout: 180_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-live-'));
  const keepTar = path.join(dir, 'keep.tar');
  const liveTar = path.join(dir, 'live.tar');
  // Both names point at the same blobs, so removing `live` leaves nothing for containerd's GC to
  // take that `keep` still lists (the two states differ only in meta.db).
  fs.writeFileSync(keepTar, ociTarball(['example.com/keep:1']));
  fs.writeFileSync(liveTar, ociTarball(['example.com/live:1']));
  const c = await startContainerd(dir);
  try {
    const ok = async (args: string[]): Promise<string> => {
      const r = await c.ctr(args);
      assert.equal(r.code, 0, `ctr ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    await ok(['images', 'import', keepTar]);
    await ok(['images', 'import', liveTar]);
    const present = await ok(['images', 'ls']);
    const presentNames = await ok(['images', 'ls', '-q']);
    await ok(['images', 'rm', 'example.com/live:1']);
    const absent = await ok(['images', 'ls']);
    const absentNames = await ok(['images', 'ls', '-q']);
    assert.notEqual(present, absent);
    assert.match(present, /example\.com\/live:1/);

    const root = c.root;
    const metaDB = path.join(root, 'io.containerd.metadata.v1.bolt', 'meta.db');
    let stop = false;
    let cycles = 0;
    const writer = (async () => {
      while (!stop) {
        await ok(['images', 'import', liveTar]);
        await ok(['images', 'rm', 'example.com/live:1']);
        cycles++;
      }
    })();

    const seen = { present: 0, absent: 0 };
    const counts = { 'tsctr images ls': 0, 'tsbolt keys': 0, 'tsbolt check': 0, 'bin/tsctr.js images ls': 0 };
    let slowest = 0;
    const failures: string[] = [];
    const timed = async (name: keyof typeof counts, fn: () => Promise<void>): Promise<void> => {
      const t0 = performance.now();
      await fn();
      const dt = performance.now() - t0;
      slowest = Math.max(slowest, dt);
      if (dt > SLOW_MS) failures.push(`${name} took ${Math.round(dt)} ms`);
      counts[name]++;
    };
    const deadline = Date.now() + DURATION_MS;
    // A second reader: the built CLI in its own process, concurrently.
    const binReader = (async () => {
      while (Date.now() < deadline && failures.length < 5) {
        await timed('bin/tsctr.js images ls', async () => {
          const r = await runBin(['--root', root, 'images', 'ls']);
          if (r.code !== 0 || r.err !== '' || (r.out !== present && r.out !== absent)) failures.push(`bin/tsctr.js: exit ${r.code}, stderr ${JSON.stringify(r.err)}, stdout ${JSON.stringify(r.out)}`);
        });
      }
    })();
    let round = 0;
    while (Date.now() < deadline && failures.length < 5) {
      const kind = round++ % 4;
      if (kind <= 1) {
        await timed('tsctr images ls', async () => {
          const out = sink();
          const err = sink();
          const code = await tsctr(['--root', root, 'images', 'ls'], { stdout: out.w, stderr: err.w }, {});
          if (code !== 0 || err.text() !== '') failures.push(`tsctr: exit ${code}, stderr ${JSON.stringify(err.text())}`);
          else if (out.text() === present) seen.present++;
          else if (out.text() === absent) seen.absent++;
          else failures.push(`tsctr printed neither state: ${JSON.stringify(out.text())}`);
        });
      } else if (kind === 2) {
        await timed('tsbolt keys', async () => {
          const out = sink();
          const code = await tsbolt(['keys', metaDB, 'v1', 'default', 'images'], { stdout: out.w, stderr: out.w });
          if (code !== 0 || (out.text() !== presentNames && out.text() !== absentNames)) failures.push(`tsbolt keys: exit ${code}: ${JSON.stringify(out.text())}`);
        });
      } else {
        await timed('tsbolt check', async () => {
          const out = sink();
          const code = await tsbolt(['check', metaDB], { stdout: out.w, stderr: out.w });
          if (code !== 0 || out.text() !== 'OK\n') failures.push(`tsbolt check: exit ${code}: ${JSON.stringify(out.text())}`);
        });
      }
      await new Promise((r) => setImmediate(r)); // let the writer's and the bin reader's I/O run
    }
    await binReader;
    stop = true;
    await writer;
    const secs = DURATION_MS / 1000;
    const rates = Object.entries(counts).map(([k, n]) => `${k}: ${n} reads (${(n / secs).toFixed(1)}/s)`);
    t.diagnostic(`${cycles} import/rm cycles by ctr; ${rates.join('; ')}; states seen present ${seen.present}, absent ${seen.absent}; slowest read ${Math.round(slowest)} ms`);
    console.log(`live: ${cycles} import/rm cycles; ${rates.join('; ')}; slowest ${Math.round(slowest)} ms`);
    assert.deepEqual(failures, []);
    assert.ok(cycles >= 5, `only ${cycles} import/rm cycles`);
    assert.ok(seen.present > 0 && seen.absent > 0, `states seen: ${JSON.stringify(seen)}`);
    assert.ok(counts['tsctr images ls'] >= 20 && counts['tsbolt check'] >= 10 && counts['bin/tsctr.js images ls'] >= 5, JSON.stringify(counts));
  } finally {
    await c.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
