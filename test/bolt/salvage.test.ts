// Salvage of damaged files: each test builds a database with our engine, damages it by
// byte-patching, and checks that salvage recovers exactly the intact data, never touches the
// input, and writes an output that passes check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { open, type Bucket, type DB } from '../../src/bolt/index.js';
import { salvage, salvageSummary, SalvageError, SALVAGED_BUCKET_PREFIX } from '../../src/bolt/salvage.js';
import { BUCKET_LEAF_FLAG, LEAF_PAGE_FLAG, put64n } from '../../src/bolt/page.js';
import { tmpdir } from '../helpers/bolt.js';

const PS = 4096;
const hex = (b: Uint8Array | string): string => Buffer.from(b).toString('hex');

/** Every (bucket path, key) -> value of a database, and the leaf page each item is stored on. */
interface Item {
  path: string; // hex names joined with '/'
  key: string;
  value: string;
  pgid: number;
}

function itemsOf(db: DB): Item[] {
  const out: Item[] = [];
  db.view((tx) => {
    const visit = (b: Bucket, p: string[], inlinePg: number | undefined): void => {
      const leafOf = new Map<string, number>();
      if (b.root !== 0) {
        tx.forEachPage(b.root, (pg) => {
          if (pg.flags & LEAF_PAGE_FLAG) for (let i = 0; i < pg.count; i++) leafOf.set(hex(pg.leafKey(i)), pg.id);
        });
      }
      b.forEach((k, v) => {
        const pg = b.root === 0 ? inlinePg! : leafOf.get(hex(k))!;
        if (v === undefined) visit(b.bucket(k)!, [...p, hex(k)], pg);
        else out.push({ path: p.join('/'), key: hex(k), value: hex(v), pgid: pg });
      });
    };
    visit(tx.root, [], undefined);
  });
  return out;
}

function fingerprint(file: string): { sha: string; mtime: number } {
  return { sha: createHash('sha256').update(fs.readFileSync(file)).digest('hex'), mtime: fs.statSync(file).mtimeMs };
}

/** Builds the test database: big (branch root, many leaves), small (inline), nest/inner (nested, sequence). */
function build(): { dir: string; file: string; before: Item[]; last: Item[] } {
  const dir = tmpdir('salvage-');
  const file = path.join(dir, 'db');
  const db = open(file);
  db.update((tx) => {
    const big = tx.createBucket('big');
    for (let i = 0; i < 300; i++) big.put(`k${String(i).padStart(4, '0')}`, `value-${i}-`.padEnd(100, 'x'));
    tx.createBucket('small').put('a', '1');
    const inner = tx.createBucket('nest').createBucket('inner');
    inner.setSequence(42);
    for (let i = 0; i < 200; i++) inner.put(`n${String(i).padStart(4, '0')}`, `inner-${i}`.padEnd(60, 'y'));
  });
  const before = itemsOf(db);
  // The last transaction only touches the small bucket: both metas share big's and inner's pages.
  db.update((tx) => tx.bucket('small')!.put('b', '2'));
  const last = itemsOf(db);
  db.close();
  return { dir, file, before, last };
}

function pagesOf(file: string, names: string[]): { root: number; leaves: number[]; branches: number[] } {
  const db = open(file, { readOnly: true });
  try {
    return db.view((tx) => {
      let b: Bucket = tx.bucket(names[0]!)!;
      for (const n of names.slice(1)) b = b.bucket(n)!;
      const leaves: number[] = [];
      const branches: number[] = [];
      tx.forEachPage(b.root, (p) => (p.isLeaf ? leaves : branches).push(p.id));
      return { root: b.root, leaves, branches };
    });
  } finally {
    db.close();
  }
}

function patch(file: string, fn: (b: Buffer) => void): void {
  const b = fs.readFileSync(file);
  fn(b);
  fs.writeFileSync(file, b);
}

/** Runs salvage and the checks every case shares; returns the recovered items and report. */
function run(file: string, dir: string, name = 'out') {
  const fp = fingerprint(file);
  const out = path.join(dir, name);
  const report = salvage(file, out);
  assert.deepEqual(fingerprint(file), fp, 'the input file is unchanged');
  const db = open(out, { readOnly: true });
  try {
    assert.deepEqual(db.view((tx) => tx.check()), []);
    return { report, items: itemsOf(db), seq: db.view((tx) => tx.bucket('nest')?.bucket('inner')?.sequence()) };
  } finally {
    db.close();
  }
}

const keyOf = (i: { path: string; key: string }): string => `${i.path}|${i.key}`;
const salvagedHex = hex(SALVAGED_BUCKET_PREFIX);

/**
 * Every recovered item is an original one (in its bucket, or in a __salvaged__ bucket), and every
 * original item on a page not in `damaged` is recovered.
 */
function assertIntact(recovered: Item[], original: Item[], damaged: Set<number>): void {
  const orig = new Map(original.map((i) => [keyOf(i), i]));
  const byKeyValue = new Set(original.map((i) => `${i.key}=${i.value}`));
  for (const r of recovered) {
    if (r.path.startsWith(salvagedHex)) assert.ok(byKeyValue.has(`${r.key}=${r.value}`), `salvaged item ${r.key} is an original item`);
    else assert.equal(orig.get(keyOf(r))?.value, r.value, `recovered ${keyOf(r)} has its original value`);
  }
  const got = new Set(recovered.map((r) => `${r.path.startsWith(salvagedHex) ? '' : r.path}|${r.key}=${r.value}`));
  for (const o of original) {
    if (damaged.has(o.pgid)) continue;
    assert.ok(got.has(`${o.path}|${o.key}=${o.value}`) || got.has(`|${o.key}=${o.value}`), `item ${keyOf(o)} on intact page ${o.pgid} recovered`);
  }
}

test('salvage_undamaged_copiesEverythingFromNewestMeta', () => {
  const { dir, file, last } = build();
  const { report, items, seq } = run(file, dir);
  assert.equal(report.strategy, 'newest-meta');
  assert.equal(report.meta?.txid, 3);
  assert.deepEqual(items, last.map((i) => ({ ...i, pgid: items.find((r) => keyOf(r) === keyOf(i))!.pgid })));
  assert.equal(seq, 42n);
  assert.equal(report.keys, last.length);
  assert.equal(report.unreadablePages, 0);
  assert.match(salvageSummary(report), new RegExp(`^salvaged ${last.length} keys in 4 buckets from .* \\(meta txid 3\\); 0 pages unreadable$`));
});

test('salvage_tornNewestMeta_usesOlderMeta', () => {
  const { dir, file, before } = build();
  patch(file, (b) => (b[PS + 16 + 48] = b[PS + 16 + 48]! ^ 0xff)); // meta 1 (txid 3): txid byte, checksum now wrong
  const { report, items } = run(file, dir);
  assert.equal(report.meta?.txid, 2);
  assert.deepEqual(new Set(items.map((i) => `${keyOf(i)}=${i.value}`)), new Set(before.map((i) => `${keyOf(i)}=${i.value}`)));
  assert.ok(report.unreadable.some((u) => u.role === 'meta' && u.pgid === 1 && u.error === 'checksum error'));
});

test('salvage_newestRootDamaged_fallsBackToOlderMeta', () => {
  const { dir, file, before } = build();
  const db = open(file, { readOnly: true });
  const root = db.meta().root;
  db.close();
  patch(file, (b) => b.fill(0, root * PS, (root + 1) * PS));
  const { report, items } = run(file, dir);
  assert.equal(report.strategy, 'older-meta');
  assert.equal(report.meta?.txid, 2);
  assert.equal(report.rejectedMetas[0]?.txid, 3);
  assert.deepEqual(new Set(items.map((i) => `${keyOf(i)}=${i.value}`)), new Set(before.map((i) => `${keyOf(i)}=${i.value}`)));
});

test('salvage_zeroedLeafPage_recoversEveryOtherKey', () => {
  const { dir, file, last } = build();
  const { leaves } = pagesOf(file, ['big']);
  const victim = leaves[3]!;
  patch(file, (b) => b.fill(0, victim * PS, (victim + 1) * PS));
  const { report, items } = run(file, dir);
  assert.equal(report.strategy, 'scan');
  const lost = last.filter((i) => i.pgid === victim);
  assert.ok(lost.length > 0);
  assertIntact(items, last, new Set([victim]));
  assert.equal(items.length, last.length - lost.length);
  assert.deepEqual(report.unreadable.map((u) => [u.pgid, u.role]), [[victim, 'tree']]);
  assert.equal(report.unreadablePages, 1);
});

test('salvage_zeroedNestedLeaf_keepsSequenceAndOtherKeys', () => {
  const { dir, file, last } = build();
  const { leaves } = pagesOf(file, ['nest', 'inner']);
  const victim = leaves[1]!;
  patch(file, (b) => b.fill(0, victim * PS, (victim + 1) * PS));
  const { items, seq } = run(file, dir);
  assertIntact(items, last, new Set([victim]));
  assert.equal(items.length, last.length - last.filter((i) => i.pgid === victim).length);
  assert.equal(seq, 42n);
});

test('salvage_zeroedBranchPage_scanRecoversEveryLeafIntoSalvagedBuckets', () => {
  const { dir, file, last } = build();
  const { root, branches } = pagesOf(file, ['big']);
  assert.equal(branches[0], root);
  patch(file, (b) => b.fill(0, root * PS, (root + 1) * PS));
  const { report, items } = run(file, dir);
  assert.equal(report.strategy, 'scan');
  assertIntact(items, last, new Set([root]));
  assert.equal(items.length, last.length, 'every key is on an intact leaf');
  // A lost bucket root gives no key range: the leaves go to __salvaged__/<pgid>.
  const scanned = report.sources.filter((s) => s.via === 'scan');
  assert.ok(scanned.length > 1);
  for (const s of scanned) assert.deepEqual([s.placement, s.bucket.names[0]], ['salvaged', `__salvaged__/${s.pgid}`]);
});

test('salvage_cycleBetweenPages_recoversTheOrphanedLeaf', () => {
  const { dir, file, last } = build();
  const { root } = pagesOf(file, ['big']);
  // Branch element 2 of big's root now points back at the root itself.
  patch(file, (b) => put64n(b, root * PS + 16 + 2 * 16 + 8, root));
  const { report, items } = run(file, dir);
  assert.equal(report.strategy, 'scan');
  assert.ok(report.unreadable.some((u) => /reached twice/.test(u.error)));
  // The leaf the branch no longer reaches is put back into big by its key range.
  const scanned = report.sources.filter((s) => s.via === 'scan');
  assert.equal(scanned.length, 1);
  assert.deepEqual([scanned[0]!.placement, scanned[0]!.bucket.names], ['inferred', ['big']]);
  assert.ok(!items.some((i) => i.path.startsWith(salvagedHex)));
  assertIntact(items, last, new Set());
  assert.equal(items.length, last.length);
});

test('salvage_truncatedFile_recoversWhatRemains', () => {
  const { dir, file, last } = build();
  const size = fs.statSync(file).size;
  const db = open(file, { readOnly: true });
  const hwm = db.meta().pgid;
  db.close();
  const keep = hwm - 6;
  fs.truncateSync(file, keep * PS + 100); // a torn last page too
  assert.ok(size > keep * PS);
  const { report, items } = run(file, dir);
  const gone = new Set<number>();
  for (let i = keep; i < hwm; i++) gone.add(i);
  assertIntact(items, last, gone);
  assert.ok(report.unreadablePages > 0);
});

test('salvage_badFreelistPage_copiesCleanTreeAndReportsTheFreelist', () => {
  const { dir, file, last } = build();
  const db = open(file, { readOnly: true });
  const fl = db.meta().freelist!;
  db.close();
  patch(file, (b) => b.fill(0xee, fl * PS, (fl + 1) * PS));
  const { report, items } = run(file, dir);
  assert.equal(report.strategy, 'newest-meta');
  assert.equal(items.length, last.length);
  assert.deepEqual(report.unreadable.map((u) => [u.pgid, u.role]), [[fl, 'freelist']]);
});

test('salvage_noValidMeta_scanOnlyIntoSalvagedBuckets', () => {
  const { dir, file, last } = build();
  patch(file, (b) => {
    b[16] = 0;
    b[PS + 16] = 0;
  });
  const { report, items } = run(file, dir);
  assert.equal(report.strategy, 'scan-only');
  assert.equal(report.meta, null);
  assert.match(salvageSummary(report), /\(no valid meta; page scan only\)/);
  assert.ok(items.length > 0);
  assertIntact(items, last, new Set());
  // Every recovered page is in its own __salvaged__/<pgid> bucket.
  for (const s of report.sources) assert.match(s.bucket.names[0] ?? '', /^__salvaged__\/\d+$/);
  void BUCKET_LEAF_FLAG;
});

test('salvage_outputExists_refuses', () => {
  const { dir, file } = build();
  const out = path.join(dir, 'exists');
  fs.writeFileSync(out, 'x');
  assert.throws(() => salvage(file, out), (e: unknown) => e instanceof SalvageError && e.code === 'ERR_SALVAGE' && /already exists/.test(e.message));
});
