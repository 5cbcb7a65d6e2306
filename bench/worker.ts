// Our side of `npm run bench`: the same rows as bench/go/main.go, one row per process, printing
// {"nsPerOp", "ops", "maxRssKB"} as JSON. Random keys come from the same xorshift64 sequence as
// the Go side; they are generated into one buffer before the clock starts.
//
//   node .cache/bench-dist/bench/worker.js ROW FILE N    (run.ts builds it with tsc first)
//   node --import tsx bench/worker.ts ROW FILE N         (the same, transformed on the fly)
import { open, type DB } from '../src/bolt/index.js';
import { loadNativeModules } from '../src/bolt/file.js';

// The engine loads its native modules (mmap, flock) on first use; load them before any clock
// starts, as a Go binary has them linked in.
loadNativeModules();

const [row, file, nText] = process.argv.slice(2) as [string, string, string];
const n = Number(nText);
const te = new TextEncoder();
const BENCH = te.encode('bench');
const value = new Uint8Array(100);

function report(startNs: bigint, ops: number): void {
  const ns = Number(process.hrtime.bigint() - startNs);
  console.log(JSON.stringify({ nsPerOp: ns / ops, ops, maxRssKB: process.resourceUsage().maxRSS }));
}

function keys(count: number, seed: bigint | undefined, mod?: bigint): Buffer {
  const buf = Buffer.alloc(count * 8);
  let s = seed ?? 0n;
  const M = (1n << 64n) - 1n;
  for (let i = 0; i < count; i++) {
    if (seed === undefined) {
      buf.writeBigUInt64BE(BigInt(i), i * 8);
      continue;
    }
    s ^= (s << 13n) & M;
    s ^= s >> 7n;
    s ^= (s << 17n) & M;
    buf.writeBigUInt64BE(mod ? s % mod : s, i * 8);
  }
  return buf;
}

function write(db: DB, batch: number, random: boolean): void {
  const ks = keys(n, random ? 88172645463325252n : undefined);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i += batch) {
    db.update((tx) => {
      const b = tx.createBucketIfNotExists(BENCH);
      for (let j = i; j < i + batch && j < n; j++) b.put(ks.subarray(j * 8, j * 8 + 8), value);
    });
  }
  report(start, n);
}

/** Passes in one process of a -warm row: the last is timed. */
const WARM_PASSES = 4;

/** Reads every image's target digest, as `ctr images ls` does: the images it found. */
function listImages(d: DB): number {
  let count = 0;
  d.view((tx) => {
    const imgs = tx.bucket('v1')!.bucket('default')!.bucket('images')!;
    imgs.forEach((k) => {
      if (imgs.bucket(k)!.bucket('target')!.get('digest') !== undefined) count++;
    });
  });
  return count;
}

/** Walks every key of the bench bucket: with next() (a key and a value view each) or moveNext(). */
function scan(db: DB, views: boolean): number {
  let count = 0;
  db.view((tx) => {
    const c = tx.bucket(BENCH)!.cursor();
    if (views) for (let e = c.first(); e; e = c.next()) count++;
    else for (let ok = c.moveFirst(); ok; ok = c.moveNext()) count++;
  });
  return count;
}

const imageName = (i: number) => te.encode(`registry.example.com/team/app-${String(i).padStart(5, '0')}:v1`);

const readOnly = ['scan', 'scan-move', 'scan-warm', 'scan-move-warm', 'get', 'nested-get', 'list-images', 'list-images-warm'].includes(row);
const openStart = process.hrtime.bigint();
// BENCH_NOSYNC=1 (both workers): commits without fdatasync, to compare the engines' CPU with the
// disk left out (bench/RESULTS-notes.md uses it; `npm run bench` never sets it).
const db = open(file, { readOnly, noSync: process.env.BENCH_NOSYNC === '1' });
try {
  switch (row) {
    case 'seq-write':
    case 'rand-write':
      write(db, 1000, row === 'rand-write');
      break;
    case 'seq-write-1':
    case 'rand-write-1':
      write(db, 1, row === 'rand-write-1');
      break;
    case 'scan': {
      const start = process.hrtime.bigint();
      let count = 0;
      db.view((tx) => {
        const c = tx.bucket(BENCH)!.cursor();
        for (let e = c.first(); e; e = c.next()) count++;
      });
      report(start, count);
      break;
    }
    case 'scan-move': {
      const start = process.hrtime.bigint();
      let count = 0;
      db.view((tx) => {
        const c = tx.bucket(BENCH)!.cursor();
        for (let ok = c.moveFirst(); ok; ok = c.moveNext()) count++;
      });
      report(start, count);
      break;
    }
    case 'scan-warm':
    case 'scan-move-warm': {
      // WARM_PASSES over the same file in one process, the last one timed: by then the optimizing
      // compiler has the loop and the cursor's code, which the rows above (a first pass) time too.
      const views = row === 'scan-warm';
      for (let i = 1; i < WARM_PASSES; i++) scan(db, views);
      const start = process.hrtime.bigint();
      const count = scan(db, views);
      report(start, count);
      break;
    }
    case 'get': {
      const ks = keys(n, 2463534242n, 1000000n);
      const start = process.hrtime.bigint();
      db.view((tx) => {
        const b = tx.bucket(BENCH)!;
        for (let i = 0; i < n; i++) if (b.get(ks.subarray(i * 8, i * 8 + 8)) === undefined) throw new Error('missing key');
      });
      report(start, n);
      break;
    }
    case 'nested-get': {
      const idx = keys(n, 2463534242n, 10000n);
      const names = Array.from({ length: n }, (_, i) => imageName(Number(idx.readBigUInt64BE(i * 8))));
      const [v1, ns, images, target, digest] = ['v1', 'default', 'images', 'target', 'digest'].map((s) => te.encode(s)) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
      const start = process.hrtime.bigint();
      db.view((tx) => {
        for (let i = 0; i < n; i++) {
          const d = tx.bucket(v1)!.bucket(ns)!.bucket(images)!.bucket(names[i]!)!.bucket(target)!.get(digest);
          if (d === undefined) throw new Error('missing digest');
        }
      });
      report(start, n);
      break;
    }
    case 'list-images': {
      const count = listImages(db);
      if (count !== n) throw new Error(`listed ${count} images, want ${n}`);
      report(openStart, 1);
      break;
    }
    case 'list-images-warm': {
      // Open + list WARM_PASSES times in one process (each pass its own handle and mapping), the
      // last one timed.
      for (let i = 1; i < WARM_PASSES; i++) {
        const d = open(file, { readOnly: true });
        listImages(d);
        d.close();
      }
      const start = process.hrtime.bigint();
      const d = open(file, { readOnly: true });
      const count = listImages(d);
      d.close();
      if (count !== n) throw new Error(`listed ${count} images, want ${n}`);
      report(start, 1);
      break;
    }
    default:
      throw new Error(`unknown row ${row}`);
  }
} finally {
  db.close();
}
