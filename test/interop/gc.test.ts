// tsctr gc against containerd 1.6's own garbage collector, on copies of the containerd fixture root:
// what `tsctr gc --dry-run` lists is exactly what a real containerd collects (meta.db records, backend
// snapshots and their directories, blob files, ingest directories) when its GC runs synchronously
// (`ctr leases rm --sync` of a throwaway lease); after `tsctr gc` on another copy, containerd lists the same
// objects as on the copy it collected itself, and its own GC then finds nothing more and logs no error.
// Also: after tsctr snapshots rm / containers rm (the steps recorded in fixtures/ctr-rm), containerd lists what
// it listed after real ctr ran them, and its GC runs without errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openMetadata, SnapshotterDB } from '../../src/metadata/index.js';
import { nodeId, scanAll } from '../../src/metadata/gc.js';
import { planGarbageCollect, type GCRun } from '../../src/metadata/gc-cleanup.js';
import { containerdLogErrors, startContainerd, type Containerd } from '../helpers/containerd.js';
import { runTsctr } from '../helpers/tsctr.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/containerd/root', import.meta.url));
const EXPECTED_RM = JSON.parse(fs.readFileSync(fileURLToPath(new URL('../../fixtures/ctr-rm/expected.json', import.meta.url)), 'utf8')) as {
  steps: { argv: string[] }[];
  after: { argv: string[]; code: number; stdout: string; stderr: string }[];
};
const META = path.join('io.containerd.metadata.v1.bolt', 'meta.db');
const SNAPSHOTTERS = ['native', 'overlayfs'];

/** dir/root = a copy of the fixture root (startContainerd's layout). */
function copy(prefix: string): { dir: string; root: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.cpSync(FIXTURE, path.join(dir, 'root'), { recursive: true });
  return { dir, root: path.join(dir, 'root') };
}

const ls = (p: string): string[] => (fs.existsSync(p) ? fs.readdirSync(p).sort() : []);

interface State {
  records: string[];
  blobs: string[];
  ingests: string[];
  backend: Record<string, string[]>;
  dirs: Record<string, string[]>;
}

/** Everything a collection can remove, read from a stopped root. */
function state(root: string): State {
  const m = openMetadata(path.join(root, META));
  const records = m.view((tx) => scanAll(tx).map(nodeId));
  m.close();
  const backend: Record<string, string[]> = {};
  const dirs: Record<string, string[]> = {};
  for (const sn of SNAPSHOTTERS) {
    const sroot = path.join(root, `io.containerd.snapshotter.v1.${sn}`);
    const db = SnapshotterDB.open(path.join(sroot, 'metadata.db'));
    backend[sn] = db.list().map((s) => s.name);
    db.close();
    dirs[sn] = ls(path.join(sroot, 'snapshots')).filter((d) => /^\d+$/.test(d));
  }
  const content = path.join(root, 'io.containerd.content.v1.content');
  const blobs = ls(path.join(content, 'blobs', 'sha256')).map((h) => `sha256:${h}`);
  const ingests = ls(path.join(content, 'ingest')).map((d) => fs.readFileSync(path.join(content, 'ingest', d, 'ref'), 'utf8'));
  return { records, blobs, ingests: ingests.sort(), backend, dirs };
}

const minus = (a: string[], b: string[]) => a.filter((x) => !b.includes(x)).sort();

/** What a collection removed, in the shape of tsctr's plan. */
function removedBetween(before: State, after: State) {
  return {
    records: minus(before.records, after.records),
    blobs: minus(before.blobs, after.blobs),
    ingests: minus(before.ingests, after.ingests),
    backend: Object.fromEntries(SNAPSHOTTERS.map((sn) => [sn, minus(before.backend[sn]!, after.backend[sn]!)])),
    dirs: Object.fromEntries(SNAPSHOTTERS.map((sn) => [sn, minus(before.dirs[sn]!, after.dirs[sn]!)])),
  };
}

function planned(run: GCRun) {
  const ss = (sn: string) => run.snapshotters.find((s) => s.snapshotter === sn);
  return {
    records: run.plan.removed.map(nodeId).sort(),
    blobs: [...(run.content?.blobs ?? [])].sort(),
    ingests: [...(run.content?.ingests ?? [])].sort(),
    backend: Object.fromEntries(SNAPSHOTTERS.map((sn) => [sn, (ss(sn)?.remove ?? []).map((s) => s.name).sort()])),
    dirs: Object.fromEntries(SNAPSHOTTERS.map((sn) => [sn, (ss(sn)?.dirs ?? []).map((d) => d.replace(/^snapshots\//, '')).sort()])),
  };
}

/** containerd's GC, now and synchronously: delete a throwaway lease with --sync. */
async function syncGC(c: Containerd): Promise<void> {
  assert.equal((await c.ctr(['-n', 'default', 'leases', 'create', '--id', 'tsbolt-gc-trigger'])).code, 0);
  const r = await c.ctr(['-n', 'default', 'leases', 'rm', '--sync', 'tsbolt-gc-trigger']);
  assert.equal(r.code, 0, r.stderr);
}

/** What ctr lists for every namespace (content ls without its AGE and map-ordered LABELS columns). */
async function listings(c: Containerd): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const nss = (await c.ctr(['namespaces', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
  for (const ns of nss) {
    for (const args of [['images', 'ls'], ['containers', 'ls'], ['content', 'ls', '-q'], ['leases', 'ls', '-q'], ['snapshots', '--snapshotter', 'native', 'ls'], ['snapshots', '--snapshotter', 'overlayfs', 'ls']]) {
      const r = await c.ctr(['-n', ns, ...args]);
      out[`${ns} ${args.join(' ')}`] = `${r.code}\n${r.stdout}${r.stderr}`;
    }
    const active = await c.ctr(['-n', ns, 'content', 'active']);
    out[`${ns} content active`] = active.stdout.split('\n').map((l) => l.split('\t')[0]).join('\n');
  }
  return out;
}

/** Offline changes applied to both copies before collecting, so the sweep has snapshots, leases and images to take. */
type Prep = (root: string) => Promise<void>;

async function compareWithContainerd(name: string, prep: Prep): Promise<void> {
  const a = copy(`tsbolt-gc-real-${name}-`);
  const b = copy(`tsbolt-gc-ours-${name}-`);
  await prep(a.root);
  await prep(b.root);
  const before = state(a.root);
  assert.deepEqual(state(b.root), before);

  // tsctr's plan on A, read-only.
  const m = openMetadata(path.join(a.root, META));
  const run = planGarbageCollect(a.root, m);
  m.close();
  const dry = await runTsctr(['--root', a.root, 'gc', '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  assert.deepEqual(state(a.root), before, 'dry run changed nothing');

  // containerd collects A.
  let c = await startContainerd(a.dir);
  let real: Record<string, string>;
  try {
    await syncGC(c);
    real = await listings(c);
  } finally {
    await c.stop();
  }
  const afterReal = state(a.root);
  assert.deepEqual(planned(run), removedBetween(before, afterReal), 'tsctr gc --dry-run lists what containerd collected');

  // tsctr collects B: the same objects remain, and containerd lists and keeps them.
  const ours = await runTsctr(['--root', b.root, 'gc']);
  assert.equal(ours.code, 0, ours.err);
  assert.equal(ours.out, dry.out);
  const afterOurs = state(b.root);
  assert.deepEqual(afterOurs, afterReal);
  c = await startContainerd(b.dir);
  try {
    assert.deepEqual(await listings(c), real);
    await syncGC(c);
  } finally {
    await c.stop();
  }
  assert.deepEqual(state(b.root), afterOurs, "containerd's GC after tsctr gc deletes nothing more");
  assert.deepEqual(containerdLogErrors(a.dir), []);
  assert.deepEqual(containerdLogErrors(b.dir), []);
}

async function ok(argv: string[]): Promise<void> {
  const r = await runTsctr(argv);
  assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
}

test('Interop_gcDryRun_isWhatContainerdCollects_onTheFixtureRoot', async () => {
  await compareWithContainerd('fixture', async () => {});
});

test('Interop_gcDryRun_isWhatContainerdCollects_afterLeasesImagesAndContainersGo', async () => {
  await compareWithContainerd('freed', async (root) => {
    // Frees snapshots on both snapshotters (lease resources, image layers, a kept container snapshot), blobs and an ingest.
    await ok(['--root', root, '-n', 'default', 'leases', 'rm', 'fixture-lease']);
    await ok(['--root', root, '-n', 'default', 'images', 'rm', 'docker.io/library/multi:latest']);
    await ok(['--root', root, '-n', 'default', 'containers', 'rm', '--keep-snapshot', 'bigspec', 'db1']);
    await ok(['--root', root, '-n', 'k8s.io', 'containers', 'rm', '--keep-snapshot', 'app-0-main']);
    await ok(['--root', root, '-n', 'tools', 'images', 'rm', 'docker.io/library/multi:latest', 'tools.example.com/multi:stable']);
  });
});

test('Interop_gcDryRun_isWhatContainerdCollects_withFlatAndPlainLeasesAndIngestExpectations', async () => {
  await compareWithContainerd('flat', async (root) => {
    // Written with the metadata library as containerd's Leases API would (ctr 1.6 cannot add lease resources):
    // a gc.flat lease keeps the multi index but not what its labels name, and a layer snapshot with its parents
    // but not its labels; a plain lease keeps an ingest whose expected digest then stays too.
    const m = openMetadata(path.join(root, META), { readOnly: false });
    m.createLease('default', 'flat', { 'containerd.io/gc.flat': 'yes' });
    m.addLeaseResource('default', 'flat', { type: 'content', id: 'sha256:8abcfd481aa9a1284f5598ab9b5f3a12d59e654fdd30488ec406f4259515f583' });
    m.addLeaseResource('default', 'flat', { type: 'snapshots/overlayfs', id: 'sha256:71fb0ce0c0260d429d7343dd0494aa16a8aafc8713e9da0af34dd1ba4faf00bb' });
    m.createLease('tools', 'plain', { 'containerd.io/gc.expire': '2999-01-01T00:00:00Z' });
    m.addLeaseResource('tools', 'plain', { type: 'ingests', id: 'tar-blobs/sha256/e591c96a87d13c993215dc57ecfe0c50a8889667816655e79473e199b84f96b6' });
    m.close();
    await ok(['--root', root, '-n', 'default', 'leases', 'rm', 'fixture-lease']);
    await ok(['--root', root, '-n', 'default', 'images', 'rm', 'docker.io/library/multi:latest', 'docker.io/library/alpha:1.0', 'docker.io/library/alpha:latest']);
    await ok(['--root', root, '-n', 'default', 'containers', 'rm', 'web1', 'web2', 'bigspec']);
  });
});

test('Interop_containerdStartsAfterTsctrSnapshotsAndContainersRm_listsWhatCtrLeft_andCollectsWithoutErrors', async () => {
  const { dir, root } = copy('tsbolt-gc-rm-');
  for (const s of EXPECTED_RM.steps) await runTsctr(['--root', root, ...s.argv]);
  const c = await startContainerd(dir);
  try {
    for (const s of EXPECTED_RM.after) {
      const r = await c.ctr(s.argv);
      assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code: s.code, stdout: s.stdout, stderr: s.stderr }, s.argv.join(' '));
    }
    await syncGC(c);
    for (const s of EXPECTED_RM.after) assert.equal((await c.ctr(s.argv)).stdout, s.stdout, `${s.argv.join(' ')} after containerd's GC`);
  } finally {
    await c.stop();
  }
  assert.deepEqual(containerdLogErrors(dir), []);
});
