// The oracle itself: the reference program applies a workload and dumps it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runReference } from '../helpers/reference.js';
import { tmpdir } from '../helpers/bolt.js';

test('Reference_appliesAndDumpsAWorkload', () => {
  const file = path.join(tmpdir('ref-'), 'r.db');
  const h = (s: string) => Buffer.from(s).toString('hex');
  const res = runReference(['apply', file], {
    txs: [
      { ops: [{ op: 'createBucket', path: [h('a')] }, { op: 'put', path: [h('a')], key: h('k'), value: h('v') }, { op: 'createBucket', path: [h('a'), h('n')] }, { op: 'setSequence', path: [h('a'), h('n')], seq: '7' }] },
      { rollback: true, ops: [{ op: 'put', path: [h('a')], key: h('gone'), value: h('x') }] },
      { ops: [{ op: 'createBucket', path: [h('a')] }, { op: 'delete', path: [h('missing')], key: h('k') }] },
    ],
  });
  assert.deepEqual(res.results, [[null, null, null, null], [null], ['bucket already exists', 'bucket not found']]);
  const d = runReference(['dump', file]);
  assert.equal(d.pageSize, 4096);
  assert.deepEqual(d.check, []);
  assert.deepEqual(d.buckets, [{ k: h('a'), seq: '0', bucket: [{ k: h('k'), v: h('v') }, { k: h('n'), seq: '7', bucket: [] }] }]);
  assert.equal(d.txid, 3);
});
