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
