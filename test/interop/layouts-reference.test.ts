// The containerd 1.7 and 2.0 layouts (fixtures/metadata, written by Go bbolt 1.3.6 following containerd's
// schema): the generator reproduces the committed bytes, MetadataDB and tsctr --json list exactly what Go
// reads from the files (test/helpers/containerd-oracle.ts), `tsctr sandboxes ls` prints what ctr 1.7's
// formatting prints in Go (`ref sandboxes`), a read-write open leaves a 2.x file untouched, version 5 is
// refused with a typed error, and sandboxes written through src/metadata land in the file's own layout,
// byte for byte as in the Go-written files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open, type Bucket } from '../../src/bolt/index.js';
import { createMetadata, encodeVarint, openMetadata, ErrUnknownSchemaVersion, type MetadataDB } from '../../src/metadata/index.js';
import { runTsctr } from '../helpers/tsctr.js';
import { META_FIXTURES, makeMetaFixture } from '../../fixtures/metadata/make.js';
import { runReference, type Dump } from '../helpers/reference.js';
import { asJSON, goDump, metaOracle } from '../helpers/containerd-oracle.js';

const DIR = fileURLToPath(new URL('../../fixtures/metadata/', import.meta.url));
const file = (name: string): string => join(DIR, `${name}.db`);

function tmp(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsbolt-layouts-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A containerd root holding a copy of the file as its meta.db. */
function rootWith(src: string, dir: string): string {
  mkdirSync(join(dir, 'io.containerd.metadata.v1.bolt'), { recursive: true });
  copyFileSync(src, join(dir, 'io.containerd.metadata.v1.bolt', 'meta.db'));
  return dir;
}

function subtree(b: Bucket | undefined): string[] {
  const out: string[] = [];
  const walk = (x: Bucket, pre: string): void =>
    x.forEach((k, v) => {
      const name = pre + Buffer.from(k).toString('hex');
      if (v === undefined) {
        out.push(`${name}/ seq=${x.bucket(k)!.sequence()}`);
        walk(x.bucket(k)!, name + '/');
      } else out.push(`${name} = ${Buffer.from(v).toString('hex')}`);
    });
  if (b) walk(b, '');
  return out;
}

test('MetaFixtures_generator_reproducesCommittedBytes', () => {
  const t = tmp();
  try {
    for (const f of META_FIXTURES) {
      makeMetaFixture(f, t.dir);
      assert.ok(readFileSync(join(t.dir, `${f.name}.db`)).equals(readFileSync(file(f.name))), `${f.name}.db`);
      assert.deepEqual(JSON.parse(readFileSync(join(DIR, `${f.name}.dump.json`), 'utf8')), runReference(['dump', file(f.name)]) as Dump);
    }
  } finally {
    t.done();
  }
});

for (const f of META_FIXTURES) {
  test(`MetaFixtures_layout_asClaimed ${f.name}`, () => {
    const dump = goDump(file(f.name));
    assert.deepEqual(dump.check, []);
    assert.equal(dump.freelistPgid, '18446744073709551615', 'NoFreelistSync');
    const top = dump.buckets.map((b) => Buffer.from(b.k, 'hex').toString());
    // 1.7: a top-level bucket per namespace with sandboxes; 2.0: everything under v1.
    assert.deepEqual(top, f.layout === '1.7' ? ['default', 'k8s.io', 'v1'] : ['v1']);
    const o = metaOracle(dump);
    assert.equal(o.version, f.dbVersion);
    const def = o.namespaces.find((n) => n.name === 'default')!;
    assert.deepEqual((def.sandboxes as { layout: string }[]).map((s) => s.layout), f.layout === '1.7' ? ['top-level', 'top-level'] : ['v1', 'v1']);
    assert.deepEqual((def.containers as { id: string; sandboxId?: string }[]).map((c) => [c.id, c.sandboxId]), [['job', ''], ['web', 'pod-1']]);
    const images = (def.leases as { resources: { type: string }[] }[]).flatMap((l) => l.resources).filter((r) => r.type === 'images');
    assert.equal(images.length, f.layout === '2.0' ? 1 : 0);
  });

  test(`MetadataDB_listings_equalGoReferenceDump ${f.name}`, () => {
    const want = metaOracle(goDump(file(f.name)));
    const m = openMetadata(file(f.name));
    try {
      assert.equal(m.version, want.version);
      assert.deepEqual(m.namespaces(), want.namespaces.map((n) => ({ name: n.name, labels: n.labels })));
      for (const n of want.namespaces) {
        assert.deepEqual(m.images(n.name), n.images);
        assert.deepEqual(m.containers(n.name), n.containers);
        assert.deepEqual(m.content(n.name), n.content);
        assert.deepEqual(m.ingests(n.name), n.ingests);
        assert.deepEqual(m.leases(n.name), n.leases);
        assert.deepEqual(m.snapshotters(n.name), n.snapshotters);
        for (const sn of n.snapshotters) assert.deepEqual(m.snapshots(n.name, sn), n.snapshots[sn]);
        assert.deepEqual(m.sandboxes(n.name), n.sandboxes);
      }
    } finally {
      m.close();
    }
  });

  test(`tsctr_listings_equalGoReference ${f.name}`, async () => {
    const t = tmp();
    try {
      const root = rootWith(file(f.name), t.dir);
      const want = metaOracle(goDump(file(f.name)));
      for (const n of want.namespaces) {
        const json = async (...a: string[]): Promise<unknown> => {
          const r = await runTsctr(['--root', root, '-n', n.name, ...a, '--json']);
          assert.equal(r.code, 0, r.err);
          return JSON.parse(r.out);
        };
        assert.deepEqual(await json('images', 'ls'), asJSON(n.images));
        assert.deepEqual(await json('containers', 'ls'), asJSON(n.containers));
        assert.deepEqual(await json('leases', 'ls'), asJSON(n.leases));
        assert.deepEqual(await json('content', 'ls'), asJSON(n.content));
        assert.deepEqual(await json('sandboxes', 'ls'), asJSON(n.sandboxes));
        // The table, as ctr 1.7 formats it (Go's tabwriter and time.Time.String, in the reference program).
        const table = await runTsctr(['--root', root, '-n', n.name, 'sandboxes', 'ls']);
        assert.equal(table.code, 0, table.err);
        assert.equal(table.out, runReference(['sandboxes', file(f.name), n.name]).out);
      }
      // --filters (ctr 1.7's flag, repeatable, OR'ed): the rows of the matching sandboxes.
      const all = (await runTsctr(['--root', root, 'sandboxes', 'ls'])).out.split('\n');
      const byLabel = await runTsctr(['--root', root, 'sb', 'ls', '--filters', 'labels.app==web']);
      assert.deepEqual(byLabel.out.split('\n'), [all[0], all.find((l) => l.startsWith('pod-1 ')), '']);
      const either = await runTsctr(['--root', root, 'sandboxes', 'list', '--filters', 'id==pod-2', '--filters=labels.app==web']);
      assert.equal(either.out, all.join('\n'));
      const bad = await runTsctr(['--root', root, 'sandboxes', 'ls', '--filters', 'labels.app==']);
      assert.equal(bad.code, 1);
      assert.match(bad.err, /^ctr: failed to list sandboxes: .*invalid argument\n$/);
    } finally {
      t.done();
    }
  });

  test(`openMetadata_readWrite_leavesFileUntouched ${f.name}`, () => {
    const t = tmp();
    try {
      const p = join(t.dir, 'meta.db');
      copyFileSync(file(f.name), p);
      const before = readFileSync(p);
      const mtime = statSync(p).mtimeMs;
      const m = openMetadata(p, { readOnly: false });
      assert.equal(m.version, f.dbVersion);
      assert.deepEqual(m.init, { from: f.dbVersion, migrated: [], wrote: false });
      m.close();
      assert.ok(readFileSync(p).equals(before));
      assert.equal(statSync(p).mtimeMs, mtime);
    } finally {
      t.done();
    }
  });

  test(`MetadataDB_sandboxWrites_inTheFilesLayout ${f.name}`, () => {
    const t = tmp();
    try {
      const p = join(t.dir, 'meta.db');
      copyFileSync(file(f.name), p);
      const m = openMetadata(p, { readOnly: false });
      try {
        assert.equal(m.sandboxLayout, f.layout === '1.7' ? 'top-level' : 'v1');
        const s = m.createSandbox('default', { id: 'new-pod', runtime: { name: 'io.containerd.runc.v2' }, labels: { a: 'b' }, sandboxer: 'podsandbox' });
        assert.equal(s.layout, m.sandboxLayout);
        assert.deepEqual(m.sandbox('default', 'new-pod'), s);
        m.deleteSandbox('default', 'pod-2');
        assert.deepEqual(m.sandboxes('default').map((x) => x.id), ['new-pod', 'pod-1']);
        const v = m.view((tx) => ({ top: tx.bucket('default')?.bucket('sandboxes')?.bucket('new-pod'), v1: tx.bucket('v1')!.bucket('default')?.bucket('sandboxes')?.bucket('new-pod') }));
        assert.equal(v.top !== undefined, f.layout === '1.7');
        assert.equal(v.v1 !== undefined, f.layout === '2.0');
        assert.equal(s.sandboxer, f.layout === '2.0' ? 'podsandbox' : undefined);
        assert.deepEqual(m.db.view((tx) => tx.check()), []);
      } finally {
        m.close();
      }
      // Still the version and freelist mode it was, and Go reads what we wrote.
      const dump = goDump(p);
      assert.deepEqual(dump.check, []);
      assert.equal(dump.freelistPgid, '18446744073709551615');
      const o = metaOracle(dump);
      assert.equal(o.version, f.dbVersion);
      assert.deepEqual((o.namespaces.find((n) => n.name === 'default')!.sandboxes as { id: string }[]).map((x) => x.id), ['new-pod', 'pod-1']);
    } finally {
      t.done();
    }
  });

  test(`MetadataDB_createSandboxAndContainer_byteIdenticalToGoFixture ${f.name}`, () => {
    const orig = openMetadata(file(f.name));
    const t = tmp();
    let m: MetadataDB | undefined;
    try {
      const p = join(t.dir, 'meta.db');
      createMetadata(p).close();
      const raw = open(p);
      raw.update((tx) => tx.bucket('v1')!.put('version', encodeVarint(f.dbVersion)));
      raw.close();
      m = openMetadata(p, { readOnly: false });
      let n = 0;
      for (const { name: ns } of orig.namespaces()) {
        for (const s of orig.sandboxes(ns)) {
          m.createSandbox(ns, { ...s, ...(s.sandboxer !== undefined ? { sandboxer: s.sandboxer } : {}) });
          n++;
        }
        // Containers of the 1.7+ layouts carry sandboxid (some empty): written back byte for byte too.
        for (const c of orig.containers(ns)) m.createContainer(ns, c);
        const containers = (db: MetadataDB): string[] => db.view((tx) => subtree(tx.bucket('v1')!.bucket(ns)?.bucket('containers')));
        assert.deepEqual(containers(m), containers(orig), `v1/${ns}/containers`);
        assert.deepEqual(m.containers(ns), orig.containers(ns));
        const path = f.layout === '1.7' ? [ns, 'sandboxes'] : ['v1', ns, 'sandboxes'];
        const get = (db: MetadataDB): string[] =>
          db.view((tx) => {
            let b = tx.bucket(path[0]!);
            for (const x of path.slice(1)) b = b?.bucket(x);
            return subtree(b);
          });
        assert.deepEqual(get(m), get(orig), path.join('/'));
        assert.deepEqual(m.sandboxes(ns), orig.sandboxes(ns));
      }
      assert.equal(n, 3);
    } finally {
      m?.close();
      orig.close();
      t.done();
    }
  });
}

test('openMetadata_readWrite_version5Refused', () => {
  const t = tmp();
  try {
    const p = join(t.dir, 'meta.db');
    copyFileSync(file('containerd-2.0'), p);
    const raw = open(p);
    raw.update((tx) => tx.bucket('v1')!.put('version', encodeVarint(5)));
    raw.close();
    const before = readFileSync(p);
    assert.throws(
      () => openMetadata(p, { readOnly: false }),
      (e: unknown) => e instanceof ErrUnknownSchemaVersion && e.code === 'ERR_UNKNOWN_SCHEMA_VERSION' && e.version === 5 && /version 5 is newer than supported \(4\)/.test(e.message),
    );
    assert.ok(readFileSync(p).equals(before), 'nothing written');
    // Read-only listing still works (what a reader can decode).
    const ro = openMetadata(p);
    assert.equal(ro.version, 5);
    assert.deepEqual(ro.namespaces().map((x) => x.name), ['default', 'empty', 'k8s.io']);
    ro.close();
  } finally {
    t.done();
  }
});

test('MetadataDB_leaseImageResources_only2xFiles', () => {
  const t = tmp();
  try {
    for (const f of META_FIXTURES) {
      const p = join(t.dir, `${f.name}.db`);
      copyFileSync(file(f.name), p);
      const m = openMetadata(p, { readOnly: false });
      try {
        const r = { type: 'images', id: 'docker.io/library/app:1.0' };
        if (f.layout === '2.0') {
          m.addLeaseResource('default', 'keep', r);
          assert.deepEqual(m.leases('default').find((l) => l.id === 'keep')!.resources, [r]);
          m.deleteLeaseResource('default', 'keep', r);
          assert.deepEqual(m.leases('default').find((l) => l.id === 'keep')!.resources, []);
          assert.throws(() => m.addLeaseResource('default', 'keep', { type: 'images/x', id: 'a' }), (e: unknown) => (e as Error).message === 'invalid resource type images/x: invalid argument');
        } else {
          assert.throws(() => m.addLeaseResource('default', 'keep', r), (e: unknown) => (e as { code?: string }).code === 'ERR_NOT_IMPLEMENTED' && (e as Error).message === 'resource type images not supported yet: not implemented');
        }
      } finally {
        m.close();
      }
    }
  } finally {
    t.done();
  }
});
