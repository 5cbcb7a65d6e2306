// Bucket.stats() against Go bbolt 1.3.6's Bucket.Stats, field by field, for every top-level bucket:
// on the bbolt fixtures and the corpus (sound files), and on damaged files whose bucket values and
// branch elements share pages. Go walks a shared page (and a shared nested bucket) once per
// reference; ours sums each page once and adds the sum again at its other references, so the
// figures must be Go's, while a file whose sharing goes on level after level (see
// test/bolt/corruption.test.ts) takes Go exponential time and ours none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { open, type BucketStats } from '../../src/bolt/index.js';
import { runReference } from '../helpers/reference.js';
import { buildChain, setBucketRoot, tmpdir } from '../helpers/bolt.js';
import { CORPUS } from '../helpers/corpus.js';

const PS = 4096;
const FIXTURES = fileURLToPath(new URL('../../fixtures/bolt/', import.meta.url));

/** Go's stats by hex bucket name (field names as Go spells them, first letter lowered). */
function goStats(file: string): Record<string, Record<string, number>> {
  const raw = runReference(['stats', file]).stats as Record<string, Record<string, number>>;
  const go: Record<string, Record<string, number>> = {};
  for (const [name, s] of Object.entries(raw)) {
    go[name] = Object.fromEntries(Object.entries(s).map(([k, v]) => [k[0]!.toLowerCase() + k.slice(1), v]));
  }
  return go;
}

/** Asserts our stats of every top-level bucket are Go's (`go`, when read already); returns ours. */
function assertSameStats(file: string, go = goStats(file)): Record<string, BucketStats> {
  assert.ok(Object.keys(go).length > 0, `${file}: no buckets`);
  const db = open(file, { readOnly: true });
  const ours: Record<string, BucketStats> = {};
  try {
    db.view((tx) => tx.forEach((name, b) => void (ours[Buffer.from(name).toString('hex')] = b!.stats())));
  } finally {
    db.close();
  }
  assert.deepEqual(Object.keys(ours).sort(), Object.keys(go).sort());
  for (const [name, s] of Object.entries(go)) assert.deepEqual({ ...ours[name] }, s, `${path.basename(file)} bucket ${name}`);
  return ours;
}

test('StatsReference_fixturesAndCorpus_everyBucketAsGo', () => {
  const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.db')).map((f) => path.join(FIXTURES, f));
  if (fs.existsSync(CORPUS)) files.push(...fs.readdirSync(CORPUS).filter((f) => f.endsWith('.db')).map((f) => path.join(CORPUS, f)));
  let compared = 0;
  for (const f of files) {
    // (a file with no top-level bucket, or one Go will not open, has nothing to compare)
    let go: Record<string, Record<string, number>>;
    try {
      go = goStats(f);
    } catch {
      continue;
    }
    if (Object.keys(go).length === 0) continue;
    assertSameStats(f, go);
    compared++;
  }
  assert.ok(compared >= 8, `only ${compared} files compared`);
});

test('StatsReference_bucketValuesShareRoots_figuresAsGo', () => {
  // 4 levels of 4 values each pointing at the next level: Go walks the last level 4^4 times.
  const dir = tmpdir('stats-ref-');
  try {
    const file = path.join(dir, 'dag.db');
    const levels = 4;
    const { roots } = buildChain(file, levels, 4, false);
    const b = fs.readFileSync(file);
    for (let level = 0; level < levels; level++) for (let c = 1; c < 4; c++) setBucketRoot(b, PS, roots[level]!, `c${c}`, roots[level + 1]!);
    fs.writeFileSync(file, b);
    const ours = assertSameStats(file);
    assert.equal(ours[Buffer.from('L0').toString('hex')]!.bucketN, 1 + 4 + 16 + 64 + 256); // as Go counts them
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('StatsReference_branchElementsShareALeaf_figuresAsGo', () => {
  // A bucket whose root branch points every element at its first leaf, which holds a nested
  // bucket: Go counts that leaf, and the nested bucket, once per element.
  const dir = tmpdir('stats-ref-');
  try {
    const file = path.join(dir, 'wide.db');
    const db = open(file);
    db.update((tx) => {
      const w = tx.createBucket('wide');
      const sub = w.createBucket('a-sub');
      for (let i = 0; i < 20; i++) sub.put(`k${i}`, 'x'.repeat(100));
      for (let i = 0; i < 300; i++) w.put(`k${String(i).padStart(4, '0')}`, 'v'.repeat(60));
    });
    const { rootId, leaf, count } = db.view((tx) => {
      const w = tx.bucket('wide')!;
      const p = tx.page(w.root);
      assert.ok(p.isBranch && p.count >= 4);
      return { rootId: w.root, leaf: p.branchPgid(0), count: p.count };
    });
    db.close();
    const b = fs.readFileSync(file);
    for (let i = 1; i < count; i++) b.writeBigUInt64LE(BigInt(leaf), rootId * PS + 16 + i * 16 + 8); // branch element: pos, ksize, pgid
    fs.writeFileSync(file, b);
    const ours = assertSameStats(file);
    const w = ours[Buffer.from('wide').toString('hex')]!;
    assert.deepEqual([w.leafPageN, w.bucketN], [count + count, 1 + count]); // the leaf and a-sub's own leaf, count times each
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
