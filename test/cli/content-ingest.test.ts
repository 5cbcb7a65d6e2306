// tsctr content ingest on a stopped root (a copy of the containerd fixture): the blob lands in
// the content store and its record in the namespace, nothing is written while meta.db is
// locked or when the bytes are wrong, and the progress bar draws only on a TTY.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { runTsctr, type TsctrRun } from '../helpers/tsctr.js';
import { progressBar, renderProgress } from '../../src/cli/format/progress.js';
import { digestOf } from '../../src/content/index.js';
import { fileTree } from '../helpers/fstree.js';
import { lockInAnotherProcess } from '../helpers/filelock.js';

const FIXTURE_ROOT = 'fixtures/containerd/root';

function copyRoot(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-ingest-'));
  fs.cpSync(FIXTURE_ROOT, path.join(dir, 'root'), { recursive: true });
  return path.join(dir, 'root');
}

function run(argv: string[], stdin?: Buffer, tty = false): Promise<TsctrRun> {
  return runTsctr(argv, { ...(stdin ? { stdin: Readable.from([stdin.subarray(0, 70_000), stdin.subarray(70_000)]) } : {}), isTTY: tty });
}

test('tsctr_contentIngest_blobAndRecordInTheNamespace', async () => {
  const root = copyRoot();
  const data = randomBytes(150_000);
  const d = digestOf(data);
  const r = await run(['--root', root, '-n', 'tools', 'content', 'ingest', '--expected-size', String(data.length), '--expected-digest', d, 'my-upload'], data);
  assert.deepEqual(r, { code: 0, out: '', err: '' }, 'no progress bar when stderr is not a TTY');
  assert.ok(fs.readFileSync(path.join(root, 'io.containerd.content.v1.content', 'blobs', 'sha256', d.slice(7))).equals(data));
  const ls = await run(['--root', root, '-n', 'tools', 'content', 'ls', '-q']);
  assert.ok(ls.out.split('\n').includes(d));
  const other = await run(['--root', root, '-n', 'default', 'content', 'ls', '-q']);
  assert.ok(!other.out.split('\n').includes(d), 'the record is in the namespace that ingested it only');
  // Again into another namespace: the blob exists; only the record is added.
  assert.equal((await run(['--root', root, '-n', 'k8s.io', 'content', 'ingest', 'again'], data)).code, 0);
  assert.ok((await run(['--root', root, '-n', 'k8s.io', 'content', 'ls', '-q'])).out.split('\n').includes(d));
  const active = await run(['--root', root, 'content', 'active']);
  assert.ok(!active.out.includes('my-upload'), 'the ingest is gone after commit');
});

test('tsctr_contentIngest_wrongBytes_failsAndAddsNoRecord', async () => {
  const root = copyRoot();
  const data = randomBytes(1000);
  const r = await run(['--root', root, 'content', 'ingest', '--expected-digest', digestOf('something else'), 'bad'], data);
  assert.equal(r.code, 1);
  assert.match(r.err, /^ctr: .*digest/);
  const ls = await run(['--root', root, 'content', 'ls', '-q']);
  assert.ok(!ls.out.includes(digestOf(data)));
  const bad = await run(['--root', root, 'content', 'ingest', '--expected-digest', 'sha256:../../etc/passwd', 'x'], data);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^ctr: .*invalid checksum digest/);
  assert.equal((await run(['--root', root, 'content', 'ingest'], data)).err, 'ctr: must specify a transaction reference\n');
});

test('tsctr_contentIngest_refusesWhileMetaDbIsLocked_andChangesNothing', async () => {
  const root = copyRoot();
  const meta = path.join(root, 'io.containerd.metadata.v1.bolt', 'meta.db');
  const lock = await lockInAnotherProcess(meta);
  try {
    const before = fileTree(root);
    const t0 = Date.now();
    const r = await run(['--root', root, 'content', 'ingest', 'blocked'], Buffer.from('data'));
    assert.equal(r.code, 1);
    assert.match(r.err, /is locked by another process \(is containerd running on this root\?\)/);
    assert.ok(Date.now() - t0 < 10_000, 'no hang');
    assert.deepEqual(fileTree(root), before);
  } finally {
    await lock.release();
  }
});

test('progressBar_drawsOnlyOnATty_andEndsTheLine', () => {
  let t = 0;
  let text = '';
  const bar = progressBar({ write: (s: string) => (text += s), isTTY: true }, { label: 'ref', width: 10, intervalMs: 100, now: () => t });
  bar(0, 2048);
  t = 50;
  bar(1024, 2048); // within the interval: not drawn
  t = 200;
  bar(1024, 2048);
  t = 210;
  bar(2048, 2048); // the final state is always drawn
  bar.done();
  assert.equal(
    text,
    '\rref [          ] 0.0 B/2.0 KiB 0%\x1b[K' + '\rref [=====     ] 1.0 KiB/2.0 KiB 50%\x1b[K' + '\rref [==========] 2.0 KiB/2.0 KiB 100%\x1b[K' + '\n',
  );
  let piped = '';
  const quiet = progressBar({ write: (s: string) => (piped += s), isTTY: false });
  quiet(5, 10);
  quiet.done();
  assert.equal(piped, '');
  assert.equal(renderProgress(41574, undefined), '40.6 KiB');
});
