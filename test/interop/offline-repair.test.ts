// tsctr's repair commands on a root a real containerd 1.6 made and then stopped: containerd starts on the
// repaired root, lists what we left, runs its own deletes and a synchronous garbage collection (which
// keeps the blob we labelled gc.root) without an error in its log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { digestOf } from '../../src/content/index.js';
import { containerdLogErrors, startContainerd } from '../helpers/containerd.js';
import { runTsctr } from '../helpers/tsctr.js';
import { ociTarball } from '../helpers/oci.js';

test('Interop_containerdStartsOnARepairedRoot_listsOurChanges_andCollectsGarbage', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-repair-interop-'));
  const keep = Buffer.from('kept blob\n');
  const drop = Buffer.from('dropped blob\n');
  const K = digestOf(keep);
  const X = digestOf(drop);
  let c = await startContainerd(dir);
  try {
    for (const id of ['l1', 'l2']) assert.equal((await c.ctr(['-n', 'a', 'leases', 'create', '--id', id])).code, 0);
    assert.equal((await c.ctr(['namespaces', 'create', 'b', 'x=1'])).code, 0);
    assert.equal((await c.ctr(['namespaces', 'create', 'c'])).code, 0);
  } finally {
    await c.stop();
  }
  const root = c.root;
  const blobFile = (d: string) => path.join(root, 'io.containerd.content.v1.content', 'blobs', 'sha256', d.slice(7));
  // Blobs ctr ingests lose their temporary lease at once, so containerd's GC may take them before it
  // stops: we ingest ours offline (tsctr content ingest), then protect one with a label.
  for (const [ref, data] of [['k', keep], ['x', drop]] as const) {
    const r = await runTsctr(['--root', root, '-n', 'a', 'content', 'ingest', ref], { stdin: (async function* () { yield data; })() });
    assert.equal(r.code, 0, r.err);
  }
  assert.deepEqual(await runTsctr(['--root', root, '-n', 'a', 'content', 'label', K, 'role=kept', 'containerd.io/gc.root=1']), { code: 0, out: 'containerd.io/gc.root=1,role=kept\n', err: '' });
  assert.deepEqual(await runTsctr(['--root', root, '-n', 'a', 'content', 'rm', X]), { code: 0, out: X + '\n', err: '' });
  assert.deepEqual(await runTsctr(['--root', root, '-n', 'a', 'leases', 'rm', 'l1']), { code: 0, out: 'l1\n', err: '' });
  assert.deepEqual(await runTsctr(['--root', root, 'namespaces', 'label', 'b', 'y=2', 'x=']), { code: 0, out: '', err: '' });
  assert.deepEqual(await runTsctr(['--root', root, 'namespaces', 'rm', 'c']), { code: 0, out: 'c\n', err: '' });
  assert.deepEqual(await runTsctr(['--root', root, 'namespaces', 'create', 'd', 'z=3']), { code: 0, out: '', err: '' });
  assert.ok(!fs.existsSync(blobFile(X)), 'content rm removes the file no namespace holds, as containerd GC does right after');
  assert.ok(fs.existsSync(blobFile(K)));

  c = await startContainerd(dir);
  try {
    const ns = await c.ctr(['namespaces', 'ls']);
    assert.equal(ns.stdout, 'NAME LABELS \na           \nb    y=2    \nd    z=3    \n', ns.stderr);
    assert.equal((await c.ctr(['-n', 'a', 'leases', 'ls', '-q'])).stdout, 'l2\n');
    const content = await c.ctr(['-n', 'a', 'content', 'ls']);
    assert.deepEqual(content.stdout.trim().split('\n').slice(1).map((l) => [l.split('\t')[0], l.split('\t').at(-1)!.split(',').sort().join(',')]), [[K, 'containerd.io/gc.root=1,role=kept']]);
    // containerd's own deletes, then a synchronous GC (lease delete --sync), on what we wrote.
    assert.deepEqual(await c.ctr(['-n', 'a', 'leases', 'rm', '--sync', 'l2']), { code: 0, stdout: 'l2\n', stderr: '' });
    assert.ok(fs.existsSync(blobFile(K)), 'the gc.root label tsctr set keeps the blob');
    assert.deepEqual(await c.ctr(['-n', 'a', 'content', 'rm', K]), { code: 0, stdout: K + '\n', stderr: '' });
    assert.deepEqual(await c.ctr(['namespaces', 'rm', 'a', 'b', 'd']), { code: 0, stdout: 'a\nb\nd\n', stderr: '' });
  } finally {
    await c.stop();
  }
  assert.deepEqual(containerdLogErrors(dir), []);
});

// ---- images: a root real ctr imported an image into, then repaired offline ----------------------

test('Interop_containerdStartsAfterOfflineImagesRmAndLabel_andCollectsTheImagesBlobs', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-repair-images-'));
  const tarball = path.join(dir, 'img.tar');
  fs.writeFileSync(tarball, ociTarball(['example.com/t:1'], undefined, { 'org.opencontainers.image.ref.name': '1' }));
  let c = await startContainerd(dir);
  try {
    const r = await c.ctr(['images', 'import', '--no-unpack', tarball]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await c.ctr(['images', 'tag', 'example.com/t:1', 'example.com/t:2'])).code, 0);
  } finally {
    await c.stop();
  }
  const root = c.root;
  const blobs = () => fs.readdirSync(path.join(root, 'io.containerd.content.v1.content', 'blobs', 'sha256')).length;
  assert.equal(blobs(), 4, 'config, layer, manifest, and the index.json ctr import stores');
  assert.deepEqual(await runTsctr(['--root', root, 'images', 'label', 'example.com/t:2', 'a=b']), { code: 0, out: 'a=b\n', err: '' });
  assert.deepEqual(await runTsctr(['--root', root, 'images', 'rm', 'example.com/t:1']), { code: 0, out: 'example.com/t:1\n', err: '' });

  c = await startContainerd(dir);
  try {
    const ls = await c.ctr(['images', 'ls']);
    assert.deepEqual(ls.stdout.trim().split('\n').slice(1).map((l) => [l.split(/\s+/)[0], l.split(/\s+/).at(-1)]), [['example.com/t:2', 'a=b']]);
    // containerd's own delete with a synchronous GC takes the last image and every blob.
    assert.deepEqual(await c.ctr(['images', 'rm', '--sync', 'example.com/t:2']), { code: 0, stdout: 'example.com/t:2\n', stderr: '' });
    assert.equal(blobs(), 0);
    assert.equal((await c.ctr(['content', 'ls', '-q'])).stdout, '');
  } finally {
    await c.stop();
  }
  assert.deepEqual(containerdLogErrors(dir), []);
});
