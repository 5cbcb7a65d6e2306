// tsctr --salvage: on a copy of the real containerd 1.6 root whose meta.db has one zeroed leaf page
// (30 of k8s.io's image records), the plain listing fails with the engine's error and a hint; with
// --salvage every listing prints what ctr 1.6 printed (recorded, fixtures/containerd/expected) minus
// exactly the records that lived on the zeroed page, stderr says the output is salvaged, the evidence
// is not changed and nothing is left in the temporary directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { open } from '../../src/bolt/index.js';
import { branchAllTo } from '../helpers/bolt.js';
import { runTsctr } from '../helpers/tsctr.js';
import { fileTree } from '../helpers/fstree.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/containerd', import.meta.url));
const META = path.join('io.containerd.metadata.v1.bolt', 'meta.db');

let tmp = '';
let root = '';
/** The TMPDIR tsctr sees during these tests: private, so other test files' temporary files cannot race with the leftover check. */
let privateTmp = '';
const savedTmpdir = process.env.TMPDIR;
/** Image names whose records were on the zeroed page. */
let lost: string[] = [];
let zeroed = 0;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-salvage-test-'));
  root = path.join(tmp, 'root');
  privateTmp = path.join(tmp, 'tmpdir');
  fs.mkdirSync(privateTmp);
  process.env.TMPDIR = privateTmp;
  fs.cpSync(path.join(FIXTURE, 'root'), root, { recursive: true });
  // A leaf page of v1/k8s.io/images in the middle of the bucket.
  const db = open(path.join(root, META), { readOnly: true });
  try {
    db.view((tx) => {
      const leaves: { id: number; keys: string[] }[] = [];
      tx.bucket('v1')!.bucket('k8s.io')!.bucket('images')!.forEachPage((p) => {
        if (!p.isLeaf) return;
        const keys: string[] = [];
        for (let i = 0; i < p.count; i++) keys.push(Buffer.from(p.leafKey(i)).toString());
        leaves.push({ id: p.id, keys });
      });
      assert.ok(leaves.length >= 3);
      const mid = leaves[Math.floor(leaves.length / 2)]!;
      zeroed = mid.id;
      lost = mid.keys;
    });
  } finally {
    db.close();
  }
  const fd = fs.openSync(path.join(root, META), 'r+');
  fs.writeSync(fd, new Uint8Array(4096), 0, 4096, zeroed * 4096);
  fs.closeSync(fd);
});
after(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  fs.rmSync(tmp, { recursive: true, force: true });
});

const recorded = (ns: string, file: string): string => fs.readFileSync(path.join(FIXTURE, 'expected', ns, file), 'utf8');
const leftovers = (): string[] => {
  assert.equal(os.tmpdir(), privateTmp);
  return fs.readdirSync(privateTmp);
};

test('Salvage_zeroedLeafPage_plainReadFailsWithAHint', async () => {
  const r = await runTsctr(['--root', root, '-n', 'k8s.io', 'images', 'ls', '-q']);
  assert.equal(r.code, 1);
  assert.equal(r.err, `ctr: invalid page type: ${zeroed}: 0\nctr: a database of the root is damaged; --salvage lists what meta.db still holds\n`);
});

test('Salvage_zeroedLeafPage_listsCtrsRecordedOutputMinusTheLostRecords', async () => {
  assert.equal(lost.length, 30);
  const before = fileTree(root);
  assert.deepEqual(leftovers(), []);
  const q = await runTsctr(['--root', root, '--salvage', '-n', 'k8s.io', 'images', 'ls', '-q']);
  assert.equal(q.code, 0);
  const want = recorded('k8s.io', 'images-ls-q.txt')
    .split('\n')
    .filter((l) => l !== '' && !lost.includes(l));
  assert.equal(want.length, 263 - 30);
  assert.deepEqual(q.out.split('\n').filter(Boolean), want);
  assert.match(q.err, /^ctr: warning: SALVAGED output: .*meta\.db read through salvage \(scan: the tree of meta page \d \(txid \d+\)\); \d+ keys in \d+ buckets recovered, 1 page unreadable; 30 leaf pages found by the scan could not be placed and are not shown/);
  assert.equal(q.err.split('\n').length, 2);
  // The table: ctr's rows without the lost images' rows.
  const t = await runTsctr(['--root', root, '--salvage', '-n', 'k8s.io', 'images', 'ls']);
  assert.equal(
    t.out,
    recorded('k8s.io', 'images-ls.txt')
      .split('\n')
      .filter((l) => !lost.includes(l.split(' ')[0]!))
      .join('\n'),
  );
  // Other namespaces are whole: byte for byte what ctr printed.
  for (const [ns, args, file] of [
    ['default', ['images', 'ls'], 'images-ls.txt'],
    ['default', ['containers', 'ls'], 'containers-ls.txt'],
    ['tools', ['images', 'ls'], 'images-ls.txt'],
    ['k8s.io', ['containers', 'ls'], 'containers-ls.txt'],
    ['default', ['snapshots', '--snapshotter', 'overlayfs', 'ls'], 'snapshots-snapshotter-overlayfs-ls.txt'],
    ['default', ['leases', 'ls', '-q'], 'leases-ls-q.txt'],
    ['default', ['namespaces', 'ls'], 'namespaces-ls.txt'],
  ] as const) {
    const r = await runTsctr(['--root', root, '--salvage', '-n', ns, ...args]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, recorded(ns, file), `${ns} ${args.join(' ')}`);
    assert.match(r.err, /^ctr: warning: SALVAGED output: /);
  }
  assert.deepEqual(fileTree(root), before, 'salvage changed the evidence');
  assert.deepEqual(leftovers(), [], 'a salvage file was left behind');
});

test('Salvage_intactRoot_sameOutputAsCtrAndSaysSo', async () => {
  const r = await runTsctr(['--root', path.join(FIXTURE, 'root'), '--salvage', '-n', 'k8s.io', 'images', 'ls']);
  assert.equal(r.out, recorded('k8s.io', 'images-ls.txt'));
  assert.match(r.err, /^ctr: warning: SALVAGED output: .*\(newest-meta: the tree of meta page \d \(txid \d+\)\); \d+ keys in \d+ buckets recovered, no page unreadable\n$/);
});

test('Salvage_writeCommand_refused', async () => {
  const before = fileTree(root);
  const r = await runTsctr(['--root', root, '--salvage', '-n', 'default', 'images', 'rm', 'docker.io/library/alpha:1.0']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--salvage only reads: images rm is not a listing/);
  assert.deepEqual(fileTree(root), before);
});

test('Salvage_recordsThatDoNotDecode_areLeftOutAndNamed_theRestListsAsCtr', async () => {
  // Value-level damage: every page is intact, but one image's createdat and one container's
  // updatedat do not decode. Plainly the listing fails as ctr's does; with --salvage the other
  // records list as ctr printed them (recorded) and each record left out is named on stderr.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-salvage-records-'));
  const r2 = path.join(dir, 'root');
  fs.cpSync(path.join(FIXTURE, 'root'), r2, { recursive: true });
  const db = open(path.join(r2, META));
  db.update((tx) => {
    const ns = tx.bucket('v1')!.bucket('default')!;
    ns.bucket('images')!.bucket('docker.io/library/alpha:1.0')!.put('createdat', new Uint8Array([0xff, 1]));
    ns.bucket('containers')!.bucket('web1')!.put('updatedat', new Uint8Array([1, 2, 3]));
  });
  db.close();
  const plain = await runTsctr(['--root', r2, '-n', 'default', 'images', 'ls', '-q']);
  assert.equal(plain.code, 1);
  assert.equal(plain.err, 'ctr: failed to list images: Time.UnmarshalBinary: unsupported version: unknown\n');
  const images = await runTsctr(['--root', r2, '--salvage', '-n', 'default', 'images', 'ls', '-q']);
  assert.equal(images.code, 0, images.err);
  assert.equal(images.out, recorded('default', 'images-ls-q.txt').replace('docker.io/library/alpha:1.0\n', ''));
  assert.match(images.err, /^ctr: warning: SALVAGED output: .*, no page unreadable\nctr: warning: image default\/docker\.io\/library\/alpha:1\.0 is left out: Time\.UnmarshalBinary: unsupported version\n$/);
  const containers = await runTsctr(['--root', r2, '--salvage', '-n', 'default', 'containers', 'ls', '-q']);
  assert.equal(containers.code, 0, containers.err);
  assert.equal(containers.out, recorded('default', 'containers-ls-q.txt').replace('web1\n', ''));
  assert.match(containers.err, /\nctr: warning: container default\/web1 is left out: failed to read container "web1": Time\.UnmarshalBinary: invalid length\n$/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('Salvage_imagesBranchPagesShareALeaf_listingEndsWithTheEngineError_salvageListsEachRecordOnce', () => {
  // k8s.io's image bucket: every element of its root branch page points at leaf A, A is made a
  // branch of 200 elements pointing at leaf B, B one of 200 pointing at leaf C. A listing that
  // follows every path (ctr's, through Go's cursor) reads C's records hundreds of thousands of
  // times over; ours ends with the cursor's error once it has entered more leaves than the file
  // has pages. With --salvage each page is read once, and each record listed once.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-shared-leaf-'));
  const r2 = path.join(dir, 'root');
  fs.cpSync(path.join(FIXTURE, 'root'), r2, { recursive: true });
  const file = path.join(r2, META);
  const { imagesRoot, leaves, pageSize, pages, kept } = (() => {
    const db = open(file, { readOnly: true });
    try {
      return db.view((tx) => {
        const p = tx.page(tx.bucket('v1')!.bucket('k8s.io')!.bucket('images')!.root);
        assert.ok(p.isBranch && p.count >= 3);
        const leaves = Array.from({ length: p.count }, (_, i) => p.branchPgid(i));
        const c = tx.page(leaves[2]!);
        const kept = Array.from({ length: c.count }, (_, i) => Buffer.from(c.leafKey(i)).toString());
        return { imagesRoot: p.id, leaves, pageSize: tx.db.pageSize, pages: tx.meta.pgid, kept };
      });
    } finally {
      db.close();
    }
  })();
  const [a, b, c] = leaves as [number, number, number];
  const bytes = fs.readFileSync(file);
  for (let i = 0; i < leaves.length; i++) bytes.writeBigUInt64LE(BigInt(a), imagesRoot * pageSize + 16 + i * 16 + 8);
  branchAllTo(bytes, pageSize, a, b, 200);
  branchAllTo(bytes, pageSize, b, c, 200);
  fs.writeFileSync(file, bytes);
  const before = fileTree(r2);

  // In a process of its own, so that a regression fails instead of hanging the suite.
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const ls = (args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "import { main } from './src/cli/tsctr.js'; process.exitCode = await main(process.argv.slice(1));", '--', '--root', r2, '-n', 'k8s.io', ...args], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, TMPDIR: privateTmp },
    });
    assert.equal(r.signal, null, `tsctr ${args.join(' ')} did not end within 60 s`);
    return r;
  };
  const plain = ls(['images', 'ls', '-q']);
  assert.equal(plain.status, 1, plain.stderr);
  assert.equal(
    plain.stderr,
    `ctr: page ${c}: a cursor pass entered more leaf pages than the file has pages (${pages}): branch pages share children\nctr: a database of the root is damaged; --salvage lists what meta.db still holds\n`,
  );
  const salvaged = ls(['--salvage', 'images', 'ls', '-q']);
  assert.equal(salvaged.status, 0, salvaged.stderr);
  assert.match(salvaged.stderr, /^ctr: warning: SALVAGED output: /);
  // C's records and what else the scan of the file placed (older copies of the pages A and B
  // were), each once, and each one ctr listed.
  const listed = salvaged.stdout.split('\n').filter(Boolean);
  assert.equal(new Set(listed).size, listed.length, 'an image listed twice');
  for (const name of kept) assert.ok(listed.includes(name), `${name} is not listed`);
  const ctr = recorded('k8s.io', 'images-ls-q.txt').split('\n');
  for (const name of listed) assert.ok(ctr.includes(name), `${name} is not one ctr listed`);
  assert.deepEqual(fileTree(r2), before, 'the evidence changed');
  fs.rmSync(dir, { recursive: true, force: true });
});
