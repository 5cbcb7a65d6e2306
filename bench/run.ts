// `npm run bench`: our engine against Go bbolt 1.3.6 (bench/go/main.go, built here in GOPATH
// mode against Debian's golang-github-coreos-bbolt-dev) on the same workloads, in the same run,
// alternating ours and Go's, medians of RUNS runs (READ_RUNS for read rows, ONE_PER_TX_RUNS for
// the 1-per-tx rows); each row runs in a fresh process per engine
// so peak RSS is per row. Prints a table (ratio = Go time / our time; 1.0 = as fast as Go) and,
// with --write, replaces bench/RESULTS.md.
//
//   npm run bench                    full sizes, 3 runs (11 of each read row and 1-per-tx row)
//   BENCH_QUICK=1 npm run bench      small sizes, 1 run (a smoke test)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { randomFillSync } from 'node:crypto';
import { openContentStore } from '../src/content/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 3));
/**
 * Runs of each read row: each takes well under a second, and they move most between runs (the
 * open + list row's median of 7 was 0.43x in one run and 0.53x in the next, with builds that
 * measured 0.6 ms apart on that row).
 */
const READ_RUNS = Number(process.env.BENCH_READ_RUNS ?? (QUICK ? 1 : 11));
const WRITE = process.argv.includes('--write');
const work = fs.mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'tsbolt-bench-'));

function buildGo(): string {
  const cache = path.join(here, '..', '.cache', 'bench-go');
  const bin = path.join(cache, 'bench');
  const src = path.join(here, 'go', 'main.go');
  if (fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= fs.statSync(src).mtimeMs) return bin;
  const gopath = path.join(cache, 'gopath');
  fs.mkdirSync(path.join(gopath, 'src', 'tsboltbench'), { recursive: true });
  fs.copyFileSync(src, path.join(gopath, 'src', 'tsboltbench', 'main.go'));
  execFileSync('go', ['build', '-o', bin, 'tsboltbench'], {
    env: { ...process.env, GO111MODULE: 'off', GOPATH: `${gopath}:/usr/share/gocode`, GOCACHE: path.join(cache, 'gocache'), GOFLAGS: '' },
    stdio: 'inherit',
  });
  return bin;
}
const goBin = buildGo();

/**
 * Our worker runs from a `tsc` build of src and worker.ts (bench/tsconfig.json, into
 * .cache/bench-dist), as bin/tsbolt.js and bin/tsctr.js run dist/: not through tsx, whose
 * on-the-fly transform adds a loader thread and its compile jobs to the process. Measured on the
 * open + list row, 21 runs each in turn: 35.6 ms through tsx, 32.9 ms from the build, with a
 * spread (q1-q3) of 6.6 against 1.4 ms.
 */
function buildOurs(): string {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(here, 'tsconfig.json')], { stdio: 'inherit' });
  return path.join(here, '..', '.cache', 'bench-dist', 'bench', 'worker.js');
}
const ourWorker = buildOurs();

interface Result {
  nsPerOp: number;
  maxRssKB: number;
}
function runOne(engine: 'ours' | 'go', row: string, file: string, n: number): Result {
  const [cmd, args] = engine === 'go' ? [goBin, [row, file, String(n)]] : [process.execPath, [ourWorker, row, file, String(n)]];
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  let parsed: Result & { error?: string };
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`${engine} ${row}: no result (exit ${r.status}): ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 500)}`);
  }
  if (parsed.error || r.status !== 0) throw new Error(`${engine} ${row}: ${parsed.error ?? r.stderr}`);
  return parsed;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Reads `file` through (outside the timed process) so that a read row starts with the file in
 * the page cache for either engine. This VM drops page-cache pages while it idles: without it a
 * run now and then took major faults (a 134 MB scan once measured 3 us/op instead of 90 ns).
 */
function warmPageCache(file: string): void {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
  } finally {
    fs.closeSync(fd);
  }
}

interface Row {
  name: string;
  row: string;
  /** The Go program's row, when it is not `row`. */
  goRow?: string;
  n: number;
  /** Makes the file the row reads (shared by both engines), or undefined for write rows. */
  prepare?: () => string;
  unit: 'ns/op' | 'ms';
  /** Runs of this row when not RUNS (READ_RUNS for read rows). */
  runs?: number;
}
const K = QUICK ? 0.02 : 1;
/**
 * Runs of the 1-per-tx rows: two fdatasyncs per op, so they follow the disk (a run of either
 * engine moved by 1.5x from one run to the next here), and a run takes ~1 s.
 */
const ONE_PER_TX_RUNS = Number(process.env.BENCH_READ_RUNS ?? (QUICK ? 1 : 11));
const keysFile = (n: number) => () => {
  const f = path.join(work, `keys-${n}.db`);
  if (!fs.existsSync(f)) runOne('go', 'prepare-keys', f, n);
  return f;
};
const imagesFile = (n: number) => () => {
  const f = path.join(work, `images-${n}.db`);
  if (!fs.existsSync(f)) runOne('go', 'prepare-images', f, n);
  return f;
};
const rows: Row[] = [
  { name: 'seq write, 100k keys, batches of 1,000', row: 'seq-write', n: Math.round(100_000 * K), unit: 'ns/op' },
  { name: 'seq write, 1M keys, batches of 1,000', row: 'seq-write', n: Math.round(1_000_000 * K), unit: 'ns/op' },
  { name: 'rand write, 100k keys, batches of 1,000', row: 'rand-write', n: Math.round(100_000 * K), unit: 'ns/op' },
  { name: 'rand write, 1M keys, batches of 1,000', row: 'rand-write', n: Math.round(1_000_000 * K), unit: 'ns/op' },
  { name: 'seq write, 2k keys, 1 per tx', row: 'seq-write-1', n: Math.round(2_000 * K), unit: 'ns/op', runs: ONE_PER_TX_RUNS },
  { name: 'rand write, 2k keys, 1 per tx', row: 'rand-write-1', n: Math.round(2_000 * K), unit: 'ns/op', runs: ONE_PER_TX_RUNS },
  { name: 'cursor scan, 1M keys: next() (a key view and a value view per key)', row: 'scan', n: 0, prepare: keysFile(1_000_000), unit: 'ns/op' },
  // Go's cursor returns slices, which allocate nothing; moveNext leaves the item in place (offsets
  // into the page), its JS counterpart. Go runs the same loop as in the row above.
  { name: 'cursor scan, 1M keys: moveNext() (the item in place, no views)', row: 'scan-move', goRow: 'scan', n: 0, prepare: keysFile(1_000_000), unit: 'ns/op' },
  // The same two scans as the 4th pass over the file in one process (Go: the same loop, its 4th
  // pass): what a scan costs once V8's optimizing compiler has the loop and the cursor's code, and
  // the file's pages are mapped. The two rows above time a first pass, warm-up included.
  { name: 'cursor scan, 1M keys, 4th pass in one process: next()', row: 'scan-warm', n: 0, prepare: keysFile(1_000_000), unit: 'ns/op' },
  { name: 'cursor scan, 1M keys, 4th pass in one process: moveNext()', row: 'scan-move-warm', goRow: 'scan-warm', n: 0, prepare: keysFile(1_000_000), unit: 'ns/op' },
  { name: 'random get, 1M keys', row: 'get', n: Math.round(1_000_000 * K), prepare: keysFile(1_000_000), unit: 'ns/op' },
  { name: 'nested get v1/ns/images/NAME/target/digest (10k images)', row: 'nested-get', n: Math.round(200_000 * K), prepare: imagesFile(10_000), unit: 'ns/op' },
  { name: 'open + list 10,000 images', row: 'list-images', n: 10_000, prepare: imagesFile(10_000), unit: 'ms' },
  { name: 'open + list 10,000 images, 4th time in one process', row: 'list-images-warm', n: 10_000, prepare: imagesFile(10_000), unit: 'ms' },
];

const fmt = (r: Row, ns: number) => (r.unit === 'ms' ? `${(ns / 1e6).toFixed(1)} ms` : ns >= 1000 ? `${(ns / 1000).toFixed(2)} us/op` : ns >= 100 ? `${ns.toFixed(0)} ns/op` : `${ns.toFixed(1)} ns/op`);
const lines: string[] = [];
const out = (s: string) => {
  console.log(s);
  lines.push(s);
};
out(`| workload | ours | Go 1.3.6 | Go/ours | RSS ours | RSS Go |`);
out(`|---|---|---|---|---|---|`);
for (const r of rows) {
  const ours: Result[] = [];
  const go: Result[] = [];
  const shared = r.prepare?.();
  const runs = r.runs ?? (r.prepare ? READ_RUNS : RUNS);
  for (let i = 0; i < runs; i++) {
    for (const engine of i % 2 === 0 ? (['ours', 'go'] as const) : (['go', 'ours'] as const)) {
      let file = shared;
      if (!file) {
        file = path.join(work, `${engine}-${r.row}-${i}.db`);
        fs.rmSync(file, { force: true });
      }
      if (shared) warmPageCache(shared);
      (engine === 'ours' ? ours : go).push(runOne(engine, engine === 'go' ? (r.goRow ?? r.row) : r.row, file, r.n));
      if (!shared) fs.rmSync(file, { force: true });
    }
  }
  const o = median(ours.map((x) => x.nsPerOp));
  const g = median(go.map((x) => x.nsPerOp));
  const rss = (xs: Result[]) => `${(Math.max(...xs.map((x) => x.maxRssKB)) / 1024).toFixed(0)} MiB`;
  out(`| ${r.name} | ${fmt(r, o)} | ${fmt(r, g)} | ${(g / o).toFixed(2)}x | ${rss(ours)} | ${rss(go)} |`);
}

// Content ingest of one large blob through our content store, against `sha256sum` + `cp` of the same file.
{
  const size = QUICK ? 64 << 20 : 1 << 30;
  const src = path.join(work, 'blob');
  const fd = fs.openSync(src, 'w');
  const chunk = randomFillSync(Buffer.alloc(1 << 20));
  for (let i = 0; i < size; i += chunk.length) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  const mbps = (secs: number) => `${(size / 1e6 / secs).toFixed(0)} MB/s`;
  const ours: number[] = [];
  const bound: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = path.join(work, `store-${i}`);
    const t0 = process.hrtime.bigint();
    const store = await openContentStore(dir);
    const w = await store.writer({ ref: `bench-${i}`, total: size });
    for await (const c of fs.createReadStream(src, { highWaterMark: 1 << 20 })) await w.write(c as Buffer);
    await w.commit(size);
    ours.push(Number(process.hrtime.bigint() - t0) / 1e9);
    fs.rmSync(dir, { recursive: true, force: true });
    const t1 = process.hrtime.bigint();
    execFileSync('sh', ['-c', `sha256sum "$1" >/dev/null && cp "$1" "$2" && sync "$2"`, 'sh', src, path.join(work, 'copy')]);
    bound.push(Number(process.hrtime.bigint() - t1) / 1e9);
    fs.rmSync(path.join(work, 'copy'), { force: true });
  }
  out(`| content ingest, ${size >> 20} MiB blob | ${mbps(median(ours))} | sha256sum + cp: ${mbps(median(bound))} | ${(median(bound) / median(ours)).toFixed(2)}x | | |`);
}
fs.rmSync(work, { recursive: true, force: true });

if (WRITE) {
  const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? '?';
  const goVersion = execFileSync('go', ['version'], { encoding: 'utf8' }).trim();
  const fsType = execFileSync('df', ['-T', os.tmpdir()], { encoding: 'utf8' }).trim().split('\n').at(-1)?.split(/\s+/)[1];
  const header = [
    '# Benchmark results',
    '',
    `Command: \`npm run bench -- --write\`${QUICK ? ' (BENCH_QUICK=1)' : ''}, medians of ${RUNS} runs per write row in batches and content ingest, ${ONE_PER_TX_RUNS} per 1-per-tx row, ${READ_RUNS} per read row, ours and Go alternating; each read row's file is read through before each run, so that it starts in the page cache. Our rows run bench/worker.ts as built by \`tsc\` (bench/tsconfig.json), plain \`node\` with no flags, a fresh process per run; content ingest runs in the bench process.`,
    `Machine: ${os.cpus().length} vCPU ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${fsType} temp dir; Node ${process.version}; ${goVersion}, bbolt 1.3.6.`,
    `Date: ${new Date().toISOString().slice(0, 10)}. Writes are fsync'd (bbolt defaults); 8-byte keys, 100-byte values.`,
    'Ratio = Go time / our time (1.00x = as fast as Go, 0.50x = twice as slow).',
    '',
  ];
  const notesFile = path.join(here, 'RESULTS-notes.md');
  const notes = fs.existsSync(notesFile) ? ['', fs.readFileSync(notesFile, 'utf8')] : [];
  fs.writeFileSync(path.join(here, 'RESULTS.md'), [...header, ...lines, ...notes].join('\n') + '\n');
}
