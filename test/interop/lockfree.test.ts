// Read-only CLI commands never wait for a lock held by another process (containerd holds
// LOCK_EX on meta.db while it runs): they read a validated lock-free snapshot instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { open } from '../../src/bolt/index.js';
import { main as tsbolt } from '../../src/cli/tsbolt.js';
import { main as tsctr } from '../../src/cli/tsctr.js';
import { buildReference } from '../helpers/reference.js';
import { tmpdir } from '../helpers/bolt.js';

function collector() {
  let out = '';
  const w = { write: (s: string | Uint8Array) => ((out += typeof s === 'string' ? s : Buffer.from(s).toString()), true) };
  return { io: { stdout: w, stderr: w }, text: () => out };
}

test('CLI_readCommandsDoNotWaitForAnotherProcesssLock', async () => {
  const root = tmpdir('lockroot-');
  const dbPath = path.join(root, 'io.containerd.metadata.v1.bolt', 'meta.db');
  fs.mkdirSync(path.dirname(dbPath), { recursive: true });
  const db = open(dbPath);
  db.update((tx) => {
    const v1 = tx.createBucket('v1');
    v1.put('version', new Uint8Array([0x06]));
    v1.createBucket('default').createBucket('labels');
    v1.createBucket('other').createBucket('labels').put('team', 'x');
  });
  db.close();
  const before = fs.statSync(dbPath).mtimeMs;
  // A Go bbolt process takes LOCK_EX, as containerd does.
  const holder = spawn(buildReference(), ['hold', dbPath, '5000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => holder.stdout.once('data', r));
  try {
    const t0 = Date.now();
    const a = collector();
    assert.equal(await tsbolt(['buckets', dbPath], a.io), 0);
    assert.equal(a.text(), 'v1\n');
    const b = collector();
    assert.equal(await tsctr(['--root', root, 'namespaces', 'ls', '-q'], b.io), 0);
    assert.equal(b.text(), 'default\nother\n');
    assert.ok(Date.now() - t0 < 3000, 'the commands waited for the lock');
  } finally {
    holder.kill('SIGKILL');
  }
  assert.equal(fs.statSync(dbPath).mtimeMs, before);
});
