// The corruption suite: one database, damaged one way per case (a torn meta, a cycle, a zeroed page,
// a truncated file, a bad freelist, two swapped pages). For each: check names the problem (the page
// and what is wrong with it), salvage recovers every key that was on an intact page (into its
// bucket or a __salvaged__ one) with an output that passes check, and no tsbolt command crashes or
// touches the file. A torn meta is invisible to check (the engine falls back to the older meta, as
// bbolt does: see fixtures/bolt/torn-meta*.db and Go's recorded check output); `surgery meta validate`
// names it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CorruptionError, open, salvage, type Bucket } from '../../src/bolt/index.js';
import { main } from '../../src/cli/tsbolt.js';
import { branchAllTo, buildChain, setBucketRoot, tmpdir } from '../helpers/bolt.js';

const PS = 4096;
let dir = '';
let base: Buffer;
/** key -> leaf page of bucket a, and the layout of the file. */
const leafOf = new Map<string, number>();
let layout = { root: 0, leaves: [] as number[], freelist: 0, txid: 0 };

before(() => {
  dir = tmpdir('corruption-');
  const file = path.join(dir, 'base.db');
  const db = open(file);
  db.update((tx) => {
    const a = tx.createBucket('a');
    for (let i = 0; i < 600; i++) a.put(`key${String(i).padStart(4, '0')}`, 'v'.repeat(50));
    tx.createBucket('b').put('x', 'y');
  });
  db.update((tx) => tx.bucket('b')!.put('z', 'w')); // the newest transaction touches b only
  db.view((tx) => {
    const a = tx.bucket('a')!;
    const leaves: number[] = [];
    tx.forEachPage(a.root, (p) => {
      if (!p.isLeaf) return;
      leaves.push(p.id);
      for (let i = 0; i < p.count; i++) leafOf.set(Buffer.from(p.leafKey(i)).toString(), p.id);
    });
    layout = { root: a.root, leaves, freelist: tx.meta.freelist!, txid: tx.meta.txid };
  });
  db.close();
  base = fs.readFileSync(file);
  assert.ok(layout.leaves.length > 10);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function items(file: string): Map<string, string> {
  const db = open(file, { readOnly: true });
  try {
    return db.view((tx) => {
      const out = new Map<string, string>();
      const walk = (b: Bucket, p: string): void =>
        b.forEach((k, v) => {
          const name = Buffer.from(k).toString();
          if (v === undefined) walk(b.bucket(k)!, `${p}${name}/`);
          else out.set(`${p}${name}`, Buffer.from(v).toString());
        });
      walk(tx.root, '');
      return out;
    });
  } finally {
    db.close();
  }
}

/** Salvages `file` into `out` (a new file), checks the output and returns its items. */
function salvaged(file: string, out: string): Map<string, string> {
  fs.rmSync(out, { force: true });
  salvage(file, out);
  const o = open(out, { readOnly: true });
  try {
    assert.deepEqual(o.view((tx) => tx.check()), []);
  } finally {
    o.close();
  }
  return items(out);
}

interface Case {
  name: string;
  damage: (b: Buffer) => Buffer;
  /** Pages whose keys may be lost. */
  damaged: () => number[];
  /** What check must say (each pattern matches a finding). */
  findings: () => RegExp[];
}

const mid = (): number => layout.leaves[Math.floor(layout.leaves.length / 2)]!;
const CASES: Case[] = [
  {
    name: 'cycle',
    // the root branch's 4th element points back at the root
    damage: (b) => (b.writeBigUInt64LE(BigInt(layout.root), layout.root * PS + 16 + 3 * 16 + 8), b),
    damaged: () => [],
    findings: () => [new RegExp(`^page ${layout.root}: cycle in the page tree`), new RegExp(`^page ${layout.leaves[3]}: unreachable unfreed$`)],
  },
  {
    name: 'zeroedPage',
    damage: (b) => b.fill(0, mid() * PS, (mid() + 1) * PS),
    damaged: () => [mid()],
    findings: () => [new RegExp(`invalid page type: ${mid()}: 0$`)],
  },
  {
    name: 'truncatedFile',
    damage: (b) => b.subarray(0, mid() * PS),
    damaged: () => layout.leaves.filter((p) => p >= mid()),
    findings: () => [new RegExp(`beyond the end of the file \\(${mid()} pages\\)`)],
  },
  {
    name: 'badFreelist',
    damage: (b) => (b.fill(0xab, layout.freelist * PS + 16, (layout.freelist + 1) * PS), b.writeUInt16LE(200, layout.freelist * PS + 10), b),
    damaged: () => [],
    findings: () => [/^freelist: freelist id out of range: 0xabababababababab$/],
  },
  {
    name: 'swappedPages',
    damage: (b) => {
      const [p, q] = [layout.leaves[1]!, layout.leaves[layout.leaves.length - 2]!];
      const t = Buffer.from(b.subarray(p * PS, (p + 1) * PS));
      b.copy(b, p * PS, q * PS, (q + 1) * PS);
      t.copy(b, q * PS);
      return b;
    },
    damaged: () => [layout.leaves[1]!, layout.leaves[layout.leaves.length - 2]!],
    findings: () => [new RegExp(`on leaf page\\(${layout.leaves[1]}\\) needs to be < than key`), new RegExp(`on leaf page\\(${layout.leaves[layout.leaves.length - 2]}\\) needs to be`)],
  },
];

async function cli(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const w = { write: (s: string | Uint8Array) => ((out += typeof s === 'string' ? s : Buffer.from(s).toString()), true) };
  const code = await main(argv, { stdout: w, stderr: w });
  return { code, out };
}

/** No stack trace and no "internal error" (what tsbolt prints for an error that is none of ours). */
function assertNoCrash(argv: string[], out: string): void {
  assert.ok(!/\n\s+at /.test(out), `${argv[0]}: stack trace:\n${out.slice(0, 400)}`);
  assert.ok(!/internal error/.test(out), `${argv[0]}: ${out.slice(0, 400)}`);
}

async function commandsFailCleanly(file: string): Promise<void> {
  const bytes = fs.readFileSync(file);
  const mtime = fs.statSync(file).mtimeMs;
  for (const argv of [['check', file], ['pages', file], ['stats', file], ['keys', file, 'a'], ['buckets', file], ['map', file, '-o', path.join(dir, 'map.html')], ['surgery', 'meta', 'validate', file]]) {
    assertNoCrash(argv, (await cli(argv)).out);
  }
  assert.deepEqual(fs.readFileSync(file), bytes);
  assert.equal(fs.statSync(file).mtimeMs, mtime);
}

for (const c of CASES) {
  test(`Corruption_${c.name}_checkNamesIt_salvageRecoversTheIntactKeys_commandsFailCleanly`, async () => {
    const file = path.join(dir, `${c.name}.db`);
    fs.writeFileSync(file, c.damage(Buffer.from(base)));
    // check
    const db = open(file, { readOnly: true });
    let found: string[];
    try {
      found = db.view((tx) => tx.check());
    } finally {
      db.close();
    }
    for (const re of c.findings()) assert.ok(found.some((f) => re.test(f)), `no finding matches ${re}:\n${found.join('\n')}`);
    const r = await cli(['check', file]);
    assert.equal(r.code, 1);
    // findings and bbolt's trailer, or (a freelist the open cannot load) the engine's one line
    assert.match(r.out, c.name === 'badFreelist' ? /^freelist id out of range: 0xabababababababab\n$/ : /\d+ errors found\ninvalid value\n$/);
    // salvage
    const got = salvaged(file, path.join(dir, `${c.name}.salvaged.db`));
    const values = new Set([...got].map(([k, v]) => `${k.split('/').pop()}=${v}`));
    const lost = new Set(c.damaged());
    let kept = 0;
    for (const [k, pg] of leafOf) {
      if (lost.has(pg)) continue;
      assert.ok(got.get(`a/${k}`) === 'v'.repeat(50) || values.has(`${k}=${'v'.repeat(50)}`), `key ${k} (intact page ${pg}) not recovered`);
      kept++;
    }
    assert.ok(kept >= 100, `only ${kept} keys on intact pages`);
    assert.equal(got.get('b/x'), 'y');
    assert.equal(got.get('b/z'), 'w');
    for (const [k, v] of got) if (k.startsWith('a/')) assert.equal(v, 'v'.repeat(50), `salvage invented ${k}`);
    await commandsFailCleanly(file);
  });
}

test('Corruption_tornNewestMeta_engineFallsBack_checkOK_surgeryMetaValidateNamesIt_salvageUsesOlderMeta', async () => {
  const file = path.join(dir, 'torn.db');
  const b = Buffer.from(base);
  const torn = layout.txid % 2; // the newest meta lives on page txid % 2
  b[torn * PS + 16 + 48] = b[torn * PS + 16 + 48]! ^ 0xff; // a txid byte: the checksum no longer matches
  fs.writeFileSync(file, b);
  const db = open(file, { readOnly: true });
  try {
    assert.equal(db.view((tx) => tx.meta.txid), layout.txid - 1);
    assert.deepEqual(db.view((tx) => tx.check()), []);
  } finally {
    db.close();
  }
  const v = await cli(['surgery', 'meta', 'validate', file]);
  assert.match(v.out, new RegExp(`${torn}.*checksum`, 'i'));
  const out = path.join(dir, 'torn.salvaged.db');
  const report = salvage(file, out);
  assert.deepEqual([report.strategy, report.meta], ['newest-meta', { page: 1 - torn, txid: layout.txid - 1 }]); // the newest *valid* meta
  assert.ok(report.unreadable.some((u) => u.role === 'meta' && u.pgid === torn));
  const got = items(out);
  assert.equal(got.get('b/x'), 'y');
  assert.equal(got.get('b/z'), undefined, 'the torn transaction is gone');
  for (const k of leafOf.keys()) assert.equal(got.get(`a/${k}`), 'v'.repeat(50));
  await commandsFailCleanly(file);
});

// Bucket values that point at other buckets' roots. Go's Check walks a bucket as often as it is
// referenced: a value pointing at an enclosing bucket recurses until Go's stack overflows, and a
// chain of buckets whose values share roots fans out exponentially (a damaged containerd meta.db
// in the fuzz test took minutes). Each command runs in a process of its own with a time limit, so
// a regression fails instead of hanging the suite.

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** tsbolt in a process of its own, killed after `ms`. */
function cliChild(argv: string[], ms = 60_000): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "import { main } from './src/cli/tsbolt.js'; process.exitCode = await main(process.argv.slice(1));", ...argv], {
    cwd: root,
    encoding: 'utf8',
    timeout: ms,
    maxBuffer: 256 * 1024 * 1024,
  });
  assert.equal(r.signal, null, `tsbolt ${argv.join(' ')} did not end within ${ms} ms (${r.error?.message ?? ''})`);
  return { code: r.status, out: r.stdout + r.stderr };
}

/** The commands end and fail cleanly; compact refuses (`compactError`) and leaves no output. */
function commandsEndCleanly(file: string, compactError: RegExp): void {
  const bytes = fs.readFileSync(file);
  const mtime = fs.statSync(file).mtimeMs;
  const out = `${file}.out`;
  for (const argv of [['pages', file], ['stats', file], ['buckets', file], ['keys', file, 'L0'], ['map', file, '-o', path.join(dir, 'map.html')], ['surgery', 'freelist', 'abandon', file, '--output', out]]) {
    fs.rmSync(out, { force: true });
    assertNoCrash(argv, cliChild(argv).out);
  }
  fs.rmSync(out, { force: true });
  const c = cliChild(['compact', '-o', out, file]);
  assert.equal(c.code, 1, c.out);
  assert.match(c.out, compactError);
  assert.ok(!fs.existsSync(out), 'compact left a partial copy');
  assert.deepEqual(fs.readFileSync(file), bytes);
  assert.equal(fs.statSync(file).mtimeMs, mtime);
}

function salvageKeepsOk(file: string): void {
  const got = salvaged(file, `${file}.salvaged`);
  for (let i = 0; i < 50; i++) assert.equal(got.get(`ok/k${i}`), `v${i}`);
}

for (const noFreelistSync of [false, true]) {
  const variant = noFreelistSync ? 'noFreelistSync' : 'freelist';
  test(`Corruption_bucketValuePointsAtItsOwnBucket_${variant}_checkEndsNamingTheCycle`, () => {
    const file = path.join(dir, `bucket-cycle-${variant}.db`);
    const { roots, others } = buildChain(file, 1, 8, noFreelistSync);
    const b = fs.readFileSync(file);
    for (let c = 0; c < 8; c++) setBucketRoot(b, PS, roots[0]!, `c${c}`, roots[0]!);
    fs.writeFileSync(file, b);
    const r = cliChild(['check', file]);
    assert.equal(r.code, 1, r.out);
    for (let c = 0; c < 8; c++) {
      const name = Buffer.from(`c${c}`).toString('hex');
      assert.ok(r.out.includes(`bucket ${name}: cycle in the bucket tree: its root page ${roots[0]} is the root of an enclosing bucket\n`), r.out);
    }
    // The pages the values pointed at before: no tree reaches them. (Without a freelist page the
    // free pages are what no tree reaches, so they are free.)
    for (const p of [...others[0]!, roots[1]!]) assert.equal(r.out.includes(`page ${p}: unreachable unfreed\n`), !noFreelistSync, r.out);
    assert.match(r.out, /\n\d+ errors found\ninvalid value\n$/);
    commandsEndCleanly(file, new RegExp(`^page ${roots[0]}: the root of bucket 4c30/6330 is the root of another bucket too`));
    salvageKeepsOk(file);
  });

  test(`Corruption_bucketValuesShareRoots_${variant}_checkWalksEachBucketOnce`, () => {
    // 24 levels of 4 values each pointing at the next level: 4^24 paths for a walk that follows them.
    const levels = 24;
    const file = path.join(dir, `bucket-dag-${variant}.db`);
    const { roots, others } = buildChain(file, levels, 4, noFreelistSync);
    const b = fs.readFileSync(file);
    for (let level = 0; level < levels; level++) for (let c = 1; c < 4; c++) setBucketRoot(b, PS, roots[level]!, `c${c}`, roots[level + 1]!);
    fs.writeFileSync(file, b);
    const r = cliChild(['check', file]);
    assert.equal(r.code, 1, r.out);
    for (let level = 1; level <= levels; level++) {
      const line = `page ${roots[level]}: multiple references (stack: [${roots[level]}])\n`;
      assert.equal(r.out.split(line).length - 1, 3, `level ${level}: ${line}${r.out}`);
    }
    for (const p of others.flat()) assert.equal(r.out.includes(`page ${p}: unreachable unfreed\n`), !noFreelistSync, r.out);
    assert.ok(!r.out.includes('check stopped'), r.out);
    assert.match(r.out, /\n\d+ errors found\ninvalid value\n$/);
    commandsEndCleanly(file, new RegExp(`^page ${roots[levels]}: the root of bucket 4c30/[0-9a-f/]+/6331 is the root of another bucket too`));
    salvageKeepsOk(file);
  });
}

test('Corruption_branchPagesShareChildren_checkStopsWithinItsBudget_cursorsAndCompactRefuse', () => {
  // Bucket `wide`'s root branch points every element at page A, A (made a branch of 200
  // elements) at B, and so on for 5 pages, the last at the first leaf: 23 * 200^5 paths.
  const file = path.join(dir, 'page-dag.db');
  const db = open(file);
  db.update((tx) => {
    const ok = tx.createBucket('ok');
    for (let i = 0; i < 50; i++) ok.put(`k${i}`, `v${i}`);
    const w = tx.createBucket('wide');
    for (let i = 0; i < 600; i++) w.put(`k${String(i).padStart(4, '0')}`, 'v'.repeat(60));
  });
  const { root, leaves } = db.view((tx) => {
    const p = tx.page(tx.bucket('wide')!.root);
    return { root: p.id, leaves: Array.from({ length: p.count }, (_, i) => p.branchPgid(i)) };
  });
  db.close();
  assert.ok(leaves.length > 6);
  const b = fs.readFileSync(file);
  const chain = leaves.slice(1, 6);
  for (let i = 0; i < leaves.length; i++) b.writeBigUInt64LE(BigInt(chain[0]!), root * PS + 16 + i * 16 + 8);
  chain.forEach((id, j) => branchAllTo(b, PS, id, chain[j + 1] ?? leaves[0]!, 200));
  fs.writeFileSync(file, b);

  const r = cliChild(['check', file]);
  assert.equal(r.code, 1);
  assert.match(r.out, /\ncheck stopped after \d+ page visits: the page trees share pages \(unreachable pages not reported\)\n\d+ errors found\ninvalid value\n$/);
  assert.ok(r.out.includes(`page ${leaves[0]}: multiple references (stack: [${root} ${chain.join(' ')} ${leaves[0]}])\n`), r.out.slice(0, 2000));
  const s = cliChild(['stats', file]);
  assert.equal(s.code, 0, s.out);
  // Go's figure: every path counts its leaf (23 * 200^5 of them, each the first leaf's).
  assert.match(s.out, new RegExp(`Number of logical leaf pages: ${1 + 23 * 200 ** 5}\n`));
  // compact's walk is a cursor pass too.
  commandsEndCleanly(file, new RegExp(`^page ${leaves[0]}: a cursor pass entered more leaf pages than the file has pages`));
  salvageKeepsOk(file);

  // A cursor pass over `wide` would enter the first leaf 23 * 200^5 times (Go's does). Ours stops
  // once a pass has entered more leaves than the file has pages, in either direction.
  const k = cliChild(['keys', file, 'wide']);
  assert.equal(k.code, 1, k.out.slice(-500));
  const limit = `page ${leaves[0]}: a cursor pass entered more leaf pages than the file has pages`;
  const d = open(file, { readOnly: true });
  try {
    d.view((tx) => {
      assert.ok(k.out.endsWith(`${limit} (${tx.meta.pgid}): branch pages share children\n`), k.out.slice(-500));
      const w = tx.bucket('wide')!;
      const passes: [string, () => void][] = [
        ['forEach', () => w.forEach(() => {})],
        ['first/next', () => { const c = w.cursor(); for (let e = c.first(); e; e = c.next()); }],
        ['last/prev', () => { const c = w.cursor(); for (let e = c.last(); e; e = c.prev()); }],
        ['seek/next', () => { const c = w.cursor(); for (let e = c.seek('k0300'); e; e = c.next()); }],
        ['moveFirst/moveNext', () => { const c = w.cursor(); for (let ok = c.moveFirst(); ok; ok = c.moveNext()); }],
      ];
      for (const [name, pass] of passes) {
        assert.throws(pass, (e: unknown) => e instanceof CorruptionError && e.pgid === leaves[0] && e.message.startsWith(limit), name);
      }
    });
  } finally {
    d.close();
  }
});

test('Corruption_bucketsShareALeaf_eachCursorPassWithinItsLimit_compactStopsAtItsKeyBound', () => {
  // Three buckets whose root pages are each made a branch of 200 elements, all pointing at one
  // full leaf. A pass over one bucket enters that leaf 200 times, fewer than the file's pages,
  // so the cursors go round it as Go's do; a copy of all three would read 3 * 200 leaves of ~200
  // keys, more keys than the file's pages can hold, and compact stops there.
  const file = path.join(dir, 'shared-leaf.db');
  const db = open(file);
  db.update((tx) => {
    const ok = tx.createBucket('ok');
    for (let i = 0; i < 50; i++) ok.put(`k${i}`, `v${i}`);
    const fill = tx.createBucket('fill');
    for (let i = 0; i < 250; i++) fill.put(`f${i}`, 'x'.repeat(3000)); // ~250 pages of their own
    for (const name of ['w1', 'w2', 'w3']) {
      const w = tx.createBucket(name);
      w.fillPercent = 1; // full leaves
      for (let i = 0; i < 600; i++) w.put(`k${String(i).padStart(3, '0')}`, '');
    }
  });
  const { roots, leaf, pages, perLeaf } = db.view((tx) => {
    const rs = ['w1', 'w2', 'w3'].map((n) => tx.bucket(n)!.root);
    const first = tx.page(rs[0]!).branchPgid(0);
    return { roots: rs, leaf: first, pages: tx.meta.pgid, perLeaf: tx.page(first).count };
  });
  db.close();
  assert.ok(pages > 200 && 3 * 200 * perLeaf > (pages * PS) / 16, `${pages} pages, ${perLeaf} keys a leaf`);
  const b = fs.readFileSync(file);
  for (const r of roots) branchAllTo(b, PS, r, leaf, 200);
  fs.writeFileSync(file, b);

  const d = open(file, { readOnly: true });
  try {
    d.view((tx) => {
      for (const name of ['w1', 'w2', 'w3']) {
        let n = 0;
        tx.bucket(name)!.forEach(() => void n++);
        assert.equal(n, 200 * perLeaf, name);
      }
    });
  } finally {
    d.close();
  }
  const out = `${file}.compacted`;
  const c = cliChild(['compact', '-o', out, file]);
  assert.equal(c.code, 1, c.out);
  assert.match(c.out, new RegExp(`^more keys than ${pages} pages can hold: branch pages share children`));
  assert.ok(!fs.existsSync(out), 'compact left a partial copy');
});
