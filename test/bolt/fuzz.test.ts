// Fuzzing: thousands of mutated databases (bit flips, zeroed, random and swapped pages,
// truncation, page pointers sent elsewhere) through open, check, a full walk, stats, cursors, the page map and salvage (and the
// tsbolt commands, compact and surgery included, each writing a file of its own). Only our typed
// errors may escape; nothing may hang (depth, cycles and sizes are bounded; every case has a time
// limit), memory stays bounded, and the input is never changed. Each case damages one of several
// bases: files we write with 4 KiB and 16 KiB pages and one without a freelist page
// (NoFreelistSync, as etcd writes), and every file of ../shared/corpus when the folder exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { open, pageMap, salvage, BoltError, type Bucket } from '../../src/bolt/index.js';
import { prng } from '../helpers/workload.js';
import { tmpdir } from '../helpers/bolt.js';
import { CORPUS } from '../helpers/corpus.js';
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9);
const CASES = Number(process.env.FUZZ_CASES ?? 1500);
console.log(`fuzz seed ${SEED} cases ${CASES}`);

/** A file to damage, and its page size (mutations work in whole pages). */
interface Base {
  name: string;
  bytes: Uint8Array;
  pageSize: number;
}

function builtBase(dir: string, name: string, opts: { pageSize?: number; noFreelistSync?: boolean }): Base {
  const file = path.join(dir, `${name}.db`);
  const db = open(file, opts);
  db.update((tx) => {
    const a = tx.createBucket('a');
    for (let i = 0; i < 600; i++) a.put(`key${i}`, 'v'.repeat(i % 90));
    a.put('big', new Uint8Array(9000).fill(3));
    const n = a.createBucket('nested');
    for (let i = 0; i < 300; i++) n.put(`n${i}`, `${i}`);
    n.createBucket('inline').put('x', 'y');
    a.setSequence(77);
  });
  db.update((tx) => {
    const a = tx.bucket('a')!;
    for (let i = 0; i < 600; i += 3) a.delete(`key${i}`);
  });
  db.close();
  return { name, bytes: fs.readFileSync(file), pageSize: opts.pageSize ?? 4096 };
}

function bases(dir: string): Base[] {
  const out = [
    builtBase(dir, 'built-4k', {}),
    builtBase(dir, 'built-16k', { pageSize: 16384 }),
    builtBase(dir, 'built-nofreelist', { noFreelistSync: true }),
  ];
  if (fs.existsSync(CORPUS)) {
    for (const name of fs.readdirSync(CORPUS).filter((f) => f.endsWith('.db')).sort()) {
      const bytes = fs.readFileSync(path.join(CORPUS, name));
      // The page size from meta page 0 (page header 16 bytes, then magic, version, page size).
      const ps = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readUInt32LE(24);
      out.push({ name, bytes, pageSize: ps >= 1024 && ps <= 65536 && (ps & (ps - 1)) === 0 ? ps : 4096 });
    }
  }
  return out;
}

/** File offsets of the page ids in branch elements and in bucket values on leaf pages. */
function pointers(b: Uint8Array, ps: number, pages: number): number[] {
  const v = Buffer.from(b.buffer, b.byteOffset, b.length);
  const out: number[] = [];
  for (let p = 2; p < pages; p++) {
    const o = p * ps;
    const flags = v.readUInt16LE(o + 8); // page header: id u64, flags u16, count u16, overflow u32
    const count = v.readUInt16LE(o + 10);
    for (let i = 0; i < count && 16 + (i + 1) * 16 <= ps; i++) {
      const e = o + 16 + i * 16;
      if (flags === 0x01) out.push(e + 8); // branch element: pos u32, ksize u32, pgid u64
      else if (flags === 0x02 && v.readUInt32LE(e) & 0x01) {
        // leaf element: flags u32, pos u32, ksize u32, vsize u32; a bucket value starts with its root
        const at = e + v.readUInt32LE(e + 4) + v.readUInt32LE(e + 8);
        if (at + 8 <= o + ps) out.push(at);
      }
    }
  }
  return out;
}

function mutate(base: Base, r: () => number): Uint8Array {
  const b = new Uint8Array(base.bytes); // a copy (Buffer.slice would be a view)
  const ps = base.pageSize;
  const pages = Math.floor(b.length / ps);
  const page = () => Math.floor(r() * pages);
  const kinds = Math.floor(r() * 7);
  switch (kinds) {
    case 0: // bit flips
      for (let i = 0, n = 1 + Math.floor(r() * 8); i < n; i++) {
        const o = Math.floor(r() * b.length);
        b[o] = b[o]! ^ (1 << Math.floor(r() * 8));
      }
      return b;
    case 1: // zeroed page
      b.fill(0, page() * ps, (page() + 1) * ps);
      return b;
    case 2: {
      // random page (header kept or not)
      const p = page();
      for (let i = p * ps + (r() < 0.5 ? 16 : 0); i < (p + 1) * ps; i++) b[i] = Math.floor(r() * 256);
      return b;
    }
    case 3: {
      // swapped pages
      const p = page(),
        q = page();
      const tmp = b.slice(p * ps, (p + 1) * ps);
      b.copyWithin(p * ps, q * ps, (q + 1) * ps);
      b.set(tmp, q * ps);
      return b;
    }
    case 4: // truncation
      return b.subarray(0, Math.floor(r() * b.length));
    case 5: {
      // page pointers (branch elements, bucket values' roots) sent to other pages: cycles, and
      // pages shared by two parents, as a lost write or a bad sector in a pointer leaves them
      const ptrs = pointers(b, ps, pages);
      for (let i = 0, n = 1 + Math.floor(r() * 4); i < n && ptrs.length > 0; i++) {
        const o = ptrs[Math.floor(r() * ptrs.length)]!;
        Buffer.from(b.buffer, b.byteOffset, b.length).writeBigUInt64LE(BigInt(2 + Math.floor(r() * (pages - 2))), o);
      }
      return b;
    }
    default: {
      // header fields of a non-meta page set to extreme values
      const p = 2 + Math.floor(r() * (pages - 2));
      const o = p * ps + [8, 10, 12][Math.floor(r() * 3)]!;
      b[o] = 0xff;
      b[o + 1] = 0xff;
      return b;
    }
  }
}

function exercise(file: string): void {
  const db = open(file, { readOnly: true });
  try {
    db.view((tx) => {
      tx.check();
      tx.root.stats();
      let items = 0;
      const walk = (b: Bucket, depth: number): void => {
        const c = b.cursor();
        for (let e = c.first(); e && items < 100_000; e = c.next()) {
          items++;
          if (e[1] === undefined && depth < 10) {
            const child = b.bucket(e[0]);
            if (child) walk(child, depth + 1);
          }
        }
        for (let e = c.last(); e && items < 200_000; e = c.prev()) items++;
        b.get('key5');
        c.seek('key3');
      };
      walk(tx.root, 0);
      pageMap(tx);
    });
  } finally {
    db.close();
  }
}

/** A case may take this long at most (the slowest seen here are ~50 ms). */
const CASE_MS = 2000;
/** Resident memory may grow this much over the run (the files are 0.1-1 MiB; a leak of copies would show). */
const RSS_GROWTH = 256 * 1024 * 1024;

test('Fuzz_mutatedFiles_onlyTypedErrorsEscape', async () => {
  const dir = tmpdir('fuzz-');
  const all = bases(dir);
  const r = prng(SEED);
  const file = path.join(dir, 'm.db');
  const counts = { ok: 0, typed: 0, salvaged: 0, salvageRefused: 0 };
  const out = path.join(dir, 'salvaged.db');
  let rss0 = 0;
  let rssMax = 0;
  let slowest = 0;
  for (let i = 0; i < CASES; i++) {
    const base = all[Math.floor(r() * all.length)]!;
    const m = mutate(base, r);
    fs.writeFileSync(file, m);
    const before = fs.statSync(file).mtimeMs;
    const t0 = performance.now();
    const typedOnly = (e: unknown, what: string): void => {
      if (!(e instanceof BoltError)) {
        fs.writeFileSync(path.join(dir, `crash-${i}.db`), m);
        assert.fail(`case ${i} (seed ${SEED}, base ${base.name}) ${what} threw a non-typed error: ${(e as Error)?.stack ?? e}`);
      }
    };
    try {
      exercise(file);
      counts.ok++;
    } catch (e) {
      typedOnly(e, 'open/check/walk/stats/pageMap');
      counts.typed++;
    }
    // Salvage every third case (it writes a whole new file): its output must pass check.
    if (i % 3 === 0) {
      fs.rmSync(out, { force: true });
      try {
        salvage(file, out);
        const s = open(out, { readOnly: true });
        try {
          assert.deepEqual(s.view((tx) => tx.check()), [], `case ${i} (seed ${SEED}, base ${base.name}): salvage output fails check`);
        } finally {
          s.close();
        }
        counts.salvaged++;
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        typedOnly(e, 'salvage');
        counts.salvageRefused++;
      }
    }
    const dt = performance.now() - t0;
    slowest = Math.max(slowest, dt);
    assert.ok(dt < CASE_MS, `case ${i} (seed ${SEED}, base ${base.name}) took ${Math.round(dt)} ms`);
    assert.equal(fs.statSync(file).mtimeMs, before);
    assert.deepEqual(fs.readFileSync(file), Buffer.from(m));
    const rss = process.memoryUsage().rss;
    if (i === 50) rss0 = rss;
    rssMax = Math.max(rssMax, rss);
  }
  assert.ok(rssMax - rss0 < RSS_GROWTH, `resident memory grew by ${Math.round((rssMax - rss0) / 2 ** 20)} MiB`);
  // Every open of the mutated file, failed ones included, gave its mapping back: past a full GC
  // at most the ones kept for reuse are left. Without the GC the count depends on its timing (a
  // case that maps more than the kept mapping holds makes a new one, as the bases differ in size);
  // and mmap-io unmaps in a finalizer that runs in a later task, and a WeakRef keeps its target
  // to the end of the job that read it: hence the turns of the event loop around it.
  const mappings = (): string[] => fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.endsWith(` ${fs.realpathSync(file)}`));
  for (let t = 0; t < 100 && mappings().length > 2; t++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
  }
  const maps = mappings();
  assert.ok(maps.length <= 2, `${maps.length} mappings of the mutated file are left:\n${maps.join('\n')}`);
  console.log(
    `fuzz: ${counts.ok} opened and walked, ${counts.typed} refused with typed errors; salvage: ${counts.salvaged} recovered, ${counts.salvageRefused} refused; slowest case ${Math.round(slowest)} ms, peak rss ${Math.round(rssMax / 2 ** 20)} MiB`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

test('Fuzz_mutatedFiles_tsboltCommandsFailCleanly', async () => {
  const { main } = await import('../../src/cli/tsbolt.js');
  const dir = tmpdir('fuzzcli-');
  const all = bases(dir);
  const r = prng(SEED + 1);
  const file = path.join(dir, 'm.db');
  const html = path.join(dir, 'map.html');
  const out = path.join(dir, 'out.db');
  const commands = [
    ['check'], ['pages'], ['stats'], ['buckets'], ['keys', 'FILE', 'a'], ['get', 'FILE', 'a', 'key1'], ['page', 'FILE', '3'], ['dump', 'FILE', '2'], ['info'], ['page-item', 'FILE', '3', '0'], ['map', 'FILE', '-o', html],
    // The commands that write, each to a new file of its own (the mutated one must stay as it is).
    ['compact', '-o', out, 'FILE'],
    ['surgery', 'revert-meta-page', 'FILE', '--output', out],
    ['surgery', 'clear-page', 'FILE', '--output', out, '--pageId', '3'],
    ['surgery', 'clear-page-elements', 'FILE', '--output', out, '--pageId', '3', '--from-index', '0', '--to-index', '1'],
    ['surgery', 'copy-page', 'FILE', '--output', out, '--from-page', '3', '--to-page', '4'],
    ['surgery', 'freelist', 'abandon', 'FILE', '--output', out],
    ['surgery', 'freelist', 'rebuild', 'FILE', '--output', out],
    ['surgery', 'meta', 'validate', 'FILE'],
    ['surgery', 'meta', 'update', 'FILE', '--output', out, '--fields', 'root:4'],
  ];
  const n = Math.ceil(CASES / 10);
  for (let i = 0; i < n; i++) {
    const base = all[Math.floor(r() * all.length)]!;
    const m = mutate(base, r);
    fs.writeFileSync(file, m);
    const before = fs.statSync(file).mtimeMs;
    for (const c of commands) {
      fs.rmSync(out, { force: true });
      const argv = c.length === 1 ? [c[0]!, file] : c.map((a) => (a === 'FILE' ? file : a));
      let text = '';
      const sink = { write: (s: string | Uint8Array) => ((text += typeof s === 'string' ? s : Buffer.from(s).toString()), true) };
      const code = await main(argv, { stdout: sink, stderr: sink });
      assert.equal(typeof code, 'number');
      assert.ok(!/\n\s+at /.test(text), `case ${i} (seed ${SEED + 1}, base ${base.name}) ${c.join(' ')}: stack trace in output:\n${text.slice(0, 500)}`);
      // What main() prints for an error that is none of our typed ones (a TypeError...): a bug.
      assert.ok(!text.includes('internal error'), `case ${i} (seed ${SEED + 1}, base ${base.name}) ${c.join(' ')}: ${text.slice(0, 500)}`);
      if (code !== 0) assert.ok(text.trim().length > 0, `case ${i} (seed ${SEED + 1}, base ${base.name}) ${c.join(' ')}: failed silently`);
    }
    assert.equal(fs.statSync(file).mtimeMs, before, `case ${i} (seed ${SEED + 1}, base ${base.name}): a command touched the file`);
    assert.deepEqual(fs.readFileSync(file), Buffer.from(m), `case ${i} (seed ${SEED + 1}, base ${base.name}): a command changed the file`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
