// The namespaced content writer (containerd metadata/content.go): ingest records with their backend ref,
// 24 h expiry or lease, and `expected` when the shared policy adopts a blob another namespace holds; the
// isolated policy making a namespace write the bytes; commit (record, lease, ingest gone), abort, resume;
// errors with containerd's texts. Every test ends with a clean tx.check().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openContentStore, digestOf, ContentDigestMismatchError, type ContentStore } from '../../src/content/index.js';
import { createMetadata, NamespacedContentStore, ErrAlreadyExists, ErrFailedPrecondition, ErrInvalidArgument, ErrNotFound, INGEST_EXPIRY_SECONDS, type ContentSharingPolicy, type GoTime, type MetadataDB } from '../../src/metadata/index.js';

const T0: GoTime = { unix: 1700000000, nanos: 42 };
const DATA = new TextEncoder().encode('the blob both namespaces want\n');
const DGST = digestOf(DATA);

async function withStores(policy: ContentSharingPolicy, fn: (cs: NamespacedContentStore, m: MetadataDB, store: ContentStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbolt-nscontent-'));
  const m = createMetadata(join(dir, 'meta.db'), { clock: () => T0 });
  try {
    const store = await openContentStore(join(dir, 'content'));
    await fn(new NamespacedContentStore(m, store, policy), m, store);
    assert.deepEqual(m.db.view((tx) => tx.check()), []);
  } finally {
    m.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Namespace a commits the blob with its bytes. */
async function seed(cs: NamespacedContentStore): Promise<void> {
  const w = await cs.writer('a', { ref: 'seed', expected: { digest: DGST, size: DATA.length } });
  assert.equal(w.adopting, false);
  await w.write(DATA);
  await w.commit(DATA.length, DGST);
}

test('NamespacedWriter_ingestRecord_backendRefExpiryAndCommit', async () => {
  await withStores('shared', async (cs, m, store) => {
    const w = await cs.writer('a', { ref: 'upload-1' });
    assert.equal(w.backendRef, 'a/1/upload-1');
    const expireAt = { unix: T0.unix + INGEST_EXPIRY_SECONDS, nanos: T0.nanos };
    assert.deepEqual(w.expireAt, expireAt);
    assert.deepEqual(m.ingests('a'), [{ ref: 'upload-1', backendRef: 'a/1/upload-1', expireAt }]);
    await w.write(DATA.subarray(0, 5));
    await w.close();
    // A second writer on the ref resumes the same backend ingest.
    const again = await cs.writer('a', { ref: 'upload-1' });
    assert.equal(again.backendRef, 'a/1/upload-1');
    assert.equal(again.offset(), 5);
    await again.write(DATA.subarray(5));
    const info = await again.commit(DATA.length, DGST, { role: 'test' });
    assert.deepEqual(info, { digest: DGST, size: DATA.length, createdAt: T0, updatedAt: T0, labels: { role: 'test' } });
    assert.deepEqual(m.content('a'), [info]);
    assert.deepEqual(m.ingests('a'), []);
    assert.deepEqual([...(await store.read(DGST))], [...DATA]);
    assert.deepEqual(await store.listStatuses(), []);
  });
});

test('NamespacedWriter_sharedPolicy_adoptsBlobWithoutBytes', async () => {
  await withStores('shared', async (cs, m, store) => {
    await seed(cs);
    const w = await cs.writer('b', { ref: 'pull', expected: { digest: DGST, size: DATA.length } });
    assert.equal(w.adopting, true);
    assert.equal(w.offset(), DATA.length);
    assert.deepEqual(m.ingests('b'), [{ ref: 'pull', backendRef: 'b/1/pull', expireAt: w.expireAt, expected: DGST }]);
    assert.deepEqual(await store.listStatuses(), [], 'no backend ingest while adopting');
    await assert.rejects(w.commit(DATA.length + 1), (e: unknown) => e instanceof ErrFailedPrecondition && e.message === `"pull" failed size validation: ${DATA.length} != ${DATA.length + 1}: failed precondition`);
    await assert.rejects(w.commit(0, digestOf(new Uint8Array([1]))), (e: unknown) => e instanceof ErrFailedPrecondition && e.message === '"pull" unexpected digest: failed precondition');
    const info = await w.commit(DATA.length, DGST);
    assert.equal(info.digest, DGST);
    assert.deepEqual(m.content('b').map((c) => c.digest), [DGST]);
    assert.deepEqual(m.ingests('b'), []);
  });
});

test('NamespacedWriter_sharedPolicy_sizeMismatchDoesNotAdopt', async () => {
  await withStores('shared', async (cs) => {
    await seed(cs);
    const w = await cs.writer('b', { ref: 'pull', expected: { digest: DGST, size: DATA.length + 1 } });
    assert.equal(w.adopting, false);
    await w.close();
  });
});

test('NamespacedWriter_sharedPolicy_writeUnsharesByCopying', async () => {
  await withStores('shared', async (cs, m, store) => {
    await seed(cs);
    const w = await cs.writer('b', { ref: 'pull', expected: { digest: DGST } });
    assert.equal(w.adopting, true);
    await w.write(new TextEncoder().encode('more'));
    assert.equal(w.adopting, false);
    assert.equal(w.offset(), DATA.length + 4);
    const info = await w.commit();
    const longer = new Uint8Array([...DATA, ...new TextEncoder().encode('more')]);
    assert.equal(info.digest, digestOf(longer));
    assert.deepEqual([...(await store.read(info.digest))], [...longer]);
    assert.deepEqual(m.content('b').map((c) => c.digest), [info.digest]);
  });
});

test('NamespacedWriter_isolatedPolicy_requiresTheBytes', async () => {
  await withStores('isolated', async (cs, m, store) => {
    await seed(cs);
    const w = await cs.writer('b', { ref: 'pull', expected: { digest: DGST, size: DATA.length } });
    assert.equal(w.adopting, false);
    assert.deepEqual(m.ingests('b'), [{ ref: 'pull', backendRef: 'b/1/pull', expireAt: w.expireAt }], 'no expected: nothing adopted');
    await assert.rejects(w.commit(0, DGST), ContentDigestMismatchError);
    const again = await cs.writer('b', { ref: 'pull', expected: { digest: DGST, size: DATA.length } });
    await again.write(DATA);
    // The backend has the blob already: fine, the namespace gets its record.
    const info = await again.commit(DATA.length, DGST);
    assert.equal(info.digest, DGST);
    assert.deepEqual(m.content('b').map((c) => c.digest), [DGST]);
    assert.deepEqual(await store.listStatuses(), []);
  });
});

test('NamespacedWriter_lease_holdsIngestThenBlob', async () => {
  await withStores('shared', async (cs, m) => {
    await assert.rejects(cs.writer('a', { ref: 'r', lease: 'missing' }), (e: unknown) => e instanceof ErrNotFound && e.message === 'lease does not exist: not found');
    assert.deepEqual(m.ingests('a'), [], 'the failed call wrote nothing');
    m.createLease('a', 'L');
    const w = await cs.writer('a', { ref: 'r', lease: 'L' });
    assert.equal(w.expireAt, undefined);
    assert.deepEqual(m.ingests('a'), [{ ref: 'r', backendRef: 'a/1/r' }]);
    assert.deepEqual(m.leases('a')[0]!.resources, [{ id: 'r', type: 'ingests' }]);
    await w.write(DATA);
    await w.commit();
    assert.deepEqual(m.leases('a')[0]!.resources, [{ id: DGST, type: 'content' }]);
    // The namespace has it: "already exists", and a second lease holds it too.
    m.createLease('a', 'L2');
    await assert.rejects(cs.writer('a', { ref: 'r2', lease: 'L2', expected: { digest: DGST } }), (e: unknown) => e instanceof ErrAlreadyExists && e.message === `content ${DGST}: already exists`);
    assert.deepEqual(m.leases('a')[1]!.resources, [{ id: DGST, type: 'content' }]);
    assert.deepEqual(m.ingests('a'), []);
  });
});

test('NamespacedContentStore_abort_recordAndBackend', async () => {
  await withStores('shared', async (cs, m, store) => {
    await seed(cs);
    const adopted = await cs.writer('b', { ref: 'adopt', expected: { digest: DGST } });
    const own = await cs.writer('b', { ref: 'own' });
    await own.write(DATA.subarray(0, 3));
    await own.close();
    assert.equal((await store.listStatuses()).length, 1);
    await cs.abort('b', 'adopt');
    await cs.abort('b', 'own');
    assert.equal(adopted.adopting, true);
    assert.deepEqual(m.ingests('b'), []);
    assert.deepEqual(await store.listStatuses(), []);
    assert.equal(existsSync(store.ingestDir('b/1/own')), false);
    assert.ok(await store.exists(DGST), 'the adopted blob stays');
    await assert.rejects(cs.abort('b', 'own'), (e: unknown) => e instanceof ErrNotFound && e.message === 'reference own: not found');
  });
});

test('NamespacedContentStore_writer_validation', async () => {
  await withStores('shared', async (cs) => {
    await assert.rejects(cs.writer('a', { ref: '' }), (e: unknown) => e instanceof ErrInvalidArgument && e.message === 'ref must not be empty: invalid argument');
    await assert.rejects(cs.writer('a', { ref: 'x', expected: { digest: 'sha256:abc' } }), (e: unknown) => e instanceof ErrInvalidArgument && /invalid checksum digest length/.test(e.message));
    await assert.rejects(cs.writer('', { ref: 'x' }), (e: unknown) => e instanceof ErrInvalidArgument && e.message === 'namespace is required: failed precondition');
  });
});
