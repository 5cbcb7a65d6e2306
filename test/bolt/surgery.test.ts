// Surgery operations on byte-patched copies of databases built with our engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { open } from '../../src/bolt/index.js';
import {
  clearFreelist,
  clearPage,
  clearPageElements,
  copyPage,
  decodeRawMeta,
  ErrSurgeryFreelistAlreadyExist,
  rebuildFreelist,
  revertMetaPage,
  updateMeta,
  validateMetaPages,
  SurgeryError,
} from '../../src/bolt/surgery.js';
import { PGID_NO_FREELIST, fnv64a } from '../../src/bolt/meta.js';
import { LEAF_PAGE_FLAG, u16, u32 } from '../../src/bolt/page.js';
import { buildTwoBuckets, tmpdir } from '../helpers/bolt.js';

const PS = 4096;

function build(): { file: string; leaf: number } {
  const { file, bigLeaves } = buildTwoBuckets(tmpdir('surgery-'));
  return { file, leaf: bigLeaves[1]! };
}

const metaAt = (file: string, i: number) => decodeRawMeta(fs.readFileSync(file).subarray(i * PS, (i + 1) * PS));
const check = (file: string): string[] => {
  const db = open(file, { readOnly: true });
  try {
    return db.view((tx) => tx.check());
  } finally {
    db.close();
  }
};

test('Surgery_revertMetaPage_olderMetaBecomesNewest', () => {
  const { file } = build();
  const [m0, m1] = [metaAt(file, 0), metaAt(file, 1)];
  assert.equal(m1.txid, 3n);
  assert.equal(revertMetaPage(file), 1);
  assert.deepEqual(metaAt(file, 1), m0);
  assert.deepEqual(metaAt(file, 0), m0);
  const db = open(file, { readOnly: true });
  assert.equal(db.meta().txid, 2);
  assert.equal(db.view((tx) => tx.bucket('other')), undefined);
  db.close();
  void m1;
});

test('Surgery_clearPage_leafBecomesEmptyLeaf', () => {
  const { file, leaf } = build();
  assert.equal(clearPage(file, leaf), false);
  const b = fs.readFileSync(file);
  assert.equal(u16(b, leaf * PS + 8), LEAF_PAGE_FLAG);
  assert.equal(u16(b, leaf * PS + 10), 0);
  assert.equal(u32(b, leaf * PS + 12), 0);
});

test('Surgery_clearPageElements_removesTheRangeOnly', () => {
  const { file, leaf } = build();
  const before = fs.readFileSync(file);
  const n = u16(before, leaf * PS + 10);
  const db0 = open(file, { readOnly: true });
  const keys = db0.view((tx) => {
    const p = tx.page(leaf);
    return Array.from({ length: p.count }, (_, i) => Buffer.from(p.leafKey(i)).toString());
  });
  db0.close();
  clearPageElements(file, leaf, 1, 3);
  const db = open(file, { readOnly: true });
  const after = db.view((tx) => {
    const p = tx.page(leaf);
    return Array.from({ length: p.count }, (_, i) => Buffer.from(p.leafKey(i)).toString());
  });
  db.close();
  assert.equal(after.length, n - 2);
  assert.deepEqual(after, [keys[0], ...keys.slice(3)]);
  assert.throws(() => clearPageElements(file, leaf, 5, 5), (e: unknown) => e instanceof SurgeryError && e.message === 'invalid: the start index (5) is equal to the end index (5)');
  assert.throws(() => clearPageElements(file, 0, 0, 1), (e: unknown) => e instanceof SurgeryError && e.message === `can't clear elements in "meta" page`);
});

test('Surgery_copyPage_copiesBytesWithNewId', () => {
  const { file, leaf } = build();
  copyPage(file, leaf, leaf + 1);
  const b = fs.readFileSync(file);
  assert.equal(b.readBigUInt64LE((leaf + 1) * PS), BigInt(leaf + 1));
  assert.deepEqual(b.subarray((leaf + 1) * PS + 8, (leaf + 2) * PS), b.subarray(leaf * PS + 8, (leaf + 1) * PS));
});

test('Surgery_freelist_abandonThenEngineRebuilds', () => {
  const { file } = build();
  clearFreelist(file);
  assert.equal(metaAt(file, 0).freelist, PGID_NO_FREELIST);
  assert.equal(metaAt(file, 1).freelist, PGID_NO_FREELIST);
  assert.deepEqual(validateMetaPages(file).map((v) => v.error), [undefined, undefined]);
  assert.deepEqual(rebuildFreelist(file), { abandonedDamaged: false });
  assert.notEqual(metaAt(file, 0).freelist, PGID_NO_FREELIST);
  assert.deepEqual(check(file), []);
});

test('Surgery_freelistRebuild_zeroedFreelistPageMakesCheckPass', () => {
  const { file } = build();
  const fl = Number(metaAt(file, 1).freelist);
  const b = fs.readFileSync(file);
  b.fill(0, fl * PS, (fl + 1) * PS);
  fs.writeFileSync(file, b);
  assert.notDeepEqual(check(file), []);
  assert.deepEqual(rebuildFreelist(file), { abandonedDamaged: true });
  assert.deepEqual(check(file), []);
});

test('Surgery_freelistRebuild_refusesAnIntactFreelist', () => {
  const { file } = build();
  assert.throws(() => rebuildFreelist(file), ErrSurgeryFreelistAlreadyExist);
});

test('Surgery_metaUpdate_changesExactlyTheNamedFields', () => {
  const { file } = build();
  const before = fs.readFileSync(file);
  const r = updateMeta(file, new Map([['pgid', 99n], ['txid', 1234n]]), 0);
  assert.equal(r.changed, true);
  const after = fs.readFileSync(file);
  const m = 16;
  // Changed: pgid (40..48), txid (48..56), checksum (56..64), and the meta flags field (12..16),
  // which bbolt's updateMetaField sets to 0x04.
  const changed = new Set<number>();
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) changed.add(i);
  for (const i of changed) assert.ok((i >= m + 40 && i < m + 64) || (i >= m + 12 && i < m + 16), `byte ${i} changed`);
  const meta = metaAt(file, 0);
  assert.equal(meta.pgid, 99n);
  assert.equal(meta.txid, 1234n);
  assert.equal(meta.checksum, fnv64a(after, m, m + 56));
  assert.deepEqual(validateMetaPages(file).map((v) => v.error), [undefined, undefined]);
  // Nothing to change the second time.
  assert.equal(updateMeta(file, new Map(), 0).changed, false);
});

test('Surgery_validateMetaPages_reportsAChecksumError', () => {
  const { file } = build();
  const b = fs.readFileSync(file);
  b[PS + 16 + 48]! ^= 1;
  fs.writeFileSync(file, b);
  assert.deepEqual(validateMetaPages(file).map((v) => v.error?.message), [undefined, 'checksum error']);
});
