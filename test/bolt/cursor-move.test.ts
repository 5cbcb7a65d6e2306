// Cursor's in-place moves (moveFirst, moveNext, moveLast, movePrev, moveTo, with the item read
// from cursor.item) against a sorted model of the bucket: the same items in the same order as
// first/next/last/prev/seek, over pages (read transactions, several tree levels, inline buckets
// whose pages are not word-aligned) and over nodes (a write transaction's changes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { CorruptionError, ErrTxClosed, open, type Bucket, type Cursor } from '../../src/bolt/index.js';
import { tmpdir } from '../helpers/bolt.js';

const SEED = Number(process.env.FC_SEED ?? Date.now() % 1e9);
const RUNS = Number(process.env.FC_RUNS ?? 60);
console.log(`cursor-move seed ${SEED} runs ${RUNS}`);

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const cmp = (a: string, b: string) => Buffer.compare(bytes(a), bytes(b));

/** One item of the model: a value (hex) or a nested bucket (value undefined). */
type Model = [key: string, value: string | undefined][];

/** The item the cursor's in-place move left, checked against its own helpers. */
function itemOf(c: Cursor): [string, string | undefined] {
  const it = c.item;
  const key = it.key();
  const value = it.value();
  assert.equal(it.keyLength, key.length);
  assert.equal(it.compareKey(key), 0);
  assert.ok(it.keyHasPrefix(key.subarray(0, key.length >> 1)));
  assert.equal(it.keyHasPrefix(new Uint8Array([...key, 0])), false);
  if (key.length > 0) assert.ok(it.compareKey(key.subarray(0, key.length - 1)) > 0);
  assert.equal(it.isBucket, value === undefined);
  if (value !== undefined) assert.equal(it.valueLength, value.length);
  // The bytes read in place are the ones the views show.
  assert.equal(hex(it.keyBuf.subarray(it.keyStart, it.keyEnd)), hex(key));
  return [hex(key), value === undefined ? undefined : hex(value)];
}

/**
 * Walks the bucket in both directions with both APIs, and seeks every model key and the keys
 * between them, comparing with the model.
 */
function checkAgainstModel(b: Bucket, model: Model): void {
  const want = model.map(([k, v]) => [k, v] as [string, string | undefined]);
  const forward: [string, string | undefined][] = [];
  const c = b.cursor();
  // Bounded: a cursor that repeats items must fail here, not run forever.
  for (let ok = c.moveFirst(); ok && forward.length <= want.length; ok = c.moveNext()) forward.push(itemOf(c));
  assert.deepEqual(forward, want, 'moveFirst/moveNext');
  assert.equal(c.moveNext(), false, 'past the end stays past it');
  assert.equal(c.item.keyLength, 0);

  const viaEntries: [string, string | undefined][] = [];
  const e2 = b.cursor();
  for (let e = e2.first(); e && viaEntries.length <= want.length; e = e2.next()) viaEntries.push([hex(e[0]), e[1] === undefined ? undefined : hex(e[1])]);
  assert.deepEqual(viaEntries, want, 'first/next');

  const backward: [string, string | undefined][] = [];
  for (let ok = c.moveLast(); ok && backward.length <= want.length; ok = c.movePrev()) backward.push(itemOf(c));
  assert.deepEqual(backward, [...want].reverse(), 'moveLast/movePrev');

  // Seeks: each key, the key with a byte added (between it and the next), and the empty key.
  const seeks = [...model.map(([k]) => k), ...model.map(([k]) => `${k}00`), ''];
  for (const s of seeks) {
    const at = want.findIndex(([k]) => cmp(k, s) >= 0);
    const ok = c.moveTo(bytes(s));
    assert.equal(ok, at !== -1, `moveTo(${s})`);
    if (at === -1) continue;
    assert.deepEqual(itemOf(c), want[at], `moveTo(${s})`);
    // Then a few steps each way from there, in place and through entries, in turn.
    for (let i = at + 1; i < Math.min(want.length, at + 4); i++) {
      if (i % 2 === 0) assert.ok(c.moveNext());
      else {
        const e = c.next()!;
        assert.equal(hex(e[0]), want[i]![0]);
        continue;
      }
      assert.deepEqual(itemOf(c), want[i]);
    }
  }
}

const keyArb = fc.uint8Array({ minLength: 1, maxLength: 12 }).map(hex);
const valueArb = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.integer({ min: 100, max: 900 }).map((n) => new Uint8Array(n).fill(n & 0xff)) },
);
const itemsArb = fc.array(fc.tuple(keyArb, fc.oneof({ weight: 9, arbitrary: valueArb.map(hex) }, { weight: 1, arbitrary: fc.constant(undefined) })), { maxLength: 400 });

function load(b: Bucket, items: [string, string | undefined][]): Model {
  const m = new Map<string, string | undefined>();
  for (const [k, v] of items) {
    if (m.has(k)) continue;
    if (v === undefined) b.createBucket(bytes(k)).put('x', 'y');
    else b.put(bytes(k), bytes(v));
    m.set(k, v);
  }
  return [...m].sort((x, y) => cmp(x[0], y[0]));
}

test('Cursor_move_matchesTheModelOverPagesAndNodes', () => {
  const dir = tmpdir();
  let run = 0;
  fc.assert(
    fc.property(itemsArb, itemsArb, fc.boolean(), fc.constantFrom(4096, 16384), (first, later, nested, pageSize) => {
      const file = path.join(dir, `db${run++}`);
      const db = open(file, { pageSize });
      try {
        // A bucket at the root, or one inside another (small ones stay inline: their pages lie
        // at any byte offset in the parent's page, so they are read byte by byte).
        const target = (tx: Parameters<Parameters<typeof db.update>[0]>[0], create: boolean): Bucket => {
          if (!nested) return create ? tx.createBucket('b') : tx.bucket('b')!;
          const outer = create ? tx.createBucket('outer') : tx.bucket('outer')!;
          return create ? outer.createBucket('b') : outer.bucket('b')!;
        };
        let model: Model = [];
        db.update((tx) => {
          model = load(target(tx, true), first);
        });
        db.view((tx) => checkAgainstModel(target(tx, false), model));
        // A write transaction: new keys, and every third old key deleted; the cursor reads nodes.
        db.update((tx) => {
          const b = target(tx, false);
          const m = new Map(model);
          model.forEach(([k, v], i) => {
            if (i % 3 === 0 && v !== undefined) {
              b.delete(bytes(k));
              m.delete(k);
            }
          });
          for (const [k, v] of load(b, later.filter(([k]) => !m.has(k)))) m.set(k, v);
          model = [...m].sort((x, y) => cmp(x[0], y[0]));
          checkAgainstModel(b, model);
        });
        db.view((tx) => checkAgainstModel(target(tx, false), model));
      } finally {
        db.close();
      }
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test('Cursor_moveNext_walksEveryLeafOfADeepTree', () => {
  // 60k keys: a root branch page, branch pages under it and leaves under those, so a scan moves
  // to the parent's next child (read from the mapped page in a read transaction, through
  // tx.page otherwise) and, every few hundred leaves, past an exhausted parent.
  const db = open(path.join(tmpdir(), 'db'));
  const key = (i: number) => {
    const k = new Uint8Array(8);
    new DataView(k.buffer).setUint32(4, i * 7);
    return k;
  };
  db.update((tx) => {
    const b = tx.createBucket('b');
    for (let i = 0; i < 60_000; i++) b.put(key(i), new Uint8Array(60).fill(i & 0xff));
  });
  db.view((tx) => {
    const b = tx.bucket('b')!;
    assert.ok(b.stats().depth >= 3, 'the test needs two levels of branch pages');
    const c = b.cursor();
    let n = 0;
    for (let ok = c.moveFirst(); ok; ok = c.moveNext()) {
      assert.equal(c.item.compareKey(key(n)), 0, `key ${n}`);
      assert.equal(c.item.valueLength, 60);
      assert.equal(c.item.valueBuf[c.item.valueStart], n & 0xff);
      n++;
    }
    assert.equal(n, 60_000);
    // Backwards from the end, and forwards again from the middle.
    n = 60_000;
    for (let ok = c.moveLast(); ok; ok = c.movePrev()) assert.equal(c.item.compareKey(key(--n)), 0);
    assert.equal(n, 0);
    assert.ok(c.moveTo(key(30_000)));
    for (n = 30_000; c.moveNext(); ) assert.equal(c.item.compareKey(key(++n)), 0);
    assert.equal(n, 59_999);
    // From many places (every leaf position, over the run of seeks): a seek, two steps on, one
    // back, one on again, in place and through entries.
    for (let s = 0; s < 60_000; s += 37) {
      assert.ok(c.moveTo(key(s)));
      const want = [s + 1, s + 2, s + 1, s + 2].map((i) => (i < 60_000 ? i : undefined));
      const at = (ok: boolean) => (ok ? Buffer.from(c.item.key()).readUInt32BE(4) / 7 : undefined);
      const got = [at(c.moveNext()), at(c.moveNext()), at(c.movePrev()), at(c.moveNext())];
      if (s + 2 < 60_000) assert.deepEqual(got, want, `around key ${s}`);
      assert.ok(c.moveTo(key(s)));
      const e = c.next();
      if (s + 1 < 60_000) assert.equal(c.item.compareKey(key(s + 1)), 0, `next() after moveTo(${s})`);
      assert.equal(e === undefined, s + 1 >= 60_000);
    }
  });
  // The same walk in a write transaction before any change (pages, not nodes), and over leaves
  // with overflow pages (values larger than a page).
  db.update((tx) => {
    const c = tx.bucket('b')!.cursor();
    let n = 0;
    for (let ok = c.moveFirst(); ok; ok = c.moveNext()) assert.equal(c.item.compareKey(key(n++)), 0);
    assert.equal(n, 60_000);
    const big = tx.createBucket('big');
    for (let i = 0; i < 400; i++) big.put(key(i), new Uint8Array(5000 + i).fill(i & 0xff));
  });
  db.view((tx) => {
    const b = tx.bucket('big')!;
    assert.ok(b.stats().depth >= 2 && b.stats().leafOverflowN > 0, 'big has branch pages and overflow leaves');
    const c = b.cursor();
    let n = 0;
    for (let ok = c.moveFirst(); ok; ok = c.moveNext()) {
      assert.equal(c.item.compareKey(key(n)), 0);
      assert.equal(c.item.valueLength, 5000 + n);
      assert.equal(c.item.valueBuf[c.item.valueEnd - 1], n & 0xff);
      n++;
    }
    assert.equal(n, 400);
  });
  db.close();
});

test('Cursor_move_afterTheTransactionThrowsErrTxClosed', () => {
  const db = open(path.join(tmpdir(), 'db'));
  db.update((tx) => {
    const b = tx.createBucket('b');
    for (let i = 0; i < 100; i++) b.put(`k${i}`, 'v');
  });
  let c: Cursor | undefined;
  db.view((tx) => {
    c = tx.bucket('b')!.cursor();
    assert.ok(c.moveFirst());
  });
  for (const move of [() => c!.moveNext(), () => c!.moveFirst(), () => c!.moveLast(), () => c!.movePrev(), () => c!.moveTo('k5')]) {
    assert.throws(move, ErrTxClosed);
  }
  db.close();
});

test('Cursor_moveNext_elementOutsideItsPageIsACorruptionError', () => {
  // A leaf element whose value size runs past the page: moveNext (and next) must not read it.
  const file = path.join(tmpdir(), 'db');
  const db = open(file);
  db.update((tx) => {
    const b = tx.createBucket('b');
    for (let i = 0; i < 50; i++) b.put(`key${String(i).padStart(3, '0')}`, new Uint8Array(20));
  });
  const root = db.view((tx) => tx.bucket('b')!.root);
  db.close();
  const raw = fs.readFileSync(file);
  const ps = 4096;
  const page = root * ps;
  // Element 10's vsize (leaf element: flags, pos, ksize, vsize; u32 each, after the 16-byte header).
  raw.writeUInt32LE(0x7fff0000, page + 16 + 10 * 16 + 12);
  fs.writeFileSync(file, raw);
  const damaged = open(file, { readOnly: true });
  try {
    damaged.view((tx) => {
      const c = tx.bucket('b')!.cursor();
      let steps = 0;
      const walk = () => {
        for (let ok = c.moveFirst(); ok && steps < 1000; ok = c.moveNext()) steps++;
      };
      assert.throws(walk, (e: unknown) => e instanceof CorruptionError && e.pgid === root);
      assert.equal(steps, 10, 'the items before the damaged one are read');
      const e2 = tx.bucket('b')!.cursor();
      assert.throws(() => {
        for (let e = e2.first(); e; e = e2.next());
      }, CorruptionError);
    });
  } finally {
    damaged.close();
  }
});

test('Cursor_moveNext_stepOntoADamagedOrEmptyLeafReadsAsTheGeneralWalk', () => {
  // The step onto the parent's next child reads that leaf's header and first element from the
  // mapped chunk: a first element whose value runs past the page, an element count whose table
  // runs past the end of the file, or a page that is not a leaf must not be taken as they stand:
  // the scan reads every item of the first leaf, then fails with the damaged page's id. An empty
  // leaf is stepped over.
  const build = (file: string) => {
    const db = open(file);
    db.update((tx) => {
      const b = tx.createBucket('b');
      for (let i = 0; i < 400; i++) b.put(`key${String(i).padStart(4, '0')}`, new Uint8Array(40));
    });
    const root = db.view((tx) => tx.bucket('b')!.root);
    db.close();
    const raw = fs.readFileSync(file);
    const ps = 4096;
    assert.equal(raw.readUInt16LE(root * ps + 8) & 0x01, 0x01, 'the root is a branch page');
    // Branch elements: pos, ksize (u32), pgid (u64). The first two children are leaves.
    const first = Number(raw.readBigUInt64LE(root * ps + 16 + 8));
    const second = Number(raw.readBigUInt64LE(root * ps + 16 + 16 + 8));
    return { raw, ps, root, first, second, firstCount: raw.readUInt16LE(first * ps + 10) };
  };
  const scan = (file: string, damaged: number, firstCount: number, exact?: number) => {
    const db = open(file, { readOnly: true });
    try {
      db.view((tx) => {
        const c = tx.bucket('b')!.cursor();
        let steps = 0;
        assert.throws(
          () => {
            for (let ok = c.moveFirst(); ok && steps < 10_000; ok = c.moveNext()) steps++;
          },
          (e: unknown) => e instanceof CorruptionError && e.pgid === damaged,
        );
        assert.ok(steps >= firstCount, `the first leaf's ${firstCount} items are read (${steps})`);
        if (exact !== undefined) assert.equal(steps, exact);
      });
    } finally {
      db.close();
    }
  };
  /** A fresh file, changed by `damage` on its bytes and written back. */
  const damaged = (name: string, damage: (v: ReturnType<typeof build>) => void) => {
    const file = path.join(tmpdir(), name);
    const v = build(file);
    damage(v);
    fs.writeFileSync(file, v.raw);
    return { file, v };
  };
  const a = damaged('value', (v) => v.raw.writeUInt32LE(0x7fff0000, v.second * v.ps + 16 + 12)); // element 0's vsize
  scan(a.file, a.v.second, a.v.firstCount);
  // The count: the second leaf is copied to the file's last page (the root's element points
  // there), its keys and values zeroed, its count raised past the end of the file. Its element
  // slots that fit in the page read as empty items (zeros: within the mapped file, as Go would
  // read them); the first slot past the end of the file fails, not read as NaN offsets.
  let last = 0;
  const b = damaged('count', (v) => {
    last = v.raw.length / v.ps - 1;
    assert.ok(last > v.second && v.raw.subarray(last * v.ps).every((x) => x === 0), 'the last page is unused');
    const count = v.raw.readUInt16LE(v.second * v.ps + 10);
    v.raw.copy(v.raw, last * v.ps, v.second * v.ps, v.second * v.ps + 16 + count * 16);
    v.raw.writeBigUInt64LE(BigInt(last), v.root * v.ps + 16 + 16 + 8); // the root's second child
    v.raw.writeUInt32LE(last, last * v.ps); // the page's own id
    v.raw.writeUInt16LE(0xffff, last * v.ps + 10);
  });
  scan(b.file, last, b.v.firstCount, b.v.firstCount + (b.v.ps - 16) / 16);
  // Not a leaf: a freelist page where the second leaf was fails as the general walk fails on it.
  const d = damaged('type', (v) => v.raw.writeUInt16LE(0x10, v.second * v.ps + 8));
  scan(d.file, d.v.second, d.v.firstCount, d.v.firstCount);
  // An empty leaf (boltdb#450) is stepped over: every other item, in order, and no error.
  let emptied = 0;
  const e = damaged('empty', (v) => {
    emptied = v.raw.readUInt16LE(v.second * v.ps + 10);
    v.raw.writeUInt16LE(0, v.second * v.ps + 10);
  });
  const db = open(e.file, { readOnly: true });
  try {
    const keys = db.view((tx) => {
      const c = tx.bucket('b')!.cursor();
      const out: string[] = [];
      for (let ok = c.moveFirst(); ok; ok = c.moveNext()) out.push(Buffer.from(c.item.key()).toString());
      return out;
    });
    const want = Array.from({ length: 400 }, (_, i) => `key${String(i).padStart(4, '0')}`);
    want.splice(e.v.firstCount, emptied);
    assert.deepEqual(keys, want);
  } finally {
    db.close();
  }
});

test('Cursor_soundTree_passesAndTurnsAroundAsOftenAsAsked_noLeafLimitHit', () => {
  // The cursor refuses a pass in one direction that enters more leaves than the file has pages
  // (branch pages sharing children: test/bolt/corruption.test.ts). A sound tree never reaches
  // that: going back and forth across one leaf boundary, and whole passes after one another,
  // enter far more leaves in all than the file has pages.
  const file = path.join(tmpdir('cursor-turns-'), 'turns.db');
  const db = open(file);
  const key = (i: number) => `key${String(i).padStart(4, '0')}`;
  db.update((tx) => {
    const b = tx.createBucket('b');
    for (let i = 0; i < 2000; i++) b.put(key(i), 'v'.repeat(80));
  });
  try {
    const run = (b: Bucket, pages: number): void => {
      const c = b.cursor();
      // Leaves of the bucket: the first key of the second leaf is where a move turns round.
      let boundary = '';
      let prevPage = -1;
      b.tx.forEachPage(b.root, (p) => {
        if (p.isLeaf && prevPage !== -1 && boundary === '') boundary = Buffer.from(p.leafKey(0)).toString();
        if (p.isLeaf) prevPage = p.id;
      });
      assert.ok(boundary !== '');
      const at = Number(boundary.slice(3));
      assert.equal(Buffer.from(c.seek(boundary)![0]).toString(), boundary);
      for (let i = 0; i < 3 * pages; i++) {
        assert.equal(Buffer.from(c.prev()![0]).toString(), key(at - 1));
        assert.equal(Buffer.from(c.next()![0]).toString(), key(at));
      }
      for (let pass = 0; pass < 3; pass++) {
        let n = 0;
        for (let e = c.first(); e; e = c.next()) n++;
        assert.equal(n, 2000);
        n = 0;
        for (let e = c.last(); e; e = c.prev()) n++;
        assert.equal(n, 2000);
      }
    };
    db.view((tx) => run(tx.bucket('b')!, tx.meta.pgid));
    // Over nodes: a write transaction that has changed every leaf.
    db.update((tx) => {
      const b = tx.bucket('b')!;
      for (let i = 0; i < 2000; i += 20) b.put(key(i), 'w');
      run(b, tx.meta.pgid);
    });
  } finally {
    db.close();
  }
});
