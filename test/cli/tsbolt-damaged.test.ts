// tsbolt salvage and surgery on damaged files: output texts (bbolt 1.4.3 for surgery), exit
// statuses, and the source left untouched without --in-place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { open } from '../../src/bolt/index.js';
import { main } from '../../src/cli/tsbolt.js';
import { buildTwoBuckets, tmpdir } from '../helpers/bolt.js';

const PS = 4096;

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (c) => (out += Buffer.from(c).toString()) }, stderr: { write: (c) => (err += Buffer.from(c).toString()) } });
  return { code, out, err };
}

function build(): { dir: string; file: string; leaf: number } {
  const dir = tmpdir('tsbolt-damaged-');
  const { file, bigLeaves } = buildTwoBuckets(dir);
  return { dir, file, leaf: bigLeaves[2]! };
}
const fp = (f: string) => [createHash('sha256').update(fs.readFileSync(f)).digest('hex'), fs.statSync(f).mtimeMs];

test('tsbolt_salvage_zeroedLeaf_summaryAndJsonReport', async () => {
  const { dir, file, leaf } = build();
  const b = fs.readFileSync(file);
  const lost = b.readUInt16LE(leaf * PS + 10);
  b.fill(0, leaf * PS, (leaf + 1) * PS);
  fs.writeFileSync(file, b);
  const before = fp(file);
  const out = path.join(dir, 'out');
  const rep = path.join(dir, 'r.json');
  const r = await run('salvage', file, '-o', out, '--json-report', rep);
  assert.equal(r.code, 0, r.out);
  assert.equal(r.out, `salvaged ${201 - lost} keys in 2 buckets from ${file} (meta txid 3); 1 pages unreadable\n`);
  assert.deepEqual(fp(file), before);
  const report = JSON.parse(fs.readFileSync(rep, 'utf8')) as { strategy: string; unreadable: { pgid: number; error: string }[] };
  assert.equal(report.strategy, 'scan');
  assert.deepEqual(report.unreadable.map((u) => u.pgid), [leaf]);
  assert.equal((await run('check', out)).out, 'OK\n');
});

test('tsbolt_salvage_errors', async () => {
  const { dir, file } = build();
  assert.deepEqual(await run('salvage', file), { code: 1, out: 'output file required\n', err: '' });
  assert.deepEqual(await run('salvage', path.join(dir, 'nope'), '-o', path.join(dir, 'o')), { code: 1, out: 'file not found\n', err: '' });
  fs.writeFileSync(path.join(dir, 'o'), '');
  const r = await run('salvage', file, '-o', path.join(dir, 'o'));
  assert.equal(r.code, 1);
  assert.match(r.out, /already exists/);
  assert.equal((await run('salvage', '-h')).code, 2);
});

test('tsbolt_surgery_revertMetaPage_sourceUnchanged', async () => {
  const { dir, file } = build();
  const before = fp(file);
  const dst = path.join(dir, 'dst');
  assert.deepEqual(await run('surgery', 'revert-meta-page', file, '--output', dst), { code: 0, out: 'The meta page is reverted.\n', err: '' });
  assert.deepEqual(fp(file), before);
  const db = open(dst, { readOnly: true });
  assert.equal(db.meta().txid, 2);
  db.close();
  const again = await run('surgery', 'revert-meta-page', file, '--output', dst);
  assert.deepEqual(again, { code: 1, out: '', err: `Error: [revert-meta-page] copy file failed: output file "${dst}" already exists\n` });
});

test('tsbolt_surgery_clearPage_and_elements_texts', async () => {
  const { dir, file, leaf } = build();
  const r = await run('surgery', 'clear-page', file, '--output', path.join(dir, 'a'), '--pageId', String(leaf));
  assert.deepEqual(r, { code: 0, out: `The page (${leaf}) was cleared\n`, err: '' });
  const r2 = await run('surgery', 'clear-page-elements', file, '--output', path.join(dir, 'b'), '--pageId', String(leaf), '--from-index', '0', '--to-index', '2');
  assert.deepEqual(r2, { code: 0, out: `All elements in [0, 2) in page ${leaf} were cleared\n`, err: '' });
  const r3 = await run('surgery', 'clear-page', file, '--output', path.join(dir, 'c'), '--pageId', '1');
  assert.equal(r3.code, 1);
  assert.match(r3.err, /^Error: the pageId must be at least 2, but got 1\n/);
  const r4 = await run('surgery', 'copy-page', file, '--output', path.join(dir, 'd'));
  assert.match(r4.err, /^Error: required flag\(s\) "from-page", "to-page" not set\n/);
});

test('tsbolt_surgery_copyPage_warnsAboutTheFreelist', async () => {
  const { dir, file, leaf } = build();
  const r = await run('surgery', 'copy-page', file, '--output', path.join(dir, 'a'), '--from-page', String(leaf), '--to-page', String(leaf + 1));
  assert.deepEqual(r, {
    code: 0,
    out: `WARNING: the free list might have changed.\nPlease consider executing \`./bbolt surgery freelist abandon ...\`\nThe page ${leaf} was successfully copied to page ${leaf + 1}\n`,
    err: '',
  });
});

test('tsbolt_surgery_freelist_abandonRebuild_and_inPlace', async () => {
  const { dir, file } = build();
  const a = path.join(dir, 'a');
  assert.deepEqual(await run('surgery', 'freelist', 'abandon', file, '--output', a), {
    code: 0,
    out: 'The freelist was abandoned in both meta pages.\nIt may cause some delay on next startup because bbolt needs to scan the whole db to reconstruct the free list.\n',
    err: '',
  });
  const rb = await run('surgery', 'freelist', 'rebuild', file, '--output', path.join(dir, 'x'));
  assert.deepEqual(rb, { code: 1, out: '', err: 'Error: the file already has freelist, please consider to abandon the freelist to forcibly rebuild it\n' });
  assert.equal(fs.existsSync(path.join(dir, 'x')), false);
  assert.deepEqual(await run('surgery', 'freelist', 'rebuild', a, '--in-place'), { code: 0, out: 'The freelist was successfully rebuilt.\n', err: '' });
  assert.equal((await run('check', a)).out, 'OK\n');
});

test('tsbolt_surgery_freelistRebuild_zeroedFreelistPage', async () => {
  const { dir, file } = build();
  const db = open(file, { readOnly: true });
  const fl = db.meta().freelist!;
  db.close();
  const b = fs.readFileSync(file);
  b.fill(0, fl * PS, (fl + 1) * PS);
  fs.writeFileSync(file, b);
  const out = path.join(dir, 'fixed');
  const r = await run('surgery', 'freelist', 'rebuild', file, '--output', out);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'WARNING: the freelist page was damaged; it was abandoned in both meta pages before the rebuild.\nThe freelist was successfully rebuilt.\n');
  assert.equal((await run('check', out)).out, 'OK\n');
});

test('tsbolt_surgery_meta_validate_update', async () => {
  const { dir, file } = build();
  assert.deepEqual(await run('surgery', 'meta', 'validate', file), { code: 0, out: 'The meta page 0 is valid!\nThe meta page 1 is valid!\n', err: '' });
  const out = path.join(dir, 'm');
  assert.deepEqual(await run('surgery', 'meta', 'update', file, '--output', out, '--fields', 'pgid:40,txid:9', '--meta-page', '1'), {
    code: 0,
    out: 'The meta page 1 has been updated!\n',
    err: '',
  });
  const b = fs.readFileSync(out);
  assert.equal(b.readBigUInt64LE(PS + 16 + 40), 40n);
  assert.equal(b.readBigUInt64LE(PS + 16 + 48), 9n);
  assert.equal((await run('surgery', 'meta', 'validate', out)).out, 'The meta page 0 is valid!\nThe meta page 1 is valid!\n');
  const bad = await run('surgery', 'meta', 'update', file, '--output', path.join(dir, 'n'), '--fields', 'magic:1');
  assert.match(bad.err, /^Error: field "magic" isn't allowed to be updated\n/);
  b[PS + 16 + 48]! ^= 1;
  fs.writeFileSync(out, b);
  assert.equal((await run('surgery', 'meta', 'validate', out)).out, "The meta page 0 is valid!\nWARNING: The meta page 1 isn't valid: checksum error!\n");
  const unk = await run('surgery', 'bogus');
  assert.deepEqual(unk, { code: 1, out: '', err: 'Error: unknown command "bogus" for "bbolt surgery"\n' });
});
