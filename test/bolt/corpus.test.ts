// Real bbolt files from ../shared/corpus (containerd, snapshotters, etcd, 16 KiB-page apps):
// each opens read-only, every bucket and key is reachable, nothing about the file changes,
// and check finds exactly what bbolt 1.3.7's `bbolt check` printed for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { open } from '../../src/bolt/index.js';
import { dumpTx } from '../helpers/bolt.js';

const corpus = fileURLToPath(new URL('../../../shared/corpus', import.meta.url));

interface Recorded {
  argv: string[];
  out: string;
  code: number;
}

if (fs.existsSync(corpus)) {
  for (const name of fs.readdirSync(corpus).filter((f) => f.endsWith('.db')).sort()) {
    test(`Corpus_${name}_opensAndChecksLikeBbolt`, () => {
      const file = path.join(corpus, name);
      const before = { sha: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'), mtime: fs.statSync(file).mtimeMs };
      const recorded: Recorded[] = JSON.parse(fs.readFileSync(path.join(corpus, 'expected', name.replace(/\.db$/, '.json')), 'utf8'));
      const checkRec = recorded.find((r) => Buffer.from(r.argv[0]!, 'hex').toString() === 'check')!;
      const out = Buffer.from(checkRec.out, 'base64').toString();
      // bbolt prints "OK", or each finding, then "N errors found", then the error "invalid value".
      const lines = out.split('\n');
      const expectedFindings = out === 'OK\n' ? [] : lines.slice(0, lines.findIndex((l) => / errors? found$/.test(l)));
      const db = open(file, { readOnly: true });
      try {
        db.view((tx) => {
          assert.deepEqual(tx.check(), expectedFindings);
          const dump = dumpTx(tx);
          assert.ok(dump.length > 0);
          // Every top-level bucket bbolt listed is there, in the same order.
          const bucketsRec = recorded.find((r) => Buffer.from(r.argv[0]!, 'hex').toString() === 'buckets');
          if (bucketsRec && bucketsRec.code === 0) {
            const names = Buffer.from(bucketsRec.out, 'base64').toString('latin1').split('\n').filter(Boolean);
            assert.deepEqual(
              dump.map((d) => Buffer.from(d.k, 'hex').toString('latin1')),
              names,
            );
          }
        });
      } finally {
        db.close();
      }
      assert.equal(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'), before.sha);
      assert.equal(fs.statSync(file).mtimeMs, before.mtime);
    });
  }
}
