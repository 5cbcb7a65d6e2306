// The metadata reader on real meta.db / metadata.db files from ../shared/corpus (when present):
// listings agree with a plain walk of the bolt buckets and, object for object, with what Go bbolt 1.3.6
// read from the same file (the reference program's dump decoded by test/helpers/containerd-oracle.ts,
// which uses nothing of src/), through MetadataDB and through tsctr's --json listings; every stored
// timestamp and varint re-encodes to the exact bytes Go wrote, and nothing throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open, type Bucket } from '../../src/bolt/index.js';
import { decodeTime, encodeTime, decodeVarint, encodeVarint, decodeAny, encodeAny, openMetadata, SnapshotterDB } from '../../src/metadata/index.js';
import { main as tsctr } from '../../src/cli/tsctr.js';
import { asJSON, goDump, metaOracle, snapshotterOracle } from '../helpers/containerd-oracle.js';

const CORPUS = fileURLToPath(new URL('../../../shared/corpus', import.meta.url));
const META_FILES = [
  'containerd-meta-linux.db',
  'containerd-1.7-meta-windows.db',
  'containerd-2021-meta-dfirlabs.db',
  'containerd-meta-eks-trimmed.db',
  'containerd-meta-gke-gcfs-trimmed.db',
];
const SNAPSHOTTER_FILES = [
  'snapshotter-2021-metadata-dfirlabs.db',
  'snapshotter-gcfs-metadata.db',
  'snapshotter-gke-node-metadata.db',
  'snapshotter-overlayfs-metadata.db',
];

const s = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
function childNames(b: Bucket | undefined): string[] {
  const out: string[] = [];
  b?.forEach((k, v) => {
    if (v === undefined) out.push(s(k));
  });
  return out;
}
/** Every value stored under a key of this name anywhere below b. */
function collect(b: Bucket, names: Set<string>, out: Uint8Array[], depth = 0): void {
  b.forEach((k, v) => {
    if (v === undefined) {
      if (depth < 8) collect(b.bucket(k)!, names, out, depth + 1);
    } else if (names.has(s(k))) out.push(v.slice());
  });
}

if (existsSync(CORPUS)) {
  for (const f of META_FILES) {
    const path = join(CORPUS, f);
    test(`MetadataDB_listings_agreeWithBucketWalk ${f}`, () => {
      const raw = open(path, { readOnly: true });
      const expected = raw.view((tx) => {
        const v1 = tx.bucket('v1');
        return childNames(v1).map((ns) => {
          const nb = v1!.bucket(ns)!;
          return {
            ns,
            images: childNames(nb.bucket('images')),
            containers: childNames(nb.bucket('containers')),
            blobs: childNames(nb.bucket('content')?.bucket('blob')),
            leases: childNames(nb.bucket('leases')),
            snapshotters: childNames(nb.bucket('snapshots')),
          };
        });
      });
      raw.close();
      const m = openMetadata(path, { readOnly: true });
      try {
        assert.deepEqual(m.namespaces().map((n) => n.name), expected.map((e) => e.ns));
        assert.ok(expected.length > 0);
        for (const e of expected) {
          assert.deepEqual(m.images(e.ns).map((i) => i.name), e.images);
          assert.deepEqual(m.containers(e.ns).map((c) => c.id), e.containers);
          assert.deepEqual(m.content(e.ns).map((c) => c.digest), e.blobs);
          assert.deepEqual(m.leases(e.ns).map((l) => l.id), e.leases);
          assert.deepEqual(m.snapshotters(e.ns), e.snapshotters);
          for (const sn of e.snapshotters) m.snapshots(e.ns, sn);
          m.ingests(e.ns);
          m.sandboxes(e.ns);
          for (const c of m.containers(e.ns)) {
            if (c.spec) assert.match(c.spec.typeUrl, /runtime-spec/);
            if (c.spec) JSON.parse(Buffer.from(c.spec.value).toString('utf8'));
          }
          // Trimmed files hold hand-edited digests; only require one to be present.
          for (const img of m.images(e.ns)) assert.match(img.target.digest, /^sha256:[0-9a-f]+$/);
        }
      } finally {
        m.close();
      }
    });

    test(`encoding_roundTrip_goBytes ${f}`, () => {
      const raw = open(path, { readOnly: true });
      const times: Uint8Array[] = [];
      const varints: Uint8Array[] = [];
      const anys: Uint8Array[] = [];
      raw.view((tx) => {
        const v1 = tx.bucket('v1');
        if (!v1) return;
        collect(v1, new Set(['createdat', 'updatedat', 'expireat']), times);
        collect(v1, new Set(['size', 'version']), varints);
        collect(v1, new Set(['spec', 'options']), anys);
      });
      raw.close();
      if (!f.includes('trimmed')) assert.ok(times.length > 0);
      for (const t of times) assert.deepEqual(encodeTime(decodeTime(t)), t);
      for (const v of varints) assert.deepEqual(encodeVarint(decodeVarint(v)[0]), v);
      for (const a of anys) assert.deepEqual(encodeAny(decodeAny(a)), a);
    });
  }

  for (const f of SNAPSHOTTER_FILES) {
    test(`SnapshotterDB_list_agreesWithBucketWalk ${f}`, () => {
      const path = join(CORPUS, f);
      const raw = open(path, { readOnly: true });
      const names = raw.view((tx) => childNames(tx.bucket('v1')?.bucket('snapshots')));
      raw.close();
      const db = SnapshotterDB.open(path);
      try {
        const list = db.list();
        assert.deepEqual(list.map((x) => x.name), names);
        assert.ok(list.length > 0);
        const ids = new Set(list.map((x) => x.id));
        assert.equal(ids.size, list.length, 'ids are unique');
        for (const x of list) {
          assert.notEqual(x.kind, 'Unknown');
          // Trimmed files drop some parents, so only untrimmed files must be closed under parent.
          if (x.parent && !f.includes('gcfs')) assert.ok(names.includes(x.parent), `parent ${x.parent} exists`);
        }
        for (const [p, c, name] of db.parents()) {
          assert.equal(list.find((x) => x.name === name)?.id, c);
          assert.ok(ids.has(p));
        }
      } finally {
        db.close();
      }
    });
  }

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
