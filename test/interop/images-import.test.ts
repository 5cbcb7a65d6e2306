// tsctr images import against real ctr images import (containerd 1.6): the same archives (built from
// scratch by fixtures/containerd/archives.sh) go through real ctr into one root and through tsctr into
// another; once containerd runs on each, `ctr images ls` and `ctr content ls` (minus AGE) are the same.
// ctr imports under a lease whose end leaves the import's unreferenced blobs (index.json, other
// platforms, docker save's extra files) to the GC: the real root is compared after a synchronous GC,
// ours before any GC (and a GC on ours must change nothing: we leave no garbage). Then ctr images check
// calls our images complete, ctr containers create unpacks and uses one, and errors match ctr's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { containerdLogErrors, startContainerd, type Containerd } from '../helpers/containerd.js';
import { runTsctr } from '../helpers/tsctr.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** ctr content ls without AGE, labels sorted (ctr prints a Go map: random order). */
async function contentLs(c: Containerd, ns: string): Promise<string[]> {
  const r = await c.ctr(['-n', ns, 'content', 'ls']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => {
      const f = l.split('\t').filter((x) => x !== '');
      return `${f[0]} ${f[1]} ${f.at(-1)!.split(',').sort().join(',')}`;
    });
}

async function imagesLs(c: Containerd, ns: string): Promise<string> {
  const r = await c.ctr(['-n', ns, 'images', 'ls']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** A synchronous GC: containerd collects when a lease is deleted with --sync. */
async function syncGC(c: Containerd): Promise<void> {
  assert.equal((await c.ctr(['leases', 'create', '--id', 'gc-now'])).code, 0);
  const r = await c.ctr(['leases', 'rm', '--sync', 'gc-now']);
  assert.equal(r.code, 0, r.stderr);
}

const archives = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-import-archives-'));
execFileSync('bash', [path.join(repo, 'fixtures/containerd/archives.sh'), archives]);
const A = (name: string) => path.join(archives, name);

// docker save RepoTags in the forms containerd normalises (short names, index.docker.io, a registry with
// a port, tag plus digest, a name with a digest only): docker.tar's first image under all of them.
{
  const d = path.join(archives, 'names');
  fs.mkdirSync(d);
  execFileSync('tar', ['-xf', A('docker.tar'), '-C', d]);
  const mf = JSON.parse(fs.readFileSync(path.join(d, 'manifest.json'), 'utf8'));
  const digest = 'sha256:' + 'cd'.repeat(32);
  mf[0].RepoTags = ['alpine', 'busybox:1.36', 'index.docker.io/x/y:2', 'localhost:5000/a', 'reg.example.com:5000/team/b:3', `c:4@${digest}`, `e@${digest}`];
  fs.writeFileSync(path.join(d, 'manifest.json'), JSON.stringify(mf.slice(0, 1)));
  execFileSync('tar', ['--format=gnu', '-C', d, '-cf', A('names.tar'), '.']);
}

// [namespace, flags, archive]: each case in its own namespace of both roots.
const CASES: [string, string[], string][] = [
  ['oci', [], 'alpha.tar'],
  ['multi', [], 'multi.tar'],
  ['multiall', ['--all-platforms'], 'multi.tar'],
  ['multiarm', ['--platform', 'linux/arm64'], 'multi.tar'],
  ['docker', [], 'docker.tar'],
  ['named', ['--digests', '--index-name', 'example.com/idx:1'], 'app.tar'],
  ['base', ['--base-name', 'registry.example.com/team/app', '--digests', '--skip-digest-for-named'], 'app.tar'],
  ['twice', [], 'alpha.tar'],
  ['names', [], 'names.tar'],
  ['hybrid', [], 'hybrid.tar'],
  ['refonly', [], 'refonly.tar'],
  ['noname', ['--index-name', 'example.com/noname:1'], 'noname.tar'],
];

test('Interop_imagesImport_sameImagesAndContentAsRealCtr', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-import-interop-'));
  const realDir = path.join(dir, 'real');
  const oursDir = path.join(dir, 'ours');
  const expected = new Map<string, { images: string; content: string[]; out: string; check: string }>();
  let c = await startContainerd(realDir);
  try {
    for (const [ns, flags, file] of CASES) {
      const r = await c.ctr(['-n', ns, 'images', 'import', '--no-unpack', ...flags, A(file)]);
      assert.equal(r.code, 0, `${ns}: ${r.stderr}`);
      if (ns === 'twice') assert.equal((await c.ctr(['-n', ns, 'images', 'import', '--no-unpack', A(file)])).code, 0);
      expected.set(ns, { images: '', content: [], out: r.stdout + r.stderr, check: '' });
    }
    // Without --no-unpack ctr unpacks into the snapshotter and says so per image; offline we cannot.
    const unpack = await c.ctr(['-n', 'unpack', 'images', 'import', A('alpha.tar')]);
    const alphaDigest = /sha256:[0-9a-f]{64}/.exec((await c.ctr(['-n', 'oci', 'images', 'ls'])).stdout)![0];
    assert.deepEqual(unpack, { code: 0, stdout: `unpacking docker.io/library/alpha:1.0 (${alphaDigest})...done\n`, stderr: '' });
    assert.equal((await c.ctr(['leases', 'ls', '-q'])).stdout, '', 'ctr deletes its import lease');
    await syncGC(c);
    for (const [ns] of CASES) {
      const e = expected.get(ns)!;
      e.images = await imagesLs(c, ns);
      e.content = await contentLs(c, ns);
      const check = await c.ctr(['-n', ns, 'images', 'check']);
      e.check = `${check.code} ${check.stdout}`;
    }
  } finally {
    await c.stop();
  }
  assert.deepEqual(containerdLogErrors(realDir), []);

  const root = path.join(oursDir, 'root');
  fs.mkdirSync(root, { recursive: true });
  for (const [ns, flags, file] of CASES) {
    const r = await runTsctr(['--root', root, '-n', ns, 'images', 'import', '--no-unpack', ...flags, A(file)]);
    assert.equal(r.code, 0, `${ns}: ${r.err}`);
    assert.equal(r.out + r.err, expected.get(ns)!.out, `${ns}: ctr prints nothing with --no-unpack`);
    if (ns === 'twice') assert.equal((await runTsctr(['--root', root, '-n', ns, 'images', 'import', '--no-unpack', A(file)])).code, 0);
  }
  const unpack = await runTsctr(['--root', root, '-n', 'unpack', 'images', 'import', A('alpha.tar')]);
  assert.deepEqual(unpack, { code: 0, out: '', err: 'tsctr: the image is not unpacked offline (containerd unpacks on first use: ctr run, ctr containers create)\n' });
  c = await startContainerd(oursDir);
  try {
    for (const [ns] of CASES) {
      const e = expected.get(ns)!;
      assert.equal(await imagesLs(c, ns), e.images, `${ns}: images ls`);
      assert.ok(e.images.split('\n').length > 2, `${ns}: the case imports an image`);
      assert.deepEqual(await contentLs(c, ns), e.content, `${ns}: content ls`);
    }
    // Our root holds no garbage: a GC takes nothing.
    await syncGC(c);
    for (const [ns] of CASES) assert.deepEqual(await contentLs(c, ns), expected.get(ns)!.content, `${ns}: content ls after GC`);
    // ctr images check says what it says after real ctr: complete, except where --platform imported
    // only another platform's content (there ctr fails to find this host's manifest on both roots).
    for (const [ns, flags] of CASES) {
      const check = await c.ctr(['-n', ns, 'images', 'check']);
      assert.equal(`${check.code} ${check.stdout}`, expected.get(ns)!.check, `${ns}: images check`);
      if (flags.includes('--platform')) continue;
      const rows = check.stdout.trim().split('\n').slice(1);
      assert.ok(rows.length > 0);
      for (const row of rows) assert.match(row, / complete \(/, `${ns}: ${row}`);
    }
    // containerd unpacks our image when a container is created from it.
    const cc = await c.ctr(['-n', 'oci', 'containers', 'create', 'docker.io/library/alpha:1.0', 'c1']);
    assert.equal(cc.code, 0, cc.stderr);
    assert.match((await c.ctr(['-n', 'oci', 'containers', 'ls', '-q'])).stdout, /^c1\n$/);
    const unpacked = await c.ctr(['-n', 'oci', 'images', 'check']);
    assert.match(unpacked.stdout, /complete \(3\/3\)\s+\S+ \S+\/\S+ \S+\s+true\s*\n/);
    const cd = await c.ctr(['-n', 'docker', 'containers', 'create', 'docker.io/library/dalpha:1.0', 'd1']);
    assert.equal(cd.code, 0, cd.stderr);
  } finally {
    await c.stop();
  }
  assert.deepEqual(containerdLogErrors(oursDir), []);
});

test('Interop_imagesImport_intoAUsedRoot_matchesRealCtrThere', async () => {
  // A root that already has images and blobs (real ctr imported alpha and docker.tar), copied:
  // real ctr and tsctr then import multi.tar and alpha.tar again (shared layers, an image updated).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-import-used-'));
  const realDir = path.join(dir, 'real');
  let c = await startContainerd(realDir);
  try {
    for (const f of ['alpha.tar', 'docker.tar']) assert.equal((await c.ctr(['images', 'import', '--no-unpack', A(f)])).code, 0);
    await syncGC(c);
  } finally {
    await c.stop();
  }
  const oursDir = path.join(dir, 'ours');
  fs.mkdirSync(oursDir);
  fs.cpSync(path.join(realDir, 'root'), path.join(oursDir, 'root'), { recursive: true });
  c = await startContainerd(realDir);
  let images: string;
  let content: string[];
  try {
    for (const f of ['multi.tar', 'alpha.tar']) assert.equal((await c.ctr(['images', 'import', '--no-unpack', '--all-platforms', A(f)])).code, 0);
    await syncGC(c);
    images = await imagesLs(c, 'default');
    content = await contentLs(c, 'default');
  } finally {
    await c.stop();
  }
  for (const f of ['multi.tar', 'alpha.tar']) {
    const r = await runTsctr(['--root', path.join(oursDir, 'root'), 'images', 'import', '--no-unpack', '--all-platforms', A(f)]);
    assert.equal(r.code, 0, r.err);
  }
  c = await startContainerd(oursDir);
  try {
    assert.equal(await imagesLs(c, 'default'), images);
    assert.deepEqual(await contentLs(c, 'default'), content);
  } finally {
    await c.stop();
  }
  assert.deepEqual(containerdLogErrors(oursDir), []);
});

test('Interop_imagesImport_badInput_sameErrorsAsRealCtr', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-import-errors-'));
  const bad = (name: string, data: string | Buffer) => {
    fs.writeFileSync(path.join(dir, name), data);
    return path.join(dir, name);
  };
  // an OCI layout without index.json, and one whose index names a manifest the archive lacks
  const noIndex = path.join(dir, 'noindex');
  fs.mkdirSync(path.join(noIndex, 'blobs'), { recursive: true });
  fs.writeFileSync(path.join(noIndex, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  execFileSync('tar', ['--format=gnu', '-C', noIndex, '-cf', path.join(dir, 'noindex.tar'), 'oci-layout', 'blobs']);
  const missing = path.join(dir, 'missing');
  fs.mkdirSync(missing);
  fs.writeFileSync(path.join(missing, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const ghost = 'sha256:' + 'ab'.repeat(32);
  fs.writeFileSync(path.join(missing, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: ghost, size: 100, annotations: { 'io.containerd.image.name': 'example.com/ghost:1' } }] }));
  execFileSync('tar', ['--format=gnu', '-C', missing, '-cf', path.join(dir, 'missing.tar'), 'oci-layout', 'index.json']);
  const inputs: string[][] = [
    [bad('notar', 'this is not a tar archive\n'.repeat(40))],
    [bad('empty', '')],
    [bad('short', 'tiny')],
    [bad('truncated', fs.readFileSync(A('alpha.tar')).subarray(0, 3000))],
    [bad('gzipped.tar.gz', zlib.gzipSync(fs.readFileSync(A('alpha.tar'))))], // ctr 1.6 reads plain tar only
    [path.join(dir, 'does-not-exist.tar')],
    [path.join(dir, 'noindex.tar')],
    [path.join(dir, 'missing.tar')],
    ['--platform', 'linux/arm64/v8/x', A('multi.tar')],
    ['--skip-digest-for-named', A('alpha.tar')],
  ];
  // an OCI layout that lacks one of its layers: real ctr imports it (it never reads layers) and
  // leaves an incomplete image; tsctr refuses it (the one error ctr does not give)
  const lacking = path.join(dir, 'lacking');
  fs.mkdirSync(lacking);
  execFileSync('tar', ['-xf', A('alpha.tar'), '-C', lacking]);
  const manifest = JSON.parse(fs.readFileSync(path.join(lacking, 'blobs/sha256', JSON.parse(fs.readFileSync(path.join(lacking, 'index.json'), 'utf8')).manifests[0].digest.slice(7)), 'utf8'));
  const gone: string = manifest.layers[1].digest;
  fs.rmSync(path.join(lacking, 'blobs/sha256', gone.slice(7)));
  execFileSync('tar', ['--format=gnu', '-C', lacking, '-cf', path.join(dir, 'lacking.tar'), '.']);
  const realDir = path.join(dir, 'real');
  const want: { code: number; err: string }[] = [];
  const c = await startContainerd(realDir);
  try {
    for (const args of inputs) {
      const r = await c.ctr(['images', 'import', '--no-unpack', ...args]);
      want.push({ code: r.code, err: r.stderr });
    }
    assert.equal((await c.ctr(['-n', 'lack', 'images', 'import', '--no-unpack', path.join(dir, 'lacking.tar')])).code, 0);
    assert.match((await c.ctr(['-n', 'lack', 'images', 'check'])).stdout, / incomplete \(2\/3\) /);
  } finally {
    await c.stop();
  }
  const lack = await runTsctr(['--root', path.join(dir, 'ours-lack'), 'images', 'import', '--no-unpack', path.join(dir, 'lacking.tar')]);
  assert.deepEqual(lack, { code: 1, out: '', err: `ctr: content digest ${gone}: not found\n` });
  const root = path.join(dir, 'ours');
  fs.mkdirSync(root);
  for (const [i, args] of inputs.entries()) {
    const r = await runTsctr(['--root', root, 'images', 'import', '--no-unpack', ...args]);
    assert.deepEqual({ code: r.code, err: r.err }, want[i], args.join(' '));
    assert.equal(r.out, '');
  }
});
