// tsctr snapshots rm / containers rm on copies of the containerd 1.6 fixture root, against what real ctr 1.6
// printed for the same commands on the same root (fixtures/ctr-rm/record.mjs -> expected.json; logrus'
// time="..." masked), and the listings after; then the backends: removed snapshots lose their snapshotter record
// and directory, the others keep theirs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTsctr } from '../helpers/tsctr.js';
import { SnapshotterDB } from '../../src/metadata/index.js';
import { lockInAnotherProcess } from '../helpers/filelock.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/containerd/root', import.meta.url));
const EXPECTED = JSON.parse(fs.readFileSync(fileURLToPath(new URL('../../fixtures/ctr-rm/expected.json', import.meta.url)), 'utf8')) as {
  steps: { argv: string[]; code: number; stdout: string; stderr: string }[];
  after: { argv: string[]; code: number; stdout: string; stderr: string }[];
};

function copyRoot(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-rm-'));
  fs.cpSync(FIXTURE, path.join(dir, 'root'), { recursive: true });
  return path.join(dir, 'root');
}

/** tsctr, with the time of each logrus line on stderr made T. */
async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runTsctr(argv);
  return { code: r.code, stdout: r.out, stderr: r.err.replace(/time="[^"]*"/g, 'time="T"') };
}

function backend(root: string, sn: string): Map<string, number> {
  const db = SnapshotterDB.open(path.join(root, `io.containerd.snapshotter.v1.${sn}`, 'metadata.db'));
  try {
    return new Map(db.list().map((s) => [s.name.split('/').slice(2).join('/') + '@' + s.name.split('/')[0], s.id]));
  } finally {
    db.close();
  }
}

test('tsctr_snapshotsRm_containersRm_printWhatCtrPrinted_andLeaveWhatCtrLeft', async () => {
  const root = copyRoot();
  const nativeBefore = backend(root, 'native');
  const overlayBefore = backend(root, 'overlayfs');
  const dirsBefore = (sn: string) => fs.readdirSync(path.join(root, `io.containerd.snapshotter.v1.${sn}`, 'snapshots')).sort();
  const dirs0 = { native: dirsBefore('native'), overlayfs: dirsBefore('overlayfs') };
  for (const s of EXPECTED.steps) {
    assert.deepEqual(await run(['--root', root, ...s.argv]), { code: s.code, stdout: s.stdout, stderr: s.stderr }, s.argv.join(' '));
  }
  for (const s of EXPECTED.after) {
    assert.deepEqual(await run(['--root', root, ...s.argv]), { code: s.code, stdout: s.stdout, stderr: s.stderr }, s.argv.join(' '));
  }
  // Backends: what ctr removed in meta.db is gone from the snapshotters too (records and directories).
  const gone = {
    native: ['native-child@default', 'native-committed@default', 'db1@default', 'sha256:25bb22744af72d9a92e2938cd879a3b1e7b7e79f3a560f5bc3cf27fd3516cf65@default'],
    overlayfs: ['overlayfs-scratch@default', 'web2@default', 'web1@default', 'app-0-main@k8s.io', 'app-0-sandbox@k8s.io'],
  };
  for (const [sn, before] of [['native', nativeBefore], ['overlayfs', overlayBefore]] as const) {
    const after = backend(root, sn);
    for (const [name, id] of before) {
      const removed = gone[sn].includes(name);
      assert.equal(after.has(name), !removed, `${sn} ${name}`);
      const dir = path.join(root, `io.containerd.snapshotter.v1.${sn}`, 'snapshots', String(id));
      if (removed) assert.ok(!fs.existsSync(dir), `${dir} removed`);
      else assert.equal(fs.existsSync(dir), dirs0[sn].includes(String(id)), `${dir} kept`);
    }
    assert.equal(after.size, before.size - gone[sn].length);
  }
  assert.ok(dirs0.native.includes(String(nativeBefore.get('db1@default'))), 'the fixture has the directory the rm removed');
});

test('tsctr_snapshotsRm_containersRm_gc_refuseWhileMetaDbIsLocked_andChangeNothing', async () => {
  const root = copyRoot();
  const db = path.join(root, 'io.containerd.metadata.v1.bolt', 'meta.db');
  const before = fs.readFileSync(db);
  const lock = await lockInAnotherProcess(db);
  try {
    for (const argv of [['snapshots', 'rm', 'web1'], ['containers', 'rm', 'web1'], ['gc']]) {
      const r = await run(['--root', root, '-n', 'default', ...argv]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /is locked by another process \(is containerd running on this root\?\)/);
    }
    assert.deepEqual(fs.readFileSync(db), before);
    // gc --dry-run and gc why read through the lock.
    assert.equal((await run(['--root', root, 'gc', '--dry-run'])).code, 0);
    assert.equal((await run(['--root', root, 'gc', 'why', 'overlayfs/web1'])).stdout, 'container default/web1: root (container)\nsnapshot default/overlayfs/web1: container snapshotKey\n');
  } finally {
    await lock.release();
  }
});

test('tsctr_gc_refusesWhileASnapshotterDbIsLocked_beforeWritingMetaDb', async () => {
  const root = copyRoot();
  const meta = path.join(root, 'io.containerd.metadata.v1.bolt', 'meta.db');
  const sdb = path.join(root, 'io.containerd.snapshotter.v1.overlayfs', 'metadata.db');
  const before = fs.readFileSync(meta);
  const lock = await lockInAnotherProcess(sdb);
  try {
    const r = await run(['--root', root, 'gc']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /io\.containerd\.snapshotter\.v1\.overlayfs\/metadata\.db is locked by another process/);
    assert.deepEqual(fs.readFileSync(meta), before);
  } finally {
    await lock.release();
  }
});
