// Codec round trips: page headers, metas, leaf and branch elements, freelists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Page, PAGE_HEADER_SIZE, LEAF_PAGE_FLAG, BRANCH_PAGE_FLAG, put16, put32, put64n, u16, u32, u64n, compareKeys } from '../../src/bolt/page.js';
import { readMeta, writeMeta, validateMeta, fnv64a, fnv64aSlow, MAGIC, VERSION, type Meta } from '../../src/bolt/meta.js';
import { Freelist, PageTxids, readFreelistIds } from '../../src/bolt/freelist.js';
import { ErrChecksum, ErrInvalid, ErrVersionMismatch, CorruptionError } from '../../src/bolt/errors.js';

const SEED = Number(process.env.FC_SEED ?? Date.now() % 1e9);
console.log(`page.test seed ${SEED}`);
const params = { seed: SEED, numRuns: 300 };

test('Page_header_roundTrip', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), (id, flags, count, overflow) => {
      const b = new Uint8Array(64);
      put64n(b, 8, id);
      put16(b, 16, flags);
      put16(b, 18, count);
      put32(b, 20, overflow);
      const p = new Page(b, 8);
      assert.equal(p.id, id);
      assert.equal(p.flags, flags);
      assert.equal(p.count, count);
      assert.equal(p.overflow, overflow);
    }),
    params,
  );
});

test('u64n_rejectsValuesPast2pow53', () => {
  const b = new Uint8Array(8).fill(0xff);
  assert.throws(() => u64n(b, 0), CorruptionError);
});

test('fnv64a_matchesReference', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => assert.equal(fnv64a(b), fnv64aSlow(b))), params);
  // Known FNV-1a 64 vectors.
  assert.equal(fnv64a(new Uint8Array(0)), 0xcbf29ce484222325n);
  assert.equal(fnv64a(new TextEncoder().encode('a')), 0xaf63dc4c8601ec8cn);
});

const metaArb = fc.record({
  pageSize: fc.constantFrom(4096, 16384, 65536),
  root: fc.integer({ min: 2, max: 2 ** 40 }),
  sequence: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  freelist: fc.option(fc.integer({ min: 2, max: 2 ** 40 }), { nil: undefined }),
  pgid: fc.integer({ min: 4, max: 2 ** 50 }),
  txid: fc.integer({ min: 0, max: 2 ** 50 }),
});

test('Meta_roundTrip_andValidate', () => {
  fc.assert(
    fc.property(metaArb, (m) => {
      const meta: Meta = { magic: MAGIC, version: VERSION, flags: 0, checksum: 0n, ...m };
      const buf = new Uint8Array(m.pageSize);
      writeMeta(meta, buf);
      assert.equal(validateMeta(buf, 0), undefined);
      const back = readMeta(buf, 0);
      assert.deepEqual({ ...back, checksum: 0n }, { ...meta, checksum: 0n });
      assert.equal(u32(buf, PAGE_HEADER_SIZE), MAGIC);
      assert.equal(u16(buf, 8), 0x04);
      assert.equal(u64n(buf, 0), m.txid % 2);
      // Any flipped byte in the 56 checksummed bytes is caught.
      const i = PAGE_HEADER_SIZE + (m.txid % 56);
      buf[i] = buf[i]! ^ 0x01;
      const err = validateMeta(buf, 0);
      assert.ok(err instanceof ErrChecksum || err instanceof ErrInvalid || err instanceof ErrVersionMismatch);
    }),
    params,
  );
});

/** Builds a leaf or branch page image the way bbolt lays it out. */
function buildPage(items: { key: Uint8Array; value: Uint8Array; flags: number; pgid: number }[], leaf: boolean): Uint8Array {
  let size = PAGE_HEADER_SIZE + 16 * items.length;
  for (const it of items) size += it.key.length + (leaf ? it.value.length : 0);
  const b = new Uint8Array(size);
  put16(b, 8, leaf ? LEAF_PAGE_FLAG : BRANCH_PAGE_FLAG);
  put16(b, 10, items.length);
  let data = PAGE_HEADER_SIZE + 16 * items.length;
  items.forEach((it, i) => {
    const e = PAGE_HEADER_SIZE + 16 * i;
    if (leaf) {
      put32(b, e, it.flags);
      put32(b, e + 4, data - e);
      put32(b, e + 8, it.key.length);
      put32(b, e + 12, it.value.length);
    } else {
      put32(b, e, data - e);
      put32(b, e + 4, it.key.length);
      put64n(b, e + 8, it.pgid);
    }
    b.set(it.key, data);
    data += it.key.length;
    if (leaf) {
      b.set(it.value, data);
      data += it.value.length;
    }
  });
  return b;
}

const itemArb = fc.record({ key: fc.uint8Array({ minLength: 1, maxLength: 40 }), value: fc.uint8Array({ maxLength: 100 }), flags: fc.constantFrom(0, 1), pgid: fc.integer({ min: 2, max: 2 ** 40 }) });

test('Page_leafAndBranchElements_roundTrip', () => {
  fc.assert(
    fc.property(fc.array(itemArb, { maxLength: 30 }), fc.boolean(), (items, leaf) => {
      const p = new Page(buildPage(items, leaf), 0);
      assert.equal(p.count, items.length);
      items.forEach((it, i) => {
        if (leaf) {
          assert.deepEqual(p.leafKey(i), it.key);
          assert.deepEqual(p.leafValue(i), it.value);
          assert.equal(p.leafFlags(i), it.flags);
        } else {
          assert.deepEqual(p.branchKey(i), it.key);
          assert.equal(p.branchPgid(i), it.pgid);
        }
      });
    }),
    params,
  );
});

test('Page_elementOutsidePage_isCorruption', () => {
  const b = buildPage([{ key: new Uint8Array([1, 2]), value: new Uint8Array([3]), flags: 0, pgid: 0 }], true);
  put32(b, PAGE_HEADER_SIZE + 8, 1000); // ksize past the end
  assert.throws(() => new Page(b, 0).leafKey(0), CorruptionError);
});

function freelistPage(fl: Freelist): Uint8Array {
  const buf = new Uint8Array(fl.size());
  fl.write(buf);
  return buf;
}

test('Freelist_writeRead_roundTrip_includingCountEscape', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 2, max: 2 ** 33 }), { maxLength: 200 }), fc.uniqueArray(fc.integer({ min: 2 ** 34, max: 2 ** 35 }), { maxLength: 50 }), (free, pend) => {
      const fl = new Freelist();
      fl.readIDs([...free].sort((a, b) => a - b));
      for (const id of pend) fl.free(7, id, 0, false);
      const page = new Page(freelistPage(fl), 0);
      assert.deepEqual(readFreelistIds(page), [...free, ...pend].sort((a, b) => a - b));
    }),
    { ...params, numRuns: 100 },
  );
  // >= 0xFFFF ids: count = 0xFFFF in the header and the real count in the first u64.
  for (const n of [0xfffe, 0xffff, 0x10000, 70000]) {
    const ids = Array.from({ length: n }, (_, i) => i + 2);
    const fl = new Freelist();
    fl.readIDs(ids);
    const buf = freelistPage(fl);
    if (n >= 0xffff) {
      assert.equal(u16(buf, 10), 0xffff);
      assert.equal(u64n(buf, PAGE_HEADER_SIZE), n);
      assert.equal(buf.length, PAGE_HEADER_SIZE + 8 * (n + 1));
    } else assert.equal(u16(buf, 10), n);
    assert.deepEqual(readFreelistIds(new Page(buf, 0)), ids);
  }
});

test('Freelist_allocate_lowestRunThatFits', () => {
  const fl = new Freelist();
  fl.readIDs([3, 4, 6, 7, 8, 12, 13, 14, 15]);
  assert.equal(fl.allocate(5, 3), 6);
  assert.deepEqual(fl.ids, [3, 4, 12, 13, 14, 15]);
  assert.equal(fl.allocate(5, 1), 3);
  assert.equal(fl.allocate(5, 4), 12);
  assert.equal(fl.allocate(5, 2), 0);
  assert.deepEqual(fl.ids, [4]);
});

test('Freelist_pendingReleasedOnlyUpToTxid', () => {
  const fl = new Freelist();
  fl.free(10, 5, 1, false);
  fl.free(11, 9, 0, false);
  assert.throws(() => fl.free(11, 6, 0, false), CorruptionError); // 6 is the overflow of 5
  fl.release(10);
  assert.deepEqual(fl.ids, [5, 6]);
  assert.equal(fl.pendingCount(), 1);
  fl.rollback(11);
  assert.equal(fl.pendingCount(), 0);
  assert.deepEqual(fl.copyall(), [5, 6]);
});

test('Freelist_arrayAllocate_matchesBboltsScan_whenRunsComeFromTheFront', () => {
  // bbolt 1.3.6's array allocation on a plain array: the first run of n consecutive ids.
  const model = (ids: number[], n: number): number => {
    let initial = 0;
    let previd = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (previd === 0 || id - previd !== 1) initial = id;
      if (id - initial + 1 === n) {
        ids.splice(i - n + 1, n);
        return initial;
      }
      previd = id;
    }
    return 0;
  };
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 2, max: 300 }), { maxLength: 120 }),
      fc.array(fc.oneof(fc.integer({ min: 1, max: 3 }).map((n) => ({ n })), fc.integer({ min: 2, max: 300 }).map((free) => ({ free }))), { maxLength: 80 }),
      (start, ops) => {
        const ids = [...start].sort((a, b) => a - b);
        const fl = new Freelist();
        fl.readIDs([...ids]);
        let txid = 10;
        for (const op of ops) {
          if ('n' in op) assert.equal(fl.allocate(txid, op.n), model(ids, op.n));
          else if (!fl.cache.has(op.free)) {
            // A freed page comes back once released: the model merges it into its sorted ids.
            fl.free(txid, op.free, 0, false);
            fl.release(txid++);
            ids.push(op.free);
            ids.sort((a, b) => a - b);
          }
          assert.equal(fl.freeCount(), ids.length);
        }
        assert.deepEqual(fl.ids, ids);
        assert.deepEqual(fl.copyall(), ids);
      },
    ),
    params,
  );
});

test('PageTxids_actsAsAMap_acrossChunksAndPastTheChunkedRange', () => {
  const id = fc.oneof(fc.integer({ min: 0, max: 20000 }), fc.integer({ min: 2 ** 24 - 3, max: 2 ** 24 + 3 }), fc.integer({ min: 2 ** 24, max: 2 ** 52 }));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom('set', 'delete', 'get'), id, fc.integer({ min: 0, max: 2 ** 53 - 2 })), { maxLength: 200 }), (ops) => {
      const t = new PageTxids();
      const m = new Map<number, number>();
      for (const [op, k, txid] of ops) {
        if (op === 'set') {
          t.set(k, txid);
          m.set(k, txid);
        } else if (op === 'delete') {
          t.delete(k);
          m.delete(k);
        }
        assert.equal(t.get(k), m.get(k));
      }
      for (const k of m.keys()) assert.equal(t.get(k), m.get(k));
    }),
    params,
  );
  const t = new PageTxids();
  t.set(4095, 0); // txid 0 is a value, not "none"
  assert.equal(t.get(4095), 0);
  assert.equal(t.get(4096), undefined);
});

test('compareKeys_isBytewise', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) => {
      assert.equal(Math.sign(compareKeys(a, b)), Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
    }),
    params,
  );
});

test('Freelist_hashmapAllocate_exactSpanElseSmallestLarger', () => {
  const fl = new Freelist('hashmap');
  fl.readIDs([3, 4, 6, 7, 8, 12, 13, 14, 15, 20]);
  assert.equal(fl.allocate(5, 3), 6); // exact span 6..8 (array would also take 6)
  assert.equal(fl.allocate(5, 1), 20); // exact single span, not the start of 3..4
  assert.equal(fl.allocate(5, 2), 3); // exact span 3..4
  assert.equal(fl.allocate(5, 3), 12); // only 12..15 is large enough: taken from its start
  assert.deepEqual(fl.ids, [15]);
  assert.equal(fl.allocate(5, 2), 0);
});
