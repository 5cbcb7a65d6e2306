// The bbolt fixtures (fixtures/bolt) are what Go bbolt 1.3.6 writes and says they are: the committed
// dumps match Go's reading of the committed files, regenerating gives the same bytes, each file has the
// feature it claims, and the big-freelist generator really produces the 0xFFFF count escape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, makeFixture } from '../../fixtures/bolt/make.js';
import { hex, runReference, type Dump, type DumpItem, type PagesResult } from '../helpers/reference.js';
import { makeBigFreelistFixture } from '../helpers/fixtures.js';
import { tmpdir } from '../helpers/bolt.js';

const dir = fileURLToPath(new URL('../../fixtures/bolt/', import.meta.url));
const committed = (name: string): Dump => JSON.parse(fs.readFileSync(path.join(dir, `${name}.dump.json`), 'utf8'));
const pages = (name: string): PagesResult['pages'] => (runReference(['pages', path.join(dir, `${name}.db`)]) as PagesResult).pages;

test('Fixtures_everyFile_hasDumpAndCliRecording', () => {
  const dbs = fs.readdirSync(dir).filter((n) => n.endsWith('.db')).map((n) => n.slice(0, -3)).sort();
  assert.deepEqual(dbs, FIXTURES.map((f) => f.name).sort());
  for (const n of dbs) {
    assert.ok(fs.existsSync(path.join(dir, `${n}.dump.json`)), `${n}.dump.json`);
    assert.ok(fs.existsSync(path.join(dir, 'expected', `${n}.json`)), `expected/${n}.json`);
  }
});

test('Fixtures_committedDumps_matchGoReadingTheCommittedFiles', () => {
  for (const f of FIXTURES) {
    const got: Dump = runReference(['dump', path.join(dir, `${f.name}.db`)]);
    assert.deepEqual(got, committed(f.name), f.name);
    assert.deepEqual(got.check, [], `${f.name}: Go Check`);
  }
});

test('Fixtures_regenerated_areByteIdentical', () => {
  const tmp = tmpdir('bolt-fixtures-');
  try {
    for (const f of FIXTURES) {
      makeFixture(f, tmp);
      for (const ext of ['.db', '.dump.json']) {
        assert.ok(fs.readFileSync(path.join(tmp, f.name + ext)).equals(fs.readFileSync(path.join(dir, f.name + ext))), `${f.name}${ext} differs`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

function keyCount(items: DumpItem[]): number {
  return items.reduce((n, it) => n + ('bucket' in it ? keyCount(it.bucket) : 1), 0);
}
const find = (items: DumpItem[], name: string) => items.find((it) => it.k === hex(name));

test('Fixtures_haveTheFeaturesTheyClaim', () => {
  // Page sizes.
  assert.deepEqual(['small', 'page16k', 'page64k'].map((n) => committed(n).pageSize), [4096, 16384, 65536]);
  // large: 19,000 keys, a root branch over 2 branches over the leaves (3 levels).
  const large = committed('large');
  assert.equal(keyCount(large.buckets), 19_000);
  const lp = pages('large');
  const branches = lp.filter((p) => p.type === 'branch');
  assert.equal(Math.min(...branches.map((p) => p.count)), 2, 'a root branch with 2 children');
  assert.equal(branches.length, 3);
  assert.ok(lp.filter((p) => p.type === 'leaf').length > 200);
  // nested: 5 levels.
  let level: DumpItem | undefined = find(committed('nested').buckets, 'l1');
  for (const [i, n] of ['l2', 'l3', 'l4', 'l5'].entries()) {
    assert.ok(level && 'bucket' in level, `level ${i + 1}`);
    level = find(level.bucket, n);
  }
  assert.ok(level && 'bucket' in level && level.seq === '5000' && level.bucket.length === 201);
  // inline: 300 children + "grown"; only "grown" has a page of its own (the others are inline).
  const parent = find(committed('inline').buckets, 'parent');
  assert.ok(parent && 'bucket' in parent && parent.bucket.length === 301);
  // overflow: leaves spanning several pages.
  const op = pages('overflow');
  assert.ok(op.some((p) => p.type === 'leaf' && p.overflow >= 12));
  // Free pages step one page (their headers are stale), so the rows cover every page exactly once.
  assert.equal(op.reduce((n, p) => n + 1 + p.overflow, 0), Number(committed('overflow').hwm));
  assert.ok(op.filter((p) => p.type === 'free').every((p) => p.overflow === 0 && p.count === 0));
  // empty values and binary keys.
  const e = find(committed('empty-values').buckets, 'e');
  assert.ok(e && 'bucket' in e && e.bucket.filter((it) => 'v' in it && it.v === '').length === 503);
  const bin = find(committed('binary-keys').buckets, 'bin');
  assert.ok(bin && 'bucket' in bin && bin.bucket.some((it) => it.k === '00') && bin.bucket.some((it) => it.k === 'ff'));
  assert.ok(committed('binary-keys').buckets.some((it) => it.k === '00ff'));
  // NoFreelistSync, a non-empty freelist, sequences.
  assert.equal(committed('nofreelistsync').freelistPgid, '18446744073709551615');
  assert.ok(pages('nofreelistsync').some((p) => p.type === 'free'));
  assert.ok(pages('freelist').filter((p) => p.type === 'free').length >= 10);
  assert.deepEqual(committed('small').buckets.map((b) => ('seq' in b ? b.seq : null)), ['42', '0', '18446744073709551615']);
});

test('Fixtures_tornMeta_readersFallBackToTheOtherMeta', () => {
  for (const [name, torn, txid] of [
    ['torn-meta1', 1, 2],
    ['torn-meta0', 0, 3],
  ] as const) {
    const b = fs.readFileSync(path.join(dir, `${name}.db`));
    const meta = (i: number) => b.subarray(i * 4096 + 16, i * 4096 + 80);
    assert.equal(meta(torn).readBigUInt64LE(16), 0xdeadbeefn, `${name}: root pgid patched`);
    assert.ok(meta(torn).readBigUInt64LE(48) > meta(1 - torn).readBigUInt64LE(48), `${name}: the torn meta is the newest`);
    assert.equal(committed(name).txid, txid);
  }
  const t1 = find(committed('torn-meta1').buckets, 'torn');
  assert.ok(t1 && 'bucket' in t1 && t1.bucket.length === 2, 'torn-meta1 shows txid 2: keys a, b');
});

test('BigFreelist_goWritesTheCountEscape', () => {
  const tmp = tmpdir('big-freelist-');
  try {
    const fx = makeBigFreelistFixture(tmp);
    console.log(`makeBigFreelistFixture: ${fx.ms} ms, ${fs.statSync(fx.path).size} bytes`);
    assert.deepEqual(fx.dump.check, []);
    assert.deepEqual(fx.dump.buckets, [{ k: hex('keep'), seq: '0', bucket: [{ k: hex('k'), v: hex('v') }] }]);
    const fd = fs.openSync(fx.path, 'r');
    const head = Buffer.alloc(24);
    fs.readSync(fd, head, 0, 24, Number(fx.dump.freelistPgid) * fx.pageSize);
    fs.closeSync(fd);
    assert.equal(head.readUInt16LE(8), 0x10, 'freelist page flag');
    assert.equal(head.readUInt16LE(10), 0xffff, 'count escape');
    const count = head.readBigUInt64LE(16);
    assert.ok(count >= 65_535n && count < BigInt(fx.dump.hwm), `real count ${count}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
