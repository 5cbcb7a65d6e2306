// The metadata write side: containerd 1.6's Init/migrations, validation and error texts, label replacement,
// round trips through the reader, and byte-identical subtrees against meta.db files containerd wrote
// (the committed 1.6.20 fixture root, and ../shared/corpus when present). Every test ends with a clean
// tx.check() of the bolt file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open, type Bucket } from '../../src/bolt/index.js';
import {
  createMetadata,
  openMetadata,
  specAny,
  encodeVarint,
  encodeTime,
  encodeAny,
  ErrAlreadyExists,
  ErrFailedPrecondition,
  ErrInvalidArgument,
  ErrNotFound,
  ErrNotImplemented,
  ErrUnknownSchemaVersion,
  type ContainerInput,
  type GoTime,
  type ImageInput,
  type MetadataDB,
} from '../../src/metadata/index.js';
import { CORPUS } from '../helpers/corpus.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/containerd/root/io.containerd.metadata.v1.bolt/meta.db', import.meta.url));

const D1 = 'sha256:' + '1'.repeat(64);
const D2 = 'sha256:' + 'a'.repeat(64);
const T0: GoTime = { unix: 1700000000, nanos: 123456789 };
const T1: GoTime = { unix: 1700000100, nanos: 5 };

function tmpPath(): { path: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsbolt-write-'));
  return { path: join(dir, 'meta.db'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fixed clock, advanced by hand. */
function fixedClock(t: GoTime): { clock: () => GoTime; set: (n: GoTime) => void } {
  let now = t;
  return { clock: () => now, set: (n) => (now = n) };
}

function assertClean(m: MetadataDB): void {
  assert.deepEqual(m.db.view((tx) => tx.check()), []);
}

function withDB(fn: (m: MetadataDB, path: string) => void, clock = fixedClock(T0).clock): void {
  const t = tmpPath();
  const m = createMetadata(t.path, { clock });
  try {
    fn(m, t.path);
    assertClean(m);
  } finally {
    m.close();
    t.done();
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const s = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** A bucket subtree as lines "path = hex" / "path/ seq=N" (byte-exact keys, values, sequences). */
function dump(b: Bucket | undefined, prefix = ''): string[] {
  if (!b) return ['<missing>'];
  const out: string[] = [];
  b.forEach((k, v) => {
    const p = prefix + hex(k);
    if (v === undefined) {
      const child = b.bucket(k)!;
      out.push(`${p}/ seq=${child.sequence()}`);
      out.push(...dump(child, p + '/'));
    } else out.push(`${p} = ${hex(v)}`);
  });
  return out;
}

function subtree(m: MetadataDB, ...path: string[]): string[] {
  return m.db.view((tx) => {
    let b = tx.bucket(path[0]!);
    for (const p of path.slice(1)) b = b?.bucket(p);
    return dump(b);
  });
}

function expectCode(fn: () => unknown, cls: { code: string }, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.equal((e as { code?: string }).code, cls.code, String(e));
    if (re) assert.match((e as Error).message, re);
    return true;
  });
}

const image = (name: string, extra: Partial<ImageInput> = {}): ImageInput => ({
  name,
  target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D1, size: 525 },
  ...extra,
});
const container = (id: string, extra: Partial<ContainerInput> = {}): ContainerInput => ({
  id,
  runtime: { name: 'io.containerd.runc.v2', options: { typeUrl: 'containerd.runc.v1.Options', value: new Uint8Array(0) } },
  spec: specAny({ ociVersion: '1.0.2-dev', process: { args: ['sh'] } }),
  image: 'docker.io/library/alpha:1.0',
  snapshotter: 'overlayfs',
  snapshotKey: id,
  ...extra,
});

// --- Init and migrations ---------------------------------------------------------

test('createMetadata_newFile_writesVersion3', () => {
  withDB((m) => {
    assert.equal(m.version, 3);
    assert.deepEqual(m.init, { from: undefined, migrated: [], wrote: true });
    assert.deepEqual(subtree(m, 'v1'), [`${hex(Buffer.from('version'))} = 06`]);
  });
});

test('createMetadata_existingFile_refused', () => {
  const t = tmpPath();
  try {
    createMetadata(t.path).close();
    expectCode(() => createMetadata(t.path), ErrAlreadyExists);
  } finally {
    t.done();
  }
});

test('openMetadata_readWrite_missingFileInitialised', () => {
  const t = tmpPath();
  try {
    const m = openMetadata(t.path, { readOnly: false });
    assert.equal(m.version, 3);
    assertClean(m);
    m.close();
  } finally {
    t.done();
  }
});

test('openMetadata_readWrite_currentVersionNotCommitted', () => {
  const t = tmpPath();
  try {
    createMetadata(t.path).close();
    const txid = (p: string): number => {
      const db = open(p, { readOnly: true });
      try {
        return db.view((tx) => tx.id());
      } finally {
        db.close();
      }
    };
    const before = txid(t.path);
    const m = openMetadata(t.path, { readOnly: false });
    assert.deepEqual(m.init, { from: 3, migrated: [], wrote: false });
    m.close();
    assert.equal(txid(t.path), before);
  } finally {
    t.done();
  }
});

test('openMetadata_readWrite_neverDowngradesVersion4', () => {
  const t = tmpPath();
  try {
    const db = open(t.path);
    db.update((tx) => tx.createBucket('v1').put('version', encodeVarint(4)));
    db.close();
    const m = openMetadata(t.path, { readOnly: false });
    assert.equal(m.version, 4);
    assert.equal(m.init?.wrote, false);
    m.close();
    const db5 = open(t.path);
    db5.update((tx) => tx.bucket('v1')!.put('version', encodeVarint(5)));
    db5.close();
    expectCode(() => openMetadata(t.path, { readOnly: false }), ErrUnknownSchemaVersion);
  } finally {
    t.done();
  }
});

/** A v1 file as containerd before dbVersion 1: a snapshot without the children link, the flat content/ingest bucket. */
function oldFile(path: string, version: number | undefined): void {
  const db = open(path);
  db.update((tx) => {
    const v1 = tx.createBucket('v1');
    if (version !== undefined) v1.put('version', encodeVarint(version));
    const ns = v1.createBucket('default');
    const sn = ns.createBucket('snapshots').createBucket('overlayfs');
    sn.createBucket('base').put('name', 'default/1/base');
    const child = sn.createBucket('child');
    child.put('name', 'default/2/child');
    child.put('parent', 'base');
    sn.createBucket('orphan').put('parent', 'missing');
    const ing = ns.createBucket('content').createBucket('ingest');
    ing.put('upload-1', 'default/3/upload-1');
  });
  db.close();
}

test('openMetadata_readWrite_migratesFromNoVersion', () => {
  const t = tmpPath();
  try {
    oldFile(t.path, undefined);
    const m = openMetadata(t.path, { readOnly: false });
    assert.deepEqual(m.init, { from: 0, migrated: ['addChildLinks', 'migrateIngests', 'noOpMigration'], wrote: true });
    assert.equal(m.version, 3);
    assert.deepEqual(m.snapshots('default', 'overlayfs').find((r) => r.key === 'base')?.children, ['child']);
    assert.deepEqual(m.ingests('default'), [{ ref: 'upload-1', backendRef: 'default/3/upload-1' }]);
    assert.deepEqual(subtree(m, 'v1', 'default', 'content', 'ingest'), ['<missing>']);
    assertClean(m);
    m.close();
  } finally {
    t.done();
  }
});

test('openMetadata_readWrite_version2RunsOnlyLaterMigrations', () => {
  const t = tmpPath();
  try {
    oldFile(t.path, 2);
    const m = openMetadata(t.path, { readOnly: false });
    assert.deepEqual(m.init, { from: 2, migrated: ['noOpMigration'], wrote: true });
    assert.equal(m.version, 3);
    // Versions >= 2 are trusted to have been migrated: nothing is rewritten.
    assert.deepEqual(m.snapshots('default', 'overlayfs').find((r) => r.key === 'base')?.children, []);
    assert.deepEqual(m.ingests('default'), []);
    assertClean(m);
    m.close();
  } finally {
    t.done();
  }
});

test('openMetadata_readWrite_version1MigratesIngests', () => {
  const t = tmpPath();
  try {
    oldFile(t.path, 1);
    const m = openMetadata(t.path, { readOnly: false });
    assert.deepEqual(m.init?.migrated, ['migrateIngests', 'noOpMigration']);
    assert.deepEqual(m.snapshots('default', 'overlayfs').find((r) => r.key === 'base')?.children, []);
    assert.equal(m.ingests('default').length, 1);
    m.close();
  } finally {
    t.done();
  }
});

// --- namespaces ---------------------------------------------------------------

test('MetadataDB_createNamespace_roundTripAndErrors', () => {
  withDB((m) => {
    m.createNamespace('team-a', { owner: 'me', empty: '' });
    m.createNamespace('bare');
    assert.deepEqual(m.namespaces(), [
      { name: 'bare', labels: {} },
      { name: 'team-a', labels: { owner: 'me', empty: '' } },
    ]);
    // containerd always creates the labels bucket on Create, even without labels.
    assert.deepEqual(subtree(m, 'v1', 'bare'), [`${hex(Buffer.from('labels'))}/ seq=0`]);
    expectCode(() => m.createNamespace('team-a'), ErrAlreadyExists, /^namespace "team-a": already exists$/);
    expectCode(() => m.createNamespace('bad name'), ErrInvalidArgument, /must match/);
    expectCode(() => m.createNamespace(''), ErrInvalidArgument, /must not be empty/);
    expectCode(() => m.createNamespace('x'.repeat(77)), ErrInvalidArgument, /maximum length \(76/);
    expectCode(() => m.createNamespace('version'), ErrInvalidArgument);
    expectCode(() => m.createNamespace('big', { k: 'v'.repeat(4096) }), ErrInvalidArgument, /^namespace\.Labels: label key and value greater than maximum size \(4096 bytes\), key: k: invalid argument$/);
    m.createNamespace('edge', { k: 'v'.repeat(4095) });
    assert.equal(m.namespaces().length, 3);
  });
});

test('MetadataDB_setNamespaceLabels_replacesAndDropsEmpty', () => {
  withDB((m) => {
    m.createNamespace('ns', { a: '1', b: '2' });
    m.setNamespaceLabels('ns', { b: '3', c: '4', d: '' });
    assert.deepEqual(m.namespaces()[0]?.labels, { b: '3', c: '4' });
    m.setNamespaceLabel('ns', 'b', '');
    m.setNamespaceLabel('ns', 'e', '5');
    assert.deepEqual(m.namespaces()[0]?.labels, { c: '4', e: '5' });
    m.setNamespaceLabels('ns', {});
    assert.deepEqual(m.namespaces()[0]?.labels, {});
    assert.deepEqual(subtree(m, 'v1', 'ns', 'labels'), []);
    expectCode(() => m.setNamespaceLabels('ns', { ['k'.repeat(4000)]: 'v'.repeat(97) }), ErrInvalidArgument, /key: kkkkkkkkkk:/);
  });
});

test('MetadataDB_deleteNamespace_refusesNonEmptyWithContainerdText', () => {
  withDB((m) => {
    m.createNamespace('ns');
    m.createImage('ns', image('img'));
    m.addBlobRecord('ns', D1, 525);
    m.createContainer('ns', container('c1'));
    m.db.update((tx) => tx.bucket('v1')!.bucket('ns')!.createBucket('snapshots').createBucket('overlayfs').createBucket('c1').put('name', 'ns/1/c1'));
    expectCode(
      () => m.deleteNamespace('ns'),
      ErrFailedPrecondition,
      /^namespace "ns" must be empty, but it still has images, blobs, containers, snapshots on "overlayfs" snapshotter: failed precondition$/,
    );
    m.deleteImage('ns', 'img');
    m.deleteBlobRecord('ns', D1);
    m.deleteContainer('ns', 'c1');
    expectCode(() => m.deleteNamespace('ns'), ErrFailedPrecondition, /still has snapshots on "overlayfs" snapshotter:/);
    m.db.update((tx) => tx.bucket('v1')!.bucket('ns')!.bucket('snapshots')!.bucket('overlayfs')!.deleteBucket('c1'));
    // Leases (and empty object buckets) do not block the delete in containerd 1.6.
    m.createLease('ns', 'l1');
    m.deleteNamespace('ns');
    assert.deepEqual(m.namespaces(), []);
    expectCode(() => m.deleteNamespace('ns'), ErrNotFound, /^namespace "ns": not found$/);
  });
});

// --- images -------------------------------------------------------------------

test('MetadataDB_createImage_roundTripAndEncoding', () => {
  withDB((m) => {
    const img = m.createImage('default', image('docker.io/library/alpha:1.0', { labels: { env: 'prod', gone: '' }, target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D1, size: 300, annotations: { 'org.opencontainers.image.ref.name': '1.0' } } }));
    assert.deepEqual(img.labels, { env: 'prod' });
    assert.deepEqual(m.images('default'), [img]);
    assert.deepEqual(m.image('default', 'docker.io/library/alpha:1.0').createdAt, T0);
    // The namespace is created implicitly (no labels bucket), as containerd does.
    const h = (x: string): string => hex(Buffer.from(x));
    assert.deepEqual(subtree(m, 'v1', 'default', 'images', 'docker.io/library/alpha:1.0'), [
      `${h('annotations')}/ seq=0`,
      `${h('annotations')}/${h('org.opencontainers.image.ref.name')} = ${h('1.0')}`,
      `${h('createdat')} = ${hex(encodeTime(T0))}`,
      `${h('labels')}/ seq=0`,
      `${h('labels')}/${h('env')} = ${h('prod')}`,
      `${h('target')}/ seq=0`,
      `${h('target')}/${h('digest')} = ${h(D1)}`,
      `${h('target')}/${h('mediatype')} = ${h('application/vnd.oci.image.manifest.v1+json')}`,
      `${h('target')}/${h('size')} = ${hex(encodeVarint(300))}`,
      `${h('updatedat')} = ${hex(encodeTime(T0))}`,
    ]);
    expectCode(() => m.createImage('default', image('docker.io/library/alpha:1.0')), ErrAlreadyExists, /^image "docker.io\/library\/alpha:1.0": already exists$/);
  });
});

test('MetadataDB_createImage_validation', () => {
  withDB((m) => {
    const t = image('x').target;
    expectCode(() => m.createImage('default', image('')), ErrInvalidArgument, /^image name must not be empty: invalid argument$/);
    expectCode(() => m.createImage('default', image('x', { target: { ...t, digest: 'sha256:abc' } })), ErrInvalidArgument, /^Target.Digest "sha256:abc" invalid: invalid checksum digest length: invalid argument$/);
    expectCode(() => m.createImage('default', image('x', { target: { ...t, digest: 'nope' } })), ErrInvalidArgument, /invalid checksum digest format/);
    expectCode(() => m.createImage('default', image('x', { target: { ...t, digest: 'md5:' + 'a'.repeat(32) } })), ErrInvalidArgument, /unsupported digest algorithm/);
    expectCode(() => m.createImage('default', image('x', { target: { ...t, digest: 'sha256:' + 'A'.repeat(64) } })), ErrInvalidArgument, /invalid checksum digest format/);
    expectCode(() => m.createImage('default', image('x', { target: { ...t, size: 0 } })), ErrInvalidArgument, /^Target.Size must be greater than zero: invalid argument$/);
    expectCode(() => m.createImage('default', image('x', { target: { ...t, mediaType: '' } })), ErrInvalidArgument, /^Target.MediaType must be set: invalid argument$/);
    expectCode(() => m.createImage('default', image('x', { labels: { k: 'v'.repeat(5000) } })), ErrInvalidArgument, /^image\.Labels: label key/);
    expectCode(() => m.createImage('bad ns', image('x')), ErrInvalidArgument, /^namespace validation: identifier "bad ns" must match/);
    assert.deepEqual(m.namespaces(), []);
  });
});

test('MetadataDB_updateImage_fieldpathsAndReplace', () => {
  const c = fixedClock(T0);
  withDB((m) => {
    m.createImage('ns', image('img', { labels: { a: '1', b: '2' }, target: { ...image('x').target, annotations: { x: 'y' } } }));
    c.set(T1);
    let u = m.updateImage('ns', image('img', { labels: { b: '', c: '3' } }), ['labels.b', 'labels.c']);
    assert.deepEqual(u.labels, { a: '1', c: '3' });
    assert.deepEqual(u.target.annotations, { x: 'y' });
    assert.deepEqual(u.createdAt, T0);
    assert.deepEqual(u.updatedAt, T1);
    u = m.updateImage('ns', image('img', { target: { mediaType: 'm', digest: D2, size: 9 } }), ['target']);
    assert.deepEqual(u.target, { mediaType: 'm', digest: D2, size: 9 });
    assert.deepEqual(m.image('ns', 'img'), u);
    u = m.updateImage('ns', image('img', { labels: { z: '26' } }));
    assert.deepEqual(u.labels, { z: '26' });
    assert.equal(u.target.digest, D1);
    assert.deepEqual(m.image('ns', 'img'), u);
    expectCode(() => m.updateImage('ns', image('img'), ['name']), ErrInvalidArgument, /^cannot update "name" field on image "img": invalid argument$/);
    expectCode(() => m.updateImage('ns', image('missing')), ErrNotFound, /^image "missing": not found$/);
    expectCode(() => m.updateImage('ns', image('img', { target: { mediaType: 'm', digest: D2, size: -1 } }), ['target']), ErrInvalidArgument, /Target.Size/);
    assert.deepEqual(m.image('ns', 'img'), u);
    m.deleteImage('ns', 'img');
    expectCode(() => m.deleteImage('ns', 'img'), ErrNotFound, /^image "img": not found$/);
    expectCode(() => m.deleteImage('other', 'img'), ErrNotFound);
  }, c.clock);
});

// --- containers -----------------------------------------------------------------

test('MetadataDB_createContainer_roundTrip', () => {
  withDB((m) => {
    const ext = { typeUrl: 'example.com/Ext', value: new Uint8Array([1, 2, 3]) };
    const c = m.createContainer('ns', container('web1', { labels: { app: 'web', nil: '' }, extensions: { ext } }));
    assert.deepEqual(c.labels, { app: 'web' });
    assert.deepEqual(m.containers('ns'), [c]);
    assert.deepEqual(m.container('ns', 'web1').extensions, { ext });
    // Minimal container: empty image/snapshotter/snapshotKey keys are still written, no runtime options.
    m.createContainer('ns', { id: 'min', runtime: { name: 'rt' }, spec: { typeUrl: 't', value: new Uint8Array(0) } });
    const h = (x: string): string => hex(Buffer.from(x));
    assert.deepEqual(subtree(m, 'v1', 'ns', 'containers', 'min'), [
      `${h('createdat')} = ${hex(encodeTime(T0))}`,
      `${h('image')} = `,
      `${h('runtime')}/ seq=0`,
      `${h('runtime')}/${h('name')} = ${h('rt')}`,
      `${h('snapshotKey')} = `,
      `${h('snapshotter')} = `,
      `${h('spec')} = ${hex(encodeAny({ typeUrl: 't', value: new Uint8Array(0) }))}`,
      `${h('updatedat')} = ${hex(encodeTime(T0))}`,
    ]);
    expectCode(() => m.createContainer('ns', container('web1')), ErrAlreadyExists, /^container "web1": already exists$/);
  });
});

test('MetadataDB_createContainer_validation', () => {
  withDB((m) => {
    const pre = 'create container failed validation: ';
    expectCode(() => m.createContainer('ns', container('bad id')), ErrInvalidArgument, new RegExp(`^${pre}container\\.ID: identifier "bad id" must match`));
    expectCode(() => m.createContainer('ns', container('c', { runtime: { name: '' } })), ErrInvalidArgument, /container.Runtime.Name must be set: invalid argument$/);
    const noSpec = container('c');
    delete noSpec.spec;
    expectCode(() => m.createContainer('ns', noSpec), ErrInvalidArgument, /container.Spec must be set/);
    expectCode(() => m.createContainer('ns', container('c', { snapshotter: '' })), ErrInvalidArgument, /container.Snapshotter must be set if container.SnapshotKey is set/);
    expectCode(() => m.createContainer('ns', container('c', { extensions: { '': { typeUrl: 'x', value: new Uint8Array(0) } } })), ErrInvalidArgument, /Extension keys must not be zero-length/);
    expectCode(() => m.createContainer('ns', container('c', { labels: { k: 'v'.repeat(4096) } })), ErrInvalidArgument, /containers\.Labels: label key and value greater/);
    assert.deepEqual(m.namespaces(), []);
  });
});

test('MetadataDB_updateContainer_fieldpathsImmutablesAndExtensions', () => {
  const clk = fixedClock(T0);
  withDB((m) => {
    const e1 = { typeUrl: 'e1', value: new Uint8Array([1]) };
    const e2 = { typeUrl: 'e2', value: new Uint8Array([2]) };
    m.createContainer('ns', container('c', { labels: { a: '1' }, extensions: { e1 } }));
    clk.set(T1);
    let u = m.updateContainer('ns', container('c', { labels: { b: '2' }, image: 'img2', snapshotKey: 'k2' }), ['labels.b', 'image']);
    assert.deepEqual(u.labels, { a: '1', b: '2' });
    assert.equal(u.image, 'img2');
    assert.equal(u.snapshotKey, 'c');
    assert.deepEqual(u.createdAt, T0);
    assert.deepEqual(u.updatedAt, T1);
    // Full replace: labels, spec, extensions, image, snapshotkey; extensions/ keeps e1 (containerd never clears it).
    u = m.updateContainer('ns', container('c', { labels: { z: '1' }, extensions: { e2 } }));
    assert.deepEqual(u.labels, { z: '1' });
    assert.deepEqual(u.extensions, { e1, e2 });
    assert.deepEqual(m.container('ns', 'c'), u);
    expectCode(() => m.updateContainer('ns', container('c', { snapshotter: 'native' })), ErrInvalidArgument, /^container.Snapshotter field is immutable: invalid argument$/);
    expectCode(() => m.updateContainer('ns', container('c', { runtime: { name: 'other' } })), ErrInvalidArgument, /^container.Runtime.Name field is immutable/);
    expectCode(() => m.updateContainer('ns', container('c'), ['snapshotter']), ErrInvalidArgument, /^cannot update "snapshotter" field on "c": invalid argument$/);
    const noSpec = container('c');
    delete noSpec.spec;
    expectCode(() => m.updateContainer('ns', noSpec, ['spec']), ErrInvalidArgument, /^update failed validation: container.Spec must be set/);
    expectCode(() => m.updateContainer('ns', container('nope')), ErrNotFound, /^container "nope": not found$/);
    expectCode(() => m.updateContainer('other', container('c')), ErrNotFound, /^cannot update container "c" in namespace "other": not found$/);
    expectCode(() => m.updateContainer('ns', container('')), ErrInvalidArgument, /^must specify a container id/);
    m.deleteContainer('ns', 'c');
    expectCode(() => m.deleteContainer('ns', 'c'), ErrNotFound, /^container c: not found$/);
    expectCode(() => m.deleteContainer('other', 'c'), ErrNotFound, /^cannot delete container "c" in namespace "other": not found$/);
  }, clk.clock);
});

// --- leases -------------------------------------------------------------------

test('MetadataDB_leases_resourcesRoundTripAndErrors', () => {
  withDB((m) => {
    const l = m.createLease('ns', 'l1', { 'containerd.io/gc.expire': '2030-01-01T00:00:00Z' });
    assert.deepEqual(l, { id: 'l1', createdAt: T0, labels: { 'containerd.io/gc.expire': '2030-01-01T00:00:00Z' }, resources: [] });
    m.createLease('ns', 'nolabels');
    m.addLeaseResource('ns', 'l1', { id: D1, type: 'content' });
    m.addLeaseResource('ns', 'l1', { id: 'upload', type: 'ingests' });
    m.addLeaseResource('ns', 'l1', { id: 'snap-1', type: 'snapshots/overlayfs' });
    m.addLeaseResource('ns', 'l1', { id: 'snap-1', type: 'snapshots/overlayfs' });
    assert.deepEqual(m.leases('ns'), [
      { ...l, resources: [{ id: D1, type: 'content' }, { id: 'upload', type: 'ingests' }, { id: 'snap-1', type: 'snapshots/overlayfs' }] },
      { id: 'nolabels', createdAt: T0, resources: [] },
    ]);
    assert.deepEqual(subtree(m, 'v1', 'ns', 'leases', 'l1', 'content'), [`${hex(Buffer.from(D1))} = `]);
    expectCode(() => m.createLease('ns', 'l1'), ErrAlreadyExists, /^lease "l1": already exists$/);
    expectCode(() => m.createLease('ns', ''), ErrInvalidArgument, /^lease id must be provided$/);
    expectCode(() => m.addLeaseResource('ns', 'l1', { id: 'x', type: 'content' }), ErrInvalidArgument, /^invalid content resource id x: invalid checksum digest format: invalid argument$/);
    expectCode(() => m.addLeaseResource('ns', 'l1', { id: 'x', type: 'snapshots' }), ErrInvalidArgument, /^invalid snapshot resource type snapshots/);
    expectCode(() => m.addLeaseResource('ns', 'l1', { id: 'x', type: 'ingests/a' }), ErrInvalidArgument, /^invalid resource type ingests\/a/);
    expectCode(() => m.addLeaseResource('ns', 'l1', { id: 'img', type: 'images' }), ErrNotImplemented, /^resource type images not supported yet: not implemented$/);
    expectCode(() => m.addLeaseResource('ns', 'nope', { id: D1, type: 'content' }), ErrNotFound, /^lease "nope": not found$/);
    m.deleteLeaseResource('ns', 'l1', { id: 'snap-1', type: 'snapshots/overlayfs' });
    m.deleteLeaseResource('ns', 'l1', { id: 'snap-1', type: 'snapshots/native' });
    m.deleteLeaseResource('ns', 'l1', { id: D2, type: 'content' });
    assert.deepEqual(m.leases('ns')[0]?.resources, [{ id: D1, type: 'content' }, { id: 'upload', type: 'ingests' }]);
    m.deleteLease('ns', 'l1');
    expectCode(() => m.deleteLease('ns', 'l1'), ErrNotFound, /^lease "l1": not found$/);
    assert.deepEqual(m.leases('ns').map((x) => x.id), ['nolabels']);
  });
});

// --- content records ------------------------------------------------------------

test('MetadataDB_content_blobRecordsAndLabels', () => {
  const clk = fixedClock(T0);
  withDB((m) => {
    const info = m.addBlobRecord('ns', D1, 1234, { 'containerd.io/uncompressed': D2, dropped: '' });
    assert.deepEqual(info, { digest: D1, size: 1234, createdAt: T0, updatedAt: T0, labels: { 'containerd.io/uncompressed': D2 } });
    assert.deepEqual(m.content('ns'), [info]);
    const h = (x: string): string => hex(Buffer.from(x));
    assert.deepEqual(subtree(m, 'v1', 'ns', 'content', 'blob', D1).filter((l) => l.startsWith(h('size'))), [`${h('size')} = ${hex(encodeVarint(1234))}`]);
    expectCode(() => m.addBlobRecord('ns', D1, 1), ErrAlreadyExists, new RegExp(`^content ${D1}: already exists$`));
    expectCode(() => m.addBlobRecord('ns', 'sha256:xyz', 1), ErrInvalidArgument);
    expectCode(() => m.addBlobRecord('ns', D2, -1), ErrInvalidArgument);
    clk.set(T1);
    let u = m.setContentLabels('ns', D1, { a: '1', b: '' });
    assert.deepEqual(u, { digest: D1, size: 1234, createdAt: T0, updatedAt: T1, labels: { a: '1' } });
    u = m.setContentLabels('ns', D1, { c: '3' }, ['labels.c', 'labels.a']);
    assert.deepEqual(u.labels, { c: '3' });
    assert.deepEqual(m.content('ns'), [u]);
    expectCode(() => m.setContentLabels('ns', D1, {}, ['size']), ErrInvalidArgument, /^cannot update "size" field on content info/);
    expectCode(() => m.setContentLabels('ns', D2, {}), ErrNotFound, new RegExp(`^content digest ${D2}: not found$`));
    expectCode(() => m.setContentLabels('ns', D1, { k: 'v'.repeat(4096) }), ErrInvalidArgument, /^info\.Labels: label key/);
    u = m.setContentLabels('ns', D1, {});
    assert.equal(u.labels, undefined);
    assert.deepEqual(subtree(m, 'v1', 'ns', 'content', 'blob', D1).filter((l) => l.startsWith(h('labels'))), []);
  }, clk.clock);
});

test('MetadataDB_write_failedCallLeavesNothing', () => {
  withDB((m) => {
    m.createNamespace('ns');
    const before = subtree(m, 'v1');
    expectCode(() => m.updateImage('ns', image('missing')), ErrNotFound);
    expectCode(() => m.createContainer('ns', container('c', { runtime: { name: '' } })), ErrInvalidArgument);
    assert.deepEqual(subtree(m, 'v1'), before);
  });
});

test('MetadataDB_readOnly_writesRefused', () => {
  const t = tmpPath();
  try {
    createMetadata(t.path).close();
    const m = openMetadata(t.path);
    assert.throws(() => m.createNamespace('ns'), (e: unknown) => (e as { code?: string }).code === 'ERR_DATABASE_READ_ONLY');
    m.close();
  } finally {
    t.done();
  }
});

// --- byte-identical against files containerd wrote ------------------------------

/**
 * Rewrites every namespace label set, image, container, blob record and lease of `src` with the write API into
 * a fresh database (the same times given back), then compares each object's bucket subtree byte for byte and
 * the reader's view of both files.
 */
function replayAndCompare(src: string): { objects: number } {
  const orig = openMetadata(src, { readOnly: true });
  const t = tmpPath();
  const m = createMetadata(t.path);
  let objects = 0;
  try {
    const hasLabels = (ns: string): boolean => orig.view((tx) => tx.bucket('v1')!.bucket(ns)!.bucket('labels') !== undefined);
    for (const { name: ns, labels } of orig.namespaces()) {
      if (hasLabels(ns)) m.createNamespace(ns, labels);
      for (const img of orig.images(ns)) {
        m.createImage(ns, img);
        objects++;
      }
      for (const c of orig.containers(ns)) {
        m.createContainer(ns, c);
        objects++;
      }
      for (const b of orig.content(ns)) {
        m.addBlobRecord(ns, b.digest, b.size, b.labels, { createdAt: b.createdAt, updatedAt: b.updatedAt });
        objects++;
      }
      for (const l of orig.leases(ns)) {
        m.createLease(ns, l.id, l.labels, { createdAt: l.createdAt });
        for (const r of l.resources) m.addLeaseResource(ns, l.id, r);
        objects++;
      }
    }
    for (const { name: ns } of orig.namespaces()) {
      const kinds: string[][] = [['labels'], ['images'], ['containers'], ['content', 'blob'], ['leases']];
      for (const kind of kinds) {
        const names = orig.view((tx) => {
          const out: string[] = [];
          let b = tx.bucket('v1')!.bucket(ns);
          for (const k of kind) b = b?.bucket(k);
          if (kind[0] === 'labels') return b ? [''] : [];
          b?.forEach((k, v) => {
            if (v === undefined) out.push(s(k));
          });
          return out;
        });
        for (const name of names) {
          const path = ['v1', ns, ...kind, ...(name === '' ? [] : [name])];
          const a = orig.view((tx) => {
            let b = tx.bucket(path[0]!);
            for (const p of path.slice(1)) b = b?.bucket(p);
            return dump(b);
          });
          assert.deepEqual(subtree(m, ...path), a, `subtree ${path.join('/')}`);
        }
      }
      assert.deepEqual(m.images(ns), orig.images(ns));
      assert.deepEqual(m.containers(ns), orig.containers(ns));
      assert.deepEqual(m.content(ns), orig.content(ns));
      assert.deepEqual(m.leases(ns), orig.leases(ns));
    }
    assert.deepEqual(m.namespaces(), orig.namespaces());
    assert.deepEqual(subtree(m, 'v1').find((l) => l.startsWith(hex(Buffer.from('version')))), `${hex(Buffer.from('version'))} = 06`);
    assertClean(m);
  } finally {
    m.close();
    orig.close();
    t.done();
  }
  return { objects };
}

if (existsSync(FIXTURE)) {
  test('MetadataDB_writes_byteIdenticalToContainerd fixture containerd 1.6.20 root', () => {
    const { objects } = replayAndCompare(FIXTURE);
    assert.ok(objects > 250, `objects ${objects}`);
  });
}

if (existsSync(CORPUS)) {
  for (const f of ['containerd-meta-linux.db', 'containerd-2021-meta-dfirlabs.db']) {
    const p = join(CORPUS, f);
    if (!existsSync(p)) continue;
    test(`MetadataDB_writes_byteIdenticalToContainerd corpus ${f}`, () => {
      const { objects } = replayAndCompare(p);
      assert.ok(objects > 0);
    });
  }

  const trimmed = join(CORPUS, 'containerd-meta-eks-trimmed.db');
  if (existsSync(trimmed)) test('openMetadata_readWrite_trimmedCorpusFileGetsVersion3', () => {
    const src = trimmed;
    const t = tmpPath();
    try {
      copyFileSync(src, t.path);
      const before = openMetadata(t.path);
      const images = before.namespaces().map((n) => before.images(n.name));
      assert.equal(before.version, undefined);
      before.close();
      const m = openMetadata(t.path, { readOnly: false });
      assert.equal(m.version, 3);
      assert.deepEqual(m.init?.migrated, ['addChildLinks', 'migrateIngests', 'noOpMigration']);
      assert.deepEqual(m.namespaces().map((n) => m.images(n.name)), images);
      assertClean(m);
      m.close();
    } finally {
      t.done();
    }
  });
}
