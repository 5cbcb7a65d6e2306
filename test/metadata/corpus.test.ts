// The metadata reader on real meta.db / metadata.db files from ../shared/corpus (when present):
// listings agree with a plain walk of the bolt buckets, every stored timestamp and varint re-encodes to
// the exact bytes Go wrote, and nothing throws. The comparison with Go's own reading of each file is
// test/interop/corpus-reference.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Bucket } from '../../src/bolt/index.js';
import { decodeTime, encodeTime, decodeVarint, encodeVarint, decodeAny, encodeAny, openMetadata, SnapshotterDB } from '../../src/metadata/index.js';
import { CORPUS, CORPUS_META_FILES, CORPUS_SNAPSHOTTER_FILES } from '../helpers/corpus.js';

const META_FILES = CORPUS_META_FILES;
const SNAPSHOTTER_FILES = CORPUS_SNAPSHOTTER_FILES;

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
}
