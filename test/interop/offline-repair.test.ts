// tsctr's repair commands on a root a real containerd 1.6 made and then stopped: containerd starts on the
// repaired root, lists what we left, runs its own deletes and a synchronous garbage collection (which
// keeps the blob we labelled gc.root) without an error in its log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { main } from '../../src/cli/tsctr.js';
import { digestOf } from '../../src/content/index.js';
import { startContainerd } from '../helpers/containerd.js';

async function tsctr(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } }, {});
  return { code, out, err };
}

function logErrors(dir: string): string[] {
  return fs
    .readFileSync(path.join(dir, 'containerd.log'), 'utf8')
    .split('\n')
    .filter((l) => /level=(error|fatal|panic)/.test(l));
}

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
    let err = '';
    const code = await main(['--root', root, '-n', 'a', 'content', 'ingest', ref], { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, stdin: (async function* () { yield data; })() }, {});
    assert.equal(code, 0, err);
  }
  assert.deepEqual(await tsctr(['--root', root, '-n', 'a', 'content', 'label', K, 'role=kept', 'containerd.io/gc.root=1']), { code: 0, out: 'containerd.io/gc.root=1,role=kept\n', err: '' });
  assert.deepEqual(await tsctr(['--root', root, '-n', 'a', 'content', 'rm', X]), { code: 0, out: X + '\n', err: '' });
  assert.deepEqual(await tsctr(['--root', root, '-n', 'a', 'leases', 'rm', 'l1']), { code: 0, out: 'l1\n', err: '' });
  assert.deepEqual(await tsctr(['--root', root, 'namespaces', 'label', 'b', 'y=2', 'x=']), { code: 0, out: '', err: '' });
  assert.deepEqual(await tsctr(['--root', root, 'namespaces', 'rm', 'c']), { code: 0, out: 'c\n', err: '' });
  assert.deepEqual(await tsctr(['--root', root, 'namespaces', 'create', 'd', 'z=3']), { code: 0, out: '', err: '' });
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
  assert.deepEqual(logErrors(dir), []);
});

// ---- images: a root real ctr imported an image into, then repaired offline ----------------------

/** A minimal ustar archive of regular files (names under 100 bytes), as the OCI layout tarball needs. */
function ustar(files: Array<[string, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of files) {
    const h = Buffer.alloc(512);
    const field = (off: number, len: number, v: string) => h.write(v, off, len, 'latin1');
    field(0, 100, name);
    field(100, 8, '0000644\0');
    field(108, 8, '0000000\0');
    field(116, 8, '0000000\0');
    field(124, 12, data.length.toString(8).padStart(11, '0') + '\0');
    field(136, 12, '00000000000\0');
    field(148, 8, '        ');
    field(156, 1, '0');
    field(257, 8, 'ustar\u000000');
    let sum = 0;
    for (const b of h) sum += b;
    field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

function ociTarball(name: string): Buffer {
  const layerTar = ustar([['hello.txt', Buffer.from('hello\n')]]);
  const layer = zlib.gzipSync(layerTar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(layerTar)] }, config: {} }));
  const desc = (mediaType: string, b: Buffer) => ({ mediaType, digest: digestOf(b), size: b.length });
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: desc('application/vnd.oci.image.config.v1+json', config), layers: [desc('application/vnd.oci.image.layer.v1.tar+gzip', layer)] }));
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ ...desc('application/vnd.oci.image.manifest.v1+json', manifest), annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': '1' }, platform: { architecture: 'amd64', os: 'linux' } }] }));
  const blob = (b: Buffer): [string, Buffer] => [`blobs/sha256/${digestOf(b).slice(7)}`, b];
  return ustar([['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')], ['index.json', index], blob(config), blob(layer), blob(manifest)]);
}

test('Interop_containerdStartsAfterOfflineImagesRmAndLabel_andCollectsTheImagesBlobs', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-repair-images-'));
  const tarball = path.join(dir, 'img.tar');
  fs.writeFileSync(tarball, ociTarball('example.com/t:1'));
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
  assert.deepEqual(await tsctr(['--root', root, 'images', 'label', 'example.com/t:2', 'a=b']), { code: 0, out: 'a=b\n', err: '' });
  assert.deepEqual(await tsctr(['--root', root, 'images', 'rm', 'example.com/t:1']), { code: 0, out: 'example.com/t:1\n', err: '' });

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
  assert.deepEqual(logErrors(dir), []);
});
