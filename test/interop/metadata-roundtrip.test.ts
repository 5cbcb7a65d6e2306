// A containerd root built from nothing through src/metadata and src/content (no ctr, no containerd), then
// served by a real containerd 1.6: ctr lists exactly the namespaces, images, containers (labels, spec and
// runtime options as protobuf Any), leases, blobs and ingests we wrote, tsctr prints the same bytes on the
// same root, and containerd's garbage collection (images rm --sync) removes exactly what nothing references
// any more, with no error in its log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { digestOf, openContentStore } from '../../src/content/index.js';
import { createMetadata, openMetadata, specAny, NamespacedContentStore, type GoTime, type MetadataDB } from '../../src/metadata/index.js';
import { containerdLogErrors, startContainerd } from '../helpers/containerd.js';
import { runTsctr } from '../helpers/tsctr.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/** An image's blobs: a gzip layer, a config for linux/<arch>, the manifest naming both. */
function imageBlobs(arch: string, file: string): { manifest: Buffer; config: Buffer; layer: Buffer } {
  const tar = Buffer.alloc(1024 + 512);
  tar.write(file, 0, 'latin1');
  const layer = zlib.gzipSync(tar);
  const config = json({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(tar)] }, config: {} });
  const desc = (mediaType: string, b: Buffer) => ({ mediaType, digest: digestOf(b), size: b.length });
  const manifest = json({ schemaVersion: 2, mediaType: MANIFEST, config: desc('application/vnd.oci.image.config.v1+json', config), layers: [desc('application/vnd.oci.image.layer.v1.tar+gzip', layer)] });
  return { manifest, config, layer };
}

/** runc's Options{BinaryName: "runc", SystemdCgroup: true} (field 7 string, field 10 bool). */
const RUNC_OPTIONS = { typeUrl: 'containerd.runc.v1.Options', value: new Uint8Array([0x3a, 4, ...Buffer.from('runc'), 0x50, 1]) };

test('Interop_containerdServesARootWrittenFromNothing_listsIt_andCollectsGarbage', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-roundtrip-'));
  const root = path.join(dir, 'root');
  const metaPath = path.join(root, 'io.containerd.metadata.v1.bolt', 'meta.db');
  const contentDir = path.join(root, 'io.containerd.content.v1.content');
  fs.mkdirSync(path.dirname(metaPath), { recursive: true });
  const store = await openContentStore(contentDir);

  const img1 = imageBlobs('amd64', 'one.txt');
  const img2 = imageBlobs('arm64', 'two.txt');
  const leased = Buffer.from('held by a lease\n');
  const expiredLeased = Buffer.from('held by an expired lease\n');
  const fromContainer = Buffer.from('referenced by a container label\n');
  const orphan = Buffer.from('recorded, referenced by nothing\n');
  const D = (b: Buffer) => digestOf(b);

  // Phase 1, with a clock two days back: an ingest whose 24 h expiry has passed.
  const past: GoTime = { unix: Math.floor(Date.now() / 1000) - 2 * 86400, nanos: 0 };
  let m: MetadataDB = createMetadata(metaPath, { clock: () => past });
  let cs = new NamespacedContentStore(m, store, 'shared');
  m.createNamespace('default', { env: 'test', 'org.example/owner': 'tsbolt' });
  const stale = await cs.writer('default', { ref: 'stale-upload' });
  await stale.write(Buffer.from('never finished'));
  await stale.close();
  m.close();

  // Phase 2, at the real time.
  m = openMetadata(metaPath, { readOnly: false });
  cs = new NamespacedContentStore(m, store, 'shared');
  const put = async (ns: string, ref: string, data: Buffer, labels?: Record<string, string>) => {
    const w = await cs.writer(ns, { ref, expected: { digest: D(data), size: data.length } });
    await w.write(data);
    return w.commit(data.length, D(data), labels);
  };
  for (const [n, img] of [['1', img1], ['2', img2]] as const) {
    await put('default', `config-${n}`, img.config);
    await put('default', `layer-${n}`, img.layer);
    await put('default', `manifest-${n}`, img.manifest, { 'containerd.io/gc.ref.content.config': D(img.config), 'containerd.io/gc.ref.content.l.0': D(img.layer) });
  }
  await put('default', 'leased', leased, { 'fixture.role': 'leased' });
  await put('default', 'expired-leased', expiredLeased);
  await put('default', 'from-container', fromContainer);
  await put('default', 'orphan', orphan);
  m.createNamespace('other', { team: 'x' });
  // The shared policy: "other" adopts img1's config without writing a byte.
  const adopt = await cs.writer('other', { ref: 'adopt', expected: { digest: D(img1.config) } });
  assert.equal(adopt.adopting, true);
  await adopt.commit();
  const live = await cs.writer('default', { ref: 'live-upload' });
  await live.write(Buffer.from('half'));
  await live.close();

  m.createImage('default', { name: 'example.com/one:1', labels: { 'org.example/tier': 'one', keep: 'yes' }, target: { mediaType: MANIFEST, digest: D(img1.manifest), size: img1.manifest.length } });
  m.createImage('default', { name: 'example.com/two:2', target: { mediaType: MANIFEST, digest: D(img2.manifest), size: img2.manifest.length } });
  // Not in specs.Spec's field order, without `user`, with a key Go does not know: ctr prints it re-marshalled.
  const spec = { hostname: 'c1', process: { cwd: '/', args: ['/bin/sh', '-c', 'echo hi'], env: ['PATH=/bin'] }, ociVersion: '1.0.2-dev', root: { path: 'rootfs' }, 'x-unknown': true };
  m.createContainer('default', { id: 'c1', image: 'example.com/one:1', labels: { app: 'web', tier: 'front' }, runtime: { name: 'io.containerd.runc.v2', options: RUNC_OPTIONS }, spec: specAny(spec) });
  m.createContainer('default', {
    id: 'c2',
    labels: { 'containerd.io/gc.ref.content.extra': D(fromContainer) },
    runtime: { name: 'io.containerd.runc.v2' },
    spec: specAny({ ociVersion: '1.0.2-dev', hostname: 'c2' }),
    extensions: { 'org.example/ext': { typeUrl: 'types.example.com/Ext', value: new Uint8Array([1, 2, 3]) } },
  });
  m.createLease('default', 'keep-lease', { team: 'infra', purpose: 'roundtrip' });
  m.addLeaseResource('default', 'keep-lease', { type: 'content', id: D(leased) });
  m.createLease('default', 'old-lease', { 'containerd.io/gc.expire': new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, 'Z') });
  m.addLeaseResource('default', 'old-lease', { type: 'content', id: D(expiredLeased) });
  assert.deepEqual(m.db.view((tx) => tx.check()), []);
  m.close();

  // What tsctr prints offline, to compare with ctr on the live daemon.
  const offline: Record<string, string> = {};
  const cmds: [string, string[]][] = [
    ['ns', ['namespaces', 'ls']],
    ['images', ['-n', 'default', 'images', 'ls']],
    ['containers', ['-n', 'default', 'containers', 'ls']],
    ['info-c1', ['-n', 'default', 'containers', 'info', 'c1']],
    ['info-c2', ['-n', 'default', 'containers', 'info', 'c2']],
    ['info-c1-spec', ['-n', 'default', 'containers', 'info', '--spec', 'c1']],
    ['leases', ['-n', 'default', 'leases', 'ls']],
    ['other-content', ['-n', 'other', 'content', 'ls', '-q']],
  ];
  for (const [k, argv] of cmds) {
    const r = await runTsctr(['--root', root, ...argv]);
    assert.equal(r.code, 0, `${k}: ${r.err}`);
    offline[k] = r.out;
  }

  const c = await startContainerd(dir);
  try {
    const ctr = async (...args: string[]) => {
      const r = await c.ctr(args);
      assert.equal(r.code, 0, `ctr ${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '', `ctr ${args.join(' ')}`);
      return r.stdout;
    };
    for (const [k, argv] of cmds) assert.equal(await ctr(...argv), offline[k], `ctr ${argv.join(' ')} = tsctr`);
    // ... and that is exactly what we wrote.
    assert.deepEqual(offline.ns!.trim().split('\n').slice(1).map((l) => l.trim().split(/ +/)), [['default', 'env=test,org.example/owner=tsbolt'], ['other', 'team=x']]);
    assert.deepEqual((await ctr('-n', 'default', 'images', 'ls', '-q')).split('\n'), ['example.com/one:1', 'example.com/two:2', '']);
    assert.match(offline.images!, /^example\.com\/one:1 +application\/vnd\.oci\.image\.manifest\.v1\+json +sha256:[0-9a-f]{64} +[0-9.]+ (?:B|KiB) +linux\/amd64 +keep=yes,org\.example\/tier=one +$/m);
    assert.match(offline.images!, /^example\.com\/two:2 .* linux\/arm64 +- +$/m);
    assert.deepEqual((await ctr('-n', 'default', 'containers', 'ls', '-q')).split('\n'), ['c1', 'c2', '']);
    const info = JSON.parse(offline['info-c1']!);
    const { 'x-unknown': _, ...known } = spec;
    assert.deepEqual([info.ID, info.Image, info.Labels, info.Runtime, info.Spec], ['c1', 'example.com/one:1', { app: 'web', tier: 'front' }, { Name: 'io.containerd.runc.v2', Options: { type_url: RUNC_OPTIONS.typeUrl, value: Buffer.from(RUNC_OPTIONS.value).toString('base64') } }, { ...known, process: { user: { uid: 0, gid: 0 }, ...known.process } }]);
    assert.deepEqual(JSON.parse(offline['info-c2']!).Extensions, { 'org.example/ext': { type_url: 'types.example.com/Ext', value: 'AQID' } });
    assert.deepEqual((await ctr('-n', 'default', 'leases', 'ls', '-q')).split('\n').sort(), ['', 'keep-lease', 'old-lease']);
    assert.match(offline.leases!, /^keep-lease +\S+ +purpose=roundtrip,team=infra +$/m);
    const all = [img1.manifest, img1.config, img1.layer, img2.manifest, img2.config, img2.layer, leased, expiredLeased, fromContainer, orphan].map(D).sort();
    const listed = (await ctr('-n', 'default', 'content', 'ls')).trim().split('\n').slice(1).map((l) => l.split('\t'));
    assert.deepEqual(listed.map((l) => l[0]).sort(), all);
    const labelsOf = (d: string) => listed.find((l) => l[0] === d)!.at(-1)!.split(',').sort().join(',');
    assert.equal(labelsOf(D(img1.manifest)), `containerd.io/gc.ref.content.config=${D(img1.config)},containerd.io/gc.ref.content.l.0=${D(img1.layer)}`);
    assert.equal(labelsOf(D(leased)), 'fixture.role=leased');
    assert.equal(offline['other-content'], D(img1.config) + '\n');
    const active = await ctr('-n', 'default', 'content', 'active');
    assert.deepEqual(active.trim().split('\n').slice(1).map((l) => l.split('\t')[0]).sort(), ['live-upload', 'stale-upload']);

    // containerd's GC: removing image two and collecting synchronously.
    assert.equal(await ctr('-n', 'default', 'images', 'rm', '--sync', 'example.com/two:2'), 'example.com/two:2\n');
    const kept = [img1.manifest, img1.config, img1.layer, leased, fromContainer].map(D).sort();
    assert.deepEqual((await ctr('-n', 'default', 'content', 'ls', '-q')).trim().split('\n').sort(), kept);
    assert.equal(await ctr('-n', 'other', 'content', 'ls', '-q'), '', "other's adopted record had no root");
    assert.deepEqual((await ctr('-n', 'default', 'leases', 'ls', '-q')).trim().split('\n'), ['keep-lease'], 'the expired lease is collected');
    assert.deepEqual((await ctr('-n', 'default', 'content', 'active')).trim().split('\n').slice(1).map((l) => l.split('\t')[0]), ['live-upload'], 'the expired ingest is collected');
  } finally {
    await c.stop();
  }
  // The files: exactly the kept blobs, and the live ingest's directory only.
  const blobs = fs.readdirSync(path.join(contentDir, 'blobs', 'sha256')).map((h) => `sha256:${h}`).sort();
  assert.deepEqual(blobs, [img1.manifest, img1.config, img1.layer, leased, fromContainer].map(D).sort());
  assert.deepEqual(fs.readdirSync(path.join(contentDir, 'ingest')), [store.ingestDir('default/1/live-upload').split(path.sep).at(-1)]);
  // And our reader agrees with what containerd left.
  const after = openMetadata(metaPath);
  try {
    assert.deepEqual(after.ingests('default').map((i) => i.ref), ['live-upload']);
    assert.deepEqual(after.images('default').map((i) => i.name), ['example.com/one:1']);
  } finally {
    after.close();
  }
  assert.deepEqual(containerdLogErrors(dir), []);
  fs.rmSync(dir, { recursive: true, force: true });
});
