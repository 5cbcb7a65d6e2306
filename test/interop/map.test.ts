// tsbolt map: the HTML page, rendered by a real headless Chromium (its DOM after the page's script
// ran), shows per page kind the counts bbolt 1.3.7's `pages` printed for the same file (recorded
// from the real CLI in fixtures/bolt/expected) or the engine's accounting (meta.db), and its bucket
// tree lists every bucket of the file. The page uses no external resource and the file is unchanged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { open, type Bucket } from '../../src/bolt/index.js';
import { main } from '../../src/cli/tsbolt.js';
import { fileTree } from '../helpers/fstree.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const boltFixtures = path.join(root, 'fixtures', 'bolt');
const metaDB = path.join(root, 'fixtures', 'containerd', 'root', 'io.containerd.metadata.v1.bolt', 'meta.db');
const CHROMIUM = '/usr/bin/chromium';

let tmp = '';
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-map-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const w = { write: (s: string | Uint8Array) => ((out += typeof s === 'string' ? s : Buffer.from(s).toString()), true) };
  const code = await main(argv, { stdout: w, stderr: w });
  return { code, out };
}

/** The DOM after the page's scripts ran, from headless Chromium with no network and a fresh profile. */
function renderedDOM(html: string): string {
  const profile = fs.mkdtempSync(path.join(tmp, 'profile-'));
  const r = spawnSync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // no network: every host resolves nowhere, so an external resource could not load
      '--host-resolver-rules=MAP * ~NOTFOUND',
      `--user-data-dir=${profile}`,
      '--dump-dom',
      pathToFileURL(html).href,
    ],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 },
  );
  assert.equal(r.status, 0, `chromium failed: ${r.error?.message ?? ''} ${r.stderr.slice(-1000)}`);
  return r.stdout;
}

function cellCounts(dom: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of dom.matchAll(/<div class="cell k-([a-z]+)" data-first="\d+" data-pages="1"><\/div>/g)) m.set(x[1]!, (m.get(x[1]!) ?? 0) + 1);
  return m;
}

function legendCounts(dom: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of dom.matchAll(/<li class="legend-item" data-kind="([a-z]+)">.*?<span class="count">(\d+)<\/span><\/li>/g)) m.set(x[1]!, Number(x[2]));
  return m;
}

/** Counts per kind from a `pages` listing (bbolt's: overflow pages are not rows, free rows step one page). */
function countsFromPages(text: string, filePages: number): Map<string, number> {
  const m = new Map<string, number>();
  let hwm = 0;
  for (const line of text.split('\n').slice(2)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2) continue;
    const [id, type, , ovf] = [Number(f[0]), f[1]!, f[2], Number(f[3] ?? 0)];
    m.set(type, (m.get(type) ?? 0) + 1);
    if (ovf > 0) m.set('overflow', (m.get('overflow') ?? 0) + ovf);
    hwm = id + 1 + ovf;
  }
  m.set('unallocated', Math.max(0, filePages - hwm));
  return m;
}

function nonZero(m: Map<string, number>): Map<string, number> {
  return new Map([...m].filter(([, v]) => v > 0).sort(([a], [b]) => a.localeCompare(b)));
}

function bucketPaths(file: string): string[] {
  const db = open(file, { readOnly: true });
  try {
    return db.view((tx) => {
      const out: string[] = [];
      const walk = (b: Bucket, prefix: string): void =>
        b.forEachBucket((k) => {
          const name = Buffer.from(k).toString('utf8');
          const p = prefix === '' ? name : `${prefix}/${name}`;
          out.push(p);
          walk(b.bucket(k)!, p);
        });
      walk(tx.root, '');
      return out.sort();
    });
  } finally {
    db.close();
  }
}

function domBucketPaths(dom: string): string[] {
  return [...dom.matchAll(/<span class="bname" data-path="([^"]*)">/g)]
    .map((x) => x[1]!.replace(/&#(\d+);/g, (_s, c: string) => String.fromCharCode(Number(c))))
    .filter((p) => p !== '')
    .sort();
}

function assertSelfContained(html: string): void {
  assert.doesNotMatch(html, /\b(?:src|href)\s*=/i, 'the page references a resource');
  assert.doesNotMatch(html, /https?:\/\/|url\(|@import/i, 'the page names an external location');
}

// Files whose bbolt 1.3.7 `pages` output was recorded from the real CLI (fixtures/bolt/expected).
for (const name of ['small', 'large', 'overflow', 'freelist', 'nofreelistsync', 'page16k', 'nested', 'inline']) {
  test(`Map_${name}_chromiumShowsBbolt137PageCountsAndEveryBucket`, async () => {
    const db = path.join(boltFixtures, `${name}.db`);
    const recorded = (JSON.parse(fs.readFileSync(path.join(boltFixtures, 'expected', `${name}.json`), 'utf8')) as { argv: string[]; out: string }[]).find(
      (r) => r.argv.length === 2 && Buffer.from(r.argv[0]!, 'hex').toString() === 'pages',
    );
    assert.ok(recorded, 'no recorded pages run');
    const pageSize = Number(/Page Size: (\d+)/.exec((await run(['info', db])).out)![1]);
    const before = fileTree(boltFixtures);
    const html = path.join(tmp, `${name}.html`);
    assert.deepEqual(await run(['map', db, '-o', html]), { code: 0, out: '' });
    assert.deepEqual(fileTree(boltFixtures), before, 'map changed a fixture');
    const text = fs.readFileSync(html, 'utf8');
    assertSelfContained(text);
    const dom = renderedDOM(html);
    const want = nonZero(countsFromPages(Buffer.from(recorded.out, 'base64').toString(), Math.floor(fs.statSync(db).size / pageSize)));
    assert.deepEqual(nonZero(cellCounts(dom)), want, 'cells drawn per kind');
    assert.deepEqual(nonZero(legendCounts(dom)), want, 'legend counts');
    assert.deepEqual(domBucketPaths(dom), bucketPaths(db));
  });
}

test('Map_containerdMetaDB_chromiumShowsEnginePageAccountingAndTheSchemaBuckets', async () => {
  const before = fileTree(path.dirname(metaDB));
  const html = path.join(tmp, 'meta.html');
  assert.equal((await run(['map', '-o', html, metaDB])).code, 0);
  assert.deepEqual(fileTree(path.dirname(metaDB)), before, 'map changed meta.db');
  assertSelfContained(fs.readFileSync(html, 'utf8'));
  const dom = renderedDOM(html);
  const pages = await run(['pages', metaDB]);
  const want = nonZero(countsFromPages(pages.out, fs.statSync(metaDB).size / 4096));
  assert.deepEqual(nonZero(cellCounts(dom)), want);
  assert.deepEqual(nonZero(legendCounts(dom)), want);
  assert.equal(Number(/<span id="cells">(\d+)<\/span>/.exec(dom)![1]), fs.statSync(metaDB).size / 4096);
  const paths = domBucketPaths(dom);
  assert.deepEqual(paths, bucketPaths(metaDB));
  for (const p of ['v1', 'v1/default', 'v1/default/images', 'v1/default/containers/bigspec', 'v1/k8s.io/images/registry.k8s.io/pause:3.9', 'v1/tools/leases'])
    assert.ok(paths.includes(p), `${p} missing from the tree`);
  // The bucket holding the 8 KiB spec occupies overflow pages: its own line says so.
  assert.match(dom, /data-path="v1\/default\/containers\/bigspec">bigspec<\/span> <span class="own">[^<]*, [1-9]\d* pages/);
});

test('Map_bigFile_groupsPagesIntoAtMost65536Cells', async () => {
  const file = path.join(tmp, 'big.db');
  const db = open(file, { pageSize: 1024 });
  db.update((tx) => {
    const b = tx.createBucket('big');
    for (let i = 0; i < 2000; i++) b.put(String(i).padStart(8, '0'), new Uint8Array(100));
  });
  db.close();
  // A file longer than its high-water mark (as bbolt grows it ahead of use): a sparse tail of 80,000 pages.
  fs.truncateSync(file, 80_000 * 1024);
  const html = path.join(tmp, 'big.html');
  assert.equal((await run(['map', file, '-o', html])).code, 0);
  const dom = renderedDOM(html);
  const cells = Number(/<span id="cells">(\d+)<\/span>/.exec(dom)![1]);
  const group = Number(/<b id="group">(\d+)<\/b>/.exec(dom)![1]);
  const pages = Math.floor(fs.statSync(file).size / 1024);
  assert.ok(group > 1);
  assert.equal(cells, Math.ceil(pages / group));
  assert.ok(cells <= 65536);
  assert.equal([...dom.matchAll(/class="cell k-/g)].length, cells);
  // The last cells stand for unallocated pages only.
  assert.match(dom, /<div class="cell k-unallocated" data-first="\d+" data-pages="\d+"><\/div><\/div>/);
});

test('Map_missingFileAndDamagedFile_oneLineErrors', async () => {
  assert.deepEqual(await run(['map', path.join(tmp, 'nope.db'), '-o', path.join(tmp, 'x.html')]), { code: 1, out: 'file not found\n' });
  assert.ok(!fs.existsSync(path.join(tmp, 'x.html')));
  // A zeroed leaf page: the walk goes on and the page lists the problem.
  const copy = path.join(tmp, 'damaged.db');
  fs.copyFileSync(path.join(boltFixtures, 'large.db'), copy);
  const fd = fs.openSync(copy, 'r+');
  fs.writeSync(fd, new Uint8Array(4096), 0, 4096, 7 * 4096);
  fs.closeSync(fd);
  const html = path.join(tmp, 'damaged.html');
  assert.equal((await run(['map', copy, '-o', html])).code, 0);
  const dom = renderedDOM(html);
  assert.match(dom, /<ul id="errors"><li>page 7: /);
  assert.ok((cellCounts(dom).get('unreachable') ?? 0) >= 1);
});
