// The oracle itself: the reference program (Go bbolt 1.3.6) applies a workload and dumps it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { buildReference, hex as h, runReference, type ApplyResult, type Dump, type PagesResult } from '../helpers/reference.js';
import { tmpdir } from '../helpers/bolt.js';

test('Reference_appliesAndDumpsAWorkload', () => {
  const file = path.join(tmpdir('ref-'), 'r.db');
  const res: ApplyResult = runReference(['apply', file], {
    txs: [
      { ops: [{ op: 'createBucket', path: [h('a')] }, { op: 'put', path: [h('a')], key: h('k'), value: h('v') }, { op: 'createBucket', path: [h('a'), h('n')] }, { op: 'setSequence', path: [h('a'), h('n')], seq: '7' }] },
      { rollback: true, ops: [{ op: 'put', path: [h('a')], key: h('gone'), value: h('x') }] },
      { ops: [{ op: 'createBucket', path: [h('a')] }, { op: 'delete', path: [h('missing')], key: h('k') }, { op: 'nextSequence', path: [h('a')] }] },
    ],
  });
  assert.deepEqual(res.results, [[null, null, null, null], [null], ['bucket already exists', 'bucket not found', null]]);
  assert.equal(res.txid, 3);
  const d: Dump = runReference(['dump', file]);
  assert.equal(d.pageSize, 4096);
  assert.deepEqual(d.check, []);
  assert.deepEqual(d.buckets, [{ k: h('a'), seq: '1', bucket: [{ k: h('k'), v: h('v') }, { k: h('n'), seq: '7', bucket: [] }] }]);
  assert.equal(d.txid, 3);
  assert.equal(d.rootSeq, '0');
  // Meta fields are u64 decimal strings inside the file: root and freelist pages below the high-water mark.
  const hwm = Number(d.hwm);
  assert.ok(hwm >= 4 && d.size === hwm * 4096, `hwm ${d.hwm}, size ${d.size}`);
  assert.ok(Number(d.rootPgid) >= 2 && Number(d.rootPgid) < hwm);
  assert.ok(Number(d.freelistPgid) >= 2 && Number(d.freelistPgid) < hwm);
  assert.deepEqual(runReference(['check', file]), { check: [] });

  const p: PagesResult = runReference(['pages', file]);
  assert.deepEqual(p.pages.slice(0, 2).map((x) => x.type), ['meta', 'meta']);
  const byId = new Map(p.pages.map((x) => [x.id, x]));
  assert.equal(byId.get(Number(d.rootPgid))?.type, 'leaf');
  assert.equal(byId.get(Number(d.freelistPgid))?.type, 'freelist');
  assert.equal(p.pages.reduce((n, x) => n + 1 + x.overflow, 0), hwm);
});

test('Reference_options_pageSizeAndNoFreelistSync', () => {
  const file = path.join(tmpdir('ref-'), 'r.db');
  const w = { txs: [{ ops: [{ op: 'createBucket', path: [h('b')] }, { op: 'put', path: [h('b')], key: h('k'), value: h('') }] }] };
  runReference(['apply', file, '--page-size', '16384', '--no-freelist-sync', '--no-sync'], w);
  const d: Dump = runReference(['dump', file]);
  assert.equal(d.pageSize, 16384);
  assert.equal(d.freelistPgid, '18446744073709551615');
  assert.deepEqual(d.check, []);
  assert.deepEqual(d.buckets, [{ k: h('b'), seq: '0', bucket: [{ k: h('k'), v: '' }] }]);
});

test('Reference_errors_areJSONWithExitStatus1', () => {
  const dir = tmpdir('ref-');
  const missing = path.join(dir, 'none.db');
  assert.throws(() => runReference(['dump', missing]), /no such file/);
  assert.equal(fs.existsSync(missing), false);
  assert.throws(() => runReference(['frobnicate', missing]), /unknown command/);
});

test('Reference_holdAndTryopen_lockExclusively', async () => {
  const file = path.join(tmpdir('ref-'), 'r.db');
  runReference(['apply', file], { txs: [] });
  const holder = spawn(buildReference(), ['hold', file, '1500'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve) => holder.stdout.once('data', (b: Buffer) => resolve(b.toString())));
  assert.deepEqual(JSON.parse(first), { locked: true });
  assert.deepEqual(runReference(['tryopen', file, '100', '--read-only']), { error: 'timeout' });
  await new Promise((resolve) => holder.once('exit', resolve));
  assert.deepEqual(runReference(['tryopen', file, '500', '--read-only']), { opened: true });
  assert.deepEqual(runReference(['tryopen', file, '500']), { opened: true });
});
