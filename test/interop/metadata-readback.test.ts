// Every object kind written through src/metadata reads back equal: what each write returns is what the
// listings return, and what Go bbolt 1.3.6 reads from the file (decoded independently of src/, see
// test/helpers/containerd-oracle.ts) is the same again; for a 1.6/1.7 file (dbVersion 3) and a 2.x one (4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf, openContentStore } from '../../src/content/index.js';
import { openMetadata, specAny, NamespacedContentStore, type GoTime } from '../../src/metadata/index.js';
import { goDump, metaOracle } from '../helpers/containerd-oracle.js';
import { createMetaDB } from '../helpers/metadata.js';

const T0: GoTime = { unix: 1700000000, nanos: 987654321 };
const D = (s: string): string => digestOf(new TextEncoder().encode(s));

for (const version of [3, 4] as const) {
  test(`MetadataDB_everyKind_readsBackEqual_andGoReadsTheSame v${version}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbolt-roundtrip-'));
    const path = join(dir, 'meta.db');
    try {
      createMetaDB(path, version);
      const m = openMetadata(path, { readOnly: false, clock: () => T0 });
      const wrote: Record<string, unknown[]> = { images: [], containers: [], content: [], leases: [], sandboxes: [] };
      try {
        m.createNamespace('ns1', { a: '1', 'b.c/d': 'e' });
        m.createNamespace('ns2');
        const store = await openContentStore(join(dir, 'content'));
        const cs = new NamespacedContentStore(m, store, 'shared');
        for (const s of ['blob one', 'blob two']) {
          const w = await cs.writer('ns1', { ref: `r-${s}` });
          await w.write(new TextEncoder().encode(s));
          wrote.content!.push(await w.commit(0, '', { 'containerd.io/gc.ref.content.x': D('blob two') }));
        }
        wrote.content!.push(m.addBlobRecord('ns1', D('external'), 8, undefined, { createdAt: { unix: 1, nanos: 2 }, updatedAt: { unix: 3, nanos: 4 } }));
        wrote.images!.push(m.createImage('ns1', { name: 'example.com/a:1', labels: { x: 'y' }, target: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: D('blob one'), size: 8, annotations: { 'org.opencontainers.image.ref.name': '1' } } }));
        wrote.images!.push(m.createImage('ns1', { name: 'example.com/b:2', target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D('blob two'), size: 8 } }));
        wrote.containers!.push(
          m.createContainer('ns1', {
            id: 'c1',
            image: 'example.com/a:1',
            labels: { app: 'x' },
            runtime: { name: 'io.containerd.runc.v2', options: { typeUrl: 'containerd.runc.v1.Options', value: new Uint8Array([0x50, 1]) } },
            spec: specAny({ ociVersion: '1.0.2', hostname: 'c1' }),
            snapshotter: 'overlayfs',
            snapshotKey: 'c1',
            extensions: { e: { typeUrl: 't', value: new Uint8Array([7]) } },
            sandboxId: 'pod',
          }),
        );
        wrote.containers!.push(m.createContainer('ns1', { id: 'c2', runtime: { name: 'io.containerd.runc.v2' }, spec: specAny({}) }));
        m.createLease('ns1', 'l1', { 'containerd.io/gc.expire': '2030-01-01T00:00:00Z' });
        m.addLeaseResource('ns1', 'l1', { type: 'content', id: D('blob one') });
        m.addLeaseResource('ns1', 'l1', { type: 'snapshots/overlayfs', id: 'c1' });
        if (version === 4) m.addLeaseResource('ns1', 'l1', { type: 'images', id: 'example.com/b:2' });
        const leased = await cs.writer('ns1', { ref: 'leased-upload', lease: 'l1' });
        await leased.close();
        const expiring = await cs.writer('ns1', { ref: 'expiring-upload' });
        await expiring.write(new Uint8Array([1, 2]));
        await expiring.close();
        const adopted = await cs.writer('ns2', { ref: 'adopt', expected: { digest: D('blob one') } });
        assert.equal(adopted.adopting, true);
        m.createLease('ns2', 'l2');
        wrote.leases = m.leases('ns1').concat(m.leases('ns2'));
        wrote.sandboxes!.push(m.createSandbox('ns1', { id: 'pod', labels: { k: 'v' }, runtime: { name: 'io.containerd.runc.v2' }, spec: specAny({ hostname: 'pod' }), sandboxer: 'podsandbox' }));

        // What each write returned is what the listings return.
        assert.deepEqual(m.namespaces(), [{ name: 'ns1', labels: { a: '1', 'b.c/d': 'e' } }, { name: 'ns2', labels: {} }]);
        assert.deepEqual(m.images('ns1'), wrote.images);
        assert.deepEqual(m.containers('ns1'), wrote.containers);
        assert.deepEqual(m.content('ns1').sort((a, b) => a.digest.localeCompare(b.digest)), [...wrote.content!].sort((a, b) => (a as { digest: string }).digest.localeCompare((b as { digest: string }).digest)));
        assert.deepEqual(m.sandboxes('ns1'), wrote.sandboxes);
        assert.deepEqual(m.leases('ns1')[0]!.resources.map((r) => r.type).sort(), ['content', 'ingests', ...(version === 4 ? ['images'] : []), 'snapshots/overlayfs'].sort());
        assert.deepEqual(
          m.ingests('ns1').map((i) => [i.ref, i.backendRef, i.expireAt !== undefined, i.expected]),
          [
            ['expiring-upload', 'ns1/1/expiring-upload', true, undefined],
            ['leased-upload', 'ns1/1/leased-upload', false, undefined],
          ],
        );
        assert.deepEqual(m.ingests('ns2'), [{ ref: 'adopt', backendRef: 'ns2/1/adopt', expireAt: { unix: T0.unix + 86400, nanos: T0.nanos }, expected: D('blob one') }]);
        assert.deepEqual(m.db.view((tx) => tx.check()), []);
      } finally {
        m.close();
      }

      // Go reads the same objects.
      const go = metaOracle(goDump(path));
      assert.equal(go.version, version);
      const r = openMetadata(path);
      try {
        assert.deepEqual(r.namespaces(), go.namespaces.map((n) => ({ name: n.name, labels: n.labels })));
        for (const n of go.namespaces) {
          assert.deepEqual(r.images(n.name), n.images);
          assert.deepEqual(r.containers(n.name), n.containers);
          assert.deepEqual(r.content(n.name), n.content);
          assert.deepEqual(r.ingests(n.name), n.ingests);
          assert.deepEqual(r.leases(n.name), n.leases);
          assert.deepEqual(r.sandboxes(n.name), n.sandboxes);
        }
        assert.deepEqual(r.leases('ns1').concat(r.leases('ns2')), wrote.leases);
      } finally {
        r.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
