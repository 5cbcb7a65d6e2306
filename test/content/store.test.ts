// The content store through its public API: writers by ref (resume, locks, commit checks),
// info/read/walk/delete, ingest status/abort, labels, and hostile input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  openContentStore,
  MemoryLabelStore,
  digestOf,
  ingestKey,
  MAX_REF_LENGTH,
  ContentNotFoundError,
  ContentAlreadyExistsError,
  ContentLockedError,
  ContentSizeMismatchError,
  ContentDigestMismatchError,
  ContentUnsafePathError,
  ContentPreconditionError,
  ContentCorruptError,
  InvalidDigestError,
  InvalidRefError,
  type ContentStore,
} from '../../src/content/index.js';
import { fileTree } from '../helpers/fstree.js';
import { lockInAnotherProcess } from '../helpers/filelock.js';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-content-'));
}
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

async function put(store: ContentStore, ref: string, data: Buffer): Promise<string> {
  const w = await store.writer({ ref, total: data.length });
  await w.write(data);
  return w.commit(data.length, digestOf(data));
}

/** Every file under dir with its bytes' hash and mtime. */
test('ContentStore_writeAndCommit_blobIsInPlaceReadOnlyAndIngestGone', async () => {
  const dir = tmp();
  const store = await openContentStore(dir);
  const data = randomBytes(300_000);
  const progress: [number, number | undefined][] = [];
  const w = await store.writer({ ref: 'r1', total: data.length, onProgress: (d, t) => progress.push([d, t]) });
  await w.write(data.subarray(0, 1000));
  await w.write(data.subarray(1000));
  assert.equal(w.status().offset, data.length);
  assert.equal(w.status().total, data.length);
  assert.equal(w.digest(), digestOf(data));
  assert.deepEqual(progress, [[1000, data.length], [data.length, data.length]]);
  const d = await w.commit(data.length, digestOf(data));
  assert.equal(d, digestOf(data));
  const blob = path.join(dir, 'blobs', 'sha256', d.slice(7));
  assert.ok(fs.readFileSync(blob).equals(data));
  assert.equal(fs.statSync(blob).mode & 0o222, 0, 'blob has no write bits');
  assert.equal(fs.existsSync(path.join(dir, 'ingest', ingestKey('r1'))), false);
  const info = await store.info(d);
  assert.equal(info.digest, d);
  assert.equal(info.size, data.length);
  assert.ok(info.createdAt instanceof Date);
  assert.ok((await store.read(d)).equals(data));
  assert.ok((await store.read(d, 5, 10)).equals(data.subarray(5, 15)));
  assert.ok((await store.read(d, data.length - 3)).equals(data.subarray(data.length - 3)));
  const chunks: Buffer[] = [];
  for await (const c of await store.readStream(d, 100, 1000)) chunks.push(c as Buffer);
  assert.ok(Buffer.concat(chunks).equals(data.subarray(100, 1100)));
  const r = await store.readerAt(d);
  assert.equal(r.size, data.length);
  assert.ok((await r.readAt(200_000, 50)).equals(data.subarray(200_000, 200_050)));
  await r.close();
  await assert.rejects(() => w.write(Buffer.from('x')), code('ERR_CONTENT_PRECONDITION'));
});

test('ContentStore_writer_resumesAtTheOffsetLeftAndRehashes', async () => {
  const dir = tmp();
  const data = randomBytes(5000);
  let store = await openContentStore(dir);
  let w = await store.writer({ ref: 'resume', total: data.length });
  await w.write(data.subarray(0, 1234));
  await w.close();
  const st = await store.status('resume');
  assert.equal(st.offset, 1234);
  assert.equal(st.total, data.length);
  assert.equal(st.ref, 'resume');
  // A new store instance (as after a restart) resumes from the bytes on disk.
  store = await openContentStore(dir);
  const seen: number[] = [];
  w = await store.writer({ ref: 'resume', onProgress: (n) => seen.push(n) });
  assert.equal(w.status().offset, 1234);
  assert.equal(w.status().total, data.length);
  assert.deepEqual(seen, [1234]);
  await w.write(data.subarray(1234));
  assert.equal(await w.commit(data.length), digestOf(data));
  await assert.rejects(() => store.status('resume'), (e) => e instanceof ContentNotFoundError);
});

test('ContentStore_writer_oneWriterPerRef_inProcessAndAcrossProcesses', async () => {
  const dir = tmp();
  const store = await openContentStore(dir);
  const w = await store.writer({ ref: 'busy' });
  await assert.rejects(() => store.writer({ ref: 'busy' }), (e) => e instanceof ContentLockedError && e.code === 'ERR_CONTENT_LOCKED');
  const other = await store.writer({ ref: 'other' });
  await other.close();
  await w.close();
  // Another process holding the ingest's data file (as a second tsbolt would) locks us out too.
  const data = path.join(dir, 'ingest', ingestKey('busy'), 'data');
  const lock = await lockInAnotherProcess(data);
  try {
    await assert.rejects(() => store.writer({ ref: 'busy' }), (e) => e instanceof ContentLockedError);
  } finally {
    await lock.release();
  }
  const again = await store.writer({ ref: 'busy' });
  await again.close();
});

test('ContentStore_commit_wrongSizeOrDigest_failsTypedAndKeepsEverything', async () => {
  const dir = tmp();
  const store = await openContentStore(dir);
  const kept = randomBytes(1000);
  const keptDigest = await put(store, 'kept', kept);
  const data = randomBytes(2000);
  let w = await store.writer({ ref: 'bad' });
  await w.write(data);
  await assert.rejects(() => w.commit(1999), (e) => e instanceof ContentSizeMismatchError && e.code === 'ERR_CONTENT_SIZE_MISMATCH');
  w = await store.writer({ ref: 'bad' });
  assert.equal(w.status().offset, 2000, 'the ingest survives a failed commit');
  await assert.rejects(() => w.commit(2000, digestOf('other')), (e) => e instanceof ContentDigestMismatchError && e.code === 'ERR_CONTENT_DIGEST_MISMATCH');
  assert.equal((await store.status('bad')).offset, 2000);
  assert.ok((await store.read(keptDigest)).equals(kept));
  assert.deepEqual((await store.list()).map((i) => i.digest), [keptDigest]);
  w = await store.writer({ ref: 'bad' });
  assert.equal(await w.commit(2000, digestOf(data)), digestOf(data));
  // An expected digest of another algorithm re-hashes the data with it.
  w = await store.writer({ ref: 'sha512' });
  await w.write(Buffer.from('hello'));
  assert.equal(await w.commit(5, digestOf('hello', 'sha512')), digestOf('hello', 'sha512'));
  assert.ok(fs.existsSync(path.join(dir, 'blobs', 'sha512', digestOf('hello', 'sha512').slice(7))));
});

test('ContentStore_existingDigest_alreadyExistsAndIngestRemoved', async () => {
  const dir = tmp();
  const store = await openContentStore(dir);
  const data = Buffer.from('same bytes');
  const d = await put(store, 'a', data);
  await assert.rejects(() => store.writer({ ref: 'b', expected: d }), (e) => e instanceof ContentAlreadyExistsError && e.code === 'ERR_CONTENT_ALREADY_EXISTS');
  const w = await store.writer({ ref: 'c' });
  await w.write(data);
  await assert.rejects(() => w.commit(data.length), (e) => e instanceof ContentAlreadyExistsError);
  assert.equal(fs.existsSync(path.join(dir, 'ingest', ingestKey('c'))), false);
  assert.ok((await store.read(d)).equals(data));
});

test('ContentStore_walkFiltersLabelsAndDelete', async () => {
  const dir = tmp();
  const labels = new MemoryLabelStore();
  const store = await openContentStore(dir, { labels });
  const a = await put(store, 'a', Buffer.from('aaa'));
  const w = await store.writer({ ref: 'b' });
  await w.write(Buffer.from('bbbb'));
  const b = await w.commit(4, undefined, { labels: { role: 'config', 'x.y': 'z' } });
  assert.deepEqual((await store.list()).map((i) => i.digest).sort(), [a, b].sort());
  assert.deepEqual((await store.list('labels.role==config')).map((i) => i.digest), [b]);
  assert.deepEqual((await store.list('labels."x.y"==z')).map((i) => i.digest), [b]);
  assert.deepEqual((await store.list(`digest==${a}`)).map((i) => i.digest), [a]);
  assert.deepEqual((await store.list('size==3', 'labels.role==config')).map((i) => i.digest).sort(), [a, b].sort());
  const seen: string[] = [];
  await store.walk((i) => {
    seen.push(i.digest);
    return false;
  });
  assert.equal(seen.length, 1, 'walk stops when fn returns false');
  const up = await store.update({ digest: a, labels: { k: 'v', drop: '' } }, 'labels.k');
  assert.deepEqual(up.labels, { k: 'v' });
  assert.deepEqual((await store.info(a)).labels, { k: 'v' });
  await store.delete(a);
  await assert.rejects(() => store.info(a), (e) => e instanceof ContentNotFoundError && e.code === 'ERR_CONTENT_NOT_FOUND');
  await assert.rejects(() => store.delete(a), (e) => e instanceof ContentNotFoundError);
  await assert.rejects(() => store.list('labels.role=='), code('ERR_INVALID_FILTER'));
  await assert.rejects(() => store.list('a==b,'), (e) => (e as Error).message === 'filters: parse error: [a==b,]: expected field or quoted: invalid argument');
  const plain = await openContentStore(dir);
  await assert.rejects(() => plain.update({ digest: b, labels: {} }), (e) => e instanceof ContentPreconditionError);
});

test('ContentStore_statusesAndAbort', async () => {
  const dir = tmp();
  const store = await openContentStore(dir);
  for (const ref of ['one', 'two', 'three']) {
    const w = await store.writer({ ref, total: 10 });
    await w.write(Buffer.from(ref));
    await w.close();
  }
  assert.deepEqual((await store.listStatuses()).map((s) => s.ref).sort(), ['one', 'three', 'two']);
  assert.deepEqual((await store.listStatuses('ref==two')).map((s) => [s.ref, s.offset, s.total]), [['two', 3, 10]]);
  assert.deepEqual((await store.listStatuses('ref~=^t')).map((s) => s.ref).sort(), ['three', 'two']);
  const open = await store.writer({ ref: 'one' });
  await store.abort('one');
  await assert.rejects(() => open.write(Buffer.from('x')), code('ERR_CONTENT_PRECONDITION'));
  await assert.rejects(() => store.status('one'), (e) => e instanceof ContentNotFoundError);
  await assert.rejects(() => store.abort('one'), (e) => e instanceof ContentNotFoundError);
  assert.deepEqual((await store.listStatuses()).map((s) => s.ref).sort(), ['three', 'two']);
});

test('ContentStore_status_damagedIngestFiles_typedErrorsNamingTheFile', async () => {
  const dir = tmp();
  const store = await openContentStore(dir);
  const w = await store.writer({ ref: 'damaged', total: 10 });
  await w.write(Buffer.from('abc'));
  await w.close();
  const ingest = path.join(dir, 'ingest', ingestKey('damaged'));
  fs.writeFileSync(path.join(ingest, 'startedat'), 'not a time');
  await assert.rejects(
    () => store.status('damaged'),
    (e) => e instanceof ContentCorruptError && e.code === 'ERR_CONTENT_CORRUPT' && e.path === path.join(ingest, 'startedat'),
  );
  // containerd's text, Go's ParseError included (test/interop/damaged-records.test.ts: as real ctr prints it).
  await assert.rejects(() => store.status('damaged'), {
    message: `could not read startedat: could not parse timestamp file ${path.join(ingest, 'startedat')}: parsing time "not a time" as "2006-01-02T15:04:05Z07:00": cannot parse "not a time" as "2006"`,
  });
  fs.writeFileSync(path.join(ingest, 'ref'), 'x'.repeat(MAX_REF_LENGTH * 4 + 1));
  await assert.rejects(() => store.status('damaged'), (e) => e instanceof ContentCorruptError && e.path === path.join(ingest, 'ref'));
  fs.rmSync(path.join(ingest, 'data'));
  fs.mkdirSync(path.join(ingest, 'data'));
  await assert.rejects(() => store.status('damaged'), (e) => e instanceof ContentUnsafePathError);
  // Nothing was repaired or removed behind the caller's back.
  assert.ok(fs.statSync(path.join(ingest, 'data')).isDirectory());
});

test('ContentStore_hostileInput_isRefusedBeforeTouchingPaths', async () => {
  const dir = tmp();
  const root = path.join(dir, 'store');
  const store = await openContentStore(root);
  const outside = path.join(dir, 'secret');
  fs.writeFileSync(outside, 'do not touch');
  for (const bad of ['sha256:../../etc/passwd', `sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, `md5:${'a'.repeat(32)}`, 'sha256:../secret']) {
    for (const call of [() => store.info(bad), () => store.read(bad), () => store.delete(bad), () => store.writer({ ref: 'x', expected: bad })]) {
      await assert.rejects(call, (e) => e instanceof InvalidDigestError, bad);
    }
  }
  // A blob path that is a symlink out of the root is refused, and its target is left alone.
  const d = digestOf('do not touch');
  fs.mkdirSync(path.join(root, 'blobs', 'sha256'), { recursive: true });
  fs.symlinkSync(outside, path.join(root, 'blobs', 'sha256', d.slice(7)));
  for (const call of [() => store.info(d), () => store.read(d), () => store.delete(d)]) {
    await assert.rejects(call, (e) => e instanceof ContentUnsafePathError && e.code === 'ERR_CONTENT_UNSAFE_PATH');
  }
  assert.deepEqual(await store.list(), [], 'walk passes over a blob that leads out of the root');
  assert.equal(fs.readFileSync(outside, 'utf8'), 'do not touch');
  // Refs: NUL, empty, over MAX_REF_LENGTH.
  for (const ref of ['a\0b', '', 'r'.repeat(MAX_REF_LENGTH + 1), 'é'.repeat(MAX_REF_LENGTH / 2 + 1)]) {
    await assert.rejects(() => store.writer({ ref }), (e) => e instanceof InvalidRefError && e.code === 'ERR_INVALID_REF');
    await assert.rejects(() => store.status(ref), (e) => e instanceof InvalidRefError);
  }
  await assert.rejects(() => store.writer({ ref: 'neg', total: -1 }), code('ERR_CONTENT_INVALID_ARGUMENT'));
  await assert.rejects(() => store.read(digestOf('x'), -1), code('ERR_CONTENT_INVALID_ARGUMENT'));
});

test('ContentStore_readPaths_changeNoByteOrMtime', async () => {
  const dir = tmp();
  const store = await openContentStore(dir);
  const d = await put(store, 'a', randomBytes(10_000));
  const w = await store.writer({ ref: 'pending', total: 100 });
  await w.write(randomBytes(40));
  await w.close();
  const before = fileTree(dir);
  const again = await openContentStore(dir);
  await again.info(d);
  await again.read(d, 10, 100);
  await again.walk(() => undefined);
  await again.status('pending');
  await again.listStatuses();
  for await (const _ of await again.readStream(d)) void _;
  assert.deepEqual(fileTree(dir), before);
});

test('ContentStore_fixtureIngestsContainerdLeft_listVerifyAndResume', async () => {
  // fixtures/containerd: a real containerd 1.6 left three unfinished ingests (ctr content active
  // showed them; see fixtures/containerd/README.md). We list them with containerd's refs and
  // offsets, and finish one.
  const dir = tmp();
  fs.cpSync('fixtures/containerd/root/io.containerd.content.v1.content', dir, { recursive: true });
  const store = await openContentStore(dir);
  const st = await store.listStatuses();
  const byRef = new Map(st.map((s) => [s.ref, s]));
  assert.deepEqual([...byRef.keys()].sort(), ['default/1/killed-upload', 'default/1/short-upload', 'tools/1/tar-blobs/sha256/e591c96a87d13c993215dc57ecfe0c50a8889667816655e79473e199b84f96b6']);
  assert.deepEqual([byRef.get('default/1/killed-upload')!.offset, byRef.get('default/1/killed-upload')!.total], [100, 4096]);
  assert.deepEqual([byRef.get('default/1/short-upload')!.offset, byRef.get('default/1/short-upload')!.total], [300, 1000]);
  for (const s of st) assert.ok(s.startedAt.getTime() > Date.UTC(2020, 0) && s.updatedAt >= s.startedAt, s.ref);
  const ref = 'default/1/killed-upload';
  const head = fs.readFileSync(path.join(dir, 'ingest', ingestKey(ref), 'data'));
  const w = await store.writer({ ref });
  assert.equal(w.status().offset, 100);
  assert.equal(w.digest(), digestOf(head), 'the writer re-hashed the bytes containerd wrote');
  const tail = randomBytes(4096 - 100);
  await w.write(tail);
  const d = await w.commit(4096);
  assert.equal(d, digestOf(Buffer.concat([head, tail])));
  assert.deepEqual((await store.listStatuses()).map((s) => s.ref).sort(), ['default/1/short-upload', 'tools/1/tar-blobs/sha256/e591c96a87d13c993215dc57ecfe0c50a8889667816655e79473e199b84f96b6']);
});
