// The metadata reader on real meta.db / metadata.db files from ../shared/corpus (when present), checked
// against the Go reference program: object for object, MetadataDB's and tsctr's --json listings equal
// what Go bbolt 1.3.6 read from the same file (the reference program's dump decoded by
// test/helpers/containerd-oracle.ts, which uses nothing of src/). Needs Go (see test/helpers/reference.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetadata, SnapshotterDB } from '../../src/metadata/index.js';
import { main as tsctr } from '../../src/cli/tsctr.js';
import { asJSON, goDump, metaOracle, snapshotterOracle } from '../helpers/containerd-oracle.js';
import { CORPUS, CORPUS_META_FILES, CORPUS_SNAPSHOTTER_FILES } from '../helpers/corpus.js';

const META_FILES = CORPUS_META_FILES;
const SNAPSHOTTER_FILES = CORPUS_SNAPSHOTTER_FILES;

if (existsSync(CORPUS)) {
  for (const f of META_FILES) {
    test(`MetadataDB_listings_equalGoReferenceDump ${f}`, () => {
      const path = join(CORPUS, f);
      const want = metaOracle(goDump(path));
      const m = openMetadata(path, { readOnly: true });
      try {
        assert.equal(m.version, want.version);
        assert.deepEqual(m.namespaces(), want.namespaces.map((n) => ({ name: n.name, labels: n.labels })));
        for (const n of want.namespaces) {
          assert.deepEqual(m.images(n.name), n.images, `${n.name} images`);
          assert.deepEqual(m.containers(n.name), n.containers, `${n.name} containers`);
          assert.deepEqual(m.content(n.name), n.content, `${n.name} content`);
          assert.deepEqual(m.ingests(n.name), n.ingests, `${n.name} ingests`);
          assert.deepEqual(m.leases(n.name), n.leases, `${n.name} leases`);
          assert.deepEqual(m.snapshotters(n.name), n.snapshotters, `${n.name} snapshotters`);
          for (const sn of n.snapshotters) assert.deepEqual(m.snapshots(n.name, sn), n.snapshots[sn], `${n.name} snapshots ${sn}`);
          assert.deepEqual(m.sandboxes(n.name), n.sandboxes, `${n.name} sandboxes`);
        }
      } finally {
        m.close();
      }
    });

    test(`tsctr_jsonListings_equalGoReferenceDump ${f}`, async () => {
      const want = metaOracle(goDump(join(CORPUS, f)));
      const root = mkdtempSync(join(tmpdir(), 'tsctr-oracle-'));
      try {
        mkdirSync(join(root, 'io.containerd.metadata.v1.bolt'));
        cpSync(join(CORPUS, f), join(root, 'io.containerd.metadata.v1.bolt', 'meta.db'));
        const run = async (...argv: string[]): Promise<unknown> => {
          let out = '';
          let err = '';
          const code = await tsctr(['--root', root, ...argv], { stdout: { write: (x: string) => (out += x) }, stderr: { write: (x: string) => (err += x) } }, {});
          assert.equal(code, 0, `${argv.join(' ')}: ${err}`);
          return JSON.parse(out);
        };
        assert.deepEqual(await run('namespaces', 'ls', '--json'), asJSON(want.namespaces.map((n) => ({ name: n.name, labels: n.labels }))));
        for (const n of want.namespaces) {
          assert.deepEqual(await run('-n', n.name, 'images', 'ls', '--json'), asJSON(n.images));
          assert.deepEqual(await run('-n', n.name, 'containers', 'ls', '--json'), asJSON(n.containers));
          for (const c of n.containers as { id: string }[]) assert.deepEqual(await run('-n', n.name, 'containers', 'info', '--json', c.id), asJSON(c));
          assert.deepEqual(await run('-n', n.name, 'content', 'ls', '--json'), asJSON(n.content));
          assert.deepEqual(await run('-n', n.name, 'leases', 'ls', '--json'), asJSON(n.leases));
        }
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }

  for (const f of SNAPSHOTTER_FILES) {
    test(`SnapshotterDB_list_equalsGoReferenceDump ${f}`, () => {
      const path = join(CORPUS, f);
      const db = SnapshotterDB.open(path);
      try {
        assert.deepEqual(db.list(), snapshotterOracle(goDump(path)));
      } finally {
        db.close();
      }
    });
  }

  test('tsctr_snapshotsLs_equalsGoReferenceDump dfirlabs meta.db + overlayfs metadata.db', async () => {
    const meta = join(CORPUS, 'containerd-2021-meta-dfirlabs.db');
    const sn = join(CORPUS, 'snapshotter-2021-metadata-dfirlabs.db');
    const want = metaOracle(goDump(meta));
    const backend = new Map((snapshotterOracle(goDump(sn)) as { name: string; kind: string; labels?: Record<string, string> }[]).map((b) => [b.name, b]));
    const root = mkdtempSync(join(tmpdir(), 'tsctr-oracle-'));
    try {
      mkdirSync(join(root, 'io.containerd.metadata.v1.bolt'));
      mkdirSync(join(root, 'io.containerd.snapshotter.v1.overlayfs'));
      cpSync(meta, join(root, 'io.containerd.metadata.v1.bolt', 'meta.db'));
      cpSync(sn, join(root, 'io.containerd.snapshotter.v1.overlayfs', 'metadata.db'));
      let checked = 0;
      for (const n of want.namespaces) {
        // containerd's metadata snapshotter Walk: meta.db records whose backend snapshot exists, kind from the
        // backend, name/parent/times from meta.db, labels = the backend's overlaid with meta.db's (overlayInfo).
        const expected = ((n.snapshots.overlayfs ?? []) as { key: string; name: string; parent: string; createdAt: unknown; updatedAt: unknown; labels?: Record<string, string> }[])
          .filter((r) => backend.has(r.name))
          .map((r) => {
            const b = backend.get(r.name)!;
            const labels = b.labels ? { ...b.labels, ...(r.labels ?? {}) } : r.labels;
            return { kind: b.kind, name: r.key, parent: r.parent, ...(labels ? { labels } : {}), created: r.createdAt, updated: r.updatedAt };
          });
        checked += expected.length;
        let out = '';
        const code = await tsctr(['--root', root, '-n', n.name, 'snapshots', '--snapshotter', 'overlayfs', 'ls', '--json'], { stdout: { write: (x: string) => (out += x) }, stderr: { write: () => true } }, {});
        assert.equal(code, 0);
        assert.deepEqual(JSON.parse(out), asJSON(expected));
      }
      assert.ok(checked > 0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}
