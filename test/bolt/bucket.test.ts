// Bucket.put's fast path: the leaf a put reaches is remembered with the key range that reaches it,
// so later puts in the same transaction may skip the descent. Keys that belong to other leaves
// (below the first branch key, between leaves, past the last key, overwrites) must still land in
// their own leaf: the tree stays sorted, every key reads back, and the file checks clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CorruptionError, ErrIncompatibleValue, ErrTxClosed, open, type Bucket, type DB, type Tx } from '../../src/bolt/index.js';
import { tmpdir } from '../helpers/bolt.js';

const key = (n: number): Uint8Array => {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(Math.floor(n / 2 ** 32), 0);
  b.writeUInt32BE(n >>> 0, 4);
  return b;
};
const val = (n: number, gen: number): Uint8Array => new Uint8Array(40 + (n % 60)).fill((n + gen) % 251);

test('Bucket_put_interleavedKeysAcrossLeavesInOneTransaction', () => {
  const file = path.join(tmpdir(), 'db');
  const db = open(file);
  const model = new Map<number, Uint8Array>();
  // A tree of several levels: 20k keys (even numbers from 1000 on) in one transaction.
  db.update((tx) => {
    const b = tx.createBucket('b');
    for (let i = 0; i < 20_000; i++) {
      const n = 1000 + 2 * i;
      b.put(key(n), val(n, 0));
      model.set(n, val(n, 0));
    }
  });
  db.view((tx) => assert.ok(tx.bucket('b')!.stats().depth >= 3, 'the test needs two levels of branch pages'));
  // One transaction of puts that jump between leaves: odd keys between existing ones (stride
  // 997 wraps around the key space), keys below the first, past the last, and overwrites.
  db.update((tx) => {
    const b = tx.bucket('b')!;
    const ops: number[] = [];
    for (let i = 0; i < 6_000; i++) ops.push(1001 + 2 * ((i * 997) % 20_000));
    for (let i = 0; i < 500; i++) ops.push(999 - i, 50_000 + i * 3, 1000 + 2 * ((i * 131) % 20_000));
    ops.forEach((n, j) => {
      b.put(key(n), val(n, j + 1));
      model.set(n, val(n, j + 1));
      // Read back through the same transaction's nodes.
      if (j % 7 === 0) assert.deepEqual(b.get(key(n)), val(n, j + 1));
    });
    for (const [n, v] of model) if (n % 13 === 0) assert.deepEqual(b.get(key(n)), v, `key ${n} in the writing transaction`);
  });
  db.close();
  const again = open(file, { readOnly: true });
  again.view((tx) => {
    assert.deepEqual(tx.check(), []);
    const b = tx.bucket('b')!;
    const want = [...model.keys()].sort((x, y) => x - y);
    const got: number[] = [];
    const c = b.cursor();
    for (let e = c.first(); e; e = c.next()) {
      const n = Buffer.from(e[0]).readUInt32BE(0) * 2 ** 32 + Buffer.from(e[0]).readUInt32BE(4);
      got.push(n);
      assert.deepEqual(e[1], model.get(n), `value of key ${n}`);
    }
    assert.deepEqual(got, want);
  });
  again.close();
});

// Bucket.bucket(k) with the very key view a cursor of that bucket just returned opens the child
// from where the cursor stands, without a search (read transactions). The children must be the
// same as a search would find: inline and page-rooted ones, with their sequences, across leaf
// pages, with plain values between them; older views, copies and other buckets' views take the
// search path.
test('Bucket_bucket_keyFromCursorOpensTheSameChildAsASearch', () => {
  const file = path.join(tmpdir(), 'db');
  const db = open(file);
  const name = (i: number) => `child-${String(i).padStart(5, '0')}`;
  db.update((tx) => {
    const p = tx.createBucket('parent');
    const other = tx.createBucket('other');
    for (let i = 0; i < 3000; i++) {
      if (i % 7 === 3) {
        p.put(name(i), `plain ${i}`);
        continue;
      }
      const c = p.createBucket(name(i));
      c.put('id', String(i));
      c.setSequence(1000 + i);
      // Every fifth child holds a nested bucket, so it cannot be inline.
      if (i % 5 === 0) c.createBucket('nested').put('deep', `deep ${i}`);
      other.createBucket(name(i)).put('id', `other ${i}`);
    }
  });
  const check = (b: Bucket | undefined, i: number) => {
    assert.ok(b, `child ${i} opens`);
    assert.equal(Buffer.from(b.get('id')!).toString(), String(i));
    assert.equal(b.sequence(), BigInt(1000 + i));
    assert.equal(b.root === 0, i % 5 !== 0, `child ${i} inline`);
    if (i % 5 === 0) assert.equal(Buffer.from(b.bucket('nested')!.get('deep')!).toString(), `deep ${i}`);
  };
  db.view((tx) => {
    const p = tx.bucket('parent')!;
    const other = tx.bucket('other')!;
    const seen: [Uint8Array, number][] = [];
    let n = 0;
    p.forEach((k, v) => {
      const i = Number(Buffer.from(k).toString().slice(6));
      if (v !== undefined) {
        assert.equal(p.bucket(k), undefined, 'a plain value is not a bucket');
        return;
      }
      check(p.bucket(k), i);
      check(p.bucket(k.slice()), i);
      // The same bytes in another bucket name another child.
      assert.equal(Buffer.from(other.bucket(k)!.get('id')!).toString(), `other ${i}`);
      seen.push([k, i]);
      n++;
    });
    assert.equal(n, 3000 - Math.ceil((3000 - 3) / 7));
    // Views from earlier steps take the search path and still find their child.
    for (const [k, i] of seen.filter((_, j) => j % 97 === 0)) check(p.bucket(k), i);
    // A cursor of another bucket stepping onto the same name leaves this bucket's lookups alone.
    const oc = other.cursor();
    oc.first();
    const [ok] = oc.next()!;
    assert.equal(Buffer.from(p.bucket(ok)!.get('id')!).toString(), Buffer.from(ok).toString().slice(6).replace(/^0+/, ''));
    const pc = p.cursor();
    pc.first();
    const [pk] = pc.next()!;
    assert.equal(Buffer.from(other.bucket(pk)!.get('id')!).toString(), `other ${Number(Buffer.from(pk).toString().slice(6))}`);
  });
  // In a write transaction the cursor path is not used: a child changed in the transaction reads back changed.
  db.update((tx) => {
    const p = tx.bucket('parent')!;
    p.bucket(name(1))!.put('id', 'changed');
    const c = p.cursor();
    c.first();
    const [k] = c.next()!;
    assert.equal(Buffer.from(k).toString(), name(1));
    assert.equal(Buffer.from(p.bucket(k)!.get('id')!).toString(), 'changed');
  });
  db.close();
});

// Bucket.forEach walks the rest of each leaf page in its own loop in read transactions. It
// must visit what a cursor visits, in order (values, nested buckets, across pages), stop with
// ErrTxClosed when the callback ends the transaction, and raise CorruptionError for an element
// that points outside the mapped file, wherever on the page it is.
test('Bucket_forEach_matchesTheCursorAndChecksEveryElement', () => {
  const file = path.join(tmpdir(), 'db');
  const db = open(file);
  db.update((tx) => {
    const b = tx.createBucket('b');
    for (let i = 0; i < 2000; i++) {
      if (i % 9 === 4) b.createBucket(key(i)).put('x', 'y');
      else b.put(key(i), val(i, 1));
    }
  });
  const viaCursor: string[] = [];
  const viaForEach: string[] = [];
  const show = (k: Uint8Array, v: Uint8Array | undefined) => `${Buffer.from(k).toString('hex')}=${v === undefined ? 'bucket' : Buffer.from(v).toString('hex')}`;
  db.view((tx) => {
    const b = tx.bucket('b')!;
    const c = b.cursor();
    for (let e = c.first(); e; e = c.next()) viaCursor.push(show(e[0], e[1]));
    b.forEach((k, v) => viaForEach.push(show(k, v)));
    assert.ok(b.stats().leafPageN > 10, 'the test needs many leaf pages');
  });
  assert.equal(viaCursor.length, 2000);
  assert.deepEqual(viaForEach, viaCursor);
  // The same in a write transaction (the cursor path).
  const inWrite: string[] = [];
  db.update((tx) => tx.bucket('b')!.forEach((k, v) => inWrite.push(show(k, v))));
  assert.deepEqual(inWrite, viaCursor);
  // A callback that ends the transaction stops the walk at the next item.
  {
    const tx = db.begin(false);
    let n = 0;
    assert.throws(
      () =>
        tx.bucket('b')!.forEach(() => {
          if (++n === 3) tx.rollback();
        }),
      ErrTxClosed,
    );
    assert.equal(n, 3);
  }
  // An element in the middle of a leaf page whose key runs past the end of the file.
  let leaf = 0;
  db.view((tx) => {
    const b = tx.bucket('b')!;
    b.forEachPage((p) => {
      if (leaf === 0 && p.isLeaf && p.count > 10) leaf = p.id;
    });
  });
  db.close();
  const bytes = fs.readFileSync(file);
  const ps = 4096;
  const elem = leaf * ps + 16 + 7 * 16; // element 7: flags, pos, ksize, vsize
  bytes.writeUInt32LE(0x40000000, elem + 8); // far past the end of the file
  const bad = path.join(tmpdir(), 'bad.db');
  fs.writeFileSync(bad, bytes);
  const db2 = open(bad, { readOnly: true });
  try {
    db2.view((tx) => {
      let seen = 0;
      assert.throws(
        () => tx.bucket('b')!.forEach(() => void seen++),
        (e: Error & { pgid?: number }) => e.name === 'CorruptionError' && e.pgid === leaf,
      );
      assert.ok(seen > 0, 'items before the bad element were visited');
    });
  } finally {
    db2.close();
  }
});

// Write transactions reuse the previous one's dirty-page arena, zeroed where it was used: a
// page written by a later, smaller commit must not carry bytes of an earlier one past its end
// (bbolt writes pages from zeroed buffers; files must stay byte-identical to Go's).
test('Tx_reusedPageArena_pagesAreZeroPastTheirContent', () => {
  const file = path.join(tmpdir(), 'db');
  const db = open(file);
  db.update((tx) => {
    const b = tx.createBucket('b');
    for (let i = 0; i < 30; i++) b.put(key(i), new Uint8Array(100).fill(0xab));
    b.createBucket('z'); // a bucket with a child bucket is never inline
  });
  db.update((tx) => {
    const b = tx.bucket('b')!;
    for (let i = 1; i < 30; i++) b.delete(key(i));
  });
  let root = 0;
  db.view((tx) => {
    root = tx.bucket('b')!.root;
    assert.ok(root > 0, 'the bucket has its own page');
  });
  db.close();
  const bytes = fs.readFileSync(file);
  const page = bytes.subarray(root * 4096, (root + 1) * 4096);
  assert.equal(page.readUInt16LE(10), 2, 'two elements left');
  // Header, two elements, key(0) and its 100-byte value, 'z' and its inline bucket (16 + 16).
  const end = 16 + 2 * 16 + 8 + 100 + 1 + 32;
  assert.equal(page[end - 34], 0xab, 'the value ends where expected');
  assert.equal(page[end - 33], 0x7a, "then the key 'z'");
  assert.equal(page.subarray(end).findIndex((x) => x !== 0), -1, 'zero past the content');
});

// An inline bucket is read in place, inside the page that holds its value: lookups must stop at
// the end of that value, as they did when it was a view of its own. An element whose value runs
// past it (into the next element of the page, still inside the file) is corruption, not data.
test('Bucket_inline_lookupsStopAtTheEndOfTheBucketValue', () => {
  const file = path.join(tmpdir(), 'db');
  const db = open(file);
  db.update((tx) => {
    tx.createBucket('a-inline').put('KEYKEY', 'VALVAL');
    tx.createBucket('b-next').put('k', 'v'.repeat(50));
  });
  db.view((tx) => {
    assert.equal(tx.bucket('a-inline')!.stats().inlineBucketN, 1, 'the test needs an inline bucket');
    assert.equal(Buffer.from(tx.bucket('a-inline')!.get('KEYKEY')!).toString(), 'VALVAL');
  });
  db.close();
  const bytes = fs.readFileSync(file);
  const at = bytes.indexOf('KEYKEYVALVAL');
  assert.ok(at > 0 && bytes.indexOf('KEYKEYVALVAL', at + 1) === -1, 'one copy of the inline bucket');
  const elem = at - 16; // the inline page's only element: flags, pos, ksize, vsize; key at elem + 16
  const page = elem - 16; // the inline page's header: id, u16 flags, u16 count, overflow
  assert.equal(bytes.readUInt32LE(elem + 12), 6);
  const isCorruption = (e: Error) => e.name === 'CorruptionError';
  const damaged = (damage: (b: Buffer) => void, check: (tx: Tx) => void) => {
    const b = Buffer.from(bytes);
    damage(b);
    const bad = path.join(tmpdir(), 'bad.db');
    fs.writeFileSync(bad, b);
    const db2 = open(bad, { readOnly: true });
    try {
      db2.view((tx) => {
        check(tx);
        // The neighbour is untouched.
        assert.equal(Buffer.from(tx.bucket('b-next')!.get('k')!).toString(), 'v'.repeat(50));
      });
    } finally {
      db2.close();
    }
  };
  // The value now runs 24 bytes past the bucket's value.
  damaged(
    (b) => b.writeUInt32LE(6 + 24, elem + 12),
    (tx) => {
      assert.throws(() => tx.bucket('a-inline')!.get('KEYKEY'), isCorruption);
      assert.throws(() => tx.bucket('a-inline')!.cursor().first(), isCorruption);
      assert.throws(() => tx.bucket('a-inline')!.forEach(() => {}), isCorruption);
    },
  );
  // The key runs past it; the element table runs past it (a count of 3: a lookup after the only
  // key probes element 1, which lies outside the value).
  for (const damage of [(b: Buffer) => b.writeUInt32LE(6 + 40, elem + 8), (b: Buffer) => b.writeUInt16LE(3, page + 10)]) {
    damaged(damage, (tx) => {
      for (const k of ['KEYKEY', 'ZZZ']) {
        assert.throws(() => tx.bucket('a-inline')!.get(k), isCorruption, k);
        assert.throws(() => tx.bucket('a-inline')!.bucket(k), isCorruption, k);
      }
    });
  }
  // The inline page is marked a branch page: it is not searched as a leaf.
  damaged(
    (b) => b.writeUInt16LE(0x01, page + 8),
    (tx) => assert.throws(() => tx.bucket('a-inline')!.get('KEYKEY'), isCorruption),
  );
});

// Lookups in trees with branch pages compare keys from the prefix they share with both ends of
// the search range, which sorted order implies; the element they end on is compared again from
// byte 0, except when the search itself compared that element's whole key. Lookups in one leaf
// page (a root leaf, an inline bucket) compare whole keys. On a page whose keys are out of order
// (element 'mx' rewritten to 'nx', which a comparison from byte 1 takes for 'mx'), the lookup
// of 'mx' must miss: in a bucket of one leaf page and in an inline one (where the keys around
// it are still found), and in a deep one whose leaf holds them after branch pages.
test('Bucket_get_outOfOrderKeyIsNotTakenForTheOneSearched', () => {
  const file = path.join(tmpdir(), 'db');
  const db = open(file);
  const keys = ['m0', 'ma', 'mx', 'mz', 'n1', 'n2', 'n3'];
  db.update((tx) => {
    const pg = tx.createBucket('pg');
    const inl = tx.createBucket('inl');
    const deep = tx.createBucket('deep');
    for (const k of keys) {
      pg.put(k, `PG-${k}-`.padEnd(300, '.'));
      inl.put(k, `IN-${k}`);
    }
    // In deep, the neighbours of 'mx' share its first byte, so the search compares the damaged
    // element from byte 1.
    for (const k of ['m0', 'm1', 'ma', 'mx', 'my', 'mz', 'mz1']) deep.put(k, `DP-${k}-`.padEnd(40, '.'));
    for (let i = 0; i < 600; i++) deep.put(`a${String(i).padStart(4, '0')}`, 'f'.repeat(300));
  });
  db.view((tx) => {
    assert.equal(tx.bucket('pg')!.stats().leafPageN, 1, 'pg is one leaf page');
    assert.equal(tx.bucket('inl')!.stats().inlineBucketN, 1, 'inl is inline');
    assert.ok(tx.bucket('deep')!.stats().depth >= 2, 'deep has branch pages');
    assert.equal(Buffer.from(tx.bucket('pg')!.get('mx')!).toString().slice(0, 6), 'PG-mx-');
    assert.equal(Buffer.from(tx.bucket('inl')!.get('mx')!).toString(), 'IN-mx');
  });
  db.close();
  const bytes = fs.readFileSync(file);
  for (const value of ['PG-mx-', 'IN-mx', 'DP-mx-']) {
    const at = bytes.indexOf(value);
    assert.ok(at > 0 && bytes.indexOf(value, at + 1) === -1, `one copy of ${value}`);
    assert.equal(bytes.toString('latin1', at - 2, at), 'mx'); // the key comes right before its value
    bytes[at - 2] = 'n'.charCodeAt(0);
  }
  const bad = path.join(tmpdir(), 'bad.db');
  fs.writeFileSync(bad, bytes);
  const db2 = open(bad, { readOnly: true });
  try {
    db2.view((tx) => {
      for (const name of ['pg', 'inl', 'deep']) {
        const b = tx.bucket(name)!;
        assert.equal(b.get('mx'), undefined, `${name}: 'mx' is not on the page any more`);
        assert.equal(b.bucket('mx'), undefined);
        if (name === 'deep') {
          // Past branch pages the search may end at the damaged element instead (as bbolt's,
          // which then misses): a key around it is found with its own value, or not at all.
          for (const k of ['ma', 'mz']) {
            const v = b.get(k);
            assert.ok(v === undefined || Buffer.from(v).toString().startsWith(`DP-${k}-`), `deep: ${k}`);
          }
          continue;
        }
        assert.ok(b.get('mz') !== undefined, `${name}: the keys around it are still found`);
        assert.ok(b.get('ma') !== undefined);
      }
    });
  } finally {
    db2.close();
  }
});

// A bucket whose root page is a leaf (containerd's image and target buckets) is searched by a
// smaller function than deeper trees. An element header pointing past the end of the file (its
// key position, key size or value size), a count that runs the element table past it, or an
// overflow that runs the page past it, must
// not be read: the lookup takes the checked path and throws a CorruptionError naming the page,
// never a RangeError from a view past the mapping and never bytes from outside the file.
test('Bucket_get_rootLeafElementPastTheFileIsACorruptionError', () => {
  const file = path.join(tmpdir(), 'db');
  const db = open(file);
  const keys = ['createdat', 'labels', 'target', 'updatedat'];
  db.update((tx) => {
    const b = tx.createBucket('img');
    for (const k of keys) b.put(k, `value-of-${k}`.padEnd(300, '.'));
  });
  const root = db.view((tx) => {
    const b = tx.bucket('img')!;
    assert.equal(b.stats().depth, 1, 'img is one leaf page');
    assert.notEqual(b.root, 0, 'img is not inline');
    return b.root;
  });
  db.close();
  const ps = 4096;
  const clean = fs.readFileSync(file);
  const elem = (i: number) => root * ps + 16 + i * 16;
  const cases: [string, (b: Buffer) => void, string][] = [
    // Element 2 ('target'): u32 flags, pos, ksize, vsize.
    ['value size', (b) => b.writeUInt32LE(0x7fff0000, elem(2) + 12), 'target'],
    ['key position', (b) => b.writeUInt32LE(0x7fff0000, elem(2) + 4), 'target'],
    ['key size', (b) => b.writeUInt32LE(0x7fff0000, elem(2) + 8), 'target'],
    ['element count', (b) => b.writeUInt16LE(0xffff, root * ps + 10), 'zzz'],
    // The page header's overflow: the page would run past the end of the file.
    ['overflow', (b) => b.writeUInt32LE(0x7fff0000, root * ps + 12), 'target'],
  ];
  for (const [what, damage, key] of cases) {
    const bytes = Buffer.from(clean);
    damage(bytes);
    const bad = path.join(tmpdir(), 'bad.db');
    fs.writeFileSync(bad, bytes);
    const db2 = open(bad, { readOnly: true });
    try {
      db2.view((tx) => {
        const b = tx.bucket('img')!;
        for (const lookup of [() => b.get(key), () => b.bucket(key)]) {
          assert.throws(lookup, (e: unknown) => e instanceof CorruptionError && e.pgid === root, `${what}: ${key}`);
        }
      });
    } finally {
      db2.close();
    }
  }
});

// Deletes that leave a leaf under its merge threshold merge it with a sibling at commit. On a
// damaged file whose branch page names one child only (bbolt panics on the same assertion), the
// commit must fail with a CorruptionError naming that branch page, and write nothing: the file
// keeps every byte, and the keys that could be read before can still be read.
test('Tx_commit_mergeUnderABranchOfOneChild_isACorruptionError_andWritesNothing', () => {
  const file = path.join(tmpdir(), 'db');
  const db = open(file);
  db.update((tx) => {
    const a = tx.createBucket('a');
    for (let i = 0; i < 600; i++) a.put(`key${String(i).padStart(4, '0')}`, 'v'.repeat(50));
  });
  const root = db.view((tx) => {
    const a = tx.bucket('a')!;
    const p = tx.page(a.root);
    assert.ok(p.isBranch && p.count > 2, 'the test needs a root branch page over several leaves');
    return a.root;
  });
  db.close();
  const bytes = fs.readFileSync(file);
  bytes.writeUInt16LE(1, root * 4096 + 10); // the root branch now names its first leaf only
  fs.writeFileSync(file, bytes);
  const before = Buffer.from(bytes);

  const db2 = open(file);
  const reachable = db2.view((tx) => {
    const ks: string[] = [];
    tx.bucket('a')!.forEach((k) => ks.push(Buffer.from(k).toString()));
    return ks;
  });
  assert.ok(reachable.length > 2 && reachable.length < 600);
  assert.throws(
    () =>
      db2.update((tx) => {
        const a = tx.bucket('a')!;
        for (const k of reachable.slice(1)) a.delete(k); // one key left: far under the threshold
      }),
    (e: unknown) => e instanceof CorruptionError && e.code === 'ERR_CORRUPTION' && e.pgid === root && /branch/.test(e.message),
  );
  db2.view((tx) => {
    const ks: string[] = [];
    tx.bucket('a')!.forEach((k) => ks.push(Buffer.from(k).toString()));
    assert.deepEqual(ks, reachable);
  });
  db2.close();
  assert.ok(fs.readFileSync(file).equals(before), 'the failed commit wrote nothing');
});

/** The leaf page ids of a top-level bucket, in tree order. */
function leafPageIds(db: DB, bucket: string): number[] {
  return db.view((tx) => {
    const ids: number[] = [];
    tx.bucket(bucket)!.forEachPage((p) => {
      if (p.isLeaf) ids.push(p.id);
    });
    return ids;
  });
}

test('Bucket_put_onANestedBucketsKey_failsAndLeavesItsLeafUnwritten', () => {
  // bbolt checks for a nested bucket under the key before it materializes the leaf, so the
  // failed put changes nothing: commit writes only the leaves that did change (as Go's bytes).
  const file = path.join(tmpdir(), 'db');
  const db = open(file);
  db.update((tx) => {
    const b = tx.createBucket('b');
    for (let i = 0; i < 3000; i++) b.put(key(2 * i), val(i, 0));
    b.createBucket(key(3001));
  });
  const leaves = () => leafPageIds(db, 'b');
  const before = leaves();
  assert.ok(before.length > 20, 'the test needs many leaves');
  db.update((tx) => {
    const b = tx.bucket('b')!;
    b.put(key(10), val(5, 1)); // the first leaf: the root node is materialized
    const nodes = tx.stats.nodeCount;
    assert.throws(() => b.put(key(3001), val(1, 1)), ErrIncompatibleValue);
    assert.equal(tx.stats.nodeCount, nodes, 'the failed put materialized nodes');
    b.put(key(12), val(6, 1)); // the same leaf again, through the fast path
  });
  const after = leaves();
  assert.equal(after.length, before.length);
  assert.deepEqual(after.slice(1), before.slice(1), 'only the first leaf is written anew');
  assert.notEqual(after[0], before[0]);
  db.view((tx) => {
    assert.deepEqual(tx.check(), []);
    assert.equal(tx.bucket('b')!.get(key(3001)), undefined);
    assert.ok(tx.bucket('b')!.bucket(key(3001)));
    assert.deepEqual(tx.bucket('b')!.get(key(12)), val(6, 1));
  });
  db.close();
});

test('Cursor_delete_pastTheEnd_deletesNothing_andWritesTheLastLeafAnewAsBbolt', () => {
  // With nothing under the cursor, bbolt's Cursor.Delete still materializes the path to the
  // leaf (c.node().del(nil)), so commit writes that leaf to a new page; Go's bytes depend on it
  // (test/interop/bolt-reference.test.ts compares them).
  const file = path.join(tmpdir(), 'db');
  const db = open(file);
  db.update((tx) => {
    const b = tx.createBucket('b');
    for (let i = 0; i < 3000; i++) b.put(key(i), val(i, 0));
  });
  const leaves = () => leafPageIds(db, 'b');
  const before = leaves();
  db.update((tx) => {
    const c = tx.bucket('b')!.cursor();
    assert.equal(c.seek(key(5000)), undefined);
    c.delete();
    assert.equal(tx.bucket('b')!.stats().keyN, 3000);
  });
  const after = leaves();
  assert.deepEqual(after.slice(0, -1), before.slice(0, -1));
  assert.notEqual(after.at(-1), before.at(-1), 'the last leaf was not written anew');
  db.view((tx) => {
    assert.deepEqual(tx.check(), []);
    assert.equal(tx.bucket('b')!.stats().keyN, 3000);
  });
  db.close();
});

test('Bucket_spill_childBucketsInByteOrderOfTheirNames', () => {
  // Child buckets are spilled in name order (bbolt ranges over a map; we choose key order), so in
  // a fresh file the ones too large to be inline get root pages in that order. Names cover bytes
  // where a latin1 string and UTF-16 or signed comparisons could disagree, and prefixes.
  const names = ['\x00', '\x00\x00', '\x7f', '\x80', '\x80\x00', '\xc3\xa9', '\xff', '\xff\xff', 'a', 'ab', 'b'].map((s) => Buffer.from(s, 'latin1'));
  const shuffled = [6, 2, 9, 0, 4, 10, 1, 8, 3, 7, 5].map((i) => names[i]!);
  const dir = tmpdir('bucket-order-');
  const db = open(path.join(dir, 'db'));
  try {
    db.update((tx) => {
      for (const n of shuffled) {
        const b = tx.createBucket(n);
        for (let i = 0; i < 8; i++) b.put(key(i), new Uint8Array(200)); // > a quarter page: not inline
      }
    });
    const sorted = [...names].sort(Buffer.compare);
    db.view((tx) => {
      const roots = sorted.map((n) => tx.bucket(n)!.root);
      assert.ok(roots.every((r) => r > 0), 'every bucket has a root page');
      for (let i = 1; i < roots.length; i++) assert.ok(roots[i]! > roots[i - 1]!, `bucket ${sorted[i]!.toString('hex')} spilled after ${sorted[i - 1]!.toString('hex')}`);
    });
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
