// pageMap (src/bolt/pagemap.ts) against what the bbolt 1.3.7 CLI printed for the same files
// (fixtures/bolt/expected, recorded from the real tool): the kind of every page equals `pages`
// (overflow pages are the OVRFLW runs after their page), and the bucket sizes summed over the
// top-level buckets equal `stats` (pages, overflow, key/value pairs, buckets, inline buckets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { open, pageMap, PAGE_KINDS, type BucketUsage } from '../../src/bolt/index.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/bolt', import.meta.url));

function recorded(name: string, cmd: string): string | undefined {
  const runs = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected', `${name}.json`), 'utf8')) as { argv: string[]; out: string; code: number }[];
  const r = runs.find((x) => x.argv.length === 2 && Buffer.from(x.argv[0]!, 'hex').toString() === cmd && x.code === 0);
  return r && Buffer.from(r.out, 'base64').toString();
}

const names = fs
  .readdirSync(path.join(FIXTURES, 'expected'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5));

for (const name of names) {
  test(`PageMap_${name}_kindsEqualBbolt137Pages_sizesEqualBbolt137Stats`, () => {
    const pages = recorded(name, 'pages');
    const stats = recorded(name, 'stats');
    assert.ok(pages && stats, 'no recorded pages/stats run');
    const db = open(path.join(FIXTURES, `${name}.db`), { readOnly: true });
    try {
      db.view((tx) => {
        const m = pageMap(tx);
        assert.deepEqual(m.errors, []);
        // pages: one row per page, or per node with its overflow run after it
        const want: string[] = [];
        for (const line of pages.split('\n').slice(2)) {
          const f = line.trim().split(/\s+/);
          if (f.length < 2) continue;
          const id = Number(f[0]);
          assert.equal(id, want.length, `row ${line}`);
          want.push(f[1]!);
          for (let i = 0; i < Number(f[3] ?? 0); i++) want.push('overflow');
        }
        const got = Array.from(m.kinds.subarray(0, m.hwm), (k) => PAGE_KINDS[k]);
        assert.deepEqual(got, want);
        assert.ok(Array.from(m.kinds.subarray(m.hwm)).every((k) => PAGE_KINDS[k] === 'unallocated'));
        // stats: the top-level buckets together
        const num = (label: string): number => Number(new RegExp(`${label}: (\\d+)`).exec(stats)![1]);
        const sum = { branch: 0, leaf: 0, overflow: 0, kv: 0, buckets: 0, inline: 0 };
        const walk = (u: BucketUsage): void => {
          sum.branch += u.own.branchPages;
          sum.leaf += u.own.leafPages;
          sum.overflow += u.own.overflowPages;
          sum.kv += u.own.keys + u.own.buckets;
          sum.buckets++;
          if (u.inline) sum.inline++;
          u.children.forEach(walk);
        };
        m.root.children.forEach(walk);
        assert.equal(sum.branch, num('Number of logical branch pages'));
        assert.equal(sum.leaf, num('Number of logical leaf pages'));
        assert.equal(sum.overflow, num('Number of physical branch overflow pages') + num('Number of physical leaf overflow pages'));
        assert.equal(sum.kv, num('Number of keys/value pairs'));
        assert.equal(sum.buckets, num('Total number of buckets'));
        assert.equal(sum.inline, num('Total number on inlined buckets'));
        assert.equal(
          (sum.branch + sum.leaf + sum.overflow) * m.pageSize,
          num('Bytes allocated for physical branch pages') + num('Bytes allocated for physical leaf pages'),
        );
        // a bucket's bytes are its pages (or its inline value): the totals add up
        assert.equal(m.root.total.bytes - m.root.own.bytes, m.root.children.reduce((s, c) => s + c.total.bytes, 0));
      });
    } finally {
      db.close();
    }
  });
}
