// Property test of the content writer: random chunked writes, interrupted at random points
// (writer closed, store reopened, or the data file cut short as a crash leaves it) and resumed
// from whatever offset is on disk, always commit to the digest of the bytes; wrong sizes and
// digests fail with typed errors and never harm what is already committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { openContentStore, digestOf, ingestKey, ContentSizeMismatchError, ContentDigestMismatchError } from '../../src/content/index.js';

const SEED = Number(process.env.FC_SEED ?? Date.now() % 1e9);
const RUNS = Number(process.env.FC_RUNS ?? 200);
console.log(`content writer property seed ${SEED} runs ${RUNS}`);

type Step = { kind: 'write'; n: number } | { kind: 'close' } | { kind: 'reopenStore' } | { kind: 'crash'; keep: number } | { kind: 'badCommit'; how: 'size' | 'digest' };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 70_000 }).map((n) => ({ kind: 'write' as const, n })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'close' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopenStore' as const }) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((keep) => ({ kind: 'crash' as const, keep })) },
  { weight: 1, arbitrary: fc.constantFrom('size' as const, 'digest' as const).map((how) => ({ kind: 'badCommit' as const, how })) },
);

test('ContentWriter_randomInterruptedResumedWrites_commitToTheRightDigest', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-content-prop-'));
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 25 }), fc.integer({ min: 0, max: 255 }), async (steps, salt) => {
      const root = path.join(dir, `s${n++}`);
      let store = await openContentStore(root);
      // One committed blob that nothing below may harm.
      const keptBytes = Buffer.from(`kept ${salt}`);
      const kw = await store.writer({ ref: 'kept' });
      await kw.write(keptBytes);
      const kept = await kw.commit(keptBytes.length);
      const ref = `ref-${salt}`;
      let data = Buffer.alloc(0); // what the ingest holds
      let w = await store.writer({ ref });
      let counter = 0;
      for (const s of steps) {
        switch (s.kind) {
          case 'write': {
            const chunk = Buffer.alloc(s.n);
            for (let i = 0; i < s.n; i++) chunk[i] = (salt + counter++ * 31) & 0xff;
            await w.write(chunk);
            data = Buffer.concat([data, chunk]);
            assert.equal(w.status().offset, data.length);
            break;
          }
          case 'close':
            await w.close();
            break;
          case 'reopenStore':
            await w.close();
            store = await openContentStore(root);
            break;
          case 'crash': {
            await w.close();
            const f = path.join(root, 'ingest', ingestKey(ref), 'data');
            const keep = Math.floor(data.length * s.keep);
            fs.truncateSync(f, keep);
            data = data.subarray(0, keep);
            break;
          }
          case 'badCommit': {
            if (s.how === 'size') await assert.rejects(() => w.commit(data.length + 1), (e) => e instanceof ContentSizeMismatchError);
            else await assert.rejects(() => w.commit(data.length, digestOf(Buffer.concat([data, Buffer.from('x')]))), (e) => e instanceof ContentDigestMismatchError);
            break;
          }
        }
        // After every interruption (and a failed commit, which ends the writer) a new writer
        // resumes at the offset on disk, re-hashing the bytes there.
        if (s.kind !== 'write') {
          await w.close();
          w = await store.writer({ ref });
          assert.equal(w.status().offset, data.length, `resumed offset after ${s.kind}`);
          assert.equal(w.digest(), digestOf(data));
        }
      }
      const d = await w.commit(data.length, digestOf(data)).catch(async (e) => {
        // The bytes may equal the kept blob's: then the digest exists already.
        if (digestOf(data) === kept) return kept;
        throw e;
      });
      assert.equal(d, digestOf(data));
      assert.ok((await store.read(d)).equals(data));
      assert.ok((await store.read(kept)).equals(keptBytes));
      assert.deepEqual(await store.listStatuses(), []);
      fs.rmSync(root, { recursive: true, force: true });
    }),
    { seed: SEED, numRuns: RUNS },
  );
  fs.rmSync(dir, { recursive: true, force: true });
});
