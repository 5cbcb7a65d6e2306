// Test helpers for the bolt engine: dumps in the reference program's shape, page accounting.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bucket, DB, Tx } from '../../src/bolt/index.js';
import { LEAF_PAGE_FLAG, BUCKET_LEAF_FLAG, open } from '../../src/bolt/index.js';

export const hex = (b: Uint8Array | string): string => Buffer.from(b).toString('hex');

/** An item of a dump, as test/reference prints it. */
export type DumpItem = { k: string; v: string } | { k: string; seq: string; bucket: DumpItem[] };

export function dumpBucket(b: Bucket): DumpItem[] {
  const out: DumpItem[] = [];
  b.forEach((k, v) => {
    if (v === undefined) {
      const child = b.bucket(k)!;
      out.push({ k: hex(k), seq: child.sequence().toString(), bucket: dumpBucket(child) });
    } else out.push({ k: hex(k), v: hex(v) });
  });
  return out;
}

export function dumpTx(tx: Tx): DumpItem[] {
  return dumpBucket(tx.root);
}

export function tmpdir(prefix = 'tsbolt-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A file to damage: bucket 'big' (200 keys of 80-byte values, several leaf pages) and bucket
 * 'other' ({x: y}), written in two commits. Returns the file and the leaf pages of 'big'.
 */
export function buildTwoBuckets(dir: string): { file: string; bigLeaves: number[] } {
  const file = path.join(dir, 'db');
  const db = open(file);
  try {
    db.update((tx) => {
      const b = tx.createBucket('big');
      for (let i = 0; i < 200; i++) b.put(`k${String(i).padStart(4, '0')}`, 'v'.repeat(80));
    });
    db.update((tx) => tx.createBucket('other').put('x', 'y'));
    const bigLeaves = db.view((tx) => {
      const ids: number[] = [];
      tx.forEachPage(tx.bucket('big')!.root, (p) => p.isLeaf && ids.push(p.id));
      return ids;
    });
    return { file, bigLeaves };
  } finally {
    db.close();
  }
}

/** Points the bucket value of `key` on leaf page `pgid` at `root` (the value's first 8 bytes): a damage of the tests. */
export function setBucketRoot(b: Buffer, pageSize: number, pgid: number, key: string, root: number): void {
  const o = pgid * pageSize;
  const count = b.readUInt16LE(o + 10); // page header: id u64, flags u16, count u16, overflow u32
  for (let i = 0; i < count; i++) {
    const e = o + 16 + i * 16; // leaf element: flags u32, pos u32, ksize u32, vsize u32
    const pos = b.readUInt32LE(e + 4);
    const ksize = b.readUInt32LE(e + 8);
    if (b.toString('latin1', e + pos, e + pos + ksize) === key) {
      b.writeBigUInt64LE(BigInt(root), e + pos + ksize);
      return;
    }
  }
  throw new Error(`no key ${key} on page ${pgid}`);
}

/** Page `id` of `b` made a branch of `n` elements (keys 0..n-1 as u16 big-endian), all pointing at `to`: a damage of the tests. */
export function branchAllTo(b: Buffer, pageSize: number, id: number, to: number, n: number): void {
  const o = id * pageSize;
  b.fill(0, o, o + pageSize);
  b.writeBigUInt64LE(BigInt(id), o);
  b.writeUInt16LE(0x01, o + 8); // branch
  b.writeUInt16LE(n, o + 10);
  const keys = 16 + n * 16;
  for (let i = 0; i < n; i++) {
    const e = 16 + i * 16; // branch element: pos (from the element) u32, ksize u32, pgid u64
    b.writeUInt32LE(keys + 2 * i - e, o + e);
    b.writeUInt32LE(2, o + e + 4);
    b.writeBigUInt64LE(BigInt(to), o + e + 8);
    b.writeUInt16BE(i, o + keys + 2 * i);
  }
}

/**
 * Buckets L0 > L1 > ... > L<levels>, nested through the key c0; each level but the last holds
 * c1..c<fan-1> as well, buckets of their own pages, and a bucket `ok` holds k0..k49 = v0..v49.
 * Returns each level's root page and the root pages of its other children.
 */
export function buildChain(file: string, levels: number, fan: number, noFreelistSync: boolean): { roots: number[]; others: number[][] } {
  const db = open(file, { noFreelistSync });
  db.update((tx) => {
    const ok = tx.createBucket('ok');
    for (let i = 0; i < 50; i++) ok.put(`k${i}`, `v${i}`);
    let b = tx.createBucket('L0');
    for (let level = 0; level < levels; level++) {
      for (let c = 1; c < fan; c++) {
        const o = b.createBucket(`c${c}`);
        for (let i = 0; i < 20; i++) o.put(`k${i}`, 'x'.repeat(100)); // past the inline limit
      }
      b = b.createBucket('c0');
    }
    for (let i = 0; i < 20; i++) b.put(`k${i}`, 'x'.repeat(100));
  });
  const roots: number[] = [];
  const others: number[][] = [];
  db.view((tx) => {
    let b = tx.bucket('L0')!;
    for (let level = 0; level <= levels; level++) {
      roots.push(b.root);
      if (level === levels) break;
      others.push(Array.from({ length: fan - 1 }, (_, c) => b.bucket(`c${c + 1}`)!.root));
      b = b.bucket('c0')!;
    }
  });
  db.close();
  return { roots, others };
}

/**
 * Page accounting: every page below the high-water mark of the newest meta is exactly one
 * of reachable (metas, freelist, trees), free, or pending. Returns the problems found.
 */
export function pageAccounting(db: DB): string[] {
  const problems: string[] = [];
  const fl = db.loadFreelist();
  const free = new Set<number>();
  for (const id of fl.ids) {
    if (free.has(id)) problems.push(`page ${id} free twice`);
    free.add(id);
  }
  const pending = new Set<number>();
  for (const p of fl.pending.values()) {
    for (const id of p.ids) {
      if (pending.has(id) || free.has(id)) problems.push(`page ${id} pending twice or also free`);
      pending.add(id);
    }
  }
  db.view((tx) => {
    const reachable = new Map<number, number>();
    const mark = (id: number) => reachable.set(id, (reachable.get(id) ?? 0) + 1);
    mark(0);
    mark(1);
    if (tx.meta.freelist !== undefined) {
      const ov = tx.page(tx.meta.freelist).overflow;
      for (let i = 0; i <= ov; i++) mark(tx.meta.freelist + i);
    }
    const visit = (b: Bucket) => {
      if (b.root === 0) return;
      tx.forEachPage(b.root, (p) => {
        for (let i = 0; i <= p.overflow; i++) mark(p.id + i);
        if (p.flags & LEAF_PAGE_FLAG) for (let i = 0; i < p.count; i++) if (p.leafFlags(i) & BUCKET_LEAF_FLAG) visit(b.openBucket(p.leafValue(i)));
      });
    };
    visit(tx.root);
    for (let id = 0; id < tx.meta.pgid; id++) {
      const n = (reachable.get(id) ?? 0) + (free.has(id) ? 1 : 0) + (pending.has(id) ? 1 : 0);
      if (n !== 1) problems.push(`page ${id}: reachable ${reachable.get(id) ?? 0}, free ${free.has(id)}, pending ${pending.has(id)}`);
    }
    for (const id of [...free, ...pending]) if (id >= tx.meta.pgid) problems.push(`page ${id} free/pending above the high-water mark ${tx.meta.pgid}`);
  });
  return problems;
}
