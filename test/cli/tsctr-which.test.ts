// tsctr snapshots which: on the real containerd 1.6 fixture root, every snapshot ctr listed (recorded
// `ctr snapshots ls`) maps to a directory and back to its key and ctr's KIND; an image's layer
// snapshots are the ones containerd's unpacker named (its containerd.io/gc.ref.snapshot.<sn> label
// on the config) and each overlayfs layer directory holds exactly the files of that layer's tarball
// (listed by tar); the containers are those ctr's `containers info` names. Nothing under the root changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runTsctr } from '../helpers/tsctr.js';
import { chainIDs, configDiffIDs } from '../../src/metadata/chainid.js';
import { openMetadata } from '../../src/metadata/index.js';
import { fileTree } from '../helpers/fstree.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/containerd', import.meta.url));
const ROOT = path.join(FIXTURE, 'root');
const BLOBS = path.join(ROOT, 'io.containerd.content.v1.content', 'blobs', 'sha256');

function field(out: string, name: string): string[] {
  return [...out.matchAll(new RegExp(`^${name}: +(.*)$`, 'gm'))].map((m) => m[1]!);
}

/** The rows of a recorded ctr table (its header dropped), split into their whitespace-separated fields. */
function recordedRows(ns: string, file: string): string[][] {
  const text = fs.readFileSync(path.join(FIXTURE, 'expected', ns, file), 'utf8');
  return text
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s+/));
}

/** KEY and KIND columns of a recorded `ctr snapshots ls`. */
function recordedSnapshots(ns: string, sn: string): { key: string; kind: string }[] {
  return recordedRows(ns, `snapshots-snapshotter-${sn}-ls.txt`).map((f) => ({ key: f[0]!, kind: f[f.length - 1]! }));
}

for (const ns of ['default', 'k8s.io', 'tools']) {
  for (const sn of ['overlayfs', 'native']) {
    test(`Which_${ns}_${sn}_everyRecordedSnapshotRoundTripsKeyDirectoryKey`, async () => {
      const before = fileTree(ROOT);
      const snaps = recordedSnapshots(ns, sn);
      for (const { key, kind } of snaps) {
        const r = await runTsctr(['--root', ROOT, '-n', ns, 'snapshots', '--snapshotter', sn, 'which', key]);
        assert.equal(r.code, 0, r.err);
        const dir = r.out.trim();
        const m = new RegExp(`^${ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/io\\.containerd\\.snapshotter\\.v1\\.${sn}/snapshots/(\\d+)${sn === 'overlayfs' ? '/fs' : ''}$`).exec(dir);
        assert.ok(m, `${key}: ${dir}`);
        // Back: from a path inside the directory (the directory itself when git kept no file in it).
        const inside = fs.existsSync(dir) ? path.join(dir, fs.readdirSync(dir)[0] ?? '') : dir;
        const back = await runTsctr(['--root', ROOT, 'snapshots', '--snapshotter', 'none', 'which', inside]);
        assert.equal(back.code, 0, back.err);
        assert.deepEqual(field(back.out, 'snapshotter'), [sn]);
        assert.deepEqual(field(back.out, 'id'), [m[1]]);
        assert.deepEqual(field(back.out, 'kind'), [kind]);
        assert.deepEqual(field(back.out, 'namespace'), [ns]);
        assert.deepEqual(field(back.out, 'key'), [key]);
        // And by number.
        const byId = await runTsctr(['--root', ROOT, 'snapshots', '--snapshotter', sn, 'which', m[1]!]);
        assert.equal(byId.out, back.out);
      }
      assert.deepEqual(fileTree(ROOT), before);
    });
  }
}

function tarFiles(blob: string): string[] {
  const r = spawnSync('tar', ['-tzf', blob], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '' && !l.endsWith('/'))
    .map((l) => l.replace(/^\.\//, ''))
    .sort();
}

function dirFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const n of fs.readdirSync(d)) {
      const p = path.join(d, n);
      if (fs.statSync(p).isDirectory()) walk(p, rel + n + '/');
      else out.push(rel + n);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** REF and DIGEST columns of the recorded `ctr images ls`. */
function recordedImages(ns: string): { name: string; digest: string }[] {
  return recordedRows(ns, 'images-ls.txt').map((f) => ({ name: f[0]!, digest: f[2]! }));
}

/** Config digests an image target reaches (manifest JSON read directly; index manifests whose blob is present). */
function configsOf(digest: string): string[] {
  const file = path.join(BLOBS, digest.slice(7));
  if (!fs.existsSync(file)) return [];
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as { config?: { digest: string }; manifests?: { digest: string }[] };
  if (j.config) return [j.config.digest];
  return (j.manifests ?? []).flatMap((x) => configsOf(x.digest));
}

test('Which_imageLayers_areContainerdsUnpackedSnapshotsHoldingTheLayerTarsFiles', async () => {
  const m = openMetadata(path.join(ROOT, 'io.containerd.metadata.v1.bolt', 'meta.db'));
  let checkedDirs = 0;
  try {
    for (const ns of ['default', 'k8s.io', 'tools']) {
      const content = m.content(ns);
      const uncompressed = new Map(content.filter((c) => c.labels?.['containerd.io/uncompressed']).map((c) => [c.labels!['containerd.io/uncompressed']!, c.digest]));
      for (const c of content) {
        for (const sn of ['overlayfs', 'native']) {
          const top = c.labels?.[`containerd.io/gc.ref.snapshot.${sn}`];
          if (!top) continue;
          // containerd's unpacker labelled this config with its top layer's chain id: ours agrees.
          const diffIDs = configDiffIDs(fs.readFileSync(path.join(BLOBS, c.digest.slice(7))));
          const chain = chainIDs(diffIDs);
          assert.equal(chain[chain.length - 1], top, `${ns} ${c.digest}`);
          const images = recordedImages(ns);
          for (const [i, id] of chain.entries()) {
            const r = await runTsctr(['--root', ROOT, '-n', ns, 'snapshots', '--snapshotter', sn, 'which', id]);
            assert.equal(r.code, 0, r.err);
            const dir = r.out.trim();
            const w = await runTsctr(['--root', ROOT, 'snapshots', 'which', dir]);
            const owners = field(w.out, 'images')[0]!;
            // The images ctr listed whose manifests' configs have this chain id.
            const want = images.filter((x) => configsOf(x.digest).some((cfg) => chainIDs(configDiffIDs(fs.readFileSync(path.join(BLOBS, cfg.slice(7))))).includes(id)));
            assert.equal(owners, want.length > 0 ? want.map((x) => x.name).join(', ') : '-', `${ns} ${id}`);
            if (sn === 'overlayfs') {
              const layer = uncompressed.get(diffIDs[i]!);
              assert.ok(layer, `no blob for ${diffIDs[i]}`);
              assert.deepEqual(dirFiles(dir), tarFiles(path.join(BLOBS, layer.slice(7))), `${dir} vs layer ${layer}`);
              checkedDirs++;
            }
          }
        }
      }
    }
  } finally {
    m.close();
  }
  assert.ok(checkedDirs >= 4, `only ${checkedDirs} layer directories checked`);
});

test('Which_containers_areTheOnesCtrContainersInfoPutsOnTheSnapshot', async () => {
  for (const [ns, id] of [
    ['default', 'web1'],
    ['default', 'web2'],
    ['default', 'db1'],
    ['default', 'bigspec'],
    ['tools', 'toolbox'],
    ['k8s.io', 'app-0-main'],
  ] as const) {
    const info = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'expected', ns, `containers-info-${id}.txt`), 'utf8')) as { SnapshotKey: string; Snapshotter: string };
    const r = await runTsctr(['--root', ROOT, '-n', ns, 'snapshots', '--snapshotter', info.Snapshotter, 'which', info.SnapshotKey]);
    assert.equal(r.code, 0, r.err);
    const w = await runTsctr(['--root', ROOT, 'snapshots', 'which', r.out.trim()]);
    assert.ok(field(w.out, 'containers')[0]!.split(', ').includes(`${id} (its snapshot)`), w.out);
    // The layer below it names the container as standing on it.
    const parentKey = field(w.out, 'parent key')[0]!;
    const p = await runTsctr(['--root', ROOT, '-n', ns, 'snapshots', '--snapshotter', info.Snapshotter, 'which', parentKey]);
    const pw = await runTsctr(['--root', ROOT, 'snapshots', 'which', p.out.trim()]);
    assert.ok(field(pw.out, 'containers')[0]!.split(', ').includes(`${id} (a parent layer)`), pw.out);
  }
});

test('Which_unknownIdKeyOrOutsidePath_exit1WithAMessage', async () => {
  const r1 = await runTsctr(['--root', ROOT, 'snapshots', '--snapshotter', 'overlayfs', 'which', '999']);
  assert.equal(r1.code, 1);
  assert.match(r1.out, /^backend: +- \(no snapshot with id 999 in io\.containerd\.snapshotter\.v1\.overlayfs\/metadata\.db\)$/m);
  const r2 = await runTsctr(['--root', ROOT, '-n', 'default', 'snapshots', 'which', 'no-such-key']);
  assert.deepEqual(r2, { code: 1, out: '', err: 'ctr: snapshot no-such-key does not exist: not found\n' });
  const r3 = await runTsctr(['--root', ROOT, 'snapshots', 'which', '/etc/hostname']);
  assert.equal(r3.code, 1);
  assert.match(r3.err, /is not inside a snapshot directory/);
  const r4 = await runTsctr(['--root', ROOT, 'snapshots', 'which']);
  assert.equal(r4.code, 1);
});
