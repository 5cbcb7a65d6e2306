// images import offline (src/metadata/import.ts, archive.ts): archives built from scratch by
// fixtures/containerd/archives.sh, imported into an empty root and into a copy of the containerd
// fixture root. Expected digests come from the archives themselves (the script's info.env and the
// files inside the tar), never typed in; the listings against real ctr are in
// test/interop/images-import.test.ts. Bad archives fail with ErrImportArchive and change nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { openContentStore } from '../../src/content/index.js';
import { openMetadata, ErrImportArchive, type ContentInfo } from '../../src/metadata/index.js';
import { importImages, type ImportOptions } from '../../src/metadata/import.js';
import { allPlatforms, onlyPlatform, onlyStrictPlatform, parsePlatform } from '../../src/metadata/platforms.js';
import { refTranslator } from '../../src/metadata/reference.js';
import { main } from '../../src/cli/tsctr.js';
import { runTsctr, type TsctrRun } from '../helpers/tsctr.js';
import { fileTree } from '../helpers/fstree.js';
import { lockInAnotherProcess } from '../helpers/filelock.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE_ROOT = path.join(repo, 'fixtures/containerd/root');
const META = path.join('io.containerd.metadata.v1.bolt', 'meta.db');
const CONTENT = 'io.containerd.content.v1.content';

const archives = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-import-unit-'));
execFileSync('bash', [path.join(repo, 'fixtures/containerd/archives.sh'), archives]);
const A = (name: string) => path.join(archives, name);
const INFO = Object.fromEntries(
  fs
    .readFileSync(A('info.env'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('=') as [string, string]),
);
/** A file inside an archive. */
const member = (tar: string, name: string): Buffer => execFileSync('tar', ['-xOf', tar, name]);
const json = (b: Buffer) => JSON.parse(b.toString('utf8')) as Record<string, any>;
const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

function emptyRoot(): string {
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-import-root-')), 'root');
  fs.mkdirSync(path.join(root, path.dirname(META)), { recursive: true });
  return root;
}

function fixtureCopy(): string {
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-import-fixture-')), 'root');
  fs.cpSync(FIXTURE_ROOT, root, { recursive: true });
  return root;
}

const HOST: ImportOptions = { platform: onlyPlatform({ os: 'linux', architecture: 'amd64' }), imageRefT: refTranslator('import-x', false) };

async function doImport(root: string, file: string | Buffer, opts: ImportOptions = HOST, ns = 'default') {
  const meta = openMetadata(path.join(root, META), { readOnly: false });
  try {
    const store = await openContentStore(path.join(root, CONTENT));
    const source = typeof file === 'string' ? fs.createReadStream(file) : Readable.from([file]);
    return await importImages(meta, store, ns, source, opts);
  } finally {
    meta.close();
  }
}

function records(root: string, ns = 'default'): Map<string, ContentInfo> {
  const meta = openMetadata(path.join(root, META));
  try {
    return new Map(meta.content(ns).map((c) => [c.digest, c]));
  } finally {
    meta.close();
  }
}

function images(root: string, ns = 'default') {
  const meta = openMetadata(path.join(root, META));
  try {
    return meta.images(ns);
  } finally {
    meta.close();
  }
}

const blobFile = (root: string, d: string) => path.join(root, CONTENT, 'blobs', 'sha256', d.slice(7));

test('importImages_ociLayout_intoEmptyRoot_imageRecordsAndChildLabels', async () => {
  const root = emptyRoot();
  const res = await doImport(root, A('alpha.tar'));
  const index = json(member(A('alpha.tar'), 'index.json'));
  const mdesc = index.manifests[0];
  assert.deepEqual(
    res.images.map((i) => [i.name, i.target]),
    [['docker.io/library/alpha:1.0', { mediaType: mdesc.mediaType, digest: INFO.ALPHA_MANIFEST, size: mdesc.size, annotations: mdesc.annotations }]],
  );
  const manifest = json(member(A('alpha.tar'), `blobs/sha256/${INFO.ALPHA_MANIFEST!.slice(7)}`));
  const recs = records(root);
  // What the GC keeps: the manifest, its config and layers; not index.json (no --index-name).
  assert.deepEqual([...recs.keys()].sort(), [INFO.ALPHA_MANIFEST, manifest.config.digest, ...manifest.layers.map((l: any) => l.digest)].sort());
  assert.deepEqual(recs.get(INFO.ALPHA_MANIFEST!)!.labels, {
    'containerd.io/gc.ref.content.config': manifest.config.digest,
    'containerd.io/gc.ref.content.l.0': manifest.layers[0].digest,
    'containerd.io/gc.ref.content.l.1': manifest.layers[1].digest,
  });
  assert.equal(recs.get(manifest.config.digest)!.labels, undefined);
  const indexDigest = sha(member(A('alpha.tar'), 'index.json'));
  assert.ok(!fs.existsSync(blobFile(root, indexDigest)), 'the index.json file the import made goes with its record');
  for (const d of recs.keys()) assert.ok(fs.existsSync(blobFile(root, d)));
  assert.deepEqual(fs.readdirSync(path.join(root, CONTENT, 'ingest')), [], 'no ingest left');
  const img = images(root)[0]!;
  assert.deepEqual(img.createdAt, img.updatedAt);
});

test('importImages_multiPlatform_hostOnlyOrAll_labelsFollowThePlatformFilter', async () => {
  const idx = (tar: string) => json(member(tar, `blobs/sha256/${INFO.MULTI_INDEX!.slice(7)}`));
  const multi = idx(A('multi.tar'));
  const root = emptyRoot();
  await doImport(root, A('multi.tar'));
  let recs = records(root);
  assert.deepEqual(recs.get(INFO.MULTI_INDEX!)!.labels, { 'containerd.io/gc.ref.content.m.0': INFO.MULTI_AMD64_MANIFEST });
  assert.ok(recs.has(INFO.MULTI_AMD64_CONFIG!));
  assert.ok(!recs.has(INFO.MULTI_ARM64_MANIFEST!) && !recs.has(INFO.MULTI_ARM64_CONFIG!), 'other platforms are left to the GC');
  const all = emptyRoot();
  await doImport(all, A('multi.tar'), { ...HOST, platform: allPlatforms });
  recs = records(all);
  assert.deepEqual(recs.get(INFO.MULTI_INDEX!)!.labels, { 'containerd.io/gc.ref.content.m.0': multi.manifests[0].digest, 'containerd.io/gc.ref.content.m.1': multi.manifests[1].digest });
  assert.ok(recs.has(INFO.MULTI_ARM64_CONFIG!));
  const arm = emptyRoot();
  await doImport(arm, A('multi.tar'), { ...HOST, platform: onlyStrictPlatform(parsePlatform('linux/arm64')) });
  assert.deepEqual(records(arm).get(INFO.MULTI_INDEX!)!.labels, { 'containerd.io/gc.ref.content.m.0': INFO.MULTI_ARM64_MANIFEST });
});

test('importImages_dockerSave_synthesisesManifestsAndIndexAsContainerd', async () => {
  const root = emptyRoot();
  const res = await doImport(root, A('docker.tar'), { ...HOST, indexName: 'example.com/all:1' });
  const mf = json(member(A('docker.tar'), 'manifest.json')) as unknown as { Config: string; RepoTags: string[] | null; Layers: string[] }[];
  assert.deepEqual(
    res.images.map((i) => i.name),
    ['example.com/all:1', 'docker.io/library/dalpha:1.0', 'docker.io/library/dgz:1', 'example.com/team/dgz:latest'],
  );
  const store = await openContentStore(path.join(root, CONTENT));
  const indexTarget = res.images[0]!.target;
  assert.equal(indexTarget.mediaType, 'application/vnd.oci.image.index.v1+json');
  const index = JSON.parse((await store.read(indexTarget.digest)).toString());
  assert.equal(index.manifests.length, 4, 'one entry per RepoTag, one for the manifest without');
  assert.deepEqual(index.manifests[3].platform, { architecture: 'arm64', os: 'linux' });
  assert.equal(index.manifests[3].annotations, undefined);
  const dalpha = res.images[1]!.target;
  assert.equal(dalpha.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.deepEqual(dalpha.annotations, { 'io.containerd.image.name': 'docker.io/library/dalpha:1.0', 'org.opencontainers.image.ref.name': '1.0' });
  const m = JSON.parse((await store.read(dalpha.digest)).toString());
  assert.deepEqual(Object.keys(m), ['schemaVersion', 'mediaType', 'config', 'layers']);
  const cfg = member(A('docker.tar'), mf[0]!.Config);
  assert.deepEqual(m.config, { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha(cfg), size: cfg.length });
  assert.deepEqual(m.layers.map((l: any) => [l.mediaType, l.digest]), mf[0]!.Layers.map((f) => ['application/vnd.docker.image.rootfs.diff.tar', sha(member(A('docker.tar'), f))]));
  const gz = JSON.parse((await store.read(res.images[2]!.target.digest)).toString());
  assert.equal(gz.layers[0].mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
  assert.equal(res.images[2]!.target.digest, res.images[3]!.target.digest);
  // The index (named) keeps all four manifests, each its config and layers; the symlinked layer is the base layer.
  const recs = records(root);
  assert.deepEqual(
    Object.keys(recs.get(indexTarget.digest)!.labels!).sort(),
    ['containerd.io/gc.ref.content.m.0', 'containerd.io/gc.ref.content.m.1', 'containerd.io/gc.ref.content.m.2'],
    'host platform only: the arm64 manifest gets no label',
  );
  assert.ok(!recs.has(sha(member(A('docker.tar'), 'repositories'))), "docker save's repositories file is left to the GC");
});

test('importImages_intoFixtureRoot_keepsWhatWasThere_andUpdatesAnExistingName', async () => {
  const root = fixtureCopy();
  const before = images(root);
  const beforeRecs = records(root);
  const first = await doImport(root, A('app.tar'), HOST, 'k8s.io');
  const res = await doImport(root, A('alpha.tar'));
  assert.equal(first.images.length, 1);
  const after = images(root);
  const name = res.images[0]!.name;
  const old = before.find((i) => i.name === name);
  for (const b of before) {
    const a = after.find((i) => i.name === b.name)!;
    if (b.name !== name) assert.deepEqual(a, b);
  }
  const upd = after.find((i) => i.name === name)!;
  if (old) {
    assert.deepEqual(upd.createdAt, old.createdAt, 'Update("target") keeps createdat');
    assert.notDeepEqual(upd.updatedAt, old.updatedAt);
  }
  const recs = records(root);
  for (const [d, c] of beforeRecs) assert.deepEqual(recs.get(d)!.createdAt, c.createdAt, 'existing records keep their times');
  // tsctr lists it; the listing command reads the same root
  let out = '';
  assert.equal(await main(['--root', root, 'images', 'ls', '-q'], { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true } }, {}), 0);
  assert.ok(out.split('\n').includes(name));
});

// ---- bad archives ------------------------------------------------------------------------------

function tarOf(dir: string, files: Record<string, string | Buffer>): Buffer {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-import-bad-'));
  for (const [n, b] of Object.entries(files)) {
    fs.mkdirSync(path.join(d, path.dirname(n)), { recursive: true });
    fs.writeFileSync(path.join(d, n), b);
  }
  execFileSync('tar', ['--format=gnu', '-C', d, '-cf', path.join(d, '..', `${path.basename(d)}.tar`), ...Object.keys(files)]);
  return fs.readFileSync(path.join(d, '..', `${path.basename(d)}.tar`));
}

test('importImages_badArchives_typedErrors_andTheRootUnchanged', async () => {
  const alphaFiles = (): Record<string, Buffer> => {
    const names = execFileSync('tar', ['-tf', A('alpha.tar')]).toString().trim().split('\n').filter((n) => !n.endsWith('/'));
    return Object.fromEntries(names.map((n) => [n, member(A('alpha.tar'), n)]));
  };
  const layout = '{"imageLayoutVersion":"1.0.0"}';
  const cases: [string, Buffer, string, RegExp][] = [
    ['not a tar', Buffer.from('not a tar at all\n'.repeat(64)), 'not-tar', /^archive\/tar: invalid tar header$/],
    ['truncated', fs.readFileSync(A('alpha.tar')).subarray(0, 3000), 'not-tar', /unexpected EOF|invalid tar header/],
    ['neither layout', tarOf('x', { 'hello.txt': 'hi' }), 'format', /^unrecognized image format$/],
    ['no index.json', tarOf('x', { 'oci-layout': layout }), 'missing', /^missing index\.json in OCI layout 1\.0\.0$/],
    ['layout version', tarOf('x', { 'oci-layout': '{"imageLayoutVersion":"9"}' }), 'format', /^unsupported OCI version 9$/],
    ['bad manifest.json', tarOf('x', { 'manifest.json': '[{' }), 'format', /^untar manifest "manifest\.json": /],
    ['docker config missing', tarOf('x', { 'manifest.json': '[{"Config":"c.json","RepoTags":["a:1"],"Layers":[]}]' }), 'missing', /^image config "c\.json" not found$/],
    ['docker layer missing', tarOf('x', { 'manifest.json': '[{"Config":"c.json","RepoTags":["a:1"],"Layers":["l/layer.tar"]}]', 'c.json': '{"os":"linux","architecture":"amd64"}' }), 'missing', /layer "l\/layer\.tar" not found/],
  ];
  {
    // a blob whose bytes are not what its name says
    const f = alphaFiles();
    const cfg = `blobs/sha256/${INFO.ALPHA_CONFIG!.slice(7)}`;
    f[cfg] = Buffer.from('{"os":"linux","architecture":"amd64","tampered":true}');
    cases.push(['digest mismatch', tarOf('x', f), 'digest', /^failed to ingest "blobs\/sha256\/[0-9a-f]{64}": .*digest/]);
  }
  {
    // the manifest's config is not in the archive
    const f = alphaFiles();
    delete f[`blobs/sha256/${INFO.ALPHA_CONFIG!.slice(7)}`];
    // (into the fixture root this succeeds, as with containerd: its default namespace has that blob)
    cases.push(['missing blob', tarOf('x', f), 'missing', new RegExp(`^content digest ${INFO.ALPHA_CONFIG}: not found$`)]);
  }
  for (const [what, bytes, reason, message] of cases) {
    for (const root of what === 'missing blob' ? [emptyRoot()] : [fixtureCopy(), emptyRoot()]) {
      // meta.db is made (empty root) by the open, as containerd's would be; compare after that.
      openMetadata(path.join(root, META), { readOnly: false }).close();
      await openContentStore(path.join(root, CONTENT));
      const before = fileTree(root);
      await assert.rejects(doImport(root, bytes), (e: unknown) => {
        assert.ok(e instanceof ErrImportArchive, `${what}: ${String(e)}`);
        assert.equal(e.code, 'ERR_IMPORT_ARCHIVE');
        assert.equal(e.reason, reason, what);
        assert.match(e.message, message, what);
        return true;
      }, what);
      assert.deepEqual(fileTree(root), before, `${what}: nothing changed`);
    }
  }
});

test('importImages_indexesListingTheSameIndexTwice_eachHandledOnce_labelsAsTheWalkSetsThem', { timeout: 60_000 }, async () => {
  // 40 levels of OCI indexes, each listing the level below twice: 2^40 paths for a walk that
  // follows every one (as containerd's images.Walk does), 41 descriptors for one that skips what it
  // has handled. Labels and images are what the full walk would set: handling a descriptor again
  // sets the same keys to the same digests.
  const files: Record<string, Buffer> = {};
  for (const n of execFileSync('tar', ['-tf', A('alpha.tar')]).toString().trim().split('\n')) {
    if (!n.endsWith('/') && n !== 'index.json') files[n] = member(A('alpha.tar'), n);
  }
  const alphaIndex = json(member(A('alpha.tar'), 'index.json'));
  const { annotations: _drop, ...mdesc } = alphaIndex.manifests[0];
  let below: Record<string, unknown> = mdesc;
  const levels: { digest: string; labels: Record<string, string> }[] = [];
  for (let k = 0; k < 40; k++) {
    const doc = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [below, below] }));
    const d = sha(doc);
    files[`blobs/sha256/${d.slice(7)}`] = doc;
    const key = k === 0 ? 'containerd.io/gc.ref.content.m.' : 'containerd.io/gc.ref.content.';
    levels.push({ digest: d, labels: { [`${key}0`]: below.digest as string, [`${key}1`]: below.digest as string } });
    below = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: d, size: doc.length };
  }
  const top = { ...below, annotations: { 'io.containerd.image.name': 'docker.io/library/nested:1' } };
  files['index.json'] = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [top] }));
  const root = emptyRoot();
  const res = await doImport(root, tarOf('x', files));
  assert.deepEqual(res.images.map((i) => [i.name, i.target.digest]), [['docker.io/library/nested:1', levels[39]!.digest]]);
  const recs = records(root);
  for (const l of levels) assert.deepEqual(recs.get(l.digest)?.labels, l.labels);
  const manifest = json(member(A('alpha.tar'), `blobs/sha256/${INFO.ALPHA_MANIFEST!.slice(7)}`));
  assert.deepEqual(
    [...recs.keys()].sort(),
    [...levels.map((l) => l.digest), INFO.ALPHA_MANIFEST, manifest.config.digest, ...manifest.layers.map((l: any) => l.digest)].sort(),
  );
  assert.deepEqual(recs.get(INFO.ALPHA_MANIFEST!)!.labels, {
    'containerd.io/gc.ref.content.config': manifest.config.digest,
    'containerd.io/gc.ref.content.l.0': manifest.layers[0].digest,
    'containerd.io/gc.ref.content.l.1': manifest.layers[1].digest,
  });
});

test('importImages_namespaceIndexBlobListsItself_walkEnds_imageAndLabelsWritten', { timeout: 60_000 }, async () => {
  // The archive names an index it does not carry; the fixture root's default namespace has it, and
  // its file has been overwritten to list itself (blobs are not hashed on read, by containerd or
  // by us). containerd's walk would never end; ours handles the index once.
  const root = fixtureCopy();
  const multi = [...records(root).values()].find((c) => images(root).some((i) => i.name === 'docker.io/library/multi:latest' && i.target.digest === c.digest))!;
  const blob = blobFile(root, multi.digest);
  const desc = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: multi.digest, size: multi.size };
  const doc = JSON.stringify({ schemaVersion: 2, mediaType: desc.mediaType, manifests: [desc] });
  assert.ok(doc.length <= multi.size);
  fs.writeFileSync(blob, doc.padEnd(multi.size, ' '));
  const before = records(root);
  const files = { 'oci-layout': '{"imageLayoutVersion":"1.0.0"}', 'index.json': JSON.stringify({ schemaVersion: 2, manifests: [{ ...desc, annotations: { 'io.containerd.image.name': 'docker.io/library/loop:1' } }] }) };
  const res = await doImport(root, tarOf('x', files));
  assert.deepEqual(res.images.map((i) => [i.name, i.target.digest]), [['docker.io/library/loop:1', multi.digest]]);
  const after = records(root);
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), 'no record added or removed');
  assert.deepEqual(after.get(multi.digest)!.labels, { ...before.get(multi.digest)!.labels, 'containerd.io/gc.ref.content.0': multi.digest });
  for (const [d, c] of before) if (d !== multi.digest) assert.deepEqual(after.get(d), c, d);
});

// ---- the command ----------------------------------------------------------------------------------

function run(argv: string[], stdin?: Buffer, tty = false): Promise<TsctrRun> {
  return runTsctr(argv, { ...(stdin ? { stdin: Readable.from([stdin]) } : {}), isTTY: tty });
}

test('tsctr_imagesImport_flagsStdinAndTheUnpackNote', async () => {
  const root = emptyRoot();
  assert.deepEqual(await run(['--root', root, 'images', 'import', '--no-unpack', '-'], fs.readFileSync(A('pause.tar'))), { code: 0, out: '', err: '' });
  const r = await run(['--root', root, '-n', 'b', 'images', 'import', '--index-name', 'idx', A('pause.tar')]);
  assert.equal(r.code, 0);
  assert.equal(r.out, '');
  assert.match(r.err, /^tsctr: 2 images are not unpacked offline/);
  assert.match((await run(['--root', root, '-n', 'b', 'images', 'ls', '-q'])).out, /^idx\nregistry\.k8s\.io\/pause:3\.9\n$/);
  const c = await run(['--root', root, 'images', 'import', '--compress-blobs', A('docker.tar')]);
  assert.equal(c.code, 1);
  assert.match(c.err, /--compress-blobs is not supported offline/);
  assert.equal((await run(['--root', root, 'images', 'import', '--bogus', A('docker.tar')])).err, 'ctr: flag provided but not defined: -bogus\n');
  // a progress bar on a TTY
  const t = await run(['--root', root, '-n', 'c', 'images', 'import', '--no-unpack', A('docker.tar')], undefined, true);
  assert.equal(t.code, 0);
  assert.match(t.err, /\rimporting \[=+\] .*100%/);
});

test('tsctr_imagesImport_refusesWhileMetaDbIsLocked_andChangesNothing', async () => {
  const root = fixtureCopy();
  const meta = path.join(root, META);
  const lock = await lockInAnotherProcess(meta);
  try {
    const before = fileTree(root);
    const r = await run(['--root', root, 'images', 'import', A('alpha.tar')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /is locked by another process \(is containerd running on this root\?\)/);
    assert.deepEqual(fileTree(root), before);
  } finally {
    await lock.release();
  }
});
