// tsctr doctor on the real containerd 1.6 fixture root and on copies damaged one way each: every
// damage is reported exactly (code and message), nothing else changes, and doctor writes nothing.
//
// The fixture root is not clean: it has two genuine findings, both made by containerd 1.6 itself.
// Its GC (metadata/gc.go remove) deletes a collected snapshot's bucket without unlinking it from
// its parent's children/ (metadata/snapshot.go Remove does unlink), so in namespace `tools` the
// native layer sha256:9dd370... still lists beta's collected layer sha256:25bb22... and sha256:a07799...
// lists the collected view `tools-view` (make.sh: `images rm --sync` of beta after `snapshots view
// tools-view`). containerd's own Remove refuses a parent with children, so these links matter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { open } from '../../src/bolt/index.js';
import { runTsctr } from '../helpers/tsctr.js';
import { fileTree } from '../helpers/fstree.js';

const ROOT = fileURLToPath(new URL('../../fixtures/containerd/root', import.meta.url));
const CONTENT = 'io.containerd.content.v1.content';
const META = path.join('io.containerd.metadata.v1.bolt', 'meta.db');

const GENUINE = [
  'snapshot-child-missing: native snapshot "sha256:9dd370f7c516f79e1ec6cd72181e04d990c2cc9a2a79616a04883ff140aa1db3" of namespace tools lists child "sha256:25bb22744af72d9a92e2938cd879a3b1e7b7e79f3a560f5bc3cf27fd3516cf65", which does not exist',
  'snapshot-child-missing: native snapshot "sha256:a07799132f50652ff7495cbd9e98aa56b5aeed239c0566d58b254649e43f329e" of namespace tools lists child "tools-view", which does not exist',
];

let tmp = '';
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-doctor-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function findings(root: string, ...flags: string[]): Promise<string[]> {
  const r = await runTsctr(['--root', root, 'doctor', ...flags]);
  assert.equal(r.err, '');
  const lines = r.out.trim().split('\n');
  if (lines[0] === 'OK') {
    assert.equal(r.code, 0);
    return [];
  }
  assert.equal(r.code, 1);
  assert.equal(lines.pop(), `${lines.length} problem${lines.length === 1 ? '' : 's'} found`);
  return lines;
}

let copies = 0;
function copyRoot(): string {
  const dst = path.join(tmp, `root-${copies++}`);
  fs.cpSync(ROOT, dst, { recursive: true });
  return dst;
}

/** What doctor reports on a damaged copy beyond the fixture's own findings. */
async function added(root: string, ...flags: string[]): Promise<string[]> {
  const got = await findings(root, ...flags);
  for (const g of GENUINE) assert.ok(got.includes(g), `lost genuine finding: ${g}`);
  return got.filter((f) => !GENUINE.includes(f));
}

function rw(file: string, fn: (tx: import('../../src/bolt/index.js').Tx) => void): void {
  const db = open(file);
  try {
    db.update(fn);
  } finally {
    db.close();
  }
}

function blobRecordedBy(root: string, digest: string): string[] {
  const db = open(path.join(root, META), { readOnly: true });
  try {
    return db.view((tx) => {
      const out: string[] = [];
      tx.bucket('v1')!.forEachBucket((ns) => {
        if (tx.bucket('v1')!.bucket(ns)!.bucket('content')?.bucket('blob')?.bucket(digest)) out.push(Buffer.from(ns).toString());
      });
      return out;
    });
  } finally {
    db.close();
  }
}

test('Doctor_fixtureRoot_reportsContainerdsOwnDanglingChildLinksOnlyAndChangesNothing', async () => {
  const before = fileTree(ROOT);
  assert.deepEqual(await findings(ROOT), GENUINE);
  assert.deepEqual(await findings(ROOT, '--verify'), GENUINE); // every blob hashes to its name
  const j = await runTsctr(['--root', ROOT, 'doctor', '--json']);
  const report = JSON.parse(j.out) as { ok: boolean; checked: Record<string, number>; findings: { code: string }[] };
  assert.equal(report.ok, false);
  assert.equal(report.checked.blobFiles, 20);
  assert.equal(report.findings.length, 2);
  assert.deepEqual(fileTree(ROOT), before);
});

test('Doctor_missingBlobFile_reportedOncePerNamespaceRecordingIt', async () => {
  const root = copyRoot();
  const hex = '2e2f6916cf6a0164160344107cb020ad3a053e542f607fda0af11ccf28fa1c74';
  const rel = path.join(CONTENT, 'blobs', 'sha256', hex);
  fs.rmSync(path.join(root, rel));
  const nss = blobRecordedBy(root, `sha256:${hex}`);
  assert.ok(nss.length >= 1);
  assert.deepEqual(
    await added(root),
    nss.map((ns) => `blob-file-missing: namespace ${ns} records blob sha256:${hex} but ${rel} does not exist`),
  );
});

test('Doctor_strayBlobFile_reportedAsUnreferenced', async () => {
  const root = copyRoot();
  const data = Buffer.from('nobody records me\n');
  const hex = createHash('sha256').update(data).digest('hex');
  fs.writeFileSync(path.join(root, CONTENT, 'blobs', 'sha256', hex), data);
  assert.deepEqual(await added(root), [`blob-file-unreferenced: ${path.join(CONTENT, 'blobs', 'sha256', hex)} is recorded by no namespace`]);
  assert.deepEqual(await added(root, '--verify'), [`blob-file-unreferenced: ${path.join(CONTENT, 'blobs', 'sha256', hex)} is recorded by no namespace`]);
});

test('Doctor_changedBlobBytes_verifyReportsTheDigestTheyHashTo', async () => {
  const root = copyRoot();
  const hex = '280c4f0c4cceba06cd273122712ab1e1d4c3b3cb7339d41947fbee6d0a3575ac';
  const rel = path.join(CONTENT, 'blobs', 'sha256', hex);
  const file = path.join(root, rel);
  fs.chmodSync(file, 0o644);
  const bytes = fs.readFileSync(file);
  bytes[10] = bytes[10]! ^ 0x01; // same size, other bytes
  fs.writeFileSync(file, bytes);
  assert.deepEqual(await added(root), []); // sizes agree: only --verify can tell
  assert.deepEqual(await added(root, '--verify'), [`blob-digest-mismatch: ${rel} hashes to sha256:${createHash('sha256').update(bytes).digest('hex')}`]);
  // Truncated: the size no longer matches the records.
  fs.truncateSync(file, 100);
  const nss = blobRecordedBy(root, `sha256:${hex}`);
  assert.deepEqual(
    await added(root),
    nss.map((ns) => `blob-size-mismatch: namespace ${ns} records blob sha256:${hex} with ${bytes.length} bytes, ${rel} has 100`),
  );
});

test('Doctor_backendSnapshotGone_reportsTheRecordItsDirectoryAndItsChildren', async () => {
  const root = copyRoot();
  // overlayfs-committed (default) has one child, overlayfs-child; drop it from the snapshotter's database.
  const sdb = path.join(root, 'io.containerd.snapshotter.v1.overlayfs', 'metadata.db');
  let name = '';
  let id = 0;
  rw(sdb, (tx) => {
    const snaps = tx.bucket('v1')!.bucket('snapshots')!;
    snaps.forEachBucket((k) => {
      if (Buffer.from(k).toString().endsWith('/overlayfs-committed')) name = Buffer.from(k).toString();
    });
    id = snaps.bucket(name)!.get('id')![0]!;
    snaps.deleteBucket(name);
  });
  assert.ok(name !== '');
  const child = (await runTsctr(['--root', ROOT, '-n', 'default', 'snapshots', 'which', 'overlayfs-child'])).out.trim();
  const childBackend = /^backend: +(.*)$/m.exec((await runTsctr(['--root', ROOT, 'snapshots', 'which', child])).out)![1]!;
  const dir = path.join('io.containerd.snapshotter.v1.overlayfs', 'snapshots', String(id));
  fs.mkdirSync(path.join(root, dir, 'fs'), { recursive: true }); // git keeps no empty directory: make sure it is there
  const want = [
    `snapshot-backend-missing: overlayfs snapshot "overlayfs-committed" of namespace default names backend snapshot "${name}", which overlayfs's metadata.db does not have`,
    `backend-parent-missing: overlayfs snapshot "${childBackend}" has parent "${name}", which overlayfs's metadata.db does not have`,
    `snapshot-dir-unknown: ${dir} belongs to no snapshot in overlayfs's metadata.db`,
  ];
  assert.deepEqual((await added(root)).sort(), want.sort());
});

test('Doctor_metaSnapshotRecordGone_backendReportedUnreferenced_childLinkDangling', async () => {
  const root = copyRoot();
  const scratch = JSON.parse((await runTsctr(['--root', ROOT, '-n', 'default', 'snapshots', 'which', '--json', 'overlayfs-scratch'])).out) as { backend: string; id: number };
  rw(path.join(root, META), (tx) => {
    const sn = tx.bucket('v1')!.bucket('default')!.bucket('snapshots')!.bucket('overlayfs')!;
    sn.deleteBucket('overlayfs-scratch');
    // and a children link to a snapshot that never existed
    sn.bucket('overlayfs-active')!.createBucketIfNotExists('children').put('no-such-child', new Uint8Array(0));
  });
  assert.deepEqual((await added(root)).sort(), [
    `backend-snapshot-unreferenced: overlayfs snapshot "${scratch.backend}" (id ${scratch.id}) is referenced by no namespace`,
    'snapshot-child-missing: overlayfs snapshot "overlayfs-active" of namespace default lists child "no-such-child", which does not exist',
  ].sort());
});

test('Doctor_unknownSnapshotDirectoryAndMissingIngestDirectory_reported', async () => {
  const root = copyRoot();
  fs.mkdirSync(path.join(root, 'io.containerd.snapshotter.v1.native', 'snapshots', '999'));
  const ingests = fs.readdirSync(path.join(root, CONTENT, 'ingest')).sort();
  const gone = ingests[0]!;
  const ref = fs.readFileSync(path.join(root, CONTENT, 'ingest', gone, 'ref'), 'utf8');
  fs.rmSync(path.join(root, CONTENT, 'ingest', gone), { recursive: true });
  const [ns, , clientRef] = ref.split(/\/(\d+)\//) as [string, string, string];
  assert.deepEqual((await added(root)).sort(), [
    `ingest-dir-missing: namespace ${ns} records ingest ${JSON.stringify(clientRef)} but ${path.join(CONTENT, 'ingest', gone)} does not exist`,
    `snapshot-dir-unknown: ${path.join('io.containerd.snapshotter.v1.native', 'snapshots', '999')} belongs to no snapshot in native's metadata.db`,
  ].sort());
});

test('Doctor_snapshotterDatabaseGone_reportsEveryNamespaceUsingIt', async () => {
  const root = copyRoot();
  fs.rmSync(path.join(root, 'io.containerd.snapshotter.v1.native', 'metadata.db'));
  const got = await findings(root);
  const missing = got.filter((f) => f.startsWith('snapshotter-missing:'));
  assert.deepEqual(
    missing.map((f) => /namespace (\S+)/.exec(f)![1]).sort(),
    ['default', 'k8s.io', 'tools'].filter((ns) => fs.readFileSync(path.join(ROOT, '..', 'expected', ns, 'snapshots-snapshotter-native-ls.txt'), 'utf8').trim().split('\n').length > 1),
  );
  // the genuine findings were about native records: without its database they are not examined
  assert.ok(!got.some((f) => f.startsWith('snapshot-child-missing: native')));
});
