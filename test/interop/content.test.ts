// The content store against a real containerd 1.6, both directions:
// containerd serves blobs we wrote, and we read, list, resume and commit what containerd wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { openContentStore, digestOf, type ContentStore } from '../../src/content/index.js';
import { startContainerd, type Containerd } from '../helpers/containerd.js';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-content-interop-'));
}

async function withContainerd<T>(dir: string, fn: (c: Containerd) => Promise<T>): Promise<T> {
  const c = await startContainerd(dir);
  try {
    return await fn(c);
  } finally {
    await c.stop();
  }
}

async function put(store: ContentStore, ref: string, data: Buffer): Promise<string> {
  const w = await store.writer({ ref, total: data.length });
  for (let i = 0; i < data.length; i += 65536) await w.write(data.subarray(i, i + 65536));
  return w.commit(data.length, digestOf(data));
}

test('Interop_containerdServesBlobsWeWrote', async () => {
  const dir = tmp();
  const store = await openContentStore(path.join(dir, 'root', 'io.containerd.content.v1.content'));
  const blobs = [crypto.randomBytes(100_000), Buffer.from('{"schemaVersion":2}'), crypto.randomBytes(3 << 20)];
  const digests: string[] = [];
  for (const [i, b] of blobs.entries()) digests.push(await put(store, `ours-${i}`, b));
  const extra = crypto.randomBytes(5000);
  const extraDigest = await put(store, 'extra', extra);

  await withContainerd(dir, async (c) => {
    for (const [i, data] of blobs.entries()) {
      const D = digests[i]!;
      // Bytes that do not hash to D: the ingest can only succeed by adopting our blob.
      const wrong = Buffer.alloc(data.length, 0x5a);
      assert.notEqual(digestOf(wrong), D);
      const r = await c.ctr(['content', 'ingest', '--expected-digest', D, '--expected-size', String(data.length), `adopt-${i}`], wrong);
      assert.equal(r.code, 0, r.stderr);
      const g = await c.ctr(['content', 'get', D]);
      assert.equal(g.code, 0, g.stderr);
      assert.ok(Buffer.from(g.stdout, 'latin1').equals(data), `ctr content get ${D} returns our bytes`);
    }
    const ls = await c.ctr(['content', 'ls', '-q']);
    assert.deepEqual(ls.stdout.trim().split('\n').sort(), [...digests].sort());
    // A blob whose size the client gets wrong is not adopted: the wrong bytes fail the digest check.
    const bad = await c.ctr(['content', 'ingest', '--expected-digest', extraDigest, '--expected-size', '7', 'adopt-bad'], Buffer.alloc(7));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unexpected commit digest/);
  });
  assert.ok((await store.read(extraDigest)).equals(extra));
  // Our blobs are untouched by containerd's use of them.
  for (const [i, data] of blobs.entries()) assert.ok((await store.read(digests[i]!)).equals(data));
});

test('Interop_weReadAndVerifyBlobsContainerdWrote', async () => {
  const dir = tmp();
  const blobs = [crypto.randomBytes(1234), crypto.randomBytes(2 << 20), Buffer.alloc(0)];
  await withContainerd(dir, async (c) => {
    for (const [i, data] of blobs.entries()) {
      const r = await c.ctr(['content', 'ingest', '--expected-digest', digestOf(data), '--expected-size', String(data.length), `theirs-${i}`], data);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  const store = await openContentStore(path.join(dir, 'root', 'io.containerd.content.v1.content'));
  const seen: string[] = [];
  await store.walk(async (info) => {
    seen.push(info.digest);
    const bytes = await store.read(info.digest);
    assert.equal(bytes.length, info.size);
    assert.equal(digestOf(bytes), info.digest, 'every blob containerd wrote hashes to its name');
    assert.equal(fs.statSync(store.pathOf(info.digest)).mode & 0o777, 0o444, 'containerd made it read-only, as we do');
  });
  assert.deepEqual(seen.sort(), blobs.map((b) => digestOf(b)).sort());
  // Walk with a filter on the digest.
  const one = digestOf(blobs[0]!);
  const filtered: string[] = [];
  await store.walk((i) => void filtered.push(i.digest), `digest==${one}`);
  assert.deepEqual(filtered, [one]);
  // A stream gives the same bytes.
  const chunks: Buffer[] = [];
  for await (const ch of await store.readStream(digestOf(blobs[1]!))) chunks.push(ch as Buffer);
  assert.ok(Buffer.concat(chunks).equals(blobs[1]!));
});

test('Interop_weResumeAnUnfinishedContainerdIngest', async () => {
  const dir = tmp();
  const data = crypto.randomBytes(3_000_000);
  const D = digestOf(data);
  const fed = 1_500_000;
  await withContainerd(dir, async (c) => {
    const child = c.spawnCtr(['content', 'ingest', '--expected-size', String(data.length), 'partial']);
    child.stdin!.write(data.subarray(0, fed));
    // ctr copies in 1 MiB buffers: wait until containerd's ingest shows the first one.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const a = await c.ctr(['content', 'active']);
      if (/\npartial\t[1-9]/.test(a.stdout)) break;
      assert.ok(Date.now() < deadline, `ingest never became active: ${a.stdout}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  });

  const store = await openContentStore(path.join(dir, 'root', 'io.containerd.content.v1.content'));
  const statuses = await store.listStatuses();
  assert.equal(statuses.length, 1);
  const st = statuses[0]!;
  // containerd's backend ref is <namespace>/<ingest bucket sequence>/<ref>.
  assert.match(st.ref, /^default\/\d+\/partial$/);
  assert.equal(st.total, data.length);
  assert.ok(st.offset > 0 && st.offset <= fed, `offset ${st.offset}`);
  const ingestDir = path.join(store.root, 'ingest', crypto.createHash('sha256').update(st.ref).digest('hex'));
  assert.equal(fs.statSync(path.join(ingestDir, 'data')).size, st.offset);
  assert.deepEqual(await store.listStatuses(`ref==${st.ref}`), [st]);
  assert.deepEqual(await store.listStatuses('ref==other'), []);
  assert.deepEqual(await store.status(st.ref), st);

  // Resume with our writer: it re-hashes containerd's bytes and continues at their end.
  const w = await store.writer({ ref: st.ref, total: data.length });
  assert.equal(w.status().offset, st.offset);
  assert.equal(w.digest(), digestOf(data.subarray(0, st.offset)));
  await w.write(data.subarray(st.offset));
  assert.equal(await w.commit(data.length, D), D);
  assert.deepEqual(await store.listStatuses(), []);
  assert.ok((await store.read(D)).equals(data));

  // containerd sees the blob: adopting it into the namespace needs no bytes that hash to D.
  await withContainerd(dir, async (c) => {
    const r = await c.ctr(['content', 'ingest', '--expected-digest', D, '--expected-size', String(data.length), 'adopt'], Buffer.alloc(data.length));
    assert.equal(r.code, 0, r.stderr);
    const ls = await c.ctr(['content', 'ls', '-q']);
    assert.deepEqual(ls.stdout.trim().split('\n'), [D]);
    const g = await c.ctr(['content', 'get', D]);
    assert.ok(Buffer.from(g.stdout, 'latin1').equals(data));
  });
});

test('Interop_containerdResumesAnIngestWeStarted', async () => {
  const dir = tmp();
  const data = crypto.randomBytes(2_500_000);
  const D = digestOf(data);
  const store = await openContentStore(path.join(dir, 'root', 'io.containerd.content.v1.content'));
  // containerd's metadata layer names the backend ingest default/<seq>/<ref>; the first ingest
  // bucket sequence in a fresh namespace is 1. Write that ingest partly, as an interrupted pull.
  const w = await store.writer({ ref: 'default/1/resume-me', total: data.length });
  await w.write(data.subarray(0, 1_000_000));
  await w.close();
  await withContainerd(dir, async (c) => {
    // ctr seeks its (file) stdin to the offset containerd finds in our ingest and sends the rest.
    const r = await c.ctr(['content', 'ingest', '--expected-digest', D, '--expected-size', String(data.length), 'resume-me'], data);
    assert.equal(r.code, 0, r.stderr);
    const g = await c.ctr(['content', 'get', D]);
    assert.ok(Buffer.from(g.stdout, 'latin1').equals(data));
  });
  assert.ok((await store.read(D)).equals(data));
  assert.deepEqual(await store.listStatuses(), []);
});

test('Interop_tsctrContentIngest_containerdListsAndServesTheBlob', async () => {
  // tsctr writes on a stopped root (a copy of the containerd fixture); containerd started on it
  // lists the blob in the namespace that ingested it and serves its bytes.
  const { main } = await import('../../src/cli/tsctr.js');
  const { Readable } = await import('node:stream');
  const dir = tmp();
  fs.cpSync('fixtures/containerd/root', path.join(dir, 'root'), { recursive: true });
  const data = crypto.randomBytes(200_000);
  const D = digestOf(data);
  let err = '';
  const code = await main(
    ['--root', path.join(dir, 'root'), '-n', 'tools', 'content', 'ingest', '--expected-size', String(data.length), '--expected-digest', D, 'offline'],
    { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, stdin: Readable.from([data]) },
    {},
  );
  assert.equal(code, 0, err);
  await withContainerd(dir, async (c) => {
    const ls = await c.ctr(['-n', 'tools', 'content', 'ls', '-q']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.ok(ls.stdout.split('\n').includes(D), 'containerd lists the blob in tools');
    const other = await c.ctr(['-n', 'default', 'content', 'ls', '-q']);
    assert.ok(!other.stdout.split('\n').includes(D));
    const g = await c.ctr(['-n', 'tools', 'content', 'get', D]);
    assert.equal(g.code, 0, g.stderr);
    assert.ok(Buffer.from(g.stdout, 'latin1').equals(data));
    // While containerd runs, tsctr refuses to write and changes nothing.
    const before = fs.readFileSync(path.join(dir, 'root', 'io.containerd.metadata.v1.bolt', 'meta.db'));
    let err2 = '';
    const refused = await main(['--root', path.join(dir, 'root'), 'content', 'ingest', 'live'], { stdout: { write: () => true }, stderr: { write: (s: string) => (err2 += s) }, stdin: Readable.from([Buffer.from('x')]) }, {});
    assert.equal(refused, 1);
    assert.match(err2, /containerd running/);
    assert.ok(fs.readFileSync(path.join(dir, 'root', 'io.containerd.metadata.v1.bolt', 'meta.db')).equals(before));
  });
});
